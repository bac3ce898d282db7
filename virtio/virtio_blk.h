/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2, "Block Device"): feature bits, the config space,
 * and the request format. A request is a chain: a readable struct
 * virtio_blk_outhdr, the data (readable for OUT, DISCARD, WRITE_ZEROES,
 * writable for IN and GET_ID), then one writable status byte.
 *
 * Freestanding: no libc or OS header, so the guest includes it too.
 */
#ifndef VUVM_VIRTIO_BLK_H
#define VUVM_VIRTIO_BLK_H

#include <stddef.h>
#include <stdint.h>

/* Feature bits. */
#define VIRTIO_BLK_F_BARRIER	  0 /* legacy */
#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_GEOMETRY	  4
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_SCSI	  7 /* legacy */
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_TOPOLOGY	  10
#define VIRTIO_BLK_F_CONFIG_WCE	  11
#define VIRTIO_BLK_F_MQ		  12
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define VIRTIO_BLK_F_LIFETIME	  15
#define VIRTIO_BLK_F_SECURE_ERASE 16
#define VIRTIO_BLK_F_ZONED	  17

/* Sectors are always 512 bytes, whatever blk_size says. */
#define VIRTIO_BLK_SECTOR_SIZE	512
#define VIRTIO_BLK_SECTOR_SHIFT 9
/* GET_ID writes at most this many bytes (no terminator when full). */
#define VIRTIO_BLK_ID_BYTES 20

struct virtio_blk_geometry {
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
};
_Static_assert(sizeof(struct virtio_blk_geometry) == 4, "blk geometry");

struct virtio_blk_topology {
	uint8_t physical_block_exp; /* log2 of logical blocks per physical */
	uint8_t alignment_offset;
	uint16_t min_io_size; /* in logical blocks */
	uint32_t opt_io_size; /* in logical blocks */
};
_Static_assert(sizeof(struct virtio_blk_topology) == 8, "blk topology");

struct virtio_blk_zoned_characteristics {
	uint32_t zone_sectors;
	uint32_t max_open_zones;
	uint32_t max_active_zones;
	uint32_t max_append_sectors;
	uint32_t write_granularity;
	uint8_t model;
	uint8_t unused2[3];
};
_Static_assert(sizeof(struct virtio_blk_zoned_characteristics) == 24,
	       "blk zoned");

/*
 * Config space. Fields past capacity are valid only with their feature
 * bit. Every field is naturally aligned in the spec's layout, so the struct
 * needs no packing; the offset asserts below keep it honest.
 */
struct virtio_blk_config {
	uint64_t capacity; /* in 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	struct virtio_blk_geometry geometry;
	uint32_t blk_size;
	struct virtio_blk_topology topology;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	uint32_t max_secure_erase_sectors;
	uint32_t max_secure_erase_seg;
	uint32_t secure_erase_sector_alignment;
	struct virtio_blk_zoned_characteristics zoned;
};
_Static_assert(sizeof(struct virtio_blk_config) == 96, "blk config");
_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20, "blk_size");
_Static_assert(offsetof(struct virtio_blk_config, num_queues) == 34,
	       "num_queues");
_Static_assert(offsetof(struct virtio_blk_config, max_discard_sectors) == 36,
	       "max_discard_sectors");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56,
	       "write_zeroes_may_unmap");
_Static_assert(offsetof(struct virtio_blk_config, zoned) == 72, "zoned");

/* Request types. */
#define VIRTIO_BLK_T_IN		    0
#define VIRTIO_BLK_T_OUT	    1
#define VIRTIO_BLK_T_FLUSH	    4
#define VIRTIO_BLK_T_GET_ID	    8
#define VIRTIO_BLK_T_GET_LIFETIME   10
#define VIRTIO_BLK_T_DISCARD	    11
#define VIRTIO_BLK_T_WRITE_ZEROES   13
#define VIRTIO_BLK_T_SECURE_ERASE   14
#define VIRTIO_BLK_T_ZONE_APPEND    15
#define VIRTIO_BLK_T_ZONE_REPORT    16
#define VIRTIO_BLK_T_ZONE_OPEN	    18
#define VIRTIO_BLK_T_ZONE_CLOSE	    20
#define VIRTIO_BLK_T_ZONE_FINISH    22
#define VIRTIO_BLK_T_ZONE_RESET	    24
#define VIRTIO_BLK_T_ZONE_RESET_ALL 26

/* The readable header that starts every request. */
struct virtio_blk_outhdr {
	uint32_t type;	   /* VIRTIO_BLK_T_* */
	uint32_t reserved; /* "ioprio" in legacy */
	uint64_t sector;   /* in 512-byte sectors */
};
_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "blk request header");

/* Status byte, the last (writable) byte of every request. */
#define VIRTIO_BLK_S_OK			  0
#define VIRTIO_BLK_S_IOERR		  1
#define VIRTIO_BLK_S_UNSUPP		  2
#define VIRTIO_BLK_S_ZONE_INVALID_CMD	  3
#define VIRTIO_BLK_S_ZONE_UNALIGNED_WP	  4
#define VIRTIO_BLK_S_ZONE_OPEN_RESOURCE	  5
#define VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE 6

/* DISCARD, WRITE_ZEROES and SECURE_ERASE data: an array of these. */
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 0x1
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags; /* bit 0: unmap (WRITE_ZEROES only) */
};
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16,
	       "blk discard segment");

/* GET_LIFETIME reply. */
struct virtio_blk_lifetime {
	uint16_t pre_eol_info;
	uint16_t device_lifetime_est_typ_a;
	uint16_t device_lifetime_est_typ_b;
};
_Static_assert(sizeof(struct virtio_blk_lifetime) == 6, "blk lifetime");

#endif
