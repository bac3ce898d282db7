// SPDX-License-Identifier: MIT
/*
 * fs-verify: proves that a virtio-fs device (a FUSE server behind it)
 * keeps a small file tree as the guest built it.
 *
 * Under a fresh directory "t" of the shared root: directories d0..d3 and
 * files of sizes from 0 to max_size (0, 1, around a page, around
 * max_write, max_size, random) written with a pattern of their own in
 * chunks of arbitrary sizes and offsets, several requests in flight on
 * every request queue; everything read back; ranges overwritten (past the
 * end too), FSYNC; files truncated (shorter and longer) and a mode
 * changed with SETATTR; a file and a directory renamed; a file unlinked;
 * a directory emptied and removed; READDIR (READDIRPLUS when offered)
 * listings and GETATTR sizes compared with the model; the errors the
 * protocol promises (ENOENT, EEXIST, ENOTEMPTY, EISDIR, ENOTDIR). In
 * the end every file is read back and compared once more, FORGET gives
 * back every lookup on the hiprio queue, DESTROY ends the session.
 *
 * The VUVM-JSON line carries the final tree as a manifest: one string
 * per directory ("t/d0/") and per file ("t/d0/f1 SIZE FNV1A64-HEX"), for
 * tests/e2e/fs_manifest_check to compare with the shared directory.
 *
 * Parameters: files=N (1..24, default 8), max_size=BYTES (default 4M),
 * mode=poll|irq, queues=N (request queues, default 1), qd=N requests in
 * flight (1..16, default 4), seed=N, stall=SEC.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/kv.h"
#include "lib/report.h"
#include "lib/time.h"
#include "virtio/alloc.h"
#include "workloads/fs_common.h"
#include "workloads/workloads.h"

#define MAX_FILES 24
#define MAX_DIRS  6
#define MAX_NODES (MAX_FILES + MAX_DIRS + 1)
#define MAX_OPS	  6
#define MAX_QD	  16
#define CHUNK_MAX (128 * 1024)
#define DIRBUF	  8192
#define NAME_LEN  16

enum { OP_WRITE, OP_TRUNC };

struct op {
	uint8_t kind;
	uint8_t gen;
	uint64_t a, b; /* WRITE: [a, b); TRUNC: a is the new size */
};

/* A directory or file of the model. Node 0 is the root. */
struct node {
	char name[NAME_LEN];
	int parent;
	bool dir, live;
	uint64_t nodeid, ino, nlookup;
	uint64_t size, size0;
	uint32_t id;
	unsigned int nops;
	struct op ops[MAX_OPS];
};

struct slot {
	struct fs_req *req;
	uint8_t *buf;
	uint64_t off;
	uint32_t len;
	bool busy;
};

struct fsv {
	struct fsw w;
	struct node n[MAX_NODES];
	int nn;
	uint64_t max_size;
	unsigned int files, qd;
	uint32_t rng;
	struct slot slot[MAX_QD];
	uint8_t *expect, *dirbuf;
	uint64_t written, verified;
	uint64_t forgotten;
	bool failed;
};

static struct fsv V;

static uint32_t rnd(void)
{
	return vw_rand(&V.rng);
}

/* FAIL with the FUSE client's sentence (or the errno) for @what. */
static bool failed(const char *what, int err)
{
	V.failed = true;
	if (err < -FUSE_MAX_ERRNO)
		return report(false, "%s: %s", what, V.w.c.error);
	return report(false, "%s: error %d", what, err);
}

/* A call that must succeed. */
static bool ok(const char *what, int err)
{
	if (err < 0)
		return failed(what, err);
	return true;
}

/* A call that must fail with -@want. */
static bool expect_err(const char *what, int err, int want)
{
	if (err < -FUSE_MAX_ERRNO)
		return failed(what, err);
	return report(err == -want, "%s: error %d (%d expected)", what, err,
		      -want);
}

static void path(int i, char *buf, size_t size)
{
	char tmp[128];

	if (i <= 0) {
		buf[0] = '\0';
		return;
	}
	path(V.n[i].parent, tmp, sizeof(tmp));
	snprintf(buf, size, "%s%s%s", tmp, tmp[0] ? "/" : "", V.n[i].name);
}

/* --- The content model ---------------------------------------------------- */

/* What @f holds in [off, off + len), into @buf. */
static void expected(const struct node *f, uint8_t *buf, uint64_t off,
		     uint32_t len)
{
	uint64_t end = off + len;
	uint64_t base = end < f->size0 ? end : f->size0;

	/* Generation 1 up to the size it was created with, zeroes after. */
	if (off < base)
		fsw_pattern(buf, off, (uint32_t)(base - off), f->id, 1);
	if (end > f->size0) {
		uint64_t z = off > f->size0 ? off : f->size0;

		memset(buf + (z - off), 0, (size_t)(end - z));
	}
	/* Then every overwrite and truncation, in the order they were made:
	 * bytes at or past a truncation read as zeroes until rewritten. */
	for (unsigned int k = 0; k < f->nops; k++) {
		const struct op *o = &f->ops[k];
		uint64_t a = o->a < off ? off : o->a;
		uint64_t b = o->kind == OP_WRITE && o->b < end ? o->b : end;

		if (a >= b)
			continue;
		if (o->kind == OP_WRITE)
			fsw_pattern(buf + (a - off), a, (uint32_t)(b - a),
				    f->id, o->gen);
		else
			memset(buf + (a - off), 0, (size_t)(b - a));
	}
}

/* --- Lookups and their counts --------------------------------------------- */

static int add_node(int parent, const char *name, bool dir)
{
	struct node *x = &V.n[V.nn];

	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->parent = parent;
	x->dir = dir;
	x->id = (uint32_t)V.nn;
	return V.nn++;
}

/* Checks an entry for node @i of the model and counts the lookup. */
static bool took_entry(int i, const struct fuse_entry_out *e, const char *op)
{
	struct node *x = &V.n[i];
	uint32_t type = e->attr.mode & FUSE_S_IFMT;

	x->nlookup++;
	if (x->nodeid && x->nodeid != e->nodeid)
		return report(false, "attr-ino: %s %s: node ID %llu, was %llu",
			      op, x->name, (unsigned long long)e->nodeid,
			      (unsigned long long)x->nodeid);
	x->nodeid = e->nodeid;
	if (x->ino && x->ino != e->attr.ino)
		return report(false, "attr-ino: %s %s: ino %llu, was %llu", op,
			      x->name, (unsigned long long)e->attr.ino,
			      (unsigned long long)x->ino);
	x->ino = e->attr.ino;
	if (type != (x->dir ? FUSE_S_IFDIR : FUSE_S_IFREG))
		return report(false, "attr-mode: %s %s: mode %#o", op, x->name,
			      e->attr.mode);
	return true;
}

/* --- Streaming data with several requests in flight ------------------------
 */

static bool stream_complete(struct node *f, struct slot *s, bool write,
			    const char *what)
{
	int ret = fuse_check(&V.w.c, s->req);

	s->busy = false;
	if (ret < 0)
		return failed(what, ret);
	if (write) {
		V.written += s->len;
		return true;
	}
	if ((uint32_t)ret != s->len) {
		V.failed = true;
		return report(false,
			      "%s: read-size: %s: %u bytes at %llu, %u "
			      "expected",
			      what, f->name, ret, (unsigned long long)s->off,
			      s->len);
	}
	expected(f, V.expect, s->off, s->len);
	if (memcmp(V.expect, s->buf, s->len)) {
		uint32_t k = 0;

		while (V.expect[k] == s->buf[k])
			k++;
		V.failed = true;
		return report(false,
			      "%s: %s: byte %llu reads %#x, %#x expected", what,
			      f->name, (unsigned long long)(s->off + k),
			      s->buf[k], V.expect[k]);
	}
	V.verified += s->len;
	return true;
}

/* A chunk size: often max_write, often small, else anything. */
static uint32_t chunk(uint32_t max)
{
	uint32_t r = rnd();

	switch (r % 4) {
	case 0:
		return max;
	case 1:
		return 1 + (r >> 4) % (max < 4096 ? max : 4096);
	default:
		return 1 + (r >> 4) % max;
	}
}

/*
 * Writes generation @gen of @f's pattern over [start, end) (recorded in
 * the model first), or reads [start, end) back and compares.
 */
static bool stream(struct node *f, uint64_t fh, bool write, uint64_t start,
		   uint64_t end, uint8_t gen, const char *what)
{
	uint32_t max =
		V.w.c.max_write < CHUNK_MAX ? V.w.c.max_write : CHUNK_MAX;
	uint64_t cur = start;
	unsigned int busy = 0;
	struct fs_req *done;

	while (cur < end || busy) {
		for (unsigned int i = 0; i < V.qd && cur < end; i++) {
			struct slot *s = &V.slot[i];
			unsigned int q = 1 + i % V.w.fs.nq;

			if (s->busy)
				continue;
			s->off = cur;
			s->len = chunk(max);
			if (s->len > end - cur)
				s->len = (uint32_t)(end - cur);
			cur += s->len;
			if (write) {
				fsw_pattern(s->buf, s->off, s->len, f->id, gen);
				fuse_prep_write(&V.w.c, s->req, f->nodeid, fh,
						s->off, s->buf, s->len);
			} else {
				fuse_prep_read(&V.w.c, s->req, f->nodeid, fh,
					       s->off, s->buf, s->len);
			}
			s->req->priv = s;
			if (fs_submit(&V.w.fs, q, s->req))
				return report(false, "%s: cannot submit", what);
			s->busy = true;
			busy++;
			fs_kick(&V.w.fs, q);
		}
		if (!busy)
			break;
		int ret = fuse_wait_any(&V.w.c, &done);

		if (ret < 0)
			return failed(what, ret);
		busy--;
		if (!stream_complete(f, done->priv, write, what))
			return false;
	}
	return true;
}

/* Waits out what is still in flight after a failure (best effort). */
static void drain(void)
{
	struct fs_req *done;

	for (unsigned int i = 0; i < V.qd; i++)
		if (V.slot[i].busy && fuse_wait_any(&V.w.c, &done) == 1)
			((struct slot *)done->priv)->busy = false;
}

/* --- Steps -----------------------------------------------------------------
 */

static uint64_t pick_size(unsigned int i)
{
	uint64_t mw = V.w.c.max_write < CHUNK_MAX ? V.w.c.max_write : CHUNK_MAX;
	uint64_t s;

	switch (i % 8) {
	case 0:
		s = 0;
		break;
	case 1:
		s = 1;
		break;
	case 2:
		s = 4095 + rnd() % 3;
		break;
	case 3:
		s = mw + 1;
		break;
	case 4:
		s = V.max_size;
		break;
	case 5:
		s = 2 * mw - 7;
		break;
	default:
		s = rnd() % (V.max_size + 1);
		break;
	}
	return s > V.max_size ? V.max_size : s;
}

static bool make_dirs(void)
{
	struct fuse_entry_out e;
	char name[8];
	int t;

	if (!expect_err("LOOKUP t in a fresh shared directory",
			fuse_lookup(&V.w.c, FUSE_ROOT_ID, "t", &e),
			FUSE_ENOENT))
		return false;
	t = add_node(0, "t", true);
	if (!ok("MKDIR t", fuse_mkdir(&V.w.c, FUSE_ROOT_ID, "t", 0755, &e)) ||
	    !took_entry(t, &e, "MKDIR"))
		return false;
	V.n[t].live = true;
	for (int d = 0; d < 4; d++) {
		int i;

		snprintf(name, sizeof(name), "d%d", d);
		i = add_node(t, name, true);
		if (!ok("MKDIR",
			fuse_mkdir(&V.w.c, V.n[t].nodeid, name, 0755, &e)) ||
		    !took_entry(i, &e, "MKDIR"))
			return false;
		V.n[i].live = true;
	}
	return expect_err("MKDIR t again",
			  fuse_mkdir(&V.w.c, FUSE_ROOT_ID, "t", 0755, &e),
			  FUSE_EEXIST);
}

static bool make_files(void)
{
	struct fuse_entry_out e;
	struct fuse_attr a;
	char name[NAME_LEN];
	uint64_t fh;
	int first = V.nn;

	for (unsigned int k = 0; k < V.files; k++) {
		int parent = 1 + (int)(k % 4), i; /* t, d0, d1, d2 */
		struct node *f;

		snprintf(name, sizeof(name), "f%u", k);
		i = add_node(parent, name, false);
		f = &V.n[i];
		if (!ok("CREATE", fuse_create(&V.w.c, V.n[parent].nodeid, name,
					      FUSE_O_RDWR | FUSE_O_EXCL, 0644,
					      &e, &fh)) ||
		    !took_entry(i, &e, "CREATE"))
			return false;
		f->live = true;
		if (!report(e.attr.size == 0, "CREATE %s: size %llu", name,
			    (unsigned long long)e.attr.size))
			return false;
		f->size = f->size0 = pick_size(k);
		if (!stream(f, fh, true, 0, f->size, 1, "write") ||
		    !ok("FLUSH", fuse_flush(&V.w.c, f->nodeid, fh)) ||
		    !ok("RELEASE", fuse_release(&V.w.c, f->nodeid, fh, false)))
			return false;
	}
	if (!expect_err("CREATE f0 again with O_EXCL",
			fuse_create(&V.w.c, V.n[1].nodeid, "f0",
				    FUSE_O_RDWR | FUSE_O_EXCL, 0644, &e, &fh),
			FUSE_EEXIST))
		return false;
	for (int i = first; i < V.nn; i++) {
		if (!ok("GETATTR", fuse_getattr(&V.w.c, V.n[i].nodeid, &a)))
			return false;
		if (a.size != V.n[i].size || a.ino != V.n[i].ino) {
			V.failed = true;
			return report(false,
				      "GETATTR %s: size %llu ino %llu, "
				      "%llu and %llu expected",
				      V.n[i].name, (unsigned long long)a.size,
				      (unsigned long long)a.ino,
				      (unsigned long long)V.n[i].size,
				      (unsigned long long)V.n[i].ino);
		}
	}
	return report(true, "%u files created and written (%llu bytes)",
		      V.files, (unsigned long long)V.written);
}

/* Reads every live file back; @size: GETATTR first. */
static bool read_all(const char *what)
{
	struct fuse_attr a;
	uint64_t fh, before = V.verified;

	for (int i = 0; i < V.nn; i++) {
		struct node *f = &V.n[i];

		if (f->dir || !f->live)
			continue;
		if (!ok("GETATTR", fuse_getattr(&V.w.c, f->nodeid, &a)))
			return false;
		if (!report(a.size == f->size, "%s: GETATTR %s: size %llu",
			    what, f->name, (unsigned long long)a.size) ||
		    !ok("OPEN", fuse_open(&V.w.c, f->nodeid, false,
					  FUSE_O_RDONLY, &fh)) ||
		    !stream(f, fh, false, 0, f->size, 0, what) ||
		    !ok("RELEASE", fuse_release(&V.w.c, f->nodeid, fh, false)))
			return false;
	}
	return report(true, "%s: %llu bytes compared equal", what,
		      (unsigned long long)(V.verified - before));
}

static bool record(struct node *f, uint8_t kind, uint8_t gen, uint64_t a,
		   uint64_t b)
{
	if (f->nops == MAX_OPS)
		return false;
	f->ops[f->nops++] = (struct op){ kind, gen, a, b };
	return true;
}

static bool overwrite(void)
{
	uint32_t mw = V.w.c.max_write < CHUNK_MAX ? V.w.c.max_write : CHUNK_MAX;
	uint64_t fh;

	for (int i = 0; i < V.nn; i++) {
		struct node *f = &V.n[i];

		if (f->dir || f->id % 2)
			continue;
		if (!ok("OPEN",
			fuse_open(&V.w.c, f->nodeid, false, FUSE_O_RDWR, &fh)))
			return false;
		for (uint8_t k = 0; k < 3; k++) {
			uint64_t a = f->size ? rnd() % (f->size + 1) : 0;
			uint64_t b = a + 1 + rnd() % (2 * mw);

			if (b > V.max_size + 8192)
				b = a + 1;
			record(f, OP_WRITE, (uint8_t)(2 + k), a, b);
			if (!stream(f, fh, true, a, b, (uint8_t)(2 + k),
				    "overwrite"))
				return false;
			if (b > f->size)
				f->size = b;
		}
		if (!ok("FSYNC", fuse_fsync(&V.w.c, f->nodeid, fh)) ||
		    !ok("FLUSH", fuse_flush(&V.w.c, f->nodeid, fh)) ||
		    !ok("RELEASE", fuse_release(&V.w.c, f->nodeid, fh, false)))
			return false;
	}
	return report(true, "ranges overwritten, FSYNC");
}

static bool truncate_and_chmod(void)
{
	struct fuse_attr a;
	bool grown = false;

	for (int i = 0; i < V.nn; i++) {
		struct node *f = &V.n[i];
		uint64_t to;

		if (f->dir || f->id % 3 != 1)
			continue;
		to = grown ? f->size / 2 : f->size + 5000;
		grown = true;
		record(f, OP_TRUNC, 0, to, 0);
		f->size = to;
		if (!ok("SETATTR size", fuse_setattr(&V.w.c, f->nodeid,
						     FATTR_SIZE, to, 0, &a)) ||
		    !report(a.size == to,
			    "SETATTR %s size %llu: attr says %llu", f->name,
			    (unsigned long long)to, (unsigned long long)a.size))
			return false;
	}
	for (int i = 0; i < V.nn; i++) {
		if (V.n[i].dir)
			continue;
		if (!ok("SETATTR mode", fuse_setattr(&V.w.c, V.n[i].nodeid,
						     FATTR_MODE, 0, 0600, &a)))
			return false;
		return report((a.mode & 07777) == 0600 &&
				      (a.mode & FUSE_S_IFMT) == FUSE_S_IFREG,
			      "SETATTR %s mode 0600: attr says %#o",
			      V.n[i].name, a.mode);
	}
	return true;
}

static int find(int parent, const char *name)
{
	for (int i = 0; i < V.nn; i++)
		if (V.n[i].live && V.n[i].parent == parent &&
		    !strcmp(V.n[i].name, name))
			return i;
	return -1;
}

static bool errors(void)
{
	struct fuse_entry_out e;
	uint64_t fh;
	int t = find(0, "t"), d0 = find(t, "d0"), f = -1;

	for (int i = 0; i < V.nn && f < 0; i++)
		if (!V.n[i].dir && V.n[i].live)
			f = i;
	return expect_err("LOOKUP of a missing name",
			  fuse_lookup(&V.w.c, V.n[t].nodeid, "missing", &e),
			  FUSE_ENOENT) &&
	       (V.files < 2 ||
		expect_err("RMDIR of a directory with a file",
			   fuse_unlink(&V.w.c, V.n[t].nodeid, "d0", true),
			   FUSE_ENOTEMPTY)) &&
	       expect_err("OPEN of a directory for writing",
			  fuse_open(&V.w.c, V.n[d0].nodeid, false, FUSE_O_RDWR,
				    &fh),
			  FUSE_EISDIR) &&
	       expect_err("UNLINK of a directory",
			  fuse_unlink(&V.w.c, V.n[t].nodeid, "d0", false),
			  FUSE_EISDIR) &&
	       expect_err("RMDIR of a file",
			  fuse_unlink(&V.w.c, V.n[V.n[f].parent].nodeid,
				      V.n[f].name, true),
			  FUSE_ENOTDIR);
}

/* RENAME @i into @newparent as @newname; checks both names after. */
static bool rename_node(int i, int newparent, const char *newname)
{
	struct fuse_entry_out e;
	struct node *x = &V.n[i];

	if (!ok("RENAME", fuse_rename(&V.w.c, V.n[x->parent].nodeid, x->name,
				      V.n[newparent].nodeid, newname)) ||
	    !expect_err("LOOKUP of a renamed name",
			fuse_lookup(&V.w.c, V.n[x->parent].nodeid, x->name, &e),
			FUSE_ENOENT))
		return false;
	x->parent = newparent;
	snprintf(x->name, sizeof(x->name), "%s", newname);
	return ok("LOOKUP of the new name",
		  fuse_lookup(&V.w.c, V.n[newparent].nodeid, newname, &e)) &&
	       took_entry(i, &e, "LOOKUP");
}

static bool rename_unlink_rmdir(void)
{
	struct fuse_entry_out e;
	int t = find(0, "t"), d1 = find(t, "d1"), d2 = find(t, "d2");
	int d3 = find(t, "d3"), tmp;
	uint64_t fh;

	for (int i = 0; i < V.nn; i++) {
		if (!V.n[i].dir && V.n[i].live &&
		    V.n[i].parent == find(t, "d0")) {
			if (!rename_node(i, d1, "moved"))
				return false;
			break;
		}
	}
	if (!rename_node(d2, t, "d2r"))
		return false;
	for (int i = V.nn - 1; i >= 0; i--) {
		if (!V.n[i].dir && V.n[i].live && V.n[i].id % 4 == 3 &&
		    V.files > 4) {
			if (!ok("UNLINK",
				fuse_unlink(&V.w.c, V.n[V.n[i].parent].nodeid,
					    V.n[i].name, false)))
				return false;
			V.n[i].live = false;
			break;
		}
	}
	tmp = add_node(d3, "tmp", false);
	if (!ok("CREATE d3/tmp", fuse_create(&V.w.c, V.n[d3].nodeid, "tmp",
					     FUSE_O_WRONLY, 0644, &e, &fh)) ||
	    !took_entry(tmp, &e, "CREATE") ||
	    !ok("RELEASE", fuse_release(&V.w.c, e.nodeid, fh, false)) ||
	    !expect_err("RMDIR of d3 with a file",
			fuse_unlink(&V.w.c, V.n[t].nodeid, "d3", true),
			FUSE_ENOTEMPTY) ||
	    !ok("UNLINK d3/tmp",
		fuse_unlink(&V.w.c, V.n[d3].nodeid, "tmp", false)) ||
	    !ok("RMDIR d3", fuse_unlink(&V.w.c, V.n[t].nodeid, "d3", true)))
		return false;
	V.n[d3].live = false;
	return report(true, "RENAME of a file and a directory, UNLINK, RMDIR");
}

/* READDIR(PLUS) of directory @d: the names must be the model's. */
static bool list_dir(int d, bool plus)
{
	struct fuse_dirent_view v;
	uint64_t fh, off = 0;
	unsigned int want = 0, seen = 0, dots = 0;
	bool seen_node[MAX_NODES] = { false };
	char name[NAME_LEN + 1];
	int ret;

	for (int i = 0; i < V.nn; i++)
		want += V.n[i].live && V.n[i].parent == d && i;
	if (!ok("OPENDIR", fuse_open(&V.w.c, V.n[d].nodeid, true, 0, &fh)))
		return false;
	for (;;) {
		uint32_t pos = 0;

		ret = fuse_readdir(&V.w.c, V.n[d].nodeid, fh, off, V.dirbuf,
				   DIRBUF, plus);
		if (ret < 0)
			return failed(plus ? "READDIRPLUS" : "READDIR", ret);
		if (!ret)
			break;
		while ((ret = fuse_dirent_next(&V.w.c, V.dirbuf, (uint32_t)ret,
					       &pos, plus, &v)) > 0) {
			uint32_t n = v.d->namelen;
			int i;

			off = v.d->off;
			if (n > NAME_LEN)
				n = NAME_LEN;
			memcpy(name, v.name, n);
			name[n] = '\0';
			if (!strcmp(name, ".") || !strcmp(name, "..")) {
				dots++;
				continue;
			}
			i = find(d, name);
			if (i < 0 || seen_node[i] ||
			    v.d->type !=
				    (V.n[i].dir ? FUSE_DT_DIR : FUSE_DT_REG)) {
				V.failed = true;
				return report(false,
					      "%s %s: entry \"%s\" type "
					      "%u: %s",
					      plus ? "READDIRPLUS" : "READDIR",
					      V.n[d].name, name, v.d->type,
					      i < 0 ? "not in the model"
					      : seen_node[i] ? "listed twice"
							     : "wrong type");
			}
			seen_node[i] = true;
			seen++;
			if (plus && v.entry->nodeid &&
			    !took_entry(i, v.entry, "READDIRPLUS"))
				return false;
		}
		if (ret < 0)
			return failed("READDIR entries", ret);
	}
	if (!ok("RELEASEDIR", fuse_release(&V.w.c, V.n[d].nodeid, fh, true)))
		return false;
	return report(seen == want, "%s %s: %u entries (%u expected), %u dots",
		      plus ? "READDIRPLUS" : "READDIR", d ? V.n[d].name : "/",
		      seen, want, dots);
}

static bool list_all(void)
{
	for (int i = 0; i < V.nn; i++) {
		if (!V.n[i].dir || !V.n[i].live)
			continue;
		if (!list_dir(i, false) ||
		    (V.w.c.readdirplus && !list_dir(i, true)))
			return false;
	}
	return true;
}

static bool forget_all(void)
{
	for (int i = 1; i < V.nn; i++) {
		if (!V.n[i].nlookup)
			continue;
		if (!ok("FORGET",
			fuse_forget(&V.w.c, V.n[i].nodeid, V.n[i].nlookup)))
			return false;
		V.forgotten += V.n[i].nlookup;
		V.n[i].nlookup = 0;
	}
	return report(true, "FORGET of %llu lookups on the hiprio queue",
		      (unsigned long long)V.forgotten);
}

static bool statfs(void)
{
	struct fuse_kstatfs st;
	struct fuse_attr a;

	if (!ok("STATFS", fuse_statfs(&V.w.c, &st)) ||
	    !ok("GETATTR /", fuse_getattr(&V.w.c, FUSE_ROOT_ID, &a)))
		return false;
	report_info("STATFS: bsize %u, %llu blocks, %llu free, namelen %u",
		    st.bsize, (unsigned long long)st.blocks,
		    (unsigned long long)st.bfree, st.namelen);
	return report((a.mode & FUSE_S_IFMT) == FUSE_S_IFDIR,
		      "GETATTR /: a directory (mode %#o)", a.mode);
}

/* --- Manifest --------------------------------------------------------------
 */

static uint64_t checksum(const struct node *f)
{
	uint64_t h = FSW_FNV_INIT;

	for (uint64_t off = 0; off < f->size; off += CHUNK_MAX) {
		uint32_t n = f->size - off < CHUNK_MAX
				     ? (uint32_t)(f->size - off)
				     : CHUNK_MAX;

		expected(f, V.expect, off, n);
		h = fsw_fnv(h, V.expect, n);
	}
	return h;
}

static void print_json(void)
{
	static struct json j;
	char p[128], e[180];

	json_begin(&j);
	json_str(&j, "workload", "fs-verify");
	json_str(&j, "tag", V.w.fs.tag);
	json_u64(&j, "request_queues", V.w.fs.nq);
	json_u64(&j, "bytes_written", V.written);
	json_u64(&j, "bytes_verified", V.verified);
	json_u64(&j, "requests", V.w.c.unique);
	json_bool(&j, "ok", !V.failed && !report_failures());
	json_array_begin(&j, "manifest");
	for (int i = 1; i < V.nn; i++) {
		if (!V.n[i].live)
			continue;
		path(i, p, sizeof(p));
		if (V.n[i].dir)
			snprintf(e, sizeof(e), "%s/", p);
		else
			snprintf(e, sizeof(e), "%s %llu %016llx", p,
				 (unsigned long long)V.n[i].size,
				 (unsigned long long)checksum(&V.n[i]));
		json_str(&j, NULL, e);
	}
	json_array_end(&j);
	report(!json_print(&j), "the results fit one JSON line");
}

static int params(const char *args, uint64_t *queues, int *mode,
		  uint64_t *stall)
{
	uint64_t files, qd, seed;

	*mode = vw_mode(args);
	if (*mode < 0 || kv_get_u64(args, "files", 8, &files) == -2 ||
	    kv_get_u64(args, "max_size", 4 << 20, &V.max_size) == -2 ||
	    kv_get_u64(args, "queues", 1, queues) == -2 ||
	    kv_get_u64(args, "qd", 4, &qd) == -2 ||
	    kv_get_u64(args, "seed", 1, &seed) == -2 || !files ||
	    files > MAX_FILES || V.max_size > (64 << 20) || !*queues || !qd ||
	    qd > MAX_QD) {
		printf("ERROR: fs-verify: files 1..%u, max_size 0..64M, "
		       "queues>=1, qd 1..%u\n",
		       MAX_FILES, MAX_QD);
		return -1;
	}
	*stall = vw_stall(args);
	if (!*stall)
		return -1;
	V.files = (unsigned int)files;
	V.qd = (unsigned int)qd;
	V.rng = (uint32_t)seed ^ 0x2545f491;
	if (!V.rng)
		V.rng = 1;
	return 0;
}

static bool alloc_all(void)
{
	V.expect = dma_alloc(CHUNK_MAX, 4096);
	V.dirbuf = dma_alloc(DIRBUF, 4096);
	if (!V.expect || !V.dirbuf)
		return false;
	for (unsigned int i = 0; i < V.qd; i++) {
		V.slot[i].req = dma_alloc(sizeof(struct fs_req), 64);
		V.slot[i].buf = dma_alloc(CHUNK_MAX, 4096);
		if (!V.slot[i].req || !V.slot[i].buf)
			return false;
	}
	return true;
}

int fs_verify_main(const char *args)
{
	uint64_t queues, stall;
	int mode, ret;

	memset(&V, 0, sizeof(V));
	if (params(args, &queues, &mode, &stall))
		return WORKLOAD_BAD_REQUEST;
	report_prefix_push("fs-verify");
	ret = fsw_open(&V.w, mode, (unsigned int)queues, CHUNK_MAX, stall);
	if (ret) {
		report_prefix_pop();
		return report_summary();
	}
	add_node(-1, "", true);
	V.n[0].nodeid = FUSE_ROOT_ID;
	V.n[0].live = true;
	if (report(alloc_all(), "buffers for %u requests of %u KiB", V.qd,
		   CHUNK_MAX >> 10) &&
	    statfs() && make_dirs() && make_files() && read_all("read back") &&
	    overwrite() && truncate_and_chmod() && errors() &&
	    rename_unlink_rmdir() && list_all() &&
	    read_all("final read back") && forget_all())
		fsw_close(&V.w, true);
	else {
		drain();
		fsw_close(&V.w, false);
	}
	print_json();
	report_prefix_pop();
	return report_summary();
}
