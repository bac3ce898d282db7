/* SPDX-License-Identifier: MIT */
/*
 * The I/O APIC at its architectural address, where a virtio-mmio device's
 * GSI (its FDT "interrupts" cell) arrives. vuvm's devices raise their GSI
 * through KVM irqfds, which pulse the pin: so routes are edge-triggered,
 * active high, fixed delivery to one LAPIC.
 *
 * The IOAPIC's page is user-accessible in vuvm's identity map, so ring 3
 * programs it directly; an interrupt is then taken only in ring 0, inside
 * SYS_WAIT_IRQ (see cpu.h), because one arriving in ring 3 triple-faults
 * the software KVM of our machines.
 */
#ifndef VUVM_GUEST_IOAPIC_H
#define VUVM_GUEST_IOAPIC_H

#include <stdint.h>

#define IOAPIC_BASE 0xfec00000ULL
#define IOAPIC_PINS 24
/* Vectors for device interrupts: IOAPIC_VECTOR_BASE + pin. */
#define IOAPIC_VECTOR_BASE 0x20

/*
 * Routes pin @gsi to @vector on the CPU with LAPIC ID @apic_id, unmasked.
 * Returns 0, or -1 if @gsi is not a pin of this IOAPIC.
 */
int ioapic_route(unsigned int gsi, uint8_t vector, uint8_t apic_id);

/* Masks pin @gsi (ignored when out of range). */
void ioapic_mask(unsigned int gsi);

/* Returns the number of redirection entries the IOAPIC reports. */
unsigned int ioapic_pins(void);

#endif
