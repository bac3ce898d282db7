// SPDX-License-Identifier: MIT
#include "arch/x86_64/ioapic.h"

#define IOREGSEL  0x00
#define IOWIN	  0x10
#define IOAPICVER 0x01
#define IOREDTBL  0x10

#define REDIR_MASKED (1u << 16)

static void ioapic_write(uint32_t reg, uint32_t val)
{
	volatile uint32_t *base = (volatile uint32_t *)IOAPIC_BASE;

	base[IOREGSEL / 4] = reg;
	base[IOWIN / 4] = val;
}

static uint32_t ioapic_read(uint32_t reg)
{
	volatile uint32_t *base = (volatile uint32_t *)IOAPIC_BASE;

	base[IOREGSEL / 4] = reg;
	return base[IOWIN / 4];
}

unsigned int ioapic_pins(void)
{
	return ((ioapic_read(IOAPICVER) >> 16) & 0xff) + 1;
}

int ioapic_route(unsigned int gsi, uint8_t vector, uint8_t apic_id)
{
	if (gsi >= ioapic_pins())
		return -1;
	/* High half first, so the entry is never live with a stale target. */
	ioapic_write(IOREDTBL + 2 * gsi, REDIR_MASKED);
	ioapic_write(IOREDTBL + 2 * gsi + 1, (uint32_t)apic_id << 24);
	/* Fixed delivery, physical destination, active high, edge. */
	ioapic_write(IOREDTBL + 2 * gsi, vector);
	return 0;
}

void ioapic_mask(unsigned int gsi)
{
	if (gsi < ioapic_pins())
		ioapic_write(IOREDTBL + 2 * gsi, REDIR_MASKED);
}
