// SPDX-License-Identifier: MIT
/*
 * IOAPIC routing and the sleep of interrupt mode (see irq.h). The IOAPIC
 * and LAPIC windows are user-accessible in vuvm's identity map, so only
 * the sleep itself enters ring 0.
 */
#include "virtio/irq.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/smp.h"
#include "virtio/mmio.h"

#define IOAPIC_BASE   0xfec00000ull
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN    0x10
#define IOAPIC_VER    0x01
#define IOAPIC_RTE(n) (0x10 + 2 * (n))
#define RTE_MASKED    0x10000u

/* The LAPIC timer counts at KVM's 1 GHz APIC bus clock with divide-by-1. */
#define LAPIC_TICKS_PER_US 1000ull
#define TIMER_DIV_1	   0xb

static uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOAPIC_WIN);
}

static void ioapic_write(uint32_t reg, uint32_t val)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, val);
}

static uint32_t ioapic_pins(void)
{
	return ((ioapic_read(IOAPIC_VER) >> 16) & 0xff) + 1;
}

int virtio_irq_route(uint32_t gsi)
{
	if (gsi >= ioapic_pins())
		return VIO_ENODEV;
	lapic_enable();
	/* Mask while the two halves disagree. */
	ioapic_write(IOAPIC_RTE(gsi), RTE_MASKED);
	ioapic_write(IOAPIC_RTE(gsi) + 1, lapic_id() << 24);
	ioapic_write(IOAPIC_RTE(gsi), VIRTIO_IRQ_VECTOR);
	return 0;
}

void virtio_irq_unroute(uint32_t gsi)
{
	if (gsi < ioapic_pins())
		ioapic_write(IOAPIC_RTE(gsi), RTE_MASKED);
}

long virtio_irq_sleep(uint64_t timeout_us)
{
	uint64_t ticks = timeout_us * LAPIC_TICKS_PER_US;
	long n;

	if (ticks > 0xffffffffull)
		ticks = 0xffffffffull;
	mmio_write32(LAPIC_BASE + LAPIC_TIMER_DIV, TIMER_DIV_1);
	mmio_write32(LAPIC_BASE + LAPIC_LVT_TIMER, VEC_TIMER);
	mmio_write32(LAPIC_BASE + LAPIC_TIMER_INIT, (uint32_t)ticks);
	n = sys_call(SYS_WAIT_IRQ, 0, 0, 0);
	mmio_write32(LAPIC_BASE + LAPIC_TIMER_INIT, 0);
	return n;
}
