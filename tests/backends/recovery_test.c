// SPDX-License-Identifier: MIT
/*
 * vuvm-backend blk's reliability side (issue 7), as a separate process
 * driven through vuvm's frontend: --reorder completes batches out of order
 * with the right data; a backend killed with requests in flight
 * (--die-after) is replaced by a new process given the same in-flight fd,
 * which resubmits them so that every write reaches the file; device state
 * saved from one process loads into another, and a truncated, corrupted,
 * oversized, foreign or missing blob makes CHECK_DEVICE_STATE fail with a
 * logged sentence. fd counts of both processes are checked around each.
 */
#define _GNU_SOURCE
#include <dirent.h>

#include "tests/backends/driver.h"
#include "vhost/protocol.h"
#include "virtio/virtio_blk.h"

#define WANT_PROTOCOL                                                        \
	(TD_WANT_PROTOCOL | (1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) | \
	 (1ull << VHOST_USER_PROTOCOL_F_DEVICE_STATE))
#define FEATURES VIRTIO_BIT(VIRTIO_F_VERSION_1)
#define DATA_LEN 4096u
#define DISK_LEN (1u << 20)

/* One blk request laid out in guest memory. */
struct req {
	uint64_t hdr, data, status;
	uint16_t head;
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static char log_path[128];

/* Like td_spawn_connect(), with the backend's stderr going to a new
 * log_path. */
static void spawn_logged(struct td *t, const char *const *argv)
{
	static unsigned int seq;
	int saved = fcntl(2, F_DUPFD_CLOEXEC, 3), f;

	snprintf(log_path, sizeof(log_path), "/tmp/vub-rec-%d-%u.log",
		 (int)getpid(), seq++);
	f = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(saved >= 0 && f >= 0);
	CHECK(dup2(f, 2) == 2);
	close(f);
	td_path(t, "rec");
	t->pid = td_spawn(argv, t->path);
	CHECK(dup2(saved, 2) == 2);
	close(saved);
	CHECK_EQ(vhu_connect(&t->fe, t->path, 5000), 0);
	CHECK_EQ(vhu_negotiate(&t->fe, WANT_PROTOCOL), 0);
}

/*
 * What a frontend does after its backend died: a new process, the kept
 * in-flight region @inf/@ifd handed to it, ring 0 restarted at base 0 (the
 * used index, since the dead one cannot be asked) and enabled.
 */
static void restart_with(struct td *t, const char *const *argv,
			 const struct vhu_inflight *inf, int ifd)
{
	spawn_logged(t, argv);
	td_set_features_mem(t, FEATURES);
	CHECK_EQ(vhu_set_inflight_fd(&t->fe, inf, ifd), 0);
	td_attach_queue(t, 0, 0);
	CHECK_EQ(vhu_set_vring_enable(&t->fe, 0, true), 0);
}

/* Whether the current log has @s, waiting up to 2 s for it. */
static bool log_has(const char *s)
{
	static char buf[65536];

	for (long i = 0; i < check_ms(2000) / 10; i++) {
		int fd = open(log_path, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		CHECK(fd >= 0);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		CHECK(n >= 0);
		buf[n] = 0;
		if (strstr(buf, s))
			return true;
		usleep(10000);
	}
	fprintf(stderr, "log %s lacks \"%s\":\n%s", log_path, s, buf);
	return false;
}

static int count_proc_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	REQUIRE(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Lays out a request on queue 0 without making it available yet. */
static void queue_req(struct td *t, struct req *r, uint32_t type,
		      uint64_t sector, unsigned int seed)
{
	struct td_queue *q = &t->q[0];
	bool in = type == VIRTIO_BLK_T_IN;
	struct td_buf b[3];
	uint8_t *data;

	r->hdr = td_alloc(t, sizeof(struct virtio_blk_outhdr));
	*(struct virtio_blk_outhdr *)td_host(t, r->hdr) =
		(struct virtio_blk_outhdr){ .type = type, .sector = sector };
	r->data = td_alloc(t, DATA_LEN);
	data = td_host(t, r->data);
	for (unsigned int i = 0; i < DATA_LEN; i++)
		data[i] = in ? 0xee : (uint8_t)(i * 13 + seed);
	r->status = td_alloc(t, 1);
	*(uint8_t *)td_host(t, r->status) = 0xff;
	b[0] = (struct td_buf){ r->hdr, sizeof(struct virtio_blk_outhdr),
				false };
	b[1] = (struct td_buf){ r->data, DATA_LEN, in };
	b[2] = (struct td_buf){ r->status, 1, true };
	if (q->next_desc + 3 > TD_QSIZE)
		q->next_desc = 0;
	r->head = q->next_desc;
	td_fill_table(q->desc, r->head, b, 3);
	q->next_desc = (uint16_t)(r->head + 3);
	q->avail->ring[q->avail_idx % TD_QSIZE] = r->head;
	q->avail_idx++;
}

/* Makes everything queued available at once, with one kick. */
static void publish_all(struct td *t)
{
	__atomic_store_n(&t->q[0].avail->idx, t->q[0].avail_idx,
			 __ATOMIC_RELEASE);
	td_kick(t, 0);
}

static bool pattern_ok(const uint8_t *p, unsigned int seed)
{
	for (unsigned int i = 0; i < DATA_LEN; i++)
		if (p[i] != (uint8_t)(i * 13 + seed))
			return false;
	return true;
}

/* Waits for @n used elements; returns their ids in order in @ids and
 * checks each one's status is OK. */
static void wait_all(struct td *t, const struct req *r, unsigned int n,
		     uint16_t *ids)
{
	for (unsigned int i = 0; i < n; i++) {
		uint32_t id;
		unsigned int k;

		td_wait_used(t, 0, &id);
		ids[i] = (uint16_t)id;
		for (k = 0; k < n && r[k].head != id; k++)
			;
		CHECK(k < n);
		CHECK_EQ(*(uint8_t *)td_host(t, r[k].status), VIRTIO_BLK_S_OK);
	}
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static int make_disk(char *path)
{
	int fd;

	strcpy(path, "/tmp/vub-rec-disk-XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0 && !ftruncate(fd, DISK_LEN));
	return fd;
}

/* ------------------------------------------------------------------------ */
/* --reorder                                                                 */

/* Two batches of 4 come back last to first, each with the right data. */
static void test_reorder(void)
{
	const char *argv[] = { "blk", "--size", "1M", "--reorder", "4", NULL };
	struct req w[8], r[8];
	uint16_t ids[8];
	struct td t;

	td_start(&t, argv);
	td_start_device(&t, FEATURES, 1);
	for (unsigned int i = 0; i < 8; i++)
		queue_req(&t, &w[i], VIRTIO_BLK_T_OUT, i * 8, i);
	publish_all(&t);
	wait_all(&t, w, 8, ids);
	for (unsigned int i = 0; i < 8; i++)
		CHECK_EQ(ids[i], w[(i / 4) * 4 + 3 - i % 4].head);
	for (unsigned int i = 0; i < 8; i++)
		queue_req(&t, &r[i], VIRTIO_BLK_T_IN, (7 - i) * 8, 0);
	publish_all(&t);
	wait_all(&t, r, 8, ids);
	for (unsigned int i = 0; i < 8; i++) {
		CHECK_EQ(ids[i], r[(i / 4) * 4 + 3 - i % 4].head);
		CHECK(pattern_ok(td_host(&t, r[i].data), 7 - i));
	}
	/* A batch cut short by an empty ring is completed too. */
	queue_req(&t, &r[0], VIRTIO_BLK_T_IN, 8, 0);
	publish_all(&t);
	wait_all(&t, r, 1, ids);
	CHECK(pattern_ok(td_host(&t, r[0].data), 1));
	td_stop(&t);
}

/* ------------------------------------------------------------------------ */
/* In-flight: kill -9 with requests in flight, then a new process           */

static unsigned int region_inflight(struct vhu_inflight_split_header *h,
				    uint16_t *heads)
{
	struct vhu_inflight_desc_split *d = (void *)(h + 1);
	unsigned int n = 0;

	for (unsigned int i = 0; i < TD_QSIZE; i++)
		if (d[i].inflight)
			heads[n++] = (uint16_t)i;
	return n;
}

static void test_inflight_kill(void)
{
	int fds = check_count_fds(), ifd, st;
	char disk[64];
	int disk_fd = make_disk(disk);
	const char *argv_a[] = { "blk", "--file",      disk, "--reorder",
				 "4",	"--die-after", "3",  NULL };
	const char *argv_b[] = {
		"blk", "--file", disk, "--reorder", "4", NULL
	};
	struct vhu_inflight_split_header *h;
	struct vhu_inflight_desc_split *d;
	struct vhu_inflight inf;
	uint8_t buf[DATA_LEN];
	uint16_t heads[TD_QSIZE], ids[4];
	struct req w[4];
	struct td t;

	td_start_proto(&t, argv_a, WANT_PROTOCOL);
	CHECK(vhu_has_protocol_feature(&t.fe,
				       VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD));
	td_set_features_mem(&t, FEATURES);
	CHECK_EQ(vhu_get_inflight_fd(&t.fe, 1, TD_QSIZE, &inf, &ifd), 0);
	h = mmap(NULL, inf.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, ifd,
		 (off_t)inf.mmap_offset);
	REQUIRE(h != MAP_FAILED);
	d = (void *)(h + 1);
	t.nq = 1;
	td_start_queue(&t, 0);
	CHECK_EQ(vhu_set_vring_enable(&t.fe, 0, true), 0);

	/* Pops 1 and 2 are carried out, pop 3 kills it: nothing completed. */
	for (unsigned int i = 0; i < 4; i++)
		queue_req(&t, &w[i], VIRTIO_BLK_T_OUT, i * 8, i + 1);
	publish_all(&t);
	CHECK_EQ(waitpid(t.pid, &st, 0), t.pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK_EQ(t.q[0].used->idx, 0);
	CHECK_EQ(h->version, 1);
	CHECK_EQ(h->desc_num, TD_QSIZE);
	CHECK_EQ(region_inflight(h, heads), 3);
	for (unsigned int i = 0; i < 3; i++)
		CHECK_EQ(d[w[i].head].counter, i + 1);
	CHECK_EQ(pread(disk_fd, buf, DATA_LEN, 8 * 512), DATA_LEN);
	CHECK(pattern_ok(buf, 2));
	CHECK_EQ(pread(disk_fd, buf, DATA_LEN, 16 * 512), DATA_LEN);
	CHECK(!pattern_ok(buf, 3)); /* popped, never carried out */
	unlink(t.path);		    /* SIGKILL left it behind */
	vhu_frontend_close(&t.fe);

	/* The frontend keeps the fd and hands it to the next process, with
	 * the used index as the base (it could not ask the dead one). */
	restart_with(&t, argv_b, &inf, ifd);
	wait_all(&t, w, 4, ids);
	CHECK(log_has("queue 0: resubmitting 3 in-flight requests"));
	CHECK(log_has("SET_VRING_BASE 0 ignored, the in-flight region puts "
		      "the ring at 3"));
	for (unsigned int i = 0; i < 4; i++) {
		CHECK_EQ(pread(disk_fd, buf, DATA_LEN, i * 8 * 512), DATA_LEN);
		CHECK(pattern_ok(buf, i + 1));
	}
	CHECK_EQ(region_inflight(h, heads), 0);
	CHECK_EQ(h->used_idx, 4);
	td_stop(&t);
	munmap(h, inf.mmap_size);
	close(ifd);
	close(disk_fd);
	unlink(disk);
	unlink(log_path);
	CHECK_EQ(check_count_fds(), fds);
}

/* The backend of one round of kill_loop: killed on its @die_after-th pop
 * (0: never); the first one makes the in-flight region, the others get it
 * back with the used index as base, as vuvm's reconnect does. */
static void loop_backend(struct td *t, const char *disk, unsigned int die_after,
			 struct vhu_inflight *inf, int *ifd)
{
	char n[16];
	const char *argv[] = { "blk", "--file",	     disk, "--reorder",
			       "4",   "--die-after", n,	   NULL };

	snprintf(n, sizeof(n), "%u", die_after);
	if (!die_after)
		argv[5] = NULL;
	if (*ifd < 0) {
		td_start_proto(t, argv, WANT_PROTOCOL);
		td_set_features_mem(t, FEATURES);
		CHECK_EQ(vhu_get_inflight_fd(&t->fe, 1, TD_QSIZE, inf, ifd), 0);
		t->nq = 1;
		td_start_queue(t, 0);
	} else {
		td_spawn_connect(t, argv, WANT_PROTOCOL);
		td_set_features_mem(t, FEATURES);
		CHECK_EQ(vhu_set_inflight_fd(&t->fe, inf, *ifd), 0);
		td_attach_queue(t, 0, t->q[0].used->idx);
	}
	CHECK_EQ(vhu_set_vring_enable(&t->fe, 0, true), 0);
}

/* Waits until everything available is used (true) or the backend died
 * (false). */
static bool loop_wait(struct td *t)
{
	for (long i = 0; i < check_ms(5000) / 10; i++) {
		int st;

		if (__atomic_load_n(&t->q[0].used->idx, __ATOMIC_ACQUIRE) ==
		    t->q[0].avail_idx)
			return true;
		if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
			CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
			return false;
		}
		usleep(10000);
	}
	CHECK(!"the backend neither completed nor died");
	return false;
}

/*
 * 64 writes in batches of 8 through a chain of backend processes, six of
 * them killed at random pops (some mid-resubmission): every write is
 * completed exactly once (the used index ends at 64) with status OK, and
 * every byte reaches the file.
 */
static void test_kill_loop(void)
{
	enum { NREQ = 64, BATCH = 8, KILLS = 6 };
	int fds = check_count_fds(), ifd = -1;
	char disk[64];
	int disk_fd = make_disk(disk);
	struct vhu_inflight inf;
	struct req w[NREQ];
	uint8_t buf[DATA_LEN];
	unsigned int sent = 0, kills = 0, procs = 0;
	uint64_t seed = 0x5eed;
	struct td t;

	for (bool done = false; !done;) {
		unsigned int die = kills < KILLS ? 1 + td_rand(&seed) % 6 : 0;

		loop_backend(&t, disk, die, &inf, &ifd);
		procs++;
		for (;;) {
			if (!loop_wait(&t)) {
				kills++;
				unlink(t.path);
				vhu_frontend_close(&t.fe);
				break;
			}
			if (sent == NREQ) {
				done = true;
				break;
			}
			for (unsigned int i = 0; i < BATCH; i++, sent++)
				queue_req(&t, &w[sent], VIRTIO_BLK_T_OUT,
					  sent * 8, sent);
			publish_all(&t);
		}
	}
	CHECK_EQ(kills, KILLS);
	CHECK_EQ(t.q[0].used->idx, NREQ);
	for (unsigned int i = 0; i < NREQ; i++) {
		CHECK_EQ(*(uint8_t *)td_host(&t, w[i].status), VIRTIO_BLK_S_OK);
		CHECK_EQ(pread(disk_fd, buf, DATA_LEN, i * 8 * 512), DATA_LEN);
		CHECK(pattern_ok(buf, i));
	}
	printf("kill_loop: %u processes, %u killed, %u writes, %u bytes "
	       "verified\n",
	       procs, kills, NREQ, NREQ * DATA_LEN);
	td_stop(&t);
	close(ifd);
	close(disk_fd);
	unlink(disk);
	CHECK_EQ(check_count_fds(), fds);
}

/* rng offers the same tracking: a buffer taken by a killed process is
 * filled by the next one. */
static void test_rng_inflight(void)
{
	const char *argv_a[] = { "rng", "--die-after", "1", NULL };
	const char *argv_b[] = { "rng", NULL };
	struct vhu_inflight inf;
	struct td_buf b;
	uint32_t id, len;
	uint16_t head;
	int ifd, st;
	uint8_t *p;
	struct td t;

	td_start_proto(&t, argv_a, WANT_PROTOCOL);
	td_set_features_mem(&t, FEATURES);
	CHECK_EQ(vhu_get_inflight_fd(&t.fe, 1, TD_QSIZE, &inf, &ifd), 0);
	t.nq = 1;
	td_start_queue(&t, 0);
	CHECK_EQ(vhu_set_vring_enable(&t.fe, 0, true), 0);
	b = (struct td_buf){ td_alloc(&t, 256), 256, true };
	p = td_host(&t, b.gpa);
	memset(p, 0, 256);
	head = td_submit(&t, 0, &b, 1);
	CHECK_EQ(waitpid(t.pid, &st, 0), t.pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK_EQ(t.q[0].used->idx, 0);
	unlink(t.path);
	vhu_frontend_close(&t.fe);

	restart_with(&t, argv_b, &inf, ifd);
	len = td_wait_used(&t, 0, &id);
	CHECK_EQ(id, head);
	CHECK_EQ(len, 256);
	CHECK(!all_zero(p, 256));
	CHECK(log_has("queue 0: resubmitting 1 in-flight requests"));
	td_stop(&t);
	close(ifd);
	unlink(log_path);
}

/* ------------------------------------------------------------------------ */
/* Device state                                                              */

#define STATE_MAGIC 0x4b4c4256u

struct state_blob {
	uint32_t magic;
	uint16_t version, num_queues;
	uint32_t size, flags;
	uint64_t capacity;
	uint16_t last_avail, used_idx;
	uint32_t qflags;
	uint64_t served;
};

/* SAVE into a pipe; returns the bytes read back (all of them, to EOF). */
static size_t save_state(struct td *t, void *buf, size_t len)
{
	int p[2], backend_fd;
	size_t got = 0;
	ssize_t r;

	CHECK(!pipe2(p, O_CLOEXEC));
	CHECK_EQ(vhu_set_device_state_fd(
			 &t->fe, VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE,
			 VHOST_USER_TRANSFER_STATE_PHASE_STOPPED, p[1],
			 &backend_fd),
		 0);
	CHECK_EQ(backend_fd, -1);
	close(p[1]);
	while ((r = read(p[0], (uint8_t *)buf + got, len - got)) > 0)
		got += (size_t)r;
	CHECK(r == 0);
	close(p[0]);
	CHECK_EQ(vhu_check_device_state(&t->fe), 0);
	return got;
}

/* LOAD @len bytes of @buf (the writer closes after them unless
 * @keep_open); returns CHECK_DEVICE_STATE's result. */
static int load_state(struct td *t, const void *buf, size_t len, bool keep_open)
{
	int p[2], backend_fd, r;

	CHECK(!pipe2(p, O_CLOEXEC));
	CHECK_EQ(vhu_set_device_state_fd(
			 &t->fe, VHOST_USER_TRANSFER_STATE_DIRECTION_LOAD,
			 VHOST_USER_TRANSFER_STATE_PHASE_STOPPED, p[0],
			 &backend_fd),
		 0);
	CHECK_EQ(backend_fd, -1);
	close(p[0]);
	CHECK_EQ(write(p[1], buf, len), (ssize_t)len);
	if (!keep_open)
		close(p[1]);
	r = vhu_check_device_state(&t->fe);
	if (keep_open)
		close(p[1]);
	return r;
}

/* Requests until queue 0 has served @n, one at a time. */
static void serve_some(struct td *t, unsigned int n, unsigned int seed)
{
	for (unsigned int i = 0; i < n; i++) {
		struct req w;
		uint16_t id;

		queue_req(t, &w, VIRTIO_BLK_T_OUT, 40 + i * 8, seed + i);
		publish_all(t);
		wait_all(t, &w, 1, &id);
	}
}

static void test_state_roundtrip(void)
{
	int fds = check_count_fds(), before;
	char disk[64];
	int disk_fd = make_disk(disk);
	const char *argv_a[] = { "blk", "--file", disk, NULL };
	const char *argv_b[] = { "blk",		"--file", disk,
				 "--log-level", "info",	  NULL };
	struct state_blob blob, blob2;
	uint32_t base;
	uint16_t id;
	struct req r;
	struct td t;

	td_start_proto(&t, argv_a, WANT_PROTOCOL);
	CHECK(vhu_has_protocol_feature(&t.fe,
				       VHOST_USER_PROTOCOL_F_DEVICE_STATE));
	td_start_device(&t, FEATURES, 1);
	serve_some(&t, 3, 10);
	/* Only the stopped phase: refused while the ring runs. */
	before = count_proc_fds(t.pid);
	{
		int p[2], backend_fd;

		CHECK(!pipe2(p, O_CLOEXEC));
		CHECK(vhu_set_device_state_fd(
			      &t.fe, VHOST_USER_TRANSFER_STATE_DIRECTION_SAVE,
			      VHOST_USER_TRANSFER_STATE_PHASE_STOPPED, p[1],
			      &backend_fd) != 0);
		close(p[0]);
		close(p[1]);
	}
	CHECK_EQ(count_proc_fds(t.pid), before);
	CHECK_EQ(vhu_get_vring_base(&t.fe, 0, &base), 0);
	CHECK_EQ(base, 3);
	before = count_proc_fds(t.pid); /* GET_VRING_BASE closed the kick */
	CHECK_EQ(save_state(&t, &blob, sizeof(blob)), sizeof(blob));
	CHECK_EQ(count_proc_fds(t.pid), before);
	CHECK_EQ(blob.magic, STATE_MAGIC);
	CHECK_EQ(blob.version, 1);
	CHECK_EQ(blob.num_queues, 1);
	CHECK_EQ(blob.size, sizeof(blob));
	CHECK_EQ(blob.capacity, DISK_LEN / 512);
	CHECK_EQ(blob.last_avail, 3);
	CHECK_EQ(blob.used_idx, 3);
	CHECK_EQ(blob.qflags, 1);
	CHECK_EQ(blob.served, 3);
	vhu_frontend_close(&t.fe);
	CHECK_EQ(td_wait_exit(t.pid, 3000), 0);

	/* A second process loads it and carries on where the first
	 * stopped, on the same ring and disk. */
	spawn_logged(&t, argv_b);
	td_set_features_mem(&t, FEATURES);
	before = count_proc_fds(t.pid);
	CHECK_EQ(load_state(&t, &blob, sizeof(blob), false), 0);
	CHECK_EQ(count_proc_fds(t.pid), before);
	CHECK(log_has("device state loaded: queue 0 at avail 3 used 3, 3 "
		      "requests served"));
	td_attach_queue(&t, 0, 3);
	CHECK_EQ(vhu_set_vring_enable(&t.fe, 0, true), 0);
	queue_req(&t, &r, VIRTIO_BLK_T_IN, 48, 0);
	publish_all(&t);
	wait_all(&t, &r, 1, &id);
	CHECK(pattern_ok(td_host(&t, r.data), 11));
	CHECK_EQ(vhu_get_vring_base(&t.fe, 0, &base), 0);
	CHECK_EQ(base, 4);
	CHECK_EQ(save_state(&t, &blob2, sizeof(blob2)), sizeof(blob2));
	CHECK_EQ(blob2.last_avail, 4);
	CHECK_EQ(blob2.served, 4);
	/* A base that disagrees with the loaded state is worth a warning. */
	CHECK_EQ(load_state(&t, &blob, sizeof(blob), false), 0);
	td_attach_queue(&t, 0, 4);
	CHECK(log_has("queue 0: SET_VRING_BASE 4, but the loaded device "
		      "state stopped at 3"));
	td_stop(&t);
	close(disk_fd);
	unlink(disk);
	unlink(log_path);
	CHECK_EQ(check_count_fds(), fds);
}

/* Every bad blob fails CHECK_DEVICE_STATE with a sentence; a good one is
 * then still accepted, and no fd is left behind on either side. */
static void test_state_bad(void)
{
	const char *argv[] = { "blk",	      "--size", "1M",
			       "--log-level", "info",	NULL };
	struct state_blob good = {
		.magic = STATE_MAGIC,
		.version = 1,
		.num_queues = 1,
		.size = sizeof(good),
		.capacity = DISK_LEN / 512,
		.last_avail = 7,
		.used_idx = 7,
		.qflags = 1,
		.served = 7,
	}, bad;
	uint8_t big[sizeof(good) + 1] = { 0 };
	int fds = check_count_fds(), before;
	struct td t;

	memset(&t, 0, sizeof(t));
	spawn_logged(&t, argv);
	td_make_memory(&t);
	td_set_features_mem(&t, FEATURES);
	before = count_proc_fds(t.pid);

	CHECK(vhu_check_device_state(&t.fe) != 0);
	CHECK(log_has("no transfer was started"));
	CHECK(load_state(&t, &good, 30, false) != 0);
	CHECK(log_has("30 bytes, header says 40, expected 40"));
	CHECK(load_state(&t, &good, 10, false) != 0);
	CHECK(log_has("10 bytes, shorter than the header"));
	bad = good;
	bad.magic ^= 1;
	CHECK(load_state(&t, &bad, sizeof(bad), false) != 0);
	CHECK(log_has("not a blk state of version 1"));
	bad = good;
	bad.capacity = 4096;
	CHECK(load_state(&t, &bad, sizeof(bad), false) != 0);
	CHECK(log_has("1 queue(s) of a 4096-sector disk, this one has 1 of "
		      "2048"));
	bad = good;
	bad.qflags = 6;
	CHECK(load_state(&t, &bad, sizeof(bad), false) != 0);
	CHECK(log_has("queue 0 flags 0x6"));
	memcpy(big, &good, sizeof(good));
	CHECK(load_state(&t, big, sizeof(big), false) != 0);
	CHECK(log_has("41 bytes, header says 40"));
	/* A writer that never finishes: bounded wait. */
	CHECK(load_state(&t, &good, 8, true) != 0);
	CHECK(log_has("reading: Connection timed out"));
	CHECK_EQ(count_proc_fds(t.pid), before);
	CHECK_EQ(load_state(&t, &good, sizeof(good), false), 0);
	CHECK(log_has("device state loaded"));
	CHECK_EQ(count_proc_fds(t.pid), before);
	td_stop(&t);
	unlink(log_path);
	CHECK_EQ(check_count_fds(), fds);
}

static const struct check_case cases[] = {
	{ "reorder", test_reorder },
	{ "inflight_kill", test_inflight_kill },
	{ "rng_inflight", test_rng_inflight },
	{ "kill_loop", test_kill_loop },
	{ "state_roundtrip", test_state_roundtrip },
	{ "state_bad", test_state_bad },
};

int main(int argc, char **argv)
{
	return CHECK_RUN(cases, argc, argv);
}
