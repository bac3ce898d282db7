/* SPDX-License-Identifier: MIT */
/*
 * The machine: everything one boot needs (KVM, RAM, console, vCPUs) and
 * the story of a run, from opening /dev/kvm to the exit status.
 */
#ifndef VUVM_VMM_MACHINE_H
#define VUVM_VMM_MACHINE_H

#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/config.h"
#include "vmm/control.h"
#include "vmm/devices.h"
#include "vmm/ioapic.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"
#include "vmm/serial.h"
#include "vmm/vcpu.h"

struct machine {
	const struct vuvm_config *cfg;
	struct kvm kvm;
	struct ioapic ioapic;
	struct ioapic_sink ioapic_sink; /* routes go to kvm */
	struct mem_table mem;
	struct serial serial;
	struct devices devices;
	struct control control; /* --control */
	unsigned int nr_vcpus;
	struct vcpu vcpus[VUVM_MAX_CPUS];
	sem_t stopped; /* posted once by the first machine_stop() */
	int stopping;  /* atomic: set by the first machine_stop() */
	int status;    /* the process exit status */
	uint64_t pio_warned[65536 / 64]; /* unhandled ports already logged */
	/* KVM's coalesced ring for UART writes (NULL: every write exits). */
	struct kvm_coalesced_mmio_ring *coalesced;
	uint32_t coalesced_max;
	pthread_mutex_t coalesced_lock;
};

/*
 * Boots the guest described by @cfg and waits until it reports, fails or
 * times out. Returns the process exit status (the guest's, or VUVM_EXIT_*).
 */
int machine_run(const struct vuvm_config *cfg);

/*
 * Ends the run with exit status @status; the first call wins and later
 * calls are ignored. Safe from any thread.
 */
void machine_stop(struct machine *m, int status);

/* Returns whether machine_stop() has been called. */
bool machine_stopping(const struct machine *m);

#endif
