/* SPDX-License-Identifier: MIT */
/*
 * A log-linear latency histogram with bounded relative error, in the
 * manner of HDR histograms: every power of two [2^e, 2^(e+1)) is cut into
 * HIST_SUB linear buckets, so a bucket is never wider than 1/HIST_SUB of
 * the values it holds. Values below HIST_SUB get a bucket each (exact).
 * Integer arithmetic only; portable C (tests/guest/hist_test checks it on
 * the host).
 *
 * hist_init: empties @h.
 * hist_record: counts one value (nanoseconds, cycles: any unit). Values of
 *   2^HIST_MAX_EXP and more share the last bucket; max stays exact.
 * hist_merge: adds @src's counts into @dst.
 * hist_value_at: the value at @ppm parts per million (500000: median,
 *   999000: p99.9): the highest value of the bucket holding the
 *   ceil(count * ppm / 1e6)-th smallest value, clamped to [min, max].
 *   It is never below the true value and above it by less than
 *   1/HIST_SUB (0.79%) of it. 1000000 gives max exactly; 0 on an empty
 *   histogram.
 * hist_mean: sum / count (0 when empty).
 */
#ifndef VUVM_GUEST_HIST_H
#define VUVM_GUEST_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB      (1u << HIST_SUB_BITS)
/* 2^40 ns is 18 minutes: nothing a benchmark should ever wait. */
#define HIST_MAX_EXP 40
#define HIST_BUCKETS ((HIST_MAX_EXP - HIST_SUB_BITS + 2) * HIST_SUB)

struct hist {
	uint64_t count, sum, min, max;
	uint64_t bucket[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t v);
void hist_merge(struct hist *dst, const struct hist *src);
uint64_t hist_value_at(const struct hist *h, uint32_t ppm);
uint64_t hist_mean(const struct hist *h);

#endif
