/* SPDX-License-Identifier: MIT */
/*
 * The FUSE wire protocol, as much of it as the guest's FUSE client speaks
 * (protocol 7.31, the version virtio-fs backends of 2020 on negotiate).
 * Written from the protocol's description: every request is an in-header
 * followed by the opcode's arguments (names NUL-terminated), every reply
 * an out-header followed by the opcode's reply; all little-endian on x86,
 * no padding beyond what the fields say. The _Static_asserts pin each
 * size, since a server reads them by size.
 *
 * Freestanding: only <stdint.h>.
 */
#ifndef VUVM_GUEST_FUSE_PROTO_H
#define VUVM_GUEST_FUSE_PROTO_H

#include <stdint.h>

#define FUSE_KERNEL_VERSION	  7
#define FUSE_KERNEL_MINOR_VERSION 31
#define FUSE_ROOT_ID		  1

enum fuse_opcode {
	FUSE_LOOKUP = 1,
	FUSE_FORGET = 2, /* no reply */
	FUSE_GETATTR = 3,
	FUSE_SETATTR = 4,
	FUSE_MKDIR = 9,
	FUSE_UNLINK = 10,
	FUSE_RMDIR = 11,
	FUSE_RENAME = 12,
	FUSE_OPEN = 14,
	FUSE_READ = 15,
	FUSE_WRITE = 16,
	FUSE_STATFS = 17,
	FUSE_RELEASE = 18,
	FUSE_FSYNC = 20,
	FUSE_FLUSH = 25,
	FUSE_INIT = 26,
	FUSE_OPENDIR = 27,
	FUSE_READDIR = 28,
	FUSE_RELEASEDIR = 29,
	FUSE_CREATE = 35,
	FUSE_DESTROY = 38,
	FUSE_BATCH_FORGET = 42, /* no reply */
	FUSE_READDIRPLUS = 44,
};

/* INIT flags (fuse_init_in.flags / fuse_init_out.flags). */
#define FUSE_ASYNC_READ	      (1u << 0)
#define FUSE_ATOMIC_O_TRUNC   (1u << 3)
#define FUSE_BIG_WRITES	      (1u << 5)
#define FUSE_DO_READDIRPLUS   (1u << 13)
#define FUSE_READDIRPLUS_AUTO (1u << 14)
#define FUSE_PARALLEL_DIROPS  (1u << 18)
#define FUSE_MAX_PAGES	      (1u << 22)

/* SETATTR valid bits. */
#define FATTR_MODE (1u << 0)
#define FATTR_SIZE (1u << 3)
#define FATTR_FH   (1u << 6)

/* open(2) flags and mode bits, Linux x86 values. */
#define FUSE_O_RDONLY 0
#define FUSE_O_WRONLY 1
#define FUSE_O_RDWR   2
#define FUSE_O_CREAT  0100
#define FUSE_O_EXCL   0200
#define FUSE_O_TRUNC  01000
#define FUSE_S_IFMT   0170000
#define FUSE_S_IFDIR  0040000
#define FUSE_S_IFREG  0100000

/* errno values (Linux) the client expects by name. */
#define FUSE_ENOENT    2
#define FUSE_EEXIST    17
#define FUSE_ENOTDIR   20
#define FUSE_EISDIR    21
#define FUSE_EINVAL    22
#define FUSE_ENOSYS    38
#define FUSE_ENOTEMPTY 39
#define FUSE_MAX_ERRNO 4095

/* Directory entry types (d_type). */
#define FUSE_DT_DIR 4
#define FUSE_DT_REG 8

struct fuse_in_header {
	uint32_t len; /* the whole request, header included */
	uint32_t opcode;
	uint64_t unique;
	uint64_t nodeid;
	uint32_t uid, gid, pid;
	uint32_t padding;
};
_Static_assert(sizeof(struct fuse_in_header) == 40, "fuse_in_header");

struct fuse_out_header {
	uint32_t len;  /* the whole reply, header included */
	int32_t error; /* 0 or a negative errno */
	uint64_t unique;
};
_Static_assert(sizeof(struct fuse_out_header) == 16, "fuse_out_header");

struct fuse_attr {
	uint64_t ino, size, blocks;
	uint64_t atime, mtime, ctime;
	uint32_t atimensec, mtimensec, ctimensec;
	uint32_t mode, nlink, uid, gid, rdev, blksize;
	uint32_t flags;
};
_Static_assert(sizeof(struct fuse_attr) == 88, "fuse_attr");

struct fuse_entry_out {
	uint64_t nodeid, generation;
	uint64_t entry_valid, attr_valid;
	uint32_t entry_valid_nsec, attr_valid_nsec;
	struct fuse_attr attr;
};
_Static_assert(sizeof(struct fuse_entry_out) == 128, "fuse_entry_out");

struct fuse_forget_in {
	uint64_t nlookup;
};

struct fuse_forget_one {
	uint64_t nodeid, nlookup;
};

struct fuse_batch_forget_in {
	uint32_t count, dummy; /* then count struct fuse_forget_one */
};

struct fuse_getattr_in {
	uint32_t getattr_flags, dummy;
	uint64_t fh;
};
_Static_assert(sizeof(struct fuse_getattr_in) == 16, "fuse_getattr_in");

struct fuse_attr_out {
	uint64_t attr_valid;
	uint32_t attr_valid_nsec, dummy;
	struct fuse_attr attr;
};
_Static_assert(sizeof(struct fuse_attr_out) == 104, "fuse_attr_out");

struct fuse_setattr_in {
	uint32_t valid, padding;
	uint64_t fh, size, lock_owner;
	uint64_t atime, mtime, ctime;
	uint32_t atimensec, mtimensec, ctimensec;
	uint32_t mode, unused4, uid, gid, unused5;
};
_Static_assert(sizeof(struct fuse_setattr_in) == 88, "fuse_setattr_in");

struct fuse_mkdir_in {
	uint32_t mode, umask; /* then the name */
};

struct fuse_rename_in {
	uint64_t newdir; /* then the old name, then the new name */
};

struct fuse_open_in {
	uint32_t flags, open_flags;
};

struct fuse_create_in {
	uint32_t flags, mode, umask, open_flags; /* then the name */
};
_Static_assert(sizeof(struct fuse_create_in) == 16, "fuse_create_in");

struct fuse_open_out {
	uint64_t fh;
	uint32_t open_flags, padding;
};
_Static_assert(sizeof(struct fuse_open_out) == 16, "fuse_open_out");

struct fuse_release_in {
	uint64_t fh;
	uint32_t flags, release_flags;
	uint64_t lock_owner;
};
_Static_assert(sizeof(struct fuse_release_in) == 24, "fuse_release_in");

struct fuse_flush_in {
	uint64_t fh;
	uint32_t unused, padding;
	uint64_t lock_owner;
};
_Static_assert(sizeof(struct fuse_flush_in) == 24, "fuse_flush_in");

/* READ, READDIR and READDIRPLUS. */
struct fuse_read_in {
	uint64_t fh, offset;
	uint32_t size, read_flags;
	uint64_t lock_owner;
	uint32_t flags, padding;
};
_Static_assert(sizeof(struct fuse_read_in) == 40, "fuse_read_in");

struct fuse_write_in {
	uint64_t fh, offset;
	uint32_t size, write_flags;
	uint64_t lock_owner;
	uint32_t flags, padding; /* then size bytes of data */
};
_Static_assert(sizeof(struct fuse_write_in) == 40, "fuse_write_in");

struct fuse_write_out {
	uint32_t size, padding;
};

struct fuse_fsync_in {
	uint64_t fh;
	uint32_t fsync_flags, padding;
};

struct fuse_kstatfs {
	uint64_t blocks, bfree, bavail, files, ffree;
	uint32_t bsize, namelen, frsize, padding;
	uint32_t spare[6];
};
_Static_assert(sizeof(struct fuse_kstatfs) == 80, "fuse_kstatfs");

/* Protocol 7.31's INIT request (the 7.36 extension is not sent). */
struct fuse_init_in {
	uint32_t major, minor, max_readahead, flags;
};

struct fuse_init_out {
	uint32_t major, minor, max_readahead, flags;
	uint16_t max_background, congestion_threshold;
	uint32_t max_write, time_gran;
	uint16_t max_pages, map_alignment;
	uint32_t flags2;
	uint32_t unused[7];
};
_Static_assert(sizeof(struct fuse_init_out) == 64, "fuse_init_out");
/* Servers of minor < 23 answer with the first 24 bytes only. */
#define FUSE_INIT_OUT_MIN 24

/* One READDIR entry: the name follows, the entry is padded to 8 bytes.
 * READDIRPLUS entries are a fuse_entry_out followed by this. */
struct fuse_dirent {
	uint64_t ino, off;
	uint32_t namelen, type;
};
_Static_assert(sizeof(struct fuse_dirent) == 24, "fuse_dirent");

#endif
