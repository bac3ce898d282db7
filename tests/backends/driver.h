/* SPDX-License-Identifier: MIT */
/*
 * The test side of tests/backends: runs vuvm-backend as a real separate
 * process, drives it with vuvm's frontend (vhost/frontend.h) over its
 * socket, and plays the guest driver on split rings in a memfd that both
 * processes map ("guest memory" at TD_GPA, mapped here at some other
 * address, so the backend's translation is really used). With
 * VIRTIO_F_RING_PACKED in td_start_device()'s features the queues are
 * packed rings instead: the same td_submit()/td_wait_used() calls then
 * write and read packed descriptors (buffer ids allocated here, wrap
 * counters kept), and every used descriptor is checked (its id in flight,
 * its flags those of the used wrap counter).
 *
 * Requests are synchronous: submit a chain, wait for its used element.
 * Buffers come from a bump allocator in guest memory (td_alloc), reset by
 * td_reset_heap().
 */
#ifndef VUVM_TESTS_BACKENDS_DRIVER_H
#define VUVM_TESTS_BACKENDS_DRIVER_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/check.h"
#include "vhost/frontend.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ring.h"
#include "virtio/virtio_ring_packed.h"

#define TD_MEM_SIZE   (16ull << 20)
#define TD_GPA	      0x40000000ull
#define TD_QSIZE      256
#define TD_MAX_QUEUES 8
#define TD_RING_AREA  0x10000 /* per queue: desc, avail, used */
#define TD_HEAP	      (1ull << 20)
#define TD_WANT_PROTOCOL                                \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) |           \
	 (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |    \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIG) |       \
	 (1ull << VHOST_USER_PROTOCOL_F_RESET_DEVICE) | \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

struct td_queue {
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t avail_idx;
	uint16_t used_seen;
	uint16_t next_desc;
	int kick, call;
	/* packed rings */
	struct virtq_packed_desc *ring;
	struct virtq_packed_event *driver_area, *device_area;
	uint16_t avail_slot, used_slot;
	bool avail_wrap, used_wrap;
	uint16_t slots_of[TD_QSIZE]; /* per buffer id: slots, 0 when free */
	uint16_t next_id;
	/* td_defer: heads written only by td_publish_deferred() */
	bool defer;
	unsigned int nr_deferred;
	uint16_t deferred_slot[TD_QSIZE], deferred_flags[TD_QSIZE];
};

struct td {
	pid_t pid;
	char path[108];
	struct vhu_frontend fe;
	int mem_fd;
	uint8_t *mem;
	uint64_t heap;
	unsigned int nq;
	bool polled; /* queues get no kick fd (the "no fd" bit) */
	bool packed; /* VIRTIO_F_RING_PACKED acked: packed rings */
	struct td_queue q[TD_MAX_QUEUES];
};

/* One buffer of a chain: guest address, length, device-writable. */
struct td_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static inline void *td_host(struct td *t, uint64_t gpa)
{
	return t->mem + (gpa - TD_GPA);
}

static inline uint64_t td_alloc(struct td *t, uint32_t len)
{
	uint64_t gpa = TD_GPA + t->heap;

	t->heap = virtq_align(t->heap + len, 64);
	CHECK(t->heap <= TD_MEM_SIZE);
	return gpa;
}

static inline void td_reset_heap(struct td *t)
{
	t->heap = TD_HEAP;
}

/* Runs vuvm-backend with @argv (NULL-terminated, after the program name)
 * plus --socket-path; returns its pid. */
static inline pid_t td_spawn(const char *const *argv, const char *path)
{
	const char *args[32] = { VUB_BINARY };
	unsigned int n = 1;
	pid_t pid;

	for (; argv && *argv && n < 28; argv++)
		args[n++] = *argv;
	if (path) {
		args[n++] = "--socket-path";
		args[n++] = path;
	}
	args[n] = NULL;
	pid = fork();
	REQUIRE(pid >= 0);
	if (!pid) {
		execv(VUB_BINARY, (char *const *)args);
		_exit(127);
	}
	return pid;
}

/* Waits up to @ms, scaled by check_ms(), for @pid; returns its exit status,
 * or -1 on a timeout (the process is then killed) or a death by signal. */
static inline int td_wait_exit(pid_t pid, int ms)
{
	int st;

	for (long i = 0; i < check_ms(ms); i += 10) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static inline void td_path(struct td *t, const char *tag)
{
	static unsigned int seq;

	snprintf(t->path, sizeof(t->path), "/tmp/vub-%s-%d-%u.sock", tag,
		 (int)getpid(), seq++);
}

/* Spawns the backend on a new socket path and negotiates @want. */
static inline void td_spawn_connect(struct td *t, const char *const *argv,
				    uint64_t want)
{
	td_path(t, "t");
	t->pid = td_spawn(argv, t->path);
	CHECK_EQ(vhu_connect(&t->fe, t->path, 5000), 0);
	CHECK_EQ(vhu_negotiate(&t->fe, want), 0);
}

/* Creates guest memory (not yet sent to the backend). */
static inline void td_make_memory(struct td *t)
{
	t->mem_fd = memfd_create("guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	REQUIRE(t->mem_fd >= 0 && !ftruncate(t->mem_fd, TD_MEM_SIZE));
	t->mem = mmap(NULL, TD_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      t->mem_fd, 0);
	REQUIRE(t->mem != MAP_FAILED);
	td_reset_heap(t);
}

/* Starts the backend and negotiates (SET_OWNER ... SET_PROTOCOL_FEATURES,
 * GET_QUEUE_NUM) the protocol features @want. Guest memory is created but
 * not yet sent. */
static inline void td_start_proto(struct td *t, const char *const *argv,
				  uint64_t want)
{
	memset(t, 0, sizeof(*t));
	td_spawn_connect(t, argv, want);
	td_make_memory(t);
}

static inline void td_start(struct td *t, const char *const *argv)
{
	td_start_proto(t, argv, TD_WANT_PROTOCOL);
}

static inline uint64_t td_uva(struct td *t, uint64_t off)
{
	return (uint64_t)(uintptr_t)t->mem + off;
}

/* Where a ring starts: 0, or packed slot 0 with both wrap counters 1. */
static inline uint32_t td_initial_base(const struct td *t)
{
	return t->packed ? virtq_packed_base(0, true, 0, true) : 0;
}

/* Hands queue @i's ring, as it is in guest memory, to the backend with
 * avail position @base (what a frontend does after a reconnect too). */
static inline void td_attach_queue(struct td *t, unsigned int i, uint32_t base)
{
	struct td_queue *q = &t->q[i];
	uint64_t off = (uint64_t)i * TD_RING_AREA;
	struct vhu_vring_addr a = { .index = i,
				    .desc_user_addr = td_uva(t, off),
				    .avail_user_addr = td_uva(t, off + 0x4000),
				    .used_user_addr = td_uva(t, off + 0x8000) };

	CHECK_EQ(vhu_set_vring_num(&t->fe, i, TD_QSIZE), 0);
	CHECK_EQ(vhu_set_vring_base(&t->fe, i, base), 0);
	CHECK_EQ(vhu_set_vring_addr(&t->fe, &a), 0);
	CHECK_EQ(vhu_set_vring_kick(&t->fe, i, q->kick), 0);
	CHECK_EQ(vhu_set_vring_call(&t->fe, i, q->call), 0);
}

static inline void td_start_queue(struct td *t, unsigned int i)
{
	struct td_queue *q = &t->q[i];
	uint64_t off = (uint64_t)i * TD_RING_AREA;

	memset(t->mem + off, 0, TD_RING_AREA);
	q->desc = (void *)(t->mem + off);
	q->avail = (void *)(t->mem + off + 0x4000);
	q->used = (void *)(t->mem + off + 0x8000);
	q->ring = (void *)(t->mem + off);
	q->driver_area = (void *)(t->mem + off + 0x4000);
	q->device_area = (void *)(t->mem + off + 0x8000);
	q->avail_wrap = q->used_wrap = true;
	q->kick = t->polled ? -1 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK((t->polled || q->kick >= 0) && q->call >= 0);
	td_attach_queue(t, i, td_initial_base(t));
}

/* SET_FEATURES (@features plus bit 30), the memory table, and @nq queues
 * set up and enabled. */
static inline void td_set_features_mem(struct td *t, uint64_t features)
{
	struct vhu_region reg = { TD_GPA, TD_MEM_SIZE, td_uva(t, 0), 0,
				  t->mem_fd };

	CHECK_EQ(vhu_set_features(
			 &t->fe,
			 features | VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)),
		 0);
	CHECK_EQ(vhu_set_mem_table(&t->fe, &reg, 1), 0);
}

static inline void td_start_device(struct td *t, uint64_t features,
				   unsigned int nq)
{
	CHECK(nq <= TD_MAX_QUEUES);
	t->packed = features & VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	td_set_features_mem(t, features);
	t->nq = nq;
	for (unsigned int i = 0; i < nq; i++)
		td_start_queue(t, i);
	for (unsigned int i = 0; i < nq; i++)
		CHECK_EQ(vhu_set_vring_enable(&t->fe, i, true), 0);
}

/* Writes the chain @bufs[0, @n) into @table from entry @first. */
static inline void td_fill_table(struct virtq_desc *table, uint16_t first,
				 const struct td_buf *bufs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint16_t d = (uint16_t)(first + i);
		uint16_t f = bufs[i].write ? VIRTQ_DESC_F_WRITE : 0;

		if (i + 1 < n)
			f |= VIRTQ_DESC_F_NEXT;
		table[d] = (struct virtq_desc){ bufs[i].gpa, bufs[i].len, f,
						(uint16_t)(d + 1) };
	}
}

static inline void td_kick(struct td *t, unsigned int qi);

/* Packed: a free buffer id (the driver's to choose). */
static inline uint16_t td_packed_id(struct td_queue *q)
{
	for (unsigned int i = 0; i < TD_QSIZE; i++) {
		uint16_t id = (uint16_t)((q->next_id + i) % TD_QSIZE);

		if (!q->slots_of[id]) {
			q->next_id = (uint16_t)(id + 1);
			return id;
		}
	}
	CHECK(!"no free buffer id");
	return 0;
}

/* Packed: writes @d[0, @n) as one buffer at the avail position, the
 * head's flags last (release) or, with q->defer, at
 * td_publish_deferred(); returns the buffer id. No kick. */
static inline uint16_t td_packed_add(struct td *t, unsigned int qi,
				     struct virtq_packed_desc *d,
				     unsigned int n)
{
	struct td_queue *q = &t->q[qi];
	uint16_t id = td_packed_id(q), head = q->avail_slot, head_flags = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t f = (uint16_t)(d[i].flags |
					(q->avail_wrap ? VIRTQ_DESC_F_AVAIL
						       : VIRTQ_DESC_F_USED));

		if (i + 1 < n)
			f |= VIRTQ_DESC_F_NEXT;
		q->ring[q->avail_slot] = d[i];
		q->ring[q->avail_slot].id = id;
		q->ring[q->avail_slot].flags = i ? f : 0;
		if (!i)
			head_flags = f;
		if (++q->avail_slot == TD_QSIZE) {
			q->avail_slot = 0;
			q->avail_wrap = !q->avail_wrap;
		}
	}
	q->slots_of[id] = (uint16_t)n;
	if (q->defer) {
		q->deferred_slot[q->nr_deferred] = head;
		q->deferred_flags[q->nr_deferred++] = head_flags;
	} else {
		__atomic_store_n(&q->ring[head].flags, head_flags,
				 __ATOMIC_RELEASE);
	}
	return id;
}

/* Packed, q->defer: makes every deferred buffer available, in order,
 * then kicks once. */
static inline void td_publish_deferred(struct td *t, unsigned int qi)
{
	struct td_queue *q = &t->q[qi];

	for (unsigned int i = 0; i < q->nr_deferred; i++)
		__atomic_store_n(&q->ring[q->deferred_slot[i]].flags,
				 q->deferred_flags[i], __ATOMIC_RELEASE);
	q->nr_deferred = 0;
	td_kick(t, qi);
}

static inline uint16_t td_packed_submit(struct td *t, unsigned int qi,
					const struct td_buf *bufs,
					unsigned int n)
{
	struct virtq_packed_desc d[TD_QSIZE];
	uint64_t kick = 1;
	uint16_t id;

	for (unsigned int i = 0; i < n; i++)
		d[i] = (struct virtq_packed_desc){ bufs[i].gpa, bufs[i].len, 0,
						   bufs[i].write
							   ? VIRTQ_DESC_F_WRITE
							   : 0 };
	id = td_packed_add(t, qi, d, n);
	if (t->q[qi].kick >= 0 && !t->q[qi].defer)
		CHECK(write(t->q[qi].kick, &kick, sizeof(kick)) ==
		      sizeof(kick));
	return id;
}

/* Makes @head available on queue @qi and kicks (unless it is polled). */
static inline void td_publish(struct td *t, unsigned int qi, uint16_t head)
{
	struct td_queue *q = &t->q[qi];
	uint64_t kick = 1;

	q->avail->ring[q->avail_idx % TD_QSIZE] = head;
	/* Interrupt on the next used element (EVENT_IDX). */
	*virtq_used_event(q->avail, TD_QSIZE) = q->used_seen;
	__atomic_store_n(&q->avail->idx, (uint16_t)(q->avail_idx + 1),
			 __ATOMIC_RELEASE);
	q->avail_idx++;
	if (q->kick >= 0)
		CHECK(write(q->kick, &kick, sizeof(kick)) == sizeof(kick));
}

/* Publishes the chain @bufs[0, @n) on queue @qi; returns the head. */
static inline uint16_t td_submit(struct td *t, unsigned int qi,
				 const struct td_buf *bufs, unsigned int n)
{
	struct td_queue *q = &t->q[qi];
	uint16_t head;

	if (t->packed)
		return td_packed_submit(t, qi, bufs, n);
	if (q->next_desc + n > TD_QSIZE)
		q->next_desc = 0;
	head = q->next_desc;
	td_fill_table(q->desc, head, bufs, n);
	q->next_desc = (uint16_t)(head + n);
	td_publish(t, qi, head);
	return head;
}

/* The same chain through one indirect descriptor (table on the heap). */
static inline uint16_t td_submit_indirect(struct td *t, unsigned int qi,
					  const struct td_buf *bufs,
					  unsigned int n)
{
	struct td_queue *q = &t->q[qi];
	uint32_t len = n * (uint32_t)sizeof(struct virtq_desc);
	uint64_t table = td_alloc(t, len);
	uint16_t head;

	if (t->packed) {
		struct virtq_packed_desc *pt = td_host(t, table),
					 ind = { table, len, 0,
						 VIRTQ_DESC_F_INDIRECT };
		uint64_t kick = 1;

		for (unsigned int i = 0; i < n; i++)
			pt[i] = (struct virtq_packed_desc){
				bufs[i].gpa, bufs[i].len, 0,
				bufs[i].write ? VIRTQ_DESC_F_WRITE : 0
			};
		head = td_packed_add(t, qi, &ind, 1);
		if (q->kick >= 0)
			CHECK(write(q->kick, &kick, sizeof(kick)) ==
			      sizeof(kick));
		return head;
	}
	td_fill_table(td_host(t, table), 0, bufs, n);
	if (q->next_desc + 1 > TD_QSIZE)
		q->next_desc = 0;
	head = q->next_desc++;
	q->desc[head] =
		(struct virtq_desc){ table, len, VIRTQ_DESC_F_INDIRECT, 0 };
	td_publish(t, qi, head);
	return head;
}

/* xorshift64: a reproducible stream for the garbage tests. */
static inline uint64_t td_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A random address: mostly inside a 64 KiB window of the heap (whose
 * bytes are random too), sometimes anywhere, sometimes outside memory. */
static inline uint64_t td_rand_gpa(uint64_t *s)
{
	uint64_t r = td_rand(s);

	switch (r % 16) {
	case 0:
		return td_rand(s);
	case 1:
		return TD_GPA + td_rand(s) % TD_MEM_SIZE;
	case 2:
		return TD_GPA + TD_MEM_SIZE - r % 64;
	default:
		return TD_GPA + TD_HEAP + (r >> 8) % 65536;
	}
}

/* Mostly NEXT/WRITE combinations, sometimes INDIRECT, rarely anything. */
static inline uint16_t td_rand_flags(uint64_t r)
{
	uint16_t f = (uint16_t)((r >> 40) % 4);

	if (r % 16 == 1)
		f |= VIRTQ_DESC_F_INDIRECT;
	if (r % 64 == 2)
		f = (uint16_t)(r >> 48);
	return f;
}

/*
 * Fills queue @qi's descriptor table, avail ring and the heap window with
 * garbage a hostile driver could write, and makes up to a queue size (or,
 * once in a while, more) of it available; td_kick() then.
 */
static inline void td_garbage(struct td *t, unsigned int qi, uint64_t *s)
{
	struct td_queue *q = &t->q[qi];
	uint8_t *heap = td_host(t, TD_GPA + TD_HEAP);
	uint16_t n = (uint16_t)(td_rand(s) % (TD_QSIZE + 8));

	CHECK(!t->packed); /* split rings only */
	for (size_t i = 0; i < 65536 + 64; i += 8) {
		uint64_t r = td_rand(s);

		memcpy(heap + i, &r, 8);
	}
	for (unsigned int i = 0; i < TD_QSIZE; i++) {
		uint64_t r = td_rand(s);

		q->desc[i] = (struct virtq_desc){
			td_rand_gpa(s),
			r % 8 ? (uint32_t)(r >> 8) % 600 : (uint32_t)(r >> 16),
			td_rand_flags(r),
			(uint16_t)(r % 8 ? (r >> 24) % TD_QSIZE : r >> 32),
		};
		q->avail->ring[i] =
			(uint16_t)(r % 16 ? (r >> 52) % TD_QSIZE : r >> 20);
	}
	q->avail->flags = (uint16_t)td_rand(s);
	*virtq_used_event(q->avail, TD_QSIZE) = (uint16_t)td_rand(s);
	__atomic_store_n(&q->avail->idx, (uint16_t)(q->avail_idx + n),
			 __ATOMIC_RELEASE);
	q->avail_idx = (uint16_t)(q->avail_idx + n);
}

static inline void td_kick(struct td *t, unsigned int qi)
{
	uint64_t kick = 1;

	CHECK(write(t->q[qi].kick, &kick, sizeof(kick)) == sizeof(kick));
}

/* Stops queue @qi (GET_VRING_BASE: the backend must still answer) and
 * sets it up afresh. */
static inline void td_restart_queue(struct td *t, unsigned int qi)
{
	uint32_t base;

	CHECK_EQ(vhu_get_vring_base(&t->fe, qi, &base), 0);
	CHECK(t->packed || base <= 0xffff);
	if (t->q[qi].kick >= 0)
		close(t->q[qi].kick);
	close(t->q[qi].call);
	memset(&t->q[qi], 0, sizeof(t->q[qi]));
	td_start_queue(t, qi);
	CHECK_EQ(vhu_set_vring_enable(&t->fe, qi, true), 0);
}

/* Whether queue @qi has a used element we have not seen, within @ms. */
static inline bool td_poll_used(struct td *t, unsigned int qi, int ms)
{
	struct td_queue *q = &t->q[qi];
	struct pollfd p = { q->call, POLLIN, 0 };
	uint64_t v;

	for (int waited = 0;; waited += 20) {
		uint16_t f =
			t->packed
				? __atomic_load_n(&q->ring[q->used_slot].flags,
						  __ATOMIC_ACQUIRE)
				: 0;

		if (t->packed &&
		    (f & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) ==
			    (q->used_wrap
				     ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED
				     : 0))
			return true;
		if (!t->packed &&
		    __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) !=
			    q->used_seen)
			return true;
		if (waited >= ms)
			return false;
		if (poll(&p, 1, 20) == 1)
			CHECK(read(q->call, &v, sizeof(v)) == sizeof(v));
	}
}

/* Waits (up to 3 s, scaled) for the next used element of queue @qi; returns its
 * length, and its id in *@id. */
static inline uint32_t td_wait_used(struct td *t, unsigned int qi, uint32_t *id)
{
	struct td_queue *q = &t->q[qi];
	struct virtq_used_elem e;

	CHECK(td_poll_used(t, qi, (int)check_ms(3000)));
	if (t->packed) {
		struct virtq_packed_desc *d = &q->ring[q->used_slot];
		unsigned int slot;

		e.id = d->id;
		e.len = d->len;
		/* a used id must be one in flight */
		CHECK(e.id < TD_QSIZE && q->slots_of[e.id]);
		slot = q->used_slot + (e.id < TD_QSIZE && q->slots_of[e.id]
					       ? q->slots_of[e.id]
					       : 1);
		if (e.id < TD_QSIZE)
			q->slots_of[e.id] = 0;
		if (slot >= TD_QSIZE) {
			slot -= TD_QSIZE;
			q->used_wrap = !q->used_wrap;
		}
		q->used_slot = (uint16_t)slot;
		q->used_seen++;
		if (id)
			*id = e.id;
		return e.len;
	}
	e = q->used->ring[q->used_seen % TD_QSIZE];
	q->used_seen++;
	if (id)
		*id = e.id;
	return e.len;
}

/* Closes the connection: the backend must exit 0 and remove its socket. */
static inline void td_stop(struct td *t)
{
	struct stat st;

	vhu_frontend_close(&t->fe);
	CHECK_EQ(td_wait_exit(t->pid, 3000), 0);
	CHECK(stat(t->path, &st) && errno == ENOENT);
	for (unsigned int i = 0; i < t->nq; i++) {
		if (t->q[i].kick >= 0)
			close(t->q[i].kick);
		close(t->q[i].call);
	}
	munmap(t->mem, TD_MEM_SIZE);
	close(t->mem_fd);
}

#endif
