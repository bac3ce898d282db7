/* SPDX-License-Identifier: MIT */
/*
 * Interrupt-driven completion for the virtio drivers: the device's GSI
 * (from its device tree node) is routed through the IOAPIC to the BSP's
 * LAPIC, and the driver sleeps in ring 0 with `sti; hlt` (SYS_WAIT_IRQ)
 * until the backend's call eventfd, turned into that GSI by KVM's irqfd,
 * wakes it. Ring 3 always runs with IF=0 (an interrupt taken in ring 3
 * triple-faults this KVM), so an interrupt that arrives between the last
 * look at the used ring and the `hlt` stays pending in the LAPIC and ends
 * the `hlt` at once: no wake-up is lost.
 *
 * virtio_irq_vector: the vector GSI @gsi is delivered at
 *   (IOAPIC_VECTOR_BASE + pin, arch/x86_64/ioapic.h), or VIO_ENODEV when
 *   the IOAPIC has no such pin or the vector would leave the guest's
 *   device range.
 * virtio_irq_route: routes GSI @gsi (an IOAPIC pin: edge, active high,
 *   fixed delivery) to this CPU's LAPIC at its vector and enables the
 *   LAPIC. Returns 0 or VIO_ENODEV.
 * virtio_irq_unroute: masks the pin again.
 * virtio_irq_sleep: sleeps until any interrupt, at most about @timeout_us
 *   (a LAPIC one-shot timer bounds the sleep); returns the number of
 *   interrupts taken.
 */
#ifndef VUVM_GUEST_VIRTIO_IRQ_H
#define VUVM_GUEST_VIRTIO_IRQ_H

#include <stdint.h>

int virtio_irq_vector(uint32_t gsi);
int virtio_irq_route(uint32_t gsi);
void virtio_irq_unroute(uint32_t gsi);
long virtio_irq_sleep(uint64_t timeout_us);

#endif
