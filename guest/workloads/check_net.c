// SPDX-License-Identifier: MIT
/*
 * vuvm-check's net scenarios: what a virtio-net device must accept of a
 * driver's descriptor layouts on both queues, what it may write, what its
 * received headers and used lengths must say, how it behaves without
 * receive buffers, with mergeable receive buffers and with two queue
 * pairs (the checks are in guest/check/catalogue.def).
 *
 * The device must echo: every frame sent comes back, either unchanged (a
 * loopback such as vuvm-backend net) or with its two MAC addresses
 * swapped (DPDK testpmd's macswap); either is accepted, frame by frame.
 * Each frame carries its sequence number and size after the EtherType,
 * then a pattern of both, so a frame that comes back is known whole or
 * not. Every buffer sits between 64-byte canaries; transmit buffers are
 * compared with a copy after completion; the descriptor tables and the
 * indirect tables of both queues with snapshots taken before the kick.
 */
#include <stdio.h>
#include <string.h>

#include "check/chain.h"
#include "check/check.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/net.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "workloads/check_scenarios.h"
#include "workloads/virtio_common.h"

#define QSIZE	   64
#define WRAP_QSIZE 64
#define WRAP_N	   70000u
#define IND_MAX	   20
#define MAX_SEGS   20
#define HDR	   ((uint32_t)sizeof(struct virtio_net_hdr_v1))
#define ETH_MIN	   60
#define ETH_MAX	   1514
#define RXBUF	   (HDR + ETH_MAX) /* what a driver without MRG_RXBUF posts */
#define BIG_FRAME  4000		   /* largest frame sent (an MTU above 1500) */
#define ARENA	   (320 * 1024)
#define MRG_BUFS   QSIZE
#define GRACE_NS   50000000ull /* how long "nothing happens" is watched */

enum layout { DIRECT, INDIRECT, MIXED };

/* One chain: a transmit frame or a receive buffer. */
struct nbuf {
	struct virtq_buf b[MAX_SEGS];
	uint8_t *p[MAX_SEGS];
	unsigned int n;
	uint32_t total;
	uint32_t used_len;
	unsigned int qi; /* the queue it was added to */
};

/* How one chain is cut and laid out. */
struct shape {
	uint32_t len[MAX_SEGS];
	unsigned int n;
	enum layout l;
	unsigned int after; /* MIXED: ring descriptors before the indirect */
};

/* The checks every exchange feeds. */
struct feeds {
	struct check_acc txw, desc, bounds, bound, txlen, rxlen, nb, flags, gso,
		txc;
};

struct cnet {
	struct net_dev net;
	uint64_t stall_ns;
	struct chain_arena arena;
	uint8_t *lin, *saved, *snap;
	uint32_t seq;
	char broken[VIO_ERROR_LEN];
	struct feeds f;
	/* The used rings' flags, watched while waiting. */
	bool flags_bad;
	char flags_got[CHECK_TEXT];
	struct nbuf pool[2 * QSIZE];
};

static const uint8_t mac_a[6] = { 0x02, 0x76, 0x75, 0x63, 0x6b, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0x76, 0x75, 0x63, 0x6b, 0x02 };

/* --- Frames -----------------------------------------------------------------
 */

static uint8_t fpat(uint32_t seq, uint32_t k)
{
	return (uint8_t)(seq * 151 + k * 13 + (k >> 8) + (seq >> 8));
}

/* Frame @seq of @size bytes at @f. */
static void frame_build(uint8_t *f, uint32_t size, uint32_t seq)
{
	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x88; /* 0x88b5: IEEE local experimental */
	f[13] = 0xb5;
	memcpy(f + 14, &seq, 4);
	f[18] = (uint8_t)size;
	f[19] = (uint8_t)(size >> 8);
	for (uint32_t k = 20; k < size; k++)
		f[k] = fpat(seq, k);
}

/* Whether the @len bytes at @f are a whole frame as sent, MACs swapped or
 * not; its sequence number in *@seq (when it has one). */
static bool frame_whole(const uint8_t *f, uint32_t len, uint32_t *seq)
{
	uint32_t size;

	*seq = ~0u;
	if (len < 20 || f[12] != 0x88 || f[13] != 0xb5)
		return false;
	memcpy(seq, f + 14, 4);
	size = f[18] | (uint32_t)f[19] << 8;
	if (size != len)
		return false;
	if (!(!memcmp(f, mac_b, 6) && !memcmp(f + 6, mac_a, 6)) &&
	    !(!memcmp(f, mac_a, 6) && !memcmp(f + 6, mac_b, 6)))
		return false;
	for (uint32_t k = 20; k < size; k++)
		if (f[k] != fpat(*seq, k))
			return false;
	return true;
}

/* --- Chains -----------------------------------------------------------------
 */

/* @n lengths adding up to @total, cut at odd places. */
static void cut(struct shape *s, uint32_t total, unsigned int n, uint32_t seed)
{
	uint32_t left = total, x = (seed * 2654435761u + n) | 1;

	s->n = n;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t room = left - (n - 1 - i), len = left;

		if (i + 1 < n) {
			uint32_t cap =
				2 * total / n < room ? 2 * total / n : room;

			len = 1 + vw_rand(&x) % (cap ? cap : 1);
		}
		s->len[i] = len;
		left -= len;
	}
}

static struct shape one_seg(uint32_t len, enum layout l)
{
	struct shape s = { .n = 1, .l = l };

	s.len[0] = len;
	return s;
}

/* Places @s's segments in the arena; 0 or -1 (no room). */
static int place(struct cnet *c, struct nbuf *b, const struct shape *s)
{
	memset(b, 0, sizeof(*b));
	for (unsigned int i = 0; i < s->n; i++) {
		uint8_t *p = chain_place(&c->arena, s->len[i]);

		if (!p)
			return -1;
		b->b[i] = (struct virtq_buf){ dma_addr(p), s->len[i] };
		b->p[i] = p;
		b->total += s->len[i];
	}
	b->n = s->n;
	return 0;
}

static void scatter(struct nbuf *b, const uint8_t *src)
{
	for (unsigned int i = 0; i < b->n; src += b->b[i].len, i++)
		memcpy(b->p[i], src, b->b[i].len);
}

static uint32_t gather(const struct nbuf *b, uint8_t *dst, uint32_t len)
{
	uint32_t off = 0;

	for (unsigned int i = 0; i < b->n && off < len; i++) {
		uint32_t k = b->b[i].len < len - off ? b->b[i].len : len - off;

		memcpy(dst + off, b->p[i], k);
		off += k;
	}
	return off;
}

static bool intact(const struct nbuf *b)
{
	for (unsigned int i = 0; i < b->n; i++)
		if (!chain_intact(b->p[i], b->b[i].len))
			return false;
	return true;
}

/* Builds a transmit chain for frame @seq of @size bytes shaped @s (whose
 * lengths add up to HDR + @size). */
static int build_tx(struct cnet *c, struct nbuf *t, uint32_t size, uint32_t seq,
		    const struct shape *s)
{
	if (place(c, t, s))
		return -1;
	memset(c->lin, 0, HDR);
	frame_build(c->lin + HDR, size, seq);
	scatter(t, c->lin);
	return 0;
}

static int build_rx(struct cnet *c, struct nbuf *r, const struct shape *s)
{
	if (place(c, r, s))
		return -1;
	for (unsigned int i = 0; i < r->n; i++)
		memset(r->p[i], 0x5a, r->b[i].len);
	return 0;
}

/* --- Queues -----------------------------------------------------------------
 */

static void set_layout(struct virtq *vq, enum layout l, unsigned int after)
{
	vq->indirect_threshold = l == DIRECT ? 0 : 1;
	vq->indirect_after = l == MIXED ? after : 0;
}

static int add(struct cnet *c, struct nbuf *b, unsigned int qi, enum layout l,
	       unsigned int after)
{
	struct virtq *vq = &c->net.vq[qi];
	bool tx = qi % 2;
	int ret;

	b->qi = qi;
	b->used_len = ~0u;
	set_layout(vq, l, after);
	ret = virtq_add(vq, b->b, tx ? b->n : 0, tx ? 0 : b->n, b);
	set_layout(vq, DIRECT, 0);
	if (ret)
		snprintf(c->broken, sizeof(c->broken),
			 "the driver could not add a chain to queue %u (%d)",
			 qi, ret);
	return ret;
}

static uint16_t pending(const struct cnet *c, unsigned int qi)
{
	const struct virtq *vq = &c->net.vq[qi];

	return (uint16_t)(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) -
			  vq->last_used);
}

static void watch_flags(struct cnet *c)
{
	bool evidx = vio_has(&c->net.vio, VIRTIO_F_EVENT_IDX);

	if (c->flags_bad)
		return;
	for (unsigned int qi = 0; qi < 2 * c->net.npairs; qi++) {
		uint16_t f = __atomic_load_n(&c->net.vq[qi].used->flags,
					     __ATOMIC_RELAXED);

		if (evidx ? f != 0 : f > VIRTQ_USED_F_NO_NOTIFY) {
			c->flags_bad = true;
			snprintf(c->flags_got, sizeof(c->flags_got),
				 "flags 0x%x on queue %u", f, qi);
		}
	}
}

/* Waits until queue @qi has @n used entries pending, at most @limit ns;
 * 0, or -1 (with c->broken only when the device needs a reset). */
static int await(struct cnet *c, unsigned int qi, unsigned int n,
		 uint64_t limit)
{
	uint64_t start = time_ns(), now;

	vio_watch(&c->net.vio, start, true);
	while (pending(c, qi) < n) {
		now = time_ns();
		watch_flags(c);
		if (now - start > limit)
			return -1;
		if (vio_watch(&c->net.vio, now, false)) {
			snprintf(c->broken, sizeof(c->broken), "%s",
				 c->net.vio.error);
			return -1;
		}
	}
	watch_flags(c);
	return 0;
}

/* Busy-waits @ns, watching the flags. */
static void idle(struct cnet *c, uint64_t ns)
{
	uint64_t end = time_ns() + ns;

	while (time_ns() < end)
		watch_flags(c);
}

/* Takes the next used entry of @qi; its length is judged before the
 * driver sees it (which breaks the queue on a length past the chain). */
static struct nbuf *take(struct cnet *c, unsigned int qi)
{
	struct virtq *vq = &c->net.vq[qi];
	struct virtq_used_elem *e = &vq->used->ring[vq->last_used % vq->num];
	uint32_t id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	uint32_t len = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
	struct virtq_head *h = id < vq->num ? &vq->heads[id] : NULL;
	void *tok;

	if (h && h->token && qi % 2)
		check_expect(&c->f.txlen, len == 0,
			     "used length 0 for a transmit chain",
			     "used length %u for a %u-byte frame", len,
			     ((struct nbuf *)h->token)->total - HDR);
	else if (h && h->token)
		check_expect(&c->f.bound, len <= h->in_len,
			     "a used length within the writable bytes",
			     "%u for a receive chain of %u bytes", len,
			     h->in_len);
	if (virtq_get_used(vq, &tok, &len) != 1) {
		snprintf(c->broken, sizeof(c->broken), "queue %u: %s", qi,
			 virtq_error(vq));
		return NULL;
	}
	((struct nbuf *)tok)->used_len = len;
	return tok;
}

/* Snapshots of both queues' descriptor tables and of the indirect tables
 * of @t's and @r's chains. */
struct snaps {
	struct virtq_desc *ind[2];
	uint32_t nind[2];
};

static void snap_take(struct cnet *c, unsigned int pair, struct snaps *s)
{
	size_t tsz = QSIZE * sizeof(struct virtq_desc);
	uint8_t *p = c->snap;

	for (unsigned int k = 0; k < 2; k++) {
		struct virtq *vq = &c->net.vq[2 * pair + k];
		uint16_t head =
			vq->avail
				->ring[(uint16_t)(vq->avail_idx - 1) % vq->num];

		memcpy(p, vq->desc, vq->num * sizeof(struct virtq_desc));
		s->ind[k] = chain_indirect(vq, head, &s->nind[k]);
		memcpy(p + tsz, s->ind[k] ? s->ind[k] : vq->desc,
		       s->nind[k] * sizeof(struct virtq_desc));
		p += tsz + IND_MAX * sizeof(struct virtq_desc);
	}
}

static bool snap_same(struct cnet *c, unsigned int pair, const struct snaps *s)
{
	size_t tsz = QSIZE * sizeof(struct virtq_desc);
	uint8_t *p = c->snap;

	for (unsigned int k = 0; k < 2; k++) {
		struct virtq *vq = &c->net.vq[2 * pair + k];

		if (memcmp(p, vq->desc, vq->num * sizeof(struct virtq_desc)) ||
		    (s->ind[k] && memcmp(p + tsz, s->ind[k],
					 s->nind[k] * sizeof(*s->ind[k]))))
			return false;
		p += tsz + IND_MAX * sizeof(struct virtq_desc);
	}
	return true;
}

/* What a received buffer says, for the checks on headers. */
static void judge_hdr(struct cnet *c, const struct virtio_net_hdr_v1 *h)
{
	bool mrg = vio_has(&c->net.vio, VIRTIO_NET_F_MRG_RXBUF);

	if (!mrg)
		check_expect(&c->f.nb, h->num_buffers == 1, "num_buffers 1",
			     "num_buffers %u", h->num_buffers);
	if (!vio_has(&c->net.vio, VIRTIO_NET_F_GUEST_CSUM))
		check_expect(&c->f.flags, h->flags == 0, "flags 0",
			     "flags 0x%x", h->flags);
	check_expect(&c->f.gso, h->gso_type == VIRTIO_NET_HDR_GSO_NONE,
		     "gso_type GSO_NONE", "gso_type %u", h->gso_type);
}

/* --- One frame there and back
 * -------------------------------------------------
 */

/*
 * Sends one frame of @size bytes on pair 0 shaped @ts, into a receive
 * buffer shaped @rs, and judges it: its case of @a is the frame back
 * whole; everything else goes to c->f.
 */
static void xchg(struct cnet *c, struct check_acc *a, uint32_t size,
		 const struct shape *ts, const struct shape *rs)
{
	struct nbuf t, r, *got;
	struct snaps sn;
	uint32_t seq = c->seq++, back;

	if (c->broken[0]) {
		check_expect(a, false, "the device to keep serving", "%s",
			     c->broken);
		return;
	}
	chain_reset(&c->arena);
	if (build_tx(c, &t, size, seq, ts) || build_rx(c, &r, rs)) {
		check_expect(a, false, "the buffers built", "no room");
		return;
	}
	memcpy(c->saved, c->lin, HDR + size);
	if (add(c, &r, NET_RXQ(0), rs->l, rs->after) ||
	    add(c, &t, NET_TXQ(0), ts->l, ts->after)) {
		check_expect(a, false, "the chains added", "%s", c->broken);
		return;
	}
	snap_take(c, 0, &sn);
	net_kick(&c->net, NET_RXQ(0));
	net_kick(&c->net, NET_TXQ(0));
	if (await(c, NET_TXQ(0), 1, c->stall_ns)) {
		if (!c->broken[0])
			snprintf(
				c->broken, sizeof(c->broken),
				"a %u-byte frame's transmit chain (%u "
				"descriptors) was not completed within %llu s",
				size, ts->n,
				(unsigned long long)(c->stall_ns / 1000000000));
		check_expect(&c->f.txc, false, "every transmit chain completed",
			     "%s", c->broken);
		check_expect(a, false, "the frame back", "%s", c->broken);
		return;
	}
	if (await(c, NET_RXQ(0), 1, c->stall_ns)) {
		if (!c->broken[0])
			snprintf(
				c->broken, sizeof(c->broken),
				"a %u-byte frame (transmit %u descriptors, "
				"receive %u) did not come back within %llu s",
				size, ts->n, rs->n,
				(unsigned long long)(c->stall_ns / 1000000000));
		check_expect(a, false, "the frame back", "%s", c->broken);
		return;
	}
	check_expect(&c->f.desc, snap_same(c, 0, &sn),
		     "the descriptor and indirect tables as the driver wrote "
		     "them",
		     "they changed while the device held a %u-byte frame",
		     size);
	got = take(c, NET_TXQ(0));
	check_expect(&c->f.txc, got == &t, "the transmit chain completed once",
		     "%s", got ? "another chain completed" : c->broken);
	got = take(c, NET_RXQ(0));
	if (got != &r) {
		check_expect(a, false, "the frame back", "%s",
			     got ? "another buffer used" : c->broken);
		return;
	}
	/* Nothing more may come: one frame was sent. */
	check_expect(&c->f.txc, !pending(c, NET_TXQ(0)),
		     "each transmit chain completed once",
		     "a used entry more on the transmit queue");
	check_expect(&c->f.txw,
		     intact(&t) && gather(&t, c->lin, t.total) &&
			     !memcmp(c->lin, c->saved, t.total),
		     "transmit buffers unchanged",
		     "a %u-byte frame's transmit buffer (%u descriptors) was "
		     "written",
		     size, t.n);
	check_expect(&c->f.bounds, intact(&r) && intact(&t),
		     "the 64 bytes around every buffer untouched",
		     "a canary next to a %u-descriptor receive buffer was "
		     "overwritten",
		     r.n);
	check_expect(&c->f.rxlen, r.used_len == HDR + size,
		     "used length = 12-byte header + frame",
		     "%u for a %u-byte frame in a %u-byte buffer", r.used_len,
		     size, r.total);
	back = gather(&r, c->lin, r.total);
	if (back < HDR) {
		check_expect(a, false, "the frame back", "%u bytes", back);
		return;
	}
	judge_hdr(c, (const struct virtio_net_hdr_v1 *)c->lin);
	check_expect(a, frame_whole(c->lin + HDR, size, &seq),
		     "the frame back whole",
		     "a %u-byte frame (transmit %u descriptors, receive %u) "
		     "came back different",
		     size, ts->n, rs->n);
}

/* Transmit: header alone, then the frame in @n pieces. */
static struct shape tx_cut(uint32_t size, unsigned int n, enum layout l,
			   uint32_t seed)
{
	struct shape s = { .l = l };

	if (n <= 1)
		return one_seg(HDR + size, l);
	cut(&s, size, n - 1, seed);
	memmove(s.len + 1, s.len, (n - 1) * sizeof(s.len[0]));
	s.len[0] = HDR;
	s.n = n;
	return s;
}

static struct shape rx_cut(uint32_t total, unsigned int n, enum layout l,
			   uint32_t seed)
{
	struct shape s = { .l = l };

	cut(&s, total, n, seed);
	return s;
}

/* --- net-layout
 * ---------------------------------------------------------------
 */

static void check_config(struct cnet *c, struct check_acc *mac,
			 struct check_acc *mq, struct check_acc *mtu)
{
	struct vio_dev *v = &c->net.vio;
	uint8_t m2[6];
	uint16_t pairs, u;

	if (vio_has(v, VIRTIO_NET_F_MAC)) {
		static const uint8_t zero[6];

		vio_config_read(v, 0, m2, 6);
		check_expect(mac, !(c->net.mac[0] & 1), "a unicast address",
			     "first byte 0x%02x (group bit set)",
			     c->net.mac[0]);
		check_expect(mac, memcmp(c->net.mac, zero, 6),
			     "an address other than 0", "00:00:00:00:00:00");
		check_expect(mac, !memcmp(c->net.mac, m2, 6),
			     "the same address on a second read", "it changed");
	} else {
		check_skip_reason(mac, "MAC not offered");
	}
	if (v->offered & VIRTIO_BIT(VIRTIO_NET_F_MQ)) {
		vio_config_read(v, 8, &pairs, 2);
		check_expect(mq, pairs >= 1 && pairs <= 0x8000,
			     "max_virtqueue_pairs 1..0x8000", "%u", pairs);
	} else {
		check_skip_reason(mq, "MQ not offered");
	}
	if (vio_has(v, VIRTIO_NET_F_MTU)) {
		vio_config_read(v, 10, &u, 2);
		if (check_expect(mtu, u >= 68, "mtu 68..65535", "%u", u)) {
			uint32_t size =
				u + 14u < BIG_FRAME ? u + 14u : BIG_FRAME;
			struct shape ts = one_seg(HDR + size, DIRECT);
			struct shape rs = one_seg(HDR + size, DIRECT);

			xchg(c, mtu, size, &ts, &rs);
		}
	} else {
		check_skip_reason(mtu, "MTU not offered");
	}
}

static void check_status(struct cnet *c, struct check_acc *a)
{
	uint16_t st, allowed = VIRTIO_NET_S_LINK_UP;

	if (!vio_has(&c->net.vio, VIRTIO_NET_F_STATUS)) {
		check_skip_reason(a, "STATUS not offered");
		return;
	}
	if (vio_has(&c->net.vio, VIRTIO_NET_F_GUEST_ANNOUNCE))
		allowed |= VIRTIO_NET_S_ANNOUNCE;
	vio_config_read(&c->net.vio, 6, &st, 2);
	check_expect(a, !(st & ~allowed), "no status bit but LINK_UP",
		     "status 0x%04x", st);
	check_expect(a, st & VIRTIO_NET_S_LINK_UP, "LINK_UP while frames flow",
		     "status 0x%04x", st);
}

static void layout_cases(struct cnet *c, struct check_acc *acc)
{
	struct check_acc *hsplit = &acc[0], *tsegs = &acc[1], *rsegs = &acc[2],
			 *rhsplit = &acc[3], *tind = &acc[4], *rind = &acc[5],
			 *exact = &acc[6];
	bool ind = vio_has(&c->net.vio, VIRTIO_F_INDIRECT_DESC);
	struct shape ts, rs = one_seg(RXBUF, DIRECT);

	/* The first transmit descriptor ends at every byte 1..40. */
	for (uint32_t k = 1; k <= 40 && !hsplit->failed; k++) {
		uint32_t size = k % 2 ? 100 : 61;

		ts = (struct shape){ .n = 2, .l = DIRECT };
		ts.len[0] = k;
		ts.len[1] = HDR + size - k;
		xchg(c, hsplit, size, &ts, &rs);
	}
	for (unsigned int n = 2; n <= 16 && !tsegs->failed; n++) {
		ts = tx_cut(300 + 37 * n, n, DIRECT, n);
		xchg(c, tsegs, 300 + 37 * n, &ts, &rs);
	}
	ts = one_seg(HDR + 1000, DIRECT);
	for (unsigned int n = 2; n <= 16 && !rsegs->failed; n++) {
		struct shape r = rx_cut(RXBUF, n, DIRECT, 7 * n);

		ts = one_seg(HDR + 1000 + n, DIRECT);
		xchg(c, rsegs, 1000 + n, &ts, &r);
	}
	ts = one_seg(HDR + 200, DIRECT);
	for (uint32_t k = 1; k <= 40 && !rhsplit->failed; k++) {
		struct shape r = { .n = 2, .l = DIRECT };

		r.len[0] = k;
		r.len[1] = RXBUF - k;
		xchg(c, rhsplit, 200, &ts, &r);
	}
	if (!ind) {
		check_skip_reason(tind, "INDIRECT_DESC not offered");
		check_skip_reason(rind, "INDIRECT_DESC not offered");
	}
	for (unsigned int n = 1; ind && n <= 16 && !tind->failed; n++) {
		ts = tx_cut(200 + 51 * n, n, INDIRECT, 3 * n);
		xchg(c, tind, 200 + 51 * n, &ts, &rs);
	}
	for (unsigned int n = 1; ind && n <= 16 && !rind->failed; n++) {
		struct shape r = rx_cut(RXBUF, n, INDIRECT, 5 * n);

		ts = one_seg(HDR + 700 + n, DIRECT);
		xchg(c, rind, 700 + n, &ts, &r);
	}
	/* Receive buffers exactly as large as header and frame. */
	for (unsigned int i = 0; i < 6 && !exact->failed; i++) {
		static const uint32_t sizes[] = {
			60, 61, 333, 1000, 1513, 1514
		};
		struct shape r = rx_cut(HDR + sizes[i], 1 + i % 3, DIRECT, i);

		ts = one_seg(HDR + sizes[i], DIRECT);
		xchg(c, exact, sizes[i], &ts, &r);
	}
}

static void report_feeds(struct cnet *c)
{
	struct feeds *f = &c->f;
	struct check_acc fl = { 0 };

	check_done(CK_NET_NO_WRITE_TX, &f->txw);
	check_done(CK_NET_NO_WRITE_DESC, &f->desc);
	check_done(CK_NET_WRITE_BOUNDS, &f->bounds);
	check_done(CK_NET_LEN_BOUND, &f->bound);
	check_done(CK_NET_TX_LEN, &f->txlen);
	check_done(CK_NET_RX_LEN, &f->rxlen);
	if (vio_has(&c->net.vio, VIRTIO_NET_F_MRG_RXBUF))
		check_skip(CK_NET_NUM_BUFFERS, "MRG_RXBUF negotiated");
	else
		check_done(CK_NET_NUM_BUFFERS, &f->nb);
	check_done(CK_NET_HDR_FLAGS, &f->flags);
	check_done(CK_NET_HDR_GSO, &f->gso);
	check_done(CK_NET_TX_COMPLETE, &f->txc);
	check_expect(&fl, !c->flags_bad, "used flags 0", "%s", c->flags_got);
	if (vio_has(&c->net.vio, VIRTIO_F_EVENT_IDX))
		check_done(CK_NET_USED_FLAGS_EVIDX, &fl);
	else
		check_skip(CK_NET_USED_FLAGS_EVIDX, "EVENT_IDX not offered");
}

/* --- net-mixed-chain ---------------------------------------------------------
 */

static void check_mixed(struct cnet *c)
{
	struct check_acc a = { 0 };

	if (!vio_has(&c->net.vio, VIRTIO_F_INDIRECT_DESC)) {
		check_skip(CK_NET_MIXED, "INDIRECT_DESC not offered");
		return;
	}
	for (unsigned int d = 1; d <= 3 && !a.failed; d++)
		for (unsigned int n = d + 1; n <= d + 4 && !a.failed; n++) {
			struct shape ts = tx_cut(400 + n, n, MIXED, n);
			struct shape rs = rx_cut(RXBUF, n, MIXED, 9 * n);

			ts.after = d;
			rs.after = d;
			xchg(c, &a, 400 + n, &ts, &rs);
		}
	/* What the device wrote, not what its headers say (other checks). */
	{
		struct check_acc *f[] = { &c->f.txw, &c->f.desc, &c->f.bounds,
					  &c->f.bound, &c->f.txc };

		for (unsigned int i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			if (f[i]->failed)
				check_expect(&a, false, f[i]->expected, "%s",
					     f[i]->got);
	}
	check_done(CK_NET_MIXED, &a);
}

/* --- net-traffic
 * --------------------------------------------------------------
 */

static void check_sizes(struct cnet *c)
{
	struct check_acc a = { 0 };
	struct shape rs = one_seg(RXBUF, DIRECT);

	for (uint32_t size = ETH_MIN; size <= ETH_MAX && !a.failed; size++) {
		struct shape ts = size % 2 ? one_seg(HDR + size, DIRECT)
					   : tx_cut(size, 2, DIRECT, size);

		xchg(c, &a, size, &ts, &rs);
	}
	check_done(CK_NET_SIZES, &a);
}

/* Judges received buffer @r as a case of @a: empty, or one whole frame
 * (its num_buffers is net/5.1.6.4/2's matter). Returns its sequence
 * number, or ~0 when empty/bad. */
static uint32_t rx_whole(struct cnet *c, struct check_acc *a,
			 const struct nbuf *r)
{
	const struct virtio_net_hdr_v1 *h = (const void *)c->lin;
	uint32_t seq = ~0u;

	if (!r->used_len)
		return ~0u; /* dropped into it: allowed */
	gather(r, c->lin, r->used_len);
	check_expect(a,
		     r->used_len > HDR &&
			     frame_whole(c->lin + HDR, r->used_len - HDR, &seq),
		     "an empty buffer or one whole frame",
		     "%u bytes in a %u-byte buffer, num_buffers %u, not a "
		     "whole frame",
		     r->used_len, r->total, h->num_buffers);
	return seq;
}

/* Sends frame @seq of @size on pair @pair, one descriptor, from @t. */
static int send(struct cnet *c, struct nbuf *t, unsigned int pair,
		uint32_t size, uint32_t seq)
{
	struct shape s = one_seg(HDR + size, DIRECT);

	if (build_tx(c, t, size, seq, &s))
		return -1;
	return add(c, t, NET_TXQ(pair), DIRECT, 0);
}

static int post(struct cnet *c, struct nbuf *r, unsigned int pair, uint32_t len)
{
	struct shape s = one_seg(len, DIRECT);

	if (build_rx(c, r, &s))
		return -1;
	return add(c, r, NET_RXQ(pair), DIRECT, 0);
}

/* Takes every transmit completion there is. */
static void reap_tx(struct cnet *c, unsigned int pair, unsigned int *done)
{
	while (!c->broken[0] && pending(c, NET_TXQ(pair)) &&
	       take(c, NET_TXQ(pair)))
		(*done)++;
}

/* Uses up the receive buffers still posted on pair 0 with 60-byte frames
 * (a device may hold frames for them, or have dropped them). */
static void drain_rx(struct cnet *c, struct check_acc *a)
{
	struct nbuf *t = &c->pool[2 * QSIZE - 1], *r;
	unsigned int tx = 0;

	for (unsigned int i = 0;
	     i < QSIZE && c->net.vq[NET_RXQ(0)].in_flight && !c->broken[0];
	     i++) {
		/* Every frame sent so far completed (or held for these
		 * buffers: then it arrives first), then one more. */
		await(c, NET_TXQ(0), c->net.vq[NET_TXQ(0)].in_flight,
		      c->stall_ns);
		reap_tx(c, 0, &tx);
		if (!c->net.vq[NET_TXQ(0)].in_flight) {
			if (send(c, t, 0, 60, c->seq++))
				break;
			net_kick(&c->net, NET_TXQ(0));
		}
		if (await(c, NET_RXQ(0), 1, c->stall_ns)) {
			check_expect(a, false, "the left receive buffers used",
				     "%u still posted",
				     c->net.vq[NET_RXQ(0)].in_flight);
			break;
		}
		r = take(c, NET_RXQ(0));
		if (!r)
			break;
		rx_whole(c, a, r);
	}
	await(c, NET_TXQ(0), c->net.vq[NET_TXQ(0)].in_flight, c->stall_ns);
	reap_tx(c, 0, &tx);
	chain_reset(&c->arena);
}

static void check_rx_single(struct cnet *c)
{
	struct check_acc a = { 0 };
	struct nbuf *r = c->pool, *t = c->pool + QSIZE, *got;
	unsigned int tx = 0, want, seen = 0;
	uint32_t first = c->seq, seq;
	uint64_t end;

	chain_reset(&c->arena);
	for (unsigned int i = 0; i < 4; i++)
		post(c, &r[i], 0, HDR + 100);
	net_kick(&c->net, NET_RXQ(0));
	send(c, &t[0], 0, 400, c->seq++);
	net_kick(&c->net, NET_TXQ(0));
	/* Dropped or held: either way no piece of it in a small buffer. */
	end = time_ns() + 4 * GRACE_NS;
	while (time_ns() < end && !c->broken[0]) {
		watch_flags(c);
		reap_tx(c, 0, &tx);
		if (pending(c, NET_RXQ(0)) && (got = take(c, NET_RXQ(0))))
			rx_whole(c, &a, got);
	}
	for (unsigned int i = 4; i < 8; i++)
		post(c, &r[i], 0, RXBUF);
	net_kick(&c->net, NET_RXQ(0));
	for (unsigned int i = 1; i < 5; i++)
		send(c, &t[i], 0, 60 + 7 * i, c->seq++);
	net_kick(&c->net, NET_TXQ(0));
	want = 0xf << 1;
	while (!c->broken[0] && (seen & want) != want &&
	       !await(c, NET_RXQ(0), 1, c->stall_ns)) {
		got = take(c, NET_RXQ(0));
		if (!got)
			break;
		seq = rx_whole(c, &a, got);
		if (seq - first < 5)
			seen |= 1u << (seq - first);
	}
	check_expect(&a, (seen & want) == want,
		     "60..88-byte frames sent after it come back", "%s",
		     c->broken[0] ? c->broken : "they did not");
	drain_rx(c, &a);
	check_done(CK_NET_RX_SINGLE, &a);
}

static void check_no_rx_buffers(struct cnet *c)
{
	struct check_acc a = { 0 };
	struct nbuf *r = c->pool, *t = c->pool + QSIZE, *got;
	uint8_t *old = c->saved;
	unsigned int tx = 0, seen = 0, back = 0;
	uint32_t first, seq;
	uint16_t rx0;

	/* Four frames received into buffers the driver then keeps. */
	chain_reset(&c->arena);
	for (unsigned int i = 0; i < 4; i++)
		post(c, &r[i], 0, RXBUF);
	net_kick(&c->net, NET_RXQ(0));
	for (unsigned int i = 0; i < 4; i++)
		send(c, &t[i], 0, 500 + i, c->seq++);
	net_kick(&c->net, NET_TXQ(0));
	if (await(c, NET_RXQ(0), 4, c->stall_ns)) {
		check_expect(&a, false, "four frames back", "%s",
			     c->broken[0] ? c->broken : "they were not");
		goto out;
	}
	for (unsigned int i = 0; i < 4; i++)
		if (!take(c, NET_RXQ(0)))
			goto out;
	await(c, NET_TXQ(0), 4, c->stall_ns);
	reap_tx(c, 0, &tx);
	for (unsigned int i = 0; i < 4; i++)
		memcpy(old + i * RXBUF, r[i].p[0], RXBUF);
	/* Eight frames with no receive buffer posted. */
	first = c->seq;
	rx0 = c->net.vq[NET_RXQ(0)].used->idx;
	for (unsigned int i = 0; i < 8; i++)
		send(c, &t[4 + i], 0, 100 + 50 * i, c->seq++);
	net_kick(&c->net, NET_TXQ(0));
	idle(c, 2 * GRACE_NS);
	reap_tx(c, 0, &tx);
	check_expect(&a, c->net.vq[NET_RXQ(0)].used->idx == rx0,
		     "no used receive entry without a buffer",
		     "the receive used index moved by %u",
		     (uint16_t)(c->net.vq[NET_RXQ(0)].used->idx - rx0));
	for (unsigned int i = 0; i < 4; i++)
		check_expect(&a, !memcmp(old + i * RXBUF, r[i].p[0], RXBUF),
			     "buffers already returned left alone",
			     "returned receive buffer %u of 4 was written", i);
	/* Buffers again, and four more frames: those must come back. */
	for (unsigned int i = 4; i < 20; i++)
		post(c, &r[i], 0, RXBUF);
	net_kick(&c->net, NET_RXQ(0));
	for (unsigned int i = 0; i < 4; i++)
		send(c, &t[12 + i], 0, 900 + i, c->seq++);
	net_kick(&c->net, NET_TXQ(0));
	while (!c->broken[0] && (seen >> 8) != 0xf &&
	       !await(c, NET_RXQ(0), 1, c->stall_ns)) {
		got = take(c, NET_RXQ(0));
		if (!got)
			break;
		seq = rx_whole(c, &a, got);
		back++;
		check_expect(
			&a, seq - first < 12 && !(seen >> (seq - first) & 1),
			"frames that were sent, each once",
			"sequence %u (sent %u..%u)", seq, first, first + 11);
		if (seq - first < 12)
			seen |= 1u << (seq - first);
	}
	check_expect(&a, (seen >> 8) == 0xf,
		     "the frames sent after buffers were posted back",
		     "%u frames back: %s", back,
		     c->broken[0] ? c->broken : "not those");
	if (await(c, NET_TXQ(0), c->net.vq[NET_TXQ(0)].in_flight,
		  c->stall_ns) == 0)
		reap_tx(c, 0, &tx);
	check_expect(&a, tx == 16, "every transmit chain completed", "%u of 16",
		     tx);
	drain_rx(c, &a);
out:
	check_done(CK_NET_NO_RX_BUFFERS, &a);
}

static void check_spurious(struct cnet *c)
{
	struct check_acc a = { 0 };
	struct shape rs = one_seg(RXBUF, DIRECT), ts;

	for (unsigned int round = 0; round < 2; round++) {
		uint16_t rx0 = c->net.vq[NET_RXQ(0)].used->idx,
			 tx0 = c->net.vq[NET_TXQ(0)].used->idx;

		for (unsigned int i = 0; i < 16; i++) {
			vio_notify(&c->net.vio, NET_RXQ(0));
			vio_notify(&c->net.vio, NET_TXQ(0));
		}
		idle(c, GRACE_NS);
		check_expect(&a,
			     c->net.vq[NET_RXQ(0)].used->idx == rx0 &&
				     c->net.vq[NET_TXQ(0)].used->idx == tx0,
			     "no used entry after kicks with nothing new",
			     "receive used index +%u, transmit +%u",
			     (uint16_t)(c->net.vq[NET_RXQ(0)].used->idx - rx0),
			     (uint16_t)(c->net.vq[NET_TXQ(0)].used->idx - tx0));
		if (a.failed)
			break;
		ts = one_seg(HDR + 128 + round, DIRECT);
		xchg(c, &a, 128 + round, &ts, &rs);
	}
	check_done(CK_NET_SPURIOUS, &a);
}

static void check_in_flight(struct cnet *c)
{
	static bool seen[QSIZE];
	struct check_acc a = { 0 };
	bool ind = vio_has(&c->net.vio, VIRTIO_F_INDIRECT_DESC);
	struct nbuf *r = c->pool, *t = c->pool + QSIZE, *got;
	unsigned int n = c->net.vq[NET_RXQ(0)].num, rx = 0, tx = 0;
	uint32_t first = c->seq, seq;
	uint64_t last;

	memset(seen, 0, sizeof(seen));
	chain_reset(&c->arena);
	for (unsigned int i = 0; i < n; i++)
		if (post(c, &r[i], 0, RXBUF))
			break;
	for (unsigned int i = 0; i < n && !c->broken[0]; i++) {
		uint32_t size = 60 + 23 * i;
		struct shape s = ind && i % 2 ? tx_cut(size, 2, INDIRECT, i)
					      : one_seg(HDR + size, DIRECT);

		if (build_tx(c, &t[i], size, c->seq++, &s) ||
		    add(c, &t[i], NET_TXQ(0), s.l, 0))
			break;
	}
	net_kick(&c->net, NET_RXQ(0));
	net_kick(&c->net, NET_TXQ(0));
	last = time_ns();
	while (!c->broken[0] && (rx < n || tx < n)) {
		bool progress = false;

		while (pending(c, NET_TXQ(0)) && take(c, NET_TXQ(0))) {
			tx++;
			progress = true;
		}
		while (pending(c, NET_RXQ(0)) && (got = take(c, NET_RXQ(0)))) {
			rx++;
			progress = true;
			seq = rx_whole(c, &a, got);
			check_expect(&a, seq - first < n && !seen[seq - first],
				     "each frame back once",
				     "sequence %u (sent %u..%u)", seq, first,
				     first + n - 1);
			if (seq - first < n)
				seen[seq - first] = true;
		}
		watch_flags(c);
		if (progress)
			last = time_ns();
		else if (time_ns() - last > c->stall_ns)
			break;
	}
	check_expect(&a, rx == n && tx == n,
		     "a full queue of frames back and of transmit chains "
		     "completed after one kick each",
		     "%u frames back and %u chains completed of %u%s%s", rx, tx,
		     n, c->broken[0] ? ": " : "", c->broken);
	chain_reset(&c->arena);
	check_done(CK_NET_IN_FLIGHT, &a);
}

/* --- net-wrap
 * -----------------------------------------------------------------
 */

static void check_wrap(struct cnet *c)
{
	struct check_acc a = { 0 };
	struct nbuf *r = c->pool, *t = c->pool + QSIZE, *got;
	unsigned int q = c->net.vq[NET_RXQ(0)].num, done = 0;
	uint64_t t0 = time_ns();
	uint32_t seq;

	for (unsigned int i = 0; i < q; i++) {
		struct shape s = one_seg(HDR + 60, DIRECT);

		build_rx(c, &r[i], &s);
		build_tx(c, &t[i], 60, 0, &s);
	}
	while (done < WRAP_N && !c->broken[0] && !a.failed) {
		for (unsigned int i = 0; i < q; i++) {
			frame_build(t[i].p[0] + HDR, 60, c->seq++);
			if (add(c, &r[i], NET_RXQ(0), DIRECT, 0) ||
			    add(c, &t[i], NET_TXQ(0), DIRECT, 0))
				break;
		}
		/* One kick a round: the receive buffers are published
		 * first, and the transmit kick makes the device pump. */
		virtq_kick_prepare(&c->net.vq[NET_RXQ(0)]);
		net_kick(&c->net, NET_TXQ(0));
		if (await(c, NET_RXQ(0), q, c->stall_ns) ||
		    await(c, NET_TXQ(0), q, c->stall_ns)) {
			check_expect(
				&a, false, "70000 frames back",
				"%u frames back, then none for %llu s%s%s",
				done,
				(unsigned long long)(c->stall_ns / 1000000000),
				c->broken[0] ? ": " : "", c->broken);
			break;
		}
		for (unsigned int i = 0; i < q && !c->broken[0]; i++) {
			take(c, NET_TXQ(0));
			got = take(c, NET_RXQ(0));
			if (!got)
				break;
			gather(got, c->lin, got->used_len);
			check_expect(
				&a,
				got->used_len == HDR + 60 &&
					frame_whole(c->lin + HDR, 60, &seq),
				"each frame back whole", "frame %u: %u bytes",
				done + i, got->used_len);
		}
		done += q;
	}
	report_info("%u frames in %llu ms", done,
		    (unsigned long long)((time_ns() - t0) / 1000000));
	check_expect(&a, done >= WRAP_N, "70000 frames back", "%u: %s", done,
		     c->broken);
	check_done(CK_NET_WRAP, &a);
}

/* --- net-mrg
 * ------------------------------------------------------------------
 */

struct mrg {
	struct check_acc nb, full, together, len;
};

static int mrg_post(struct cnet *c, struct nbuf *r)
{
	for (unsigned int i = 0; i < r->n; i++)
		memset(r->p[i], 0x5a, r->b[i].len);
	return add(c, r, NET_RXQ(0), DIRECT, 0);
}

/* One frame of @size bytes into the posted small buffers. */
static void mrg_one(struct cnet *c, struct mrg *m, uint32_t size)
{
	struct nbuf *t = &c->pool[2 * QSIZE - 1], *got;
	const struct virtio_net_hdr_v1 *h = (const void *)c->lin;
	uint32_t need = HDR + size, have = 0, seq, nb = 0;
	unsigned int k = 0, tx = 0;
	uint16_t visible;
	uint8_t *tb = c->saved;

	/* The transmit buffer lives outside the arena of posted buffers. */
	t->n = 1;
	t->p[0] = tb + CHAIN_GUARD;
	t->b[0] = (struct virtq_buf){ dma_addr(t->p[0]), need };
	t->total = need;
	memset(t->p[0], 0, HDR);
	frame_build(t->p[0] + HDR, size, c->seq++);
	if (add(c, t, NET_TXQ(0), DIRECT, 0))
		return;
	net_kick(&c->net, NET_TXQ(0));
	if (await(c, NET_RXQ(0), 1, c->stall_ns)) {
		check_expect(&m->len, false, "the frame back",
			     "a %u-byte "
			     "frame: %s",
			     size,
			     c->broken[0] ? c->broken : "not within the stall");
		snprintf(c->broken, sizeof(c->broken),
			 "a %u-byte frame did not come back", size);
		return;
	}
	visible = pending(c, NET_RXQ(0));
	while (have < need && !c->broken[0]) {
		if (k && await(c, NET_RXQ(0), 1, c->stall_ns)) {
			check_expect(&m->len, false, "the whole frame",
				     "%u of %u bytes in %u buffers", have, need,
				     k);
			snprintf(c->broken, sizeof(c->broken),
				 "a frame stopped after %u buffers", k);
			break;
		}
		got = take(c, NET_RXQ(0));
		if (!got)
			break;
		gather(got, c->lin + have,
		       got->used_len < 2 * BIG_FRAME - have
			       ? got->used_len
			       : 2 * BIG_FRAME - have);
		if (!k)
			nb = h->num_buffers;
		k++;
		if (have + got->used_len < need)
			check_expect(&m->full, got->used_len == got->total,
				     "every buffer but a frame's last filled",
				     "buffer %u of a %u-byte frame: %u of %u "
				     "bytes",
				     k, size, got->used_len, got->total);
		have += got->used_len;
		if (!got->used_len)
			break;
		mrg_post(c, got);
	}
	net_kick(&c->net, NET_RXQ(0));
	if (c->broken[0])
		return;
	check_expect(&m->nb, nb == k, "num_buffers = the buffers used",
		     "num_buffers %u for a %u-byte frame in %u buffers", nb,
		     size, k);
	check_expect(&m->together, visible >= k,
		     "all of a frame's buffers used at once",
		     "%u of %u visible when the first was", visible, k);
	check_expect(
		&m->len, have == need && frame_whole(c->lin + HDR, size, &seq),
		"header + frame over the buffers, whole",
		"%u bytes for a %u-byte frame in %u buffers", have, size, k);
	judge_hdr(c, h);
	await(c, NET_TXQ(0), 1, c->stall_ns);
	reap_tx(c, 0, &tx);
}

static void check_mrg(struct cnet *c)
{
	static const uint32_t sizes[] = { 60,	61,   100,  200, 255,  256,
					  319,	320,  500,  777, 1000, 1200,
					  1400, 1500, 1513, 1514 };
	struct mrg m = { 0 };
	struct nbuf *r = c->pool;

	if (!vio_has(&c->net.vio, VIRTIO_NET_F_MRG_RXBUF)) {
		check_skip(CK_NET_MRG_NUM_BUFFERS, "MRG_RXBUF not offered");
		check_skip(CK_NET_MRG_FULL, "MRG_RXBUF not offered");
		check_skip(CK_NET_MRG_TOGETHER, "MRG_RXBUF not offered");
		check_skip(CK_NET_MRG_LEN, "MRG_RXBUF not offered");
		return;
	}
	chain_reset(&c->arena);
	for (unsigned int i = 0; i < c->net.vq[NET_RXQ(0)].num; i++) {
		struct shape s = one_seg(67 + (i * 97) % 265, DIRECT);

		if (place(c, &r[i], &s) || mrg_post(c, &r[i]))
			break;
	}
	net_kick(&c->net, NET_RXQ(0));
	for (unsigned int i = 0;
	     i < 2 * sizeof(sizes) / sizeof(sizes[0]) && !c->broken[0]; i++)
		mrg_one(c, &m, sizes[i % (sizeof(sizes) / sizeof(sizes[0]))]);
	for (uint32_t size = ETH_MIN; size <= ETH_MAX && !c->broken[0];
	     size += 29)
		mrg_one(c, &m, size);
	check_done(CK_NET_MRG_NUM_BUFFERS, &m.nb);
	check_done(CK_NET_MRG_FULL, &m.full);
	check_done(CK_NET_MRG_TOGETHER, &m.together);
	check_done(CK_NET_MRG_LEN, &m.len);
}

/* --- net-mq
 * -------------------------------------------------------------------
 */

/* Sends @n frames on pair @from with buffers posted on both pairs;
 * counts where they came back. */
static void mq_round(struct cnet *c, struct check_acc *a, unsigned int from,
		     unsigned int n, unsigned int *on)
{
	struct nbuf *r = c->pool, *t = c->pool + QSIZE, *got;
	unsigned int back = 0, tx = 0;
	uint64_t end;

	chain_reset(&c->arena);
	for (unsigned int p = 0; p < 2; p++) {
		for (unsigned int i = 0; i < n; i++)
			post(c, &r[p * n + i], p, RXBUF);
		net_kick(&c->net, NET_RXQ(p));
	}
	for (unsigned int i = 0; i < n; i++)
		send(c, &t[i], from, 100 + i, c->seq++);
	net_kick(&c->net, NET_TXQ(from));
	end = time_ns() + c->stall_ns;
	while (back < n && time_ns() < end && !c->broken[0]) {
		watch_flags(c);
		for (unsigned int p = 0; p < 2; p++)
			while (pending(c, NET_RXQ(p)) &&
			       (got = take(c, NET_RXQ(p)))) {
				rx_whole(c, a, got);
				on[p]++;
				back++;
			}
		reap_tx(c, from, &tx);
	}
	check_expect(a, back == n, "the frames back", "%u of %u%s%s", back, n,
		     c->broken[0] ? ": " : "", c->broken);
	/* The other queue's buffers: let a late frame show, then leave. */
	idle(c, GRACE_NS);
	for (unsigned int p = 0; p < 2; p++)
		while (pending(c, NET_RXQ(p)) && (got = take(c, NET_RXQ(p)))) {
			rx_whole(c, a, got);
			on[p]++;
		}
}

static int pairs_set(struct cnet *c, uint16_t pairs)
{
	struct virtio_net_ctrl_mq mq = { pairs };

	return net_ctrl(&c->net, VIRTIO_NET_CTRL_MQ,
			VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &mq, sizeof(mq));
}

static void check_mq(struct cnet *c)
{
	struct check_acc ack = { 0 }, unk = { 0 }, lim = { 0 }, steer = { 0 };
	unsigned int on[2] = { 0, 0 };
	uint8_t junk = 1;
	int ret;

	if (!c->net.has_ctrl) {
		check_skip(CK_NET_CTRL_ACK, "CTRL_VQ not offered");
		check_skip(CK_NET_CTRL_UNKNOWN, "CTRL_VQ not offered");
	} else {
		ret = pairs_set(c, (uint16_t)c->net.npairs);
		check_expect(&ack, ret == VIRTIO_NET_OK,
			     "VQ_PAIRS_SET max_virtqueue_pairs answered OK",
			     "%d%s%s", ret,
			     ret == 0xff ? " (ack not written)" : "",
			     ret < 0 ? c->net.vio.error : "");
		ret = net_ctrl(&c->net, 0x7e, 1, &junk, 1);
		check_expect(&unk, ret == VIRTIO_NET_ERR,
			     "class 0x7e answered ERR", "%d%s%s", ret,
			     ret == 0xff ? " (ack not written)" : "",
			     ret < 0 ? c->net.vio.error : "");
	}
	if (c->net.npairs < 2 || !c->net.has_ctrl) {
		check_skip_reason(&lim, "fewer than two queue pairs offered");
		check_skip_reason(&steer, "fewer than two queue pairs offered");
		goto out;
	}
	mq_round(c, &steer, 1, 8, on);
	check_expect(&steer, on[1] == 8 && !on[0],
		     "frames sent on pair 2 back on pair 2",
		     "%u on pair 1, %u on pair 2", on[0], on[1]);
	ret = pairs_set(c, 1);
	check_expect(&ack, ret == VIRTIO_NET_OK, "VQ_PAIRS_SET 1 answered OK",
		     "%d", ret);
	on[0] = on[1] = 0;
	mq_round(c, &lim, 0, 8, on);
	check_expect(&lim, !on[1], "no frame on the second receive queue",
		     "%u there, %u on the first", on[1], on[0]);
out:
	if (c->net.has_ctrl) {
		check_done(CK_NET_CTRL_ACK, &ack);
		check_done(CK_NET_CTRL_UNKNOWN, &unk);
	}
	check_done(CK_NET_MQ_LIMIT, &lim);
	check_done(CK_NET_MQ_STEER, &steer);
}

/* --- The scenarios
 * ------------------------------------------------------------
 */

static struct cnet *start(const char *args, unsigned int pairs,
			  unsigned int qsize, uint64_t features)
{
	static struct cnet c;
	struct vio_dev found;
	int err;

	c.stall_ns = vw_stall(args);
	if (!c.stall_ns || vw_find(VIRTIO_ID_NET, "net", &found))
		return NULL;
	c.arena = (struct chain_arena){ dma_alloc(ARENA, 64), ARENA, 0 };
	c.lin = dma_alloc(2 * BIG_FRAME, 64);
	c.saved = dma_alloc(8 * RXBUF + 2 * CHAIN_GUARD, 64);
	c.snap = dma_alloc(2 * (QSIZE + IND_MAX) * sizeof(struct virtq_desc),
			   64);
	if (!c.arena.base || !c.lin || !c.saved || !c.snap) {
		report(false, "net: no memory for the buffers");
		return NULL;
	}
	c.seq = 1;
	err = net_open_with(&c.net, &found, pairs, qsize, features, IND_MAX);
	if (err) {
		report(false, "net: cannot start the device: %s",
		       c.net.vio.error);
		return NULL;
	}
	return &c;
}

static uint64_t base_features(void)
{
	return VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |
	       VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
	       VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
	       VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
}

static int finish(struct cnet *c)
{
	if (c)
		vio_reset(&c->net.vio);
	return report_summary();
}

int check_net_layout(const char *args)
{
	struct cnet *c = start(args, 1, QSIZE,
			       base_features() | VIRTIO_BIT(VIRTIO_NET_F_MTU));
	struct check_acc acc[7] = { 0 }, mac = { 0 }, mq = { 0 }, mtu = { 0 },
			 st = { 0 };

	if (!c)
		return finish(c);
	check_config(c, &mac, &mq, &mtu);
	layout_cases(c, acc);
	check_status(c, &st);
	check_done(CK_NET_TX_HDR_SPLIT, &acc[0]);
	check_done(CK_NET_TX_SEGS, &acc[1]);
	check_done(CK_NET_RX_SEGS, &acc[2]);
	check_done(CK_NET_RX_HDR_SPLIT, &acc[3]);
	if (acc[6].failed)
		check_expect(&c->f.bound, false, acc[6].expected, "%s",
			     acc[6].got);
	check_done(CK_NET_TX_INDIRECT, &acc[4]);
	check_done(CK_NET_RX_INDIRECT, &acc[5]);
	report_feeds(c);
	check_done(CK_NET_CFG_MAC, &mac);
	check_done(CK_NET_CFG_STATUS, &st);
	check_done(CK_NET_CFG_MQ, &mq);
	check_done(CK_NET_CFG_MTU, &mtu);
	return finish(c);
}

int check_net_mixed(const char *args)
{
	struct cnet *c = start(args, 1, QSIZE, base_features());

	if (c)
		check_mixed(c);
	return finish(c);
}

int check_net_traffic(const char *args)
{
	struct cnet *c =
		start(args, 1, QSIZE,
		      base_features() & ~VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	struct check_acc fl = { 0 };

	if (!c)
		return finish(c);
	check_spurious(c);
	check_sizes(c);
	check_in_flight(c);
	check_no_rx_buffers(c);
	check_rx_single(c);
	check_expect(&fl, !c->flags_bad, "used flags 0 or NO_NOTIFY", "%s",
		     c->flags_got);
	check_done(CK_NET_USED_FLAGS, &fl);
	return finish(c);
}

int check_net_wrap(const char *args)
{
	struct cnet *c = start(args, 1, WRAP_QSIZE, base_features());

	if (c)
		check_wrap(c);
	return finish(c);
}

int check_net_mrg(const char *args)
{
	struct cnet *c =
		start(args, 1, QSIZE,
		      base_features() | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));

	if (c)
		check_mrg(c);
	return finish(c);
}

int check_net_mq(const char *args)
{
	struct cnet *c = start(args, 2, QSIZE,
			       base_features() | VIRTIO_BIT(VIRTIO_NET_F_MQ) |
				       VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ));

	if (c)
		check_mq(c);
	return finish(c);
}
