/* SPDX-License-Identifier: MIT */
/*
 * What blk-bench and net-bench share: the run length (seconds= or count=),
 * the timed loop, per-queue figures, the latency histogram, progress
 * lines, the human table and the JSON members.
 *
 * bench_params: reads seconds=S (decimal, fractions allowed: 0.2) and
 *   count=N into @b (default: 1 second); -1 after an ERROR line.
 * bench_setup: allocates @nq per-queue figures and histograms; false when
 *   guest RAM is short.
 * bench_quota: how many requests queue @q may still start (count=
 *   splits the total over the queues; seconds= stops at the deadline).
 * bench_tick: prints a progress line once a second of the run.
 * bench_run: the timed loop. Starts the clock (bench_start), then in each
 *   round calls @pass for every queue: take its completions and start
 *   what bench_quota allows, returning the completions taken, or -1 on a
 *   driver error; then, when no queue moved but requests are in flight,
 *   @idle (wait for the device); then bench_tick. It ends when no queue
 *   has quota left and nothing is in flight: 0; or BENCH_EDRIVER when a
 *   pass failed; or BENCH_ESTALLED when nothing completed for
 *   VW_TIMEOUT_NS with requests in flight. @ctx goes to both callbacks.
 * bench_in_flight: requests started and not done yet, on all queues.
 * bench_errors: the queues' errors, summed.
 * bench_finish: merges the queues, prints the table and adds the figures
 *   to @j (requests, errors, elapsed_ns, rate, bytes_per_s, lat_ns{},
 *   guest_ns_per_req{}, kicks, per_queue[]).
 */
#ifndef VUVM_GUEST_WORKLOADS_BENCH_H
#define VUVM_GUEST_WORKLOADS_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hist.h"
#include "lib/json.h"
#include "virtio/mmio.h"

#define BENCH_EDRIVER  (-1)
#define BENCH_ESTALLED (-2)

struct bench_q {
	uint64_t started, done, bytes, errors;
	/* TSC cycles in the driver: adding, taking back, notifying. */
	uint64_t submit_cyc, complete_cyc, kick_cyc, kicks;
	struct hist *lat; /* nanoseconds from submit to completion */
};

struct bench {
	uint64_t count; /* requests in all, 0: run for duration_ns */
	uint64_t duration_ns;
	uint64_t t0, deadline; /* TSC */
	uint64_t next_tick;    /* TSC of the next progress line */
	uint64_t last_done;
	unsigned int nq;
	const char *unit;     /* "IOPS" or "frames/s", for people */
	const char *rate_key; /* "iops" or "frames_per_s", in the JSON */
	bool bits;	      /* also report Gbit/s (networks) */
	struct bench_q *q;
	struct hist *all;
};

int bench_params(struct bench *b, const char *args);
bool bench_setup(struct bench *b, unsigned int nq);
void bench_start(struct bench *b);
uint64_t bench_quota(struct bench *b, unsigned int q, uint64_t now);
void bench_tick(struct bench *b, uint64_t now);
int bench_run(struct bench *b,
	      int (*pass)(void *ctx, unsigned int q, uint64_t now),
	      void (*idle)(void *ctx), void *ctx);
uint64_t bench_in_flight(const struct bench *b);
uint64_t bench_errors(const struct bench *b);
void bench_finish(struct bench *b, struct json *j);
/* Publishes what was added to @vq and notifies queue @index if the device
 * wants it, counting the kick and its cycles. */
bool bench_kick(struct bench_q *st, struct vio_dev *dev, unsigned int index,
		struct virtq *vq);

#endif
