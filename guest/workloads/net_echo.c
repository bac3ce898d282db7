// SPDX-License-Identifier: MIT
/*
 * net-echo: sends frames of 60..1514 bytes on every queue pair of a
 * virtio-net device whose backend sends them back (a loopback such as
 * vuvm-backend net), and compares what comes back byte for byte: the
 * virtio_net_hdr_v1, the length, and every byte of the frame. Each frame
 * carries its pair and sequence number, so a lost, duplicated, reordered
 * or corrupted frame is named. Transmit and receive chains vary in shape
 * (one, two or three descriptors; direct or indirect).
 *
 * Parameters: mode=poll|irq (default poll), queues=N pairs (default 1;
 * more need VIRTIO_NET_F_MQ), frames=N per pair (default 256), qsize=N
 * ring entries (default 64), expect=loopback|macswap (default loopback:
 * frames come back unchanged; macswap: with source and destination MAC
 * swapped), lossy=1 (for a backend that may crash and restart: a frame
 * not echoed within LOSS_NS counts as lost and the run goes on; it fails
 * only when nothing is echoed for stall=SEC (default 5), when a frame
 * comes back corrupted or never sent, or when the device needs a reset;
 * duplicates, which a restarted backend may send, are counted, not
 * failed).
 *
 * Whatever the mode, a device that sets DEVICE_NEEDS_RESET fails the run
 * with "device needs reset" in the FAIL line. A VUVM-JSON line gives
 * frames sent, echoed, lost, late (echoed after being counted lost) and
 * duplicated, over all pairs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/kv.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/net.h"
#include "virtio/virtio_ids.h"
#include "workloads/echo_track.h"
#include "workloads/virtio_common.h"
#include "workloads/workloads.h"

#define ETH_MIN	     60
#define ETH_MAX	     1514
#define HDR	     ((uint32_t)sizeof(struct virtio_net_hdr_v1))
#define BUF_SIZE     2048 /* one receive or transmit buffer */
#define MAX_WINDOW   ECHO_TRACK_WINDOW
#define MAX_FRAMES   (1u << 20)
#define ETHERTYPE_HI 0x88 /* 0x88b5: IEEE local experimental */
#define ETHERTYPE_LO 0xb5
/* lossy=1: a frame not back within this long is counted lost. */
#define LOSS_NS 100000000ull /* 100 ms */

static const uint16_t fixed_sizes[] = { 60,   61,   64,	  127,	128,
					255,  256,  511,  512,	1000,
					1023, 1024, 1500, 1513, 1514 };
#define NFIXED (sizeof(fixed_sizes) / sizeof(fixed_sizes[0]))

struct pair {
	unsigned int index;
	uint8_t *rx, *tx; /* window buffers of BUF_SIZE each */
	bool tx_busy[MAX_WINDOW];
	struct echo_track t; /* sent, echoed, lost, late, duplicated */
	uint32_t tx_done, received;
	uint32_t bad, reordered, last_seq;
	uint32_t nb_zero; /* headers with num_buffers 0 (see rx_ok) */
	char first_bad[96];
};

struct echo {
	struct net_dev net;
	unsigned int window;
	uint32_t frames;
	bool macswap;
	bool lossy;
	uint64_t stall_ns; /* stall=: how long without progress */
	uint64_t ring;	   /* ring=, in_order=: features to ask for */
	uint8_t dst[VIRTIO_NET_ETH_ALEN];
	uint8_t *scratch;
	struct vw_wait wait;
	struct pair pairs[NET_MAX_PAIRS];
};

static uint32_t mix(uint32_t a, uint32_t b)
{
	uint32_t x = a * 0x9e3779b1u ^ (b + 0x7f4a7c15u);

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	return x ^ (x >> 12);
}

static uint32_t frame_size(unsigned int pair, uint32_t seq)
{
	if (seq < NFIXED)
		return fixed_sizes[seq];
	return ETH_MIN + mix(pair, seq) % (ETH_MAX - ETH_MIN + 1);
}

/* Writes frame @seq of @pair at @f, as sent (or, with @swapped, with the
 * two addresses exchanged as a MAC-swapping peer returns it). */
static uint32_t build(const struct echo *e, unsigned int pair, uint32_t seq,
		      uint8_t *f, bool swapped)
{
	static const uint8_t src_base[4] = { 0x02, 0x76, 0x75, 0x00 };
	uint32_t size = frame_size(pair, seq);
	uint8_t *dst = f, *src = f + 6;

	if (swapped) {
		dst = f + 6;
		src = f;
	}
	memcpy(dst, e->dst, 6);
	memcpy(src, src_base, 4);
	src[4] = (uint8_t)pair;
	src[5] = 1;
	f[12] = ETHERTYPE_HI;
	f[13] = ETHERTYPE_LO;
	f[14] = (uint8_t)pair;
	memcpy(f + 15, &seq, 4);
	for (uint32_t k = 19; k < size; k++)
		f[k] = (uint8_t)(seq * 31 + k * 7 + pair + (k >> 8));
	return size;
}

/* --- Transmit ------------------------------------------------------------ */

/* One frame in three shapes: [hdr+frame], [hdr][frame], [hdr][a][b]. */
static int send_one(struct echo *e, struct pair *p, unsigned int slot)
{
	uint8_t *b = p->tx + slot * BUF_SIZE;
	uint32_t size = build(e, p->index, p->t.sent, b + HDR, false);
	struct virtq_buf seg[3];
	unsigned int n = 0;

	memset(b, 0, HDR);
	switch (p->t.sent % 3) {
	case 0:
		seg[n++] = (struct virtq_buf){ dma_addr(b), HDR + size };
		break;
	case 1:
		seg[n++] = (struct virtq_buf){ dma_addr(b), HDR };
		seg[n++] = (struct virtq_buf){ dma_addr(b + HDR), size };
		break;
	default:
		seg[n++] = (struct virtq_buf){ dma_addr(b), HDR };
		seg[n++] = (struct virtq_buf){ dma_addr(b + HDR), size / 2 };
		seg[n++] = (struct virtq_buf){ dma_addr(b + HDR + size / 2),
					       size - size / 2 };
	}
	p->tx_busy[slot] = true;
	/* The clock only matters with lossy=1; spare the rdtsc otherwise. */
	echo_track_sent(&p->t, e->lossy ? time_ns() : 0);
	return net_tx(&e->net, p->index, seg, n, b);
}

static int transmit(struct echo *e, struct pair *p)
{
	unsigned int qi = NET_TXQ(p->index);
	uint32_t len;
	void *tok;
	int ret;

	while ((ret = net_poll(&e->net, qi, &tok, &len)) > 0) {
		p->tx_busy[((uint8_t *)tok - p->tx) / BUF_SIZE] = false;
		p->tx_done++;
	}
	if (ret < 0)
		return ret;
	/*
	 * At most a window of frames between sending and receiving: one
	 * posted receive buffer for each. A backend that has no buffer for a
	 * frame may drop it (DPDK's vhost PMD does; vuvm-backend holds it),
	 * and a lost frame would stall the test.
	 */
	for (unsigned int s = 0;
	     s < e->window && p->t.sent < e->frames &&
	     p->t.sent - (e->lossy ? p->t.resolved : p->received) < e->window;
	     s++) {
		if (p->tx_busy[s])
			continue;
		ret = send_one(e, p, s);
		if (ret)
			return ret;
	}
	net_kick(&e->net, qi);
	return 0;
}

/* --- Receive ------------------------------------------------------------- */

/* Posts receive buffer @slot: one segment, or header and frame apart (the
 * two are adjacent, so what arrives reads as one run of bytes). */
static int post_rx(struct echo *e, struct pair *p, unsigned int slot)
{
	uint8_t *b = p->rx + slot * BUF_SIZE;
	struct virtq_buf seg[2] = {
		{ dma_addr(b), BUF_SIZE },
		{ dma_addr(b + HDR), BUF_SIZE - HDR },
	};

	if (slot % 2)
		seg[0].len = HDR;
	return net_rx_post(&e->net, p->index, seg, slot % 2 ? 2 : 1, b);
}

__attribute__((format(printf, 2, 3))) static void bad(struct pair *p,
						      const char *fmt, ...)
{
	va_list ap;

	if (!p->bad++) {
		va_start(ap, fmt);
		vsnprintf(p->first_bad, sizeof(p->first_bad), fmt, ap);
		va_end(ap);
	}
}

/* Checks one received buffer: header, sequence, length, bytes. Returns
 * whether it is right; what is wrong goes to the pair's counters. */
static bool rx_ok(struct echo *e, struct pair *p, const uint8_t *b,
		  uint32_t len)
{
	const struct virtio_net_hdr_v1 *h = (const void *)b;
	const uint8_t *f = b + HDR;
	uint32_t seq, size;

	if (len < HDR + 19) {
		bad(p, "a receive buffer with %u bytes", len);
		return false;
	}
	/*
	 * Without MRG_RXBUF virtio 1.x wants num_buffers 1, but DPDK's vhost
	 * (22.11) leaves it 0, as QEMU did before 7.2.18. Linux ignores the
	 * field then; so do we, and say so in an INFO line.
	 */
	if (h->num_buffers == 0 &&
	    !vio_has(&e->net.vio, VIRTIO_NET_F_MRG_RXBUF)) {
		p->nb_zero++;
	} else if (h->num_buffers != 1) {
		bad(p, "header num_buffers %u", h->num_buffers);
		return false;
	}
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		bad(p, "header gso_type %u", h->gso_type);
		return false;
	}
	memcpy(&seq, f + 15, 4);
	if (f[14] != p->index || seq >= p->t.sent) {
		bad(p, "a frame of pair %u seq %u that was never sent", f[14],
		    seq);
		return false;
	}
	echo_track_echo(&p->t, seq);
	if (p->received && seq <= p->last_seq)
		p->reordered++;
	p->last_seq = seq;
	size = build(e, p->index, seq, e->scratch, e->macswap);
	if (len != HDR + size) {
		bad(p, "frame %u: %u bytes, sent %u", seq, len - HDR, size);
		return false;
	}
	if (memcmp(f, e->scratch, size)) {
		bad(p, "frame %u of %u bytes differs", seq, size);
		return false;
	}
	return true;
}

static int receive(struct echo *e, struct pair *p)
{
	unsigned int qi = NET_RXQ(p->index), reposted = 0;
	uint32_t len;
	void *tok;
	int ret;

	while ((ret = net_poll(&e->net, qi, &tok, &len)) > 0) {
		rx_ok(e, p, tok, len);
		p->received++;
		ret = post_rx(e, p, ((uint8_t *)tok - p->rx) / BUF_SIZE);
		if (ret)
			return ret;
		reposted++;
	}
	if (reposted)
		net_kick(&e->net, qi);
	return ret;
}

/* --- The story ----------------------------------------------------------- */

static bool pair_done(const struct echo *e, const struct pair *p)
{
	if (e->lossy)
		return p->t.resolved >= e->frames && p->tx_done == p->t.sent;
	return p->received >= e->frames && p->tx_done == p->t.sent;
}

/* What counts as progress for the stall bound: with lossy=1 only echoes. */
static uint32_t progress_of(const struct echo *e, const struct pair *p)
{
	return e->lossy ? p->received : p->received + p->tx_done;
}

static bool pump(struct echo *e)
{
	uint64_t seen = time_ns(), now;
	uint32_t progress = 0, last = 0;
	bool done;
	int err;

	do {
		done = true;
		for (unsigned int i = 0; i < e->net.npairs; i++) {
			struct pair *p = &e->pairs[i];

			if (transmit(e, p) || receive(e, p) < 0)
				return report(false, "%s", e->net.vio.error);
			if (e->lossy)
				echo_track_resolve(&p->t, time_ns());
			done &= pair_done(e, p);
			progress += progress_of(e, p);
		}
		err = progress == last && !done
			      ? vw_idle(&e->wait, e->net.vq, 2 * e->net.npairs)
			      : 0;
		now = time_ns();
		if (progress != last)
			seen = now;
		/* Status only after 1 ms without progress. */
		if (!err)
			err = vio_watch(&e->net.vio, now,
					progress != last || done);
		if (err)
			return report(false, "%s", e->net.vio.error);
		last = progress;
		progress = 0;
		if (now - seen > e->stall_ns)
			return report(false, "no frame %s for %llu s",
				      e->lossy ? "echoed" : "moved",
				      (unsigned long long)(e->stall_ns /
							   1000000000ull));
	} while (!done);
	return true;
}

static bool setup_pair(struct echo *e, struct pair *p, unsigned int index)
{
	uint8_t *seen;

	p->index = index;
	p->rx = dma_alloc((uint64_t)e->window * BUF_SIZE, 4096);
	p->tx = dma_alloc((uint64_t)e->window * BUF_SIZE, 4096);
	seen = dma_alloc(e->frames, 16);
	if (!p->rx || !p->tx || !seen)
		return false;
	memset(seen, 0, e->frames);
	echo_track_init(&p->t, seen, LOSS_NS);
	for (unsigned int s = 0; s < e->window; s++)
		if (post_rx(e, p, s))
			return false;
	net_kick(&e->net, NET_RXQ(index));
	return true;
}

/* lossy=1: what was lost is counted; what came back must be right. */
static void report_pair_lossy(struct pair *p)
{
	report(!p->bad && p->t.echoed,
	       "pair %u: %u frames sent, %u echoed, %u lost, %u bad", p->index,
	       p->t.sent, p->t.echoed, echo_track_missing(&p->t), p->bad);
	if (p->t.late || p->t.dup)
		report_info("pair %u: %u frames came back after %llu ms, %u "
			    "came back twice",
			    p->index, p->t.late,
			    (unsigned long long)(LOSS_NS / 1000000), p->t.dup);
}

static void report_pair(struct echo *e, struct pair *p)
{
	if (p->first_bad[0])
		report_info("pair %u: first problem: %s", p->index,
			    p->first_bad);
	if (e->lossy)
		report_pair_lossy(p);
	else
		report(!p->bad && !p->t.dup && p->received == e->frames,
		       "pair %u: %u frames of 60..1514 bytes back, %u bad, %u "
		       "duplicated",
		       p->index, p->received, p->bad, p->t.dup);
	if (p->nb_zero)
		report_info("pair %u: %u headers had num_buffers 0, not 1 "
			    "(tolerated without MRG_RXBUF)",
			    p->index, p->nb_zero);
	if (p->reordered)
		report_info("pair %u: %u frames came out of order", p->index,
			    p->reordered);
}

/* Totals over the pairs, as one VUVM-JSON line (also after a failure). */
static void print_json(struct echo *e)
{
	static struct json j;
	uint64_t sent = 0, echoed = 0, lost = 0, late = 0, dup = 0, bad = 0;

	for (unsigned int i = 0; i < e->net.npairs; i++) {
		const struct pair *p = &e->pairs[i];

		sent += p->t.sent;
		echoed += p->t.echoed;
		lost += echo_track_missing(&p->t);
		late += p->t.late;
		dup += p->t.dup;
		bad += p->bad;
	}
	report_info("%llu frames sent, %llu echoed, %llu lost",
		    (unsigned long long)sent, (unsigned long long)echoed,
		    (unsigned long long)lost);
	json_begin(&j);
	json_str(&j, "workload", "net-echo");
	json_bool(&j, "lossy", e->lossy);
	json_u64(&j, "pairs", e->net.npairs);
	json_u64(&j, "sent", sent);
	json_u64(&j, "echoed", echoed);
	json_u64(&j, "lost", lost);
	json_u64(&j, "late", late);
	json_u64(&j, "duplicated", dup);
	json_u64(&j, "bad", bad);
	report(!json_print(&j), "the results fit one JSON line");
}

static int params(struct echo *e, const char *args, uint64_t *pairs,
		  uint64_t *qsize)
{
	uint64_t frames;
	char expect[16] = "loopback";

	kv_get(args, "expect", expect, sizeof(expect));
	e->macswap = !strcmp(expect, "macswap");
	if (kv_get_bool(args, "lossy", false, &e->lossy) == -2) {
		printf("ERROR: net-echo: lossy=0|1\n");
		return -1;
	}
	if (vw_mode(args) < 0 || vw_ring(args, &e->ring) ||
	    kv_get_u64(args, "queues", 1, pairs) == -2 ||
	    kv_get_u64(args, "frames", 256, &frames) == -2 ||
	    kv_get_u64(args, "qsize", 64, qsize) == -2 || !*pairs || !frames ||
	    frames > MAX_FRAMES || *qsize < 4 || *qsize > 32768 ||
	    (!e->macswap && strcmp(expect, "loopback"))) {
		printf("ERROR: net-echo: queues>=1, frames 1..1048576, qsize "
		       "4..32768, expect=loopback|macswap\n");
		return -1;
	}
	e->frames = (uint32_t)frames;
	e->stall_ns = vw_stall(args);
	return e->stall_ns ? 0 : -1;
}

static void run(struct echo *e, const struct vio_dev *found, uint64_t pairs,
		uint64_t qsize, int mode)
{
	uint64_t t0;
	int err = net_open(&e->net, found, (unsigned int)pairs,
			   (unsigned int)qsize, 0);

	if (!err && vw_ring_check(&e->net.vio, e->ring))
		return;
	if (!report(!err, "set up: %s", err ? e->net.vio.error : "ok"))
		return;
	report_info("features %#llx, %u of %u pairs, queues of %u, mac "
		    "%02x:%02x:%02x:%02x:%02x:%02x",
		    (unsigned long long)e->net.vio.features, e->net.npairs,
		    e->net.max_pairs, e->net.vq[0].num, e->net.mac[0],
		    e->net.mac[1], e->net.mac[2], e->net.mac[3], e->net.mac[4],
		    e->net.mac[5]);
	if (vio_has(&e->net.vio, VIRTIO_NET_F_STATUS))
		report(e->net.status & VIRTIO_NET_S_LINK_UP, "link is up");
	if (vio_has(&e->net.vio, VIRTIO_NET_F_MAC))
		memcpy(e->dst, e->net.mac, 6);
	else
		memset(e->dst, 0xff, 6);
	/* Half the ring each way; three descriptors per direct frame. */
	e->window = e->net.vq[0].num / 3;
	if (e->window > MAX_WINDOW)
		e->window = MAX_WINDOW;
	if (!e->window)
		e->window = 1;
	e->scratch = dma_alloc(BUF_SIZE, 64);
	for (unsigned int i = 0; i < e->net.npairs; i++)
		if (!report(e->scratch && setup_pair(e, &e->pairs[i], i),
			    "pair %u: %u receive buffers posted", i, e->window))
			return;
	if (vw_wait_start(&e->wait, mode, &e->net.vio))
		return;
	t0 = time_ns();
	if (!pump(e)) {
		vw_wait_end(&e->wait);
		print_json(e);
		return;
	}
	vw_wait_end(&e->wait);
	report_info("%u frames per pair, %u pairs, in %llu us", e->frames,
		    e->net.npairs, (unsigned long long)(time_ns() - t0) / 1000);
	for (unsigned int i = 0; i < e->net.npairs; i++)
		report_pair(e, &e->pairs[i]);
	print_json(e);
}

int net_echo_main(const char *args)
{
	static struct echo e;
	uint64_t pairs, qsize;
	struct vio_dev found;

	memset(&e, 0, sizeof(e));
	if (params(&e, args, &pairs, &qsize))
		return WORKLOAD_BAD_REQUEST;
	report_prefix_push("net-echo");
	if (!vw_find(VIRTIO_ID_NET, "net", &found)) {
		found.ring_wanted = e.ring;
		run(&e, &found, pairs, qsize, vw_mode(args));
		vio_reset(&e.net.vio);
	}
	report_prefix_pop();
	return report_summary();
}
