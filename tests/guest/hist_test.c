// SPDX-License-Identifier: MIT
/*
 * guest/lib/hist.c on the host: known inputs give percentiles within the
 * documented bound (never below the true value, above it by less than
 * 1/HIST_SUB of it), in order, with min and max exact; an empty histogram
 * answers 0; merging equals recording everything into one.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/hist.h"
#include "tests/check.h"

static struct hist h, h2, h3;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The exact ceil(n * ppm / 1e6)-th smallest of sorted @v. */
static uint64_t exact(const uint64_t *v, size_t n, uint32_t ppm)
{
	uint64_t rank = ((uint64_t)n * ppm + 999999) / 1000000;

	return v[rank ? rank - 1 : 0];
}

static void check_bound(const uint64_t *sorted, size_t n, const char *what)
{
	static const uint32_t ppms[] = { 1,	 100000, 500000, 900000,
					 990000, 999000, 999900, 1000000 };
	uint64_t prev = 0;

	for (size_t i = 0; i < sizeof(ppms) / sizeof(ppms[0]); i++) {
		uint64_t want = exact(sorted, n, ppms[i]);
		uint64_t got = hist_value_at(&h, ppms[i]);

		CHECK_MSG(got >= want && (got - want) * HIST_SUB <= want,
			  "%s: ppm %u: got %llu, exact %llu", what, ppms[i],
			  (unsigned long long)got, (unsigned long long)want);
		CHECK_MSG(got >= prev,
			  "%s: ppm %u: %llu below the previous %llu", what,
			  ppms[i], (unsigned long long)got,
			  (unsigned long long)prev);
		prev = got;
	}
	CHECK_MSG(hist_value_at(&h, 1000000) == sorted[n - 1], "%s: max exact",
		  what);
	CHECK_MSG(h.max == sorted[n - 1] && h.min == sorted[0],
		  "%s: min %llu max %llu", what, (unsigned long long)h.min,
		  (unsigned long long)h.max);
	CHECK_MSG(h.count == n, "%s: count", what);
}

static void test_empty(void)
{
	hist_init(&h);
	CHECK_MSG(hist_value_at(&h, 500000) == 0, "empty: p50");
	CHECK_MSG(hist_value_at(&h, 1000000) == 0, "empty: max");
	CHECK_MSG(hist_mean(&h) == 0, "empty: mean");
}

static void test_small_exact(void)
{
	uint64_t v[100];

	hist_init(&h);
	for (uint64_t i = 0; i < 100; i++) {
		v[i] = i + 1;
		hist_record(&h, v[i]);
	}
	/* Below HIST_SUB every value has its own bucket: exact answers. */
	CHECK_MSG(hist_value_at(&h, 500000) == 50, "1..100: p50 %llu",
		  (unsigned long long)hist_value_at(&h, 500000));
	CHECK_MSG(hist_value_at(&h, 990000) == 99, "1..100: p99");
	CHECK_MSG(hist_mean(&h) == 50, "1..100: mean %llu",
		  (unsigned long long)hist_mean(&h));
	check_bound(v, 100, "1..100");
}

static void test_one_value(void)
{
	uint64_t v = 123456789;

	hist_init(&h);
	hist_record(&h, v);
	/* Clamped to [min, max]: a lone value comes back exactly. */
	CHECK_MSG(hist_value_at(&h, 500000) == v, "one value: p50");
	CHECK_MSG(hist_value_at(&h, 1) == v, "one value: p0.0001");
	check_bound(&v, 1, "one value");
}

/* Log-uniform values over 1 ns .. 2^40 ns, and a merge of two halves. */
static void test_random(void)
{
	enum { N = 200000 };
	static uint64_t v[N];
	uint64_t x = 88172645463325252ull;

	hist_init(&h);
	hist_init(&h2);
	hist_init(&h3);
	for (size_t i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = (x >> 24) >> (x % 40);
		hist_record(&h, v[i]);
		hist_record(i % 2 ? &h2 : &h3, v[i]);
	}
	hist_merge(&h2, &h3);
	qsort(v, N, sizeof(v[0]), cmp_u64);
	check_bound(v, N, "random");
	for (uint32_t p = 0; p <= 1000000; p += 12345)
		CHECK_MSG(hist_value_at(&h, p) == hist_value_at(&h2, p),
			  "merge: ppm %u differs", p);
	CHECK_MSG(h2.count == N && h2.min == h.min && h2.max == h.max &&
			  h2.sum == h.sum,
		  "merge: count, min, max, sum");
}

/* Every bucket boundary: each value's percentile-1e6 is itself. */
static void test_edges(void)
{
	for (unsigned int e = 0; e < HIST_MAX_EXP; e++) {
		uint64_t base = 1ull << e;
		uint64_t vals[] = { base - 1, base, base + 1, 2 * base - 1,
				    base + base / 3 };

		for (size_t i = 0; i < 5; i++) {
			uint64_t one = vals[i] ? vals[i] : 1;

			hist_init(&h);
			hist_record(&h, one);
			hist_record(&h, one);
			CHECK_MSG(hist_value_at(&h, 500000) == one, "edge %llu",
				  (unsigned long long)one);
		}
	}
	/* Values past the last bucket still report an exact max. */
	hist_init(&h);
	hist_record(&h, 5);
	hist_record(&h, UINT64_MAX);
	CHECK_MSG(hist_value_at(&h, 1000000) == UINT64_MAX, "huge: max");
	CHECK_MSG(hist_value_at(&h, 500000) == 5, "huge: p50");
}

int main(void)
{
	test_empty();
	test_small_exact();
	test_one_value();
	test_random();
	test_edges();
	return check_exit();
}
