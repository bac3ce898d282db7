/* SPDX-License-Identifier: MIT */
/*
 * The local APIC in xAPIC mode, at its reset address. Its page is
 * user-accessible in vuvm's identity map, so ring 3 programs it directly;
 * each CPU sees its own LAPIC at the same address.
 */
#ifndef VUVM_GUEST_APIC_H
#define VUVM_GUEST_APIC_H

#define LAPIC_BASE	 0xfee00000ULL
#define LAPIC_ID	 0x020
#define LAPIC_EOI	 0x0b0
#define LAPIC_SVR	 0x0f0
#define LAPIC_ICR_LO	 0x300
#define LAPIC_ICR_HI	 0x310
#define LAPIC_LVT_TIMER	 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR	 0x390
#define LAPIC_TIMER_DIV	 0x3e0

#define LAPIC_SVR_ENABLE 0x100
#define ICR_FIXED	 0x000
#define ICR_INIT	 0x500
#define ICR_STARTUP	 0x600
#define ICR_BUSY	 0x1000
#define ICR_ASSERT	 0x4000
#define LVT_MASKED	 0x10000

#endif
