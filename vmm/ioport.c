// SPDX-License-Identifier: MIT
/*
 * Port I/O bus: UART, exit port, and the all-ones default; the replay of
 * KVM's coalesced ring.
 */
#define pr_fmt(fmt) "ioport: " fmt
#include "vmm/ioport.h"

#include <string.h>
#include <unistd.h>

#include "vhost/log.h"
#include "vmm/fdt.h"
#include "vmm/kvm.h"

void ioport_init(struct ioport *io, struct serial *serial, struct vm_stop *stop)
{
	memset(io, 0, sizeof(*io));
	io->serial = serial;
	io->stop = stop;
	pthread_mutex_init(&io->ring_lock, NULL);
}

void ioport_set_check(struct ioport *io, ioport_check_fn fn, void *ctx)
{
	io->check = fn;
	io->check_ctx = ctx;
}

static void ioport_exit(struct ioport *io, unsigned int cpu,
			const uint8_t *data, unsigned int size)
{
	uint32_t status = 0;

	memcpy(&status, data, size < 4 ? size : 4);
	pr_info("vcpu %u: guest exit status %u", cpu, status);
	vm_stop_request(io->stop, (int)(status & 0xff));
}

static void ioport_unhandled(struct ioport *io, unsigned int cpu, uint16_t port,
			     bool is_write, uint8_t *data, unsigned int size)
{
	uint64_t bit = 1ULL << (port % 64);

	if (!is_write)
		memset(data, 0xff, size);
	if (__atomic_fetch_or(&io->warned[port / 64], bit, __ATOMIC_RELAXED) &
	    bit)
		return;
	pr_warn("vcpu %u: unhandled %u-byte %s of port %#x (%s)", cpu, size,
		is_write ? "write" : "read", port,
		is_write ? "ignored" : "reads all-ones");
}

void ioport_access(struct ioport *io, unsigned int cpu, uint16_t port,
		   bool is_write, uint8_t *data, unsigned int size)
{
	if (port >= SERIAL_PORT && port < SERIAL_PORT + SERIAL_NR_PORTS) {
		/* Wider accesses reach the following registers. */
		for (unsigned int i = 0; i < size; i++)
			serial_access(io->serial,
				      (port - SERIAL_PORT + i) %
					      SERIAL_NR_PORTS,
				      is_write, &data[i]);
		return;
	}
	if (port == DT_CHECK_PORT && io->check && size == 4) {
		uint32_t v;

		if (is_write) {
			memcpy(&v, data, 4);
			io->check_result =
				(uint32_t)io->check(io->check_ctx, v);
		} else {
			memcpy(data, &io->check_result, 4);
		}
		return;
	}
	if (port == DT_EXIT_PORT && is_write) {
		ioport_exit(io, cpu, data, size);
		return;
	}
	ioport_unhandled(io, cpu, port, is_write, data, size);
}

int ioport_coalesce_serial(struct ioport *io, struct kvm *kvm,
			   struct kvm_coalesced_mmio_ring *ring)
{
	int err = kvm_coalesce_pio(kvm, SERIAL_PORT, 1);

	if (err)
		return err;
	ioport_use_ring(io, ring, (size_t)sysconf(_SC_PAGESIZE));
	return 0;
}

void ioport_use_ring(struct ioport *io, struct kvm_coalesced_mmio_ring *ring,
		     size_t size)
{
	io->ring_max = (uint32_t)((size - sizeof(*ring)) /
				  sizeof(ring->coalesced_mmio[0]));
	io->ring = ring;
}

void ioport_drain(struct ioport *io)
{
	struct kvm_coalesced_mmio_ring *ring = io->ring;
	uint32_t first;

	if (!ring)
		return;
	pthread_mutex_lock(&io->ring_lock);
	first = ring->first;
	while (first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio *e;
		uint8_t data[8];

		/* KVM's ring is only as trustworthy as KVM: bound it anyway. */
		if (first >= io->ring_max)
			break;
		e = &ring->coalesced_mmio[first];
		if (e->len > sizeof(data))
			break;
		memcpy(data, e->data, e->len);
		ioport_access(io, 0, (uint16_t)e->phys_addr, true, data,
			      e->len);
		first = (first + 1) % io->ring_max;
		__atomic_store_n(&ring->first, first, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&io->ring_lock);
}

void ioport_destroy(struct ioport *io)
{
	pthread_mutex_destroy(&io->ring_lock);
}
