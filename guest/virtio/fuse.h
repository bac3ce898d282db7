/* SPDX-License-Identifier: MIT */
/*
 * The guest's FUSE client over a virtio-fs device (virtio/fs.h): builds
 * requests, runs them, and refuses any reply that breaks the protocol.
 *
 * Every reply is checked before anything in it is used. A reply the
 * client refuses makes the call return FUSE_EBADREPLY with c->error
 * starting with the check's name, then a colon and the details:
 *   reply-short      the device wrote less than an out-header
 *   reply-len        out.len differs from the bytes the device wrote
 *   reply-unique     out.unique is not the request's
 *   reply-errno      out.error is positive or below -4095
 *   reply-error-body an error reply carries a body
 *   reply-size       the body's size is not the opcode's
 *   init-version     INIT: major version not 7, or minor 0
 *   init-max-write   INIT: max_write below 4096
 *   entry-nodeid     an entry with node ID 0 (or the root's) where a new
 *                    node was made
 *   attr-ino         an attribute with inode number 0
 *   attr-mode        a file type other than the one expected
 *   attr-nlink       a live node with no links
 *   read-size        READ returned more than asked for
 *   write-size       WRITE wrote a count other than the one asked for
 *   dirent           a READDIR(PLUS) entry is cut, overlong, nameless,
 *                    or has a zero next offset
 *   statfs           free or available blocks above the total, or a
 *                    zero block size
 * A request that gets no reply within c->timeout_ns returns
 * FUSE_ETIMEDOUT ("timeout: ..."); a queue the device broke returns
 * FUSE_EDEVICE (the device's sentence). Otherwise calls return 0 (or a
 * byte count) or the server's error as a negative errno.
 *
 * fuse_conn_init: @fs opened, @wait started (its mode: poll or irq),
 *   requests for synchronous calls allocated; 0 or -1 (no memory).
 * fuse_init: INIT with protocol 7.31, asks for ASYNC_READ, BIG_WRITES,
 *   MAX_PAGES, ATOMIC_O_TRUNC, DO_READDIRPLUS, PARALLEL_DIROPS; keeps
 *   what the server answered in c->init, c->max_write (capped at
 *   @max_write), c->readdirplus.
 * fuse_call: runs prepared request @r on the next request queue (round
 *   robin) and waits for it.
 * fuse_prep: fills @r's in-header (fresh unique) and arguments; a
 *   name (and a second one) are appended NUL-terminated.
 * fuse_check: checks @r's reply (see above); for READ, READDIR and
 *   WRITE returns the byte count.
 * fuse_wait_any: waits for a completion on any request queue: 1 and
 *   *@done, or a negative code (timeout after c->timeout_ns with nothing
 *   completed).
 * fuse_forget, fuse_batch_forget: on the hiprio queue; no reply, the
 *   call waits until the device has used the buffer (at most
 *   FUSE_BATCH_MAX nodes per BATCH_FORGET).
 * fuse_dirent_next: the next entry of a READDIR(PLUS) reply of @len
 *   bytes at @buf from *@pos; 1 and the entry, 0 at the end,
 *   FUSE_EBADREPLY.
 */
#ifndef VUVM_GUEST_VIRTIO_FUSE_H
#define VUVM_GUEST_VIRTIO_FUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/fs.h"
#include "virtio/fuse_proto.h"
#include "workloads/virtio_common.h"

#define FUSE_EBADREPLY (-4097)
#define FUSE_ETIMEDOUT (-4098)
#define FUSE_EDEVICE   (-4099)
#define FUSE_ERROR_LEN 200
/* Nodes in one BATCH_FORGET: what fits FS_IN_MAX. */
#define FUSE_BATCH_MAX 37

struct fuse_conn {
	struct fs_dev *fs;
	struct vw_wait *wait;
	uint64_t timeout_ns;
	uint64_t unique;
	struct fuse_init_out init;
	uint32_t max_write;
	bool readdirplus;
	struct fs_req *req;  /* synchronous calls */
	struct fs_req *hreq; /* hiprio (FORGET) */
	unsigned int next_q;
	uint64_t calls, forgets;
	char error[FUSE_ERROR_LEN];
};

struct fuse_dirent_view {
	const struct fuse_entry_out *entry; /* READDIRPLUS only */
	const struct fuse_dirent *d;
	const char *name; /* not NUL-terminated: d->namelen */
};

int fuse_conn_init(struct fuse_conn *c, struct fs_dev *fs, struct vw_wait *wait,
		   uint64_t timeout_ns);
const char *fuse_op_name(uint32_t opcode);
void fuse_prep(struct fuse_conn *c, struct fs_req *r, uint32_t opcode,
	       uint64_t nodeid, const void *arg, uint32_t arg_len,
	       const char *name, const char *name2);
int fuse_check(struct fuse_conn *c, struct fs_req *r);
int fuse_call(struct fuse_conn *c, struct fs_req *r);
int fuse_wait_any(struct fuse_conn *c, struct fs_req **done);

int fuse_init(struct fuse_conn *c, uint32_t max_write);
int fuse_lookup(struct fuse_conn *c, uint64_t parent, const char *name,
		struct fuse_entry_out *e);
int fuse_forget(struct fuse_conn *c, uint64_t nodeid, uint64_t nlookup);
int fuse_batch_forget(struct fuse_conn *c, const struct fuse_forget_one *f,
		      uint32_t n);
int fuse_getattr(struct fuse_conn *c, uint64_t nodeid, struct fuse_attr *a);
int fuse_setattr(struct fuse_conn *c, uint64_t nodeid, uint32_t valid,
		 uint64_t size, uint32_t mode, struct fuse_attr *a);
int fuse_open(struct fuse_conn *c, uint64_t nodeid, bool dir, uint32_t flags,
	      uint64_t *fh);
int fuse_create(struct fuse_conn *c, uint64_t parent, const char *name,
		uint32_t flags, uint32_t mode, struct fuse_entry_out *e,
		uint64_t *fh);
int fuse_mkdir(struct fuse_conn *c, uint64_t parent, const char *name,
	       uint32_t mode, struct fuse_entry_out *e);
int fuse_unlink(struct fuse_conn *c, uint64_t parent, const char *name,
		bool dir);
int fuse_rename(struct fuse_conn *c, uint64_t olddir, const char *oldname,
		uint64_t newdir, const char *newname);
int fuse_flush(struct fuse_conn *c, uint64_t nodeid, uint64_t fh);
int fuse_fsync(struct fuse_conn *c, uint64_t nodeid, uint64_t fh);
int fuse_release(struct fuse_conn *c, uint64_t nodeid, uint64_t fh, bool dir);
int fuse_readdir(struct fuse_conn *c, uint64_t nodeid, uint64_t fh,
		 uint64_t offset, void *buf, uint32_t size, bool plus);
int fuse_statfs(struct fuse_conn *c, struct fuse_kstatfs *st);
int fuse_destroy(struct fuse_conn *c);
void fuse_prep_read(struct fuse_conn *c, struct fs_req *r, uint64_t nodeid,
		    uint64_t fh, uint64_t offset, void *buf, uint32_t len);
void fuse_prep_write(struct fuse_conn *c, struct fs_req *r, uint64_t nodeid,
		     uint64_t fh, uint64_t offset, const void *buf,
		     uint32_t len);
int fuse_dirent_next(struct fuse_conn *c, const uint8_t *buf, uint32_t len,
		     uint32_t *pos, bool plus, struct fuse_dirent_view *v);

#endif
