/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user wire format: message header, request codes, payload
 * layouts and protocol feature bits, exactly as the vhost-user specification
 * (QEMU docs/interop/vhost-user.rst) defines them. Both sides of the
 * protocol, the frontend in frontend.c and the backend side in backend.c,
 * speak through these definitions; msg.h moves them over a socket.
 *
 * All fields are little-endian, which is the host order on x86-64.
 */
#ifndef VUVM_VHOST_PROTOCOL_H
#define VUVM_VHOST_PROTOCOL_H

#include <stdint.h>

/* Front-end → back-end requests. */
enum vhu_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_IOTLB_MSG = 22,
	VHOST_USER_SET_VRING_ENDIAN = 23,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_CREATE_CRYPTO_SESSION = 26,
	VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
	VHOST_USER_POSTCOPY_ADVISE = 28,
	VHOST_USER_POSTCOPY_LISTEN = 29,
	VHOST_USER_POSTCOPY_END = 30,
	VHOST_USER_GET_INFLIGHT_FD = 31,
	VHOST_USER_SET_INFLIGHT_FD = 32,
	VHOST_USER_GPU_SET_SOCKET = 33,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_VRING_KICK = 35,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
	VHOST_USER_GET_SHARED_OBJECT = 41,
	VHOST_USER_SET_DEVICE_STATE_FD = 42,
	VHOST_USER_CHECK_DEVICE_STATE = 43,
	VHOST_USER_GET_SHMEM_CONFIG = 44,
	VHOST_USER_MAX_REQUEST,
};

/* Back-end → front-end requests, on the SET_BACKEND_REQ_FD channel. */
enum vhu_backend_request {
	VHOST_USER_BACKEND_NONE = 0,
	VHOST_USER_BACKEND_IOTLB_MSG = 1,
	VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
	VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
	VHOST_USER_BACKEND_VRING_CALL = 4,
	VHOST_USER_BACKEND_VRING_ERR = 5,
	VHOST_USER_BACKEND_SHARED_OBJECT_ADD = 6,
	VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE = 7,
	VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP = 8,
	VHOST_USER_BACKEND_SHMEM_MAP = 9,
	VHOST_USER_BACKEND_SHMEM_UNMAP = 10,
	VHOST_USER_BACKEND_MAX_REQUEST,
};

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
enum vhu_protocol_feature {
	VHOST_USER_PROTOCOL_F_MQ = 0,
	VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
	VHOST_USER_PROTOCOL_F_RARP = 2,
	VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
	VHOST_USER_PROTOCOL_F_NET_MTU = 4,
	VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,
	VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
	VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
	VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,
	VHOST_USER_PROTOCOL_F_CONFIG = 9,
	VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
	VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
	VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
	VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VHOST_USER_PROTOCOL_F_STATUS = 16,
	VHOST_USER_PROTOCOL_F_XEN_MMAP = 17,
	VHOST_USER_PROTOCOL_F_SHARED_OBJECT = 18,
	VHOST_USER_PROTOCOL_F_DEVICE_STATE = 19,
	VHOST_USER_PROTOCOL_F_GET_VRING_BASE_INFLIGHT = 20,
	VHOST_USER_PROTOCOL_F_GPA_ADDRESSES = 21,
	VHOST_USER_PROTOCOL_F_SHMEM = 22,
	VHOST_USER_PROTOCOL_F_MAX,
};

/* The virtio feature bit a backend offers to say it speaks the above. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30
/* Dirty-page logging, a virtio feature bit in the vhost range. */
#define VHOST_F_LOG_ALL 26

/* Header flags: bits 0-1 version, bit 2 reply, bit 3 need-reply. */
#define VHOST_USER_VERSION	   0x1u
#define VHOST_USER_VERSION_MASK	   0x3u
#define VHOST_USER_REPLY_MASK	   (1u << 2)
#define VHOST_USER_NEED_REPLY_MASK (1u << 3)
#define VHOST_USER_FLAGS_KNOWN                             \
	(VHOST_USER_VERSION_MASK | VHOST_USER_REPLY_MASK | \
	 VHOST_USER_NEED_REPLY_MASK)

/* Limits shared by both sides. */
#define VHOST_USER_MAX_FDS	    8 /* what libvhost-user and DPDK accept */
#define VHOST_USER_MAX_PAYLOAD	    4096
#define VHOST_USER_MEM_REGIONS_MAX  8
#define VHOST_USER_CONFIG_SPACE_MAX 256

/* SET_VRING_KICK/CALL/ERR payload: queue index and "no fd" (polling). */
#define VHOST_USER_VRING_IDX_MASK  0xffu
#define VHOST_USER_VRING_NOFD_MASK (1u << 8)

/* SET_VRING_ADDR flags. */
#define VHOST_VRING_F_LOG 0

/* GET/SET_CONFIG flags. */
#define VHOST_USER_CONFIG_FLAG_WRITABLE	 0x0u
#define VHOST_USER_CONFIG_FLAG_MIGRATION 0x1u

/* SET_DEVICE_STATE_FD: direction, phase; reply bits. */
#define VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE 0
#define VHOST_USER_TRANSFER_STATE_DIRECTION_LOAD 1
#define VHOST_USER_TRANSFER_STATE_PHASE_STOPPED	 0
#define VHOST_USER_DEVICE_STATE_ERROR_MASK	 0xffull
#define VHOST_USER_DEVICE_STATE_NOFD_MASK	 (1ull << 8)

struct vhu_msg_header {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));
_Static_assert(sizeof(struct vhu_msg_header) == 12, "header is 12 bytes");

struct vhu_vring_state {
	uint32_t index;
	uint32_t num;
};
_Static_assert(sizeof(struct vhu_vring_state) == 8, "vring state");

struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};
_Static_assert(sizeof(struct vhu_vring_addr) == 40, "vring addr");

struct vhu_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};
_Static_assert(sizeof(struct vhu_mem_region) == 32, "memory region");

struct vhu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vhu_mem_region regions[VHOST_USER_MEM_REGIONS_MAX];
};
_Static_assert(sizeof(struct vhu_mem_table) == 8 + 8 * 32, "memory table");

/* ADD_MEM_REG / REM_MEM_REG. */
struct vhu_single_mem_region {
	uint64_t padding;
	struct vhu_mem_region region;
};
_Static_assert(sizeof(struct vhu_single_mem_region) == 40, "single region");

struct vhu_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};
_Static_assert(sizeof(struct vhu_log) == 16, "log");

/* GET/SET_CONFIG: this header, then `size` bytes of config space. */
struct vhu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHOST_USER_CONFIG_SPACE_MAX];
};
#define VHU_CONFIG_HDR_SIZE 12u
_Static_assert(sizeof(struct vhu_config) == 12 + 256, "config");

/* Backend channel VRING_HOST_NOTIFIER_MSG. */
struct vhu_vring_area {
	uint64_t u64; /* bits 0-7 queue index, bit 8 no fd */
	uint64_t size;
	uint64_t offset;
};
_Static_assert(sizeof(struct vhu_vring_area) == 24, "vring area");

struct vhu_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t padding; /* the C struct's tail padding travels on the wire */
};
_Static_assert(sizeof(struct vhu_inflight) == 24, "inflight");

struct vhu_device_state {
	uint32_t direction;
	uint32_t phase;
};
_Static_assert(sizeof(struct vhu_device_state) == 8, "device state");

/*
 * The in-flight region of one split queue (INFLIGHT_SHMFD): a header, then
 * one entry per descriptor. The backend lays it out; the frontend only keeps
 * the fd alive across reconnects.
 */
struct vhu_inflight_desc_split {
	uint8_t inflight;
	uint8_t padding[5];
	uint16_t next;
	uint64_t counter;
};
_Static_assert(sizeof(struct vhu_inflight_desc_split) == 16, "inflight desc");

struct vhu_inflight_split_header {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t last_batch_head;
	uint16_t used_idx;
};
_Static_assert(sizeof(struct vhu_inflight_split_header) == 16, "inflight hdr");

/*
 * The in-flight region of one packed queue: a header, then desc_num
 * entries. How vuvm's backends use them (vhost/vring.c): a popped chain's
 * descriptors are copied into entries taken from a free list (linked by
 * next; the chain's head entry has num, the count, and last, its last
 * entry), and the head entry's inflight flag is set last with a counter;
 * used_idx/used_wrap_counter is the used position after the last
 * completed push, and old_used_idx/old_used_wrap_counter with
 * old_free_head (the head entry being pushed) name the push in progress.
 */
struct vhu_inflight_desc_packed {
	uint8_t inflight;
	uint8_t padding;
	uint16_t next;
	uint16_t last;
	uint16_t num;
	uint64_t counter;
	uint16_t id;
	uint16_t flags;
	uint32_t len;
	uint64_t addr;
};
_Static_assert(sizeof(struct vhu_inflight_desc_packed) == 32,
	       "inflight packed desc");

struct vhu_inflight_packed_header {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t free_head;
	uint16_t old_free_head;
	uint16_t used_idx;
	uint16_t old_used_idx;
	uint8_t used_wrap_counter;
	uint8_t old_used_wrap_counter;
	uint8_t padding[10];
};
_Static_assert(sizeof(struct vhu_inflight_packed_header) == 32,
	       "inflight packed hdr");

#endif
