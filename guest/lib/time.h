/* SPDX-License-Identifier: MIT */
/*
 * Time from the TSC, whose frequency vuvm gives in /chosen/vuvm,tsc-khz.
 * rdtsc runs natively in ring 3. Before time_init, or with a frequency of 0,
 * conversions assume 1 GHz (and time_calibrated() says false).
 */
#ifndef VUVM_GUEST_TIME_H
#define VUVM_GUEST_TIME_H

#include <stdbool.h>
#include <stdint.h>

void time_init(uint32_t tsc_khz);
bool time_calibrated(void);
uint32_t time_tsc_khz(void);
uint64_t tsc_to_ns(uint64_t cycles);
uint64_t ns_to_tsc(uint64_t ns);
/* Nanoseconds since an arbitrary point (the TSC's zero). */
uint64_t time_ns(void);
/* Busy-waits at least @us microseconds. */
void udelay(uint64_t us);

#endif
