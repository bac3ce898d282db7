// SPDX-License-Identifier: MIT
/*
 * Starting and parking APs (see smp.h). All of it runs in ring 3: the
 * LAPIC page and every struct cpu are user-accessible.
 */
#include <stdbool.h>

#include "arch/x86_64/apic.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/smp.h"
#include "lib/devtree.h"
#include "lib/time.h"

#define TRAMPOLINE_VECTOR 0x08 /* 0x8000 >> 12 */

extern const char ap_trampoline[];

static int listed = -1;
static int prepared = 1;
static volatile int online = 1;
static bool booted;

static uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

static void lapic_write(uint32_t reg, uint32_t val)
{
	mmio_write32(LAPIC_BASE + reg, val);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_enable(void)
{
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPURIOUS);
}

static void icr_send(uint32_t apic_id, uint32_t cmd)
{
	uint64_t deadline = rdtsc() + ns_to_tsc(1000000);

	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, cmd);
	while ((lapic_read(LAPIC_ICR_LO) & ICR_BUSY) &&
	       (int64_t)(rdtsc() - deadline) < 0)
		cpu_relax();
}

void smp_send_ipi(uint32_t apic_id, uint8_t vector)
{
	icr_send(apic_id, ICR_FIXED | ICR_ASSERT | vector);
}

/* Gives each AP of the FDT a struct cpu the trampoline can find. */
static void prepare_aps(const uint32_t *ids, int n, uint32_t bsp_id)
{
	int i;

	cpus[0].apic_id = bsp_id;
	cpus[0].online = 1;
	cpu_by_apic[bsp_id & 0xff] = &cpus[0];
	for (i = 0; i < n && prepared < GUEST_MAX_CPUS; i++) {
		struct cpu *c = &cpus[prepared];

		if (ids[i] == bsp_id || ids[i] > 0xff)
			continue;
		cpu_prepare(c, prepared);
		c->apic_id = ids[i];
		cpu_by_apic[ids[i]] = c;
		prepared++;
	}
}

static bool wait_online(int want, uint64_t timeout_us)
{
	uint64_t deadline = rdtsc() + ns_to_tsc(timeout_us * 1000);

	while (__atomic_load_n(&online, __ATOMIC_ACQUIRE) < want) {
		if ((int64_t)(rdtsc() - deadline) >= 0)
			return false;
		cpu_relax();
	}
	return true;
}

static void startup_all(uint32_t cmd)
{
	int i;

	for (i = 1; i < prepared; i++) {
		if (!cpus[i].online)
			icr_send(cpus[i].apic_id, cmd);
	}
}

int smp_boot(uint64_t timeout_us)
{
	uint32_t ids[GUEST_MAX_CPUS * 2];

	if (booted)
		return online;
	booted = true;
	listed = dt_cpus(ids, GUEST_MAX_CPUS * 2);
	lapic_enable();
	prepare_aps(ids, listed < 0 ? 0 : listed, lapic_id());
	if (prepared == 1)
		return online;
	/* KVM needs no INIT/SIPI delays; the second SIPI is for the rest. */
	startup_all(ICR_INIT | ICR_ASSERT);
	startup_all(ICR_STARTUP | TRAMPOLINE_VECTOR);
	if (!wait_online(prepared, 10000)) {
		startup_all(ICR_STARTUP | TRAMPOLINE_VECTOR);
		wait_online(prepared, timeout_us);
	}
	return online;
}

int smp_cpus_listed(void)
{
	return listed;
}

int smp_cpus_online(void)
{
	return __atomic_load_n(&online, __ATOMIC_ACQUIRE);
}

struct cpu *smp_cpu(int index)
{
	return index >= 0 && index < prepared ? &cpus[index] : NULL;
}

int smp_call(int index, long (*fn)(void *arg), void *arg, uint64_t timeout_us,
	     long *result)
{
	struct cpu *c = smp_cpu(index);
	uint64_t deadline = rdtsc() + ns_to_tsc(timeout_us * 1000);
	uint32_t done;

	if (!c || index == 0 || !c->online || c->work_fn)
		return -1;
	done = c->work_done;
	c->work_arg = arg;
	__atomic_store_n(&c->work_fn, fn, __ATOMIC_RELEASE);
	smp_send_ipi(c->apic_id, VEC_WAKE);
	while (__atomic_load_n(&c->work_done, __ATOMIC_ACQUIRE) == done) {
		if ((int64_t)(rdtsc() - deadline) >= 0)
			return -1;
		cpu_relax();
	}
	*result = c->work_result;
	return 0;
}

/* Ring 3 life of an AP: check in, then serve the work slot forever. */
void ap_main(struct cpu *c)
{
	long (*fn)(void *arg);

	lapic_enable();
	__atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&online, 1, __ATOMIC_ACQ_REL);
	for (;;) {
		fn = __atomic_load_n(&c->work_fn, __ATOMIC_ACQUIRE);
		if (!fn) {
			/* A wake IPI sent before this sleep stays pending in
			 * the LAPIC (IF=0 here) and ends the hlt at once. */
			sys_call(SYS_WAIT_IRQ, 0, 0, 0);
			continue;
		}
		c->work_result = fn(c->work_arg);
		__atomic_store_n(&c->work_fn, NULL, __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->work_done, 1, __ATOMIC_RELEASE);
	}
}
