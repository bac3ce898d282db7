// SPDX-License-Identifier: MIT
/*
 * vCPU: create it with its CPUID, set the boot state, run the KVM_RUN loop
 * in a thread, dispatch each exit, and stop on request.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "vcpu: " fmt
#include "vmm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost/log.h"
#include "vmm/config.h"
#include "vmm/kvm.h"
#include "vmm/seccomp.h"
#include "vmm/vcpu_internal.h"
#include "vmm/x86_boot.h"

#define VCPU_KICK_SIGNAL SIGUSR1
#define CPUID_EXT_NX	 (1U << 20) /* leaf 0x80000001 EDX */

static int vcpu_ioctl(struct vcpu *v, unsigned long req, void *arg,
		      const char *name)
{
	int err;

	if (ioctl(v->fd, req, arg) >= 0)
		return 0;
	err = -errno;
	pr_err("vcpu %u: %s: %s", v->id, name, strerror(errno));
	return err;
}

/* KVM's supported CPUID, with this vCPU's APIC ID in leaves 1, 0xb, 0x1f. */
static int vcpu_set_cpuid(struct vcpu *v, const struct kvm_cpuid2 *supported)
{
	size_t size = sizeof(*supported) +
		      supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *cpuid = malloc(size);
	int err;

	if (!cpuid)
		return -ENOMEM;
	memcpy(cpuid, supported, size);
	for (unsigned int i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | (v->id << 24);
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = v->id;
	}
	err = vcpu_ioctl(v, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
	free(cpuid);
	return err;
}

int vcpu_create(struct vcpu *v, const struct kvm *kvm, unsigned int id,
		const struct vcpu_exits *exits, struct vm_stop *stop)
{
	memset(v, 0, sizeof(*v));
	v->kvm = kvm;
	v->exits = exits;
	v->stop = stop;
	v->id = id;
	v->run_size = (size_t)kvm->run_size;
	v->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		int err = -errno;

		pr_err("vcpu %u: KVM_CREATE_VCPU: %s", id, strerror(errno));
		return err;
	}
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		int err = -errno;

		v->run = NULL;
		pr_err("vcpu %u: mmap of kvm_run: %s", id, strerror(errno));
		return err;
	}
	return vcpu_set_cpuid(v, kvm->cpuid);
}

static bool vcpu_cpuid_has_nx(const struct kvm_cpuid2 *cpuid)
{
	for (unsigned int i = 0; i < cpuid->nent; i++) {
		if (cpuid->entries[i].function == 0x80000001)
			return cpuid->entries[i].edx & CPUID_EXT_NX;
	}
	return false;
}

int vcpu_setup_boot(struct vcpu *v, uint64_t entry, uint64_t fdt)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int err;

	err = vcpu_ioctl(v, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
	if (err)
		return err;
	x86_boot_sregs(&sregs, vcpu_cpuid_has_nx(v->kvm->cpuid));
	err = vcpu_ioctl(v, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
	if (err)
		return err;
	x86_boot_regs(&regs, entry, fdt);
	return vcpu_ioctl(v, KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

int vcpu_tsc_khz(struct vcpu *v, uint32_t *khz)
{
	int ret = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);

	if (ret <= 0) {
		int err = ret < 0 ? -errno : -ENOTSUP;

		pr_err("vcpu %u: KVM_GET_TSC_KHZ: %s", v->id, strerror(-err));
		return err;
	}
	*khz = (uint32_t)ret;
	return 0;
}

static uint64_t vcpu_rip(struct vcpu *v)
{
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return ~0ULL;
	return regs.rip;
}

/* Reports an exit the guest cannot continue from and ends the run. */
static int vcpu_crash(struct vcpu *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int vcpu_crash(struct vcpu *v, const char *fmt, ...)
{
	char text[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pr_err("vcpu %u: guest crashed: %s at rip %#llx", v->id, text,
	       (unsigned long long)vcpu_rip(v));
	vm_stop_request(v->stop, VUVM_EXIT_CRASH);
	return -EFAULT;
}

static int vcpu_exit_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;
	uint8_t *data;

	if (run->io.data_offset > v->run_size ||
	    bytes > v->run_size - run->io.data_offset)
		return vcpu_crash(v, "bad KVM_EXIT_IO data offset %#llx",
				  (unsigned long long)run->io.data_offset);
	data = (uint8_t *)run + run->io.data_offset;
	for (uint32_t i = 0; i < run->io.count; i++)
		v->exits->pio(v->exits->ctx, v->id, run->io.port,
			      run->io.direction == KVM_EXIT_IO_OUT,
			      data + i * run->io.size, run->io.size);
	return 0;
}

static int vcpu_exit_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (v->exits->mmio(v->exits->ctx, run->mmio.phys_addr, run->mmio.data,
			   run->mmio.len, run->mmio.is_write))
		return 0;
	pr_err("vcpu %u: guest %u-byte MMIO %s at %#llx outside any device "
	       "(rip %#llx)",
	       v->id, run->mmio.len, run->mmio.is_write ? "write" : "read",
	       (unsigned long long)run->mmio.phys_addr,
	       (unsigned long long)vcpu_rip(v));
	vm_stop_request(v->stop, VUVM_EXIT_BAD_ACCESS);
	return -EFAULT;
}

static int vcpu_exit_internal(struct vcpu *v)
{
	uint32_t sub = v->run->internal.suberror;

	if (sub == KVM_INTERNAL_ERROR_EMULATION)
		return vcpu_crash(v, "instruction emulation failed");
	return vcpu_crash(v, "KVM internal error, suberror %u", sub);
}

/*
 * A triple fault. KVM on AMD (SVM) resets the vCPU before it reports the
 * shutdown (the VMCB is undefined after one), so the registers then hold
 * the reset state (rip 0xfff0, rflags 0x2) instead of where the guest
 * was: say so rather than name the reset vector as the culprit.
 */
static int vcpu_shutdown(struct vcpu *v)
{
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0 && regs.rip == 0xfff0 &&
	    regs.rflags == 0x2)
		return vcpu_crash(v, "triple fault (KVM_EXIT_SHUTDOWN; KVM "
				     "reset the vCPU: its last rip is lost)");
	return vcpu_crash(v, "triple fault (KVM_EXIT_SHUTDOWN)");
}

int vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return vcpu_exit_io(v);
	case KVM_EXIT_MMIO:
		return vcpu_exit_mmio(v);
	case KVM_EXIT_IOAPIC_EOI:
		/* Only level-triggered routes ask for it, and we make none. */
		return 0;
	case KVM_EXIT_SHUTDOWN:
		return vcpu_shutdown(v);
	case KVM_EXIT_INTERNAL_ERROR:
		return vcpu_exit_internal(v);
	case KVM_EXIT_FAIL_ENTRY:
		return vcpu_crash(v, "VM entry failed (reason %#llx)",
				  (unsigned long long)run->fail_entry
					  .hardware_entry_failure_reason);
	case KVM_EXIT_HLT:
		return vcpu_crash(v, "halted without reporting (KVM_EXIT_HLT)");
	case KVM_EXIT_SYSTEM_EVENT:
		return vcpu_crash(v, "system event %u (reset or shutdown)",
				  run->system_event.type);
	default:
		return vcpu_crash(v, "unexpected KVM exit reason %u",
				  run->exit_reason);
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	sandbox_enter(SANDBOX_VCPU, "vcpu%u", v->id);
	while (!vm_stop_requested(v->stop)) {
		int err = ioctl(v->fd, KVM_RUN, 0) < 0 ? errno : 0;

		/* Queued console writes come before whatever made us exit. */
		v->exits->drain(v->exits->ctx);
		if (err) {
			if (err == EINTR || err == EAGAIN)
				continue;
			pr_err("vcpu %u: KVM_RUN: %s", v->id, strerror(err));
			vm_stop_request(v->stop, VUVM_EXIT_CRASH);
			break;
		}
		if (vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

static void vcpu_kick_handler(int sig)
{
	/* Nothing to do: delivery alone makes KVM_RUN return EINTR. */
}

int vcpu_init_signals(void)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };
	sigset_t set;

	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	return -pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int vcpu_start(struct vcpu *v)
{
	int err = pthread_create(&v->thread, NULL, vcpu_thread, v);

	if (err) {
		pr_err("vcpu %u: cannot start its thread: %s", v->id,
		       strerror(err));
		return -err;
	}
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->run)
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (v->started)
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (v->started)
		pthread_join(v->thread, NULL);
	v->started = false;
}

void vcpu_destroy(struct vcpu *v)
{
	vcpu_join(v);
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd > 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}
