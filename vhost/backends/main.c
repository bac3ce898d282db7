// SPDX-License-Identifier: MIT
/*
 * vuvm-backend: parse the command line, set the device up, listen on the
 * socket (or take an inherited one), accept one frontend and serve it until
 * it hangs up (exit 0), a SIGTERM/SIGINT arrives (exit 0, socket file
 * removed) or something fails (exit 1). Usage errors exit 2. Never
 * daemonizes; logs go to stderr.
 *
 * The loop polls the signalfd, the vhost-user socket and the kick fd of
 * every running queue. A queue whose kick fd is absent (the "no fd" bit)
 * is polled busily: it is served on every iteration and poll() does not
 * sleep while such a queue runs.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "main: " fmt
#ifndef VUVM_VERSION
#define VUVM_VERSION "unknown"
#endif
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vhost/backends/vub.h"
#include "vhost/log.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_net.h"

#define EXIT_USAGE 2

static const struct vub_type *const types[] = { &vub_blk, &vub_net, &vub_rng,
						&vub_fs };

/* --no-feature names. @type NULL: every device. */
struct feature_name {
	const char *name;
	const struct vub_type *type;
	bool protocol;
	unsigned int bit;
};

static const struct feature_name feature_names[] = {
	{ "indirect_desc", NULL, false, VIRTIO_F_INDIRECT_DESC },
	{ "event_idx", NULL, false, VIRTIO_F_EVENT_IDX },
	{ "ring_packed", NULL, false, VIRTIO_F_RING_PACKED },
	{ "in_order", NULL, false, VIRTIO_F_IN_ORDER },
	{ "mq", &vub_blk, false, VIRTIO_BLK_F_MQ },
	{ "seg_max", &vub_blk, false, VIRTIO_BLK_F_SEG_MAX },
	{ "blk_size", &vub_blk, false, VIRTIO_BLK_F_BLK_SIZE },
	{ "flush", &vub_blk, false, VIRTIO_BLK_F_FLUSH },
	{ "discard", &vub_blk, false, VIRTIO_BLK_F_DISCARD },
	{ "write_zeroes", &vub_blk, false, VIRTIO_BLK_F_WRITE_ZEROES },
	{ "mq", &vub_net, false, VIRTIO_NET_F_MQ },
	{ "mac", &vub_net, false, VIRTIO_NET_F_MAC },
	{ "status", &vub_net, false, VIRTIO_NET_F_STATUS },
	{ "mrg_rxbuf", &vub_net, false, VIRTIO_NET_F_MRG_RXBUF },
	{ "mtu", &vub_net, false, VIRTIO_NET_F_MTU },
	{ "proto_mq", NULL, true, VHOST_USER_PROTOCOL_F_MQ },
	{ "reply_ack", NULL, true, VHOST_USER_PROTOCOL_F_REPLY_ACK },
	{ "backend_req", NULL, true, VHOST_USER_PROTOCOL_F_BACKEND_REQ },
	{ "config", NULL, true, VHOST_USER_PROTOCOL_F_CONFIG },
	{ "reset_device", NULL, true, VHOST_USER_PROTOCOL_F_RESET_DEVICE },
	{ "configure_mem_slots", NULL, true,
	  VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS },
	{ "proto_status", NULL, true, VHOST_USER_PROTOCOL_F_STATUS },
	{ "inflight_shmfd", NULL, true, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD },
	{ "device_state", NULL, true, VHOST_USER_PROTOCOL_F_DEVICE_STATE },
};

/* --bug names; docs/devices.md says which vuvm-check check catches each. */
struct bug_name {
	const char *name;
	const struct vub_type *type;
	enum vub_bug bug;
};

static const struct bug_name bug_names[] = {
	{ "hdr-first-desc", &vub_blk, VUB_BUG_HDR_FIRST_DESC },
	{ "status-desc-start", &vub_blk, VUB_BUG_STATUS_DESC_START },
	{ "first-data-seg", &vub_blk, VUB_BUG_FIRST_DATA_SEG },
	{ "indirect-max-8", &vub_blk, VUB_BUG_INDIRECT_MAX_8 },
	{ "indirect-after-chain", &vub_blk, VUB_BUG_INDIRECT_AFTER_CHAIN },
	{ "write-readable", &vub_blk, VUB_BUG_WRITE_READABLE },
	{ "write-desc", &vub_blk, VUB_BUG_WRITE_DESC },
	{ "write-past-buffer", &vub_blk, VUB_BUG_WRITE_PAST_BUFFER },
	{ "used-len-short", &vub_blk, VUB_BUG_USED_LEN_SHORT },
	{ "unsupp-ok", &vub_blk, VUB_BUG_UNSUPP_OK },
	{ "range-off-by-one", &vub_blk, VUB_BUG_RANGE_OFF_BY_ONE },
	{ "zeroes-noop", &vub_blk, VUB_BUG_ZEROES_NOOP },
	{ "get-id-overfill", &vub_blk, VUB_BUG_GET_ID_OVERFILL },
	/* checkblk's */
	{ "evidx-off-by-one", &vub_blk, VUB_BUG_EVIDX_OFF_BY_ONE },
	{ "evidx-equal-old", &vub_blk, VUB_BUG_EVIDX_EQUAL_OLD },
	{ "evidx-always", &vub_blk, VUB_BUG_EVIDX_ALWAYS },
	{ "evidx-honours-flag", &vub_blk, VUB_BUG_EVIDX_HONOURS_FLAG },
	{ "used-flags-evidx", &vub_blk, VUB_BUG_USED_FLAGS_EVIDX },
	{ "spurious-kick-dies", &vub_blk, VUB_BUG_SPURIOUS_KICK_DIES },
	{ "avail-event-stale", &vub_blk, VUB_BUG_AVAIL_EVENT_STALE },
	{ "irq-coalesce", &vub_blk, VUB_BUG_IRQ_COALESCE },
	{ "used-event-always", &vub_blk, VUB_BUG_USED_EVENT_ALWAYS },
	{ "irq-ignore-flag", &vub_blk, VUB_BUG_IRQ_IGNORE_FLAG },
	{ "hold-while-no-irq", &vub_blk, VUB_BUG_HOLD_WHILE_NO_IRQ },
	{ "avail-event-no-evidx", &vub_blk, VUB_BUG_AVAIL_EVENT_NO_EVIDX },
	{ "used-idx-early", &vub_blk, VUB_BUG_USED_IDX_EARLY },
	{ "qsize-min-4", &vub_blk, VUB_BUG_QSIZE_MIN_4 },
	{ "qsize-1-refused", &vub_blk, VUB_BUG_QSIZE_1_REFUSED },
	{ "wrap-stall", &vub_blk, VUB_BUG_WRAP_STALL },
	{ "last-sector-ioerr", &vub_blk, VUB_BUG_LAST_SECTOR_IOERR },
	{ "sector-units-4k", &vub_blk, VUB_BUG_SECTOR_UNITS_4K },
	{ "config-padding", &vub_blk, VUB_BUG_CONFIG_PADDING },
	{ "no-flush-offered", &vub_blk, VUB_BUG_NO_FLUSH_OFFERED },
	{ "flush-ioerr", &vub_blk, VUB_BUG_FLUSH_IOERR },
	{ "ro-writes", &vub_blk, VUB_BUG_RO_WRITES },
	{ "discard-unmap-ok", &vub_blk, VUB_BUG_DISCARD_UNMAP_OK },
	{ "dz-flags-ignored", &vub_blk, VUB_BUG_DZ_FLAGS_IGNORED },
	{ "zeroes-unmap-noop", &vub_blk, VUB_BUG_ZEROES_UNMAP_NOOP },
	{ "discard-seg-1", &vub_blk, VUB_BUG_DISCARD_SEG_1 },
	{ "zeroes-seg-1", &vub_blk, VUB_BUG_ZEROES_SEG_1 },
	{ "dz-config-zero", &vub_blk, VUB_BUG_DZ_CONFIG_ZERO },
	{ "blk-size-odd", &vub_blk, VUB_BUG_BLK_SIZE_ODD },
	{ "get-id-needs-21", &vub_blk, VUB_BUG_GET_ID_NEEDS_21 },
	{ "used-len-status-err", &vub_blk, VUB_BUG_USED_LEN_STATUS_ERR },
	{ "mq-last-queue-dead", &vub_blk, VUB_BUG_MQ_LAST_QUEUE_DEAD },
	{ "mq-queue-offset", &vub_blk, VUB_BUG_MQ_QUEUE_OFFSET },
	{ "mq-num-queues-one", &vub_blk, VUB_BUG_MQ_NUM_QUEUES_ONE },
	{ "rng-write-desc", &vub_rng, VUB_BUG_RNG_WRITE_DESC },
	{ "rng-double-complete", &vub_rng, VUB_BUG_RNG_DOUBLE_COMPLETE },
	{ "rng-wrap-stall", &vub_rng, VUB_BUG_RNG_WRAP_STALL },
	{ "rng-first-desc-only", &vub_rng, VUB_BUG_RNG_FIRST_DESC_ONLY },
	{ "rng-len-plus-one", &vub_rng, VUB_BUG_RNG_LEN_PLUS_ONE },
	{ "rng-past-buffer", &vub_rng, VUB_BUG_RNG_PAST_BUFFER },
	{ "rng-zero-len-big", &vub_rng, VUB_BUG_RNG_ZERO_LEN_BIG },
	{ "rng-short-honest", &vub_rng, VUB_BUG_RNG_SHORT_HONEST },
	{ "rng-constant", &vub_rng, VUB_BUG_RNG_CONSTANT },
	{ "rng-top-bit", &vub_rng, VUB_BUG_RNG_TOP_BIT },
	{ "rng-indirect-after-chain", &vub_rng,
	  VUB_BUG_RNG_INDIRECT_AFTER_CHAIN },
	{ "rng-tail-unwritten", &vub_rng, VUB_BUG_RNG_TAIL_UNWRITTEN },
	{ "rng-indirect-max-4", &vub_rng, VUB_BUG_RNG_INDIRECT_MAX_4 },
	{ "rng-spurious-kick-dies", &vub_rng, VUB_BUG_RNG_SPURIOUS_KICK_DIES },
	{ "net-tx-hdr-alone", &vub_net, VUB_BUG_NET_TX_HDR_ALONE },
	{ "net-tx-first-seg", &vub_net, VUB_BUG_NET_TX_FIRST_SEG },
	{ "net-rx-first-desc", &vub_net, VUB_BUG_NET_RX_FIRST_DESC },
	{ "net-rx-hdr-alone", &vub_net, VUB_BUG_NET_RX_HDR_ALONE },
	{ "net-tx-indirect-max-4", &vub_net, VUB_BUG_NET_TX_INDIRECT_MAX_4 },
	{ "net-rx-indirect-max-4", &vub_net, VUB_BUG_NET_RX_INDIRECT_MAX_4 },
	{ "net-indirect-after-chain", &vub_net,
	  VUB_BUG_NET_INDIRECT_AFTER_CHAIN },
	{ "net-write-tx", &vub_net, VUB_BUG_NET_WRITE_TX },
	{ "net-write-desc", &vub_net, VUB_BUG_NET_WRITE_DESC },
	{ "net-rx-past-buffer", &vub_net, VUB_BUG_NET_RX_PAST_BUFFER },
	{ "net-rx-len-plus-one", &vub_net, VUB_BUG_NET_RX_LEN_PLUS_ONE },
	{ "net-rx-len-whole", &vub_net, VUB_BUG_NET_RX_LEN_WHOLE },
	{ "net-num-buffers-0", &vub_net, VUB_BUG_NET_NUM_BUFFERS_0 },
	{ "net-hdr-data-valid", &vub_net, VUB_BUG_NET_HDR_DATA_VALID },
	{ "net-hdr-gso", &vub_net, VUB_BUG_NET_HDR_GSO },
	{ "net-tx-leak", &vub_net, VUB_BUG_NET_TX_LEAK },
	{ "net-tx-len-frame", &vub_net, VUB_BUG_NET_TX_LEN_FRAME },
	{ "net-used-flags-evidx", &vub_net, VUB_BUG_NET_USED_FLAGS_EVIDX },
	{ "net-used-flags-bit1", &vub_net, VUB_BUG_NET_USED_FLAGS_BIT1 },
	{ "net-trunc-1500", &vub_net, VUB_BUG_NET_TRUNC_1500 },
	{ "net-rx-split-nomrg", &vub_net, VUB_BUG_NET_RX_SPLIT_NOMRG },
	{ "net-rx-reuse-last", &vub_net, VUB_BUG_NET_RX_REUSE_LAST },
	{ "net-kick-empty-repush", &vub_net, VUB_BUG_NET_KICK_EMPTY_REPUSH },
	{ "net-one-per-kick", &vub_net, VUB_BUG_NET_ONE_PER_KICK },
	{ "net-wrap-drop", &vub_net, VUB_BUG_NET_WRAP_DROP },
	{ "net-mac-multicast", &vub_net, VUB_BUG_NET_MAC_MULTICAST },
	{ "net-status-bits", &vub_net, VUB_BUG_NET_STATUS_BITS },
	{ "net-max-pairs-0", &vub_net, VUB_BUG_NET_MAX_PAIRS_0 },
	{ "net-mtu-0", &vub_net, VUB_BUG_NET_MTU_0 },
	{ "net-mrg-num-buffers-1", &vub_net, VUB_BUG_NET_MRG_NUM_BUFFERS_1 },
	{ "net-mrg-hdr-alone", &vub_net, VUB_BUG_NET_MRG_HDR_ALONE },
	{ "net-mrg-publish-each", &vub_net, VUB_BUG_NET_MRG_PUBLISH_EACH },
	{ "net-mrg-len-whole", &vub_net, VUB_BUG_NET_MRG_LEN_WHOLE },
	{ "net-mq-spread", &vub_net, VUB_BUG_NET_MQ_SPREAD },
	{ "net-mq-all-rx0", &vub_net, VUB_BUG_NET_MQ_ALL_RX0 },
	{ "net-ctrl-no-ack", &vub_net, VUB_BUG_NET_CTRL_NO_ACK },
	{ "net-ctrl-ok-all", &vub_net, VUB_BUG_NET_CTRL_OK_ALL },
	/* vhost-user protocol and memory */
	{ "vu-region-straddle", &vub_blk, VUB_BUG_VU_REGION_STRADDLE },
	{ "vu-ignore-mmap-offset", &vub_blk, VUB_BUG_VU_IGNORE_MMAP_OFFSET },
	{ "vu-keep-index-on-reset", &vub_blk, VUB_BUG_VU_KEEP_INDEX_ON_RESET },
	{ "vu-stale-event-idx", &vub_blk, VUB_BUG_VU_STALE_EVENT_IDX },
	{ "vu-ignore-disable", &vub_blk, VUB_BUG_VU_IGNORE_DISABLE },
	{ "vu-serve-after-stop", &vub_blk, VUB_BUG_VU_SERVE_AFTER_STOP },
	{ "vu-base-plus-one", &vub_blk, VUB_BUG_VU_BASE_PLUS_ONE },
	{ "vu-ignore-vring-base", &vub_blk, VUB_BUG_VU_IGNORE_VRING_BASE },
	{ "vu-kick-before-call", &vub_blk, VUB_BUG_VU_KICK_BEFORE_CALL },
	{ "vu-nack-disable", &vub_blk, VUB_BUG_VU_NACK_DISABLE },
	/* fs */
	{ "fs-tag-garbage", &vub_fs, VUB_BUG_FS_TAG_GARBAGE },
	{ "fs-config-queues-more", &vub_fs, VUB_BUG_FS_CONFIG_QUEUES_MORE },
	{ "fs-config-queues-zero", &vub_fs, VUB_BUG_FS_CONFIG_QUEUES_ZERO },
	{ "fs-forget-reply", &vub_fs, VUB_BUG_FS_FORGET_REPLY },
	{ "fs-hiprio-waits", &vub_fs, VUB_BUG_FS_HIPRIO_WAITS },
	{ "fs-mq-first-only", &vub_fs, VUB_BUG_FS_MQ_FIRST_ONLY },
	{ "fs-unique-off", &vub_fs, VUB_BUG_FS_UNIQUE_OFF },
	{ "fs-out-len-body", &vub_fs, VUB_BUG_FS_OUT_LEN_BODY },
	{ "fs-errno-positive", &vub_fs, VUB_BUG_FS_ERRNO_POSITIVE },
	{ "fs-error-body", &vub_fs, VUB_BUG_FS_ERROR_BODY },
	{ "fs-unknown-einval", &vub_fs, VUB_BUG_FS_UNKNOWN_EINVAL },
	{ "fs-init-major", &vub_fs, VUB_BUG_FS_INIT_MAJOR },
	{ "fs-init-max-write", &vub_fs, VUB_BUG_FS_INIT_MAX_WRITE },
	{ "fs-init-flags", &vub_fs, VUB_BUG_FS_INIT_FLAGS },
	{ "fs-lookup-missing-eio", &vub_fs, VUB_BUG_FS_LOOKUP_MISSING_EIO },
	{ "fs-stale-size", &vub_fs, VUB_BUG_FS_STALE_SIZE },
	{ "fs-read-offset", &vub_fs, VUB_BUG_FS_READ_OFFSET },
	{ "fs-read-short", &vub_fs, VUB_BUG_FS_READ_SHORT },
	{ "fs-write-count", &vub_fs, VUB_BUG_FS_WRITE_COUNT },
	{ "fs-dirent-pack", &vub_fs, VUB_BUG_FS_DIRENT_PACK },
	{ "fs-dirent-offset", &vub_fs, VUB_BUG_FS_DIRENT_OFFSET },
	{ "fs-hdr-first-desc", &vub_fs, VUB_BUG_FS_HDR_FIRST_DESC },
	{ "fs-write-first-seg", &vub_fs, VUB_BUG_FS_WRITE_FIRST_SEG },
	{ "fs-reply-first-desc", &vub_fs, VUB_BUG_FS_REPLY_FIRST_DESC },
	{ "fs-indirect-max-4", &vub_fs, VUB_BUG_FS_INDIRECT_MAX_4 },
	{ "fs-write-readable", &vub_fs, VUB_BUG_FS_WRITE_READABLE },
	{ "fs-write-desc", &vub_fs, VUB_BUG_FS_WRITE_DESC },
	{ "fs-past-buffer", &vub_fs, VUB_BUG_FS_PAST_BUFFER },
	{ "fs-used-len-header", &vub_fs, VUB_BUG_FS_USED_LEN_HEADER },
	{ "fs-used-len-over", &vub_fs, VUB_BUG_FS_USED_LEN_OVER },
	{ "fs-used-len-whole", &vub_fs, VUB_BUG_FS_USED_LEN_WHOLE },
	{ "fs-drop-every-8th", &vub_fs, VUB_BUG_FS_DROP_EVERY_8TH },
	{ "desc-next-by-index", &vub_blk, VUB_BUG_DESC_NEXT_BY_INDEX },
	{ "mq-num-queues-over", &vub_blk, VUB_BUG_MQ_NUM_QUEUES_OVER },
	{ "writes-need-flush", &vub_blk, VUB_BUG_WRITES_NEED_FLUSH },
	{ "vu-refuse-subset", &vub_blk, VUB_BUG_VU_REFUSE_SUBSET },
	{ "vu-reset-late-dma", &vub_blk, VUB_BUG_VU_RESET_LATE_DMA },
	{ "vu-max-regions-7", &vub_blk, VUB_BUG_VU_MAX_REGIONS_7 },
	/* packed rings and IN_ORDER */
	{ "packed-id-from-head", &vub_blk, VUB_BUG_PACKED_ID_FROM_HEAD },
	{ "packed-wrap-from-avail", &vub_blk, VUB_BUG_PACKED_WRAP_FROM_AVAIL },
	{ "packed-no-write-flag", &vub_blk, VUB_BUG_PACKED_NO_WRITE_FLAG },
	{ "packed-len-no-status", &vub_blk, VUB_BUG_PACKED_LEN_NO_STATUS },
	{ "packed-write-indirect", &vub_blk, VUB_BUG_PACKED_WRITE_INDIRECT },
	{ "packed-used-every-slot", &vub_blk, VUB_BUG_PACKED_USED_EVERY_SLOT },
	{ "packed-chain-wrap-cut", &vub_blk, VUB_BUG_PACKED_CHAIN_WRAP_CUT },
	{ "packed-indirect-next", &vub_blk, VUB_BUG_PACKED_INDIRECT_NEXT },
	{ "packed-qsize-pow2", &vub_blk, VUB_BUG_PACKED_QSIZE_POW2 },
	{ "packed-index-u16", &vub_blk, VUB_BUG_PACKED_INDEX_U16 },
	{ "packed-event-off-by-one", &vub_blk,
	  VUB_BUG_PACKED_EVENT_OFF_BY_ONE },
	{ "packed-ignore-disable", &vub_blk, VUB_BUG_PACKED_IGNORE_DISABLE },
	{ "in-order-reverse", &vub_blk, VUB_BUG_IN_ORDER_REVERSE },
	{ "in-order-batch-last", &vub_blk, VUB_BUG_IN_ORDER_BATCH_LAST },
	{ "packed-kicks-stay-off", &vub_blk, VUB_BUG_PACKED_KICKS_STAY_OFF },
	/* vhost-user memory hot-plug */
	{ "vu-add-unmapped", &vub_blk, VUB_BUG_VU_ADD_UNMAPPED },
	{ "vu-rem-keeps-old", &vub_blk, VUB_BUG_VU_REM_KEEPS_OLD },
	{ "vu-slots-overstated", &vub_blk, VUB_BUG_VU_SLOTS_OVERSTATED },
	/* a backend started again after a crash */
	{ "vu-inflight-drop", &vub_blk, VUB_BUG_VU_INFLIGHT_DROP },
	{ "vu-restart-skip-pending", &vub_blk,
	  VUB_BUG_VU_RESTART_SKIP_PENDING },
	{ "vu-restart-deaf", &vub_blk, VUB_BUG_VU_RESTART_DEAF },
	/* blk, all queues at once */
	{ "mq-shared-worker", &vub_blk, VUB_BUG_MQ_SHARED_WORKER },
	{ "mq-irq-queue0", &vub_blk, VUB_BUG_MQ_IRQ_QUEUE0 },
	{ "mq-disable-all", &vub_blk, VUB_BUG_MQ_DISABLE_ALL },
};

struct cli {
	const struct vub_type *type;
	struct vub_options opt;
	int fd; /* --fd: an already connected socket, or -1 */
	bool print_capabilities;
	const char *bug; /* --bug NAME, or NULL */
};

static void usage(FILE *f)
{
	fputs("usage: vuvm-backend blk|net|rng|fs --socket-path PATH | --fd N\n"
	      "         [--file F | --size SIZE] [--queues N] [--reorder N]\n"
	      "         [--read-only] [--shared-dir DIR] [--tag TAG]\n"
	      "         [--no-feature NAME]... [--log-level LEVEL]\n"
	      "         [--die-after N] [--die-after-push N] [--bug NAME]\n"
	      "       vuvm-backend blk|net|rng|fs --print-capabilities\n"
	      "       vuvm-backend --help | --version\n"
	      "\n"
	      "  blk: --file F (O_RDWR, size rounded down to 512) or --size\n"
	      "       SIZE of RAM (default 64M; K/M/G suffixes); --queues N\n"
	      "       request queues (default 1); --reorder N: take up to N\n"
	      "       requests (1-32, default 1), carry them out, complete\n"
	      "       them in reverse order (in order with IN_ORDER);\n"
	      "       --read-only: offer RO, writes, DISCARD and\n"
	      "       WRITE_ZEROES fail with IOERR; device state save/load\n"
	      "  net: loopback, TX queue 2k+1 comes back on RX queue 2k;\n"
	      "       --queues N queue pairs (default 1)\n"
	      "  rng: random bytes into every writable buffer\n"
	      "  fs: a FUSE server over --shared-dir DIR (required),\n"
	      "       confined to it; --queues N request queues (default\n"
	      "       1, at most 16) after the hiprio queue; --tag TAG the\n"
	      "       config tag (1-36 bytes, default vuvm)\n"
	      "\n"
	      "  --no-feature: indirect_desc event_idx ring_packed in_order\n"
	      "       proto_mq reply_ack\n"
	      "       backend_req config reset_device configure_mem_slots\n"
	      "       proto_status inflight_shmfd device_state; blk: mq\n"
	      "       seg_max blk_size flush discard\n"
	      "       write_zeroes; net: mq mac status mrg_rxbuf mtu\n"
	      "  --log-level: error warn info debug (default warn)\n"
	      "  --die-after N: test aid: SIGKILL ourselves on taking the\n"
	      "       Nth request, leaving it in flight\n"
	      "  --die-after-push N: test aid: SIGKILL ourselves right\n"
	      "       after completing the Nth request\n"
	      "  --bug NAME: test aid: inject one known defect\n"
	      "       that vuvm-check must catch; blk: hdr-first-desc\n"
	      "       status-desc-start first-data-seg indirect-max-8\n"
	      "       indirect-after-chain write-readable write-desc\n"
	      "       write-past-buffer used-len-short unsupp-ok\n"
	      "       range-off-by-one zeroes-noop get-id-overfill\n"
	      "       evidx-off-by-one evidx-equal-old evidx-always\n"
	      "       evidx-honours-flag used-flags-evidx spurious-kick-dies\n"
	      "       avail-event-stale irq-coalesce used-event-always\n"
	      "       irq-ignore-flag hold-while-no-irq avail-event-no-evidx\n"
	      "       used-idx-early qsize-min-4 qsize-1-refused wrap-stall\n"
	      "       last-sector-ioerr sector-units-4k config-padding\n"
	      "       no-flush-offered flush-ioerr ro-writes discard-unmap-ok\n"
	      "       dz-flags-ignored zeroes-unmap-noop discard-seg-1\n"
	      "       zeroes-seg-1 dz-config-zero blk-size-odd "
	      "get-id-needs-21\n"
	      "       used-len-status-err mq-last-queue-dead mq-queue-offset\n"
	      "       mq-num-queues-one desc-next-by-index\n"
	      "       mq-num-queues-over writes-need-flush vu-refuse-subset\n"
	      "       vu-reset-late-dma vu-max-regions-7 vu-add-unmapped\n"
	      "       vu-rem-keeps-old vu-slots-overstated mq-shared-worker\n"
	      "       mq-irq-queue0 mq-disable-all;\n"
	      "       blk, restarted after a crash: vu-inflight-drop\n"
	      "       vu-restart-skip-pending vu-restart-deaf;\n"
	      "       rng: rng-first-desc-only rng-len-plus-one\n"
	      "       rng-past-buffer rng-zero-len-big rng-short-honest\n"
	      "       rng-constant rng-top-bit rng-indirect-after-chain\n"
	      "       rng-write-desc rng-double-complete rng-wrap-stall\n"
	      "       rng-tail-unwritten rng-indirect-max-4\n"
	      "       rng-spurious-kick-dies;\n"
	      "       net: net-tx-hdr-alone net-tx-first-seg\n"
	      "       net-rx-first-desc net-rx-hdr-alone\n"
	      "       net-tx-indirect-max-4 net-rx-indirect-max-4\n"
	      "       net-indirect-after-chain net-write-tx net-write-desc\n"
	      "       net-rx-past-buffer net-rx-len-plus-one\n"
	      "       net-rx-len-whole net-num-buffers-0\n"
	      "       net-hdr-data-valid net-hdr-gso net-tx-leak\n"
	      "       net-tx-len-frame net-used-flags-evidx\n"
	      "       net-used-flags-bit1 net-trunc-1500\n"
	      "       net-rx-split-nomrg net-rx-reuse-last\n"
	      "       net-kick-empty-repush net-one-per-kick net-wrap-drop\n"
	      "       net-mac-multicast net-status-bits net-max-pairs-0\n"
	      "       net-mtu-0 net-mrg-num-buffers-1 net-mrg-hdr-alone\n"
	      "       net-mrg-publish-each net-mrg-len-whole net-mq-spread\n"
	      "       net-mq-all-rx0 net-ctrl-no-ack net-ctrl-ok-all;\n"
	      "       fs: fs-tag-garbage fs-config-queues-more\n"
	      "       fs-config-queues-zero fs-forget-reply fs-hiprio-waits\n"
	      "       fs-mq-first-only fs-unique-off fs-out-len-body\n"
	      "       fs-errno-positive fs-error-body fs-unknown-einval\n"
	      "       fs-init-major fs-init-max-write fs-init-flags\n"
	      "       fs-lookup-missing-eio fs-stale-size fs-read-offset\n"
	      "       fs-read-short fs-write-count fs-dirent-pack\n"
	      "       fs-dirent-offset fs-hdr-first-desc fs-write-first-seg\n"
	      "       fs-reply-first-desc fs-indirect-max-4\n"
	      "       fs-write-readable fs-write-desc fs-past-buffer\n"
	      "       fs-used-len-header fs-used-len-over fs-used-len-whole\n"
	      "       fs-drop-every-8th\n"
	      "  blk and rng track in-flight requests (INFLIGHT_SHMFD)\n"
	      "\n"
	      "Exit status: 0 frontend gone or SIGTERM/SIGINT, 1 failure,\n"
	      "2 usage error. See docs/devices.md.\n",
	      f);
}

/* One line on stderr, then -EINVAL: main exits 2. */
__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt,
							     ...)
{
	va_list ap;

	fputs("vuvm-backend: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see vuvm-backend --help)\n", stderr);
	return -EINVAL;
}

static int no_feature(struct cli *c, const char *name)
{
	bool known = false;

	for (size_t i = 0; i < sizeof(feature_names) / sizeof(*feature_names);
	     i++) {
		const struct feature_name *f = &feature_names[i];

		if (strcmp(f->name, name))
			continue;
		known = true;
		if (f->type && f->type != c->type)
			continue;
		if (f->protocol)
			c->opt.no_protocol_features |= 1ull << f->bit;
		else
			c->opt.no_features |= 1ull << f->bit;
		return 0;
	}
	return usage_error(known ? "feature '%s' does not apply to this device"
				 : "unknown feature '%s'",
			   name);
}

/* The valid --bug names for the error message. */
static int unknown_bug(const char *name)
{
	char list[4096] = "";
	size_t n = 0;

	for (size_t i = 0;
	     i < sizeof(bug_names) / sizeof(*bug_names) && n < sizeof(list);
	     i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, " %s",
				      bug_names[i].name);
	return usage_error("unknown bug '%s'; valid:%s", name, list);
}

static int set_bug(struct cli *c, const char *name)
{
	if (c->bug)
		return usage_error("--bug given twice (one defect at a time)");
	for (size_t i = 0; i < sizeof(bug_names) / sizeof(*bug_names); i++) {
		const struct bug_name *g = &bug_names[i];

		if (strcmp(g->name, name))
			continue;
		if (g->type != c->type)
			return usage_error("bug '%s' does not apply to %s",
					   name, c->type->name);
		c->bug = g->name;
		c->opt.bug = g->bug;
		return 0;
	}
	return unknown_bug(name);
}

static int parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

enum {
	OPT_LOG_LEVEL = 256,
	OPT_PRINT_CAPS,
	OPT_REORDER,
	OPT_DIE_AFTER,
	OPT_DIE_AFTER_PUSH,
	OPT_BUG,
	OPT_READ_ONLY,
	OPT_SHARED_DIR,
	OPT_TAG
};

static const struct option long_opts[] = {
	{ "socket-path", required_argument, NULL, 's' },
	{ "fd", required_argument, NULL, 'F' },
	{ "file", required_argument, NULL, 'f' },
	{ "size", required_argument, NULL, 'S' },
	{ "queues", required_argument, NULL, 'q' },
	{ "no-feature", required_argument, NULL, 'n' },
	{ "reorder", required_argument, NULL, OPT_REORDER },
	{ "die-after", required_argument, NULL, OPT_DIE_AFTER },
	{ "die-after-push", required_argument, NULL, OPT_DIE_AFTER_PUSH },
	{ "bug", required_argument, NULL, OPT_BUG },
	{ "read-only", no_argument, NULL, OPT_READ_ONLY },
	{ "shared-dir", required_argument, NULL, OPT_SHARED_DIR },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "print-capabilities", no_argument, NULL, OPT_PRINT_CAPS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* One option; 1 for --help, 2 for --version, 0 or -EINVAL. */
static int parse_opt(struct cli *c, int o, const char *arg, const char *opt)
{
	unsigned int fd, n;
	enum log_level level;

	switch (o) {
	case 's':
		c->opt.socket_path = arg;
		return 0;
	case 'F':
		if (parse_uint(arg, INT32_MAX, &fd))
			return usage_error("bad --fd '%s'", arg);
		c->fd = (int)fd;
		return 0;
	case 'f':
		c->opt.file = arg;
		return 0;
	case 'S':
		if (vub_parse_size(arg, &c->opt.size) ||
		    c->opt.size < VIRTIO_BLK_SECTOR_SIZE)
			return usage_error("bad --size '%s' (at least 512)",
					   arg);
		return 0;
	case 'q':
		if (parse_uint(arg, VHU_BACKEND_MAX_QUEUES, &c->opt.queues) ||
		    !c->opt.queues)
			return usage_error("bad --queues '%s'", arg);
		return 0;
	case 'n':
		return no_feature(c, arg);
	case OPT_REORDER:
		if (parse_uint(arg, VUB_MAX_REORDER, &c->opt.reorder) ||
		    !c->opt.reorder)
			return usage_error("bad --reorder '%s' (1..%u)", arg,
					   VUB_MAX_REORDER);
		return 0;
	case OPT_DIE_AFTER:
		if (parse_uint(arg, INT32_MAX, &n) || !n)
			return usage_error("bad --die-after '%s'", arg);
		c->opt.die_after = n;
		return 0;
	case OPT_DIE_AFTER_PUSH:
		if (parse_uint(arg, INT32_MAX, &n) || !n)
			return usage_error("bad --die-after-push '%s'", arg);
		c->opt.die_after_push = n;
		return 0;
	case OPT_BUG:
		return set_bug(c, arg);
	case OPT_READ_ONLY:
		c->opt.read_only = true;
		return 0;
	case OPT_SHARED_DIR:
		c->opt.shared_dir = arg;
		return 0;
	case OPT_TAG:
		if (!*arg || strlen(arg) > 36)
			return usage_error("bad --tag '%s' (1 to 36 bytes)",
					   arg);
		c->opt.tag = arg;
		return 0;
	case OPT_PRINT_CAPS:
		c->print_capabilities = true;
		return 0;
	case OPT_LOG_LEVEL:
		if (log_parse_level(arg, &level))
			return usage_error("bad --log-level '%s'", arg);
		log_set_level(level);
		return 0;
	case 'h':
		return 1;
	case 'V':
		return 2;
	default:
		return usage_error("bad option '%s'", opt);
	}
}

static int parse_type(struct cli *c, const char *name)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (!strcmp(types[i]->name, name))
			c->type = types[i];
	return c->type ? 0 : usage_error("unknown device type '%s'", name);
}

/* Checks what only makes sense together. */
static int check_cli(struct cli *c)
{
	if (c->print_capabilities)
		return 0;
	if (!c->opt.socket_path == (c->fd < 0))
		return usage_error(
			"give exactly one of --socket-path and --fd");
	if (c->opt.file && c->opt.size)
		return usage_error("--file and --size exclude each other");
	if ((c->opt.file || c->opt.size) && c->type != &vub_blk)
		return usage_error("--file and --size are for blk");
	if (c->opt.reorder && c->type != &vub_blk)
		return usage_error("--reorder is for blk");
	if (c->opt.read_only && c->type != &vub_blk)
		return usage_error("--read-only is for blk");
	if ((c->opt.shared_dir || c->opt.tag) && c->type != &vub_fs)
		return usage_error("--shared-dir and --tag are for fs");
	if (c->type == &vub_fs && !c->opt.shared_dir)
		return usage_error("fs needs --shared-dir DIR");
	if (c->opt.queues > c->type->max_queues)
		return usage_error("--queues: at most %u for %s",
				   c->type->max_queues, c->type->name);
	return 0;
}

/* Returns 0, 1 for --help, 2 for --version, or -EINVAL (the error
 * printed). */
static int parse_cli(struct cli *c, int argc, char **argv)
{
	int o, r;

	*c = (struct cli){ .fd = -1 };
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return 1;
	if (argc > 1 && !strcmp(argv[1], "--version"))
		return 2;
	if (argc < 2 || argv[1][0] == '-')
		return usage_error("the device type comes first");
	if (parse_type(c, argv[1]))
		return -EINVAL;
	optind = 2;
	opterr = 0; /* we say what was wrong ourselves */
	while ((o = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		r = parse_opt(c, o, optarg, argv[optind - 1]);
		if (r)
			return r;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return check_cli(c);
}

/* ------------------------------------------------------------------------ */
/* vhost/backend.h callbacks                                                 */

static struct vub *vub_of(struct vhu_backend *dev)
{
	return dev->opaque;
}

static uint64_t ops_get_features(struct vhu_backend *dev)
{
	return vub_of(dev)->features;
}

/* INFLIGHT_SHMFD where the device completes every request it pops within
 * one serve call (net holds RX buffers across calls: it does not); the
 * library records pops and pushes in the region. DEVICE_STATE where the
 * device can save and load itself. */
static uint64_t ops_get_protocol_features(struct vhu_backend *dev)
{
	const struct vub_type *t = vub_of(dev)->type;
	uint64_t f = VHU_BACKEND_PROTOCOL_FEATURES &
		     ~vub_of(dev)->opt.no_protocol_features;

	if (!t->inflight)
		f &= ~(1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	if (!t->set_state_fd)
		f &= ~(1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE);
	return f;
}

static int ops_set_device_state_fd(struct vhu_backend *dev, uint32_t direction,
				   uint32_t phase, int fd, int *reply_fd)
{
	struct vub *b = vub_of(dev);

	if (!b->type->set_state_fd) {
		close(fd);
		return -ENOTSUP;
	}
	return b->type->set_state_fd(b, direction, fd);
}

static int ops_check_device_state(struct vhu_backend *dev)
{
	struct vub *b = vub_of(dev);

	return b->type->check_state ? b->type->check_state(b) : -ENOTSUP;
}

static int ops_get_config(struct vhu_backend *dev, uint32_t offset, void *buf,
			  uint32_t size)
{
	struct vub *b = vub_of(dev);

	return b->type->get_config(b, offset, buf, size);
}

/* A (re)started ring was just initialised: serve it again. */
static void ops_queue_start(struct vhu_backend *dev, unsigned int index)
{
	struct vub *b = vub_of(dev);

	b->dead[index] = false;
	pr_debug("queue %u running", index);
	vub_vu_bug_queue_start(b, index);
	if (b->type->queue_start)
		b->type->queue_start(b, index);
}

static void ops_queue_stop(struct vhu_backend *dev, unsigned int index)
{
	pr_debug("queue %u stopped", index);
	vub_vu_bug_queue_stop(vub_of(dev), index);
}

static void ops_reset(struct vhu_backend *dev)
{
	vub_vu_bug_reset(vub_of(dev));
}

static int ops_set_features(struct vhu_backend *dev, uint64_t features)
{
	return vub_vu_bug_set_features(vub_of(dev), features);
}

static const struct vhu_backend_ops vub_ops = {
	.get_features = ops_get_features,
	.get_protocol_features = ops_get_protocol_features,
	.get_config = ops_get_config,
	.queue_start = ops_queue_start,
	.queue_stop = ops_queue_stop,
	.reset = ops_reset,
	.set_features = ops_set_features,
	.set_device_state_fd = ops_set_device_state_fd,
	.check_device_state = ops_check_device_state,
};

/* ------------------------------------------------------------------------ */
/* The event loop                                                            */

enum { PFD_SIGNAL, PFD_SOCK, PFD_KICKS };

struct loop_fds {
	struct pollfd pfd[PFD_KICKS + VHU_BACKEND_MAX_QUEUES];
	unsigned int queue[VHU_BACKEND_MAX_QUEUES]; /* of pfd[PFD_KICKS + i] */
	unsigned int n;
	bool busy; /* a running queue has no kick fd, or resubmits */
};

static void collect_fds(struct vub *b, int sigfd, struct loop_fds *l)
{
	l->pfd[PFD_SIGNAL] = (struct pollfd){ sigfd, POLLIN, 0 };
	l->pfd[PFD_SOCK] = (struct pollfd){ b->dev.sock, POLLIN, 0 };
	l->n = PFD_KICKS;
	l->busy = false;
	for (unsigned int i = 0; i < b->num_queues; i++) {
		struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, i);

		/* The library fails a ring itself when a new memory table
		 * no longer holds it. */
		if (vq->running && !b->dead[i] && vq->vring.err)
			vub_queue_failed(b, i, vq->vring.err);
		if (!vub_queue_ok(b, i))
			continue;
		/* Requests a previous process left in flight are served
		 * without waiting for a kick that may never come. */
		if (vq->vring.resubmit)
			l->busy = true;
		if (vq->kick_fd < 0) {
			l->busy = true;
			continue;
		}
		l->queue[l->n - PFD_KICKS] = i;
		l->pfd[l->n++] = (struct pollfd){ vq->kick_fd, POLLIN, 0 };
	}
}

/* Serves the queues whose kick fd fired, then the polled ones. */
static void serve_queues(struct vub *b, const struct loop_fds *l)
{
	for (unsigned int i = PFD_KICKS; i < l->n; i++) {
		unsigned int q = l->queue[i - PFD_KICKS];
		int r;

		if (!l->pfd[i].revents)
			continue;
		r = vhu_backend_vq_drain_kick(vhu_backend_vq(&b->dev, q));
		if (r < 0 || (l->pfd[i].revents & (POLLERR | POLLNVAL))) {
			pr_err("queue %u: kick fd unusable (%s); no longer "
			       "served",
			       q, r < 0 ? strerror(-r) : "poll error");
			b->dead[q] = true;
			continue;
		}
		b->type->serve(b, q);
	}
	for (unsigned int q = 0; l->busy && q < b->num_queues; q++) {
		struct vhu_backend_vq *vq = vhu_backend_vq(&b->dev, q);

		if (vub_queue_ok(b, q) && (vq->kick_nofd || vq->vring.resubmit))
			b->type->serve(b, q);
	}
}

/* A signal ends the session cleanly: returns 0. */
static int read_signal(int sigfd)
{
	struct signalfd_siginfo si;

	if (read(sigfd, &si, sizeof(si)) == sizeof(si))
		pr_info("%s: exiting", strsignal((int)si.ssi_signo));
	return 0;
}

/* Serves the connected frontend. 0 when it hung up or on a signal. */
static int serve(struct vub *b, int sigfd)
{
	struct loop_fds l;
	int r;

	for (;;) {
		collect_fds(b, sigfd, &l);
		r = poll(l.pfd, l.n, l.busy ? 0 : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (l.pfd[PFD_SIGNAL].revents)
			return read_signal(sigfd);
		serve_queues(b, &l);
		if (!l.pfd[PFD_SOCK].revents)
			continue;
		r = vhu_backend_dispatch(&b->dev);
		if (r == -ECONNRESET) {
			pr_info("the frontend hung up");
			return 0;
		}
		if (r) {
			pr_err("connection failed: %s", strerror(-r));
			return r;
		}
	}
}

/* Waits for the frontend; returns its socket, -ECANCELED on a signal, or
 * -errno. */
static int wait_frontend(int listen_fd, int sigfd)
{
	struct pollfd pfd[2] = { { sigfd, POLLIN, 0 },
				 { listen_fd, POLLIN, 0 } };
	int r;

	do {
		r = poll(pfd, 2, -1);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (pfd[0].revents) {
		read_signal(sigfd);
		return -ECANCELED;
	}
	return vhu_backend_accept(listen_fd, 0);
}

/* SIGTERM/SIGINT arrive through a signalfd so that the loop ends cleanly;
 * SIGPIPE is ignored so a vanished frontend is an error return, not death. */
static int setup_signals(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The socket file to remove if we die of SIGBUS, or NULL. */
static const char *sigbus_unlink;

/*
 * Guest memory is the frontend's memfd: a frontend that shrinks it under
 * our mapping makes the next access fault with SIGBUS. That cannot be
 * undone mid-request, so say why and go, leaving no socket file behind.
 * Only async-signal-safe calls here.
 */
static void on_sigbus(int sig)
{
	static const char msg[] = "vuvm-backend: main: SIGBUS: guest memory "
				  "was truncated under us; exiting\n";

	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to say */
	}
	if (sigbus_unlink)
		unlink(sigbus_unlink);
	_exit(1);
}

static void catch_sigbus(const char *path)
{
	struct sigaction sa = { .sa_handler = on_sigbus };

	sigbus_unlink = path;
	sigaction(SIGBUS, &sa, NULL);
}

/*
 * Gets the frontend's socket: inherited, or listened for and accepted.
 * Returns the socket, -ECANCELED when a signal came first, or -errno.
 * *@bound says whether we created the socket file (and must remove it):
 * a file we did not create is never removed.
 */
static int get_frontend(struct vub *b, int fd, int sigfd, bool *bound)
{
	int listen_fd, sock;

	*bound = false;
	if (fd >= 0) {
		catch_sigbus(NULL);
		return fd;
	}
	listen_fd = vhu_backend_listen(b->opt.socket_path);
	if (listen_fd < 0)
		return listen_fd;
	*bound = true;
	catch_sigbus(b->opt.socket_path);
	pr_info("listening on %s", b->opt.socket_path);
	sock = wait_frontend(listen_fd, sigfd);
	close(listen_fd);
	if (sock < 0 && sock != -ECANCELED)
		pr_err("accept on %s: %s", b->opt.socket_path, strerror(-sock));
	return sock;
}

static int run(struct vub *b, int fd)
{
	int sigfd = setup_signals(), sock, r;
	bool bound;

	if (sigfd < 0) {
		pr_err("signals: %s", strerror(-sigfd));
		return sigfd;
	}
	sock = get_frontend(b, fd, sigfd, &bound);
	if (sock < 0) {
		r = sock == -ECANCELED ? 0 : sock;
		goto out;
	}
	r = vhu_backend_init(&b->dev, sock, b->num_queues, VUB_MAX_QUEUE_SIZE,
			     &vub_ops, b);
	if (r) {
		close(sock);
		goto out;
	}
	vub_vu_bug_connected(b);
	r = serve(b, sigfd);
	vhu_backend_cleanup(&b->dev);
out:
	if (bound)
		unlink(b->opt.socket_path);
	close(sigfd);
	return r;
}

static int print_capabilities(const struct vub_type *t)
{
	printf("{\"type\":\"%s\"}\n", t->capability);
	return fflush(stdout) ? 1 : 0;
}

static int alloc_iov(struct vub *b)
{
	/* net with MRG_RXBUF holds a frame's receive chains at once. */
	unsigned int n = b->type == &vub_net  ? VUB_MAX_REORDER
			 : b->opt.reorder > 2 ? b->opt.reorder
					      : 2;

	if ((b->opt.bug == VUB_BUG_IN_ORDER_REVERSE ||
	     b->opt.bug == VUB_BUG_IN_ORDER_BATCH_LAST) &&
	    n < 8)
		n = 8; /* its batches (blk.c) */

	for (unsigned int i = 0; i < n; i++) {
		b->iov[i] = calloc(VUB_IOV_MAX, sizeof(struct iovec));
		if (!b->iov[i])
			return -ENOMEM;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vub b = { 0 };
	struct cli c;
	int r;

	log_set_program("vuvm-backend");
	r = parse_cli(&c, argc, argv);
	if (r == 1)
		usage(stdout);
	if (r == 2)
		printf("vuvm-backend %s\n", VUVM_VERSION);
	if (r)
		return r > 0 ? 0 : EXIT_USAGE;
	if (c.print_capabilities)
		return print_capabilities(c.type);
	b.type = c.type;
	b.opt = c.opt;
	if (alloc_iov(&b) || b.type->setup(&b))
		return 1;
	b.features &= ~b.opt.no_features;
	if (c.bug)
		pr_warn("defect '%s' injected on purpose (--bug)", c.bug);
	r = run(&b, c.fd);
	b.type->teardown(&b);
	for (unsigned int i = 0; i < VUB_MAX_REORDER; i++)
		free(b.iov[i]);
	return r ? 1 : 0;
}
