/* SPDX-License-Identifier: MIT */
/*
 * A vCPU: its KVM fd and shared kvm_run page, its thread running the
 * KVM_RUN loop, and the dispatch of every exit. The vCPU knows no device:
 * port I/O and MMIO exits go to the handlers of its struct vcpu_exits.
 * Exits the guest cannot continue from (a crash, an MMIO access nobody
 * handles) request a stop of the run (stop.h) with VUVM_EXIT_CRASH or
 * VUVM_EXIT_BAD_ACCESS; the loop ends once any stop was requested.
 */
#ifndef VUVM_VMM_VCPU_H
#define VUVM_VMM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "vmm/stop.h"

struct kvm;

/*
 * What a vCPU does with the exits it does not handle itself, each called
 * on the vCPU's thread (so concurrently from several vCPUs) with @ctx:
 * pio: one @size-byte access to @port by vCPU @cpu; a write consumes
 * @data, a read fills it.
 * mmio: one @len-byte access to guest-physical @addr; returns false when
 * nothing is there.
 * drain: after every KVM_RUN, before its exit is handled: replays what
 * KVM queued without exiting (coalesced writes), so output keeps its
 * order.
 */
struct vcpu_exits {
	void *ctx;
	void (*pio)(void *ctx, unsigned int cpu, uint16_t port, bool is_write,
		    uint8_t *data, unsigned int size);
	bool (*mmio)(void *ctx, uint64_t addr, uint8_t *data, unsigned int len,
		     bool is_write);
	void (*drain)(void *ctx);
};

struct vcpu {
	const struct kvm *kvm;
	const struct vcpu_exits *exits;
	struct vm_stop *stop;
	unsigned int id; /* also its LAPIC ID */
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
};

/*
 * Creates vCPU @id of @kvm's VM, with its CPUID; its exits go to @exits
 * and it ends the run through @stop (all three outlive it). Returns 0 or
 * -errno.
 */
int vcpu_create(struct vcpu *v, const struct kvm *kvm, unsigned int id,
		const struct vcpu_exits *exits, struct vm_stop *stop);

/*
 * Puts @v (the bootstrap processor) in the long-mode entry state of
 * docs/guest.md with rip = @entry and rdi = @fdt. Returns 0 or -errno.
 */
int vcpu_setup_boot(struct vcpu *v, uint64_t entry, uint64_t fdt);

/* Reads the guest TSC frequency in kHz. Returns 0 or -errno. */
int vcpu_tsc_khz(struct vcpu *v, uint32_t *khz);

/*
 * Installs the signal used by vcpu_kick(); call once before any
 * vcpu_start(). Returns 0 or -errno.
 */
int vcpu_init_signals(void);

/* Starts @v's thread. Returns 0 or -errno. */
int vcpu_start(struct vcpu *v);

/*
 * Makes @v leave KVM_RUN promptly and not enter it again once a stop was
 * requested. Safe from any thread.
 */
void vcpu_kick(struct vcpu *v);

/* Waits for @v's thread to end, if it was started. */
void vcpu_join(struct vcpu *v);

/* Waits for @v's thread (if started), then releases @v. */
void vcpu_destroy(struct vcpu *v);

#endif
