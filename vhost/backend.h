/* SPDX-License-Identifier: MIT */
/*
 * The backend side of vhost-user, for vuvm's reference backends (blk, net,
 * rng) and as a test peer: a device context plus a table of callbacks, in
 * the spirit of libvhost-user. The library owns no event loop: the device
 * polls the socket and calls vhu_backend_dispatch() when it is readable,
 * and watches the kick fds of the queues it is told are running.
 *
 * Everything the frontend sends is untrusted. Each request is checked
 * against one table (payload size, fd count, the protocol feature it
 * needs) and then by its handler (indices, sizes, addresses). A refused
 * request leaves the device as it was, closes every fd that came with it,
 * records a sentence (vhu_backend_error()) and, when REPLY_ACK asks for it,
 * is answered with a nonzero ack. Only a broken connection ends the
 * session. Nothing here exits, asserts or leaks an fd.
 *
 * Ring lifecycle (vhost-user.md rule 3): a ring is configured by
 * SET_VRING_NUM/BASE/ADDR, starts on SET_VRING_KICK, stops on
 * GET_VRING_BASE, and is enabled separately by SET_VRING_ENABLE (enabled on
 * start when PROTOCOL_FEATURES was not acked). It is "running", and the
 * device may process it, while started and enabled; the device hears of
 * every change through queue_start/queue_stop.
 *
 * In-flight tracking: GET_INFLIGHT_FD makes a region, SET_INFLIGHT_FD maps
 * one a frontend kept across our restart (neither while a ring is
 * started). A ring that starts with a region records pops and pushes in
 * it (vhost/vring.h); the state a previous process left is recovered
 * then: the in-flight requests are popped again first, the ring's avail
 * position comes from the region (SET_VRING_BASE is ignored, with a
 * warning, where they differ), and a line says how many are resubmitted.
 * A region that does not fit the ring refuses SET_VRING_KICK. The region's
 * layout follows the features acked when it is made: packed with
 * VIRTIO_F_RING_PACKED (vhost/protocol.h), split otherwise.
 *
 * Packed rings (VIRTIO_F_RING_PACKED acked): SET_VRING_ADDR's avail and
 * used addresses are the driver and device areas (4 bytes each, 4-byte
 * aligned), SET_VRING_BASE and GET_VRING_BASE carry the 32-bit position.
 *
 * Memory: every region is mapped MAP_SHARED at its offset. Ring addresses
 * are frontend user addresses (vhu_backend_uva_to_va), descriptors carry
 * guest-physical ones (vhu_backend_gpa_to_va); a ring or an indirect
 * table must lie wholly inside one region, a buffer may span several
 * (it becomes one segment per region).
 *
 * One struct vhu_backend is used by one thread at a time.
 */
#ifndef VUVM_VHOST_BACKEND_H
#define VUVM_VHOST_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost/protocol.h"
#include "vhost/vring.h"

#define VHU_BACKEND_MAX_QUEUES	  64
#define VHU_BACKEND_MAX_MEM_SLOTS 32
#define VHU_BACKEND_ERROR_LEN	  256
#define VHU_BACKEND_TIMEOUT_MS	  5000

/* Protocol features the library implements; a device may offer fewer. */
#define VHU_BACKEND_PROTOCOL_FEATURES                          \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) |                  \
	 (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |           \
	 (1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ) |         \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIG) |              \
	 (1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) |      \
	 (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE) |        \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) | \
	 (1ull << VHOST_USER_PROTOCOL_F_STATUS) |              \
	 (1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE))

struct vhu_backend;

/*
 * What a device tells the library. Every callback may be NULL except
 * get_features. Callbacks returning int give 0 or a negative errno; an
 * error refuses the request.
 */
struct vhu_backend_ops {
	/* Virtio features offered (the library adds PROTOCOL_FEATURES). */
	uint64_t (*get_features)(struct vhu_backend *dev);
	/* Protocol features wanted; masked with VHU_BACKEND_PROTOCOL_FEATURES
	 * and with what the callbacks below make possible. NULL: all. */
	uint64_t (*get_protocol_features)(struct vhu_backend *dev);
	/* SET_FEATURES, after the library checked them against the offer. */
	int (*set_features)(struct vhu_backend *dev, uint64_t features);
	/* Config space: [@offset, @offset + @size) within 256 bytes. */
	int (*get_config)(struct vhu_backend *dev, uint32_t offset, void *buf,
			  uint32_t size);
	int (*set_config)(struct vhu_backend *dev, uint32_t offset,
			  const void *buf, uint32_t size, uint32_t flags);
	/* Queue @index starts/stops running (started and enabled). */
	void (*queue_start)(struct vhu_backend *dev, unsigned int index);
	void (*queue_stop)(struct vhu_backend *dev, unsigned int index);
	/* SET_STATUS, RESET_DEVICE / RESET_OWNER. */
	int (*set_status)(struct vhu_backend *dev, uint8_t status);
	void (*reset)(struct vhu_backend *dev);
	/* DEVICE_STATE (both or neither): @fd is the device's to keep and
	 * close; set *@reply_fd to an fd to hand back, or leave it -1. */
	int (*set_device_state_fd)(struct vhu_backend *dev, uint32_t direction,
				   uint32_t phase, int fd, int *reply_fd);
	int (*check_device_state)(struct vhu_backend *dev);
};

/* One mapped memory region. */
struct vhu_backend_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva; /* the frontend's user address */
	uint64_t mmap_offset;
	uint8_t *host;	/* where gpa is mapped here */
	void *map_base; /* what to munmap */
	size_t map_len;
};

/* One queue's state. Read by devices; changed only by the library. */
struct vhu_backend_vq {
	unsigned int num; /* 0 until SET_VRING_NUM */
	bool addr_set;
	struct vhu_vring_addr addr;
	uint32_t base; /* SET_VRING_BASE (packed: the 32-bit position) */
	int kick_fd;   /* -1: none (or polling when kick_nofd) */
	bool kick_nofd;
	int call_fd;
	int err_fd;
	bool started; /* by kick, until GET_VRING_BASE */
	bool enabled;
	bool running; /* started && enabled, as last told to the device */
	struct vhu_vring vring; /* valid while started */
	void *inflight; /* split or packed layout (dev->inflight_packed), or
			   NULL */
};

struct vhu_backend {
	int sock;
	int backend_req_fd; /* SET_BACKEND_REQ_FD, or -1 */
	const struct vhu_backend_ops *ops;
	void *opaque; /* the device's */
	unsigned int num_queues;
	unsigned int max_queue_size;
	struct vhu_backend_vq *vqs;
	bool owner;
	uint64_t features;	    /* acked by SET_FEATURES */
	uint64_t protocol_features; /* acked by SET_PROTOCOL_FEATURES */
	uint8_t status;
	unsigned int nregions;
	struct vhu_backend_region regions[VHU_BACKEND_MAX_MEM_SLOTS];
	void *inflight_base; /* mapped inflight region, or NULL */
	size_t inflight_len;
	uint16_t inflight_queue_size; /* entries per queue in the region */
	bool inflight_packed;	      /* the region has the packed layout */
	int timeout_ms;
	int last_err;	       /* result of the last request: 0 or -errno */
	unsigned int refusals; /* requests refused so far (for the log) */
	unsigned long nr_refused;
	char error[VHU_BACKEND_ERROR_LEN];
	/* Test aids for vuvm-backend --bug (vhost/backends/vu_bugs.c), 0
	 * otherwise: VHU_BACKEND_BUG_* bits, each a known backend defect. */
	unsigned int bugs;
};

/* Regions mapped from offset 0 of their fd, whatever mmap_offset says. */
#define VHU_BACKEND_BUG_IGNORE_MMAP_OFFSET (1u << 0)
/* GET_VRING_BASE answers one more than the next avail index. */
#define VHU_BACKEND_BUG_BASE_PLUS_ONE (1u << 1)
/* GET_VRING_BASE answers but leaves the ring running (and enabled). */
#define VHU_BACKEND_BUG_SERVE_AFTER_STOP (1u << 2)
/* GET_VRING_BASE drops the call fd, and SET_VRING_KICK refuses a ring
 * without one (libvhost-user's vu_panic in qemu-storage-daemon 7.2). */
#define VHU_BACKEND_BUG_KICK_NEEDS_CALL (1u << 3)
/* SET_VRING_ENABLE 0 is done but answered with a non-zero ack. */
#define VHU_BACKEND_BUG_NACK_DISABLE (1u << 4)
/* SET_MEM_TABLE keeps seven regions of eight, dropping the last (an off
 * by one in the region table). */
#define VHU_BACKEND_BUG_MAX_REGIONS_7 (1u << 5)
/* ADD_MEM_REG is acked but maps nothing. */
#define VHU_BACKEND_BUG_ADD_UNMAPPED (1u << 6)
/* REM_MEM_REG is acked but the region stays mapped, and is found before
 * one ADD_MEM_REG puts at the same addresses later (which is not checked
 * for overlap): a stale mapping. */
#define VHU_BACKEND_BUG_REM_KEEPS_OLD (1u << 7)
/* GET_MAX_MEM_SLOTS answers VHU_BACKEND_MAX_MEM_SLOTS, but ADD_MEM_REG
 * refuses a ninth region (a table of eight behind an overstated count). */
#define VHU_BACKEND_BUG_SLOTS_8 (1u << 8)

/*
 * Sets up @dev on the connected unix stream socket @sock (taken over:
 * vhu_backend_cleanup() closes it) for a device of @num_queues queues of
 * at most @max_queue_size descriptors (a power of 2, up to 32768).
 * Returns 0, -EINVAL for bad arguments, or -ENOMEM.
 */
int vhu_backend_init(struct vhu_backend *dev, int sock, unsigned int num_queues,
		     unsigned int max_queue_size,
		     const struct vhu_backend_ops *ops, void *opaque);

/* Stops every ring (telling the device), unmaps memory, closes every fd
 * including the socket. @dev may be cleaned up twice. */
void vhu_backend_cleanup(struct vhu_backend *dev);

/*
 * Receives one message (within dev->timeout_ms once it has started) and
 * handles it. Returns 0 when the message was handled, whether the request
 * was carried out or refused (see dev->last_err and vhu_backend_error());
 * a negative errno when the connection can no longer be used: -ECONNRESET
 * (peer closed), -EPROTO (broken framing), -ETIMEDOUT, or a send error.
 * A refused request that carries its own reply gets none, except GET_CONFIG
 * (answered with size 0, as the spec says).
 */
int vhu_backend_dispatch(struct vhu_backend *dev);

/* The sentence describing the last refused request ("" when none). */
const char *vhu_backend_error(const struct vhu_backend *dev);

/* Whether protocol feature @bit / virtio feature @bit was acked. */
bool vhu_backend_has_protocol_feature(const struct vhu_backend *dev,
				      unsigned int bit);
bool vhu_backend_has_feature(const struct vhu_backend *dev, unsigned int bit);

/*
 * Guest-physical (descriptors) or frontend user address (rings) to a
 * pointer in this process: NULL unless [@addr, @addr + @len) lies wholly
 * inside one region (@len 0 is treated as 1).
 */
void *vhu_backend_gpa_to_va(struct vhu_backend *dev, uint64_t gpa,
			    uint64_t len);
void *vhu_backend_uva_to_va(struct vhu_backend *dev, uint64_t uva,
			    uint64_t len);

/* Queue @index, or NULL when out of range. */
struct vhu_backend_vq *vhu_backend_vq(struct vhu_backend *dev,
				      unsigned int index);

/*
 * Consumes a pending kick on a running queue's kick fd (nonblocking: 0 if
 * there was none). Returns the number of kicks read, or -errno.
 */
int vhu_backend_vq_drain_kick(struct vhu_backend_vq *vq);

/* Signals the queue's call fd if vhu_vring_should_notify() says so.
 * Returns 1 if signalled, 0 if not needed or no call fd, or -errno. */
int vhu_backend_vq_notify(struct vhu_backend_vq *vq);

/*
 * Sends CONFIG_CHANGE_MSG on the backend channel (BACKEND_REQ must be
 * acked and SET_BACKEND_REQ_FD received). NEED_REPLY is not set: the
 * frontend may itself be waiting on us, and an ack wait could deadlock.
 * Returns 0, -ENOTCONN without a channel, or a send error.
 */
int vhu_backend_config_change(struct vhu_backend *dev);

/*
 * The --socket-path helpers: listen on the unix socket @path (a stale
 * socket file there is replaced) and accept one frontend. Both return an
 * fd (close-on-exec) or a negative errno.
 */
int vhu_backend_listen(const char *path);
int vhu_backend_accept(int listen_fd, int timeout_ms);

#endif
