/* SPDX-License-Identifier: MIT */
/*
 * A vCPU: its KVM fd and shared kvm_run page, its thread running the
 * KVM_RUN loop, and the dispatch of every exit. Exits that end the guest
 * (exit port, crash, bad access) stop the whole machine via machine_stop().
 */
#ifndef VUVM_VMM_VCPU_H
#define VUVM_VMM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

struct machine;

struct vcpu {
	struct machine *machine;
	unsigned int id; /* also its LAPIC ID */
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
};

/* Creates vCPU @id of @m's VM, with its CPUID. Returns 0 or -errno. */
int vcpu_create(struct vcpu *v, struct machine *m, unsigned int id);

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
 * Makes @v leave KVM_RUN promptly and not enter it again once the machine
 * is stopping. Safe from any thread.
 */
void vcpu_kick(struct vcpu *v);

/* Waits for @v's thread to end, if it was started. */
void vcpu_join(struct vcpu *v);

/* Waits for @v's thread (if started), then releases @v. */
void vcpu_destroy(struct vcpu *v);

#endif
