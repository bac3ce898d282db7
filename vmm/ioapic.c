// SPDX-License-Identifier: MIT
/*
 * The userspace IOAPIC: a register file whose redirection table is turned
 * into KVM MSI routes (see ioapic.h).
 */
#define pr_fmt(fmt) "ioapic: " fmt
#include "vmm/ioapic.h"

#include <errno.h>
#include <string.h>

#include "vhost/log.h"

#define IOAPIC_ID_MASK	  (0xfU << 24)
#define IOAPIC_RTE_LO_RW  0x1afffU    /* all but pending and remote IRR */
#define IOAPIC_RTE_HI_RW  0xff000000U /* the destination */
#define IOAPIC_MIN_VECTOR 16	      /* 0..15 are exceptions and reserved */

/* Kinds of guest mistakes, each logged the first time only. */
enum ioapic_warn {
	IOAPIC_WARN_SIZE,
	IOAPIC_WARN_OFFSET,
	IOAPIC_WARN_REGISTER,
	IOAPIC_WARN_LEVEL,
	IOAPIC_WARN_DELIVERY,
	IOAPIC_WARN_VECTOR,
	IOAPIC_WARN_SINK,
};

void ioapic_init(struct ioapic *io, const struct ioapic_sink *sink)
{
	memset(io, 0, sizeof(*io));
	pthread_mutex_init(&io->lock, NULL);
	io->sink = sink;
	for (unsigned int i = 0; i < IOAPIC_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
	/* KVM starts with no routes, which is what all-masked means. */
	io->synced = true;
}

void ioapic_destroy(struct ioapic *io)
{
	pthread_mutex_destroy(&io->lock);
}

/* Returns true the first time @kind is seen; call with the lock held. */
static bool ioapic_first(struct ioapic *io, enum ioapic_warn kind)
{
	bool first = !(io->warned & (1U << kind));

	io->warned |= 1U << kind;
	return first;
}

int ioapic_rte_route(unsigned int pin, uint64_t rte, struct ioapic_route *route)
{
	uint32_t delivery =
		(rte & IOAPIC_RTE_DELIVERY) >> IOAPIC_RTE_DELIVERY_SHIFT;
	uint32_t vector = rte & IOAPIC_RTE_VECTOR;
	uint32_t dest = (uint32_t)(rte >> IOAPIC_RTE_DEST_SHIFT);

	if (rte & IOAPIC_RTE_MASKED)
		return -ENOENT;
	if (delivery != IOAPIC_DELIVERY_FIXED &&
	    delivery != IOAPIC_DELIVERY_LOWEST)
		return -ENOENT;
	if (vector < IOAPIC_MIN_VECTOR)
		return -ENOENT;
	route->gsi = pin;
	route->address_lo = MSI_ADDR_BASE | dest << MSI_ADDR_DEST_SHIFT;
	if (rte & IOAPIC_RTE_LOGICAL)
		route->address_lo |= MSI_ADDR_LOGICAL;
	/* The hint lets the chipset pick among the destinations. */
	if (delivery == IOAPIC_DELIVERY_LOWEST)
		route->address_lo |= MSI_ADDR_REDIR_HINT;
	/* Edge, whatever the entry says: see ioapic.h. */
	route->data = vector | delivery << MSI_DATA_DELIVERY_SHIFT;
	return 0;
}

/* Logs, once each, why an unmasked pin has no route or a changed one. */
static void ioapic_explain(struct ioapic *io, unsigned int pin, uint64_t rte)
{
	uint32_t delivery =
		(rte & IOAPIC_RTE_DELIVERY) >> IOAPIC_RTE_DELIVERY_SHIFT;

	if (rte & IOAPIC_RTE_MASKED)
		return;
	if (delivery != IOAPIC_DELIVERY_FIXED &&
	    delivery != IOAPIC_DELIVERY_LOWEST) {
		if (ioapic_first(io, IOAPIC_WARN_DELIVERY))
			pr_warn("pin %u: delivery mode %u is not emulated; "
				"the pin stays silent",
				pin, delivery);
	} else if ((rte & IOAPIC_RTE_VECTOR) < IOAPIC_MIN_VECTOR) {
		if (ioapic_first(io, IOAPIC_WARN_VECTOR))
			pr_warn("pin %u: vector %u is reserved; the pin stays "
				"silent",
				pin, (unsigned int)(rte & IOAPIC_RTE_VECTOR));
	} else if ((rte & IOAPIC_RTE_LEVEL) &&
		   ioapic_first(io, IOAPIC_WARN_LEVEL)) {
		pr_warn("pin %u: level-triggered entries are delivered as "
			"edge (vuvm's interrupts are pulses)",
			pin);
	}
}

/* Hands the sink the table of every routed pin, if it changed. */
static void ioapic_sync(struct ioapic *io, unsigned int changed_pin)
{
	struct ioapic_route table[IOAPIC_PINS];
	unsigned int nr = 0;
	int err;

	ioapic_explain(io, changed_pin, io->rte[changed_pin]);
	for (unsigned int pin = 0; pin < IOAPIC_PINS; pin++) {
		if (!ioapic_rte_route(pin, io->rte[pin], &table[nr]))
			nr++;
	}
	if (io->synced && nr == io->nr_applied &&
	    !memcmp(table, io->applied, nr * sizeof(table[0])))
		return;
	err = io->sink->set_routes(io->sink->ctx, table, nr);
	io->synced = !err;
	if (err) {
		if (ioapic_first(io, IOAPIC_WARN_SINK))
			pr_err("cannot install the interrupt routes: %s",
			       strerror(-err));
		return;
	}
	memcpy(io->applied, table, nr * sizeof(table[0]));
	io->nr_applied = nr;
}

static uint32_t ioapic_reg_read(struct ioapic *io, uint32_t reg)
{
	unsigned int pin = (reg - IOAPIC_REG_REDIR) / 2;

	switch (reg) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB: /* the arbitration ID is loaded from the ID */
		return io->id;
	case IOAPIC_REG_VER:
		return IOAPIC_VERSION | (IOAPIC_PINS - 1) << 16;
	}
	if (reg >= IOAPIC_REG_REDIR && pin < IOAPIC_PINS)
		return (uint32_t)(io->rte[pin] >> (reg & 1 ? 32 : 0));
	if (ioapic_first(io, IOAPIC_WARN_REGISTER))
		pr_warn("guest read of register %#x, which does not exist",
			reg);
	return 0;
}

static void ioapic_reg_write(struct ioapic *io, uint32_t reg, uint32_t val)
{
	unsigned int pin = (reg - IOAPIC_REG_REDIR) / 2;
	uint64_t rte, hi;

	if (reg == IOAPIC_REG_ID) {
		io->id = val & IOAPIC_ID_MASK;
		return;
	}
	if (reg < IOAPIC_REG_REDIR || pin >= IOAPIC_PINS) {
		/* Version and arbitration are read-only, as on hardware. */
		if (reg != IOAPIC_REG_VER && reg != IOAPIC_REG_ARB &&
		    ioapic_first(io, IOAPIC_WARN_REGISTER))
			pr_warn("guest write of register %#x, which does not "
				"exist",
				reg);
		return;
	}
	rte = io->rte[pin];
	hi = val & IOAPIC_RTE_HI_RW;
	if (reg & 1)
		rte = (rte & 0xffffffffULL) | hi << 32;
	else
		rte = (rte & ~(uint64_t)IOAPIC_RTE_LO_RW) |
		      (val & IOAPIC_RTE_LO_RW);
	io->rte[pin] = rte;
	ioapic_sync(io, pin);
}

/* Returns false for anything but an aligned 32-bit IOREGSEL or IOWIN. */
static bool ioapic_access_ok(struct ioapic *io, uint64_t off, unsigned int len)
{
	if (off != IOAPIC_IOREGSEL && off != IOAPIC_IOWIN) {
		if (ioapic_first(io, IOAPIC_WARN_OFFSET))
			pr_warn("guest access at offset %#llx of the window, "
				"where no register is",
				(unsigned long long)off);
		return false;
	}
	if (len != 4) {
		if (ioapic_first(io, IOAPIC_WARN_SIZE))
			pr_warn("guest %u-byte access to %s; only 4-byte "
				"accesses work",
				len, off ? "IOWIN" : "IOREGSEL");
		return false;
	}
	return true;
}

/* One checked 32-bit access at @off; call with the lock held. */
static uint32_t ioapic_access(struct ioapic *io, uint64_t off, bool is_write,
			      uint32_t val)
{
	if (off == IOAPIC_IOREGSEL && is_write)
		io->ioregsel = val & 0xff;
	else if (off == IOAPIC_IOREGSEL)
		return io->ioregsel;
	else if (is_write)
		ioapic_reg_write(io, io->ioregsel, val);
	else
		return ioapic_reg_read(io, io->ioregsel);
	return 0;
}

bool ioapic_mmio(struct ioapic *io, uint64_t addr, uint8_t *data,
		 unsigned int len, bool is_write)
{
	uint64_t off = addr - IOAPIC_BASE;
	uint32_t val = 0;

	if (addr < IOAPIC_BASE || off >= IOAPIC_SIZE)
		return false;
	if (is_write && len == 4)
		memcpy(&val, data, 4);
	pthread_mutex_lock(&io->lock);
	if (ioapic_access_ok(io, off, len))
		val = ioapic_access(io, off, is_write, val);
	else
		val = 0;
	pthread_mutex_unlock(&io->lock);
	/* A bad read returns zeros; KVM's MMIO data is at most 8 bytes. */
	if (!is_write) {
		memset(data, 0, len < 8 ? len : 8);
		memcpy(data, &val, len < 4 ? len : 4);
	}
	return true;
}
