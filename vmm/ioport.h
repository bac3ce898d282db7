/* SPDX-License-Identifier: MIT */
/*
 * The guest's I/O port space: the UART at 0x3f8, the exit port at 0xf4,
 * and everything else reading all-ones and ignoring writes (PC guests
 * probe ports), logged once per port.
 */
#ifndef VUVM_VMM_IOPORT_H
#define VUVM_VMM_IOPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/machine.h"

/*
 * Emulates one @size-byte access to @port by vCPU @cpu: a write consumes
 * @data, a read fills it. A write to the exit port stops the machine.
 */
void ioport_access(struct machine *m, unsigned int cpu, uint16_t port,
		   bool is_write, uint8_t *data, unsigned int size);

/*
 * Uses @ring (the VM's coalesced ring, in a vCPU's kvm_run mapping) for
 * UART THR writes, which then cost no exit. Returns 0 or -errno; without
 * it every byte exits.
 */
int ioport_coalesce_serial(struct machine *m,
			   struct kvm_coalesced_mmio_ring *ring);

/*
 * Replays the writes queued in the coalesced ring, in order. Call before
 * handling any exit (so output keeps its order) and once after the vCPUs
 * stopped. Safe from any thread.
 */
void ioport_drain(struct machine *m);

#endif
