// SPDX-License-Identifier: MIT
/*
 * Figures shared by the benchmark workloads (see bench.h). Integer
 * arithmetic throughout: rates are printed with two decimals by hand.
 */
#include "workloads/bench.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86_64/io.h"
#include "lib/kv.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "workloads/virtio_common.h"

#define NS_PER_S 1000000000ull

/* "S" or "S.FFF" seconds into nanoseconds; -1 when malformed. */
static int parse_seconds(const char *s, uint64_t *ns)
{
	uint64_t whole = 0, frac = 0, scale = NS_PER_S;
	bool digits = false;

	for (; *s >= '0' && *s <= '9'; s++, digits = true)
		whole = whole * 10 + (uint64_t)(*s - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, digits = true)
			if (scale >= 10) {
				scale /= 10;
				frac += (uint64_t)(*s - '0') * scale;
			}
	if (*s || !digits || whole > 86400)
		return -1;
	*ns = whole * NS_PER_S + frac;
	return 0;
}

int bench_params(struct bench *b, const char *args)
{
	char sec[24];
	int n = kv_get(args, "seconds", sec, sizeof(sec));

	b->duration_ns = NS_PER_S;
	if (kv_get_u64(args, "count", 0, &b->count) == -2 ||
	    (n >= 0 &&
	     (n >= (int)sizeof(sec) || parse_seconds(sec, &b->duration_ns))) ||
	    (n >= 0 && b->count) || (n >= 0 && !b->duration_ns))
		return -1; /* the workload prints its usage */
	return 0;
}

bool bench_setup(struct bench *b, unsigned int nq)
{
	b->nq = nq;
	b->q = dma_alloc(nq * sizeof(*b->q), 64);
	b->all = dma_alloc(sizeof(struct hist), 64);
	if (!b->q || !b->all)
		return false;
	memset(b->q, 0, nq * sizeof(*b->q));
	hist_init(b->all);
	for (unsigned int i = 0; i < nq; i++) {
		b->q[i].lat = dma_alloc(sizeof(struct hist), 64);
		if (!b->q[i].lat)
			return false;
		hist_init(b->q[i].lat);
	}
	return true;
}

void bench_start(struct bench *b)
{
	b->t0 = rdtsc();
	b->deadline = b->t0 + ns_to_tsc(b->duration_ns);
	b->next_tick = b->t0 + ns_to_tsc(NS_PER_S);
	b->last_done = 0;
}

uint64_t bench_quota(struct bench *b, unsigned int q, uint64_t now)
{
	uint64_t share;

	if (b->count) {
		share = b->count / b->nq + (q < b->count % b->nq);
		return share - b->q[q].started;
	}
	return now < b->deadline ? UINT64_MAX : 0;
}

static uint64_t total_done(const struct bench *b)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < b->nq; i++)
		n += b->q[i].done;
	return n;
}

/* @x / 100 with two decimals, into @s. */
static const char *dec2(char *s, size_t size, uint64_t x100)
{
	snprintf(s, size, "%llu.%02llu", (unsigned long long)(x100 / 100),
		 (unsigned long long)(x100 % 100));
	return s;
}

void bench_tick(struct bench *b, uint64_t now)
{
	uint64_t done;

	if (now < b->next_tick)
		return;
	done = total_done(b);
	printf("progress: %llu s: %llu %s, %llu requests\n",
	       (unsigned long long)(tsc_to_ns(now - b->t0) / NS_PER_S),
	       (unsigned long long)(done - b->last_done), b->unit,
	       (unsigned long long)done);
	b->last_done = done;
	b->next_tick += ns_to_tsc(NS_PER_S);
}

uint64_t bench_in_flight(const struct bench *b)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < b->nq; i++)
		n += b->q[i].started - b->q[i].done;
	return n;
}

uint64_t bench_errors(const struct bench *b)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < b->nq; i++)
		n += b->q[i].errors;
	return n;
}

int bench_run(struct bench *b,
	      int (*pass)(void *ctx, unsigned int q, uint64_t now),
	      void (*idle)(void *ctx), void *ctx)
{
	uint64_t now, seen;
	bool moved, more;

	bench_start(b);
	seen = b->t0;
	do {
		now = rdtsc();
		moved = more = false;
		for (unsigned int q = 0; q < b->nq; q++) {
			int n = pass(ctx, q, now);

			if (n < 0)
				return BENCH_EDRIVER;
			moved |= n > 0;
			more |= bench_quota(b, q, now) > 0;
		}
		if (moved)
			seen = now;
		else if (bench_in_flight(b))
			idle(ctx);
		bench_tick(b, now);
		if (tsc_to_ns(now - seen) > VW_TIMEOUT_NS)
			return BENCH_ESTALLED;
	} while (more || bench_in_flight(b));
	return 0;
}

/* Per second, from a count over @ns nanoseconds, without overflow for
 * any count below 2^34 per second of run. */
static uint64_t per_s(uint64_t n, uint64_t ns)
{
	if (!ns)
		return 0;
	if (n < UINT64_MAX / NS_PER_S)
		return n * NS_PER_S / ns;
	return n / (ns / NS_PER_S + 1);
}

static void json_lat(struct json *j, const struct hist *h)
{
	json_object_begin(j, "lat_ns");
	json_u64(j, "min", h->count ? h->min : 0);
	json_u64(j, "mean", hist_mean(h));
	json_u64(j, "p50", hist_value_at(h, 500000));
	json_u64(j, "p90", hist_value_at(h, 900000));
	json_u64(j, "p99", hist_value_at(h, 990000));
	json_u64(j, "p99_9", hist_value_at(h, 999000));
	json_u64(j, "max", h->count ? h->max : 0);
	json_object_end(j);
}

/* Nanoseconds as microseconds with one decimal. */
static const char *us1(char *s, size_t size, uint64_t ns)
{
	snprintf(s, size, "%llu.%llu", (unsigned long long)(ns / 1000),
		 (unsigned long long)(ns / 100 % 10));
	return s;
}

static void print_row(const char *name, const struct bench_q *s,
		      const struct hist *h, uint64_t ns)
{
	static const uint32_t ppm[] = { 500000, 900000, 990000, 999000,
					1000000 };
	char mb[24], us[5][24];

	for (unsigned int i = 0; i < 5; i++)
		us1(us[i], sizeof(us[i]), hist_value_at(h, ppm[i]));
	printf("%-6s %10llu %12llu %10s %8s %8s %8s %8s %9s %6llu\n", name,
	       (unsigned long long)s->done,
	       (unsigned long long)per_s(s->done, ns),
	       dec2(mb, sizeof(mb), per_s(s->bytes, ns) / 10000), us[0], us[1],
	       us[2], us[3], us[4], (unsigned long long)s->errors);
}

/* Short keys, no index (the array's order is the queues'): sixteen
 * queues must fit the line's JSON_MAX. */
static void json_queue(struct json *j, const struct bench_q *s, uint64_t ns)
{
	json_object_begin(j, NULL);
	json_u64(j, "requests", s->done);
	json_u64(j, "errors", s->errors);
	json_u64(j, "rate", per_s(s->done, ns));
	json_u64(j, "p50", hist_value_at(s->lat, 500000));
	json_u64(j, "p99", hist_value_at(s->lat, 990000));
	json_u64(j, "max", s->lat->count ? s->lat->max : 0);
	json_object_end(j);
}

/* Networks speak in bits: Gbit/s for people, Mbit/s in the JSON. */
static void gbits(struct json *j, uint64_t bytes_per_s)
{
	char g[24];

	json_u64(j, "mbit_per_s", bytes_per_s * 8 / 1000000);
	printf("%s Gbit/s\n", dec2(g, sizeof(g), bytes_per_s * 8 / 10000000));
}

/* The guest's own cost: driver cycles per completed request. */
static void guest_cost(struct json *j, const struct bench_q *t)
{
	uint64_t n = t->done ? t->done : 1;

	json_object_begin(j, "guest_ns_per_req");
	json_u64(j, "submit", tsc_to_ns(t->submit_cyc) / n);
	json_u64(j, "complete", tsc_to_ns(t->complete_cyc) / n);
	json_u64(j, "kick", tsc_to_ns(t->kick_cyc) / n);
	json_object_end(j);
	printf("guest cost per request: submit %llu ns, complete %llu ns, "
	       "kick %llu ns (%llu kicks)\n",
	       (unsigned long long)(tsc_to_ns(t->submit_cyc) / n),
	       (unsigned long long)(tsc_to_ns(t->complete_cyc) / n),
	       (unsigned long long)(tsc_to_ns(t->kick_cyc) / n),
	       (unsigned long long)t->kicks);
}

void bench_finish(struct bench *b, struct json *j)
{
	uint64_t ns = tsc_to_ns(rdtsc() - b->t0);
	struct bench_q t;
	char name[8];

	memset(&t, 0, sizeof(t));
	for (unsigned int i = 0; i < b->nq; i++) {
		struct bench_q *s = &b->q[i];

		hist_merge(b->all, s->lat);
		t.done += s->done;
		t.bytes += s->bytes;
		t.errors += s->errors;
		t.submit_cyc += s->submit_cyc;
		t.complete_cyc += s->complete_cyc;
		t.kick_cyc += s->kick_cyc;
		t.kicks += s->kicks;
	}
	printf("%-6s %10s %12s %10s %8s %8s %8s %8s %9s %6s\n", "queue",
	       "requests", b->unit, "MB/s", "p50 us", "p90 us", "p99 us",
	       "p99.9 us", "max us", "errors");
	for (unsigned int i = 0; b->nq > 1 && i < b->nq; i++) {
		snprintf(name, sizeof(name), "%u", i);
		print_row(name, &b->q[i], b->q[i].lat, ns);
	}
	print_row("all", &t, b->all, ns);
	json_u64(j, "requests", t.done);
	json_u64(j, "errors", t.errors);
	json_u64(j, "elapsed_ns", ns);
	json_u64(j, b->rate_key, per_s(t.done, ns));
	json_u64(j, "bytes_per_s", per_s(t.bytes, ns));
	if (b->bits)
		gbits(j, per_s(t.bytes, ns));
	json_lat(j, b->all);
	guest_cost(j, &t);
	json_u64(j, "kicks", t.kicks);
	json_array_begin(j, "per_queue");
	for (unsigned int i = 0; i < b->nq; i++)
		json_queue(j, &b->q[i], ns);
	json_array_end(j);
}

bool bench_kick(struct bench_q *st, struct vio_dev *dev, unsigned int index,
		struct virtq *vq)
{
	uint64_t t = rdtsc();
	bool want = virtq_kick_prepare(vq);

	if (want) {
		vio_notify(dev, index);
		st->kicks++;
	}
	st->kick_cyc += rdtsc() - t;
	return want;
}
