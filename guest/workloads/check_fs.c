// SPDX-License-Identifier: MIT
/*
 * vuvm-check's fs scenarios: what a virtio-fs device must accept of a
 * driver's descriptor layouts, what it may write, and what its FUSE
 * replies must say (the checks are in guest/check/catalogue.def).
 *
 * Every request is a FUSE request prepared by the guest's FUSE client
 * (fuse_prep, virtio/fuse.h) and then laid out here, descriptor by
 * descriptor: the device-readable stream (in-header, arguments, WRITE
 * data) and the device-writable stream (out-header, fixed reply, READ
 * data) are each cut into pieces at places the check chooses, every
 * piece between 64-byte canaries at an odd address (check/chain.h). The
 * writable pieces are filled with the driver's own pattern first, so
 * that the bytes a used length claims can be shown to have been written.
 * When the request completes, the writable pieces are gathered back into
 * the request (out-header, reply, data) and every request is judged on
 * the ring rules (readable pieces unchanged, canaries intact, the used
 * length within the chain, written, and equal to out.len) and on the
 * framing every FUSE reply shares (unique, out.len, errno, no body with
 * an error). The scenario then judges what the reply says.
 *
 * A used length beyond the chain's writable bytes is judged, then
 * clamped in the used ring before the driver takes the entry (the driver
 * would otherwise refuse it and break the queue, and every later check
 * would fail with it).
 */
#include <stdio.h>
#include <string.h>

#include "check/chain.h"
#include "check/check.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "virtio/fs.h"
#include "virtio/fuse.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_mmio.h"
#include "workloads/check_scenarios.h"
#include "workloads/fs_common.h"
#include "workloads/virtio_common.h"

#define QSIZE	 64
#define IND_MAX	 16
#define MAX_BUFS 24
#define BIG	 (64 * 1024) /* the largest READ or WRITE */
#define ARENA      \
	(4 * BIG + \
	 64 * 1024)	  /* the pieces of one request, or of a full queue */
#define FSZ	(3 * BIG) /* the layout scenario's file */
#define STRETCH 8	  /* surviving pattern bytes that prove "not written" */
#define HDR	((uint32_t)sizeof(struct fuse_in_header))
#define OHDR	((uint32_t)sizeof(struct fuse_out_header))
#define HIPRIO	0
#define NR_FS	(CK_FS_MQ_EACH - CK_FS_TAG + 1)
#define NAMES	37 /* directory entries of the listing checks */

/* The INIT flags the driver offers (fuse_init's). */
#define INIT_ASKED                                            \
	(FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_MAX_PAGES | \
	 FUSE_ATOMIC_O_TRUNC | FUSE_DO_READDIRPLUS | FUSE_PARALLEL_DIROPS)

/* One request as laid out on the ring. */
struct shot {
	struct fs_req *r; /* the FUSE request (fuse_prep) */
	uint32_t rsz[MAX_BUFS], wsz[MAX_BUFS];
	unsigned int nr, nw; /* readable and writable pieces (0: default) */
	bool indirect;
	/* Filled by place(). */
	struct virtq_buf bufs[2 * MAX_BUFS];
	uint8_t *ptr[2 * MAX_BUFS];
	uint32_t wtotal, seed;
	bool done;
};

struct cfs {
	struct fs_dev fs;
	struct fuse_conn c;
	uint64_t stall_ns;
	struct chain_arena arena;
	uint8_t *snap;
	uint32_t seed;
	char broken[VIO_ERROR_LEN];
	struct check_acc *acc; /* NR_FS, from CK_FS_TAG on */
	uint32_t minor;	       /* the session's: min(ours, the device's) */
	uint32_t max_write;
	uint64_t dir;	   /* the scenario's own directory */
	uint8_t *shadow;   /* what the data file should hold */
	uint8_t *buf;	   /* BIG bytes for READ data */
	uint8_t *wbuf;	   /* BIG bytes of WRITE data */
	struct fs_req *rq; /* QSIZE requests for batches */
	struct shot *shots;
	uint64_t file, file_fh, file_size; /* fs-requests' data file */
};

static struct check_acc *A(struct cfs *c, enum check_id id)
{
	return &c->acc[id - CK_FS_TAG];
}

_Static_assert(NR_FS == 32, "the fs checks are consecutive in the catalogue");

/* --- Laying a request out --------------------------------------------------
 */

/* @n sizes, each at least 1, adding up to @total, cut at odd places. */
static void cut(uint32_t *sz, unsigned int n, uint32_t total, uint32_t seed)
{
	uint32_t left = total, x = (total * 2654435761u + n + seed) | 1;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t room = left - (n - 1 - i), len = left;

		if (i + 1 < n) {
			uint32_t cap =
				2 * total / n < room ? 2 * total / n : room;

			len = 1 + vw_rand(&x) % (cap ? cap : 1);
		}
		sz[i] = len;
		left -= len;
	}
}

/* The byte at @pos of the request's readable stream. */
static uint8_t rbyte(const struct fs_req *r, uint32_t pos)
{
	return pos < r->in_len ? r->in[pos]
			       : ((const uint8_t *)r->wdata)[pos - r->in_len];
}

/* Where byte @pos of the writable stream goes back to. */
static uint8_t *wdest(struct fs_req *r, uint32_t pos)
{
	if (pos < OHDR)
		return (uint8_t *)&r->out + pos;
	pos -= OHDR;
	if (pos < r->reply_len)
		return r->reply + pos;
	return (uint8_t *)r->rdata + (pos - r->reply_len);
}

static uint8_t pattern_next(uint32_t *s)
{
	return (uint8_t)(vw_rand(s) >> 11);
}

/* Places @s's pieces in the arena; 0 or -1 with c->broken said. */
static int place(struct cfs *c, struct shot *s)
{
	struct fs_req *r = s->r;
	uint32_t rtotal = r->in_len + r->wlen, pos = 0, ps;
	unsigned int k = 0;

	s->wtotal = OHDR + r->reply_len + r->rlen;
	if (!s->nr) {
		s->rsz[s->nr++] = r->in_len;
		if (r->wlen)
			s->rsz[s->nr++] = r->wlen;
	}
	if (!s->nw) {
		s->wsz[s->nw++] = OHDR;
		if (r->reply_len)
			s->wsz[s->nw++] = r->reply_len;
		if (r->rlen)
			s->wsz[s->nw++] = r->rlen;
	}
	if (r->reply_len + r->rlen == 0 && s->nw == 1 && s->wsz[0] == OHDR &&
	    (fs_req_hdr(r)->opcode == FUSE_FORGET ||
	     fs_req_hdr(r)->opcode == FUSE_BATCH_FORGET)) {
		s->nw = 0; /* no reply: nothing writable */
		s->wtotal = 0;
	}
	for (unsigned int i = 0; i < s->nr; i++, k++) {
		uint8_t *p = chain_place(&c->arena, s->rsz[i]);

		if (!p)
			goto full;
		for (uint32_t j = 0; j < s->rsz[i]; j++)
			p[j] = rbyte(r, pos++);
		s->bufs[k] = (struct virtq_buf){ dma_addr(p), s->rsz[i] };
		s->ptr[k] = p;
	}
	if (pos != rtotal)
		goto bad;
	c->seed = c->seed * 1103515245u + 12345u;
	s->seed = c->seed | 1;
	ps = s->seed;
	pos = 0;
	for (unsigned int i = 0; i < s->nw; i++, k++) {
		uint8_t *p = chain_place(&c->arena, s->wsz[i]);

		if (!p)
			goto full;
		for (uint32_t j = 0; j < s->wsz[i]; j++)
			p[j] = pattern_next(&ps);
		pos += s->wsz[i];
		s->bufs[k] = (struct virtq_buf){ dma_addr(p), s->wsz[i] };
		s->ptr[k] = p;
	}
	if (pos != s->wtotal)
		goto bad;
	s->done = false;
	return 0;
full:
	snprintf(c->broken, sizeof(c->broken), "no room for the buffers");
	return -1;
bad:
	snprintf(c->broken, sizeof(c->broken),
		 "a layout that does not add up (driver bug)");
	return -1;
}

static int add(struct cfs *c, unsigned int q, struct shot *s)
{
	struct virtq *vq = &c->fs.vq[q];
	int ret;

	if (place(c, s))
		return -1;
	vq->indirect_threshold = s->indirect ? 1 : 0;
	ret = virtq_add(vq, s->bufs, s->nr, s->nw, s);
	vq->indirect_threshold = 0;
	if (ret)
		snprintf(c->broken, sizeof(c->broken),
			 "the driver could not add a request (%d)", ret);
	return ret;
}

/* --- Judging what came back ------------------------------------------------
 */

/* The body a successful reply to @opcode has: [*min, *max] bytes. */
static void body_range(const struct cfs *c, const struct fs_req *r,
		       uint32_t *min, uint32_t *max)
{
	const struct fuse_read_in *rd = (const void *)(r->in + HDR);

	switch (((const struct fuse_in_header *)r->in)->opcode) {
	case FUSE_LOOKUP:
	case FUSE_MKDIR:
		*min = *max = sizeof(struct fuse_entry_out);
		return;
	case FUSE_GETATTR:
	case FUSE_SETATTR:
		*min = *max = sizeof(struct fuse_attr_out);
		return;
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		*min = *max = sizeof(struct fuse_open_out);
		return;
	case FUSE_CREATE:
		*min = *max = sizeof(struct fuse_entry_out) +
			      sizeof(struct fuse_open_out);
		return;
	case FUSE_WRITE:
		*min = *max = sizeof(struct fuse_write_out);
		return;
	case FUSE_STATFS:
		*min = *max = sizeof(struct fuse_kstatfs);
		return;
	case FUSE_INIT: /* judged by fuse/INIT/1 */
		*min = 8;
		*max = sizeof(struct fuse_init_out);
		return;
	case FUSE_READ:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		*min = 0;
		*max = rd->size;
		return;
	default:
		*min = *max = 0;
	}
	(void)c;
}

/* The used element about to be taken on @vq: its length judged, and
 * clamped to the chain (see the top of the file). */
static void judge_used(struct cfs *c, struct virtq *vq)
{
	struct virtq_used_elem *e = &vq->used->ring[vq->last_used % vq->num];
	uint32_t id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	uint32_t len = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
	struct virtq_head *h = id < vq->num ? &vq->heads[id] : NULL;

	if (!h || !h->token)
		return; /* the driver refuses it */
	if (!check_expect(A(c, CK_FS_LEN_BOUND), len <= h->in_len,
			  "a used length within the writable bytes",
			  "%u for a chain of %u writable bytes", len,
			  h->in_len)) {
		((struct shot *)h->token)->r->used_len = len;
		e->len = h->in_len;
	} else {
		((struct shot *)h->token)->r->used_len = len;
	}
}

/* The used length as the device gave it (before any clamping). */
static uint32_t reported(const struct shot *s)
{
	return s->r->used_len;
}

/* Ring rules and reply framing for @s, which just completed. */
static void judge(struct cfs *c, struct shot *s)
{
	struct fs_req *r = s->r;
	const struct fuse_in_header *in = fs_req_hdr(r);
	uint32_t used = reported(s), pos = 0, ps = s->seed, run = 0;
	uint32_t len = used < s->wtotal ? used : s->wtotal, min, max;
	unsigned int k;
	bool readable_ok = true, survived = false;
	const char *op = fuse_op_name(in->opcode);

	for (k = 0; k < s->nr; k++) {
		for (uint32_t j = 0; j < s->rsz[k]; j++)
			readable_ok &= s->ptr[k][j] == rbyte(r, pos++);
		check_expect(A(c, CK_FS_WRITE_BOUNDS),
			     chain_intact(s->ptr[k], s->rsz[k]),
			     "the 64 bytes around every buffer untouched",
			     "%s: canary next to readable buffer %u of %u "
			     "overwritten",
			     op, k + 1, s->nr);
	}
	check_expect(A(c, CK_FS_NO_WRITE_READABLE), readable_ok,
		     "the readable buffers as the driver wrote them",
		     "%s (unique %llu): changed while the device held them", op,
		     (unsigned long long)in->unique);
	/* Gather the writable stream back into the request. */
	pos = 0;
	for (unsigned int i = 0; i < s->nw; i++, k++) {
		for (uint32_t j = 0; j < s->wsz[i]; j++, pos++) {
			bool same = s->ptr[k][j] == pattern_next(&ps);

			if (pos < len) {
				run = same ? run + 1 : 0;
				survived |= run >= STRETCH;
			}
			*wdest(r, pos) = s->ptr[k][j];
		}
		check_expect(A(c, CK_FS_WRITE_BOUNDS),
			     chain_intact(s->ptr[k], s->wsz[i]),
			     "the 64 bytes around every buffer untouched",
			     "%s: canary next to writable buffer %u of %u "
			     "(%u bytes) overwritten",
			     op, i + 1, s->nw, s->wsz[i]);
	}
	if (!s->wtotal) { /* FORGET: judged by its own check */
		r->out = (struct fuse_out_header){ 0 };
		return;
	}
	check_expect(A(c, CK_FS_LEN_WRITTEN), !survived,
		     "every byte the used length covers written",
		     "%s: %u bytes of the driver's pattern in a row inside "
		     "used length %u (out.len %u)",
		     op, STRETCH, used, r->out.len);
	if (used < OHDR) {
		check_expect(A(c, CK_FS_OUT_LEN), false,
			     "at least an out-header written",
			     "%s: used length %u", op, used);
		return;
	}
	check_expect(A(c, CK_FS_UNIQUE), r->out.unique == in->unique,
		     "the reply's unique equal to the request's",
		     "%s: %llu for request %llu", op,
		     (unsigned long long)r->out.unique,
		     (unsigned long long)in->unique);
	check_expect(A(c, CK_FS_USED_LEN_EXACT), used == r->out.len,
		     "used length = out.len", "%s: used length %u, out.len %u",
		     op, used, r->out.len);
	if (r->out.error) {
		check_expect(A(c, CK_FS_ERRNO),
			     r->out.error < 0 &&
				     r->out.error >= -FUSE_MAX_ERRNO,
			     "an error from -1 to -4095", "%s: error %d", op,
			     r->out.error);
		check_expect(A(c, CK_FS_ERROR_BODY), r->out.len == OHDR,
			     "out.len 16 with an error",
			     "%s: error %d with out.len %u", op, r->out.error,
			     r->out.len);
		return;
	}
	body_range(c, r, &min, &max);
	check_expect(A(c, CK_FS_OUT_LEN),
		     r->out.len >= OHDR + min && r->out.len <= OHDR + max &&
			     r->out.len <= s->wtotal,
		     "out.len = 16 + the opcode's body, within the chain",
		     "%s: out.len %u, body of %u..%u expected, %u writable "
		     "bytes",
		     op, r->out.len, min, max, s->wtotal);
}

/* --- Running requests ------------------------------------------------------
 */

static uint16_t used_idx(const struct virtq *vq)
{
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
}

/* Waits until @n used entries are pending on queue @q, at most @ns
 * without progress; 0, or -1 with c->broken said. */
static int await_ns(struct cfs *c, unsigned int q, unsigned int n, uint64_t ns)
{
	struct virtq *vq = &c->fs.vq[q];
	uint64_t last = time_ns(), now;
	uint16_t seen = used_idx(vq);

	vio_watch(&c->fs.vio, last, true);
	while ((uint16_t)(used_idx(vq) - vq->last_used) < n) {
		now = time_ns();
		if (used_idx(vq) != seen) {
			seen = used_idx(vq);
			last = now;
		}
		if (now - last > ns) {
			snprintf(c->broken, sizeof(c->broken),
				 "%u of %u requests on queue %u did not "
				 "complete within %llu ms",
				 n - (uint16_t)(seen - vq->last_used), n, q,
				 (unsigned long long)(ns / 1000000));
			return -1;
		}
		if (vio_watch(&c->fs.vio, now, now == last)) {
			snprintf(c->broken, sizeof(c->broken), "%s",
				 c->fs.vio.error);
			return -1;
		}
	}
	return 0;
}

/* Takes the next used entry of queue @q and judges it. */
static struct shot *take(struct cfs *c, unsigned int q)
{
	struct virtq *vq = &c->fs.vq[q];
	struct shot *s;
	void *tok;
	uint32_t len;

	judge_used(c, vq);
	if (virtq_get_used(vq, &tok, &len) != 1) {
		snprintf(c->broken, sizeof(c->broken), "queue %u: %s", q,
			 virtq_error(vq));
		return NULL;
	}
	s = tok;
	s->done = true;
	judge(c, s);
	return s;
}

/*
 * Runs @s alone on queue @q: places it, snapshots the descriptor table and
 * its indirect table, kicks, waits, judges. 0, or -1 with c->broken said
 * (the queue is then unusable: the request may still be in flight).
 */
static int run(struct cfs *c, unsigned int q, struct shot *s)
{
	struct virtq *vq = &c->fs.vq[q];
	size_t tsize = vq->num * sizeof(struct virtq_desc);
	struct virtq_desc *table;
	uint32_t nt;
	uint16_t head;

	if (c->broken[0])
		return -1;
	chain_reset(&c->arena);
	if (add(c, q, s))
		return -1;
	head = vq->avail->ring[(uint16_t)(vq->avail_idx - 1) % vq->num];
	memcpy(c->snap, vq->desc, tsize);
	table = chain_indirect(vq, head, &nt);
	memcpy(c->snap + tsize, table ? table : vq->desc, nt * sizeof(*table));
	vio_kick(&c->fs.vio, q, vq);
	if (await_ns(c, q, 1, c->stall_ns))
		return -1;
	check_expect(A(c, CK_FS_NO_WRITE_DESC),
		     !memcmp(c->snap, vq->desc, tsize) &&
			     (!table || !memcmp(c->snap + tsize, table,
						nt * sizeof(*table))),
		     "the descriptor and indirect tables as the driver wrote "
		     "them",
		     "they changed while the device held request %u", head);
	return take(c, q) == s ? 0 : -1;
}

/* Runs FUSE request @r on queue @q in the default layout (or @s's, when
 * given). The reply's error (0, or what the device said), or
 * FUSE_EDEVICE with c->broken said. */
static int call_on(struct cfs *c, unsigned int q, struct fs_req *r,
		   struct shot *s)
{
	struct shot own = { 0 };

	if (!s)
		s = &own;
	s->r = r;
	if (run(c, q, s))
		return FUSE_EDEVICE;
	if (r->used_len < OHDR)
		return FUSE_EBADREPLY;
	return r->out.error;
}

static int call(struct cfs *c, struct fs_req *r)
{
	return call_on(c, 1, r, NULL);
}

/* --- FUSE requests -----------------------------------------------------------
 */

static struct fs_req *req(struct cfs *c)
{
	return c->c.req;
}

static int do_lookup(struct cfs *c, uint64_t dir, const char *name,
		     struct fuse_entry_out *e)
{
	struct fs_req *r = req(c);
	int ret;

	fuse_prep(&c->c, r, FUSE_LOOKUP, dir, NULL, 0, name, NULL);
	ret = call(c, r);
	if (!ret)
		memcpy(e, r->reply, sizeof(*e));
	return ret;
}

static int do_getattr(struct cfs *c, uint64_t node, struct fuse_attr *a)
{
	struct fuse_getattr_in in = { 0 };
	struct fs_req *r = req(c);
	int ret;

	fuse_prep(&c->c, r, FUSE_GETATTR, node, &in, sizeof(in), NULL, NULL);
	ret = call(c, r);
	if (!ret)
		*a = ((struct fuse_attr_out *)r->reply)->attr;
	return ret;
}

static int do_mkdir(struct cfs *c, uint64_t dir, const char *name,
		    uint64_t *node)
{
	struct fuse_mkdir_in in = { .mode = 0755 };
	struct fs_req *r = req(c);
	int ret;

	fuse_prep(&c->c, r, FUSE_MKDIR, dir, &in, sizeof(in), name, NULL);
	ret = call(c, r);
	if (!ret)
		*node = ((struct fuse_entry_out *)r->reply)->nodeid;
	return ret;
}

static int do_create(struct cfs *c, uint64_t dir, const char *name,
		     uint64_t *node, uint64_t *fh)
{
	struct fuse_create_in in = { .flags = FUSE_O_RDWR | FUSE_O_CREAT,
				     .mode = FUSE_S_IFREG | 0644 };
	struct fs_req *r = req(c);
	int ret;

	fuse_prep(&c->c, r, FUSE_CREATE, dir, &in, sizeof(in), name, NULL);
	ret = call(c, r);
	if (!ret) {
		*node = ((struct fuse_entry_out *)r->reply)->nodeid;
		*fh = ((struct fuse_open_out *)(r->reply +
						sizeof(struct fuse_entry_out)))
			      ->fh;
	}
	return ret;
}

static int do_release(struct cfs *c, uint64_t node, uint64_t fh, bool dir)
{
	struct fuse_release_in in = { .fh = fh };

	fuse_prep(&c->c, req(c), dir ? FUSE_RELEASEDIR : FUSE_RELEASE, node,
		  &in, sizeof(in), NULL, NULL);
	return call(c, req(c));
}

static int do_truncate(struct cfs *c, uint64_t node, uint64_t size)
{
	struct fuse_setattr_in in = { .valid = FATTR_SIZE, .size = size };

	fuse_prep(&c->c, req(c), FUSE_SETATTR, node, &in, sizeof(in), NULL,
		  NULL);
	return call(c, req(c));
}

/* WRITE of @len bytes of @data at @off in layout @s (or the default);
 * the size the reply reports, or a negative code. Keeps the shadow. */
static int do_write(struct cfs *c, unsigned int q, uint64_t node, uint64_t fh,
		    uint64_t off, const uint8_t *data, uint32_t len,
		    struct shot *s)
{
	struct fs_req *r = req(c);
	int ret;

	fuse_prep_write(&c->c, r, node, fh, off, data, len);
	ret = call_on(c, q, r, s);
	if (ret)
		return ret < 0 ? ret : FUSE_EBADREPLY;
	if (c->shadow && off + len <= 2 * FSZ)
		memcpy(c->shadow + off, data, len);
	return (int)((struct fuse_write_out *)r->reply)->size;
}

/* READ of @len bytes at @off into c->buf in layout @s (or the default);
 * the bytes read, or a negative code. */
static int do_read(struct cfs *c, unsigned int q, uint64_t node, uint64_t fh,
		   uint64_t off, uint32_t len, struct shot *s)
{
	struct fs_req *r = req(c);
	int ret;

	fuse_prep_read(&c->c, r, node, fh, off, c->buf, len);
	ret = call_on(c, q, r, s);
	if (ret)
		return ret < 0 ? ret : FUSE_EBADREPLY;
	return (int)(r->out.len - OHDR);
}

/* Whether c->buf holds the file's @len bytes at @off; where not, *@at. */
static bool same_as_shadow(struct cfs *c, uint64_t off, uint32_t len,
			   uint32_t *at)
{
	for (uint32_t i = 0; i < len; i++)
		if (c->buf[i] != c->shadow[off + i]) {
			*at = i;
			return false;
		}
	return true;
}

static const char *why(struct cfs *c, int ret)
{
	static char s[64];

	if (ret == FUSE_EDEVICE)
		return c->broken;
	if (ret == FUSE_EBADREPLY)
		return "a reply shorter than an out-header";
	snprintf(s, sizeof(s), "error %d", ret);
	return s;
}

/* --- Starting ----------------------------------------------------------------
 */

static uint32_t queue_num_max(struct vio_dev *d, unsigned int q)
{
	*(volatile uint32_t *)(uintptr_t)(d->base + VIRTIO_MMIO_QUEUE_SEL) = q;
	return *(volatile uint32_t *)(uintptr_t)(d->base +
						 VIRTIO_MMIO_QUEUE_NUM_MAX);
}

/* The config space, judged (fs-layout only). */
static void judge_config(struct cfs *c)
{
	struct check_acc *t = A(c, CK_FS_TAG), *e = A(c, CK_FS_QUEUES_EXIST);
	const char *tag = c->fs.tag;
	unsigned int end = 0, nrq = c->fs.num_request_queues, q;

	while (end < VIRTIO_FS_TAG_SIZE && tag[end])
		end++;
	check_expect(t, end > 0, "a tag of at least one byte", "tag[0] is NUL");
	for (unsigned int i = end; i < VIRTIO_FS_TAG_SIZE; i++)
		if (!check_expect(t, !tag[i], "NUL bytes after the tag's end",
				  "byte %u is %#x after the NUL at %u", i,
				  (unsigned char)tag[i], end))
			break;
	check_expect(A(c, CK_FS_QUEUES_NONZERO), nrq >= 1,
		     "num_request_queues at least 1", "%u", nrq);
	for (q = 1; q <= nrq && q < VIO_MAX_QUEUES; q++)
		if (!check_expect(
			    e, queue_num_max(&c->fs.vio, q) > 0,
			    "a queue behind every request queue counted",
			    "num_request_queues %u, but queue %u (request "
			    "queue %u) does not exist",
			    nrq, q, q))
			break;
	if (!nrq)
		check_skip_reason(e, "num_request_queues is 0");
}

/* The device found and started with @nq request queues: INDIRECT_DESC
 * and EVENT_IDX asked for, QSIZE entries, indirect tables of IND_MAX. */
static int open_dev(struct cfs *c, const struct vio_dev *found, unsigned int nq,
		    bool layout)
{
	struct fs_dev *f = &c->fs;
	int err;

	memset(f, 0, sizeof(*f));
	f->vio = *found;
	err = vio_begin(&f->vio, VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
					 VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	if (!err)
		err = vio_config_read(&f->vio,
				      offsetof(struct virtio_fs_config, tag),
				      f->tag, VIRTIO_FS_TAG_SIZE);
	if (!err)
		err = vio_config_read(
			&f->vio,
			offsetof(struct virtio_fs_config, num_request_queues),
			&f->num_request_queues, sizeof(f->num_request_queues));
	if (err)
		return err;
	if (layout)
		judge_config(c);
	f->nq = nq;
	for (unsigned int q = 0; q <= nq && !err; q++) {
		err = vio_queue_setup(&f->vio, q, &f->vq[q], QSIZE, IND_MAX);
		virtq_disable_cb(&f->vq[q]);
		f->vq[q].indirect_threshold = 0;
	}
	return err ? err : vio_driver_ok(&f->vio);
}

/* INIT, judged when @judge_it (fs-layout). 0 or -1. */
static int init_session(struct cfs *c, bool judge_it)
{
	struct fuse_init_in in = { .major = FUSE_KERNEL_VERSION,
				   .minor = FUSE_KERNEL_MINOR_VERSION,
				   .max_readahead = BIG,
				   .flags = INIT_ASKED };
	struct fs_req *r = req(c);
	const struct fuse_init_out *o = (const void *)r->reply;
	uint32_t body, want;
	int ret;

	fuse_prep(&c->c, r, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL);
	memset(r->reply, 0, sizeof(r->reply));
	ret = call(c, r);
	if (ret) {
		report(false, "INIT: %s", why(c, ret));
		if (judge_it)
			check_expect(A(c, CK_FS_INIT_VERSION), false,
				     "INIT answered", "%s", why(c, ret));
		return -1;
	}
	body = r->out.len - OHDR;
	c->minor = o->minor < FUSE_KERNEL_MINOR_VERSION
			   ? o->minor
			   : FUSE_KERNEL_MINOR_VERSION;
	want = c->minor < 5 ? 8 : c->minor < 23 ? 24 : 64;
	c->c.init = *o;
	c->max_write = o->max_write < 4096 ? 4096 : o->max_write;
	if (c->max_write > BIG)
		c->max_write = BIG;
	c->c.readdirplus = o->flags & FUSE_DO_READDIRPLUS;
	report_info("INIT: %u.%u, max_write %u, flags %#x, max_pages %u",
		    o->major, o->minor, o->max_write, o->flags, o->max_pages);
	if (!judge_it)
		return 0;
	check_expect(A(c, CK_FS_INIT_VERSION),
		     o->major == FUSE_KERNEL_VERSION && o->minor >= 1,
		     "major 7, minor at least 1", "%u.%u", o->major, o->minor);
	check_expect(A(c, CK_FS_INIT_VERSION), body == want,
		     "a body as long as the minor version defines",
		     "%u bytes for minor %u (%u expected)", body, c->minor,
		     want);
	if (c->minor >= 5)
		check_expect(A(c, CK_FS_INIT_MAX_WRITE), o->max_write >= 4096,
			     "max_write at least 4096", "%u", o->max_write);
	else
		check_skip_reason(A(c, CK_FS_INIT_MAX_WRITE),
				  "no max_write before minor 5");
	check_expect(A(c, CK_FS_INIT_FLAGS), !(o->flags & ~INIT_ASKED),
		     "flags within those offered",
		     "%#x enabled, %#x offered: %#x extra", o->flags,
		     INIT_ASKED, o->flags & ~INIT_ASKED);
	return 0;
}

/* A directory of the scenario's own under the root. */
static int make_dir(struct cfs *c, const char *base)
{
	char name[48];
	int ret = -FUSE_EEXIST;

	for (unsigned int i = 0; i < 20 && ret == -FUSE_EEXIST; i++) {
		snprintf(name, sizeof(name), i ? "%s.%u" : "%s", base, i);
		ret = do_mkdir(c, FUSE_ROOT_ID, name, &c->dir);
	}
	if (ret)
		report(false, "MKDIR %s: %s", base, why(c, ret));
	return ret ? -1 : 0;
}

static struct cfs *start(const char *args, unsigned int nq, bool layout,
			 const char *dirname)
{
	static struct cfs c;
	struct vio_dev found;
	int err;

	memset(&c, 0, sizeof(c));
	c.stall_ns = vw_stall(args);
	if (!c.stall_ns || vw_find(VIRTIO_ID_FS, "fs", &found))
		return NULL;
	c.arena = (struct chain_arena){ dma_alloc(ARENA, 64), ARENA, 0 };
	c.snap = dma_alloc((QSIZE + IND_MAX) * sizeof(struct virtq_desc), 64);
	c.acc = dma_alloc(NR_FS * sizeof(*c.acc), 64);
	c.shadow = dma_alloc(2 * FSZ, 64);
	c.buf = dma_alloc(BIG, 64);
	c.wbuf = dma_alloc(BIG, 64);
	c.rq = dma_alloc(QSIZE * sizeof(*c.rq), 64);
	c.shots = dma_alloc(QSIZE * sizeof(*c.shots), 64);
	if (!c.arena.base || !c.snap || !c.acc || !c.shadow || !c.buf ||
	    !c.wbuf || !c.rq || !c.shots) {
		report(false, "fs: no memory for the buffers");
		return NULL;
	}
	memset(c.acc, 0, NR_FS * sizeof(*c.acc));
	memset(c.shadow, 0, 2 * FSZ);
	c.seed = 0x3c6ef372;
	err = open_dev(&c, &found, nq, layout);
	if (err) {
		report(false, "fs: cannot start the device: %s",
		       c.fs.vio.error);
		return NULL;
	}
	if (fuse_conn_init(&c.c, &c.fs, NULL, c.stall_ns)) {
		report(false, "fs: no memory for the FUSE session");
		return NULL;
	}
	if (!init_session(&c, layout))
		make_dir(&c, dirname);
	return &c;
}

/* Prints the verdicts of checks @first..@last. */
static void done_range(struct cfs *c, enum check_id first, enum check_id last)
{
	for (enum check_id id = first; id <= last; id++) {
		/* Config and INIT are judged before any other request. */
		if (c->broken[0] && (id < CK_FS_TAG || id > CK_FS_INIT_FLAGS))
			check_expect(A(c, id), false,
				     "the scenario's requests to complete",
				     "%s", c->broken);
		check_done(id, A(c, id));
	}
}

static int finish(struct cfs *c)
{
	if (c)
		vio_reset(&c->fs.vio);
	return report_summary();
}

/* --- fs-layout ----------------------------------------------------------- */

/* The data file of fs-layout: FSZ bytes of pattern, written plainly. */
static int make_file(struct cfs *c, const char *name, uint64_t *node,
		     uint64_t *fh, uint32_t size)
{
	int ret = do_create(c, c->dir, name, node, fh);

	for (uint32_t off = 0; !ret && off < size; off += c->max_write) {
		uint32_t n =
			size - off < c->max_write ? size - off : c->max_write;

		fsw_pattern(c->wbuf, off, n, 7, 1);
		ret = do_write(c, 1, *node, *fh, off, c->wbuf, n, NULL);
		ret = ret == (int)n ? 0 : ret < 0 ? ret : -1;
	}
	if (ret)
		report(false, "the data file: %s", why(c, ret));
	return ret;
}

static void check_hdr_split(struct cfs *c, uint64_t node, uint64_t ino)
{
	struct check_acc *a = A(c, CK_FS_HDR_SPLIT);
	struct fuse_getattr_in gin = { 0 };
	struct shot s;
	int ret;

	/* GETATTR (in-header + 16 bytes) cut at every byte. */
	for (uint32_t k = 1; k < HDR + sizeof(gin) && !c->broken[0]; k++) {
		struct fs_req *r = req(c);
		const struct fuse_attr *at =
			&((const struct fuse_attr_out *)r->reply)->attr;

		fuse_prep(&c->c, r, FUSE_GETATTR, node, &gin, sizeof(gin), NULL,
			  NULL);
		s = (struct shot){ .nr = 2, .rsz = { k, r->in_len - k } };
		ret = call_on(c, 1, r, &s);
		if (check_expect(a, !ret, "GETATTR served",
				 "cut at byte %u: %s", k, why(c, ret)))
			check_expect(a, at->ino == ino && at->size == FSZ,
				     "the file's attributes",
				     "cut at byte %u: ino %llu size %llu", k,
				     (unsigned long long)at->ino,
				     (unsigned long long)at->size);
	}
	/* LOOKUP (in-header + "f\0") cut at every byte. */
	for (uint32_t k = 1; k < HDR + 2 && !c->broken[0]; k++) {
		struct fs_req *r = req(c);
		const struct fuse_entry_out *e = (const void *)r->reply;

		fuse_prep(&c->c, r, FUSE_LOOKUP, c->dir, NULL, 0, "f", NULL);
		s = (struct shot){ .nr = 2, .rsz = { k, r->in_len - k } };
		ret = call_on(c, 1, r, &s);
		if (check_expect(a, !ret, "LOOKUP served", "cut at byte %u: %s",
				 k, why(c, ret)))
			check_expect(a, e->nodeid == node, "the file's node",
				     "cut at byte %u: node %llu, not %llu", k,
				     (unsigned long long)e->nodeid,
				     (unsigned long long)node);
	}
}

/* A WRITE of @len at @off whose readable stream is in @n pieces, read
 * back plainly: a case of @a. */
static void write_split(struct cfs *c, struct check_acc *a, uint64_t node,
			uint64_t fh, uint64_t off, uint32_t len, unsigned int n,
			bool indirect, uint32_t gen)
{
	struct shot s = { .nr = n, .indirect = indirect };
	uint32_t at = 0;
	int ret;

	fsw_pattern(c->wbuf, off, len, 7, gen);
	cut(s.rsz, n, HDR + sizeof(struct fuse_write_in) + len, gen);
	if (indirect) {
		s.nw = 1;
		s.wsz[0] = OHDR + sizeof(struct fuse_write_out);
	}
	ret = do_write(c, 1, node, fh, off, c->wbuf, len, &s);
	if (!check_expect(a, ret == (int)len, "the WRITE done",
			  "%u bytes at %llu in %u readable descriptors%s: %s",
			  len, (unsigned long long)off, n,
			  indirect ? " (indirect)" : "",
			  ret >= 0 ? "a short count" : why(c, ret)))
		return;
	ret = do_read(c, 1, node, fh, off, len, NULL);
	if (check_expect(a, ret == (int)len, "the bytes read back",
			 "%u bytes at %llu: %s", len, (unsigned long long)off,
			 ret >= 0 ? "a short count" : why(c, ret)))
		check_expect(a, same_as_shadow(c, off, len, &at),
			     "the bytes written, read back",
			     "%u bytes at %llu written in %u descriptors%s: "
			     "byte %u differs",
			     len, (unsigned long long)off, n,
			     indirect ? " (indirect)" : "", at);
}

/* A READ of @len at @off whose writable stream is in @n pieces (the
 * first @first bytes long when not 0): a case of @a. */
static void read_split(struct cfs *c, struct check_acc *a, uint64_t node,
		       uint64_t fh, uint64_t off, uint32_t len, unsigned int n,
		       uint32_t first, unsigned int nr, bool indirect)
{
	struct shot s = { .nw = n, .nr = nr, .indirect = indirect };
	uint32_t at = 0, want = off + len > FSZ ? FSZ - (uint32_t)off : len;
	int ret;

	if (nr)
		cut(s.rsz, nr, HDR + sizeof(struct fuse_read_in), len);
	if (first) {
		s.wsz[0] = first;
		cut(s.wsz + 1, n - 1, OHDR + len - first, off);
	} else {
		cut(s.wsz, n, OHDR + len, (uint32_t)off);
	}
	memset(c->buf, 0, len);
	ret = do_read(c, 1, node, fh, off, len, &s);
	if (check_expect(a, ret == (int)want, "the READ served",
			 "%u bytes at %llu into %u writable descriptors%s: %s",
			 len, (unsigned long long)off, n,
			 indirect ? " (indirect)" : "",
			 ret >= 0 ? "a short count" : why(c, ret)))
		check_expect(a, same_as_shadow(c, off, want, &at),
			     "the file's bytes across the descriptors",
			     "%u bytes at %llu in %u descriptors%s: byte %u "
			     "differs",
			     len, (unsigned long long)off, n,
			     indirect ? " (indirect)" : "", at);
}

static void check_data_segs(struct cfs *c, uint64_t node, uint64_t fh)
{
	struct check_acc *a = A(c, CK_FS_DATA_SEGS);

	for (unsigned int n = 1; n <= 16 && !c->broken[0]; n++) {
		uint32_t len = 1 + (n * 7919u) % c->max_write;

		if (n == 16)
			len = c->max_write;
		write_split(c, a, node, fh, (n * 10007u) % (FSZ - len), len, n,
			    false, n + 1);
	}
}

static void check_reply_segs(struct cfs *c, uint64_t node, uint64_t fh,
			     uint64_t ino)
{
	struct check_acc *a = A(c, CK_FS_REPLY_SEGS);
	uint32_t wlen = OHDR + sizeof(struct fuse_attr_out);
	struct fuse_getattr_in gin = { 0 };

	/* GETATTR whose out-header and attributes are cut at every byte. */
	for (uint32_t k = 1; k < wlen && !c->broken[0]; k++) {
		struct fs_req *r = req(c);
		const struct fuse_attr *at =
			&((const struct fuse_attr_out *)r->reply)->attr;
		struct shot s = { .nw = 2, .wsz = { k, wlen - k } };
		int ret;

		fuse_prep(&c->c, r, FUSE_GETATTR, node, &gin, sizeof(gin), NULL,
			  NULL);
		ret = call_on(c, 1, r, &s);
		if (check_expect(a, !ret, "GETATTR served",
				 "reply cut at byte %u: %s", k, why(c, ret)))
			check_expect(a, at->ino == ino && at->size == FSZ,
				     "the file's attributes across the cut",
				     "reply cut at byte %u: ino %llu size %llu",
				     k, (unsigned long long)at->ino,
				     (unsigned long long)at->size);
	}
	/* READs into 2..16 descriptors, the out-header cut too. */
	for (unsigned int n = 2; n <= 16 && !c->broken[0]; n++)
		read_split(c, a, node, fh, (n * 3571u) % (FSZ - BIG),
			   1 + (n * 4099u) % BIG, n, n < 16 ? n - 1 : 0, 0,
			   false);
	read_split(c, a, node, fh, 1, BIG, 16, 0, 0, false);
	/* Across the end of the file: the chain has room to spare. */
	read_split(c, a, node, fh, FSZ - 1000, 8192, 3, 0, 0, false);
	read_split(c, a, node, fh, FSZ - 5, 4096, 2, 7, 0, false);
	/* GETATTR with 40 bytes more than the reply needs. */
	for (uint32_t k = 1; k < wlen + 40 && !c->broken[0]; k += 13) {
		struct fs_req *r = req(c);
		struct shot s = { .nw = 2, .wsz = { k, wlen + 40 - k } };
		int ret;

		fuse_prep(&c->c, r, FUSE_GETATTR, node, &gin, sizeof(gin), NULL,
			  NULL);
		r->reply_len += 40;
		ret = call_on(c, 1, r, &s);
		check_expect(a, !ret, "GETATTR served",
			     "into %u bytes cut at %u: %s", wlen + 40, k,
			     why(c, ret));
	}
}

static void check_indirect(struct cfs *c, uint64_t node, uint64_t fh)
{
	struct check_acc *a = A(c, CK_FS_INDIRECT);

	if (!vio_has(&c->fs.vio, VIRTIO_F_INDIRECT_DESC)) {
		check_skip_reason(a, "INDIRECT_DESC not offered");
		return;
	}
	for (unsigned int n = 2; n <= IND_MAX && !c->broken[0]; n++) {
		unsigned int nr = n / 3 ? n / 3 : 1;

		/* READ: nr readable, the rest writable. */
		read_split(c, a, node, fh, n * 1013u, 700 * n + 13, n - nr, 0,
			   nr, true);
		/* WRITE: n - 1 readable, one writable. */
		write_split(c, a, node, fh, n * 2027u, 300 * n + 7, n - 1, true,
			    100 + n);
	}
}

int check_fs_layout(const char *args)
{
	struct cfs *c = start(args, 1, true, "vuvm-check-layout");
	uint64_t node = 0, fh = 0;
	struct fuse_attr at = { 0 };

	if (!c)
		return finish(c);
	if (!c->broken[0] && c->dir && !make_file(c, "f", &node, &fh, FSZ) &&
	    !do_getattr(c, node, &at)) {
		check_hdr_split(c, node, at.ino);
		check_data_segs(c, node, fh);
		check_reply_segs(c, node, fh, at.ino);
		check_indirect(c, node, fh);
		do_release(c, node, fh, false);
	} else if (!c->broken[0]) {
		snprintf(c->broken, sizeof(c->broken),
			 "the scenario's directory and file could not be "
			 "made");
	}
	done_range(c, CK_FS_TAG, CK_FS_OUT_LEN);
	return finish(c);
}

/* --- fs-requests -------------------------------------------------------------
 */

static void check_errors(struct cfs *c)
{
	static const uint32_t unknown[] = { 99, 1000, 0x7fff0000 };
	struct check_acc *l = A(c, CK_FS_LOOKUP_ENOENT);
	struct check_acc *u = A(c, CK_FS_UNKNOWN_OP);
	struct fuse_entry_out e;
	int ret;

	ret = do_lookup(c, c->dir, "no-such-entry", &e);
	check_expect(l, ret == -FUSE_ENOENT || (!ret && !e.nodeid),
		     "ENOENT (or node ID 0)", "in a directory: %s",
		     ret ? why(c, ret) : "an entry");
	ret = do_lookup(c, FUSE_ROOT_ID, "vuvm-check-no-such-entry", &e);
	check_expect(l, ret == -FUSE_ENOENT || (!ret && !e.nodeid),
		     "ENOENT (or node ID 0)", "in the root: %s",
		     ret ? why(c, ret) : "an entry");
	for (unsigned int i = 0; i < 3 && !c->broken[0]; i++) {
		struct fs_req *r = req(c);

		fuse_prep(&c->c, r, FUSE_GETATTR, FUSE_ROOT_ID, NULL, 0, NULL,
			  NULL);
		fs_req_hdr(r)->opcode = unknown[i];
		r->reply_len = 16; /* room for a wrong body */
		ret = call(c, r);
		check_expect(u, ret == -FUSE_ENOSYS, "ENOSYS", "opcode %u: %s",
			     unknown[i], ret ? why(c, ret) : "success");
	}
	/* More errors for fuse/reply/3 and /4: EEXIST, ENOTDIR. */
	if (!do_mkdir(c, c->dir, "sub", &e.nodeid))
		ret = do_mkdir(c, c->dir, "sub", &e.nodeid);
	ret = do_lookup(c, c->dir, "missing-again", &e);
	(void)ret;
	if (!A(c, CK_FS_ERRNO)->cases)
		check_skip_reason(A(c, CK_FS_ERRNO), "no error reply seen");
	if (!A(c, CK_FS_ERROR_BODY)->cases)
		check_skip_reason(A(c, CK_FS_ERROR_BODY),
				  "no error reply seen");
}

/* Sizes of the appending WRITEs of check_file_data. */
static const uint32_t chunks[] = { 1,	  4095, 4097, 65536, 511,
				   12345, 8192, 3,    40000 };

static void expect_size(struct cfs *c, uint64_t node, uint64_t size,
			const char *after)
{
	struct fuse_attr at = { 0 };
	int ret = do_getattr(c, node, &at);

	if (check_expect(A(c, CK_FS_GETATTR_SIZE), !ret, "GETATTR served",
			 "after %s: %s", after, why(c, ret)))
		check_expect(A(c, CK_FS_GETATTR_SIZE), at.size == size,
			     "the size the file has", "%llu after %s (%llu)",
			     (unsigned long long)at.size, after,
			     (unsigned long long)size);
}

static void read_case(struct cfs *c, uint64_t node, uint64_t fh, uint64_t off,
		      uint32_t len, uint64_t size)
{
	uint32_t want = off >= size ? 0 : size - off < len ? size - off : len;
	uint32_t at = 0;
	int ret = do_read(c, 1, node, fh, off, len, NULL);

	if (!check_expect(A(c, CK_FS_READ_COUNT), ret == (int)want,
			  "the whole count inside the file, the rest of it at "
			  "its end",
			  "%d bytes for %u at %llu of a %llu-byte file", ret,
			  len, (unsigned long long)off,
			  (unsigned long long)size))
		return;
	check_expect(A(c, CK_FS_READ_DATA), same_as_shadow(c, off, want, &at),
		     "the bytes written there",
		     "%u bytes at %llu: byte %u is %#x, not %#x", want,
		     (unsigned long long)off, at, c->buf[at],
		     c->shadow[off + at]);
}

static void check_file_data(struct cfs *c)
{
	uint64_t node, fh, size = 0;
	uint32_t n;
	char what[64];
	int ret = do_create(c, c->dir, "data", &node, &fh);

	if (!check_expect(A(c, CK_FS_GETATTR_SIZE), !ret, "CREATE served", "%s",
			  why(c, ret)))
		return;
	for (unsigned int i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		n = chunks[i] < c->max_write ? chunks[i] : c->max_write;
		fsw_pattern(c->wbuf, size, n, 9, 1 + i);
		ret = do_write(c, 1, node, fh, size, c->wbuf, n, NULL);
		check_expect(A(c, CK_FS_WRITE_COUNT), ret == (int)n,
			     "the count given", "%d for %u bytes at %llu", ret,
			     n, (unsigned long long)size);
		if (ret < 0)
			return;
		size += n;
		snprintf(what, sizeof(what), "a WRITE up to %llu",
			 (unsigned long long)size);
		expect_size(c, node, size, what);
	}
	/* An overwrite inside: the size stays. */
	fsw_pattern(c->wbuf, 5000, 3000, 9, 50);
	ret = do_write(c, 1, node, fh, 5000, c->wbuf, 3000, NULL);
	check_expect(A(c, CK_FS_WRITE_COUNT), ret == 3000, "the count given",
		     "%d for 3000 bytes at 5000", ret);
	expect_size(c, node, size, "an overwrite inside the file");
	{
		static const uint32_t offs[] = { 0, 1, 4095, 4096, 12345 };
		static const uint32_t lens[] = { 1, 4096, 8193, 65536, 777 };

		for (unsigned int i = 0; i < 5; i++)
			read_case(c, node, fh, offs[i],
				  lens[i] < BIG ? lens[i] : BIG, size);
		read_case(c, node, fh, size - 100, 4096, size);
		read_case(c, node, fh, size - 1, 2, size);
		read_case(c, node, fh, size, 10, size);
		read_case(c, node, fh, size + 5000, 10, size);
	}
	/* Cut, then grown: GETATTR follows, the new bytes read as 0. */
	ret = do_truncate(c, node, size - 1000);
	if (check_expect(A(c, CK_FS_GETATTR_SIZE), !ret, "SETATTR served",
			 "size %llu: %s", (unsigned long long)(size - 1000),
			 why(c, ret))) {
		size -= 1000;
		expect_size(c, node, size, "a SETATTR that cut the file");
	}
	ret = do_truncate(c, node, size + 3000);
	if (check_expect(A(c, CK_FS_GETATTR_SIZE), !ret, "SETATTR served",
			 "size %llu: %s", (unsigned long long)(size + 3000),
			 why(c, ret))) {
		memset(c->shadow + size, 0, 3000);
		size += 3000;
		expect_size(c, node, size, "a SETATTR that grew the file");
		read_case(c, node, fh, size - 3500, 4000, size);
	}
	c->file = node;
	c->file_fh = fh;
	c->file_size = size;
}

/* Reads directory @node (open as @fh) in READDIR(PLUS) replies of at most
 * @size bytes, each resuming at the last entry's offset; every entry is
 * judged for @fmt and counted in @seen (names "0".."NAMES-1" are the
 * files made, by length). 0, or -1 after a failed case of @fmt or @res. */
static int list_dir(struct cfs *c, uint64_t node, uint64_t fh, uint32_t size,
		    bool plus, struct check_acc *fmt, struct check_acc *res,
		    unsigned int *seen)
{
	uint32_t head = sizeof(struct fuse_dirent) +
			(plus ? sizeof(struct fuse_entry_out) : 0);
	const char *op = plus ? "READDIRPLUS" : "READDIR";
	uint64_t off = 0;
	unsigned int dots = 0;

	for (unsigned int round = 0; round < 4 * NAMES + 8; round++) {
		struct fuse_read_in in = { .fh = fh,
					   .offset = off,
					   .size = size };
		struct fs_req *r = req(c);
		uint32_t len, p = 0;
		int ret;

		fuse_prep(&c->c, r, plus ? FUSE_READDIRPLUS : FUSE_READDIR,
			  node, &in, sizeof(in), NULL, NULL);
		r->rdata = c->buf;
		r->rlen = size;
		ret = call(c, r);
		if (!check_expect(res, !ret, "the listing read",
				  "%s at offset %llu: %s", op,
				  (unsigned long long)off, why(c, ret)))
			return -1;
		len = r->out.len - OHDR;
		if (!len)
			return check_expect(res, dots <= 2,
					    "'.' and '..' at most once each",
					    "%s: %u of them", op, dots)
				       ? 0
				       : -1;
		while (p < len) {
			const struct fuse_dirent *d =
				(const void *)(c->buf + p + head -
					       sizeof(struct fuse_dirent));
			const char *name = (const char *)c->buf + p + head;
			uint32_t rec;

			if (!check_expect(fmt, p % 8 == 0 && len - p >= head,
					  "whole entries at 8-byte boundaries",
					  "%s: an entry at byte %u of %u", op,
					  p, len))
				return -1;
			rec = (head + d->namelen + 7) & ~7u;
			if (!check_expect(fmt,
					  d->namelen >= 1 &&
						  d->namelen <= FS_NAME_MAX &&
						  rec <= len - p,
					  "a name length that fits the record",
					  "%s: entry at byte %u: name length "
					  "%u, %u bytes left",
					  op, p, d->namelen, len - p))
				return -1;
			if ((d->namelen == 1 && name[0] == '.') ||
			    (d->namelen == 2 && name[0] == '.' &&
			     name[1] == '.')) {
				dots++;
			} else {
				bool ours = d->namelen <= NAMES;

				for (uint32_t k = 0; ours && k < d->namelen;
				     k++)
					ours = name[k] ==
					       (char)('a' + d->namelen % 26);
				if (!check_expect(fmt, ours,
						  "only the names made",
						  "%s: a name of %u bytes "
						  "starting '%c'",
						  op, d->namelen, name[0]))
					return -1;
				seen[d->namelen - 1]++;
			}
			off = d->off;
			p += rec;
		}
	}
	return check_expect(res, false, "the listing to end",
			    "%s: still entries after %u replies", op,
			    4 * NAMES + 8)
		       ? 0
		       : -1;
}

static void judge_seen(struct check_acc *a, const unsigned int *seen,
		       const char *how)
{
	for (unsigned int i = 0; i < NAMES; i++)
		if (!check_expect(a, seen[i] == 1, "every name once",
				  "%s: the name of %u bytes listed %u times",
				  how, i + 1, seen[i]))
			return;
}

static void check_readdir(struct cfs *c)
{
	struct check_acc *fmt = A(c, CK_FS_DIRENT_FORMAT);
	struct check_acc *res = A(c, CK_FS_DIRENT_RESUME);
	uint64_t dir, node, fh;
	unsigned int seen[NAMES];
	char name[NAMES + 1];
	int ret = do_mkdir(c, c->dir, "list", &dir);

	if (!check_expect(fmt, !ret, "MKDIR served", "%s", why(c, ret)))
		return;
	for (unsigned int i = 0; i < NAMES && !ret; i++) {
		memset(name, 'a' + (i + 1) % 26, i + 1);
		name[i + 1] = '\0';
		ret = do_create(c, dir, name, &node, &fh);
		if (!ret)
			ret = do_release(c, node, fh, false);
	}
	if (!check_expect(fmt, !ret, "the files made", "%s", why(c, ret)))
		return;
	fuse_prep(&c->c, req(c), FUSE_OPENDIR, dir, &(struct fuse_open_in){ 0 },
		  sizeof(struct fuse_open_in), NULL, NULL);
	ret = call(c, req(c));
	if (!check_expect(fmt, !ret, "OPENDIR served", "%s", why(c, ret)))
		return;
	fh = ((struct fuse_open_out *)req(c)->reply)->fh;
	for (int plus = 0; plus <= (c->c.readdirplus ? 1 : 0); plus++) {
		uint32_t small = plus ? 200 : 72;

		memset(seen, 0, sizeof(seen));
		if (!list_dir(c, dir, fh, 4096, plus, fmt, fmt, seen))
			judge_seen(fmt, seen,
				   plus ? "READDIRPLUS, 4096 bytes"
					: "READDIR, 4096 bytes");
		memset(seen, 0, sizeof(seen));
		if (!list_dir(c, dir, fh, small, plus, fmt, res, seen))
			judge_seen(res, seen,
				   plus ? "READDIRPLUS, 200 bytes at a time"
					: "READDIR, 72 bytes at a time");
	}
	do_release(c, dir, fh, true);
}

/* FORGET or BATCH_FORGET (@n nodes) of @node on the hiprio queue, its
 * readable part cut in @pieces; a case of @a. Does not wait when @nowait
 * (the caller collects it with collect_forget). */
static int send_forget(struct cfs *c, struct shot *s, struct fs_req *r,
		       uint64_t node, unsigned int n, unsigned int pieces)
{
	*s = (struct shot){ .r = r, .nr = pieces > 1 ? pieces : 0 };
	if (n) {
		struct fuse_forget_one one[2] = { { node, 1 }, { node, 1 } };
		struct fuse_batch_forget_in in = { .count = n };

		fuse_prep(&c->c, r, FUSE_BATCH_FORGET, 0, &in, sizeof(in), NULL,
			  NULL);
		memcpy(r->in + r->in_len, one, n * sizeof(one[0]));
		r->in_len += n * (uint32_t)sizeof(one[0]);
		fs_req_hdr(r)->len = r->in_len;
	} else {
		struct fuse_forget_in in = { 1 };

		fuse_prep(&c->c, r, FUSE_FORGET, node, &in, sizeof(in), NULL,
			  NULL);
	}
	r->reply_len = 0;
	if (pieces > 1)
		cut(s->rsz, pieces, r->in_len, node);
	return add(c, HIPRIO, s);
}

/* Waits @ns for the hiprio entry of @s; judges it in @a. */
static bool collect_forget(struct cfs *c, struct check_acc *a, struct shot *s,
			   uint64_t ns)
{
	const char *op = fuse_op_name(fs_req_hdr(s->r)->opcode);
	uint32_t pos = 0;
	bool same = true;

	if (await_ns(c, HIPRIO, 1, ns)) {
		check_expect(a, false, "the hiprio request used", "%s: %s", op,
			     c->broken);
		return false;
	}
	if (take(c, HIPRIO) != s)
		return check_expect(a, false, "its own chain used", "%s: %s",
				    op, c->broken);
	check_expect(a, reported(s) == 0, "used length 0 (no reply)",
		     "%s: used length %u", op, reported(s));
	for (unsigned int k = 0; k < s->nr; k++)
		for (uint32_t j = 0; j < s->rsz[k]; j++)
			same &= s->ptr[k][j] == rbyte(s->r, pos++);
	check_expect(a, same, "the request unchanged",
		     "%s: changed by the device", op);
	return true;
}

static void check_forget(struct cfs *c)
{
	struct check_acc *a = A(c, CK_FS_FORGET);
	struct fs_req *r = &c->rq[0];
	struct fuse_entry_out e;
	struct shot *s = &c->shots[0];

	for (unsigned int i = 0; i < 3 && !c->broken[0]; i++) {
		int ret = do_lookup(c, c->dir, "data", &e);

		if (!check_expect(a, !ret, "LOOKUP served", "%s", why(c, ret)))
			return;
		if (i == 2) /* the second LOOKUP is forgotten in a batch */
			ret = do_lookup(c, c->dir, "data", &e);
		chain_reset(&c->arena);
		if (send_forget(c, s, r, e.nodeid, i == 2 ? 2 : 0, i + 1))
			return;
		vio_kick(&c->fs.vio, HIPRIO, &c->fs.vq[HIPRIO]);
		if (!collect_forget(c, a, s, c->stall_ns))
			return;
	}
	/* The node is still known (CREATE's lookup): GETATTR works. */
	{
		struct fuse_attr at;
		int ret = do_getattr(c, e.nodeid, &at);

		check_expect(a, !ret, "the node still served after FORGET 1",
			     "GETATTR: %s", why(c, ret));
	}
}

/* FORGET while GETATTRs wait, not kicked, on request queue 1. */
static void check_hiprio_free(struct cfs *c)
{
	struct check_acc *a = A(c, CK_FS_HIPRIO_FREE);
	struct fuse_getattr_in gin = { 0 };
	struct virtq *vq = &c->fs.vq[1];
	struct shot *fs = &c->shots[QSIZE - 1];
	struct fuse_entry_out e;
	unsigned int n = 8, got = 0;
	int ret = do_lookup(c, c->dir, "data", &e);

	if (!check_expect(a, !ret, "LOOKUP served", "%s", why(c, ret)))
		return;
	chain_reset(&c->arena);
	for (unsigned int i = 0; i < n; i++) {
		fuse_prep(&c->c, &c->rq[i], FUSE_GETATTR, e.nodeid, &gin,
			  sizeof(gin), NULL, NULL);
		c->shots[i] = (struct shot){ .r = &c->rq[i] };
		if (add(c, 1, &c->shots[i]))
			return;
	}
	/* Available (the index published), not notified. */
	(void)virtq_kick_prepare(vq);
	if (send_forget(c, fs, &c->rq[QSIZE - 1], e.nodeid, 0, 1))
		return;
	vio_kick(&c->fs.vio, HIPRIO, &c->fs.vq[HIPRIO]);
	if (!collect_forget(c, a, fs, 2000000000ull)) {
		c->broken[0] = '\0'; /* late, maybe: kick the queue and see */
		vio_notify(&c->fs.vio, 1);
		if (await_ns(c, 1, n, c->stall_ns))
			return;
		for (; got < n && take(c, 1); got++)
			;
		if (!await_ns(c, HIPRIO, 1, c->stall_ns))
			take(c, HIPRIO);
		return;
	}
	vio_notify(&c->fs.vio, 1);
	if (await_ns(c, 1, n, c->stall_ns)) {
		check_expect(a, false,
			     "the waiting GETATTRs served once kicked", "%s",
			     c->broken);
		return;
	}
	for (; got < n && take(c, 1); got++)
		;
	check_expect(a, got == n, "the waiting GETATTRs served once kicked",
		     "%u of %u: %s", got, n, c->broken);
}

/* A full queue of GETATTRs and READs with one kick. */
static void check_in_flight(struct cfs *c)
{
	struct check_acc *a = A(c, CK_FS_IN_FLIGHT);
	struct virtq *vq = &c->fs.vq[1];
	bool ind = vio_has(&c->fs.vio, VIRTIO_F_INDIRECT_DESC);
	unsigned int n = ind ? vq->num : vq->num / 3, got = 0, i;
	struct fuse_getattr_in gin = { 0 };
	uint8_t *data = c->buf;

	chain_reset(&c->arena);
	for (i = 0; i < n; i++) {
		struct fs_req *r = &c->rq[i];

		if (i % 2)
			fuse_prep_read(&c->c, r, c->file, c->file_fh, 97 * i,
				       data + 128 * i, 100);
		else
			fuse_prep(&c->c, r, FUSE_GETATTR, c->file, &gin,
				  sizeof(gin), NULL, NULL);
		c->shots[i] = (struct shot){ .r = r, .indirect = ind };
		if (add(c, 1, &c->shots[i]))
			break;
	}
	check_expect(a, i == n, "a full queue of requests added",
		     "%u of %u: %s", i, n, c->broken);
	vio_kick(&c->fs.vio, 1, vq);
	while (got < i && !await_ns(c, 1, 1, c->stall_ns)) {
		struct shot *s = take(c, 1);
		unsigned int k;
		struct fs_req *r;

		if (!s)
			break;
		k = (unsigned int)(s - c->shots);
		r = s->r;
		got++;
		if (!check_expect(
			    a,
			    !r->out.error &&
				    r->out.unique == fs_req_hdr(r)->unique,
			    "each reply for its own request, no error",
			    "request %u (unique %llu): reply unique "
			    "%llu, error %d",
			    k, (unsigned long long)fs_req_hdr(r)->unique,
			    (unsigned long long)r->out.unique, r->out.error))
			continue;
		if (k % 2) {
			uint32_t at = 0;

			memcpy(c->wbuf, data + 128 * k, 100);
			check_expect(a,
				     r->out.len == OHDR + 100 &&
					     !memcmp(c->wbuf,
						     c->shadow + 97 * k, 100),
				     "each READ's own bytes",
				     "request %u: %u bytes, or other bytes", k,
				     r->out.len - OHDR);
			(void)at;
		}
	}
	check_expect(a, got == i, "every request completed once",
		     "%u of %u: %s", got, i, c->broken);
}

int check_fs_requests(const char *args)
{
	struct cfs *c = start(args, 1, false, "vuvm-check-requests");

	if (!c)
		return finish(c);
	if (!c->dir && !c->broken[0])
		snprintf(c->broken, sizeof(c->broken),
			 "the scenario's directory could not be made");
	if (!c->broken[0])
		check_errors(c);
	if (!c->broken[0])
		check_file_data(c);
	if (!c->broken[0])
		check_readdir(c);
	if (!c->broken[0] && c->file)
		check_forget(c);
	if (!c->broken[0] && c->file)
		check_hiprio_free(c);
	if (!c->broken[0] && c->file)
		check_in_flight(c);
	done_range(c, CK_FS_ERRNO, CK_FS_IN_FLIGHT);
	return finish(c);
}

/* --- fs-mq
 * --------------------------------------------------------------------- */

int check_fs_mq(const char *args)
{
	struct cfs *c;
	struct check_acc *a;
	uint64_t node = 0, fh = 0;
	int ret;

	c = start(args, 2, false, "vuvm-check-mq");
	if (!c)
		return finish(c);
	a = A(c, CK_FS_MQ_EACH);
	if (c->fs.num_request_queues < 2) {
		check_skip(CK_FS_MQ_EACH, "num_request_queues is below 2");
		return finish(c);
	}
	if (!c->broken[0] && c->dir)
		ret = do_create(c, c->dir, "mq", &node, &fh);
	else
		ret = FUSE_EDEVICE;
	check_expect(a, !ret, "CREATE served", "%s", why(c, ret));
	for (unsigned int q = 1; q <= 2 && !ret && !c->broken[0]; q++) {
		struct fuse_getattr_in gin = { 0 };
		struct fs_req *r = req(c);
		unsigned int other = 3 - q;
		uint32_t at = 0;

		fuse_prep(&c->c, r, FUSE_GETATTR, FUSE_ROOT_ID, &gin,
			  sizeof(gin), NULL, NULL);
		ret = call_on(c, q, r, NULL);
		if (!check_expect(a, !ret, "GETATTR served on its queue",
				  "request queue %u: %s", q, why(c, ret)))
			break;
		fsw_pattern(c->wbuf, 4096 * q, 5000, 11, q);
		ret = do_write(c, q, node, fh, 4096 * q, c->wbuf, 5000, NULL);
		if (!check_expect(a, ret == 5000, "WRITE served on its queue",
				  "request queue %u: %s", q,
				  ret >= 0 ? "a short count" : why(c, ret)))
			break;
		ret = do_read(c, other, node, fh, 4096 * q, 5000, NULL);
		if (check_expect(a, ret == 5000,
				 "READ served on the other queue",
				 "request queue %u: %s", other,
				 ret >= 0 ? "a short count" : why(c, ret)))
			check_expect(a, same_as_shadow(c, 4096 * q, 5000, &at),
				     "what one queue wrote, read on the other",
				     "written on %u, read on %u: byte %u "
				     "differs",
				     q, other, at);
		ret = 0;
	}
	if (c->broken[0])
		check_expect(a, false, "the scenario's requests to complete",
			     "%s", c->broken);
	check_done(CK_FS_MQ_EACH, a);
	return finish(c);
}
