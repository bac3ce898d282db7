// SPDX-License-Identifier: MIT
/*
 * The log-linear histogram (see hist.h). Portable C.
 */
#include <string.h>

#include "lib/hist.h"

/* Bucket index of @v: group g holds [2^(g+6), 2^(g+7)) for g >= 1 in
 * HIST_SUB steps of 2^(g-1); group 0 holds 0..HIST_SUB-1 one by one. */
static unsigned int index_of(uint64_t v)
{
	unsigned int e, shift;

	if (v < HIST_SUB)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);
	if (e > HIST_MAX_EXP)
		return HIST_BUCKETS - 1;
	shift = e - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned int)((v >> shift) - HIST_SUB);
}

/* The highest value that falls in bucket @i. */
static uint64_t bucket_top(unsigned int i)
{
	unsigned int shift;

	if (i < HIST_SUB)
		return i;
	shift = i / HIST_SUB - 1;
	return ((uint64_t)(HIST_SUB + i % HIST_SUB + 1) << shift) - 1;
}

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void hist_record(struct hist *h, uint64_t v)
{
	h->bucket[index_of(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (!src->count)
		return;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hist_value_at(const struct hist *h, uint32_t ppm)
{
	uint64_t rank, seen = 0, v;

	if (!h->count)
		return 0;
	if (ppm >= 1000000)
		return h->max;
	/* The rank-th smallest value, 1-based; ceil without overflow for
	 * any count below 2^44. */
	rank = (h->count * ppm + 999999) / 1000000;
	if (!rank)
		rank = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen < rank)
			continue;
		v = bucket_top(i);
		if (v < h->min)
			return h->min;
		return v > h->max ? h->max : v;
	}
	return h->max;
}

uint64_t hist_mean(const struct hist *h)
{
	return h->count ? h->sum / h->count : 0;
}
