// SPDX-License-Identifier: MIT
/*
 * One run of a guest: set up KVM and RAM, load the guest, write the boot
 * structures, start the vCPUs, wait for the guest's verdict (or the
 * watchdog), stop every vCPU and tear everything down.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "machine: " fmt
#include "vmm/machine.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vhost/log.h"
#include "vmm/elf.h"
#include "vmm/fdt.h"
#include "vmm/guest_image.h"
#include "vmm/ioport.h"
#include "vmm/x86_boot.h"

/* Static: large but mostly untouched, so it costs no page faults. */
static struct machine machine;

void machine_stop(struct machine *m, int status)
{
	int expected = 0;

	if (!__atomic_compare_exchange_n(&m->stopping, &expected, 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	m->status = status;
	sem_post(&m->stopped);
}

bool machine_stopping(const struct machine *m)
{
	return __atomic_load_n(&m->stopping, __ATOMIC_SEQ_CST);
}

static int machine_load_guest(struct machine *m, uint64_t *entry)
{
	struct guest_image img;
	int err = guest_image_open(&img, m->cfg->kernel);

	if (err)
		return err;
	err = elf_load(img.data, img.size, &m->mem, entry, img.name);
	guest_image_close(&img);
	return err;
}

static int machine_write_fdt(struct machine *m, uint8_t *low)
{
	const struct vuvm_config *cfg = m->cfg;
	struct dt_config dt = {
		.mem = &m->mem,
		.cpus = m->nr_vcpus,
		.cmdline = cfg->cmdline,
		.test = cfg->test,
		.virtio = m->devices.dt,
		.nr_virtio = m->devices.nr,
	};
	int err = vcpu_tsc_khz(&m->vcpus[0], &dt.tsc_khz);

	if (err)
		return err;
	return dt_build(low + X86_BOOT_FDT, X86_BOOT_FDT_SIZE, &dt);
}

/* Page tables, GDT, FDT, then the bootstrap processor's registers. */
static int machine_write_boot(struct machine *m, uint64_t entry)
{
	uint8_t *low = mem_gpa_to_host(&m->mem, 0, X86_BOOT_AREA);
	int err;

	if (!low)
		return -EFAULT;
	err = x86_build_page_tables(low, mem_top(&m->mem));
	if (err) {
		pr_err("RAM too large for the boot page tables");
		return err;
	}
	x86_build_gdt((uint64_t *)(low + X86_BOOT_GDT));
	err = machine_write_fdt(m, low);
	if (err)
		return err;
	return vcpu_setup_boot(&m->vcpus[0], entry, X86_BOOT_FDT);
}

static int machine_create_vcpus(struct machine *m)
{
	if (m->cfg->cpus > m->kvm.max_vcpus) {
		pr_err("--cpus %u: this KVM allows at most %u vCPUs",
		       m->cfg->cpus, m->kvm.max_vcpus);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < m->cfg->cpus; i++) {
		int err = vcpu_create(&m->vcpus[i], m, i);

		m->nr_vcpus = i + 1;
		if (err)
			return err;
	}
	/* One exit per console byte costs ~9 us here; coalescing avoids it. */
	if (ioport_coalesce_serial(m, (void *)((uint8_t *)m->vcpus[0].run +
					       KVM_COALESCED_MMIO_PAGE_OFFSET *
						       sysconf(_SC_PAGESIZE))))
		pr_info("no coalesced PIO: one exit per console byte");
	return 0;
}

static int machine_set_routes(void *ctx, const struct ioapic_route *routes,
			      unsigned int nr)
{
	return kvm_set_msi_routes(ctx, routes, nr);
}

static int machine_setup(struct machine *m)
{
	uint64_t entry;
	int err;

	/*
	 * Slots before anything goes on a KVM I/O bus (the UART's coalesced
	 * zone in machine_create_vcpus(), the devices' ioeventfds), or the
	 * slot change waits out a grace period: see kvm_add_slots(). The
	 * control socket first, so that a path it refuses costs nothing.
	 */
	err = control_open(&m->control, m->cfg->control);
	if (!err)
		err = kvm_open(&m->kvm, KVM_DEVICE);
	if (!err)
		err = kvm_create_vm(&m->kvm);
	if (!err)
		err = mem_alloc(&m->mem, m->cfg->mem_size, m->cfg->hugepages);
	if (!err)
		err = kvm_add_slots(&m->kvm, &m->mem);
	if (!err)
		err = machine_load_guest(m, &entry);
	if (!err)
		err = machine_create_vcpus(m);
	if (!err)
		err = devices_open(m);
	if (!err)
		err = machine_write_boot(m, entry);
	return err;
}

/* Waits for machine_stop(), or stops the machine when --timeout expires. */
static void machine_wait(struct machine *m)
{
	double timeout = m->cfg->timeout;
	struct timespec deadline;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)timeout;
	deadline.tv_nsec += (long)((timeout - (double)(time_t)timeout) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	do {
		if (timeout > 0)
			ret = sem_clockwait(&m->stopped, CLOCK_MONOTONIC,
					    &deadline);
		else
			ret = sem_wait(&m->stopped);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0 && errno == ETIMEDOUT) {
		pr_err("watchdog: the guest did not finish within %g s",
		       timeout);
		machine_stop(m, VUVM_EXIT_WATCHDOG);
	}
}

static void machine_boot(struct machine *m)
{
	int err = vcpu_init_signals();

	if (!err)
		err = devices_watch(m);
	if (!err)
		err = control_start(&m->control, m);
	for (unsigned int i = 0; i < m->nr_vcpus && !err; i++)
		err = vcpu_start(&m->vcpus[i]);
	if (err)
		machine_stop(m, VUVM_EXIT_SETUP);
	machine_wait(m);
	for (unsigned int i = 0; i < m->nr_vcpus; i++)
		vcpu_kick(&m->vcpus[i]);
}

static void machine_teardown(struct machine *m)
{
	/* First: its commands use the devices. */
	control_close(&m->control);
	for (unsigned int i = 0; i < m->nr_vcpus; i++)
		vcpu_join(&m->vcpus[i]);
	ioport_drain(m);
	if (devices_close(m) && m->status < VUVM_EXIT_USAGE) {
		pr_err("exit status %d, not the guest's %d: a backend was lost",
		       VUVM_EXIT_BACKEND, m->status);
		m->status = VUVM_EXIT_BACKEND;
	}
	for (unsigned int i = 0; i < m->nr_vcpus; i++)
		vcpu_destroy(&m->vcpus[i]);
	serial_flush(&m->serial);
	serial_destroy(&m->serial);
	kvm_close(&m->kvm);
	ioapic_destroy(&m->ioapic);
	mem_free(&m->mem);
	sem_destroy(&m->stopped);
	pthread_mutex_destroy(&m->coalesced_lock);
}

int machine_run(const struct vuvm_config *cfg)
{
	struct machine *m = &machine;

	m->cfg = cfg;
	m->kvm.dev_fd = m->kvm.vm_fd = -1;
	m->ioapic_sink = (struct ioapic_sink){ &m->kvm, machine_set_routes };
	ioapic_init(&m->ioapic, &m->ioapic_sink);
	sem_init(&m->stopped, 0, 0);
	pthread_mutex_init(&m->coalesced_lock, NULL);
	serial_init(&m->serial, STDOUT_FILENO, cfg->json);
	if (machine_setup(m))
		machine_stop(m, VUVM_EXIT_SETUP);
	else
		machine_boot(m);
	machine_teardown(m);
	return m->status;
}
