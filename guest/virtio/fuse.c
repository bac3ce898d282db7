// SPDX-License-Identifier: MIT
/*
 * The guest's FUSE client (see fuse.h). Replies are checked in two steps:
 * the framing every reply shares (fuse_check: length, unique, error),
 * then what the opcode's body must say (check_body).
 */
#include "virtio/fuse.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/time.h"
#include "virtio/alloc.h"

__attribute__((format(printf, 2, 3))) static int bad(struct fuse_conn *c,
						     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return FUSE_EBADREPLY;
}

const char *fuse_op_name(uint32_t opcode)
{
	switch (opcode) {
	case FUSE_LOOKUP:
		return "LOOKUP";
	case FUSE_FORGET:
		return "FORGET";
	case FUSE_GETATTR:
		return "GETATTR";
	case FUSE_SETATTR:
		return "SETATTR";
	case FUSE_MKDIR:
		return "MKDIR";
	case FUSE_UNLINK:
		return "UNLINK";
	case FUSE_RMDIR:
		return "RMDIR";
	case FUSE_RENAME:
		return "RENAME";
	case FUSE_OPEN:
		return "OPEN";
	case FUSE_READ:
		return "READ";
	case FUSE_WRITE:
		return "WRITE";
	case FUSE_STATFS:
		return "STATFS";
	case FUSE_RELEASE:
		return "RELEASE";
	case FUSE_FSYNC:
		return "FSYNC";
	case FUSE_FLUSH:
		return "FLUSH";
	case FUSE_INIT:
		return "INIT";
	case FUSE_OPENDIR:
		return "OPENDIR";
	case FUSE_READDIR:
		return "READDIR";
	case FUSE_RELEASEDIR:
		return "RELEASEDIR";
	case FUSE_CREATE:
		return "CREATE";
	case FUSE_DESTROY:
		return "DESTROY";
	case FUSE_BATCH_FORGET:
		return "BATCH_FORGET";
	case FUSE_READDIRPLUS:
		return "READDIRPLUS";
	default:
		return "?";
	}
}

int fuse_conn_init(struct fuse_conn *c, struct fs_dev *fs, struct vw_wait *wait,
		   uint64_t timeout_ns)
{
	memset(c, 0, sizeof(*c));
	c->fs = fs;
	c->wait = wait;
	c->timeout_ns = timeout_ns;
	c->max_write = 4096;
	c->req = dma_alloc(sizeof(*c->req), 64);
	c->hreq = dma_alloc(sizeof(*c->hreq), 64);
	if (!c->req || !c->hreq)
		return -1;
	memset(c->req, 0, sizeof(*c->req));
	memset(c->hreq, 0, sizeof(*c->hreq));
	return 0;
}

/* The reply body each opcode has: [min, max] bytes after the header. */
static void body_size(const struct fs_req *r, uint32_t opcode, uint32_t *min,
		      uint32_t *max)
{
	*min = *max = 0;
	switch (opcode) {
	case FUSE_LOOKUP:
	case FUSE_MKDIR:
		*min = *max = sizeof(struct fuse_entry_out);
		break;
	case FUSE_GETATTR:
	case FUSE_SETATTR:
		*min = *max = sizeof(struct fuse_attr_out);
		break;
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		*min = *max = sizeof(struct fuse_open_out);
		break;
	case FUSE_CREATE:
		*min = *max = sizeof(struct fuse_entry_out) +
			      sizeof(struct fuse_open_out);
		break;
	case FUSE_WRITE:
		*min = *max = sizeof(struct fuse_write_out);
		break;
	case FUSE_STATFS:
		*min = *max = sizeof(struct fuse_kstatfs);
		break;
	case FUSE_INIT:
		*min = FUSE_INIT_OUT_MIN;
		*max = sizeof(struct fuse_init_out);
		break;
	case FUSE_READ:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		*max = r->rlen;
		break;
	default: /* UNLINK RMDIR RENAME FLUSH FSYNC RELEASE(DIR) DESTROY */
		break;
	}
}

static int check_attr(struct fuse_conn *c, const char *op,
		      const struct fuse_attr *a)
{
	uint32_t type = a->mode & FUSE_S_IFMT;

	if (!a->ino)
		return bad(c, "attr-ino: %s reply: inode number 0", op);
	if (type != FUSE_S_IFDIR && type != FUSE_S_IFREG)
		return bad(c,
			   "attr-mode: %s reply: mode %#o is neither a "
			   "directory nor a regular file",
			   op, a->mode);
	if (!a->nlink)
		return bad(c, "attr-nlink: %s reply: ino %llu has no links", op,
			   (unsigned long long)a->ino);
	return 0;
}

static int check_entry(struct fuse_conn *c, const char *op,
		       const struct fuse_entry_out *e)
{
	if (!e->nodeid || e->nodeid == FUSE_ROOT_ID)
		return bad(c, "entry-nodeid: %s reply: node ID %llu", op,
			   (unsigned long long)e->nodeid);
	return check_attr(c, op, &e->attr);
}

static int check_body(struct fuse_conn *c, struct fs_req *r, uint32_t opcode,
		      uint32_t body)
{
	const char *op = fuse_op_name(opcode);
	const struct fuse_read_in *rd =
		(const void *)(r->in + sizeof(struct fuse_in_header));
	const struct fuse_write_in *wr = (const void *)rd;
	const struct fuse_init_out *io = (const void *)r->reply;
	const struct fuse_write_out *wo = (const void *)r->reply;
	const struct fuse_kstatfs *st = (const void *)r->reply;

	switch (opcode) {
	case FUSE_LOOKUP:
	case FUSE_MKDIR:
	case FUSE_CREATE:
		return check_entry(c, op, (const void *)r->reply);
	case FUSE_GETATTR:
	case FUSE_SETATTR:
		return check_attr(
			c, op, &((const struct fuse_attr_out *)r->reply)->attr);
	case FUSE_INIT:
		if (io->major != FUSE_KERNEL_VERSION || !io->minor)
			return bad(c, "init-version: INIT reply: version %u.%u",
				   io->major, io->minor);
		if (io->minor >= 5 && body >= FUSE_INIT_OUT_MIN &&
		    io->max_write < 4096)
			return bad(c,
				   "init-max-write: INIT reply: max_write "
				   "%u",
				   io->max_write);
		return 0;
	case FUSE_READ:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		if (body > rd->size)
			return bad(c,
				   "read-size: %s reply: %u bytes for %u "
				   "asked",
				   op, body, rd->size);
		return (int)body;
	case FUSE_WRITE:
		if (wo->size != wr->size)
			return bad(c,
				   "write-size: WRITE reply: %u bytes "
				   "written of %u",
				   wo->size, wr->size);
		return (int)wo->size;
	case FUSE_STATFS:
		if (!st->bsize || st->bfree > st->blocks ||
		    st->bavail > st->blocks || st->ffree > st->files)
			return bad(c,
				   "statfs: STATFS reply: bsize %u, blocks "
				   "%llu free %llu avail %llu, files %llu "
				   "free %llu",
				   st->bsize, (unsigned long long)st->blocks,
				   (unsigned long long)st->bfree,
				   (unsigned long long)st->bavail,
				   (unsigned long long)st->files,
				   (unsigned long long)st->ffree);
		return 0;
	default:
		return 0;
	}
}

int fuse_check(struct fuse_conn *c, struct fs_req *r)
{
	const struct fuse_in_header *in = fs_req_hdr(r);
	const char *op = fuse_op_name(in->opcode);
	uint32_t used = r->used_len, body, min, max;

	if (used < sizeof(struct fuse_out_header))
		return bad(c,
			   "reply-short: %s (unique %llu): %u bytes "
			   "written, less than an out-header",
			   op, (unsigned long long)in->unique, used);
	if (r->out.len != used)
		return bad(c,
			   "reply-len: %s (unique %llu): out.len %u but "
			   "%u bytes written",
			   op, (unsigned long long)in->unique, r->out.len,
			   used);
	if (r->out.unique != in->unique)
		return bad(c,
			   "reply-unique: %s: reply for unique %llu, "
			   "request was %llu",
			   op, (unsigned long long)r->out.unique,
			   (unsigned long long)in->unique);
	if (r->out.error > 0 || r->out.error < -FUSE_MAX_ERRNO)
		return bad(c, "reply-errno: %s (unique %llu): error %d", op,
			   (unsigned long long)in->unique, r->out.error);
	body = used - (uint32_t)sizeof(struct fuse_out_header);
	if (r->out.error) {
		if (body)
			return bad(c,
				   "reply-error-body: %s (unique %llu): "
				   "error %d with %u bytes of body",
				   op, (unsigned long long)in->unique,
				   r->out.error, body);
		return r->out.error;
	}
	body_size(r, in->opcode, &min, &max);
	if (body < min || body > max)
		return bad(c,
			   "reply-size: %s (unique %llu): %u bytes of "
			   "body, %u..%u expected",
			   op, (unsigned long long)in->unique, body, min, max);
	return check_body(c, r, in->opcode, body);
}

void fuse_prep(struct fuse_conn *c, struct fs_req *r, uint32_t opcode,
	       uint64_t nodeid, const void *arg, uint32_t arg_len,
	       const char *name, const char *name2)
{
	struct fuse_in_header *h = fs_req_hdr(r);
	uint32_t len = sizeof(*h);
	uint32_t min, max;

	if (arg_len)
		memcpy(r->in + len, arg, arg_len);
	len += arg_len;
	for (int i = 0; i < 2; i++) {
		const char *s = i ? name2 : name;
		size_t n = s ? strlen(s) : 0;

		if (!s)
			continue;
		if (n > FS_NAME_MAX)
			n = FS_NAME_MAX;
		memcpy(r->in + len, s, n);
		r->in[len + n] = '\0';
		len += (uint32_t)n + 1;
	}
	*h = (struct fuse_in_header){
		.len = len,
		.opcode = opcode,
		.unique = ++c->unique,
		.nodeid = nodeid,
		.pid = 1,
	};
	r->in_len = len;
	r->wdata = NULL;
	r->wlen = 0;
	r->rdata = NULL;
	r->rlen = 0;
	body_size(r, opcode, &min, &max);
	r->reply_len = opcode == FUSE_READ || opcode == FUSE_READDIR ||
				       opcode == FUSE_READDIRPLUS
			       ? 0
			       : max;
}

/* Sleeps (irq mode) or spins until something may have completed. */
static int idle(struct fuse_conn *c)
{
	if (!c->wait)
		return 0;
	return vw_idle(c->wait, c->fs->vq, c->fs->nq + 1);
}

int fuse_wait_any(struct fuse_conn *c, struct fs_req **done)
{
	uint64_t t0 = time_ns(), now;
	int ret;

	vio_watch(&c->fs->vio, t0, true);
	for (;;) {
		for (unsigned int q = 1; q <= c->fs->nq; q++) {
			ret = fs_poll(c->fs, q, done);
			if (ret > 0)
				return 1;
			if (ret < 0) {
				snprintf(c->error, sizeof(c->error), "%s",
					 c->fs->vio.error);
				return FUSE_EDEVICE;
			}
		}
		now = time_ns();
		if (now - t0 > c->timeout_ns) {
			snprintf(c->error, sizeof(c->error),
				 "timeout: no reply in %llu ms",
				 (unsigned long long)(c->timeout_ns / 1000000));
			return FUSE_ETIMEDOUT;
		}
		ret = idle(c);
		if (!ret)
			ret = vio_watch(&c->fs->vio, now, false);
		if (ret) {
			snprintf(c->error, sizeof(c->error), "%s",
				 c->fs->vio.error);
			return FUSE_EDEVICE;
		}
	}
}

int fuse_call(struct fuse_conn *c, struct fs_req *r)
{
	unsigned int q = 1 + c->next_q++ % c->fs->nq;
	struct fs_req *done;
	int ret = fs_submit(c->fs, q, r);

	if (ret) {
		snprintf(c->error, sizeof(c->error), "%s: cannot submit (%d)",
			 fuse_op_name(fs_req_hdr(r)->opcode), ret);
		return FUSE_EDEVICE;
	}
	c->calls++;
	fs_kick(c->fs, q);
	ret = fuse_wait_any(c, &done);
	if (ret == FUSE_ETIMEDOUT)
		snprintf(c->error, sizeof(c->error),
			 "timeout: %s (unique %llu): no reply in %llu ms",
			 fuse_op_name(fs_req_hdr(r)->opcode),
			 (unsigned long long)fs_req_hdr(r)->unique,
			 (unsigned long long)(c->timeout_ns / 1000000));
	if (ret < 0)
		return ret;
	if (done != r) /* only one synchronous request is ever in flight */
		return bad(c,
			   "reply-unique: %s: the device completed another "
			   "chain",
			   fuse_op_name(fs_req_hdr(r)->opcode));
	return fuse_check(c, r);
}

int fuse_init(struct fuse_conn *c, uint32_t max_write)
{
	struct fuse_init_in in = {
		.major = FUSE_KERNEL_VERSION,
		.minor = FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = max_write,
		.flags = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_MAX_PAGES |
			 FUSE_ATOMIC_O_TRUNC | FUSE_DO_READDIRPLUS |
			 FUSE_PARALLEL_DIROPS,
	};
	struct fs_req *r = c->req;
	int ret;

	fuse_prep(c, r, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL);
	memset(r->reply, 0, sizeof(r->reply));
	ret = fuse_call(c, r);
	if (ret < 0)
		return ret;
	memcpy(&c->init, r->reply, sizeof(c->init));
	c->max_write =
		c->init.max_write < max_write ? c->init.max_write : max_write;
	c->readdirplus = c->init.flags & FUSE_DO_READDIRPLUS;
	return 0;
}

int fuse_lookup(struct fuse_conn *c, uint64_t parent, const char *name,
		struct fuse_entry_out *e)
{
	struct fs_req *r = c->req;
	int ret;

	fuse_prep(c, r, FUSE_LOOKUP, parent, NULL, 0, name, NULL);
	ret = fuse_call(c, r);
	if (ret == FUSE_EBADREPLY && !strncmp(c->error, "entry-nodeid", 12) &&
	    !((struct fuse_entry_out *)r->reply)->nodeid)
		return -FUSE_ENOENT; /* a negative entry: node ID 0 */
	if (!ret)
		memcpy(e, r->reply, sizeof(*e));
	return ret;
}

/* Hands @r to the hiprio queue and waits until the device gives it back. */
static int hiprio(struct fuse_conn *c, struct fs_req *r)
{
	uint64_t t0 = time_ns();
	struct fs_req *done;
	int ret = fs_submit(c->fs, 0, r);

	if (ret) {
		snprintf(c->error, sizeof(c->error), "%s: cannot submit",
			 fuse_op_name(fs_req_hdr(r)->opcode));
		return FUSE_EDEVICE;
	}
	c->forgets++;
	fs_kick(c->fs, 0);
	/* The device gives the buffer back; it writes nothing. */
	while (!(ret = fs_poll(c->fs, 0, &done))) {
		if (time_ns() - t0 > c->timeout_ns) {
			snprintf(c->error, sizeof(c->error),
				 "timeout: %s on the hiprio queue not used "
				 "in %llu ms",
				 fuse_op_name(fs_req_hdr(r)->opcode),
				 (unsigned long long)(c->timeout_ns / 1000000));
			return FUSE_ETIMEDOUT;
		}
		if (c->wait)
			vw_idle(c->wait, c->fs->vq, 1);
	}
	if (ret < 0) {
		snprintf(c->error, sizeof(c->error), "%s", c->fs->vio.error);
		return FUSE_EDEVICE;
	}
	return 0;
}

int fuse_batch_forget(struct fuse_conn *c, const struct fuse_forget_one *f,
		      uint32_t n)
{
	struct fuse_batch_forget_in in = { .count = n };
	uint32_t max =
		(FS_IN_MAX - sizeof(struct fuse_in_header) - sizeof(in)) /
		sizeof(*f);
	struct fs_req *r = c->hreq;

	if (n > max)
		return FUSE_EDEVICE;
	fuse_prep(c, r, FUSE_BATCH_FORGET, 0, &in, sizeof(in), NULL, NULL);
	memcpy(r->in + r->in_len, f, n * sizeof(*f));
	r->in_len += n * (uint32_t)sizeof(*f);
	fs_req_hdr(r)->len = r->in_len;
	r->reply_len = 0;
	return hiprio(c, r);
}

int fuse_forget(struct fuse_conn *c, uint64_t nodeid, uint64_t nlookup)
{
	struct fuse_forget_in in = { nlookup };

	fuse_prep(c, c->hreq, FUSE_FORGET, nodeid, &in, sizeof(in), NULL, NULL);
	c->hreq->reply_len = 0;
	return hiprio(c, c->hreq);
}

int fuse_getattr(struct fuse_conn *c, uint64_t nodeid, struct fuse_attr *a)
{
	struct fuse_getattr_in in = { 0 };
	struct fs_req *r = c->req;
	int ret;

	fuse_prep(c, r, FUSE_GETATTR, nodeid, &in, sizeof(in), NULL, NULL);
	ret = fuse_call(c, r);
	if (!ret)
		*a = ((struct fuse_attr_out *)r->reply)->attr;
	return ret;
}

int fuse_setattr(struct fuse_conn *c, uint64_t nodeid, uint32_t valid,
		 uint64_t size, uint32_t mode, struct fuse_attr *a)
{
	struct fuse_setattr_in in = { .valid = valid,
				      .size = size,
				      .mode = mode };
	struct fs_req *r = c->req;
	int ret;

	fuse_prep(c, r, FUSE_SETATTR, nodeid, &in, sizeof(in), NULL, NULL);
	ret = fuse_call(c, r);
	if (!ret)
		*a = ((struct fuse_attr_out *)r->reply)->attr;
	return ret;
}

int fuse_open(struct fuse_conn *c, uint64_t nodeid, bool dir, uint32_t flags,
	      uint64_t *fh)
{
	struct fuse_open_in in = { .flags = flags };
	struct fs_req *r = c->req;
	int ret;

	fuse_prep(c, r, dir ? FUSE_OPENDIR : FUSE_OPEN, nodeid, &in, sizeof(in),
		  NULL, NULL);
	ret = fuse_call(c, r);
	if (!ret)
		*fh = ((struct fuse_open_out *)r->reply)->fh;
	return ret;
}

int fuse_create(struct fuse_conn *c, uint64_t parent, const char *name,
		uint32_t flags, uint32_t mode, struct fuse_entry_out *e,
		uint64_t *fh)
{
	struct fuse_create_in in = { .flags = flags | FUSE_O_CREAT,
				     .mode = FUSE_S_IFREG | mode };
	struct fs_req *r = c->req;
	int ret;

	fuse_prep(c, r, FUSE_CREATE, parent, &in, sizeof(in), name, NULL);
	ret = fuse_call(c, r);
	if (!ret) {
		memcpy(e, r->reply, sizeof(*e));
		*fh = ((struct fuse_open_out *)(r->reply + sizeof(*e)))->fh;
	}
	return ret;
}

int fuse_mkdir(struct fuse_conn *c, uint64_t parent, const char *name,
	       uint32_t mode, struct fuse_entry_out *e)
{
	struct fuse_mkdir_in in = { .mode = mode };
	struct fs_req *r = c->req;
	int ret;

	fuse_prep(c, r, FUSE_MKDIR, parent, &in, sizeof(in), name, NULL);
	ret = fuse_call(c, r);
	if (!ret)
		memcpy(e, r->reply, sizeof(*e));
	return ret;
}

int fuse_unlink(struct fuse_conn *c, uint64_t parent, const char *name,
		bool dir)
{
	fuse_prep(c, c->req, dir ? FUSE_RMDIR : FUSE_UNLINK, parent, NULL, 0,
		  name, NULL);
	return fuse_call(c, c->req);
}

int fuse_rename(struct fuse_conn *c, uint64_t olddir, const char *oldname,
		uint64_t newdir, const char *newname)
{
	struct fuse_rename_in in = { newdir };

	fuse_prep(c, c->req, FUSE_RENAME, olddir, &in, sizeof(in), oldname,
		  newname);
	return fuse_call(c, c->req);
}

int fuse_flush(struct fuse_conn *c, uint64_t nodeid, uint64_t fh)
{
	struct fuse_flush_in in = { .fh = fh };

	fuse_prep(c, c->req, FUSE_FLUSH, nodeid, &in, sizeof(in), NULL, NULL);
	return fuse_call(c, c->req);
}

int fuse_fsync(struct fuse_conn *c, uint64_t nodeid, uint64_t fh)
{
	struct fuse_fsync_in in = { .fh = fh };

	fuse_prep(c, c->req, FUSE_FSYNC, nodeid, &in, sizeof(in), NULL, NULL);
	return fuse_call(c, c->req);
}

int fuse_release(struct fuse_conn *c, uint64_t nodeid, uint64_t fh, bool dir)
{
	struct fuse_release_in in = { .fh = fh };

	fuse_prep(c, c->req, dir ? FUSE_RELEASEDIR : FUSE_RELEASE, nodeid, &in,
		  sizeof(in), NULL, NULL);
	return fuse_call(c, c->req);
}

int fuse_readdir(struct fuse_conn *c, uint64_t nodeid, uint64_t fh,
		 uint64_t offset, void *buf, uint32_t size, bool plus)
{
	struct fuse_read_in in = { .fh = fh, .offset = offset, .size = size };
	struct fs_req *r = c->req;

	fuse_prep(c, r, plus ? FUSE_READDIRPLUS : FUSE_READDIR, nodeid, &in,
		  sizeof(in), NULL, NULL);
	r->rdata = buf;
	r->rlen = size;
	return fuse_call(c, r);
}

int fuse_statfs(struct fuse_conn *c, struct fuse_kstatfs *st)
{
	struct fs_req *r = c->req;
	int ret;

	fuse_prep(c, r, FUSE_STATFS, FUSE_ROOT_ID, NULL, 0, NULL, NULL);
	ret = fuse_call(c, r);
	if (!ret)
		memcpy(st, r->reply, sizeof(*st));
	return ret;
}

int fuse_destroy(struct fuse_conn *c)
{
	fuse_prep(c, c->req, FUSE_DESTROY, 0, NULL, 0, NULL, NULL);
	return fuse_call(c, c->req);
}

void fuse_prep_read(struct fuse_conn *c, struct fs_req *r, uint64_t nodeid,
		    uint64_t fh, uint64_t offset, void *buf, uint32_t len)
{
	struct fuse_read_in in = { .fh = fh, .offset = offset, .size = len };

	fuse_prep(c, r, FUSE_READ, nodeid, &in, sizeof(in), NULL, NULL);
	r->rdata = buf;
	r->rlen = len;
}

void fuse_prep_write(struct fuse_conn *c, struct fs_req *r, uint64_t nodeid,
		     uint64_t fh, uint64_t offset, const void *buf,
		     uint32_t len)
{
	struct fuse_write_in in = { .fh = fh, .offset = offset, .size = len };

	fuse_prep(c, r, FUSE_WRITE, nodeid, &in, sizeof(in), NULL, NULL);
	fs_req_hdr(r)->len += len; /* the payload is part of the request */
	r->wdata = buf;
	r->wlen = len;
}

int fuse_dirent_next(struct fuse_conn *c, const uint8_t *buf, uint32_t len,
		     uint32_t *pos, bool plus, struct fuse_dirent_view *v)
{
	uint32_t p = *pos, head = sizeof(struct fuse_dirent), rec;

	if (p >= len)
		return 0;
	if (plus)
		head += sizeof(struct fuse_entry_out);
	if (len - p < head)
		return bad(c, "dirent: entry at %u of %u cut in its header", p,
			   len);
	v->entry = plus ? (const void *)(buf + p) : NULL;
	v->d = (const void *)(buf + p + head - sizeof(struct fuse_dirent));
	v->name = (const char *)(buf + p + head);
	if (!v->d->namelen || v->d->namelen > FS_NAME_MAX)
		return bad(c, "dirent: entry at %u: name length %u", p,
			   v->d->namelen);
	rec = (head + v->d->namelen + 7) & ~7u;
	if (rec > len - p)
		return bad(c,
			   "dirent: entry at %u (%u bytes) runs past the "
			   "%u-byte reply",
			   p, rec, len);
	if (!v->d->off)
		return bad(c, "dirent: entry at %u: next offset 0", p);
	*pos = p + rec;
	return 1;
}
