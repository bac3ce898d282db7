/* SPDX-License-Identifier: MIT */
/*
 * vuvm-backend: the reference vhost-user backends (blk, net, rng), one
 * program built on vhost/backend.h. main.c owns the command line, the
 * socket and the event loop; each device file (blk.c, net.c, rng.c)
 * describes its device with a struct vub_type and serves its queues with
 * the ring helpers below.
 *
 * The loop is single-threaded: a device's serve callback runs to
 * completion (every request it pops is completed before it returns, even
 * when blk --reorder completes them out of order), so nothing is ever in
 * flight between two loop iterations and GET_VRING_BASE never finds work
 * pending. Only a process killed mid-serve leaves requests in flight; blk
 * and rng offer INFLIGHT_SHMFD so that the next process redoes them.
 *
 * A ring the driver broke (vhu_vring_pop() or a push failing) is logged
 * once, its error fd is signalled, and the queue is no longer served until
 * the frontend restarts it; the backend itself carries on.
 */
#ifndef VUVM_VHOST_BACKENDS_VUB_H
#define VUVM_VHOST_BACKENDS_VUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost/backend.h"

/* Largest queue size a frontend may set. */
#define VUB_MAX_QUEUE_SIZE 1024
/*
 * Segments one popped chain may have: a direct chain is at most a queue
 * size long and an indirect table at most 32768 entries, so a valid chain
 * never makes vhu_vring_pop() fail with -ENOBUFS.
 */
#define VUB_IOV_MAX (VUB_MAX_QUEUE_SIZE + VIRTQ_MAX_SIZE)
/* Largest blk --reorder: chains popped before the first is completed,
 * each with its own iovec array (allocated, untouched pages cost
 * nothing). */
#define VUB_MAX_REORDER 32

struct vub;

/*
 * vuvm-backend --bug: one known defect injected on purpose, each modelled
 * on a real backend bug, so that each check of vuvm-check can be shown to
 * catch its defect (docs/devices.md lists the check for each). blk, then
 * rng.
 */
enum vub_bug {
	VUB_BUG_NONE,
	VUB_BUG_HDR_FIRST_DESC,	   /* header from the first descriptor only */
	VUB_BUG_STATUS_DESC_START, /* status at the last buffer's start */
	VUB_BUG_FIRST_DATA_SEG,	   /* only the first data segment moved */
	VUB_BUG_INDIRECT_MAX_8,	   /* indirect tables over 8: IOERR */
	VUB_BUG_INDIRECT_AFTER_CHAIN, /* INDIRECT honoured at the head only */
	VUB_BUG_WRITE_READABLE,	      /* a write's header cleared after it */
	VUB_BUG_WRITE_DESC,	      /* the head descriptor's len cleared */
	VUB_BUG_WRITE_PAST_BUFFER,    /* a read writes one byte past */
	VUB_BUG_USED_LEN_SHORT,	      /* a read's used len lacks the status */
	VUB_BUG_UNSUPP_OK,	      /* unknown types complete with OK */
	VUB_BUG_RANGE_OFF_BY_ONE,     /* past the capacity: OK, no data */
	VUB_BUG_ZEROES_NOOP,	      /* WRITE_ZEROES: OK, nothing zeroed */
	VUB_BUG_GET_ID_OVERFILL,      /* GET_ID writes 24 bytes */
	VUB_BUG_RNG_FIRST_DESC_ONLY,  /* first buffer filled, all reported */
	VUB_BUG_RNG_LEN_PLUS_ONE,     /* used len one more than written */
	VUB_BUG_RNG_PAST_BUFFER,      /* one byte past the last buffer */
	VUB_BUG_RNG_ZERO_LEN_BIG,     /* chains over 4096 bytes: used len 0 */
	VUB_BUG_RNG_SHORT_HONEST,     /* first buffer filled and reported */
	VUB_BUG_RNG_CONSTANT,	      /* 0x42 bytes */
	VUB_BUG_RNG_TOP_BIT,	      /* every byte's top bit cleared */
	VUB_BUG_RNG_INDIRECT_AFTER_CHAIN, /* INDIRECT at the head only */
	/* --- vhost-user protocol and memory (vu_bugs.c) --- */
	VUB_BUG_VU_REGION_STRADDLE,	/* a buffer across regions breaks it */
	VUB_BUG_VU_IGNORE_MMAP_OFFSET,	/* regions mapped from offset 0 */
	VUB_BUG_VU_KEEP_INDEX_ON_RESET, /* old avail index after a reset */
	VUB_BUG_VU_STALE_EVENT_IDX,	/* EVENT_IDX kept once negotiated */
	VUB_BUG_VU_IGNORE_DISABLE,	/* SET_VRING_ENABLE 0 ignored */
	VUB_BUG_VU_SERVE_AFTER_STOP,	/* served after GET_VRING_BASE */
	VUB_BUG_VU_BASE_PLUS_ONE,	/* GET_VRING_BASE one too far */
	VUB_BUG_VU_IGNORE_VRING_BASE,	/* rings restart at index 0 */
	VUB_BUG_VU_KICK_BEFORE_CALL,	/* kick without call fd refused */
	VUB_BUG_VU_NACK_DISABLE,	/* SET_VRING_ENABLE 0 acked non-zero */
};

/* What the command line asked for. */
struct vub_options {
	const char *socket_path;
	const char *file;     /* blk: backing file, or NULL for RAM */
	uint64_t size;	      /* blk: RAM size in bytes (0: default) */
	unsigned int queues;  /* blk: request queues; net: queue pairs */
	uint64_t no_features; /* virtio bits turned off */
	uint64_t no_protocol_features; /* protocol bits turned off */
	unsigned int reorder;	       /* blk: chains per batch (0: 1) */
	unsigned long die_after; /* test aid: SIGKILL on this pop (0: never) */
	unsigned long die_after_push; /* ... right after this completion */
	enum vub_bug bug;	      /* test aid: --bug (VUB_BUG_NONE) */
};

/* One device type. */
struct vub_type {
	const char *name;	 /* on the command line: "blk" */
	const char *capability;	 /* --print-capabilities "type" */
	unsigned int max_queues; /* largest --queues */
	/* Validates the options, sets b->num_queues and b->features (before
	 * --no-feature), allocates b->priv. 0 or -errno (logged). */
	int (*setup)(struct vub *b);
	void (*teardown)(struct vub *b);
	int (*get_config)(struct vub *b, uint32_t offset, void *buf,
			  uint32_t size);
	/* Serves queue @index: kicked, or polled when it has no kick fd. */
	void (*serve)(struct vub *b, unsigned int index);
	/* Offers INFLIGHT_SHMFD: every request completes within serve. */
	bool inflight;
	/* Optional: queue @index starts running. */
	void (*queue_start)(struct vub *b, unsigned int index);
	/* DEVICE_STATE, both or neither (vhost/backend.h's contract; @fd is
	 * the device's to close). */
	int (*set_state_fd)(struct vub *b, uint32_t direction, int fd);
	int (*check_state)(struct vub *b);
};

struct vub {
	const struct vub_type *type;
	struct vub_options opt;
	struct vhu_backend dev;
	unsigned int num_queues;
	uint64_t features;		   /* offered, --no-feature applied */
	bool dead[VHU_BACKEND_MAX_QUEUES]; /* ring failed: not served */
	/* VUB_IOV_MAX each: one per chain held at a time (2, or blk's
	 * --reorder) */
	struct iovec *iov[VUB_MAX_REORDER];
	unsigned long pops;   /* chains popped, for --die-after */
	unsigned long pushes; /* chains completed, for --die-after-push */
	void *priv;	      /* the device's */
	/* vu_bugs.c's memory for the vhost-user defects. */
	uint16_t vu_stop_base[VHU_BACKEND_MAX_QUEUES]; /* at the last stop */
	bool vu_reset_seen;	/* RESET_DEVICE since the rings stopped */
	bool vu_event_idx_seen; /* EVENT_IDX acked on some earlier start */
};

/*
 * The vhost-user defects of --bug (vu_bugs.c), called from the backend's
 * callbacks; each does nothing unless its defect is injected.
 * vub_vu_bug_connected: a frontend connected (after vhu_backend_init).
 * vub_vu_bug_queue_start / _stop / vub_vu_bug_reset: queue @index starts
 * or stops running; RESET_DEVICE.
 */
void vub_vu_bug_connected(struct vub *b);
void vub_vu_bug_queue_start(struct vub *b, unsigned int index);
void vub_vu_bug_queue_stop(struct vub *b, unsigned int index);
void vub_vu_bug_reset(struct vub *b);

/* Whether every queue is stopped (what a device state transfer needs). */
bool vub_all_stopped(struct vub *b);

extern const struct vub_type vub_blk, vub_net, vub_rng;

/*
 * Pops the next chain of running queue @index into @e, using the iovec
 * array b->iov[@slot]. Returns 1 with a chain, 0 when empty or the queue is
 * not servable, or a negative errno once the ring failed (logged, queue
 * marked dead). With --die-after N the Nth pop kills the process (the
 * chain is then in flight, for the recovery tests).
 */
int vub_pop(struct vub *b, unsigned int index, unsigned int slot,
	    struct vhu_vring_elem *e);

/* Completes @head with @len bytes written. 0, or -errno (ring failed,
 * logged, queue marked dead). With --die-after-push N the Nth completion
 * kills the process right after it is published (with --reorder, the
 * rest of the batch is then in flight behind completed requests). */
int vub_push(struct vub *b, unsigned int index, uint16_t head, uint32_t len);

/*
 * Queue @index is broken (@err, with the ring's sentence): logs it once,
 * signals the queue's error fd, and stops serving the queue until it is
 * restarted. Returns @err.
 */
int vub_queue_failed(struct vub *b, unsigned int index, int err);

/* Signals queue @index's call fd if the driver wants it. */
void vub_notify(struct vub *b, unsigned int index);

/* Whether host address @p lies in mapped guest memory (the defects that
 * write past a buffer write only there). */
bool vub_in_guest_ram(struct vub *b, const uint8_t *p);

/* Whether queue @index is running and not dead. */
bool vub_queue_ok(struct vub *b, unsigned int index);

/* Copies between a chain's segments and a flat buffer: @iov[0, @n), bytes
 * from offset @off. Return the bytes copied (short at the chain's end). */
size_t vub_iov_to_buf(const struct iovec *iov, unsigned int n, size_t off,
		      void *buf, size_t len);
size_t vub_buf_to_iov(const struct iovec *iov, unsigned int n, size_t off,
		      const void *buf, size_t len);

/*
 * A device's GET_CONFIG when its config space is the @len bytes at
 * @config (NULL when @len is 0): bytes [@offset, @offset + @size) into
 * @buf, zeroes where that runs past @len (the config space reads as zeroes
 * beyond the device's struct). Never reads outside @config, whatever
 * @offset and @size.
 */
void vub_config_read(const void *config, size_t len, uint32_t offset, void *buf,
		     uint32_t size);

/* Parses "64M", "512", "1G" (K/M/G/T, powers of 1024). 0 or -EINVAL. */
int vub_parse_size(const char *s, uint64_t *out);

#endif
