/* SPDX-License-Identifier: MIT */
/*
 * The guest's I/O port space: the UART at 0x3f8, the exit port at 0xf4,
 * the check port at 0xf6 when --check-port asks for it, and everything else
 * reading all-ones and ignoring writes (PC guests probe ports), logged once per
 * port. A write to the exit port requests a stop of the run with the written
 * value's low byte as exit status.
 *
 * UART writes may also arrive through KVM's coalesced ring (a page KVM
 * fills without exiting); ioport_drain() replays them in order.
 */
#ifndef VUVM_VMM_IOPORT_H
#define VUVM_VMM_IOPORT_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/serial.h"
#include "vmm/stop.h"

struct kvm;

/* The check port's handler (--check-port): runs the step a guest wrote,
 * returns the value its next read gets. */
typedef int64_t (*ioport_check_fn)(void *ctx, uint32_t cmd);

struct ioport {
	struct serial *serial;
	struct vm_stop *stop;
	ioport_check_fn check; /* NULL: no check port */
	void *check_ctx;
	uint32_t check_result; /* what the next read of the port returns */
	uint64_t warned[65536 / 64]; /* unhandled ports already logged */
	/* KVM's coalesced ring for UART writes (NULL: every write exits). */
	struct kvm_coalesced_mmio_ring *ring;
	uint32_t ring_max; /* entries in the ring */
	pthread_mutex_t ring_lock;
};

/*
 * Prepares @io to send UART accesses to @serial and exit port writes to
 * @stop (both outlive it); no coalesced ring yet.
 */
void ioport_init(struct ioport *io, struct serial *serial,
		 struct vm_stop *stop);

/*
 * Serves the check port (DT_CHECK_PORT) with @fn: a 32-bit write runs
 * @fn(@ctx, value) on the writing vCPU's thread, a 32-bit read returns
 * the low 32 bits of its result. Other sizes are ignored / read all-ones.
 */
void ioport_set_check(struct ioport *io, ioport_check_fn fn, void *ctx);

/*
 * Emulates one @size-byte access to @port by vCPU @cpu: a write consumes
 * @data, a read fills it. Safe from any vCPU thread.
 */
void ioport_access(struct ioport *io, unsigned int cpu, uint16_t port,
		   bool is_write, uint8_t *data, unsigned int size);

/*
 * Asks @kvm to queue UART THR writes in @ring (the VM's coalesced ring,
 * in a vCPU's kvm_run mapping, one page) instead of exiting for each.
 * Returns 0 or -errno; without it every byte exits.
 */
int ioport_coalesce_serial(struct ioport *io, struct kvm *kvm,
			   struct kvm_coalesced_mmio_ring *ring);

/*
 * Replays what KVM queued in @ring (@size bytes, normally a page) from now
 * on; ioport_coalesce_serial() calls it once KVM agreed.
 */
void ioport_use_ring(struct ioport *io, struct kvm_coalesced_mmio_ring *ring,
		     size_t size);

/*
 * Replays the writes queued in the coalesced ring, in order, stopping at
 * an entry out of bounds. Call before handling any exit (so output keeps
 * its order) and once after the vCPUs stopped. Safe from any thread.
 */
void ioport_drain(struct ioport *io);

/* Releases @io. */
void ioport_destroy(struct ioport *io);

#endif
