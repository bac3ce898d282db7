// SPDX-License-Identifier: MIT
/*
 * The reference virtio-fs backend: a FUSE server (protocol 7.31, the
 * structures of guest/virtio/fuse_proto.h) over a host directory, the
 * hiprio queue (index 0) and --queues request queues (1..N).
 *
 * Every request is one chain: the device-readable part holds the FUSE
 * in-header, the opcode's arguments and (WRITE) the data; the writable
 * part receives the out-header and the reply. A request is carried out
 * and answered before the next one is taken, so nothing is ever in
 * flight between two loop iterations. FORGET, BATCH_FORGET and
 * INTERRUPT get no reply (their chain is completed with used length 0),
 * on whichever queue they come.
 *
 * Confinement: every node the guest knows is an O_PATH | O_NOFOLLOW fd
 * of ours; names are single components (no '/', not "." or "..") taken
 * relative to their parent's fd with *at() calls, symlinks are never
 * followed (a symlink node cannot be opened), and files are reopened
 * through /proc/self/fd. Nothing the guest sends names a path outside
 * --shared-dir.
 *
 * Node IDs are slots of the node table plus 1 (the root is 1); the same
 * host inode (st_dev, st_ino) always has the same node ID while the
 * guest holds a lookup of it. File handles are slots of the handle
 * table. A new INIT that is accepted (or DESTROY) ends the session:
 * every node but the root and every handle is dropped.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "fs: " fmt
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "guest/virtio/fuse_proto.h"
#include "vhost/backends/vub.h"
#include "vhost/log.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_fs.h"

/* What fuse_proto.h (the guest client's subset) does not define. */
#define FUSE_INTERRUPT	 36
#define FATTR_UID	 (1u << 1)
#define FATTR_GID	 (1u << 2)
#define FATTR_ATIME	 (1u << 4)
#define FATTR_MTIME	 (1u << 5)
#define FATTR_ATIME_NOW	 (1u << 7)
#define FATTR_MTIME_NOW	 (1u << 8)
#define FUSE_FSYNC_FDATA (1u << 0)
/* The INIT reply to a newer major: major and minor only. */
#define FUSE_INIT_OUT_VERSION 8
#define FUSE_OUR_MAX_WRITE    (1u << 20)
#define FUSE_OUR_MAX_PAGES    (FUSE_OUR_MAX_WRITE / 4096)

#define FS_HASH_BUCKETS (1u << 16)
/* Header and arguments copied out of a request (names of up to 4 KiB;
 * WRITE data is not copied). */
#define FS_ARGS_MAX (sizeof(struct fuse_in_header) + 2 * 4096 + 64)
/* A READDIR reply is built here, then copied into the chain. */
#define FS_DIR_MAX (64u * 1024)

struct fs_node {
	uint64_t nlookup; /* 0: a free slot (the root never is) */
	int fd;		  /* O_PATH | O_NOFOLLOW */
	dev_t dev;
	ino_t ino;
	mode_t type;	    /* S_IFMT bits */
	int64_t hnext;	    /* next slot in the hash chain (or free list), -1 */
	int64_t stale_size; /* --bug fs-stale-size: size at OPEN, or -1 */
};

struct fs_dirent {
	ino_t ino;
	unsigned char type;
	char *name;
};

struct fs_handle {
	int fd; /* -1: a free slot */
	bool dir;
	struct fs_dirent *ents; /* directory snapshot (at offset 0) */
	size_t nents;
};

struct fs_state {
	int root_fd;
	struct fs_node *nodes;
	size_t nnodes, cap_nodes;
	int64_t free_slot; /* free list through hnext, -1 */
	int64_t *hash;	   /* FS_HASH_BUCKETS chain heads */
	struct fs_handle *handles;
	size_t nhandles;
	bool initialized;
	uint32_t minor; /* negotiated */
	struct virtio_fs_config config;
	/* --bug memory */
	bool hiprio_held;     /* fs-hiprio-waits: a hiprio kick deferred */
	unsigned long served; /* fs-drop-every-8th: request-queue chains */
	uint8_t args[FS_ARGS_MAX] __attribute__((aligned(8)));
	uint8_t dirbuf[FS_DIR_MAX] __attribute__((aligned(8)));
};

/* One request being served. */
struct fs_req {
	struct vub *b;
	struct fs_state *fs;
	struct vhu_vring_elem *e;
	const struct fuse_in_header *in;
	const uint8_t *arg; /* after the in-header */
	uint32_t arg_len;
	uint32_t room;	 /* writable bytes after the out-header */
	unsigned int wn; /* writable segments used (fs-reply-first-desc: 1) */
	/* The reply: out-header error, then body (or data already written
	 * into the chain at offset 16 when body is NULL). */
	int32_t error;
	const void *body;
	uint32_t body_len;
	bool no_reply;
};

static struct fs_state *fs_of(struct vub *b)
{
	return b->priv;
}

/* --- Nodes ------------------------------------------------------------- */

static size_t hash_of(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev;

	return (size_t)(h >> 48) & (FS_HASH_BUCKETS - 1);
}

static struct fs_node *node_get(struct fs_state *fs, uint64_t nodeid)
{
	if (!nodeid || nodeid > fs->nnodes || !fs->nodes[nodeid - 1].nlookup)
		return NULL;
	return &fs->nodes[nodeid - 1];
}

static void hash_unlink(struct fs_state *fs, size_t slot)
{
	struct fs_node *n = &fs->nodes[slot];
	int64_t *p = &fs->hash[hash_of(n->dev, n->ino)];

	while (*p >= 0 && (size_t)*p != slot)
		p = &fs->nodes[*p].hnext;
	if (*p >= 0)
		*p = n->hnext;
}

static void node_drop(struct fs_state *fs, size_t slot)
{
	struct fs_node *n = &fs->nodes[slot];

	hash_unlink(fs, slot);
	close(n->fd);
	n->fd = -1;
	n->nlookup = 0;
	n->hnext = fs->free_slot;
	fs->free_slot = (int64_t)slot;
}

/* A free slot (the table grows as needed), or -ENOMEM. */
static int64_t node_slot(struct fs_state *fs)
{
	struct fs_node *grown;
	int64_t slot = fs->free_slot;

	if (slot >= 0) {
		fs->free_slot = fs->nodes[slot].hnext;
		return slot;
	}
	if (fs->nnodes == fs->cap_nodes) {
		size_t cap = fs->cap_nodes ? 2 * fs->cap_nodes : 64;

		grown = realloc(fs->nodes, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		fs->nodes = grown;
		fs->cap_nodes = cap;
	}
	return (int64_t)fs->nnodes++;
}

/*
 * The node of @fd's inode (@st), with one more lookup: an existing one
 * (then @fd is closed) or a new one that keeps @fd. Returns the node ID
 * or -errno (@fd closed).
 */
static int64_t node_add(struct fs_state *fs, int fd, const struct stat *st)
{
	size_t h = hash_of(st->st_dev, st->st_ino);
	int64_t slot;

	for (slot = fs->hash[h]; slot >= 0; slot = fs->nodes[slot].hnext) {
		struct fs_node *n = &fs->nodes[slot];

		if (n->dev == st->st_dev && n->ino == st->st_ino) {
			close(fd);
			n->nlookup++;
			return slot + 1;
		}
	}
	slot = node_slot(fs);
	if (slot < 0) {
		close(fd);
		return slot;
	}
	fs->nodes[slot] = (struct fs_node){ .nlookup = 1,
					    .fd = fd,
					    .dev = st->st_dev,
					    .ino = st->st_ino,
					    .type = st->st_mode & S_IFMT,
					    .hnext = fs->hash[h],
					    .stale_size = -1 };
	fs->hash[h] = slot;
	return slot + 1;
}

static void node_forget(struct fs_state *fs, uint64_t nodeid, uint64_t n)
{
	struct fs_node *x = node_get(fs, nodeid);

	if (!x || nodeid == FUSE_ROOT_ID)
		return;
	if (n >= x->nlookup)
		node_drop(fs, nodeid - 1);
	else
		x->nlookup -= n;
}

/* --- Handles ----------------------------------------------------------- */

static void dir_free(struct fs_handle *h)
{
	for (size_t i = 0; i < h->nents; i++)
		free(h->ents[i].name);
	free(h->ents);
	h->ents = NULL;
	h->nents = 0;
}

static int handle_new(struct fs_state *fs, int fd, bool dir, uint64_t *fh)
{
	size_t i;

	for (i = 0; i < fs->nhandles && fs->handles[i].fd >= 0; i++)
		;
	if (i == fs->nhandles) {
		struct fs_handle *g =
			realloc(fs->handles, (i + 16) * sizeof(*g));

		if (!g) {
			close(fd);
			return -ENOMEM;
		}
		fs->handles = g;
		for (size_t k = i; k < i + 16; k++)
			g[k] = (struct fs_handle){ .fd = -1 };
		fs->nhandles = i + 16;
	}
	fs->handles[i] = (struct fs_handle){ .fd = fd, .dir = dir };
	*fh = i;
	return 0;
}

static struct fs_handle *handle_get(struct fs_state *fs, uint64_t fh, bool dir)
{
	if (fh >= fs->nhandles || fs->handles[fh].fd < 0 ||
	    fs->handles[fh].dir != dir)
		return NULL;
	return &fs->handles[fh];
}

static void handle_close(struct fs_handle *h)
{
	dir_free(h);
	close(h->fd);
	h->fd = -1;
}

/* Ends the session: every node but the root, every handle. */
static void session_end(struct fs_state *fs)
{
	for (size_t i = 1; i < fs->nnodes; i++)
		if (fs->nodes[i].nlookup)
			node_drop(fs, i);
	for (size_t i = 0; i < fs->nhandles; i++)
		if (fs->handles[i].fd >= 0)
			handle_close(&fs->handles[i]);
	fs->initialized = false;
}

/* --- Helpers ----------------------------------------------------------- */

static void fill_attr(struct fuse_attr *a, const struct stat *st)
{
	*a = (struct fuse_attr){
		.ino = st->st_ino,
		.size = (uint64_t)st->st_size,
		.blocks = (uint64_t)st->st_blocks,
		.atime = (uint64_t)st->st_atim.tv_sec,
		.mtime = (uint64_t)st->st_mtim.tv_sec,
		.ctime = (uint64_t)st->st_ctim.tv_sec,
		.atimensec = (uint32_t)st->st_atim.tv_nsec,
		.mtimensec = (uint32_t)st->st_mtim.tv_nsec,
		.ctimensec = (uint32_t)st->st_ctim.tv_nsec,
		.mode = st->st_mode,
		.nlink = (uint32_t)st->st_nlink,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.rdev = (uint32_t)st->st_rdev,
		.blksize = (uint32_t)st->st_blksize,
	};
}

static int stat_fd(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ? -errno
									: 0;
}

/* "/proc/self/fd/N": reopens an O_PATH fd with real access. */
static void proc_path(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

static int reopen(const struct fs_node *n, int flags)
{
	char p[64];
	int fd;

	if (n->type == S_IFLNK)
		return -ELOOP;
	proc_path(p, sizeof(p), n->fd);
	fd = open(p, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* A single path component: non-empty, no '/', not "." or "..". */
static bool name_ok(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/*
 * The @k-th NUL-terminated name after @skip bytes of arguments, or NULL
 * when the request holds no such name.
 */
static const char *arg_name(const struct fs_req *r, uint32_t skip, int k)
{
	const char *s = (const char *)r->arg + skip;
	uint32_t left = r->arg_len > skip ? r->arg_len - skip : 0;

	for (;;) {
		size_t n = strnlen(s, left);

		if (n == left)
			return NULL;
		if (!k--)
			return s;
		s += n + 1;
		left -= (uint32_t)n + 1;
	}
}

static int set_error(struct fs_req *r, int err)
{
	r->error = err;
	r->body = NULL;
	r->body_len = 0;
	return err;
}

/* The reply @body of @len bytes, if the chain has room for it. */
static int set_body(struct fs_req *r, const void *body, uint32_t len)
{
	if (len > r->room)
		return set_error(r, -EINVAL);
	r->error = 0;
	r->body = body;
	r->body_len = len;
	return 0;
}

static struct fs_node *req_node(struct fs_req *r)
{
	return node_get(r->fs, r->in->nodeid);
}

static bool bug(const struct fs_req *r, enum vub_bug which)
{
	return r->b->opt.bug == which;
}

/* --- Opcodes ----------------------------------------------------------- */

static union {
	struct fuse_entry_out entry;
	struct fuse_attr_out attr;
	struct fuse_open_out open;
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} create;
	struct fuse_write_out write;
	struct fuse_kstatfs statfs;
	struct fuse_init_out init;
} out;

/* The entry of @name under @parent (fd), one more lookup on it. */
static int entry_of(struct fs_state *fs, int parent, const char *name,
		    struct fuse_entry_out *e)
{
	struct stat st;
	int fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), err;
	int64_t id;

	if (fd < 0)
		return -errno;
	err = stat_fd(fd, &st);
	if (err) {
		close(fd);
		return err;
	}
	id = node_add(fs, fd, &st);
	if (id < 0)
		return (int)id;
	*e = (struct fuse_entry_out){ .nodeid = (uint64_t)id };
	fill_attr(&e->attr, &st);
	return 0;
}

/* The parent node and the first name of a name-taking request. */
static int parent_name(struct fs_req *r, uint32_t skip, struct fs_node **p,
		       const char **name)
{
	*p = req_node(r);
	*name = arg_name(r, skip, 0);
	if (!*p)
		return -ESTALE;
	if (!*name || !name_ok(*name))
		return -EINVAL;
	if ((*p)->type != S_IFDIR)
		return -ENOTDIR;
	return 0;
}

static int do_lookup(struct fs_req *r)
{
	struct fs_node *p;
	const char *name;
	int err = parent_name(r, 0, &p, &name);

	if (!err && r->room < sizeof(out.entry))
		err = -EINVAL;
	if (!err)
		err = entry_of(r->fs, p->fd, name, &out.entry);
	return err ? set_error(r, err)
		   : set_body(r, &out.entry, sizeof(out.entry));
}

static int do_forget(struct fs_req *r)
{
	const struct fuse_forget_in *f = (const void *)r->arg;

	r->no_reply = true;
	if (r->arg_len >= sizeof(*f))
		node_forget(r->fs, r->in->nodeid, f->nlookup);
	return 0;
}

static int do_batch_forget(struct fs_req *r)
{
	const struct fuse_batch_forget_in *h = (const void *)r->arg;
	const struct fuse_forget_one *one = (const void *)(h + 1);
	uint32_t max;

	r->no_reply = true;
	if (r->arg_len < sizeof(*h))
		return 0;
	max = (r->arg_len - (uint32_t)sizeof(*h)) / sizeof(*one);
	for (uint32_t i = 0; i < h->count && i < max; i++)
		node_forget(r->fs, one[i].nodeid, one[i].nlookup);
	return 0;
}

static int reply_attr(struct fs_req *r, int fd)
{
	struct stat st;
	int err = stat_fd(fd, &st);

	if (err)
		return set_error(r, err);
	out.attr = (struct fuse_attr_out){ 0 };
	fill_attr(&out.attr.attr, &st);
	return set_body(r, &out.attr, sizeof(out.attr));
}

static int do_getattr(struct fs_req *r)
{
	struct fs_node *n = req_node(r);

	if (!n)
		return set_error(r, -ESTALE);
	if (reply_attr(r, n->fd))
		return r->error;
	if (bug(r, VUB_BUG_FS_STALE_SIZE) && n->stale_size >= 0)
		out.attr.attr.size = (uint64_t)n->stale_size;
	return 0;
}

/* fs-stale-size: remembers @n's size as it is now. */
static void bug_note_size(struct fs_req *r, struct fs_node *n)
{
	struct stat st;

	if (n && bug(r, VUB_BUG_FS_STALE_SIZE) && n->type == S_IFREG &&
	    !stat_fd(n->fd, &st))
		n->stale_size = st.st_size;
}

static int setattr_times(const struct fs_node *n,
			 const struct fuse_setattr_in *s)
{
	struct timespec t[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	char p[64];

	if (s->valid & FATTR_ATIME)
		t[0] = (struct timespec){ (time_t)s->atime, s->atimensec };
	if (s->valid & FATTR_MTIME)
		t[1] = (struct timespec){ (time_t)s->mtime, s->mtimensec };
	if (s->valid & FATTR_ATIME_NOW)
		t[0].tv_nsec = UTIME_NOW;
	if (s->valid & FATTR_MTIME_NOW)
		t[1].tv_nsec = UTIME_NOW;
	proc_path(p, sizeof(p), n->fd);
	return utimensat(AT_FDCWD, p, t, 0) ? -errno : 0;
}

static int setattr_apply(struct fs_req *r, const struct fs_node *n,
			 const struct fuse_setattr_in *s)
{
	uint32_t v = s->valid;
	struct fs_handle *h;
	char p[64];

	proc_path(p, sizeof(p), n->fd);
	if (n->type == S_IFLNK &&
	    (v & (FATTR_MODE | FATTR_SIZE | FATTR_ATIME | FATTR_MTIME |
		  FATTR_ATIME_NOW | FATTR_MTIME_NOW)))
		return -EOPNOTSUPP;
	if ((v & FATTR_MODE) && chmod(p, s->mode & 07777))
		return -errno;
	if ((v & (FATTR_UID | FATTR_GID)) &&
	    fchownat(n->fd, "", v & FATTR_UID ? s->uid : (uid_t)-1,
		     v & FATTR_GID ? s->gid : (gid_t)-1,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (v & FATTR_SIZE) {
		h = v & FATTR_FH ? handle_get(r->fs, s->fh, false) : NULL;
		if ((v & FATTR_FH) && !h)
			return -EBADF;
		if (h ? ftruncate(h->fd, (off_t)s->size)
		      : truncate(p, (off_t)s->size))
			return -errno;
	}
	if (v & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW))
		return setattr_times(n, s);
	return 0;
}

static int do_setattr(struct fs_req *r)
{
	const struct fuse_setattr_in *s = (const void *)r->arg;
	struct fs_node *n = req_node(r);
	int err;

	if (!n)
		return set_error(r, -ESTALE);
	if (r->arg_len < sizeof(*s) || s->size > INT64_MAX)
		return set_error(r, -EINVAL);
	err = setattr_apply(r, n, s);
	return err ? set_error(r, err) : reply_attr(r, n->fd);
}

/* OPEN and OPENDIR. */
static int do_open(struct fs_req *r, bool dir)
{
	const struct fuse_open_in *o = (const void *)r->arg;
	struct fs_node *n = req_node(r);
	int flags, fd, err;
	uint64_t fh;

	if (!n)
		return set_error(r, -ESTALE);
	if (r->arg_len < sizeof(*o) || r->room < sizeof(out.open))
		return set_error(r, -EINVAL);
	flags = (int)o->flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW);
	if (dir)
		flags = O_RDONLY | O_DIRECTORY;
	else if (n->type == S_IFDIR && (flags & O_ACCMODE) != O_RDONLY)
		return set_error(r, -EISDIR);
	fd = reopen(n, flags);
	if (fd < 0)
		return set_error(r, fd);
	err = handle_new(r->fs, fd, dir, &fh);
	if (err)
		return set_error(r, err);
	out.open = (struct fuse_open_out){ .fh = fh };
	if (!dir)
		bug_note_size(r, n);
	return set_body(r, &out.open, sizeof(out.open));
}

static int do_create(struct fs_req *r)
{
	const struct fuse_create_in *c = (const void *)r->arg;
	struct fs_node *p;
	const char *name;
	int err = parent_name(r, sizeof(*c), &p, &name), fd;
	uint64_t fh;

	if (!err && (r->arg_len < sizeof(*c) || r->room < sizeof(out.create)))
		err = -EINVAL;
	if (err)
		return set_error(r, err);
	fd = openat(p->fd, name,
		    ((int)c->flags & ~O_NOCTTY) | O_CREAT | O_NOFOLLOW |
			    O_CLOEXEC,
		    c->mode & ~c->umask & 07777);
	if (fd < 0)
		return set_error(r, -errno);
	err = entry_of(r->fs, p->fd, name, &out.create.e);
	if (err) {
		close(fd);
		return set_error(r, err);
	}
	err = handle_new(r->fs, fd, false, &fh);
	if (err) {
		node_forget(r->fs, out.create.e.nodeid, 1);
		return set_error(r, err);
	}
	out.create.o = (struct fuse_open_out){ .fh = fh };
	bug_note_size(r, node_get(r->fs, out.create.e.nodeid));
	return set_body(r, &out.create, sizeof(out.create));
}

static int do_mkdir(struct fs_req *r)
{
	const struct fuse_mkdir_in *m = (const void *)r->arg;
	struct fs_node *p;
	const char *name;
	int err = parent_name(r, sizeof(*m), &p, &name);

	if (!err && (r->arg_len < sizeof(*m) || r->room < sizeof(out.entry)))
		err = -EINVAL;
	if (!err && mkdirat(p->fd, name, m->mode & ~m->umask & 07777))
		err = -errno;
	if (!err)
		err = entry_of(r->fs, p->fd, name, &out.entry);
	return err ? set_error(r, err)
		   : set_body(r, &out.entry, sizeof(out.entry));
}

/* UNLINK and RMDIR. */
static int do_unlink(struct fs_req *r, bool dir)
{
	struct fs_node *p;
	const char *name;
	int err = parent_name(r, 0, &p, &name);

	if (!err && unlinkat(p->fd, name, dir ? AT_REMOVEDIR : 0))
		err = -errno;
	return set_error(r, err);
}

static int do_rename(struct fs_req *r)
{
	const struct fuse_rename_in *rn = (const void *)r->arg;
	const char *to = arg_name(r, sizeof(*rn), 1);
	struct fs_node *p, *np;
	const char *name;
	int err = parent_name(r, sizeof(*rn), &p, &name);

	if (err || r->arg_len < sizeof(*rn))
		return set_error(r, err ? err : -EINVAL);
	np = node_get(r->fs, rn->newdir);
	if (!np)
		return set_error(r, -ESTALE);
	if (!to || !name_ok(to))
		return set_error(r, -EINVAL);
	if (renameat(p->fd, name, np->fd, to))
		return set_error(r, -errno);
	return set_error(r, 0);
}

/* Up to @len bytes between @fd at @off and the chain's segments from
 * byte @skip of its readable (@write) or writable part. Returns the bytes
 * moved (short at end of file) or -errno. */
static int64_t file_io(struct fs_req *r, int fd, bool write, uint64_t off,
		       uint32_t skip, uint32_t len)
{
	const struct vhu_vring_elem *e = r->e;
	unsigned int first = write ? 0 : e->out_num;
	unsigned int n = write ? e->out_num : r->wn;
	uint64_t done = 0;

	for (unsigned int i = first; i < first + n && done < len; i++) {
		/* fs-write-first-seg: the payload's first piece only */
		if (write && done && bug(r, VUB_BUG_FS_WRITE_FIRST_SEG))
			break;
		uint8_t *base = e->iov[i].iov_base;
		size_t seg = e->iov[i].iov_len;

		if (skip >= seg) {
			skip -= (uint32_t)seg;
			continue;
		}
		base += skip;
		seg -= skip;
		skip = 0;
		if (seg > len - done)
			seg = len - done;
		while (seg) {
			ssize_t k = write ? pwrite(fd, base, seg,
						   (off_t)(off + done))
					  : pread(fd, base, seg,
						  (off_t)(off + done));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return -errno;
			if (!k)
				return (int64_t)done;
			base += k;
			seg -= (size_t)k;
			done += (uint64_t)k;
		}
	}
	return (int64_t)done;
}

static int do_read(struct fs_req *r)
{
	const struct fuse_read_in *rd = (const void *)r->arg;
	struct fs_handle *h;
	uint32_t len;
	int64_t n;

	if (r->arg_len < sizeof(*rd) || rd->offset > INT64_MAX)
		return set_error(r, -EINVAL);
	h = handle_get(r->fs, rd->fh, false);
	if (!h)
		return set_error(r, -EBADF);
	len = rd->size < r->room ? rd->size : r->room;
	if (bug(r, VUB_BUG_FS_READ_SHORT) && len > 3000)
		len = 3000;
	n = file_io(r, h->fd, false,
		    bug(r, VUB_BUG_FS_READ_OFFSET) ? rd->offset & ~511ull
						   : rd->offset,
		    sizeof(struct fuse_out_header), len);
	if (n < 0)
		return set_error(r, (int)n);
	r->error = 0;
	r->body = NULL; /* already in the chain */
	r->body_len = (uint32_t)n;
	return 0;
}

static int do_write(struct fs_req *r)
{
	const struct fuse_write_in *w = (const void *)r->arg;
	uint32_t data = sizeof(struct fuse_in_header) + sizeof(*w);
	struct fs_handle *h;
	int64_t n;

	if (r->arg_len < sizeof(*w) || w->offset > INT64_MAX ||
	    r->in->len < data || r->in->len - data < w->size ||
	    r->room < sizeof(out.write))
		return set_error(r, -EINVAL);
	h = handle_get(r->fs, w->fh, false);
	if (!h)
		return set_error(r, -EBADF);
	n = file_io(r, h->fd, true, w->offset, data, w->size);
	if (n < 0)
		return set_error(r, (int)n);
	if (bug(r, VUB_BUG_FS_WRITE_FIRST_SEG))
		n = w->size;
	if (bug(r, VUB_BUG_FS_WRITE_COUNT) && n)
		n--;
	out.write = (struct fuse_write_out){ .size = (uint32_t)n };
	return set_body(r, &out.write, sizeof(out.write));
}

static int do_statfs(struct fs_req *r)
{
	struct fs_node *n = req_node(r);
	struct statvfs sv;

	if (!n)
		n = &r->fs->nodes[0];
	if (fstatvfs(n->fd, &sv))
		return set_error(r, -errno);
	out.statfs = (struct fuse_kstatfs){
		.blocks = sv.f_blocks,
		.bfree = sv.f_bfree,
		.bavail = sv.f_bavail,
		.files = sv.f_files,
		.ffree = sv.f_ffree,
		.bsize = (uint32_t)sv.f_bsize,
		.namelen = (uint32_t)sv.f_namemax,
		.frsize = (uint32_t)sv.f_frsize,
	};
	return set_body(r, &out.statfs, sizeof(out.statfs));
}

/* RELEASE, RELEASEDIR, FLUSH and FSYNC: a handle of ours. */
static int do_handle_op(struct fs_req *r, uint32_t op)
{
	const struct fuse_release_in *rl = (const void *)r->arg;
	const struct fuse_fsync_in *fy = (const void *)r->arg;
	struct fs_handle *h;
	int err = 0;

	if (r->arg_len < sizeof(uint64_t) ||
	    (op == FUSE_FSYNC && r->arg_len < sizeof(*fy)))
		return set_error(r, -EINVAL);
	h = handle_get(r->fs, rl->fh, op == FUSE_RELEASEDIR);
	if (!h)
		return set_error(r, -EBADF);
	if (op == FUSE_RELEASE || op == FUSE_RELEASEDIR)
		handle_close(h);
	else if (op == FUSE_FSYNC &&
		 (fy->fsync_flags & FUSE_FSYNC_FDATA ? fdatasync(h->fd)
						     : fsync(h->fd)))
		err = -errno;
	return set_error(r, err);
}

/* Reads the whole directory into @h (at offset 0). */
static int dir_snapshot(struct fs_handle *h)
{
	int fd = dup(h->fd), err = 0;
	struct dirent *d;
	DIR *dir;

	dir_free(h);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	rewinddir(dir);
	while (!err && (errno = 0, d = readdir(dir))) {
		struct fs_dirent *g =
			realloc(h->ents, (h->nents + 1) * sizeof(*g));

		if (!g) {
			err = -ENOMEM;
			break;
		}
		h->ents = g;
		g[h->nents] = (struct fs_dirent){ d->d_ino, d->d_type,
						  strdup(d->d_name) };
		if (!g[h->nents++].name)
			err = -ENOMEM;
	}
	if (!err && errno)
		err = -errno;
	closedir(dir);
	return err;
}

/* One entry into the READDIR(PLUS) reply at @pos; 0 when it does not fit
 * in @size, else its padded size. */
static uint32_t dirent_put(struct fs_req *r, int dirfd,
			   const struct fs_dirent *d, uint64_t next,
			   uint32_t pos, uint32_t size, bool plus)
{
	uint32_t namelen = (uint32_t)strlen(d->name);
	uint32_t head = sizeof(struct fuse_dirent) +
			(plus ? sizeof(struct fuse_entry_out) : 0);
	uint32_t rec = (head + namelen + 7) & ~7u;
	uint8_t *p = r->fs->dirbuf + pos;
	struct fuse_entry_out e = { 0 };
	struct fuse_dirent fd;

	if (bug(r, VUB_BUG_FS_DIRENT_PACK))
		rec = head + namelen;
	if (bug(r, VUB_BUG_FS_DIRENT_OFFSET))
		next = 1;
	if (rec > size - pos)
		return 0;
	memset(p, 0, rec);
	/* "." and "..", and a name gone since the snapshot: no node (and
	 * no lookup counted), as the FUSE convention has it. Copied in:
	 * with fs-dirent-pack a record may start anywhere. */
	if (plus &&
	    (!name_ok(d->name) || entry_of(r->fs, dirfd, d->name, &e))) {
		memset(&e, 0, sizeof(e));
		e.attr.ino = d->ino;
		e.attr.mode = (uint32_t)d->type << 12;
	}
	if (plus)
		memcpy(p, &e, sizeof(e));
	fd = (struct fuse_dirent){ d->ino, next, namelen, d->type };
	memcpy(p + head - sizeof(fd), &fd, sizeof(fd));
	memcpy(p + head, d->name, namelen);
	return rec;
}

static int do_readdir(struct fs_req *r, bool plus)
{
	const struct fuse_read_in *rd = (const void *)r->arg;
	struct fs_node *n = req_node(r);
	struct fs_handle *h;
	uint32_t size, pos = 0, rec;
	int err;

	if (r->arg_len < sizeof(*rd))
		return set_error(r, -EINVAL);
	h = handle_get(r->fs, rd->fh, true);
	if (!h || !n)
		return set_error(r, h ? -ESTALE : -EBADF);
	if (!rd->offset || !h->ents) {
		err = dir_snapshot(h);
		if (err)
			return set_error(r, err);
	}
	size = rd->size < r->room ? rd->size : r->room;
	if (size > FS_DIR_MAX)
		size = FS_DIR_MAX;
	for (uint64_t i = rd->offset; i < h->nents; i++) {
		rec = dirent_put(r, n->fd, &h->ents[i], i + 1, pos, size, plus);
		if (!rec)
			break;
		pos += rec;
	}
	if (!pos && rd->offset < h->nents)
		return set_error(r, -EINVAL); /* not even one entry fits */
	return set_body(r, r->fs->dirbuf, pos);
}

static int do_init(struct fs_req *r)
{
	const struct fuse_init_in *i = (const void *)r->arg;
	uint32_t want = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC |
			FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS |
			FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES;
	uint32_t len;

	if (r->arg_len < sizeof(*i))
		return set_error(r, -EINVAL);
	out.init = (struct fuse_init_out){ .major = FUSE_KERNEL_VERSION,
					   .minor = FUSE_KERNEL_MINOR_VERSION };
	/* A newer major: say ours, the client comes back with it. */
	if (i->major > FUSE_KERNEL_VERSION)
		return set_body(r, &out.init, FUSE_INIT_OUT_VERSION);
	if (i->major < FUSE_KERNEL_VERSION || i->minor < 9)
		return set_error(r, -EPROTO);
	if (r->fs->initialized) {
		pr_info("INIT again: a new session");
		session_end(r->fs);
	}
	r->fs->minor = i->minor < FUSE_KERNEL_MINOR_VERSION
			       ? i->minor
			       : FUSE_KERNEL_MINOR_VERSION;
	out.init.minor = r->fs->minor;
	out.init.max_readahead = i->max_readahead;
	out.init.flags = i->flags & want;
	out.init.max_background = 64;
	out.init.congestion_threshold = 48;
	out.init.max_write = FUSE_OUR_MAX_WRITE;
	out.init.time_gran = 1;
	out.init.max_pages = FUSE_OUR_MAX_PAGES;
	if (bug(r, VUB_BUG_FS_INIT_MAJOR))
		out.init.major = FUSE_KERNEL_VERSION + 1;
	if (bug(r, VUB_BUG_FS_INIT_MAX_WRITE))
		out.init.max_write = 1024;
	if (bug(r, VUB_BUG_FS_INIT_FLAGS))
		out.init.flags |= 1u << 16; /* WRITEBACK_CACHE */
	len = r->fs->minor >= 23 ? sizeof(out.init) : FUSE_INIT_OUT_MIN;
	if (set_body(r, &out.init, len))
		return r->error;
	r->fs->initialized = true;
	return 0;
}

static int do_destroy(struct fs_req *r)
{
	session_end(r->fs);
	return set_error(r, 0);
}

static void dispatch(struct fs_req *r)
{
	uint32_t op = r->in->opcode;

	if (op == FUSE_FORGET || op == FUSE_BATCH_FORGET ||
	    op == FUSE_INTERRUPT) {
		if (op == FUSE_FORGET)
			do_forget(r);
		else if (op == FUSE_BATCH_FORGET)
			do_batch_forget(r);
		r->no_reply = true;
		return;
	}
	if (op != FUSE_INIT && !r->fs->initialized) {
		set_error(r, -EIO);
		return;
	}
	switch (op) {
	case FUSE_INIT:
		do_init(r);
		break;
	case FUSE_LOOKUP:
		do_lookup(r);
		break;
	case FUSE_GETATTR:
		do_getattr(r);
		break;
	case FUSE_SETATTR:
		do_setattr(r);
		break;
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		do_open(r, op == FUSE_OPENDIR);
		break;
	case FUSE_CREATE:
		do_create(r);
		break;
	case FUSE_MKDIR:
		do_mkdir(r);
		break;
	case FUSE_UNLINK:
	case FUSE_RMDIR:
		do_unlink(r, op == FUSE_RMDIR);
		break;
	case FUSE_RENAME:
		do_rename(r);
		break;
	case FUSE_READ:
		do_read(r);
		break;
	case FUSE_WRITE:
		do_write(r);
		break;
	case FUSE_STATFS:
		do_statfs(r);
		break;
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FLUSH:
	case FUSE_FSYNC:
		do_handle_op(r, op);
		break;
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		do_readdir(r, op == FUSE_READDIRPLUS);
		break;
	case FUSE_DESTROY:
		do_destroy(r);
		break;
	default:
		set_error(r, bug(r, VUB_BUG_FS_UNKNOWN_EINVAL) ? -EINVAL
							       : -ENOSYS);
		break;
	}
	if (op == FUSE_LOOKUP && r->error == -ENOENT &&
	    bug(r, VUB_BUG_FS_LOOKUP_MISSING_EIO))
		r->error = -EIO;
}

/* --- Queues ------------------------------------------------------------ */

/* The used length the reply-framing defects report instead of @len (the
 * out-header's). */
static uint32_t bug_used_len(const struct fs_req *r, uint32_t len)
{
	switch (r->b->opt.bug) {
	case VUB_BUG_FS_USED_LEN_HEADER:
		return sizeof(struct fuse_out_header);
	case VUB_BUG_FS_USED_LEN_OVER:
		return r->e->in_len + (uint32_t)sizeof(struct fuse_out_header);
	case VUB_BUG_FS_USED_LEN_WHOLE:
		return r->e->in_len;
	case VUB_BUG_FS_OUT_LEN_BODY:
		return len + (uint32_t)sizeof(struct fuse_out_header);
	default:
		return len;
	}
}

/* Writes the out-header and the body; returns the used length. */
static uint32_t write_reply(struct fs_req *r)
{
	static const uint8_t zeroes[16];
	const struct vhu_vring_elem *e = r->e;
	const struct iovec *w = e->iov + e->out_num;
	struct fuse_out_header h = {
		.len = (uint32_t)sizeof(h) + r->body_len,
		.error = r->error,
		.unique = r->in->unique,
	};

	if (r->b->opt.bug) {
		if (r->in->opcode == FUSE_GETATTR &&
		    bug(r, VUB_BUG_FS_UNIQUE_OFF))
			h.unique++;
		if (h.error && bug(r, VUB_BUG_FS_ERRNO_POSITIVE))
			h.error = -h.error;
		if (h.error && bug(r, VUB_BUG_FS_ERROR_BODY)) {
			r->body = zeroes;
			r->body_len = sizeof(zeroes);
			h.len += sizeof(zeroes);
		}
		if (bug(r, VUB_BUG_FS_OUT_LEN_BODY))
			h.len = r->body_len;
	}
	if (r->body)
		vub_buf_to_iov(w, r->wn, sizeof(h), r->body, r->body_len);
	vub_buf_to_iov(w, r->wn, 0, &h, sizeof(h));
	return r->b->opt.bug ? bug_used_len(r, h.len) : h.len;
}

/* fs-hdr-first-desc: header bytes past the first descriptor read as 0. */
static void bug_header(struct fs_req *r, uint8_t *args)
{
	size_t first = r->e->out_num ? r->e->iov[0].iov_len : 0;

	if (bug(r, VUB_BUG_FS_HDR_FIRST_DESC) &&
	    first < sizeof(struct fuse_in_header))
		memset(args + first, 0, sizeof(struct fuse_in_header) - first);
}

/* Serves one chain; returns its used length. */
static uint32_t serve_one(struct vub *b, struct vhu_vring_elem *e)
{
	struct fs_state *fs = fs_of(b);
	struct fs_req r = { .b = b, .fs = fs, .e = e, .wn = e->in_num };
	uint32_t copy = e->out_len < FS_ARGS_MAX ? e->out_len : FS_ARGS_MAX;
	const struct fuse_in_header *in = (const void *)fs->args;

	if (vub_iov_to_buf(e->iov, e->out_num, 0, fs->args, copy) <
	    sizeof(*in)) {
		pr_warn("a request of %u readable bytes: no FUSE header; "
			"completed with length 0",
			e->out_len);
		return 0;
	}
	if (b->opt.bug)
		bug_header(&r, fs->args);
	if (e->in_num && bug(&r, VUB_BUG_FS_REPLY_FIRST_DESC))
		r.wn = 1;
	r.in = in;
	r.arg = fs->args + sizeof(*in);
	r.arg_len = in->len < sizeof(*in) ? 0
					  : (in->len < copy ? in->len : copy) -
						    (uint32_t)sizeof(*in);
	r.room = e->in_len > sizeof(struct fuse_out_header)
			 ? e->in_len - (uint32_t)sizeof(struct fuse_out_header)
			 : 0;
	if (in->len < sizeof(*in) || in->len > e->out_len)
		set_error(&r, -EINVAL);
	else
		dispatch(&r);
	if (r.no_reply)
		return (in->opcode == FUSE_FORGET ||
			in->opcode == FUSE_BATCH_FORGET) &&
				       bug(&r, VUB_BUG_FS_FORGET_REPLY)
			       ? sizeof(struct fuse_out_header)
			       : 0;
	if (e->in_len < sizeof(struct fuse_out_header)) {
		pr_warn("%u (unique %llu): %u writable bytes, no room for "
			"the reply; completed with length 0",
			in->opcode, (unsigned long long)in->unique, e->in_len);
		return 0;
	}
	return write_reply(&r);
}

/* Whether a running request queue has chains not yet taken (split). */
static bool requests_pending(struct vub *b)
{
	for (unsigned int q = 1; q < b->num_queues; q++) {
		struct vhu_vring *vr = &vhu_backend_vq(&b->dev, q)->vring;

		if (vub_queue_ok(b, q) && !vr->packed &&
		    __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE) !=
			    vr->last_avail_idx)
			return true;
	}
	return false;
}

/* The defects that touch guest memory once a chain is served: its
 * in-header's first 8 bytes, its head descriptor's len, the byte past
 * its last writable buffer (only where that is guest RAM). */
static void bug_after(struct vub *b, unsigned int index,
		      const struct vhu_vring_elem *e)
{
	struct vhu_vring *vr = &vhu_backend_vq(&b->dev, index)->vring;
	static const uint8_t zeroes[8];
	const struct iovec *last;
	uint8_t *past;

	switch (b->opt.bug) {
	case VUB_BUG_FS_WRITE_READABLE:
		vub_buf_to_iov(e->iov, e->out_num, 0, zeroes, sizeof(zeroes));
		break;
	case VUB_BUG_FS_WRITE_DESC:
		if (!vr->packed)
			__atomic_store_n(&vr->desc[e->head].len, 0,
					 __ATOMIC_RELAXED);
		break;
	case VUB_BUG_FS_PAST_BUFFER:
		if (!e->in_num)
			break;
		last = &e->iov[e->out_num + e->in_num - 1];
		past = (uint8_t *)last->iov_base + last->iov_len;
		if (vub_in_guest_ram(b, past))
			*past = (uint8_t) ~*past;
		break;
	default:
		break;
	}
}

/* Serves one popped chain: 0, or -1 when the queue failed. */
static int serve_chain(struct vub *b, unsigned int index,
		       struct vhu_vring_elem *e)
{
	struct fs_state *fs = fs_of(b);
	uint32_t len;

	if (b->opt.bug == VUB_BUG_FS_INDIRECT_MAX_4 &&
	    vub_bug_indirect_over(b, index, e, 4))
		len = 0;
	else
		len = serve_one(b, e);
	if (!b->opt.bug)
		return vub_push(b, index, e->head, len) ? -1 : 0;
	if (b->opt.bug == VUB_BUG_FS_DROP_EVERY_8TH && index &&
	    ++fs->served % 8 == 0)
		return 0; /* taken, never used */
	bug_after(b, index, e);
	return vub_push(b, index, e->head, len) ? -1 : 0;
}

static void fs_serve(struct vub *b, unsigned int index)
{
	struct fs_state *fs = fs_of(b);
	struct vhu_vring_elem e;
	bool any = false;

	if (b->opt.bug == VUB_BUG_FS_MQ_FIRST_ONLY && index > 1)
		return;
	if (b->opt.bug == VUB_BUG_FS_HIPRIO_WAITS && !index &&
	    requests_pending(b)) {
		fs->hiprio_held = true;
		return;
	}
	while (vub_pop(b, index, 0, &e) == 1) {
		if (serve_chain(b, index, &e))
			break;
		any = true;
	}
	if (any)
		vub_notify(b, index);
	if (index && fs->hiprio_held && !requests_pending(b)) {
		fs->hiprio_held = false;
		fs_serve(b, 0);
	}
}

/* --- Setup ------------------------------------------------------------- */

/* Many nodes (fs-bench create holds thousands) are many fds. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int open_root(struct fs_state *fs, const char *dir)
{
	struct stat st;
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || stat_fd(fd, &st)) {
		pr_err("--shared-dir %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	if (access("/proc/self/fd", X_OK)) {
		pr_err("/proc/self/fd: %s (needed to reopen files)",
		       strerror(errno));
		close(fd);
		return -errno;
	}
	fs->root_fd = fd;
	if (node_slot(fs) != 0)
		return -ENOMEM;
	fs->nodes[0] = (struct fs_node){ .nlookup = 1,
					 .fd = fd,
					 .dev = st.st_dev,
					 .ino = st.st_ino,
					 .type = S_IFDIR,
					 .hnext = -1,
					 .stale_size = -1 };
	fs->hash[hash_of(st.st_dev, st.st_ino)] = 0;
	return 0;
}

/* The config space defects. */
static void bug_config(struct vub *b, struct fs_state *fs)
{
	size_t n = strnlen((const char *)fs->config.tag, VIRTIO_FS_TAG_SIZE);

	if (b->opt.bug == VUB_BUG_FS_TAG_GARBAGE && n + 1 < VIRTIO_FS_TAG_SIZE)
		memset(fs->config.tag + n + 1, 'x', VIRTIO_FS_TAG_SIZE - n - 1);
	if (b->opt.bug == VUB_BUG_FS_CONFIG_QUEUES_MORE)
		fs->config.num_request_queues++;
	if (b->opt.bug == VUB_BUG_FS_CONFIG_QUEUES_ZERO)
		fs->config.num_request_queues = 0;
}

static int fs_setup(struct vub *b)
{
	const char *tag = b->opt.tag ? b->opt.tag : "vuvm";
	unsigned int nq = b->opt.queues ? b->opt.queues : 1;
	struct fs_state *fs;
	int err;

	if (!b->opt.shared_dir) {
		pr_err("--shared-dir DIR is required");
		return -EINVAL;
	}
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->hash = malloc(FS_HASH_BUCKETS * sizeof(*fs->hash));
	if (!fs->hash) {
		free(fs);
		return -ENOMEM;
	}
	memset(fs->hash, 0xff, FS_HASH_BUCKETS * sizeof(*fs->hash));
	fs->free_slot = -1;
	b->priv = fs;
	err = open_root(fs, b->opt.shared_dir);
	if (err)
		return err;
	raise_fd_limit();
	memcpy(fs->config.tag, tag, strnlen(tag, VIRTIO_FS_TAG_SIZE));
	fs->config.num_request_queues = nq;
	bug_config(b, fs);
	b->num_queues = 1 + nq;
	b->features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		      VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
		      VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |
		      VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
		      VIRTIO_BIT(VIRTIO_F_IN_ORDER);
	return 0;
}

static void fs_teardown(struct vub *b)
{
	struct fs_state *fs = fs_of(b);

	if (!fs)
		return;
	session_end(fs);
	if (fs->nnodes)
		close(fs->root_fd);
	free(fs->nodes);
	free(fs->handles);
	free(fs->hash);
	free(fs);
	b->priv = NULL;
}

static int fs_get_config(struct vub *b, uint32_t offset, void *buf,
			 uint32_t size)
{
	struct fs_state *fs = fs_of(b);

	vub_config_read(&fs->config, sizeof(fs->config), offset, buf, size);
	return 0;
}

const struct vub_type vub_fs = {
	.name = "fs",
	.capability = "fs",
	.max_queues = VUB_FS_MAX_REQUEST_QUEUES,
	.setup = fs_setup,
	.teardown = fs_teardown,
	.get_config = fs_get_config,
	.serve = fs_serve,
};
