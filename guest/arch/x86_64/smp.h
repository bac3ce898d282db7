/* SPDX-License-Identifier: MIT */
/*
 * Application processors. smp_boot() starts every CPU the FDT lists with
 * INIT and STARTUP IPIs; each AP comes up through the real-mode trampoline
 * (trampoline.S), runs the same ring 0 prologue as the BSP, checks in from
 * ring 3 and parks: it waits in ring 0 with `sti; hlt` (one short syscall)
 * for a wake-up IPI, looks at its work slot in ring 3, and runs what it
 * finds there in ring 3.
 *
 * smp_boot: idempotent; waits up to @timeout_us for the check-ins and
 *   returns the number of CPUs online, the BSP included. APs that do not
 *   check in are left alone (a later smp_call to them times out).
 * smp_cpus_listed: CPUs in the FDT (-1 if /cpus could not be read).
 * smp_cpus_online: CPUs checked in so far, the BSP included.
 * smp_cpu: the struct cpu of CPU @index (0 = BSP), NULL if out of range.
 * smp_call: runs @fn(@arg) on parked AP @index, waits up to @timeout_us;
 *   returns 0 and the result in @result, or -1 if the AP is not online or
 *   did not finish in time.
 * smp_send_ipi: a fixed interrupt @vector to LAPIC ID @apic_id.
 */
#ifndef VUVM_GUEST_SMP_H
#define VUVM_GUEST_SMP_H

#include <stdint.h>

#include "arch/x86_64/cpu.h"

int smp_boot(uint64_t timeout_us);
int smp_cpus_listed(void);
int smp_cpus_online(void);
struct cpu *smp_cpu(int index);
int smp_call(int index, long (*fn)(void *arg), void *arg, uint64_t timeout_us,
	     long *result);
void smp_send_ipi(uint32_t apic_id, uint8_t vector);
/* This CPU's LAPIC ID, read from its LAPIC. */
uint32_t lapic_id(void);
/* Software-enables this CPU's LAPIC (needed to receive fixed IPIs). */
void lapic_enable(void);

#endif
