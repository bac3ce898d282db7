// SPDX-License-Identifier: MIT
/*
 * The reference virtio-blk backend: a disk in RAM (--size) or in a file
 * (--file). Every request is a chain of a readable 16-byte header, data,
 * and a writable status byte at the very end; all of it comes from the
 * driver and is checked before use. A request the device cannot carry out
 * gets VIRTIO_BLK_S_IOERR (bad sizes, out of range) or VIRTIO_BLK_S_UNSUPP
 * (unknown type, feature not negotiated, unknown flags); only a chain with
 * no writable byte at all cannot be answered, and is completed with
 * length 0.
 *
 * DISCARD always leaves zeroes behind (RAM: memset; file: a punched hole,
 * or zeroes written where the file system cannot punch), so a read after a
 * discard is predictable.
 *
 * --reorder N takes up to N requests, carries them out in order and
 * completes them in reverse: out-of-order completion, which the driver must
 * handle and which makes in-flight tracking matter (a process killed
 * mid-batch leaves carried-out but uncompleted requests behind; the next
 * one redoes them from the in-flight region, and redoing a read or write
 * is harmless).
 *
 * --bug NAME injects one known defect, for vuvm-check to catch: the
 * "Injected defects" section, entered only when a bug is set (and
 * vhost/vring.c's indirect_head_only for indirect-after-chain).
 *
 * Device state (DEVICE_STATE, stopped phase only): a small versioned blob
 * with the disk's shape, each queue's ring position when it stopped and
 * the requests served. A load is checked field by field against this
 * process's disk; the positions are compared with SET_VRING_BASE when the
 * rings start again.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "blk: " fmt
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vhost/backends/vub.h"
#include "vhost/log.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_config.h"

#define BLK_DEFAULT_SIZE (64ull << 20)
#define BLK_MAX_QUEUES	 16
#define BLK_SEG_MAX	 (VUB_MAX_QUEUE_SIZE - 2)
#define BLK_MAX_DZ_SECTORS                                \
	(1u << 16) /* 32 MiB per DISCARD/WRITE_ZEROES seg \
		    */
#define BLK_MAX_DZ_SEG 32
#define BLK_ID	       "vuvm-blk"

#define BLK_STATE_MAGIC	     0x4b4c4256u /* "VBLK" */
#define BLK_STATE_VERSION    1
#define BLK_STATE_TIMEOUT_MS 1000 /* whole seconds */

/* The device state blob: a header, then one entry per queue. Little
 * endian, as everything vhost-user on x86. */
struct blk_state_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t num_queues;
	uint32_t size;	   /* of the whole blob */
	uint32_t flags;	   /* none defined: 0 */
	uint64_t capacity; /* sectors */
};
_Static_assert(sizeof(struct blk_state_hdr) == 24, "blk state header");

struct blk_state_queue {
	uint16_t last_avail; /* GET_VRING_BASE when the ring stopped */
	uint16_t used_idx;
	uint32_t flags;	 /* BLK_STATE_Q_*; no other bit */
	uint64_t served; /* requests completed */
};
_Static_assert(sizeof(struct blk_state_queue) == 16, "blk state queue");

#define BLK_STATE_Q_STARTED 1u /* the ring ran: the indices mean something */
#define BLK_STATE_MAX                   \
	(sizeof(struct blk_state_hdr) + \
	 BLK_MAX_QUEUES * sizeof(struct blk_state_queue))

/* A device state transfer in progress or just done. */
struct blk_transfer {
	int fd;	      /* LOAD: the frontend's pipe, read at CHECK; or -1 */
	bool pending; /* CHECK_DEVICE_STATE has something to report */
	int result;   /* of a SAVE, reported by CHECK */
	bool loaded;  /* positions to compare at ring start */
	bool compare[BLK_MAX_QUEUES];
	struct blk_state_queue q[BLK_MAX_QUEUES];
};

struct blk {
	int fd;		/* backing file, or -1 */
	uint8_t *ram;	/* RAM disk, or NULL */
	uint64_t bytes; /* capacity in bytes, a multiple of 512 */
	unsigned long nr_no_status;
	struct virtio_blk_config config;
	uint64_t served[BLK_MAX_QUEUES];
	bool started[BLK_MAX_QUEUES]; /* the ring ran since setup or load */
	struct blk_transfer xfer;
};

/* One request as parsed from its chain. */
struct blk_req {
	struct virtio_blk_outhdr hdr;
	const struct iovec *out; /* readable data after the header */
	unsigned int out_num;
	size_t out_skip; /* header bytes in out[] to skip */
	size_t out_len;
	const struct iovec *in; /* writable data before the status byte */
	unsigned int in_num;
	size_t in_len;
	uint32_t written; /* data bytes written into the in part */
};

/* ------------------------------------------------------------------------ */
/* Backing store                                                             */

static int backing_rw(struct blk *d, bool write, uint64_t off, void *p,
		      size_t len)
{
	ssize_t r;

	if (d->ram) {
		if (write)
			memcpy(d->ram + off, p, len);
		else
			memcpy(p, d->ram + off, len);
		return 0;
	}
	while (len) {
		r = write ? pwrite(d->fd, p, len, (off_t)off)
			  : pread(d->fd, p, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int err = r < 0 ? -errno : -EIO;

			pr_err("%s at %llu: %s", write ? "write" : "read",
			       (unsigned long long)off,
			       r < 0 ? strerror(-err) : "end of file");
			return err;
		}
		off += (uint64_t)r;
		p = (uint8_t *)p + r;
		len -= (size_t)r;
	}
	return 0;
}

static int write_zeroes(struct blk *d, uint64_t off, uint64_t len)
{
	static const uint8_t zero[65536];
	int err;

	if (d->ram) {
		memset(d->ram + off, 0, len);
		return 0;
	}
	while (len) {
		size_t l = len < sizeof(zero) ? len : sizeof(zero);

		err = backing_rw(d, true, off, (void *)zero, l);
		if (err)
			return err;
		off += l;
		len -= l;
	}
	return 0;
}

/* A punched hole reads back as zeroes; where punching is not supported,
 * write them. */
static int discard(struct blk *d, uint64_t off, uint64_t len)
{
	if (d->fd >= 0 &&
	    !fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)off, (off_t)len))
		return 0;
	return write_zeroes(d, off, len);
}

static int flush(struct blk *d)
{
	int err;

	if (d->fd < 0 || !fdatasync(d->fd))
		return 0;
	err = -errno;
	pr_err("fdatasync: %s", strerror(-err));
	return err;
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                  */

/* Whether [@sector, + @len bytes) lies inside the disk. */
static bool in_range(struct blk *d, uint64_t sector, uint64_t len)
{
	uint64_t nsect = d->bytes >> VIRTIO_BLK_SECTOR_SHIFT;

	if (sector > nsect)
		return false;
	return len <= (nsect - sector) << VIRTIO_BLK_SECTOR_SHIFT;
}

/* Reads or writes the request's data, segment by segment. */
static int blk_rw(struct blk *d, struct blk_req *rq, bool write)
{
	const struct iovec *iov = write ? rq->out : rq->in;
	unsigned int n = write ? rq->out_num : rq->in_num;
	size_t skip = write ? rq->out_skip : 0;
	size_t left = write ? rq->out_len : rq->in_len;
	uint64_t off = rq->hdr.sector << VIRTIO_BLK_SECTOR_SHIFT;
	int err;

	if (left % VIRTIO_BLK_SECTOR_SIZE || !in_range(d, rq->hdr.sector, left))
		return VIRTIO_BLK_S_IOERR;
	for (unsigned int i = 0; i < n && left; i++) {
		size_t l;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		l = iov[i].iov_len - skip < left ? iov[i].iov_len - skip : left;
		err = backing_rw(d, write, off,
				 (uint8_t *)iov[i].iov_base + skip, l);
		if (err)
			return VIRTIO_BLK_S_IOERR;
		off += l;
		left -= l;
		skip = 0;
	}
	if (!write)
		rq->written = (uint32_t)rq->in_len;
	return VIRTIO_BLK_S_OK;
}

static int blk_get_id(struct blk_req *rq)
{
	char id[VIRTIO_BLK_ID_BYTES] = BLK_ID;

	if (rq->in_len < sizeof(id))
		return VIRTIO_BLK_S_IOERR;
	rq->written =
		(uint32_t)vub_buf_to_iov(rq->in, rq->in_num, 0, id, sizeof(id));
	return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES: every segment is checked before any is
 * carried out, so a bad request changes nothing. */
static int blk_discard_zeroes(struct blk *d, struct blk_req *rq, bool zeroes,
			      uint32_t ignored)
{
	struct virtio_blk_discard_write_zeroes seg[BLK_MAX_DZ_SEG];
	uint32_t allowed =
		(zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0) | ignored;
	size_t n = rq->out_len / sizeof(seg[0]);

	if (!n || rq->out_len % sizeof(seg[0]) || n > BLK_MAX_DZ_SEG)
		return VIRTIO_BLK_S_IOERR;
	vub_iov_to_buf(rq->out, rq->out_num, rq->out_skip, seg, rq->out_len);
	for (size_t i = 0; i < n; i++) {
		if (seg[i].flags & ~allowed)
			return VIRTIO_BLK_S_UNSUPP;
		if (seg[i].num_sectors > BLK_MAX_DZ_SECTORS ||
		    !in_range(d, seg[i].sector,
			      (uint64_t)seg[i].num_sectors
				      << VIRTIO_BLK_SECTOR_SHIFT))
			return VIRTIO_BLK_S_IOERR;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t off = seg[i].sector << VIRTIO_BLK_SECTOR_SHIFT;
		uint64_t len = (uint64_t)seg[i].num_sectors
			       << VIRTIO_BLK_SECTOR_SHIFT;

		if (zeroes ? write_zeroes(d, off, len) : discard(d, off, len))
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* Whether the driver acked feature @bit (and we still offer it). */
static bool acked(struct vub *b, unsigned int bit)
{
	return vhu_backend_has_feature(&b->dev, bit) &&
	       virtio_has_feature(b->features, bit);
}

/* Whether a request of @type changes the disk (refused by --read-only). */
static bool blk_type_writes(uint32_t type)
{
	return type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_DISCARD ||
	       type == VIRTIO_BLK_T_WRITE_ZEROES;
}

static int blk_execute(struct vub *b, struct blk_req *rq)
{
	struct blk *d = b->priv;

	if (b->opt.read_only && blk_type_writes(rq->hdr.type))
		return VIRTIO_BLK_S_IOERR;
	switch (rq->hdr.type) {
	case VIRTIO_BLK_T_IN:
		return blk_rw(d, rq, false);
	case VIRTIO_BLK_T_OUT:
		return blk_rw(d, rq, true);
	case VIRTIO_BLK_T_FLUSH:
		if (!virtio_has_feature(b->features, VIRTIO_BLK_F_FLUSH))
			return VIRTIO_BLK_S_UNSUPP;
		return flush(d) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		return blk_get_id(rq);
	case VIRTIO_BLK_T_DISCARD:
		if (!acked(b, VIRTIO_BLK_F_DISCARD))
			return VIRTIO_BLK_S_UNSUPP;
		return blk_discard_zeroes(d, rq, false, 0);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!acked(b, VIRTIO_BLK_F_WRITE_ZEROES))
			return VIRTIO_BLK_S_UNSUPP;
		return blk_discard_zeroes(d, rq, true, 0);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/*
 * Splits chain @e: the header from the readable part (all of it, whatever
 * the segment boundaries), the status byte from the end of the writable
 * part. Returns the status to report, or -1 when the chain has no
 * writable byte to report it in.
 */
static int blk_parse(struct blk_req *rq, struct vhu_vring_elem *e)
{
	*rq = (struct blk_req){ 0 };
	if (!e->in_len)
		return -1;
	rq->out = e->iov;
	rq->out_num = e->out_num;
	rq->in = e->iov + e->out_num;
	rq->in_num = e->in_num;
	rq->in_len = e->in_len - 1;
	if (e->out_len < sizeof(rq->hdr))
		return VIRTIO_BLK_S_IOERR;
	vub_iov_to_buf(rq->out, rq->out_num, 0, &rq->hdr, sizeof(rq->hdr));
	rq->out_skip = sizeof(rq->hdr);
	rq->out_len = e->out_len - sizeof(rq->hdr);
	return VIRTIO_BLK_S_OK;
}

/* ------------------------------------------------------------------------ */
/* Injected defects (--bug)                                                  */

/* The request types blk_execute() knows. */
static bool known_type(uint32_t type)
{
	return type <= VIRTIO_BLK_T_GET_ID || type == VIRTIO_BLK_T_DISCARD ||
	       type == VIRTIO_BLK_T_WRITE_ZEROES;
}

/* hdr-first-desc: the header taken from the first readable descriptor
 * alone, the rest reading as zeroes (a header assumed to sit alone). */
static void bug_hdr_first_desc(struct blk_req *rq)
{
	size_t l = rq->out[0].iov_len;

	memset(&rq->hdr, 0, sizeof(rq->hdr));
	memcpy(&rq->hdr, rq->out[0].iov_base,
	       l < sizeof(rq->hdr) ? l : sizeof(rq->hdr));
}

/* first-data-seg: only the segment holding the first data byte is
 * transferred (a device that served iov[1] and forgot the rest). */
static void bug_first_data_seg(struct blk_req *rq)
{
	size_t skip = rq->out_skip;
	unsigned int i = 0;

	while (i + 1 < rq->out_num && skip >= rq->out[i].iov_len)
		skip -= rq->out[i++].iov_len;
	rq->out_num = i + 1;
	if (rq->in_num)
		rq->in_num = 1;
}

/* indirect-max-8: a chain through an indirect table of more than 8
 * entries gets IOERR (a device with an 8-entry bounce table). The head
 * is read from the table again: racy against the driver, but it only
 * decides whether the defect shows. */
static bool bug_indirect_over_8(struct vub *b, unsigned int index,
				const struct vhu_vring_elem *e)
{
	const struct vhu_vring *vr = &vhu_backend_vq(&b->dev, index)->vring;
	const struct virtq_desc *d;
	uint16_t flags;
	uint32_t len;

	if (vr->packed) /* split rings only: the head is no slot here */
		return false;
	d = &vr->desc[e->head];
	flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED);
	len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);

	return (flags & VIRTQ_DESC_F_INDIRECT) &&
	       len / sizeof(struct virtq_desc) > 8;
}

/* write-desc: the head descriptor's length cleared in the table once the
 * chain is taken (a device marking descriptors it consumed). */
static void bug_write_desc(struct vub *b, unsigned int index,
			   const struct vhu_vring_elem *e)
{
	struct vhu_vring *vr = &vhu_backend_vq(&b->dev, index)->vring;

	if (!vr->packed) /* split rings only */
		__atomic_store_n(&vr->desc[e->head].len, 0, __ATOMIC_RELAXED);
}

/* range-off-by-one: past the capacity, reads return zeroes and writes
 * are dropped, with OK (a device that pads short reads at the end). */
static int bug_past_end(struct blk_req *rq, bool write)
{
	size_t left = rq->in_len;

	for (unsigned int i = 0; !write && i < rq->in_num && left; i++) {
		size_t l = rq->in[i].iov_len < left ? rq->in[i].iov_len : left;

		memset(rq->in[i].iov_base, 0, l);
		left -= l;
	}
	if (!write)
		rq->written = (uint32_t)rq->in_len;
	return VIRTIO_BLK_S_OK;
}

/* get-id-overfill: the ID goes out with the 4 zero bytes after it (a
 * device whose ID buffer is 24 bytes), where the buffer has room. */
static int bug_get_id(struct blk_req *rq)
{
	char id[VIRTIO_BLK_ID_BYTES + 4] = BLK_ID;

	rq->written =
		(uint32_t)vub_buf_to_iov(rq->in, rq->in_num, 0, id, sizeof(id));
	return VIRTIO_BLK_S_OK;
}

/* The DISCARD / WRITE_ZEROES segments of @rq, how many in *@n (at most
 * BLK_MAX_DZ_SEG); false if the request is malformed. */
static bool bug_dz_segs(const struct blk_req *rq,
			struct virtio_blk_discard_write_zeroes *seg, size_t *n)
{
	*n = rq->out_len / sizeof(*seg);
	if (!*n || *n > BLK_MAX_DZ_SEG || rq->out_len % sizeof(*seg))
		return false;
	vub_iov_to_buf(rq->out, rq->out_num, rq->out_skip, seg, rq->out_len);
	return true;
}

/* sector-units-4k and mq-queue-offset: the request moved to another
 * place of the disk (IOERR where that is past the end). */
static int bug_move(struct vub *b, struct blk_req *rq, uint64_t sector)
{
	size_t len =
		rq->hdr.type == VIRTIO_BLK_T_OUT ? rq->out_len : rq->in_len;

	if (!in_range(b->priv, sector, len))
		return VIRTIO_BLK_S_IOERR;
	rq->hdr.sector = sector;
	return -1;
}

/* checkblk's defects of bug_execute (same contract). */
static int bug_execute_more(struct vub *b, unsigned int index,
			    struct blk_req *rq)
{
	struct virtio_blk_discard_write_zeroes seg[BLK_MAX_DZ_SEG];
	struct blk *d = b->priv;
	uint32_t type = rq->hdr.type;
	bool rw = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT;
	size_t len = type == VIRTIO_BLK_T_OUT ? rq->out_len : rq->in_len, n;
	bool dz = type == VIRTIO_BLK_T_DISCARD ||
		  type == VIRTIO_BLK_T_WRITE_ZEROES;

	switch (b->opt.bug) {
	case VUB_BUG_LAST_SECTOR_IOERR: /* "end" taken as the last sector */
		if (rw && len && in_range(d, rq->hdr.sector, len) &&
		    rq->hdr.sector + len / VIRTIO_BLK_SECTOR_SIZE ==
			    d->bytes / VIRTIO_BLK_SECTOR_SIZE)
			return VIRTIO_BLK_S_IOERR;
		break;
	case VUB_BUG_SECTOR_UNITS_4K:
		if (rw)
			return bug_move(b, rq, rq->hdr.sector * 8);
		break;
	case VUB_BUG_MQ_QUEUE_OFFSET: /* a region of the disk per queue */
		if (rw && index)
			return bug_move(b, rq, rq->hdr.sector + 1024 * index);
		break;
	case VUB_BUG_FLUSH_IOERR:
		if (type == VIRTIO_BLK_T_FLUSH)
			return VIRTIO_BLK_S_IOERR;
		break;
	case VUB_BUG_RO_WRITES: /* the RO check forgotten for writes */
		if (type == VIRTIO_BLK_T_OUT)
			return blk_rw(d, rq, true);
		break;
	case VUB_BUG_DISCARD_UNMAP_OK:
		if (type == VIRTIO_BLK_T_DISCARD &&
		    acked(b, VIRTIO_BLK_F_DISCARD))
			return blk_discard_zeroes(
				d, rq, false,
				VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
		break;
	case VUB_BUG_DZ_FLAGS_IGNORED:
		if (dz && acked(b, type == VIRTIO_BLK_T_DISCARD
					   ? VIRTIO_BLK_F_DISCARD
					   : VIRTIO_BLK_F_WRITE_ZEROES))
			return blk_discard_zeroes(
				d, rq, type == VIRTIO_BLK_T_WRITE_ZEROES,
				~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
		break;
	case VUB_BUG_ZEROES_UNMAP_NOOP: /* unmap taken as "may skip" */
		if (type == VIRTIO_BLK_T_WRITE_ZEROES &&
		    bug_dz_segs(rq, seg, &n))
			for (size_t i = 0; i < n; i++)
				if (seg[i].flags &
				    VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
					return VIRTIO_BLK_S_OK;
		break;
	case VUB_BUG_DISCARD_SEG_1:
		if (type == VIRTIO_BLK_T_DISCARD && bug_dz_segs(rq, seg, &n) &&
		    n > 1)
			return VIRTIO_BLK_S_IOERR;
		break;
	case VUB_BUG_ZEROES_SEG_1:
		if (type == VIRTIO_BLK_T_WRITE_ZEROES &&
		    bug_dz_segs(rq, seg, &n))
			rq->out_len = sizeof(seg[0]);
		break;
	case VUB_BUG_GET_ID_NEEDS_21: /* room for a NUL wanted */
		if (type == VIRTIO_BLK_T_GET_ID &&
		    rq->in_len <= VIRTIO_BLK_ID_BYTES)
			return VIRTIO_BLK_S_IOERR;
		break;
	case VUB_BUG_WRITES_NEED_FLUSH: /* a write-back cache, never written
					   back when the driver cannot flush */
		if (type == VIRTIO_BLK_T_OUT && !acked(b, VIRTIO_BLK_F_FLUSH))
			return VIRTIO_BLK_S_OK;
		break;
	default:
		break;
	}
	return -1;
}

/*
 * The defects that change how a request is carried out: returns its
 * status, or -1 to carry it out normally (possibly changed: the header,
 * the segments).
 */
static int bug_execute(struct vub *b, unsigned int index,
		       const struct vhu_vring_elem *e, struct blk_req *rq)
{
	uint32_t type = rq->hdr.type;
	bool rw = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT;
	size_t len = type == VIRTIO_BLK_T_OUT ? rq->out_len : rq->in_len;

	switch (b->opt.bug) {
	case VUB_BUG_HDR_FIRST_DESC:
		bug_hdr_first_desc(rq);
		break;
	case VUB_BUG_FIRST_DATA_SEG:
		if (rw)
			bug_first_data_seg(rq);
		break;
	case VUB_BUG_INDIRECT_MAX_8:
		if (bug_indirect_over_8(b, index, e))
			return VIRTIO_BLK_S_IOERR;
		break;
	case VUB_BUG_UNSUPP_OK:
		if (!known_type(type))
			return VIRTIO_BLK_S_OK;
		break;
	case VUB_BUG_RANGE_OFF_BY_ONE:
		if (rw && !(len % VIRTIO_BLK_SECTOR_SIZE) &&
		    !in_range(b->priv, rq->hdr.sector, len))
			return bug_past_end(rq, type == VIRTIO_BLK_T_OUT);
		break;
	case VUB_BUG_ZEROES_NOOP:
		if (type == VIRTIO_BLK_T_WRITE_ZEROES &&
		    acked(b, VIRTIO_BLK_F_WRITE_ZEROES))
			return VIRTIO_BLK_S_OK;
		break;
	case VUB_BUG_GET_ID_OVERFILL:
		if (type == VIRTIO_BLK_T_GET_ID &&
		    rq->in_len >= VIRTIO_BLK_ID_BYTES + 4)
			return bug_get_id(rq);
		break;
	default:
		return bug_execute_more(b, index, rq);
	}
	return -1;
}

/* Where the status byte goes: the chain's last writable byte; with
 * status-desc-start, the first byte of the last writable descriptor. */
static size_t status_offset(struct vub *b, const struct vhu_vring_elem *e)
{
	const struct iovec *last = &e->iov[e->out_num + e->in_num - 1];

	if (b->opt.bug == VUB_BUG_STATUS_DESC_START && last->iov_len > 1)
		return e->in_len - last->iov_len;
	return e->in_len - 1;
}

/* The defects that write where the device must not, after request @rq
 * completed with @s; returns the used length, given the correct one. */
static uint32_t bug_after(struct vub *b, const struct vhu_vring_elem *e,
			  const struct blk_req *rq, int s, uint32_t len)
{
	static const uint8_t zero[sizeof(rq->hdr)];
	const struct iovec *last = &e->iov[e->out_num + e->in_num - 1];
	uint8_t *past = (uint8_t *)last->iov_base + last->iov_len;
	bool ok = s == VIRTIO_BLK_S_OK;

	switch (b->opt.bug) {
	case VUB_BUG_WRITE_READABLE: /* the header cleared as if ours */
		if (ok && rq->hdr.type == VIRTIO_BLK_T_OUT)
			vub_buf_to_iov(rq->out, rq->out_num, 0, zero,
				       sizeof(zero));
		break;
	case VUB_BUG_WRITE_PAST_BUFFER: /* a terminator one byte too far */
		if (ok && rq->hdr.type == VIRTIO_BLK_T_IN &&
		    vub_in_guest_ram(b, past))
			*past = 0;
		break;
	case VUB_BUG_USED_LEN_SHORT:
		if (ok && rq->hdr.type == VIRTIO_BLK_T_IN)
			return len - 1;
		break;
	case VUB_BUG_PACKED_LEN_NO_STATUS: /* the data alone counted */
		if (ok && rq->hdr.type == VIRTIO_BLK_T_IN &&
		    vhu_backend_has_feature(&b->dev, VIRTIO_F_RING_PACKED))
			return len - 1;
		break;
	case VUB_BUG_USED_LEN_STATUS_ERR: /* the buffer's length reported */
		if (!ok)
			return (uint32_t)e->in_len;
		break;
	default:
		break;
	}
	return len;
}

/* Carries out chain @e; returns the used length to complete it with. */
static uint32_t blk_request(struct vub *b, unsigned int index,
			    struct vhu_vring_elem *e)
{
	struct blk *d = b->priv;
	struct blk_req rq;
	uint8_t status;
	int s;

	if (b->opt.bug == VUB_BUG_WRITE_DESC)
		bug_write_desc(b, index, e);
	if (b->opt.bug)
		vub_vu_bug_popped(b, index, e);
	s = blk_parse(&rq, e);

	if (s < 0) {
		/* A driver bug; the first one is worth a warning, the rest
		 * would only flood the log. */
		if (!d->nr_no_status++)
			pr_warn("queue %u: request %u has no status byte "
				"(further "
				"ones are logged at debug level)",
				index, e->head);
		else
			pr_debug("queue %u: request %u has no status byte",
				 index, e->head);
		return 0;
	}
	if (s == VIRTIO_BLK_S_OK) {
		s = b->opt.bug ? bug_execute(b, index, e, &rq) : -1;
		if (s < 0)
			s = blk_execute(b, &rq);
	}
	if (s != VIRTIO_BLK_S_OK)
		pr_debug("queue %u: type %u sector %llu: status %d", index,
			 rq.hdr.type, (unsigned long long)rq.hdr.sector, s);
	status = (uint8_t)s;
	vub_buf_to_iov(e->iov + e->out_num, e->in_num, status_offset(b, e),
		       &status, 1);
	return bug_after(b, e, &rq, s,
			 (s == VIRTIO_BLK_S_OK ? rq.written : 0) + 1);
}

/* The defects that decide whether queue @index is served at all. */
static bool bug_no_serve(struct vub *b, unsigned int index)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, index);

	switch (b->opt.bug) {
	case VUB_BUG_MQ_LAST_QUEUE_DEAD: /* off by one in the queue count */
		return b->num_queues > 1 && index == b->num_queues - 1;
	case VUB_BUG_HOLD_WHILE_NO_IRQ: /* "the driver is not listening" */
		return vub_queue_ok(b, index) && !vq->vring.event_idx &&
		       (__atomic_load_n(&vq->vring.avail->flags,
					__ATOMIC_RELAXED) &
			VIRTQ_AVAIL_F_NO_INTERRUPT);
	case VUB_BUG_VU_RESTART_DEAF:
		return vub_vu_bug_deaf(b, index);
	case VUB_BUG_MQ_DISABLE_ALL: /* one enabled flag for the device */
		for (unsigned int k = 0; k < b->num_queues; k++) {
			struct vhu_backend_vq *o = vhu_backend_vq(&b->dev, k);

			if (o->started && !o->enabled)
				return true;
		}
		return false;
	case VUB_BUG_SPURIOUS_KICK_DIES: /* "a kick means work" */
		if (vub_queue_ok(b, index) &&
		    !vhu_vring_enable_notify(&vq->vring)) {
			pr_err("queue %u: kicked with nothing to do", index);
			vub_queue_failed(b, index, -EPROTO);
			return true;
		}
		return false;
	default:
		return false;
	}
}

/* Config-space and feature defects, applied at setup. */
static void bug_config(struct vub *b, struct blk *d)
{
	switch (b->opt.bug) {
	case VUB_BUG_SECTOR_UNITS_4K:
		d->config.blk_size = 4096;
		break;
	case VUB_BUG_CONFIG_PADDING:
		d->config.unused0 = 0xaa;
		break;
	case VUB_BUG_NO_FLUSH_OFFERED:
		b->features &= ~VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
		break;
	case VUB_BUG_DZ_CONFIG_ZERO:
		d->config.max_discard_seg = 0;
		break;
	case VUB_BUG_BLK_SIZE_ODD:
		d->config.blk_size = 520;
		break;
	case VUB_BUG_MQ_NUM_QUEUES_ONE:
		d->config.num_queues = 1;
		break;
	case VUB_BUG_MQ_NUM_QUEUES_OVER: /* the queues a later version has */
		d->config.num_queues = (uint16_t)(b->num_queues + 1);
		break;
	default:
		break;
	}
}

/*
 * in-order-batch-last (split ring, IN_ORDER acked): the @n chains of @e
 * are returned as one batch, but its used element is written at the
 * batch's last position instead of its first (the used index still moves
 * by @n). Bypasses vhu_vring_fill(), so the ring's in-flight region (if
 * any) keeps them: only the conformance check runs with this defect.
 */
static void bug_batch_last(struct vub *b, unsigned int index,
			   const struct vhu_vring_elem *e, const uint32_t *len,
			   unsigned int n)
{
	struct vhu_vring *vr = &vhu_backend_vq(&b->dev, index)->vring;
	struct virtq_used_elem *u =
		&vr->used->ring[(uint16_t)(vr->used_idx + n - 1) % vr->num];

	__atomic_store_n(&u->id, e[n - 1].head, __ATOMIC_RELAXED);
	__atomic_store_n(&u->len, len[n - 1], __ATOMIC_RELAXED);
	vr->used_idx = (uint16_t)(vr->used_idx + n);
	vhu_vring_flush(vr);
}

/*
 * mq-shared-worker (2+ queues): one worker for the whole device. A kick
 * on queue @index has it take the requests of every queue, its own
 * first, and complete them all on @index's used ring, as if the chains
 * had come from there. With one queue busy at a time nothing shows.
 * Another queue's chains are written straight into @index's ring, past
 * vhu_vring_fill()'s accounting: only the conformance check runs with it.
 */
static void bug_shared_worker(struct vub *b, unsigned int index)
{
	struct blk *d = b->priv;
	struct vhu_vring *vr = &vhu_backend_vq(&b->dev, index)->vring;
	struct vhu_vring_elem e;
	bool any = false;

	for (unsigned int k = 0; k < b->num_queues; k++) {
		unsigned int from = (index + k) % b->num_queues;

		while (vub_queue_ok(b, index) && vub_pop(b, from, 0, &e) == 1) {
			uint32_t len = blk_request(b, from, &e);
			struct virtq_used_elem *u;

			any = true;
			if (from == index) {
				if (!vub_push(b, index, e.head, len))
					d->served[index]++;
				continue;
			}
			u = &vr->used->ring[vr->used_idx % vr->num];
			__atomic_store_n(&u->id, e.head, __ATOMIC_RELAXED);
			__atomic_store_n(&u->len, len, __ATOMIC_RELAXED);
			vr->used_idx++;
			vhu_vring_flush(vr);
		}
	}
	if (any)
		vub_notify(b, index);
}

/*
 * mq-irq-queue0 (2+ queues, split ring without EVENT_IDX): whether a
 * queue's completions are signalled is decided by queue 0's NO_INTERRUPT
 * flag, as a device with one interrupt switch for all its queues would.
 * Returns false when it does not apply (vub_notify() then decides).
 */
static bool bug_irq_queue0(struct vub *b, unsigned int index)
{
	struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, index);
	struct vhu_vring *vr0 = &vhu_backend_vq(&b->dev, 0)->vring;
	uint64_t one = 1;
	uint16_t flags;

	if (b->num_queues < 2 || !index || !vub_queue_ok(b, 0) ||
	    !vub_queue_ok(b, index) || vr0->packed || vr0->event_idx)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&vr0->avail->flags, __ATOMIC_RELAXED);
	if (!(flags & VIRTQ_AVAIL_F_NO_INTERRUPT) && vq->call_fd >= 0 &&
	    write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("queue %u: signalling the call fd: %s", index,
			strerror(errno));
	return true;
}

/* Batches of up to --reorder requests, each carried out as it is popped
 * and completed last to first (first to last when the driver acked
 * IN_ORDER: the device must then use buffers in order); every batch is
 * completed before the next is taken, and before serve returns. */
static void blk_serve(struct vub *b, unsigned int index)
{
	struct blk *d = b->priv;
	struct vhu_vring_elem e[VUB_MAX_REORDER];
	uint32_t len[VUB_MAX_REORDER];
	unsigned int batch = b->opt.reorder ? b->opt.reorder : 1, n;
	bool in_order = vhu_backend_has_feature(&b->dev, VIRTIO_F_IN_ORDER);
	bool any = false, batch_last;

	if (b->opt.bug && bug_no_serve(b, index))
		return;
	if (b->opt.bug == VUB_BUG_MQ_SHARED_WORKER && b->num_queues > 1) {
		bug_shared_worker(b, index);
		return;
	}
	if (b->opt.bug == VUB_BUG_IN_ORDER_REVERSE && in_order) {
		batch = 8; /* "reordering is harmless" (vu_bugs.c) */
		in_order = false;
	}
	batch_last = b->opt.bug == VUB_BUG_IN_ORDER_BATCH_LAST && in_order &&
		     !vhu_backend_has_feature(&b->dev, VIRTIO_F_RING_PACKED);
	if (batch_last)
		batch = 8;

	do {
		for (n = 0; n < batch && vub_pop(b, index, n, &e[n]) == 1; n++)
			len[n] = blk_request(b, index, &e[n]);
		if (batch_last && n > 1) {
			bug_batch_last(b, index, e, len, n);
			d->served[index] += n;
			n = batch; /* as if full: pop again */
			any = true;
			continue;
		}
		for (unsigned int k = 0; k < n; k++) {
			unsigned int i = in_order ? k : n - 1 - k;

			if (!vub_push(b, index, e[i].head, len[i]))
				d->served[index]++;
		}
		any |= n > 0;
	} while (n == batch);
	if (any &&
	    !(b->opt.bug == VUB_BUG_MQ_IRQ_QUEUE0 && bug_irq_queue0(b, index)))
		vub_notify(b, index);
	if (b->opt.bug == VUB_BUG_PACKED_KICKS_STAY_OFF)
		vub_packed_bug_kicks_off(b, index); /* vu_bugs.c */
}

/* ------------------------------------------------------------------------ */
/* Device state                                                              */

static size_t state_size(unsigned int queues)
{
	return sizeof(struct blk_state_hdr) +
	       queues * sizeof(struct blk_state_queue);
}

/* Milliseconds left until @deadline (CLOCK_MONOTONIC), at least 0. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/* Writes or reads all of @len bytes at @p on @fd within
 * BLK_STATE_TIMEOUT_MS in all, so that a frontend that never finishes
 * cannot hold the device. Returns the bytes moved (short only at end of
 * file when reading), or -errno (-ETIMEDOUT). */
static ssize_t state_io(int fd, bool write_it, void *p, size_t len)
{
	struct pollfd pfd = { fd, write_it ? POLLOUT : POLLIN, 0 };
	struct timespec deadline;
	size_t done = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += BLK_STATE_TIMEOUT_MS / 1000;
	while (done < len) {
		ssize_t r = poll(&pfd, 1, ms_left(&deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ETIMEDOUT;
		r = write_it ? write(fd, (uint8_t *)p + done, len - done)
			     : read(fd, (uint8_t *)p + done, len - done);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

static void state_fill(struct vub *b, uint8_t *buf)
{
	struct blk *d = b->priv;
	struct blk_state_hdr *h = (void *)buf;
	struct blk_state_queue *q = (void *)(h + 1);

	*h = (struct blk_state_hdr){
		.magic = BLK_STATE_MAGIC,
		.version = BLK_STATE_VERSION,
		.num_queues = (uint16_t)b->num_queues,
		.size = (uint32_t)state_size(b->num_queues),
		.capacity = d->config.capacity,
	};
	for (unsigned int i = 0; i < b->num_queues; i++) {
		struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, i);

		q[i] = (struct blk_state_queue){
			/* packed: the avail half (slot, wrap bit) */
			.last_avail = (uint16_t)vq->base,
			.used_idx = vq->vring.used_idx,
			.flags = d->started[i] ? BLK_STATE_Q_STARTED : 0,
			.served = d->served[i],
		};
	}
}

/* SAVE: the blob goes out at once (a few hundred bytes fit any pipe). */
static int state_save(struct vub *b, int fd)
{
	uint8_t buf[BLK_STATE_MAX];
	size_t len = state_size(b->num_queues);
	ssize_t r;

	state_fill(b, buf);
	r = state_io(fd, true, buf, len);
	close(fd);
	if (r == (ssize_t)len) {
		pr_info("device state saved: %zu bytes, %u queue(s)", len,
			b->num_queues);
		return 0;
	}
	pr_err("device state save: writing %zu bytes: %s", len,
	       strerror(r < 0 ? (int)-r : EPIPE));
	return r < 0 ? (int)r : -EPIPE;
}

static int blk_set_state_fd(struct vub *b, uint32_t direction, int fd)
{
	struct blk *d = b->priv;
	struct blk_transfer *x = &d->xfer;

	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	x->pending = false;
	if (!vub_all_stopped(b)) {
		pr_err("device state %s refused: a queue is running (only "
		       "the stopped phase is supported)",
		       direction ? "load" : "save");
		close(fd);
		return -EBUSY;
	}
	x->pending = true;
	if (direction == VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE) {
		x->result = state_save(b, fd);
		return x->result;
	}
	x->fd = fd; /* read at CHECK_DEVICE_STATE, after the frontend wrote */
	return 0;
}

/* Checks blob @buf of @len bytes against this disk; 0 or -EINVAL with a
 * logged sentence naming the field. */
static int state_check(struct vub *b, const uint8_t *buf, size_t len)
{
	struct blk *d = b->priv;
	const struct blk_state_hdr *h = (const void *)buf;
	const struct blk_state_queue *q = (const void *)(h + 1);

	if (len < sizeof(*h)) {
		pr_err("device state load: %zu bytes, shorter than the "
		       "header",
		       len);
		return -EINVAL;
	}
	if (h->magic != BLK_STATE_MAGIC || h->version != BLK_STATE_VERSION ||
	    h->flags) {
		pr_err("device state load: magic 0x%08x version %u flags 0x%x, "
		       "not a blk state of version %u",
		       h->magic, h->version, h->flags, BLK_STATE_VERSION);
		return -EINVAL;
	}
	if (h->num_queues != b->num_queues ||
	    h->capacity != d->config.capacity) {
		pr_err("device state load: %u queue(s) of a %llu-sector disk, "
		       "this one has %u of %llu",
		       h->num_queues, (unsigned long long)h->capacity,
		       b->num_queues, (unsigned long long)d->config.capacity);
		return -EINVAL;
	}
	if (h->size != len || len != state_size(b->num_queues)) {
		pr_err("device state load: %zu bytes, header says %u, "
		       "expected %zu",
		       len, h->size, state_size(b->num_queues));
		return -EINVAL;
	}
	for (unsigned int i = 0; i < b->num_queues; i++)
		if (q[i].flags & ~BLK_STATE_Q_STARTED) {
			pr_err("device state load: queue %u flags 0x%x", i,
			       q[i].flags);
			return -EINVAL;
		}
	return 0;
}

static void state_apply(struct vub *b, const uint8_t *buf)
{
	struct blk *d = b->priv;
	struct blk_transfer *x = &d->xfer;
	const struct blk_state_queue *q =
		(const void *)(buf + sizeof(struct blk_state_hdr));

	x->loaded = true;
	for (unsigned int i = 0; i < b->num_queues; i++) {
		x->q[i] = q[i];
		x->compare[i] = q[i].flags & BLK_STATE_Q_STARTED;
		d->served[i] = q[i].served;
		d->started[i] = x->compare[i];
		pr_info("device state loaded: queue %u at avail %u used %u, "
			"%llu requests served%s",
			i, q[i].last_avail, q[i].used_idx,
			(unsigned long long)q[i].served,
			x->compare[i] ? "" : " (never started)");
	}
}

/* LOAD: reads the blob to the end (one byte more than the largest, to see
 * an oversized one), then checks and applies it. */
static int state_load(struct vub *b, int fd)
{
	uint8_t buf[BLK_STATE_MAX + 1];
	ssize_t r = state_io(fd, false, buf, sizeof(buf));
	int err;

	close(fd);
	if (r < 0) {
		pr_err("device state load: reading: %s", strerror((int)-r));
		return (int)r;
	}
	err = state_check(b, buf, (size_t)r);
	if (!err)
		state_apply(b, buf);
	return err;
}

static int blk_check_state(struct vub *b)
{
	struct blk *d = b->priv;
	struct blk_transfer *x = &d->xfer;
	int fd = x->fd;

	if (!x->pending) {
		pr_err("device state check: no transfer was started");
		return -EINVAL;
	}
	x->pending = false;
	x->fd = -1;
	return fd >= 0 ? state_load(b, fd) : x->result;
}

/* After a load: the frontend's SET_VRING_BASE should resume where the
 * saved ring stopped. */
static void blk_queue_start(struct vub *b, unsigned int index)
{
	struct blk *d = b->priv;
	struct blk_transfer *x = &d->xfer;
	uint16_t base = (uint16_t)vhu_backend_vq(&b->dev, index)->base;

	d->started[index] = true;
	if (!x->loaded || !x->compare[index])
		return;
	x->compare[index] = false;
	if (base != x->q[index].last_avail)
		pr_warn("queue %u: SET_VRING_BASE %u, but the loaded device "
			"state stopped at %u",
			index, base, x->q[index].last_avail);
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */

/* The RAM disk is allocated lazily: untouched sectors cost nothing. */
static int open_ram(struct blk *d, uint64_t size)
{
	void *p;

	d->bytes = size & ~(uint64_t)(VIRTIO_BLK_SECTOR_SIZE - 1);
	p = mmap(NULL, d->bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!d->bytes || p == MAP_FAILED) {
		pr_err("cannot allocate a RAM disk of %llu bytes",
		       (unsigned long long)d->bytes);
		return -ENOMEM;
	}
	d->ram = p;
	return 0;
}

/* The file is read and written with pread/pwrite, not mapped, so that an
 * I/O error (or a file truncated behind our back) is an IOERR status and
 * not a SIGBUS. */
static int open_file(struct blk *d, const char *path)
{
	struct stat st;
	int err;

	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0 || fstat(d->fd, &st)) {
		err = -errno;
		pr_err("%s: %s", path, strerror(-err));
		return err;
	}
	d->bytes =
		(uint64_t)st.st_size & ~(uint64_t)(VIRTIO_BLK_SECTOR_SIZE - 1);
	if (!S_ISREG(st.st_mode) || !d->bytes) {
		pr_err("%s: not a regular file of at least 512 bytes", path);
		return -EINVAL;
	}
	return 0;
}

static void blk_fill_config(struct blk *d, unsigned int queues)
{
	d->config = (struct virtio_blk_config){
		.capacity = d->bytes >> VIRTIO_BLK_SECTOR_SHIFT,
		.seg_max = BLK_SEG_MAX,
		.blk_size = VIRTIO_BLK_SECTOR_SIZE,
		.num_queues = (uint16_t)queues,
		.max_discard_sectors = BLK_MAX_DZ_SECTORS,
		.max_discard_seg = BLK_MAX_DZ_SEG,
		.discard_sector_alignment = 1,
		.max_write_zeroes_sectors = BLK_MAX_DZ_SECTORS,
		.max_write_zeroes_seg = BLK_MAX_DZ_SEG,
	};
}

static void blk_teardown(struct vub *b)
{
	struct blk *d = b->priv;

	if (!d)
		return;
	if (d->ram)
		munmap(d->ram, d->bytes);
	if (d->fd >= 0)
		close(d->fd);
	if (d->xfer.fd >= 0)
		close(d->xfer.fd);
	free(d);
	b->priv = NULL;
}

static int blk_setup(struct vub *b)
{
	struct blk *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	d->fd = -1;
	d->xfer.fd = -1;
	b->priv = d;
	err = b->opt.file ? open_file(d, b->opt.file)
			  : open_ram(d, b->opt.size ? b->opt.size
						    : BLK_DEFAULT_SIZE);
	if (err) {
		blk_teardown(b);
		return err;
	}
	b->num_queues = b->opt.queues ? b->opt.queues : 1;
	blk_fill_config(d, b->num_queues);
	b->features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		      VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
		      VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
		      VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
		      VIRTIO_BIT(VIRTIO_F_IN_ORDER) |
		      VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
		      VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		      VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
		      VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
		      VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	if (b->num_queues > 1)
		b->features |= VIRTIO_BIT(VIRTIO_BLK_F_MQ);
	if (b->opt.read_only)
		b->features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	if (b->opt.bug)
		bug_config(b, d);
	pr_info("%s: %llu sectors, %u queue(s)",
		b->opt.file ? b->opt.file : "RAM",
		(unsigned long long)d->config.capacity, b->num_queues);
	return 0;
}

static int blk_get_config(struct vub *b, uint32_t offset, void *buf,
			  uint32_t size)
{
	struct blk *d = b->priv;

	vub_config_read(&d->config, sizeof(d->config), offset, buf, size);
	return 0;
}

const struct vub_type vub_blk = {
	.name = "blk",
	.capability = "block",
	.max_queues = BLK_MAX_QUEUES,
	.setup = blk_setup,
	.teardown = blk_teardown,
	.get_config = blk_get_config,
	.serve = blk_serve,
	.inflight = true,
	.queue_start = blk_queue_start,
	.set_state_fd = blk_set_state_fd,
	.check_state = blk_check_state,
};
