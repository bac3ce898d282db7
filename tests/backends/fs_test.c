// SPDX-License-Identifier: MIT
/*
 * vuvm-backend fs as a separate process over a fresh host directory,
 * driven through vuvm's frontend and driver-side split rings with FUSE
 * requests laid out as the guest's driver lays them out (in-header and
 * arguments readable, out-header and reply writable): the session (INIT,
 * config, queue count), a tree built, read back, changed and removed,
 * with the host directory checked after each step; the errors FUSE
 * promises; FORGET on the hiprio queue without a reply; confinement
 * (names with '/', "..", symlinks out of the shared directory); and
 * malformed requests.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

#include "guest/virtio/fuse_proto.h"
#include "tests/backends/driver.h"
#include "vhost/log.h"
#include "virtio/virtio_fs.h"

#define RING_FEATURES                                                      \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
	 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))
#define IN_MAX	  1024
#define REPLY_MAX 8192
#define ENOSYS_OP 99

static char dir[64];
static uint64_t unique;

/* A FUSE call's buffers in guest memory, and what came back. */
struct call {
	uint64_t in, out, reply; /* gpas */
	uint32_t used;
	struct fuse_out_header *hdr;
	uint8_t *body;
};

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vub-fs-%d-XXXXXX", (int)getpid());
	REQUIRE(mkdtemp(dir));
}

static void rm_tree(const char *p)
{
	char cmd[128];

	/* u+rwx first: a test may have taken the owner's rights away */
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", p, p);
	CHECK_EQ(system(cmd), 0);
}

static void start(struct td *t, const char *queues)
{
	const char *argv[] = { "fs",   "--shared-dir", dir,	"--queues",
			       queues, "--tag",	       "mytag", NULL };

	make_dir();
	td_start(t, argv);
	td_start_device(t, RING_FEATURES, t->fe.queue_num);
}

/*
 * One request on queue @q: in-header and @arg, then names @n1, @n2 (if
 * not NULL), in one readable buffer; @data (WRITE) in a second; then
 * the writable out-header and @reply_len bytes of reply, the reply split
 * in two descriptors at @split (0: one). Returns the used length; with
 * @no_reply the chain has no writable part.
 */
static uint32_t fuse(struct td *t, unsigned int q, struct call *c, uint32_t op,
		     uint64_t node, const void *arg, uint32_t arg_len,
		     const char *n1, const char *n2, const void *data,
		     uint32_t data_len, uint32_t reply_len, uint32_t split)
{
	struct td_buf b[5];
	unsigned int n = 0;
	uint8_t *p;
	uint32_t len = sizeof(struct fuse_in_header) + arg_len;

	td_reset_heap(t);
	c->in = td_alloc(t, IN_MAX);
	c->out = td_alloc(t, sizeof(struct fuse_out_header));
	c->reply = td_alloc(t, REPLY_MAX);
	p = td_host(t, c->in);
	if (arg_len)
		memcpy(p + sizeof(struct fuse_in_header), arg, arg_len);
	for (const char *s = n1; s; s = s == n1 ? n2 : NULL) {
		strcpy((char *)p + len, s);
		len += (uint32_t)strlen(s) + 1;
	}
	*(struct fuse_in_header *)p = (struct fuse_in_header){
		.len = len + data_len,
		.opcode = op,
		.unique = ++unique,
		.nodeid = node,
	};
	b[n++] = (struct td_buf){ c->in, len, false };
	if (data_len) {
		uint64_t d = td_alloc(t, data_len);

		memcpy(td_host(t, d), data, data_len);
		b[n++] = (struct td_buf){ d, data_len, false };
	}
	c->hdr = td_host(t, c->out);
	c->body = td_host(t, c->reply);
	memset(c->hdr, 0xee, sizeof(*c->hdr));
	memset(c->body, 0xee, REPLY_MAX);
	if (q) {
		b[n++] = (struct td_buf){ c->out, sizeof(*c->hdr), true };
		if (split && split < reply_len) {
			b[n++] = (struct td_buf){ c->reply, split, true };
			b[n++] = (struct td_buf){ c->reply + split,
						  reply_len - split, true };
		} else if (reply_len) {
			b[n++] = (struct td_buf){ c->reply, reply_len, true };
		}
	}
	td_submit(t, q, b, n);
	c->used = td_wait_used(t, q, NULL);
	return c->used;
}

/* A reply's framing: used length = out.len = 16 + body, our unique, and
 * the error; returns the error. */
static int32_t framed(struct call *c, uint32_t body)
{
	CHECK_EQ(c->used, sizeof(*c->hdr) + body);
	CHECK_EQ(c->hdr->len, c->used);
	CHECK_EQ(c->hdr->unique, unique);
	return c->hdr->error;
}

/* A call that must succeed with a @body-byte reply. */
#define OK(c, body, ...)                      \
	do {                                  \
		fuse(__VA_ARGS__);            \
		CHECK_EQ(framed(c, body), 0); \
	} while (0)
/* A call that must fail with -@err and no body. */
#define ERR(c, err, ...)                        \
	do {                                    \
		fuse(__VA_ARGS__);              \
		CHECK_EQ(framed(c, 0), -(err)); \
	} while (0)

static void init(struct td *t, struct call *c)
{
	struct fuse_init_in in = { 7, 31, 65536,
				   FUSE_DO_READDIRPLUS | FUSE_BIG_WRITES };
	struct fuse_init_out *o;

	OK(c, sizeof(*o), t, 1, c, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL,
	   NULL, 0, sizeof(*o), 0);
	o = (void *)c->body;
	CHECK_EQ(o->major, 7);
	CHECK_EQ(o->minor, 31);
	CHECK(o->max_write >= 4096);
	CHECK(o->flags & FUSE_DO_READDIRPLUS);
}

static uint64_t entry(struct td *t, struct call *c, uint32_t op,
		      uint64_t parent, const char *name, uint32_t mode)
{
	struct fuse_mkdir_in m = { mode, 022 };
	struct fuse_create_in cr = { FUSE_O_RDWR | FUSE_O_CREAT | FUSE_O_EXCL,
				     FUSE_S_IFREG | mode, 022, 0 };
	struct fuse_entry_out *e = (void *)(uintptr_t)0;
	uint32_t body = op == FUSE_CREATE ? 144 : 128;

	if (op == FUSE_MKDIR)
		OK(c, body, t, 1, c, op, parent, &m, sizeof(m), name, NULL,
		   NULL, 0, body, 0);
	else if (op == FUSE_CREATE)
		OK(c, body, t, 1, c, op, parent, &cr, sizeof(cr), name, NULL,
		   NULL, 0, body, 0);
	else
		OK(c, body, t, 1, c, op, parent, NULL, 0, name, NULL, NULL, 0,
		   body, 0);
	e = (void *)c->body;
	CHECK(e->nodeid > 1);
	CHECK(e->attr.ino && e->attr.nlink);
	return e->nodeid;
}

static uint64_t fh_of(struct call *c, uint32_t op)
{
	return ((struct fuse_open_out *)(c->body +
					 (op == FUSE_CREATE ? 128 : 0)))
		->fh;
}

static void host_check(const char *rel, long size, const uint8_t *data)
{
	char p[128];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if (size < 0) {
		CHECK_MSG(stat(p, &st) && errno == ENOENT, "%s still there",
			  rel);
		return;
	}
	REQUIRE(!stat(p, &st));
	if (size == LONG_MAX) {
		CHECK(S_ISDIR(st.st_mode));
		return;
	}
	CHECK_EQ(st.st_size, size);
	if (data) {
		uint8_t *buf = malloc((size_t)size + 1);
		FILE *f = fopen(p, "rb");

		REQUIRE(buf && f);
		CHECK_EQ(fread(buf, 1, (size_t)size + 1, f), (size_t)size);
		CHECK(!memcmp(buf, data, (size_t)size));
		fclose(f);
		free(buf);
	}
}

static void test_session(void)
{
	struct fuse_init_in in = { 7, 31, 0, 0 };
	struct virtio_fs_config cfg;
	struct call c;
	struct td t;

	start(&t, "2");
	CHECK_EQ(t.fe.queue_num, 3); /* hiprio + 2 */
	CHECK_EQ(vhu_get_config(&t.fe, 0, sizeof(cfg), 0, &cfg), 0);
	CHECK(!memcmp(cfg.tag, "mytag\0\0\0", 8));
	CHECK_EQ(cfg.tag[35], 0);
	CHECK_EQ(cfg.num_request_queues, 2);
	/* Before INIT: EIO. Unknown opcodes: ENOSYS. */
	ERR(&c, EIO, &t, 1, &c, FUSE_GETATTR, 1, &in, 16, NULL, NULL, NULL, 0,
	    104, 0);
	init(&t, &c);
	ERR(&c, ENOSYS, &t, 2, &c, ENOSYS_OP, 1, NULL, 0, NULL, NULL, NULL, 0,
	    64, 0);
	/* A client of minor 22 gets the 24-byte INIT reply; a newer major
	 * gets ours alone. */
	in.minor = 22;
	OK(&c, 24, &t, 2, &c, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL, NULL,
	   0, 64, 0);
	in.major = 8;
	OK(&c, 8, &t, 2, &c, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL, NULL, 0,
	   64, 0);
	CHECK_EQ(((struct fuse_init_out *)c.body)->major, 7);
	in.major = 7;
	in.minor = 31;
	OK(&c, 64, &t, 2, &c, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL, NULL,
	   0, 64, 0);
	OK(&c, 0, &t, 2, &c, FUSE_DESTROY, 0, NULL, 0, NULL, NULL, NULL, 0, 0,
	   0);
	ERR(&c, EIO, &t, 1, &c, FUSE_STATFS, 1, NULL, 0, NULL, NULL, NULL, 0,
	    80, 0);
	td_stop(&t);
	rm_tree(dir);
}

static void test_tree(void)
{
	static uint8_t data[300000], back[REPLY_MAX];
	struct fuse_write_in w = { 0 };
	struct fuse_read_in rd = { 0 };
	struct fuse_setattr_in sa = { 0 };
	struct fuse_getattr_in ga = { 0 };
	struct fuse_open_in op = { FUSE_O_RDWR, 0 };
	struct fuse_release_in rl = { 0 };
	struct fuse_fsync_in fy = { 0 };
	struct fuse_rename_in rn;
	uint64_t d, f, fh, f2;
	struct call c;
	struct td t;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	start(&t, "1");
	init(&t, &c);
	ERR(&c, ENOENT, &t, 1, &c, FUSE_LOOKUP, 1, NULL, 0, "d", NULL, NULL, 0,
	    128, 0);
	d = entry(&t, &c, FUSE_MKDIR, 1, "d", 0755);
	host_check("d", LONG_MAX, NULL);
	CHECK_EQ(entry(&t, &c, FUSE_LOOKUP, 1, "d", 0), d); /* same node */
	f = entry(&t, &c, FUSE_CREATE, d, "f", 0644);
	fh = fh_of(&c, FUSE_CREATE);
	/* WRITE 6000 bytes at 100 (data in its own descriptor). */
	w = (struct fuse_write_in){ .fh = fh, .offset = 100, .size = 6000 };
	OK(&c, 8, &t, 1, &c, FUSE_WRITE, f, &w, sizeof(w), NULL, NULL, data,
	   6000, 8, 0);
	CHECK_EQ(((struct fuse_write_out *)c.body)->size, 6000);
	memmove(data + 100, data, 6000);
	memset(data, 0, 100);
	host_check("d/f", 6100, data);
	/* READ it back into a reply split across two descriptors; a READ
	 * past the end is short. */
	rd = (struct fuse_read_in){ .fh = fh, .offset = 0, .size = 6100 };
	OK(&c, 6100, &t, 1, &c, FUSE_READ, f, &rd, sizeof(rd), NULL, NULL, NULL,
	   0, 6100, 777);
	memcpy(back, c.body, 6100);
	CHECK(!memcmp(back, data, 6100));
	rd.offset = 6000;
	rd.size = 4096;
	OK(&c, 100, &t, 1, &c, FUSE_READ, f, &rd, sizeof(rd), NULL, NULL, NULL,
	   0, 4096, 0);
	CHECK(!memcmp(c.body, data + 6000, 100));
	fy.fh = fh;
	OK(&c, 0, &t, 1, &c, FUSE_FSYNC, f, &fy, sizeof(fy), NULL, NULL, NULL,
	   0, 0, 0);
	rl.fh = fh;
	OK(&c, 0, &t, 1, &c, FUSE_FLUSH, f, &rl, sizeof(struct fuse_flush_in),
	   NULL, NULL, NULL, 0, 0, 0);
	OK(&c, 0, &t, 1, &c, FUSE_RELEASE, f, &rl, sizeof(rl), NULL, NULL, NULL,
	   0, 0, 0);
	ERR(&c, EBADF, &t, 1, &c, FUSE_READ, f, &rd, sizeof(rd), NULL, NULL,
	    NULL, 0, 4096, 0);
	/* GETATTR after the WRITE, SETATTR size and mode. */
	OK(&c, 104, &t, 1, &c, FUSE_GETATTR, f, &ga, sizeof(ga), NULL, NULL,
	   NULL, 0, 104, 0);
	CHECK_EQ(((struct fuse_attr_out *)c.body)->attr.size, 6100);
	sa = (struct fuse_setattr_in){ .valid = FATTR_SIZE | FATTR_MODE,
				       .size = 50,
				       .mode = 0600 };
	OK(&c, 104, &t, 1, &c, FUSE_SETATTR, f, &sa, sizeof(sa), NULL, NULL,
	   NULL, 0, 104, 0);
	CHECK_EQ(((struct fuse_attr_out *)c.body)->attr.size, 50);
	CHECK_EQ(((struct fuse_attr_out *)c.body)->attr.mode,
		 FUSE_S_IFREG | 0600);
	host_check("d/f", 50, data);
	/* A big WRITE through OPEN. */
	OK(&c, 16, &t, 1, &c, FUSE_OPEN, f, &op, sizeof(op), NULL, NULL, NULL,
	   0, 16, 0);
	fh = fh_of(&c, FUSE_OPEN);
	w = (struct fuse_write_in){ .fh = fh,
				    .offset = 0,
				    .size = sizeof(data) };
	OK(&c, 8, &t, 1, &c, FUSE_WRITE, f, &w, sizeof(w), NULL, NULL, data,
	   sizeof(data), 8, 0);
	host_check("d/f", sizeof(data), data);
	rl.fh = fh;
	OK(&c, 0, &t, 1, &c, FUSE_RELEASE, f, &rl, sizeof(rl), NULL, NULL, NULL,
	   0, 0, 0);
	/* Errors. */
	ERR(&c, EEXIST, &t, 1, &c, FUSE_MKDIR, 1,
	    &(struct fuse_mkdir_in){ 0755, 0 }, 8, "d", NULL, NULL, 0, 128, 0);
	ERR(&c, ENOTEMPTY, &t, 1, &c, FUSE_RMDIR, 1, NULL, 0, "d", NULL, NULL,
	    0, 0, 0);
	ERR(&c, EISDIR, &t, 1, &c, FUSE_UNLINK, 1, NULL, 0, "d", NULL, NULL, 0,
	    0, 0);
	ERR(&c, ENOTDIR, &t, 1, &c, FUSE_RMDIR, d, NULL, 0, "f", NULL, NULL, 0,
	    0, 0);
	ERR(&c, EISDIR, &t, 1, &c, FUSE_OPEN, d, &op, sizeof(op), NULL, NULL,
	    NULL, 0, 16, 0);
	/* RENAME into the root, the old name gone. */
	rn.newdir = 1;
	OK(&c, 0, &t, 1, &c, FUSE_RENAME, d, &rn, sizeof(rn), "f", "g", NULL, 0,
	   0, 0);
	host_check("d/f", -1, NULL);
	host_check("g", sizeof(data), data);
	f2 = entry(&t, &c, FUSE_LOOKUP, 1, "g", 0);
	CHECK_EQ(f2, f); /* the same inode, the same node */
	/* FORGET on the hiprio queue: the chain comes back with nothing. */
	CHECK_EQ(fuse(&t, 0, &c, FUSE_FORGET, f, &(struct fuse_forget_in){ 10 },
		      8, NULL, NULL, NULL, 0, 0, 0),
		 0);
	OK(&c, 0, &t, 1, &c, FUSE_UNLINK, 1, NULL, 0, "g", NULL, NULL, 0, 0, 0);
	OK(&c, 0, &t, 1, &c, FUSE_RMDIR, 1, NULL, 0, "d", NULL, NULL, 0, 0, 0);
	host_check("g", -1, NULL);
	host_check("d", -1, NULL);
	OK(&c, 80, &t, 1, &c, FUSE_STATFS, 1, NULL, 0, NULL, NULL, NULL, 0, 80,
	   0);
	CHECK(((struct fuse_kstatfs *)c.body)->bsize);
	td_stop(&t);
	rm_tree(dir);
}

/* Walks a READDIR(PLUS) reply of @len bytes; counts names, checks the
 * 8-byte alignment and offsets; returns the last entry's offset. */
static uint64_t walk(const uint8_t *p, uint32_t len, bool plus, int *names,
		     bool *seen_a, uint64_t *a_node)
{
	uint32_t head = sizeof(struct fuse_dirent) +
			(plus ? sizeof(struct fuse_entry_out) : 0);
	uint64_t off = 0;

	for (uint32_t pos = 0; pos < len;) {
		const struct fuse_dirent *d =
			(const void *)(p + pos + head - sizeof(*d));
		const struct fuse_entry_out *e = (const void *)(p + pos);
		const char *name = (const char *)(p + pos + head);

		CHECK_EQ(pos % 8, 0);
		CHECK(d->namelen && d->off > off);
		off = d->off;
		if (d->namelen == 1 && name[0] == 'a') {
			*seen_a = true;
			CHECK_EQ(d->type, FUSE_DT_REG);
			if (plus) {
				CHECK(e->nodeid > 1);
				*a_node = e->nodeid;
			}
		}
		if (plus && (d->namelen <= 2 && name[0] == '.'))
			CHECK_EQ(e->nodeid, 0);
		(*names)++;
		pos += (head + d->namelen + 7) & ~7u;
	}
	return off;
}

static void test_readdir(void)
{
	struct fuse_read_in rd = { 0 };
	struct fuse_open_in op = { 0, 0 };
	uint64_t fh, off, a_node = 0, a_look;
	char name[16];
	struct call c;
	struct td t;

	start(&t, "1");
	init(&t, &c);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), i ? "name%02d" : "a", i);
		entry(&t, &c, FUSE_CREATE, 1, name, 0644);
		OK(&c, 0, &t, 1, &c, FUSE_RELEASE, 0,
		   &(struct fuse_release_in){ .fh = fh_of(&c, FUSE_CREATE) },
		   24, NULL, NULL, NULL, 0, 0, 0);
	}
	a_look = entry(&t, &c, FUSE_LOOKUP, 1, "a", 0);
	for (int plus = 0; plus < 2; plus++) {
		int names = 0;
		bool seen_a = false;

		OK(&c, 16, &t, 1, &c, FUSE_OPENDIR, 1, &op, sizeof(op), NULL,
		   NULL, NULL, 0, 16, 0);
		fh = fh_of(&c, FUSE_OPENDIR);
		/* In 512-byte replies: several calls, offsets carried on. */
		for (off = 0;;) {
			rd = (struct fuse_read_in){ .fh = fh,
						    .offset = off,
						    .size = 512 };
			fuse(&t, 1, &c, plus ? FUSE_READDIRPLUS : FUSE_READDIR,
			     1, &rd, sizeof(rd), NULL, NULL, NULL, 0, 512, 100);
			CHECK_EQ(c.hdr->error, 0);
			CHECK_EQ(c.hdr->len, c.used);
			CHECK(c.used <= 16 + 512);
			if (c.used == 16)
				break;
			off = walk(c.body, c.used - 16, plus, &names, &seen_a,
				   &a_node);
		}
		CHECK_EQ(names, 42); /* 40 files, "." and ".." */
		CHECK(seen_a);
		if (plus)
			CHECK_EQ(a_node, a_look);
		OK(&c, 0, &t, 1, &c, FUSE_RELEASEDIR, 1,
		   &(struct fuse_release_in){ .fh = fh }, 24, NULL, NULL, NULL,
		   0, 0, 0);
	}
	/* A BATCH_FORGET of everything on the hiprio queue. */
	CHECK_EQ(fuse(&t, 0, &c, FUSE_BATCH_FORGET, 0,
		      (uint32_t[]){ 1, 0, (uint32_t)a_look, 0, 3, 0 }, 24, NULL,
		      NULL, NULL, 0, 0, 0),
		 0);
	/* The node ID is gone once every lookup was forgotten. */
	ERR(&c, ESTALE, &t, 1, &c, FUSE_GETATTR, a_look,
	    &(struct fuse_getattr_in){ 0 }, 16, NULL, NULL, NULL, 0, 104, 0);
	td_stop(&t);
	rm_tree(dir);
}

static void test_confined(void)
{
	struct fuse_create_in cr = { FUSE_O_RDWR | FUSE_O_CREAT, 0100644, 0,
				     0 };
	struct fuse_open_in op = { FUSE_O_RDWR, 0 };
	struct fuse_rename_in rn = { 1 };
	char outside[128], link[128], p[160];
	struct call c;
	struct td t;
	uint64_t l;
	struct stat st;

	start(&t, "1");
	snprintf(outside, sizeof(outside), "%s-outside", dir);
	REQUIRE(!mkdir(outside, 0755));
	snprintf(link, sizeof(link), "%s/out", dir);
	REQUIRE(!symlink(outside, link));
	snprintf(link, sizeof(link), "%s/outfile", dir);
	snprintf(p, sizeof(p), "%s/x", outside);
	REQUIRE(!symlink(p, link));
	init(&t, &c);
	/* Names that are not one component. */
	ERR(&c, EINVAL, &t, 1, &c, FUSE_LOOKUP, 1, NULL, 0, "..", NULL, NULL, 0,
	    128, 0);
	ERR(&c, EINVAL, &t, 1, &c, FUSE_LOOKUP, 1, NULL, 0, "out/x", NULL, NULL,
	    0, 128, 0);
	ERR(&c, EINVAL, &t, 1, &c, FUSE_CREATE, 1, &cr, sizeof(cr), "../x",
	    NULL, NULL, 0, 144, 0);
	ERR(&c, EINVAL, &t, 1, &c, FUSE_RENAME, 1, &rn, sizeof(rn), "out",
	    "../y", NULL, 0, 0, 0);
	/* A symlink is a node of its own, never followed. */
	l = entry(&t, &c, FUSE_LOOKUP, 1, "out", 0);
	CHECK_EQ(((struct fuse_entry_out *)c.body)->attr.mode & FUSE_S_IFMT,
		 0120000);
	ERR(&c, ENOTDIR, &t, 1, &c, FUSE_CREATE, l, &cr, sizeof(cr), "x", NULL,
	    NULL, 0, 144, 0);
	ERR(&c, ENOTDIR, &t, 1, &c, FUSE_LOOKUP, l, NULL, 0, "x", NULL, NULL, 0,
	    128, 0);
	ERR(&c, ELOOP, &t, 1, &c, FUSE_OPEN, l, &op, sizeof(op), NULL, NULL,
	    NULL, 0, 16, 0);
	ERR(&c, ELOOP, &t, 1, &c, FUSE_CREATE, 1, &cr, sizeof(cr), "outfile",
	    NULL, NULL, 0, 144, 0);
	CHECK(stat(p, &st) && errno == ENOENT); /* nothing created outside */
	td_stop(&t);
	rm_tree(outside);
	rm_tree(dir);
}

static void test_malformed(void)
{
	struct call c;
	struct td t;
	uint64_t a;

	start(&t, "1");
	init(&t, &c);
	/* in.len beyond the readable bytes. */
	fuse(&t, 1, &c, FUSE_STATFS, 1, NULL, 0, NULL, NULL, NULL, 0, 80, 0);
	CHECK_EQ(framed(&c, 80), 0);
	((struct fuse_in_header *)td_host(&t, c.in))->len = 4000;
	td_submit(&t, 1,
		  (struct td_buf[]){ { c.in, 40, false },
				     { c.out, 16, true },
				     { c.reply, 80, true } },
		  3);
	CHECK_EQ(td_wait_used(&t, 1, NULL), 16);
	CHECK_EQ(c.hdr->error, -EINVAL);
	/* Too short for a header; no room for a reply: used length 0. */
	a = td_alloc(&t, 64);
	td_submit(&t, 1,
		  (struct td_buf[]){ { a, 20, false }, { a + 32, 16, true } },
		  2);
	CHECK_EQ(td_wait_used(&t, 1, NULL), 0);
	td_submit(&t, 1, (struct td_buf[]){ { c.in, 40, false } }, 1);
	CHECK_EQ(td_wait_used(&t, 1, NULL), 0);
	/* A reply that does not fit: EINVAL, nothing done. */
	ERR(&c, EINVAL, &t, 1, &c, FUSE_MKDIR, 1,
	    &(struct fuse_mkdir_in){ 0755, 0 }, 8, "nope", NULL, NULL, 0, 100,
	    0);
	host_check("nope", -1, NULL);
	/* Still serving. */
	OK(&c, 80, &t, 1, &c, FUSE_STATFS, 1, NULL, 0, NULL, NULL, NULL, 0, 80,
	   0);
	td_stop(&t);
	rm_tree(dir);
}

/*
 * Random FUSE requests (known opcodes and some unknown, node IDs and
 * handles that exist or not, random arguments, names of '.', '/', 'a'
 * and NUL, reply space from none to plenty, any queue): every reply is
 * framed right (used length within the writable part, out.len, unique,
 * an errno in range and no body with it), the backend survives, stays
 * inside its directory, and still serves a plain request after.
 */
/* The fixed arguments of @op (before any name). */
static uint32_t arg_size(uint32_t op)
{
	switch (op) {
	case FUSE_SETATTR:
		return sizeof(struct fuse_setattr_in);
	case FUSE_READ:
	case FUSE_WRITE:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
		return 40;
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FLUSH:
		return 24;
	case FUSE_GETATTR:
	case FUSE_FSYNC:
	case FUSE_CREATE:
	case FUSE_INIT:
		return 16;
	case FUSE_LOOKUP:
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_STATFS:
	case FUSE_DESTROY:
		return 0;
	default:
		return 8;
	}
}

static void test_garbage(void)
{
	static const uint32_t ops[] = { 1,  2,	3,  4,	9,  10, 11, 12, 14,
					15, 16, 17, 18, 20, 25, 27, 28, 29,
					35, 36, 42, 44, 99, 26, 38 };
	static uint8_t arg[128], data[5000];
	char names[2][24];
	uint64_t seed = 0x2545f4914f6cdd1dull;
	unsigned int succeeded = 0;
	struct call c;
	struct td t;

	start(&t, "2");
	init(&t, &c);
	for (int i = 0; i < 3000; i++) {
		uint64_t r = td_rand(&seed), r2 = td_rand(&seed);
		/* INIT and DESTROY (last) now and then only */
		uint32_t op = ops[r % (sizeof(ops) / sizeof(*ops) -
				       (i % 300 ? 2 : 0))];
		uint32_t arg_len =
			r % 4 ? arg_size(op) : (uint32_t)(r >> 8) % 100;
		uint32_t room = (uint32_t)(r2 % 4 ? 4096 : (r2 >> 8) % 300);
		uint32_t dlen =
			op == FUSE_WRITE ? (uint32_t)(r2 >> 20) % 5000 : 0;
		unsigned int q =
			(r >> 40) % 8 ? 1 + (unsigned int)(r >> 44) % 2 : 0;

		for (size_t k = 0; k < sizeof(arg); k++)
			arg[k] = (uint8_t)td_rand(&seed);
		/* fh, offset and size where the arguments have them */
		*(uint64_t *)arg = (r >> 16) % 6;
		*(uint64_t *)(arg + 8) = r2 % 3 ? (r2 >> 4) % 100000 : r2 >> 1;
		*(uint32_t *)(arg + 16) = (uint32_t)(r2 >> 32) % 6000;
		for (int n = 0; n < 2; n++) {
			int len = 1 + (int)(td_rand(&seed) % 3);

			/* mostly a few names, sometimes '.', '/' or NUL */
			for (int k = 0; k < len; k++)
				names[n][k] =
					"abababab./\0"[td_rand(&seed) % 11];
			names[n][len] = '\0';
		}
		fuse(&t, q, &c, op, (r >> 50) % 5, arg, arg_len, names[0],
		     r % 3 ? names[1] : NULL, data, dlen, room,
		     (uint32_t)(r2 >> 56));
		if (!c.used)
			continue;
		CHECK(q && c.used <= 16 + room);
		CHECK_EQ(c.hdr->len, c.used);
		CHECK_EQ(c.hdr->unique, unique);
		CHECK(c.hdr->error <= 0 && c.hdr->error >= -4095);
		CHECK(!c.hdr->error || c.used == 16);
		succeeded += !c.hdr->error;
		if (op == FUSE_INIT || op == FUSE_DESTROY)
			init(&t, &c);
	}
	fprintf(stderr, "garbage: %u requests succeeded\n", succeeded);
	CHECK(succeeded > 300); /* not just refusals */
	init(&t, &c);
	OK(&c, 80, &t, 1, &c, FUSE_STATFS, 1, NULL, 0, NULL, NULL, NULL, 0, 80,
	   0);
	td_stop(&t);
	rm_tree(dir);
}

/* --- --bug: each defect changes what it says, and only that ---------- */

/* INIT, whatever the reply (the framing defects change it too). */
static void init_any(struct td *t, struct call *c)
{
	struct fuse_init_in in = { 7, 31, 65536, FUSE_DO_READDIRPLUS };

	fuse(t, 1, c, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL, NULL, 0, 64,
	     0);
}

static void start_bug(struct td *t, const char *bug, const char *queues)
{
	const char *argv[] = { "fs",	   "--shared-dir", dir,
			       "--queues", queues,	   "--tag",
			       "mytag",	   "--bug",	   bug,
			       NULL };

	make_dir();
	td_start(t, argv);
	td_start_device(t, RING_FEATURES, t->fe.queue_num);
}

static void stop_bug(struct td *t)
{
	td_stop(t);
	rm_tree(dir);
}

static void getattr(struct td *t, struct call *c, unsigned int q, uint64_t node,
		    uint32_t room)
{
	fuse(t, q, c, FUSE_GETATTR, node, &(struct fuse_getattr_in){ 0 }, 16,
	     NULL, NULL, NULL, 0, room, 0);
}

static void lookup_missing(struct td *t, struct call *c)
{
	fuse(t, 1, c, FUSE_LOOKUP, 1, NULL, 0, "missing", NULL, NULL, 0, 128,
	     0);
}

static void test_bug_config(void)
{
	struct virtio_fs_config cfg;
	struct td t;

	start_bug(&t, "fs-tag-garbage", "2");
	CHECK_EQ(vhu_get_config(&t.fe, 0, sizeof(cfg), 0, &cfg), 0);
	CHECK(!memcmp(cfg.tag, "mytag\0xx", 8) && cfg.tag[35] == 'x');
	stop_bug(&t);
	start_bug(&t, "fs-config-queues-more", "2");
	CHECK_EQ(vhu_get_config(&t.fe, 0, sizeof(cfg), 0, &cfg), 0);
	CHECK_EQ(cfg.num_request_queues, 3);
	CHECK_EQ(t.fe.queue_num, 3);
	stop_bug(&t);
	start_bug(&t, "fs-config-queues-zero", "2");
	CHECK_EQ(vhu_get_config(&t.fe, 0, sizeof(cfg), 0, &cfg), 0);
	CHECK_EQ(cfg.num_request_queues, 0);
	stop_bug(&t);
}

static void test_bug_init(void)
{
	struct fuse_init_in in = { 7, 31, 0, FUSE_BIG_WRITES };
	static const char *const bugs[] = { "fs-init-major",
					    "fs-init-max-write",
					    "fs-init-flags" };
	struct fuse_init_out *o;
	struct call c;
	struct td t;

	for (int i = 0; i < 3; i++) {
		start_bug(&t, bugs[i], "1");
		OK(&c, 64, &t, 1, &c, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL,
		   NULL, 0, 64, 0);
		o = (void *)c.body;
		CHECK_EQ(o->major, i == 0 ? 8 : 7);
		CHECK_EQ(o->max_write, i == 1 ? 1024 : 1u << 20);
		CHECK_EQ(o->flags,
			 i == 2 ? FUSE_BIG_WRITES | 1u << 16 : FUSE_BIG_WRITES);
		stop_bug(&t);
	}
}

/* The reply-framing defects, on GETATTR of the root and a missing
 * LOOKUP. */
static void test_bug_framing(void)
{
	struct call c;
	struct td t;

	start_bug(&t, "fs-unique-off", "1");
	init_any(&t, &c);
	getattr(&t, &c, 1, 1, 104);
	CHECK_EQ(c.hdr->unique, unique + 1);
	lookup_missing(&t, &c);
	CHECK_EQ(framed(&c, 0), -ENOENT); /* GETATTR only */
	stop_bug(&t);

	start_bug(&t, "fs-out-len-body", "1");
	init_any(&t, &c);
	getattr(&t, &c, 1, 1, 104);
	CHECK_EQ(c.used, 120);
	CHECK_EQ(c.hdr->len, 104);
	stop_bug(&t);

	start_bug(&t, "fs-errno-positive", "1");
	init_any(&t, &c);
	lookup_missing(&t, &c);
	CHECK_EQ(framed(&c, 0), ENOENT);
	stop_bug(&t);

	start_bug(&t, "fs-error-body", "1");
	init_any(&t, &c);
	lookup_missing(&t, &c);
	CHECK_EQ(framed(&c, 16), -ENOENT);
	CHECK(!memcmp(c.body, (uint8_t[16]){ 0 }, 16));
	stop_bug(&t);

	start_bug(&t, "fs-unknown-einval", "1");
	init_any(&t, &c);
	ERR(&c, EINVAL, &t, 1, &c, ENOSYS_OP, 1, NULL, 0, NULL, NULL, NULL, 0,
	    64, 0);
	stop_bug(&t);

	start_bug(&t, "fs-lookup-missing-eio", "1");
	init_any(&t, &c);
	lookup_missing(&t, &c);
	CHECK_EQ(framed(&c, 0), -EIO);
	stop_bug(&t);

	start_bug(&t, "fs-used-len-header", "1");
	init_any(&t, &c);
	getattr(&t, &c, 1, 1, 104);
	CHECK_EQ(c.used, 16);
	CHECK_EQ(c.hdr->len, 120);
	stop_bug(&t);

	start_bug(&t, "fs-used-len-over", "1");
	init_any(&t, &c);
	getattr(&t, &c, 1, 1, 104);
	CHECK_EQ(c.used, 136);
	stop_bug(&t);

	start_bug(&t, "fs-used-len-whole", "1");
	init_any(&t, &c);
	getattr(&t, &c, 1, 1, 200);
	CHECK_EQ(c.used, 216);
	CHECK_EQ(c.hdr->len, 120);
	stop_bug(&t);

	start_bug(&t, "fs-forget-reply", "1");
	init_any(&t, &c);
	CHECK_EQ(fuse(&t, 0, &c, FUSE_FORGET, 1, &(struct fuse_forget_in){ 1 },
		      8, NULL, NULL, NULL, 0, 0, 0),
		 16);
	stop_bug(&t);

	start_bug(&t, "fs-reply-first-desc", "1");
	init_any(&t, &c);
	getattr(&t, &c, 1, 1, 104);
	CHECK_EQ(c.used, 120);
	CHECK_EQ(c.hdr->len, 120);
	CHECK_EQ(c.body[0], 0xee); /* the body never written */
	stop_bug(&t);
}

/* A file "f" of @len bytes of data[] through CREATE + WRITE; returns its
 * node, its handle in *@fh. */
static uint64_t bug_file(struct td *t, struct call *c, const uint8_t *data,
			 uint32_t len, uint64_t *fh)
{
	uint64_t f = entry(t, c, FUSE_CREATE, 1, "f", 0644);
	struct fuse_write_in w;

	*fh = fh_of(c, FUSE_CREATE);
	w = (struct fuse_write_in){ .fh = *fh, .size = len };
	fuse(t, 1, c, FUSE_WRITE, f, &w, sizeof(w), NULL, NULL, data, len, 8,
	     0);
	return f;
}

static void test_bug_data(void)
{
	static uint8_t data[6000];
	struct fuse_read_in rd;
	struct fuse_write_in w;
	uint64_t f, fh, in, d, o;
	struct call c;
	struct td t;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	start_bug(&t, "fs-stale-size", "1");
	init_any(&t, &c);
	f = bug_file(&t, &c, data, 100, &fh);
	getattr(&t, &c, 1, f, 104);
	CHECK_EQ(((struct fuse_attr_out *)c.body)->attr.size, 0);
	stop_bug(&t);

	start_bug(&t, "fs-write-count", "1");
	init_any(&t, &c);
	bug_file(&t, &c, data, 100, &fh);
	CHECK_EQ(((struct fuse_write_out *)c.body)->size, 99);
	host_check("f", 100, data);
	stop_bug(&t);

	start_bug(&t, "fs-read-offset", "1");
	init_any(&t, &c);
	f = bug_file(&t, &c, data, 1000, &fh);
	rd = (struct fuse_read_in){ .fh = fh, .offset = 600, .size = 100 };
	OK(&c, 100, &t, 1, &c, FUSE_READ, f, &rd, sizeof(rd), NULL, NULL, NULL,
	   0, 100, 0);
	CHECK(!memcmp(c.body, data + 512, 100));
	stop_bug(&t);

	start_bug(&t, "fs-read-short", "1");
	init_any(&t, &c);
	f = bug_file(&t, &c, data, 6000, &fh);
	rd = (struct fuse_read_in){ .fh = fh, .offset = 0, .size = 5000 };
	OK(&c, 3000, &t, 1, &c, FUSE_READ, f, &rd, sizeof(rd), NULL, NULL, NULL,
	   0, 5000, 0);
	stop_bug(&t);

	/* A WRITE of 300 bytes in two payload descriptors of 100 and 200. */
	start_bug(&t, "fs-write-first-seg", "1");
	init_any(&t, &c);
	f = bug_file(&t, &c, data, 0, &fh);
	td_reset_heap(&t);
	in = td_alloc(&t, 128);
	d = td_alloc(&t, 300);
	o = td_alloc(&t, 24);
	w = (struct fuse_write_in){ .fh = fh, .size = 300 };
	*(struct fuse_in_header *)td_host(&t, in) = (struct fuse_in_header){
		.len = 80 + 300, .opcode = FUSE_WRITE, .unique = 1, .nodeid = f
	};
	memcpy((uint8_t *)td_host(&t, in) + 40, &w, sizeof(w));
	memcpy(td_host(&t, d), data, 300);
	td_submit(&t, 1,
		  (struct td_buf[]){ { in, 80, false },
				     { d, 100, false },
				     { d + 100, 200, false },
				     { o, 24, true } },
		  4);
	CHECK_EQ(td_wait_used(&t, 1, NULL), 24);
	CHECK_EQ(((struct fuse_write_out *)((uint8_t *)td_host(&t, o) + 16))
			 ->size,
		 300);
	host_check("f", 100, data);
	stop_bug(&t);
}

static void test_bug_readdir(void)
{
	static const char *const bugs[] = { "fs-dirent-pack",
					    "fs-dirent-offset" };
	struct fuse_read_in rd;
	uint64_t fh;
	struct call c;
	struct td t;

	for (int i = 0; i < 2; i++) {
		start_bug(&t, bugs[i], "1");
		init_any(&t, &c);
		entry(&t, &c, FUSE_MKDIR, 1, "abcd", 0755);
		OK(&c, 16, &t, 1, &c, FUSE_OPENDIR, 1,
		   &(struct fuse_open_in){ 0, 0 }, 8, NULL, NULL, NULL, 0, 16,
		   0);
		fh = fh_of(&c, FUSE_OPENDIR);
		rd = (struct fuse_read_in){ .fh = fh, .size = 4096 };
		fuse(&t, 1, &c, FUSE_READDIR, 1, &rd, sizeof(rd), NULL, NULL,
		     NULL, 0, 4096, 0);
		CHECK_EQ(c.hdr->error, 0);
		/* ".", "..", "abcd" in any order: 24 + name each */
		if (i == 0) {
			CHECK_EQ(c.used, 16 + 3 * 24 + 1 + 2 + 4);
		} else {
			CHECK_EQ(c.used, 16 + 3 * 32);
			for (int k = 0; k < 3; k++)
				CHECK_EQ(((struct fuse_dirent *)(c.body +
								 32 * k))
						 ->off,
					 1);
		}
		stop_bug(&t);
	}
}

/* Defects on the ring and in guest memory around the chain. */
static void test_bug_ring(void)
{
	struct call c;
	struct td t;
	uint64_t in, o;
	uint16_t head;

	start_bug(&t, "fs-hdr-first-desc", "1");
	init_any(&t, &c);
	td_reset_heap(&t);
	in = td_alloc(&t, 64);
	o = td_alloc(&t, 128);
	*(struct fuse_in_header *)td_host(&t, in) = (struct fuse_in_header){
		.len = 40, .opcode = FUSE_STATFS, .unique = 77, .nodeid = 1
	};
	td_submit(&t, 1,
		  (struct td_buf[]){ { in, 6, false },
				     { in + 6, 34, false },
				     { o, 96, true } },
		  3);
	td_wait_used(&t, 1, NULL);
	CHECK(((struct fuse_out_header *)td_host(&t, o))->unique != 77);
	stop_bug(&t);

	start_bug(&t, "fs-write-readable", "1");
	init_any(&t, &c);
	getattr(&t, &c, 1, 1, 104);
	CHECK_EQ(framed(&c, 104), 0);
	CHECK_EQ(*(uint64_t *)td_host(&t, c.in), 0);
	stop_bug(&t);

	start_bug(&t, "fs-write-desc", "1");
	init_any(&t, &c);
	getattr(&t, &c, 1, 1, 104);
	head = (uint16_t)(t.q[1].next_desc - 3);
	CHECK_EQ(t.q[1].desc[head].len, 0);
	stop_bug(&t);

	start_bug(&t, "fs-past-buffer", "1");
	init_any(&t, &c);
	getattr(&t, &c, 1, 1, 104);
	CHECK_EQ(c.body[104], 0x11); /* 0xee inverted */
	stop_bug(&t);

	start_bug(&t, "fs-indirect-max-4", "1");
	init_any(&t, &c);
	td_reset_heap(&t);
	in = td_alloc(&t, 64);
	o = td_alloc(&t, 128);
	*(struct fuse_in_header *)td_host(&t, in) = (struct fuse_in_header){
		.len = 40, .opcode = FUSE_STATFS, .unique = 5, .nodeid = 1
	};
	td_submit_indirect(&t, 1,
			   (struct td_buf[]){ { in, 10, false },
					      { in + 10, 10, false },
					      { in + 20, 20, false },
					      { o, 16, true },
					      { o + 16, 80, true } },
			   5);
	CHECK_EQ(td_wait_used(&t, 1, NULL), 0);
	stop_bug(&t);

	start_bug(&t, "fs-drop-every-8th", "1");
	init_any(&t, &c); /* the 1st */
	for (int i = 2; i < 8; i++) {
		getattr(&t, &c, 1, 1, 104);
		CHECK_EQ(framed(&c, 104), 0);
	}
	td_submit(&t, 1,
		  (struct td_buf[]){ { c.in, 56, false },
				     { c.out, 16, true },
				     { c.reply, 104, true } },
		  3);
	CHECK(!td_poll_used(&t, 1, 300));
	stop_bug(&t);
}

/* Queue defects: a second request queue never served; hiprio waiting for
 * the request queues. */
static void test_bug_queues(void)
{
	struct call c;
	struct td t;
	int kick;

	start_bug(&t, "fs-mq-first-only", "2");
	init_any(&t, &c);
	getattr(&t, &c, 1, 1, 104);
	CHECK_EQ(framed(&c, 104), 0);
	td_submit(&t, 2,
		  (struct td_buf[]){ { c.in, 56, false },
				     { c.out, 16, true },
				     { c.reply, 104, true } },
		  3);
	CHECK(!td_poll_used(&t, 2, 300));
	stop_bug(&t);

	start_bug(&t, "fs-hiprio-waits", "1");
	init_any(&t, &c);
	getattr(&t, &c, 1, 1, 104);
	/* The same GETATTR made available again, not kicked. */
	kick = t.q[1].kick;
	t.q[1].kick = -1;
	td_submit(&t, 1,
		  (struct td_buf[]){ { c.in, 56, false },
				     { c.out, 16, true },
				     { c.reply, 104, true } },
		  3);
	t.q[1].kick = kick;
	td_submit(&t, 0, (struct td_buf[]){ { c.in + 512, 48, false } }, 1);
	*(struct fuse_in_header *)td_host(&t, c.in + 512) =
		(struct fuse_in_header){ .len = 48, .opcode = FUSE_FORGET };
	CHECK(!td_poll_used(&t, 0, 300));
	td_kick(&t, 1);
	CHECK_EQ(td_wait_used(&t, 1, NULL), 120);
	CHECK_EQ(td_wait_used(&t, 0, NULL), 0);
	stop_bug(&t);
}

static const struct check_case cases[] = {
	{ "session", test_session },	     { "tree", test_tree },
	{ "readdir", test_readdir },	     { "confined", test_confined },
	{ "malformed", test_malformed },     { "garbage", test_garbage },
	{ "bug_config", test_bug_config },   { "bug_init", test_bug_init },
	{ "bug_framing", test_bug_framing }, { "bug_data", test_bug_data },
	{ "bug_readdir", test_bug_readdir }, { "bug_ring", test_bug_ring },
	{ "bug_queues", test_bug_queues },
};

int main(int argc, char **argv)
{
	log_set_program("fs_test");
	return CHECK_RUN(cases, argc, argv);
}
