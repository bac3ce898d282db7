// SPDX-License-Identifier: MIT
/*
 * The guest's FUSE client (guest/virtio/fuse.c) on the host, against a
 * fake virtio-fs device that answers each request as the case says: a
 * well-formed reply is taken, and every malformed one is refused with
 * FUSE_EBADREPLY and the name of the check that caught it at the start
 * of c.error; a request that gets no reply ends in FUSE_ETIMEDOUT; a
 * negative entry (LOOKUP with node ID 0) is ENOENT.
 */
#include <string.h>

#include "lib/time.h"
#include "tests/check.h"
#include "virtio/alloc.h"
#include "virtio/fuse.h"

/* --- What fuse.c takes from the rest of the guest ----------------------- */

static uint64_t clock_ns;

uint64_t time_ns(void)
{
	return clock_ns += 1000000; /* 1 ms a look */
}

static uint8_t arena[1 << 16] __attribute__((aligned(64)));
static size_t arena_used;

void *dma_alloc(size_t size, size_t align)
{
	void *p;

	arena_used = (arena_used + align - 1) & ~(align - 1);
	if (arena_used + size > sizeof(arena))
		return NULL;
	p = arena + arena_used;
	arena_used += size;
	return p;
}

int vio_watch(struct vio_dev *dev, uint64_t now_ns, bool progress)
{
	(void)dev, (void)now_ns, (void)progress;
	return 0;
}

int vw_idle(struct vw_wait *w, struct virtq *vqs, unsigned int n)
{
	(void)w, (void)vqs, (void)n;
	return 0;
}

/* --- The fake device ------------------------------------------------------ */

/* Writes the reply of the request in flight: body, its size, tweaks. */
static struct {
	struct fs_req *r;
	bool answer;
	uint8_t body[256] __attribute__((aligned(8)));
	uint32_t body_len;
	int32_t error;
	int64_t len_delta;    /* out.len = real + delta */
	int64_t unique_delta; /* out.unique = in.unique + delta */
	uint32_t used;	      /* used length if nonzero */
} fake;

int fs_submit(struct fs_dev *f, unsigned int vq, struct fs_req *r)
{
	(void)f, (void)vq;
	fake.r = r;
	return 0;
}

void fs_kick(struct fs_dev *f, unsigned int vq)
{
	(void)f, (void)vq;
}

int fs_poll(struct fs_dev *f, unsigned int vq, struct fs_req **done)
{
	struct fs_req *r = fake.r;
	uint32_t n = fake.body_len, in_reply;

	(void)f, (void)vq;
	if (!r || !fake.answer)
		return 0;
	in_reply = n < r->reply_len ? n : r->reply_len;
	memcpy(r->reply, fake.body, in_reply);
	/* A device writes no further than the buffers go, whatever it
	 * reports. */
	if (n > in_reply)
		memcpy(r->rdata, fake.body + in_reply,
		       n - in_reply < r->rlen ? n - in_reply : r->rlen);
	r->out.len = (uint32_t)(sizeof(r->out) + n + fake.len_delta);
	r->out.error = fake.error;
	r->out.unique = fs_req_hdr(r)->unique + (uint64_t)fake.unique_delta;
	r->used_len = fake.used ? fake.used : (uint32_t)sizeof(r->out) + n;
	fake.r = NULL;
	*done = r;
	return 1;
}

static struct fs_dev fs;
static struct vw_wait wait;
static struct fuse_conn c;

static void reset(uint32_t body_len)
{
	memset(&fake, 0, sizeof(fake));
	fake.answer = true;
	fake.body_len = body_len;
	arena_used = 0;
	memset(&fs, 0, sizeof(fs));
	fs.nq = 1;
	REQUIRE(!fuse_conn_init(&c, &fs, &wait, 5000000000ull));
	c.max_write = 4096;
}

static struct fuse_attr *attr_body(void)
{
	struct fuse_attr_out *a = (void *)fake.body;

	a->attr = (struct fuse_attr){
		.ino = 7, .size = 3, .mode = FUSE_S_IFREG | 0644, .nlink = 1
	};
	return &a->attr;
}

static struct fuse_entry_out *entry_body(void)
{
	struct fuse_entry_out *e = (void *)fake.body;

	*e = (struct fuse_entry_out){ .nodeid = 9 };
	e->attr = (struct fuse_attr){ .ino = 9,
				      .mode = FUSE_S_IFDIR | 0755,
				      .nlink = 2 };
	return e;
}

#define REFUSED(call, name)                                                    \
	do {                                                                   \
		int ret_ = (call);                                             \
		CHECK_EQ(ret_, FUSE_EBADREPLY);                                \
		CHECK_MSG(!strncmp(c.error, name ":", strlen(name) + 1),       \
			  "error \"%s\" should start with %s", c.error, name); \
	} while (0)

static void test_good(void)
{
	struct fuse_attr a;
	struct fuse_entry_out e;

	reset(sizeof(struct fuse_attr_out));
	attr_body();
	CHECK_EQ(fuse_getattr(&c, 7, &a), 0);
	CHECK_EQ(a.size, 3);
	reset(sizeof(struct fuse_entry_out));
	entry_body();
	CHECK_EQ(fuse_mkdir(&c, 1, "d", 0755, &e), 0);
	CHECK_EQ(e.nodeid, 9);
	reset(0);
	fake.error = -FUSE_ENOTEMPTY;
	CHECK_EQ(fuse_unlink(&c, 1, "d", true), -FUSE_ENOTEMPTY);
}

static void test_framing(void)
{
	struct fuse_attr a;

	reset(sizeof(struct fuse_attr_out));
	attr_body();
	fake.used = 8;
	REFUSED(fuse_getattr(&c, 7, &a), "reply-short");
	reset(sizeof(struct fuse_attr_out));
	attr_body();
	fake.len_delta = 4;
	REFUSED(fuse_getattr(&c, 7, &a), "reply-len");
	reset(sizeof(struct fuse_attr_out));
	attr_body();
	fake.unique_delta = 1;
	REFUSED(fuse_getattr(&c, 7, &a), "reply-unique");
	reset(0);
	fake.error = 5;
	REFUSED(fuse_getattr(&c, 7, &a), "reply-errno");
	reset(0);
	fake.error = -5000;
	REFUSED(fuse_getattr(&c, 7, &a), "reply-errno");
	reset(8);
	fake.error = -FUSE_ENOENT;
	REFUSED(fuse_getattr(&c, 7, &a), "reply-error-body");
	reset(50);
	REFUSED(fuse_getattr(&c, 7, &a), "reply-size");
}

static void test_bodies(void)
{
	struct fuse_attr a;
	struct fuse_entry_out e;
	struct fuse_kstatfs st;
	struct fuse_init_out *io = (void *)fake.body;
	struct fs_req *r;
	uint8_t data[16];

	reset(sizeof(*io));
	*io = (struct fuse_init_out){ .major = 8,
				      .minor = 31,
				      .max_write = 65536 };
	REFUSED(fuse_init(&c, 65536), "init-version");
	reset(sizeof(*io));
	*io = (struct fuse_init_out){ .major = 7,
				      .minor = 31,
				      .max_write = 100 };
	REFUSED(fuse_init(&c, 65536), "init-max-write");
	reset(sizeof(*io));
	*io = (struct fuse_init_out){ .major = 7,
				      .minor = 31,
				      .max_write = 1 << 20,
				      .flags = FUSE_DO_READDIRPLUS };
	CHECK_EQ(fuse_init(&c, 65536), 0);
	CHECK_EQ(c.max_write, 65536);
	CHECK(c.readdirplus);

	reset(sizeof(e));
	entry_body()->nodeid = 0;
	REFUSED(fuse_mkdir(&c, 1, "d", 0755, &e), "entry-nodeid");
	reset(sizeof(e));
	entry_body()->nodeid = 0;
	CHECK_EQ(fuse_lookup(&c, 1, "d", &e), -FUSE_ENOENT);
	reset(sizeof(e));
	entry_body()->attr.ino = 0;
	REFUSED(fuse_lookup(&c, 1, "d", &e), "attr-ino");

	reset(sizeof(struct fuse_attr_out));
	attr_body()->mode = 0120777; /* a symlink */
	REFUSED(fuse_getattr(&c, 7, &a), "attr-mode");
	reset(sizeof(struct fuse_attr_out));
	attr_body()->nlink = 0;
	REFUSED(fuse_getattr(&c, 7, &a), "attr-nlink");

	/* READ: more than the buffer (reply-size) or than asked (read-size). */
	reset(32);
	r = c.req;
	fuse_prep_read(&c, r, 7, 1, 0, data, sizeof(data));
	REFUSED(fuse_call(&c, r), "reply-size");
	reset(12);
	fuse_prep_read(&c, r, 7, 1, 0, data, sizeof(data));
	((struct fuse_read_in *)(r->in + sizeof(struct fuse_in_header)))->size =
		8;
	REFUSED(fuse_call(&c, r), "read-size");
	reset(12);
	fuse_prep_read(&c, r, 7, 1, 0, data, sizeof(data));
	CHECK_EQ(fuse_call(&c, r), 12);

	reset(sizeof(struct fuse_write_out));
	((struct fuse_write_out *)fake.body)->size = 3;
	fuse_prep_write(&c, r, 7, 1, 0, data, sizeof(data));
	CHECK_EQ(fs_req_hdr(r)->len, sizeof(struct fuse_in_header) +
					     sizeof(struct fuse_write_in) +
					     sizeof(data));
	REFUSED(fuse_call(&c, r), "write-size");

	reset(sizeof(st));
	*(struct fuse_kstatfs *)fake.body = (struct fuse_kstatfs){
		.blocks = 10, .bfree = 11, .bsize = 4096
	};
	REFUSED(fuse_statfs(&c, &st), "statfs");
}

static void test_dirents(void)
{
	uint8_t buf[64] = { 0 };
	struct fuse_dirent *d = (void *)buf;
	struct fuse_dirent_view v;
	uint32_t pos = 0;

	reset(0);
	*d = (struct fuse_dirent){
		.ino = 1, .off = 1, .namelen = 1, .type = FUSE_DT_DIR
	};
	buf[24] = '.';
	CHECK_EQ(fuse_dirent_next(&c, buf, 32, &pos, false, &v), 1);
	CHECK_EQ(pos, 32);
	CHECK_EQ(fuse_dirent_next(&c, buf, 32, &pos, false, &v), 0);
	pos = 0;
	REFUSED(fuse_dirent_next(&c, buf, 30, &pos, false, &v), "dirent");
	pos = 0;
	d->namelen = 0;
	REFUSED(fuse_dirent_next(&c, buf, 32, &pos, false, &v), "dirent");
	pos = 0;
	d->namelen = 1;
	d->off = 0;
	REFUSED(fuse_dirent_next(&c, buf, 32, &pos, false, &v), "dirent");
	pos = 0;
	d->off = 1;
	REFUSED(fuse_dirent_next(&c, buf, 32, &pos, true, &v), "dirent");
}

static void test_timeout(void)
{
	struct fuse_attr a;

	reset(0);
	fake.answer = false;
	CHECK_EQ(fuse_getattr(&c, 7, &a), FUSE_ETIMEDOUT);
	CHECK_HAS(c.error, "timeout: GETATTR");
	fake.answer = false;
	CHECK_EQ(fuse_forget(&c, 7, 1), FUSE_ETIMEDOUT);
	CHECK_HAS(c.error, "timeout: FORGET");
}

static const struct check_case cases[] = {
	{ "good", test_good },	     { "framing", test_framing },
	{ "bodies", test_bodies },   { "dirents", test_dirents },
	{ "timeout", test_timeout },
};

int main(int argc, char **argv)
{
	return CHECK_RUN(cases, argc, argv);
}
