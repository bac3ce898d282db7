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
 * rng, then net.
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
	/* --- checkblk: notifications, queue shapes, device rules --- */
	VUB_BUG_EVIDX_OFF_BY_ONE,     /* used_event crossed by one: no irq */
	VUB_BUG_EVIDX_EQUAL_OLD,      /* irq only if used_event == old idx */
	VUB_BUG_EVIDX_ALWAYS,	      /* EVENT_IDX: irq after every batch */
	VUB_BUG_EVIDX_HONOURS_FLAG,   /* EVENT_IDX: NO_INTERRUPT obeyed */
	VUB_BUG_USED_FLAGS_EVIDX,     /* EVENT_IDX: used NO_NOTIFY set */
	VUB_BUG_SPURIOUS_KICK_DIES,   /* a kick with nothing new: queue dead */
	VUB_BUG_AVAIL_EVENT_STALE,    /* avail_event left at 0 */
	VUB_BUG_IRQ_COALESCE,	      /* no EVENT_IDX: every 2nd batch only */
	VUB_BUG_USED_EVENT_ALWAYS,    /* no EVENT_IDX: used_event obeyed */
	VUB_BUG_IRQ_IGNORE_FLAG,      /* no EVENT_IDX: NO_INTERRUPT ignored */
	VUB_BUG_HOLD_WHILE_NO_IRQ,    /* NO_INTERRUPT set: nothing served */
	VUB_BUG_AVAIL_EVENT_NO_EVIDX, /* avail_event written without it */
	VUB_BUG_USED_IDX_EARLY,	      /* used idx published before the elem */
	VUB_BUG_QSIZE_MIN_4,	      /* queues under 4 entries: dead */
	VUB_BUG_QSIZE_1_REFUSED,      /* a queue of 1 entry: dead */
	VUB_BUG_WRAP_STALL,	      /* avail idx below ours taken as empty */
	VUB_BUG_LAST_SECTOR_IOERR,    /* requests ending at the end: IOERR */
	VUB_BUG_SECTOR_UNITS_4K,      /* blk_size 4096, sector in its units */
	VUB_BUG_CONFIG_PADDING,	      /* config unused0 = 0xaa */
	VUB_BUG_NO_FLUSH_OFFERED,     /* FLUSH not offered */
	VUB_BUG_FLUSH_IOERR,	      /* FLUSH: IOERR */
	VUB_BUG_RO_WRITES,	      /* --read-only: writes still done, OK */
	VUB_BUG_DISCARD_UNMAP_OK,     /* DISCARD: the unmap flag accepted */
	VUB_BUG_DZ_FLAGS_IGNORED,     /* unknown segment flags ignored */
	VUB_BUG_ZEROES_UNMAP_NOOP,    /* WRITE_ZEROES + unmap: OK, no zeroes */
	VUB_BUG_DISCARD_SEG_1,	      /* DISCARD of 2+ segments: IOERR */
	VUB_BUG_ZEROES_SEG_1,	      /* WRITE_ZEROES: first segment only */
	VUB_BUG_DZ_CONFIG_ZERO,	      /* max_discard_seg 0 in the config */
	VUB_BUG_BLK_SIZE_ODD,	      /* blk_size 520 */
	VUB_BUG_GET_ID_NEEDS_21,      /* GET_ID into 20 bytes: IOERR */
	VUB_BUG_USED_LEN_STATUS_ERR,  /* failed requests: whole used len */
	VUB_BUG_MQ_LAST_QUEUE_DEAD,   /* the last of 2+ queues not served */
	VUB_BUG_MQ_QUEUE_OFFSET,      /* queue i > 0: sectors + 1024 i */
	VUB_BUG_MQ_NUM_QUEUES_ONE,    /* config num_queues 1 */
	VUB_BUG_RNG_WRITE_DESC,	      /* rng: head descriptor's len cleared */
	VUB_BUG_RNG_DOUBLE_COMPLETE,  /* rng: every 16th chain used twice */
	VUB_BUG_RNG_WRAP_STALL,	      /* rng: as wrap-stall */
	/* --- end of checkblk's --- */
	VUB_BUG_RNG_FIRST_DESC_ONLY, /* first buffer filled, all reported */
	VUB_BUG_RNG_LEN_PLUS_ONE,    /* used len one more than written */
	VUB_BUG_RNG_PAST_BUFFER,     /* one byte past the last buffer */
	VUB_BUG_RNG_ZERO_LEN_BIG,    /* chains over 4096 bytes: used len 0 */
	VUB_BUG_RNG_SHORT_HONEST,    /* first buffer filled and reported */
	VUB_BUG_RNG_CONSTANT,	     /* 0x42 bytes */
	VUB_BUG_RNG_TOP_BIT,	     /* every byte's top bit cleared */
	VUB_BUG_RNG_INDIRECT_AFTER_CHAIN, /* INDIRECT at the head only */
	VUB_BUG_RNG_TAIL_UNWRITTEN,	  /* last buffer: whole blocks only */
	VUB_BUG_RNG_INDIRECT_MAX_4,	  /* tables over 4: used length 0 */
	VUB_BUG_RNG_SPURIOUS_KICK_DIES,	  /* a kick with nothing: queue dies */
	/* net (net.c) */
	VUB_BUG_NET_TX_HDR_ALONE,	  /* first tx descriptor = the header */
	VUB_BUG_NET_TX_FIRST_SEG,	  /* tx: two descriptors at most */
	VUB_BUG_NET_RX_FIRST_DESC,	  /* rx: first descriptor only */
	VUB_BUG_NET_RX_HDR_ALONE,	  /* rx: header alone in the first */
	VUB_BUG_NET_TX_INDIRECT_MAX_4,	  /* tx tables over 4: dropped */
	VUB_BUG_NET_RX_INDIRECT_MAX_4,	  /* rx tables over 4: used len 0 */
	VUB_BUG_NET_INDIRECT_AFTER_CHAIN, /* INDIRECT at the head only */
	VUB_BUG_NET_WRITE_TX,		  /* num_buffers written into tx */
	VUB_BUG_NET_WRITE_DESC,		  /* rx head descriptor's len set */
	VUB_BUG_NET_RX_PAST_BUFFER,	  /* one byte past the rx chain */
	VUB_BUG_NET_RX_LEN_PLUS_ONE,	  /* rx used len one more */
	VUB_BUG_NET_RX_LEN_WHOLE,	  /* rx used len = the chain's size */
	VUB_BUG_NET_NUM_BUFFERS_0,	  /* num_buffers 0 (DPDK's) */
	VUB_BUG_NET_HDR_DATA_VALID,	  /* flags DATA_VALID */
	VUB_BUG_NET_HDR_GSO,		  /* gso_type TCPV4 over 1000 bytes */
	VUB_BUG_NET_TX_LEAK,		  /* every 5th tx never completed */
	VUB_BUG_NET_TX_LEN_FRAME,	  /* tx used len = the frame's */
	VUB_BUG_NET_USED_FLAGS_EVIDX,	  /* used flags NO_NOTIFY always */
	VUB_BUG_NET_USED_FLAGS_BIT1,	  /* used flags bit 1 */
	VUB_BUG_NET_TRUNC_1500,		  /* frames cut to 1500 bytes */
	VUB_BUG_NET_RX_SPLIT_NOMRG,	  /* spreads frames without MRG */
	VUB_BUG_NET_RX_REUSE_LAST,	  /* no rx buffer: the last one again */
	VUB_BUG_NET_KICK_EMPTY_REPUSH,	  /* empty pass: last tx head again */
	VUB_BUG_NET_ONE_PER_KICK,	  /* one frame per kick */
	VUB_BUG_NET_WRAP_DROP,		  /* avail index compared unwrapped */
	VUB_BUG_NET_MAC_MULTICAST,	  /* mac with the group bit */
	VUB_BUG_NET_STATUS_BITS,	  /* status bit 8 set */
	VUB_BUG_NET_MAX_PAIRS_0,	  /* max_virtqueue_pairs 0 */
	VUB_BUG_NET_MTU_0,		  /* mtu 0 */
	VUB_BUG_NET_MRG_NUM_BUFFERS_1,	  /* MRG: num_buffers 1 */
	VUB_BUG_NET_MRG_HDR_ALONE,	  /* MRG: header alone in buffer 1 */
	VUB_BUG_NET_MRG_PUBLISH_EACH,	  /* MRG: buffers used one by one */
	VUB_BUG_NET_MRG_LEN_WHOLE,	  /* MRG: used len = buffer size */
	VUB_BUG_NET_MQ_SPREAD,		  /* frames to every pair in turn */
	VUB_BUG_NET_MQ_ALL_RX0,		  /* every frame to receiveq1 */
	VUB_BUG_NET_CTRL_NO_ACK,	  /* ack byte not written */
	VUB_BUG_NET_CTRL_OK_ALL,	  /* every command answered OK */
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
	/* --- fs (fs.c) --- */
	VUB_BUG_FS_TAG_GARBAGE,	       /* config tag: one NUL, then 'x' bytes */
	VUB_BUG_FS_CONFIG_QUEUES_MORE, /* config num_request_queues one too many
					*/
	VUB_BUG_FS_CONFIG_QUEUES_ZERO, /* config num_request_queues 0 */
	VUB_BUG_FS_FORGET_REPLY,   /* FORGET completed with used length 16 */
	VUB_BUG_FS_HIPRIO_WAITS,   /* hiprio waits for the request queues */
	VUB_BUG_FS_MQ_FIRST_ONLY,  /* only the first request queue served */
	VUB_BUG_FS_UNIQUE_OFF,	   /* GETATTR replies carry unique + 1 */
	VUB_BUG_FS_OUT_LEN_BODY,   /* out.len counts the body only */
	VUB_BUG_FS_ERRNO_POSITIVE, /* error replies carry a positive errno */
	VUB_BUG_FS_ERROR_BODY,	   /* error replies carry 16 bytes of body */
	VUB_BUG_FS_UNKNOWN_EINVAL, /* unknown opcodes: EINVAL, not ENOSYS */
	VUB_BUG_FS_INIT_MAJOR,	   /* INIT reply major 8 */
	VUB_BUG_FS_INIT_MAX_WRITE, /* INIT reply max_write 1024 */
	VUB_BUG_FS_INIT_FLAGS,	   /* INIT reply flags not asked for */
	VUB_BUG_FS_LOOKUP_MISSING_EIO, /* LOOKUP of a missing name: EIO */
	VUB_BUG_FS_STALE_SIZE,	       /* GETATTR size as at OPEN or CREATE */
	VUB_BUG_FS_READ_OFFSET,	       /* READ offset rounded down to 512 */
	VUB_BUG_FS_READ_SHORT,	       /* READ returns at most 3000 bytes */
	VUB_BUG_FS_WRITE_COUNT,	       /* WRITE reply size one too small */
	VUB_BUG_FS_DIRENT_PACK,	       /* READDIR entries not padded to 8 */
	VUB_BUG_FS_DIRENT_OFFSET,      /* READDIR entries all with off 1 */
	VUB_BUG_FS_HDR_FIRST_DESC,     /* in-header from the first descriptor */
	VUB_BUG_FS_WRITE_FIRST_SEG,  /* WRITE data from the first descriptor */
	VUB_BUG_FS_REPLY_FIRST_DESC, /* reply cut at the first writable one */
	VUB_BUG_FS_INDIRECT_MAX_4,   /* indirect tables over 4: no reply */
	VUB_BUG_FS_WRITE_READABLE,   /* in-header's first 8 bytes cleared */
	VUB_BUG_FS_WRITE_DESC,	     /* head descriptor's len cleared */
	VUB_BUG_FS_PAST_BUFFER,	     /* byte past the last buffer changed */
	VUB_BUG_FS_USED_LEN_HEADER,  /* used length 16 whatever out.len */
	VUB_BUG_FS_USED_LEN_OVER,    /* used length = writable bytes + 16 */
	VUB_BUG_FS_USED_LEN_WHOLE,   /* used length = all writable bytes */
	VUB_BUG_FS_DROP_EVERY_8TH,   /* every 8th request never completed */
	/* --- blk: chain order, MQ, feature subsets (blk.c, vring.c) --- */
	VUB_BUG_DESC_NEXT_BY_INDEX, /* chains walked by index, next ignored */
	VUB_BUG_MQ_NUM_QUEUES_OVER, /* config num_queues one too many */
	VUB_BUG_WRITES_NEED_FLUSH,  /* no FLUSH acked: writes OK, not kept */
	/* --- vhost-user, more (vu_bugs.c) --- */
	VUB_BUG_VU_REFUSE_SUBSET,  /* SET_FEATURES without INDIRECT refused */
	VUB_BUG_VU_RESET_LATE_DMA, /* a buffer from before a reset written */
	VUB_BUG_VU_MAX_REGIONS_7,  /* the 8th memory region dropped */
	/* --- packed rings and IN_ORDER, blk (vu_bugs.c) --- */
	VUB_BUG_PACKED_ID_FROM_HEAD,	 /* used id of the chain's 1st desc */
	VUB_BUG_PACKED_WRAP_FROM_AVAIL,	 /* used bits from the avail counter */
	VUB_BUG_PACKED_NO_WRITE_FLAG,	 /* used desc never has WRITE */
	VUB_BUG_PACKED_LEN_NO_STATUS,	 /* packed read: used len - 1 */
	VUB_BUG_PACKED_WRITE_INDIRECT,	 /* indirect entries marked used */
	VUB_BUG_PACKED_USED_EVERY_SLOT,	 /* a used desc in every chain slot */
	VUB_BUG_PACKED_CHAIN_WRAP_CUT,	 /* chains end at the ring's end */
	VUB_BUG_PACKED_INDIRECT_NEXT,	 /* NEXT obeyed in indirect tables */
	VUB_BUG_PACKED_QSIZE_POW2,	 /* odd-sized packed ring: dead */
	VUB_BUG_PACKED_INDEX_U16,	 /* position from a u16 count */
	VUB_BUG_PACKED_EVENT_OFF_BY_ONE, /* off_wrap crossed by one: no irq */
	VUB_BUG_PACKED_IGNORE_DISABLE,	 /* driver flags DISABLE ignored */
	VUB_BUG_IN_ORDER_REVERSE,	 /* IN_ORDER: batches last to first */
	VUB_BUG_IN_ORDER_BATCH_LAST,	 /* split batch entry at its end */
	VUB_BUG_PACKED_KICKS_STAY_OFF,	 /* device area left at DISABLE */
	/* --- vhost-user memory hot-plug (vu_bugs.c) --- */
	VUB_BUG_VU_ADD_UNMAPPED,     /* ADD_MEM_REG acked, not mapped */
	VUB_BUG_VU_REM_KEEPS_OLD,    /* REM_MEM_REG acked, mapping kept */
	VUB_BUG_VU_SLOTS_OVERSTATED, /* 32 slots reported, 8 taken */
	/* --- a backend started again after a crash (vu_bugs.c) --- */
	VUB_BUG_VU_INFLIGHT_DROP,	 /* in-flight requests not redone */
	VUB_BUG_VU_RESTART_SKIP_PENDING, /* waiting requests skipped */
	VUB_BUG_VU_RESTART_DEAF,	 /* kicks after the 1st pass ignored */
	/* --- blk, all queues at once (blk.c) --- */
	VUB_BUG_MQ_SHARED_WORKER, /* any kick: all queues, used on the kicked */
	VUB_BUG_MQ_IRQ_QUEUE0,	  /* interrupts per queue 0's NO_INTERRUPT */
	VUB_BUG_MQ_DISABLE_ALL,	  /* one ring disabled: none served */
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
	bool read_only;		      /* blk: offer RO, refuse writes */
	const char *shared_dir;	      /* fs: the directory served */
	const char *tag;	      /* fs: config tag (NULL: "vuvm") */
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
	/* vu-reset-late-dma: the first writable buffer of the last chain
	 * popped (guest address and length), written after a reset. */
	uint64_t vu_late_addr;
	uint32_t vu_late_len;
	/* A queue whose first start in this process found a used index
	 * other than 0: this process took over from a dead one; and, for
	 * vu-restart-deaf, that it has popped since. */
	bool vu_started[VHU_BACKEND_MAX_QUEUES];
	bool vu_restarted[VHU_BACKEND_MAX_QUEUES];
	bool vu_deaf[VHU_BACKEND_MAX_QUEUES];
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
/* vub_vu_bug_popped: chain @e was just popped from queue @index.
 * vub_vu_bug_set_features: SET_FEATURES @features; 0 or -errno to refuse
 * them. */
void vub_vu_bug_popped(struct vub *b, unsigned int index,
		       const struct vhu_vring_elem *e);
int vub_vu_bug_set_features(struct vub *b, uint64_t features);
/* vub_vu_bug_deaf: whether queue @index is to be left unserved now
 * (vu-restart-deaf). */
bool vub_vu_bug_deaf(struct vub *b, unsigned int index);
/*
 * The packed-ring and IN_ORDER defects (vu_bugs.c):
 * vub_ring_bugs: the VHU_VRING_BUG_* bits of the injected defect (0 for
 *   the others), for every pop to set in the ring.
 * vub_packed_bug_notify: decides and signals like vhu_vring_should_notify()
 *   with the injected event-suppression rule broken; false when none is.
 */
unsigned int vub_ring_bugs(const struct vub *b);
bool vub_packed_bug_notify(struct vub *b, struct vhu_backend_vq *vq);
/* vub_packed_bug_kicks_off: packed-kicks-stay-off, after queue @index was
 * served (blk.c). */
void vub_packed_bug_kicks_off(struct vub *b, unsigned int index);
/* vub_bug_indirect_over: whether chain @e of queue @index (split ring) is
 * an indirect table of more than @max descriptors (fs-indirect-max-4,
 * rng-indirect-max-4). */
bool vub_bug_indirect_over(struct vub *b, unsigned int index,
			   const struct vhu_vring_elem *e, unsigned int max);

/* Whether every queue is stopped (what a device state transfer needs). */
bool vub_all_stopped(struct vub *b);

extern const struct vub_type vub_blk, vub_net, vub_rng, vub_fs;

/* fs: largest --queues (request queues; the hiprio queue comes on top). */
#define VUB_FS_MAX_REQUEST_QUEUES 16

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
