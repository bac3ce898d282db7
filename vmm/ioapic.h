/* SPDX-License-Identifier: MIT */
/*
 * The I/O APIC, emulated in vuvm because the VM has a split irqchip (the
 * LAPICs are in KVM, the IOAPIC and PIC are not; see kvm.h).
 *
 * Register file: IOREGSEL at IOAPIC_BASE + 0x00 and IOWIN at + 0x10, both
 * 32-bit only; through them ID (0x00), version (0x01: IOAPIC_VERSION, 24
 * pins), arbitration (0x02) and 24 64-bit redirection entries (0x10 + 2 *
 * pin: low half, then high half). Reset state: every pin masked.
 *
 * Interrupts never pass through vuvm: every unmasked pin with fixed or
 * lowest-priority delivery becomes a KVM GSI route of type MSI to the
 * LAPICs its entry names, and the irqfds the devices registered on those
 * GSIs (devices.h) follow the route from then on. A masked pin, or one
 * the guest set up in a way we do not emulate (SMI, NMI, INIT, ExtINT
 * delivery; vectors below 16), has no route: its interrupts are dropped,
 * as a masked pin's are. Level-triggered entries are routed as edge
 * (vuvm's devices pulse their GSI, and there is no line level to hold
 * remote IRR), with a warning the first time. Remote IRR and delivery
 * status always read 0.
 *
 * Guest accesses are untrusted: a wrong size, an unknown offset or
 * register is ignored (reads return 0) and logged once per kind; nothing
 * the guest does makes these functions fail. Any vCPU thread may call
 * ioapic_mmio() concurrently: a mutex orders them, and the route table is
 * handed to set_routes() under it, so KVM sees tables in the same order
 * as the register writes that made them.
 */
#ifndef VUVM_VMM_IOAPIC_H
#define VUVM_VMM_IOAPIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_BASE    0xfec00000ULL
#define IOAPIC_SIZE    0x1000ULL
#define IOAPIC_PINS    24
#define IOAPIC_VERSION 0x11

/* Register window offsets and register indexes. */
#define IOAPIC_IOREGSEL	 0x00
#define IOAPIC_IOWIN	 0x10
#define IOAPIC_REG_ID	 0x00
#define IOAPIC_REG_VER	 0x01
#define IOAPIC_REG_ARB	 0x02
#define IOAPIC_REG_REDIR 0x10 /* + 2 * pin (low), + 2 * pin + 1 (high) */

/* Redirection entry fields. */
#define IOAPIC_RTE_VECTOR	  0xffULL
#define IOAPIC_RTE_DELIVERY_SHIFT 8
#define IOAPIC_RTE_DELIVERY	  (7ULL << IOAPIC_RTE_DELIVERY_SHIFT)
#define IOAPIC_RTE_LOGICAL	  (1ULL << 11)
#define IOAPIC_RTE_PENDING	  (1ULL << 12) /* read-only */
#define IOAPIC_RTE_ACTIVE_LOW	  (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR	  (1ULL << 14) /* read-only */
#define IOAPIC_RTE_LEVEL	  (1ULL << 15)
#define IOAPIC_RTE_MASKED	  (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT	  56
#define IOAPIC_DELIVERY_FIXED	  0
#define IOAPIC_DELIVERY_LOWEST	  1

/* The x86 MSI format a route is written in. */
#define MSI_ADDR_BASE		0xfee00000U
#define MSI_ADDR_DEST_SHIFT	12
#define MSI_ADDR_REDIR_HINT	(1U << 3)
#define MSI_ADDR_LOGICAL	(1U << 2)
#define MSI_DATA_DELIVERY_SHIFT 8

/* One GSI's route: a write of @data to @address_lo (x86 MSI format). */
struct ioapic_route {
	uint32_t gsi;
	uint32_t address_lo;
	uint32_t data;
};

/*
 * Where the route table goes (kvm_set_msi_routes() in vuvm, a recorder in
 * the unit tests): the whole table, @nr routes in pin order. Returns 0 or
 * -errno; on failure the IOAPIC logs and tries again on the next change.
 */
struct ioapic_sink {
	void *ctx;
	int (*set_routes)(void *ctx, const struct ioapic_route *routes,
			  unsigned int nr);
};

struct ioapic {
	pthread_mutex_t lock;
	const struct ioapic_sink *sink;
	uint32_t ioregsel;
	uint32_t id; /* register 0x00: bits 24..27 */
	uint64_t rte[IOAPIC_PINS];
	/* What the sink last accepted, to skip tables that did not change. */
	struct ioapic_route applied[IOAPIC_PINS];
	unsigned int nr_applied;
	bool synced;	 /* applied[] is what the sink has */
	uint32_t warned; /* bit per enum ioapic_warn kind already logged */
};

/* Resets @io (every pin masked) with routes going to @sink. */
void ioapic_init(struct ioapic *io, const struct ioapic_sink *sink);

void ioapic_destroy(struct ioapic *io);

/*
 * Emulates a guest access of @len bytes at guest-physical @addr. Returns
 * false when @addr is outside the IOAPIC window (someone else's access);
 * true otherwise, with a read's @data filled.
 */
bool ioapic_mmio(struct ioapic *io, uint64_t addr, uint8_t *data,
		 unsigned int len, bool is_write);

/*
 * The route pin @pin's entry @rte makes: 0 with @route filled, or
 * -ENOENT when the pin has none (masked, or not emulated). Pure.
 */
int ioapic_rte_route(unsigned int pin, uint64_t rte,
		     struct ioapic_route *route);

#endif
