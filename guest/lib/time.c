// SPDX-License-Identifier: MIT
/*
 * TSC-based time (see time.h). Conversions split the division so that no
 * intermediate product overflows 64 bits for any realistic uptime.
 */
#include "arch/x86_64/io.h"
#include "lib/time.h"

static uint32_t tsc_khz;

void time_init(uint32_t khz)
{
	tsc_khz = khz;
}

bool time_calibrated(void)
{
	return tsc_khz != 0;
}

uint32_t time_tsc_khz(void)
{
	return tsc_khz;
}

static uint64_t khz(void)
{
	return tsc_khz ? tsc_khz : 1000000;
}

uint64_t tsc_to_ns(uint64_t cycles)
{
	uint64_t k = khz();

	return cycles / k * 1000000 + cycles % k * 1000000 / k;
}

uint64_t ns_to_tsc(uint64_t ns)
{
	return ns / 1000000 * khz() + ns % 1000000 * khz() / 1000000;
}

uint64_t time_ns(void)
{
	return tsc_to_ns(rdtsc());
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + ns_to_tsc(us * 1000);

	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}
