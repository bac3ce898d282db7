// SPDX-License-Identifier: MIT
/*
 * IOAPIC routing (through arch/x86_64/ioapic.h) and the sleep of interrupt
 * mode (see irq.h). The IOAPIC and LAPIC windows are user-accessible in
 * vuvm's identity map, so only the sleep itself enters ring 0.
 */
#include "virtio/irq.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/smp.h"
#include "virtio/mmio.h"

/* The LAPIC timer counts at KVM's 1 GHz APIC bus clock with divide-by-1. */
#define LAPIC_TICKS_PER_US 1000ull
#define TIMER_DIV_1	   0xb

int virtio_irq_vector(uint32_t gsi)
{
	uint32_t vector = IOAPIC_VECTOR_BASE + gsi;

	/* The guest's stubs cover 32..63, and 0x3d.. are taken. */
	return gsi < ioapic_pins() && vector < VEC_TIMER ? (int)vector
							 : VIO_ENODEV;
}

int virtio_irq_route(uint32_t gsi)
{
	int vector = virtio_irq_vector(gsi);

	if (vector < 0)
		return vector;
	lapic_enable();
	return ioapic_route(gsi, (uint8_t)vector, (uint8_t)lapic_id())
		       ? VIO_ENODEV
		       : 0;
}

void virtio_irq_unroute(uint32_t gsi)
{
	ioapic_mask(gsi);
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
