// SPDX-License-Identifier: MIT
/*
 * net-bench: frames/s, Gbit/s and latency of a virtio-net device.
 *
 * dir=tx sends frames and counts them done when the device hands the
 * transmit buffer back (latency: add to used). dir=rtt counts a frame
 * done when it comes back on the same pair's receiveq from an echoing
 * backend (vuvm-backend net, testpmd macswap; latency: add to receive).
 * Either way every pair keeps its receiveq full and recycles what arrives,
 * since a backend with nowhere to put an echo stalls or drops.
 *
 * Frames are built once per transmit slot (the slot number at offset 14,
 * which rtt reads back to find the send time) and reused; frames are
 * submitted batch at a time with one kick, up to window in flight per
 * pair. The default window is the ring in tx mode and one batch in rtt
 * mode (batch=1: ping-pong).
 *
 * Parameters: size=BYTES frame size (60..1514, default 64), batch=N
 * (default 32), window=N, queues=N pairs (default 1), dir=tx|rtt (default
 * rtt), seconds=S or count=N, mode=poll|irq, qsize=N (default 256).
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/io.h"
#include "lib/json.h"
#include "lib/kv.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/net.h"
#include "virtio/virtio_ids.h"
#include "workloads/bench.h"
#include "workloads/virtio_common.h"
#include "workloads/workloads.h"

#define HDR	 ((uint32_t)sizeof(struct virtio_net_hdr_v1))
#define BUF_SIZE 2048
#define ETH_MIN	 60
#define ETH_MAX	 1514
#define SLOT_OFF 14 /* where the slot number travels in the frame */

/* A transmit slot's state bits. */
#define TX_BUSY 1 /* the transmitq holds it */
#define RX_WAIT 2 /* rtt: its echo has not come back yet */

struct pq {
	uint8_t *tx, *rx; /* window / ring-size buffers of BUF_SIZE */
	uint64_t *t_sent; /* per slot, TSC */
	uint8_t *state;	  /* per slot */
	uint16_t *free;	  /* stack of free slots */
	unsigned int nfree;
	uint64_t rx_frames; /* everything received, counted or not */
};

struct nb {
	struct net_dev net;
	struct bench b;
	uint32_t size, batch, window, nrx;
	bool rtt;
	int mode;
	uint64_t ring; /* ring=, in_order=: features to ask for */
	struct vw_wait wait;
	struct pq pq[NET_MAX_PAIRS];
};

static void slot_free(struct pq *p, unsigned int slot)
{
	if (!p->state[slot])
		p->free[p->nfree++] = (uint16_t)slot;
}

/* Sends up to a batch on pair @i when a whole batch has room. */
static int send(struct nb *s, unsigned int i, uint64_t now)
{
	struct pq *p = &s->pq[i];
	struct bench_q *st = &s->b.q[i];
	uint64_t quota = bench_quota(&s->b, i, now), t;
	unsigned int n = s->batch < quota ? s->batch : (unsigned int)quota;

	if (!n || p->nfree < n)
		return 0;
	for (unsigned int k = 0; k < n; k++) {
		unsigned int slot = p->free[--p->nfree];
		struct virtq_buf seg = { dma_addr(p->tx + slot * BUF_SIZE),
					 HDR + s->size };

		t = rdtsc();
		p->t_sent[slot] = t;
		p->state[slot] = TX_BUSY | (s->rtt ? RX_WAIT : 0);
		if (net_tx(&s->net, i, &seg, 1, (void *)(uintptr_t)slot + 1))
			return -1;
		st->submit_cyc += rdtsc() - t;
	}
	st->started += n;
	bench_kick(st, &s->net.vio, NET_TXQ(i), &s->net.vq[NET_TXQ(i)]);
	return 0;
}

static void done(struct nb *s, unsigned int i, unsigned int slot, uint64_t now)
{
	struct bench_q *st = &s->b.q[i];

	st->done++;
	st->bytes += s->size;
	hist_record(st->lat, tsc_to_ns(now - s->pq[i].t_sent[slot]));
}

/* Takes pair @i's transmit completions; how many, or -1. */
static int reap_tx(struct nb *s, unsigned int i)
{
	struct pq *p = &s->pq[i];
	uint64_t t = rdtsc(), t1;
	uint32_t len;
	void *tok;
	int ret, n = 0;

	while ((ret = net_poll(&s->net, NET_TXQ(i), &tok, &len)) > 0) {
		unsigned int slot = (unsigned int)(uintptr_t)tok - 1;

		t1 = rdtsc();
		s->b.q[i].complete_cyc += t1 - t;
		p->state[slot] &= ~TX_BUSY;
		if (!s->rtt)
			done(s, i, slot, t1);
		slot_free(p, slot);
		n++;
		t = rdtsc();
	}
	return ret < 0 ? -1 : n;
}

/* An echo of one of our frames: which slot, or -1 (counted an error). */
static int echo_slot(struct nb *s, struct pq *p, const uint8_t *b, uint32_t len)
{
	uint32_t slot;

	if (len != HDR + s->size)
		return -1;
	memcpy(&slot, b + HDR + SLOT_OFF, 4);
	if (slot >= s->window || !(p->state[slot] & RX_WAIT))
		return -1;
	return (int)slot;
}

static int repost(struct nb *s, unsigned int i, unsigned int k)
{
	struct virtq_buf seg = { dma_addr(s->pq[i].rx + k * BUF_SIZE),
				 BUF_SIZE };

	return net_rx_post(&s->net, i, &seg, 1, (void *)(uintptr_t)k + 1);
}

/* Takes pair @i's received frames and gives the buffers back. */
static int reap_rx(struct nb *s, unsigned int i)
{
	struct pq *p = &s->pq[i];
	struct bench_q *st = &s->b.q[i];
	uint64_t t = rdtsc(), t1;
	uint32_t len;
	void *tok;
	int ret, n = 0, slot;

	while ((ret = net_poll(&s->net, NET_RXQ(i), &tok, &len)) > 0) {
		unsigned int k = (unsigned int)(uintptr_t)tok - 1;

		t1 = rdtsc();
		p->rx_frames++;
		if (s->rtt) {
			slot = echo_slot(s, p, p->rx + k * BUF_SIZE, len);
			if (slot < 0) {
				st->errors++;
			} else {
				p->state[slot] &= ~RX_WAIT;
				done(s, i, (unsigned int)slot, t1);
				slot_free(p, (unsigned int)slot);
			}
		}
		if (repost(s, i, k))
			return -1;
		st->complete_cyc += rdtsc() - t;
		n++;
		t = rdtsc();
	}
	if (n)
		bench_kick(st, &s->net.vio, NET_RXQ(i), &s->net.vq[NET_RXQ(i)]);
	return ret < 0 ? -1 : n;
}

/* One round's work on pair @i (bench_run): transmit completions,
 * received frames, then the next batch. */
static int pass(void *ctx, unsigned int i, uint64_t now)
{
	struct nb *s = ctx;
	int a = reap_tx(s, i), c = reap_rx(s, i);

	if (a < 0 || c < 0 || send(s, i, now) < 0)
		return -1;
	return a + c;
}

static void idle(void *ctx)
{
	struct nb *s = ctx;

	vw_idle(&s->wait, s->net.vq, 2 * s->net.npairs);
}

static bool run(struct nb *s)
{
	int r = bench_run(&s->b, pass, idle, s);

	if (r == BENCH_EDRIVER)
		return report(false, "driver: %s", s->net.vio.error);
	if (r == BENCH_ESTALLED)
		return report(false, "%llu frames not done after 5 s",
			      (unsigned long long)bench_in_flight(&s->b));
	return true;
}

/* Builds the frame of every slot once: to the device's MAC (or
 * broadcast), from a local address, EtherType 0x88b5 (local
 * experimental), the slot number, then a fixed filler. */
static void build(struct nb *s, struct pq *p)
{
	static const uint8_t src[6] = { 0x02, 0x76, 0x75, 0x00, 0x00, 0x01 };

	for (uint32_t slot = 0; slot < s->window; slot++) {
		uint8_t *b = p->tx + slot * BUF_SIZE, *f = b + HDR;

		memset(b, 0, HDR);
		if (vio_has(&s->net.vio, VIRTIO_NET_F_MAC))
			memcpy(f, s->net.mac, 6);
		else
			memset(f, 0xff, 6);
		memcpy(f + 6, src, 6);
		f[12] = 0x88;
		f[13] = 0xb5;
		memcpy(f + SLOT_OFF, &slot, 4);
		for (uint32_t k = SLOT_OFF + 4; k < s->size; k++)
			f[k] = (uint8_t)k;
	}
}

static bool setup_pair(struct nb *s, unsigned int i)
{
	struct pq *p = &s->pq[i];

	p->tx = dma_alloc((uint64_t)s->window * BUF_SIZE, 4096);
	p->rx = dma_alloc((uint64_t)s->nrx * BUF_SIZE, 4096);
	p->t_sent = dma_alloc(s->window * sizeof(uint64_t), 64);
	p->state = dma_alloc(s->window, 64);
	p->free = dma_alloc(s->window * sizeof(uint16_t), 64);
	if (!p->tx || !p->rx || !p->t_sent || !p->state || !p->free)
		return false;
	/* Touch everything now: a first touch in the run costs an exit. */
	memset(p->rx, 0, (uint64_t)s->nrx * BUF_SIZE);
	memset(p->state, 0, s->window);
	build(s, p);
	p->nfree = 0;
	for (unsigned int slot = s->window; slot-- > 0;)
		slot_free(p, slot);
	for (unsigned int k = 0; k < s->nrx; k++)
		if (repost(s, i, k))
			return false;
	net_kick(&s->net, NET_RXQ(i));
	return true;
}

static int params(struct nb *s, const char *args, uint64_t *pairs,
		  uint64_t *qsize, uint64_t *window)
{
	char dir[8] = "rtt";
	uint64_t size, batch;

	kv_get(args, "dir", dir, sizeof(dir));
	s->rtt = !strcmp(dir, "rtt");
	s->mode = vw_mode(args);
	if (s->mode < 0 || vw_ring(args, &s->ring) ||
	    (!s->rtt && strcmp(dir, "tx")) || bench_params(&s->b, args) ||
	    kv_get_u64(args, "size", 64, &size) == -2 ||
	    kv_get_u64(args, "batch", 32, &batch) == -2 ||
	    kv_get_u64(args, "window", 0, window) == -2 ||
	    kv_get_u64(args, "queues", 1, pairs) == -2 ||
	    kv_get_u64(args, "qsize", 256, qsize) == -2 || size < ETH_MIN ||
	    size > ETH_MAX || !batch || batch > 4096 || *window > 4096 ||
	    !*pairs || *pairs > NET_MAX_PAIRS || *qsize < 4 || *qsize > 32768) {
		printf("ERROR: net-bench: size 60..1514, batch 1..4096, "
		       "window 0..4096, queues 1..16, dir=tx|rtt, qsize "
		       "4..32768, seconds=S (0.2) or count=N\n");
		return -1;
	}
	s->size = (uint32_t)size;
	s->batch = (uint32_t)batch;
	return 0;
}

/* Window and batch within the ring: one descriptor per frame. */
static void shape(struct nb *s, uint64_t window)
{
	unsigned int ring = s->net.vq[0].num;

	s->nrx = ring;
	if (!window)
		window = s->rtt ? s->batch : ring;
	s->window = window < ring ? (uint32_t)window : ring;
	if (s->batch > s->window)
		s->batch = s->window;
}

/* The JSON line; false when it did not fit (an ERROR line instead). */
static bool results(struct nb *s)
{
	static struct json j;
	uint64_t rx = 0;

	json_begin(&j);
	json_str(&j, "workload", "net-bench");
	json_str(&j, "dir", s->rtt ? "rtt" : "tx");
	json_u64(&j, "size", s->size);
	json_u64(&j, "batch", s->batch);
	json_u64(&j, "window", s->window);
	json_u64(&j, "queues", s->net.npairs);
	json_str(&j, "mode", s->mode == VW_IRQ ? "irq" : "poll");
	json_str(&j, "ring", s->net.vq[0].packed ? "packed" : "split");
	json_u64(&j, "in_order", s->net.vq[0].in_order);
	if (s->b.count)
		json_u64(&j, "count", s->b.count);
	json_u64(&j, "tsc_khz", time_tsc_khz());
	bench_finish(&s->b, &j);
	for (unsigned int i = 0; i < s->net.npairs; i++)
		rx += s->pq[i].rx_frames;
	json_u64(&j, "rx_frames", rx);
	json_u64(&j, "interrupts", s->wait.irqs);
	return report(!json_print(&j), "the results fit one JSON line");
}

static void bench(struct nb *s, const struct vio_dev *found, uint64_t pairs,
		  uint64_t qsize, uint64_t window)
{
	int err = net_open(&s->net, found, (unsigned int)pairs,
			   (unsigned int)qsize, 0);
	uint64_t errors;
	bool ok;

	if (!err && vw_ring_check(&s->net.vio, s->ring))
		return;
	if (!report(!err, "set up: %s", err ? s->net.vio.error : "ok"))
		return;
	if (pairs > s->net.npairs)
		report_info("queues=%llu asked, the device has %u",
			    (unsigned long long)pairs, s->net.max_pairs);
	shape(s, window);
	ok = bench_setup(&s->b, s->net.npairs);
	for (unsigned int i = 0; ok && i < s->net.npairs; i++)
		ok = setup_pair(s, i);
	if (!report(ok, "%u pairs, queues of %u, window %u, batch %u",
		    s->net.npairs, s->net.vq[0].num, s->window, s->batch) ||
	    vw_wait_start(&s->wait, s->mode, &s->net.vio))
		return;
	if (run(s)) {
		results(s);
		errors = bench_errors(&s->b);
		report(!errors, "%s %u-byte frames: %llu bad echoes",
		       s->rtt ? "rtt" : "tx", s->size,
		       (unsigned long long)errors);
	}
	vw_wait_end(&s->wait);
}

int net_bench_main(const char *args)
{
	static struct nb s;
	struct vio_dev found;
	uint64_t pairs, qsize, window;

	memset(&s, 0, sizeof(s));
	s.b.unit = "frames/s";
	s.b.rate_key = "frames_per_s";
	s.b.bits = true;
	if (params(&s, args, &pairs, &qsize, &window))
		return WORKLOAD_BAD_REQUEST;
	report_prefix_push("net-bench");
	if (!vw_find(VIRTIO_ID_NET, "net", &found)) {
		found.ring_wanted = s.ring;
		bench(&s, &found, pairs, qsize, window);
		vio_reset(&s.net.vio);
	}
	report_prefix_pop();
	return report_summary();
}
