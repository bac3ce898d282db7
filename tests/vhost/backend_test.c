// SPDX-License-Identifier: MIT
/*
 * Wire tests of the backend side (vhost/backend.c). The test plays the
 * frontend by hand over a socketpair: it writes raw messages, good and
 * bad, calls vhu_backend_dispatch() once per message, and reads what came
 * back. No threads: replies wait in the socket buffer. Every test also
 * checks that no fd leaked, whatever was sent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/check.h"
#include "vhost/backend.h"
#include "vhost/log.h"
#include "vhost/msg.h"
#include "vhost/requests.h"
#include "virtio/virtio_config.h"

#define NQ	 2
#define QMAX	 256
#define MEM_GPA	 0x100000ull
#define MEM_UVA	 0x7f0000000000ull /* the pretend frontend's address */
#define MEM_SIZE 0x200000ull
#define DEV_FEATURES                                                       \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
	 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))
#define PF(bit) (1ull << VHOST_USER_PROTOCOL_F_##bit)

/* The test device: what the callbacks saw. */
struct tdev {
	uint8_t config[32];
	int starts[NQ], stops[NQ];
	int resets;
	int state_fd;
};

static uint64_t t_features(struct vhu_backend *dev)
{
	return DEV_FEATURES;
}

static int t_get_config(struct vhu_backend *dev, uint32_t off, void *buf,
			uint32_t size)
{
	struct tdev *t = dev->opaque;

	if (off + size > sizeof(t->config))
		return -EINVAL;
	memcpy(buf, t->config + off, size);
	return 0;
}

static int t_set_config(struct vhu_backend *dev, uint32_t off, const void *buf,
			uint32_t size, uint32_t flags)
{
	struct tdev *t = dev->opaque;

	if (off + size > sizeof(t->config))
		return -EINVAL;
	memcpy(t->config + off, buf, size);
	return 0;
}

static void t_start(struct vhu_backend *dev, unsigned int i)
{
	((struct tdev *)dev->opaque)->starts[i]++;
}

static void t_stop(struct vhu_backend *dev, unsigned int i)
{
	((struct tdev *)dev->opaque)->stops[i]++;
}

static void t_reset(struct vhu_backend *dev)
{
	((struct tdev *)dev->opaque)->resets++;
}

static int t_state_fd(struct vhu_backend *dev, uint32_t dir, uint32_t phase,
		      int fd, int *reply_fd)
{
	struct tdev *t = dev->opaque;

	if (t->state_fd >= 0)
		close(t->state_fd);
	t->state_fd = fd;
	return 0;
}

static int t_check_state(struct vhu_backend *dev)
{
	return 0;
}

static const struct vhu_backend_ops tops = {
	.get_features = t_features,
	.get_config = t_get_config,
	.set_config = t_set_config,
	.queue_start = t_start,
	.queue_stop = t_stop,
	.reset = t_reset,
	.set_device_state_fd = t_state_fd,
	.check_device_state = t_check_state,
};

/* One session: the backend, the hand-written frontend peer, guest RAM. */
struct rig {
	struct vhu_backend dev;
	struct tdev t;
	int peer;
	int mem_fd;
	uint8_t *mem; /* the frontend's own mapping */
	int fds_before;
};

static void rig_open(struct rig *r)
{
	int sv[2];

	memset(r, 0, sizeof(*r));
	r->fds_before = check_count_fds();
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	r->t.state_fd = -1;
	CHECK_EQ(vhu_backend_init(&r->dev, sv[0], NQ, QMAX, &tops, &r->t), 0);
	r->dev.timeout_ms = 500;
	r->peer = sv[1];
	r->mem_fd = memfd_create("guest", MFD_CLOEXEC);
	CHECK(r->mem_fd >= 0);
	CHECK(ftruncate(r->mem_fd, MEM_SIZE) == 0);
	r->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      r->mem_fd, 0);
	CHECK(r->mem != MAP_FAILED);
}

/* Tears down and checks that every fd opened since rig_open is closed. */
static void rig_close(struct rig *r)
{
	vhu_backend_cleanup(&r->dev);
	if (r->t.state_fd >= 0)
		close(r->t.state_fd);
	close(r->peer);
	close(r->mem_fd);
	munmap(r->mem, MEM_SIZE);
	CHECK_EQ(check_count_fds(), r->fds_before);
}

/* Sends one request from the peer and lets the backend handle it. */
static int xfer(struct rig *r, uint32_t req, uint32_t flags, const void *p,
		uint32_t size, const int *fds, unsigned int nfds)
{
	struct vhu_msg m = { .hdr = { req, VHOST_USER_VERSION | flags, size },
			     .nfds = nfds };

	if (size)
		memcpy(&m.payload, p, size);
	if (nfds)
		memcpy(m.fds, fds, nfds * sizeof(int));
	CHECK_EQ(vhu_msg_send(r->peer, &m), 0);
	return vhu_backend_dispatch(&r->dev);
}

/* The request was handled and had result @res. */
static void req(struct rig *r, uint32_t rq, const void *p, uint32_t size,
		int res)
{
	CHECK_EQ(xfer(r, rq, 0, p, size, NULL, 0), 0);
	CHECK_EQ(r->dev.last_err, res);
}

static void req_u64(struct rig *r, uint32_t rq, uint64_t v, int res)
{
	req(r, rq, &v, sizeof(v), res);
}

/* Reads the backend's reply to @rq; checks the header. */
static void get_reply(struct rig *r, uint32_t rq, struct vhu_msg *m)
{
	CHECK_EQ(vhu_msg_recv(r->peer, m, 500), 0);
	CHECK_EQ(m->hdr.request, rq);
	CHECK_EQ(m->hdr.flags, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK);
}

static uint64_t reply_u64(struct rig *r, uint32_t rq)
{
	struct vhu_msg m;

	get_reply(r, rq, &m);
	CHECK_EQ(m.hdr.size, 8);
	CHECK_EQ(m.nfds, 0);
	return m.payload.u64;
}

static void no_reply(struct rig *r)
{
	struct vhu_msg m;

	CHECK_EQ(vhu_msg_recv(r->peer, &m, 20), -ETIMEDOUT);
}

/* GET then u64 reply. */
static uint64_t get_u64(struct rig *r, uint32_t rq)
{
	req(r, rq, NULL, 0, 0);
	return reply_u64(r, rq);
}

/* Negotiates @pf (and bit 30 when @pf is nonzero). */
static void negotiate(struct rig *r, uint64_t pf)
{
	uint64_t f = get_u64(r, VHOST_USER_GET_FEATURES);

	CHECK(f & VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	req(r, VHOST_USER_SET_OWNER, NULL, 0, 0);
	if (pf) {
		CHECK_EQ(get_u64(r, VHOST_USER_GET_PROTOCOL_FEATURES) & pf, pf);
		req_u64(r, VHOST_USER_SET_PROTOCOL_FEATURES, pf, 0);
	}
	req_u64(r, VHOST_USER_SET_FEATURES,
		DEV_FEATURES |
			(pf ? VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) : 0),
		0);
}

/* SET_MEM_TABLE with one region: all of the memfd. */
static void mem_table(struct rig *r)
{
	struct vhu_mem_table t = {
		.nregions = 1,
		.regions = { { MEM_GPA, MEM_SIZE, MEM_UVA, 0 } },
	};

	CHECK_EQ(
		xfer(r, VHOST_USER_SET_MEM_TABLE, 0, &t, 8 + 32, &r->mem_fd, 1),
		0);
	CHECK_EQ(r->dev.last_err, 0);
}

static void state(struct rig *r, uint32_t rq, uint32_t i, uint32_t n, int res)
{
	struct vhu_vring_state s = { i, n };

	req(r, rq, &s, sizeof(s), res);
}

static void addr(struct rig *r, uint32_t i, uint64_t desc, uint64_t avail,
		 uint64_t used, int res)
{
	struct vhu_vring_addr a = { i, 0, desc, used, avail, 0 };

	req(r, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), res);
}

/* Ring i of 16 entries at offset i * 0x10000 of guest memory. */
static uint64_t ring_off(uint32_t i)
{
	return 0x10000ull * i;
}

static void setup_ring(struct rig *r, uint32_t i)
{
	uint64_t u = MEM_UVA + ring_off(i);

	state(r, VHOST_USER_SET_VRING_NUM, i, 16, 0);
	state(r, VHOST_USER_SET_VRING_BASE, i, 0, 0);
	addr(r, i, u, u + 0x1000, u + 0x2000, 0);
}

static int kick(struct rig *r, uint32_t rq, uint64_t v, int fd)
{
	int err = xfer(r, rq, 0, &v, sizeof(v), &fd, fd >= 0 ? 1 : 0);

	CHECK_EQ(err, 0);
	return r->dev.last_err;
}

static void test_handshake(void)
{
	struct rig r;

	rig_open(&r);
	negotiate(&r, PF(MQ) | PF(REPLY_ACK) | PF(CONFIG) |
			      PF(CONFIGURE_MEM_SLOTS));
	CHECK_EQ(get_u64(&r, VHOST_USER_GET_QUEUE_NUM), NQ);
	CHECK_EQ(get_u64(&r, VHOST_USER_GET_MAX_MEM_SLOTS),
		 VHU_BACKEND_MAX_MEM_SLOTS);
	CHECK(r.dev.owner);
	CHECK_EQ(r.dev.features,
		 DEV_FEATURES | VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	/* Features never offered. */
	req_u64(&r, VHOST_USER_SET_FEATURES, VIRTIO_BIT(VIRTIO_F_RING_PACKED),
		-EINVAL);
	req_u64(&r, VHOST_USER_SET_PROTOCOL_FEATURES, PF(LOG_SHMFD), -EINVAL);
	CHECK_HAS(vhu_backend_error(&r.dev), "not offered");
	rig_close(&r);
}

/* REPLY_ACK: one ack for requests without their own reply, nonzero on
 * failure; nothing without the feature; never twice. */
static void test_reply_ack(void)
{
	uint64_t v = VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	struct rig r;

	rig_open(&r);
	CHECK_EQ(xfer(&r, VHOST_USER_SET_OWNER, VHOST_USER_NEED_REPLY_MASK,
		      NULL, 0, NULL, 0),
		 0);
	no_reply(&r); /* REPLY_ACK not negotiated yet */
	negotiate(&r, PF(REPLY_ACK));
	CHECK_EQ(xfer(&r, VHOST_USER_SET_OWNER, VHOST_USER_NEED_REPLY_MASK,
		      NULL, 0, NULL, 0),
		 0);
	CHECK_EQ(reply_u64(&r, VHOST_USER_SET_OWNER), 0);
	CHECK_EQ(xfer(&r, VHOST_USER_SET_FEATURES, VHOST_USER_NEED_REPLY_MASK,
		      &v, 8, NULL, 0),
		 0);
	CHECK_EQ(reply_u64(&r, VHOST_USER_SET_FEATURES), EINVAL);
	/* A request with its own reply ignores NEED_REPLY. */
	CHECK_EQ(xfer(&r, VHOST_USER_GET_FEATURES, VHOST_USER_NEED_REPLY_MASK,
		      NULL, 0, NULL, 0),
		 0);
	CHECK(reply_u64(&r, VHOST_USER_GET_FEATURES) & DEV_FEATURES);
	no_reply(&r);
	/* Unknown requests are refused and acked as such. */
	CHECK_EQ(xfer(&r, 99, VHOST_USER_NEED_REPLY_MASK, NULL, 0, NULL, 0), 0);
	CHECK(reply_u64(&r, 99) != 0);
	CHECK_EQ(xfer(&r, VHOST_USER_SET_LOG_BASE, VHOST_USER_NEED_REPLY_MASK,
		      NULL, 0, NULL, 0),
		 0);
	CHECK(reply_u64(&r, VHOST_USER_SET_LOG_BASE) != 0);
	rig_close(&r);
}

/* Wrong payload sizes, flags, and requests needing unnegotiated features. */
static void test_bad_headers(void)
{
	uint8_t junk[64] = { 0 };
	struct rig r;

	rig_open(&r);
	req(&r, VHOST_USER_SET_FEATURES, junk, 4, -EINVAL);
	CHECK_HAS(vhu_backend_error(&r.dev), "payload 4 bytes, expected 8");
	req(&r, VHOST_USER_GET_FEATURES, junk, 8, -EINVAL);
	no_reply(&r);
	req(&r, VHOST_USER_SET_VRING_NUM, junk, 12, -EINVAL);
	req(&r, VHOST_USER_SET_VRING_ADDR, junk, 32, -EINVAL);
	req(&r, VHOST_USER_SET_MEM_TABLE, junk, 4, -EINVAL);
	req(&r, VHOST_USER_GET_QUEUE_NUM, NULL, 0, -ENOTSUP); /* no MQ */
	no_reply(&r);
	req(&r, 0, NULL, 0, -ENOTSUP);
	req(&r, 1000, NULL, 0, -ENOTSUP);
	CHECK_EQ(xfer(&r, VHOST_USER_SET_OWNER, VHOST_USER_REPLY_MASK, NULL, 0,
		      NULL, 0),
		 0);
	CHECK_EQ(r.dev.last_err, -EINVAL);
	CHECK_EQ(xfer(&r, VHOST_USER_SET_OWNER, 0x2 | 0x100, NULL, 0, NULL, 0),
		 0);
	CHECK_EQ(r.dev.last_err, -EINVAL);
	CHECK(!r.dev.owner);
	CHECK(r.dev.nr_refused >= 10);
	rig_close(&r);
}

/*
 * Exactly the rows whose `accept` side is on get past "not supported" to
 * the next check (the flags: a reply bit), so each has its handler in
 * backend.c. No handler runs and nothing is answered.
 */
static void test_every_row_handled(void)
{
	char want[96];
	struct rig r;

	rig_open(&r);
	for (uint32_t i = 0; i < VHOST_USER_MAX_REQUEST + 2; i++) {
		const struct vhu_request_info *row = vhu_request_info(i);
		bool taken = row && row->accept.on;

		CHECK_EQ(xfer(&r, i, VHOST_USER_REPLY_MASK, NULL, 0, NULL, 0),
			 0);
		if (taken)
			snprintf(want, sizeof(want), "%s: flags 0x5,",
				 row->name);
		else
			snprintf(want, sizeof(want),
				 "request %u is not supported", i);
		CHECK_HAS(vhu_backend_error(&r.dev), want);
		CHECK_EQ(r.dev.last_err, taken ? -EINVAL : -ENOTSUP);
	}
	no_reply(&r);
	CHECK(!r.dev.owner);
	rig_close(&r);
}

/* Too many or missing fds; every one is closed. */
static void test_bad_fds(void)
{
	struct rig r;
	int e[3], v;
	uint64_t i0 = 0;

	rig_open(&r);
	for (v = 0; v < 3; v++)
		e[v] = eventfd(0, EFD_CLOEXEC);
	negotiate(&r, 0);
	CHECK_EQ(xfer(&r, VHOST_USER_SET_OWNER, 0, NULL, 0, e, 1), 0);
	CHECK_HAS(vhu_backend_error(&r.dev), "SET_OWNER: 1 fds, expected 0");
	CHECK_EQ(xfer(&r, VHOST_USER_SET_VRING_CALL, 0, &i0, 8, e, 2), 0);
	CHECK_EQ(r.dev.last_err, -EINVAL);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_CALL, 0, -1), -EINVAL);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_CALL, VHOST_USER_VRING_NOFD_MASK,
		      e[0]),
		 -EINVAL);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_CALL, 1 << 9, e[0]), -EINVAL);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_CALL, 7, e[0]), -EINVAL);
	CHECK_HAS(vhu_backend_error(&r.dev), "ring 7 out of range");
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_CALL, 1, e[0]), 0);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_CALL, 1, e[1]), 0); /* replace */
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_ERR,
		      1 | VHOST_USER_VRING_NOFD_MASK, -1),
		 0);
	/* Eight fds with a request that takes none. */
	int many[8];
	for (v = 0; v < 8; v++)
		many[v] = e[v % 3];
	CHECK_EQ(xfer(&r, VHOST_USER_GET_FEATURES, 0, NULL, 0, many, 8), 0);
	CHECK_EQ(r.dev.last_err, -EINVAL);
	no_reply(&r);
	for (v = 0; v < 3; v++)
		close(e[v]);
	rig_close(&r);
}

/* A good table, then bad ones that must leave it in place. */
static void test_mem_table(void)
{
	struct vhu_mem_table t = { .nregions = 2 };
	int fds[2];
	struct rig r;
	uint8_t *p;

	rig_open(&r);
	negotiate(&r, 0);
	/* Two regions from one memfd: [0, 1M) and [1M, 2M) at a gap. */
	t.regions[0] = (struct vhu_mem_region){ MEM_GPA, 0x100000, MEM_UVA, 0 };
	t.regions[1] = (struct vhu_mem_region){ 0x100000000ull, 0x100000,
						MEM_UVA + 0x100000, 0x100000 };
	fds[0] = fds[1] = r.mem_fd;
	CHECK_EQ(xfer(&r, VHOST_USER_SET_MEM_TABLE, 0, &t, 8 + 64, fds, 2), 0);
	CHECK_EQ(r.dev.last_err, 0);
	strcpy((char *)r.mem + 0x100010, "second region");
	p = vhu_backend_gpa_to_va(&r.dev, 0x100000010ull, 14);
	CHECK(p && !strcmp((char *)p, "second region"));
	CHECK(p != r.mem + 0x100010); /* its own mapping */
	CHECK(vhu_backend_uva_to_va(&r.dev, MEM_UVA + 0x100010, 14) == p);
	CHECK(vhu_backend_gpa_to_va(&r.dev, MEM_GPA + 0xfffff, 1));
	CHECK(!vhu_backend_gpa_to_va(&r.dev, MEM_GPA + 0xfffff, 2));
	CHECK(!vhu_backend_gpa_to_va(&r.dev, MEM_GPA - 1, 1));
	CHECK(!vhu_backend_gpa_to_va(&r.dev, ~0ull, 2));
	CHECK(!vhu_backend_gpa_to_va(&r.dev, MEM_GPA, ~0ull));
	CHECK(!vhu_backend_uva_to_va(&r.dev, MEM_GPA, 1));

	struct vhu_mem_region bad[] = {
		{ MEM_GPA, 0, MEM_UVA, 0 },		     /* size 0 */
		{ ~0ull - 0xfff, 0x2000, MEM_UVA, 0 },	     /* gpa wraps */
		{ MEM_GPA, 0x2000, ~0ull - 0xfff, 0 },	     /* uva wraps */
		{ MEM_GPA, 0x1000, MEM_UVA, ~0ull - 0xfff }, /* offset wraps */
		{ MEM_GPA, MEM_SIZE * 2, MEM_UVA, 0 },	     /* beyond the fd */
		{ MEM_GPA, 0x1000, MEM_UVA, MEM_SIZE },	     /* offset at end */
	};
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.nregions = 1;
		t.regions[0] = bad[i];
		CHECK_EQ(xfer(&r, VHOST_USER_SET_MEM_TABLE, 0, &t, 8 + 32,
			      &r.mem_fd, 1),
			 0);
		CHECK(r.dev.last_err < 0);
	}
	/* Overlaps, in guest-physical and in user space. */
	t.nregions = 2;
	t.regions[0] = (struct vhu_mem_region){ MEM_GPA, 0x1000, MEM_UVA, 0 };
	t.regions[1] = (struct vhu_mem_region){ MEM_GPA + 0xfff, 0x1000,
						MEM_UVA + 0x10000, 0 };
	CHECK_EQ(xfer(&r, VHOST_USER_SET_MEM_TABLE, 0, &t, 8 + 64, fds, 2), 0);
	CHECK_HAS(vhu_backend_error(&r.dev), "overlaps");
	t.regions[1] = (struct vhu_mem_region){ MEM_GPA + 0x1000, 0x1000,
						MEM_UVA + 0x800, 0 };
	CHECK_EQ(xfer(&r, VHOST_USER_SET_MEM_TABLE, 0, &t, 8 + 64, fds, 2), 0);
	CHECK_HAS(vhu_backend_error(&r.dev), "overlaps");
	/* Counts that do not match. */
	CHECK_EQ(xfer(&r, VHOST_USER_SET_MEM_TABLE, 0, &t, 8 + 64, fds, 1), 0);
	CHECK_HAS(vhu_backend_error(&r.dev), "1 fds for 2 regions");
	CHECK_EQ(xfer(&r, VHOST_USER_SET_MEM_TABLE, 0, &t, 8 + 32, fds, 2), 0);
	CHECK_HAS(vhu_backend_error(&r.dev), "payload 40 bytes for 2");
	t.nregions = 0;
	CHECK_EQ(xfer(&r, VHOST_USER_SET_MEM_TABLE, 0, &t, 8, fds, 1), 0);
	CHECK(r.dev.last_err < 0);
	t.nregions = 9;
	CHECK_EQ(xfer(&r, VHOST_USER_SET_MEM_TABLE, 0, &t, 8 + 32 * 8, fds, 2),
		 0);
	CHECK(r.dev.last_err < 0);
	/* The good table survived all of it. */
	CHECK_EQ(r.dev.nregions, 2);
	CHECK(vhu_backend_gpa_to_va(&r.dev, 0x100000010ull, 14) == p);
	rig_close(&r);
}

/* Ring setup, bad ring requests, lifecycle (start on kick, stop on
 * GET_VRING_BASE), with and without PROTOCOL_FEATURES. */
static void test_rings(void)
{
	int kfd;
	struct vhu_msg m;
	struct rig r;
	uint64_t u = MEM_UVA;

	rig_open(&r);
	kfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	negotiate(&r, 0);
	mem_table(&r);
	state(&r, VHOST_USER_SET_VRING_NUM, 2, 16, -EINVAL);
	state(&r, VHOST_USER_SET_VRING_NUM, 0, 0, -EINVAL);
	state(&r, VHOST_USER_SET_VRING_NUM, 0, 24, -EINVAL);
	state(&r, VHOST_USER_SET_VRING_NUM, 0, 2 * QMAX, -EINVAL);
	addr(&r, 0, u, u + 0x1000, u + 0x2000, -EINVAL); /* no num */
	CHECK_HAS(vhu_backend_error(&r.dev), "SET_VRING_NUM first");
	state(&r, VHOST_USER_SET_VRING_NUM, 0, 16, 0);
	addr(&r, 0, u + 8, u + 0x1000, u + 0x2000, -EINVAL); /* misaligned */
	addr(&r, 0, u - 0x1000, u + 0x1000, u + 0x2000, -EFAULT);
	/* The used ring of 16 needs 6 + 128 bytes: 100 short of the end. */
	addr(&r, 0, u, u + 0x1000, u + MEM_SIZE - 100, -EFAULT);
	CHECK_HAS(vhu_backend_error(&r.dev), "not inside guest memory");
	addr(&r, 0, u, u + MEM_SIZE - 37, u + 0x2000, -EINVAL); /* odd */
	/* The avail ring of 16 needs 6 + 32 bytes. */
	addr(&r, 0, u, u + MEM_SIZE - 36, u + 0x2000, -EFAULT);
	addr(&r, 0, u, u + MEM_SIZE - 38, u + 0x2000, 0);
	state(&r, VHOST_USER_SET_VRING_BASE, 0, 0x10000, -EINVAL);
	setup_ring(&r, 0);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_KICK, 1, kfd), -EINVAL);
	CHECK_HAS(vhu_backend_error(&r.dev), "no size or address");
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_KICK, 0, kfd), 0);
	/* Without PROTOCOL_FEATURES a started ring is enabled at once. */
	CHECK(r.dev.vqs[0].started && r.dev.vqs[0].enabled);
	CHECK_EQ(r.t.starts[0], 1);
	state(&r, VHOST_USER_SET_VRING_ENABLE, 0, 1, -EINVAL);
	CHECK_HAS(vhu_backend_error(&r.dev), "bit 30");
	state(&r, VHOST_USER_SET_VRING_NUM, 0, 16, -EBUSY); /* started */
	addr(&r, 0, u, u + 0x1000, u + 0x2000, -EBUSY);
	state(&r, VHOST_USER_GET_VRING_BASE, 5, 0, -EINVAL);
	no_reply(&r);
	state(&r, VHOST_USER_GET_VRING_BASE, 0, 0, 0);
	get_reply(&r, VHOST_USER_GET_VRING_BASE, &m);
	CHECK_EQ(m.hdr.size, 8);
	CHECK_EQ(m.payload.state.index, 0);
	CHECK_EQ(m.payload.state.num, 0);
	CHECK(!r.dev.vqs[0].started);
	CHECK_EQ(r.t.stops[0], 1);
	CHECK_EQ(r.dev.vqs[0].kick_fd, -1);
	close(kfd);
	rig_close(&r);
}

/* With PROTOCOL_FEATURES: running = started and enabled. */
static void test_ring_enable(void)
{
	int kfd;
	struct rig r;

	rig_open(&r);
	kfd = eventfd(0, EFD_CLOEXEC);
	negotiate(&r, PF(REPLY_ACK));
	mem_table(&r);
	setup_ring(&r, 1);
	state(&r, VHOST_USER_SET_VRING_BASE, 1, 65535, 0);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_KICK, 1, kfd), 0);
	CHECK(r.dev.vqs[1].started && !r.dev.vqs[1].enabled);
	CHECK_EQ(r.t.starts[1], 0);
	state(&r, VHOST_USER_SET_VRING_ENABLE, 1, 2, -EINVAL);
	state(&r, VHOST_USER_SET_VRING_ENABLE, 1, 1, 0);
	CHECK_EQ(r.t.starts[1], 1);
	state(&r, VHOST_USER_SET_VRING_ENABLE, 1, 0, 0);
	CHECK_EQ(r.t.stops[1], 1);
	state(&r, VHOST_USER_SET_VRING_ENABLE, 1, 1, 0);
	CHECK_EQ(r.t.starts[1], 2);
	/* A polling kick (no fd) on a running ring: restarted for the
	 * device to re-watch. */
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_KICK,
		      1 | VHOST_USER_VRING_NOFD_MASK, -1),
		 0);
	CHECK(r.dev.vqs[1].kick_nofd);
	CHECK_EQ(r.t.starts[1], 3);
	state(&r, VHOST_USER_GET_VRING_BASE, 1, 0, 0);
	CHECK_EQ(reply_u64(&r, VHOST_USER_GET_VRING_BASE), 1 | 65535ull << 32);
	CHECK(r.dev.vqs[1].enabled); /* stopping does not disable */
	/* RESET_OWNER forgets everything. */
	req(&r, VHOST_USER_RESET_OWNER, NULL, 0, 0);
	CHECK_EQ(r.t.resets, 1);
	CHECK(!r.dev.vqs[1].enabled && !r.dev.vqs[1].num);
	close(kfd);
	rig_close(&r);
}

/* Driver side by hand: a chain made available in the frontend's mapping
 * is popped by the backend through its own mapping, completed, and the
 * call fd is signalled. */
static void test_ring_data(void)
{
	int kfd;
	int cfd;
	struct iovec iov[4];
	struct vhu_vring_elem e = { .iov = iov, .iov_max = 4 };
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	struct vhu_backend_vq *vq;
	uint64_t n = 1;
	struct rig r;

	rig_open(&r);
	kfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	negotiate(&r, 0);
	mem_table(&r);
	setup_ring(&r, 0);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_KICK, 0, kfd), 0);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_CALL, 0, cfd), 0);
	desc = (void *)(r.mem + ring_off(0));
	avail = (void *)(r.mem + ring_off(0) + 0x1000);
	used = (void *)(r.mem + ring_off(0) + 0x2000);
	strcpy((char *)r.mem + 0x80000, "through the backend");
	desc[3] = (struct virtq_desc){ MEM_GPA + 0x80000, 20, VIRTQ_DESC_F_NEXT,
				       4 };
	desc[4] = (struct virtq_desc){ MEM_GPA + 0x90000, 8, VIRTQ_DESC_F_WRITE,
				       0 };
	avail->ring[0] = 3;
	__atomic_store_n(&avail->idx, 1, __ATOMIC_RELEASE);
	CHECK(write(kfd, &n, 8) == 8);
	vq = vhu_backend_vq(&r.dev, 0);
	CHECK(vq && vq->running && !vhu_backend_vq(&r.dev, NQ));
	CHECK_EQ(vhu_backend_vq_drain_kick(vq), 1);
	CHECK_EQ(vhu_backend_vq_drain_kick(vq), 0);
	CHECK_EQ(vhu_vring_pop(&vq->vring, &e), 1);
	CHECK_EQ(e.out_num, 1);
	CHECK(!strcmp(iov[0].iov_base, "through the backend"));
	CHECK((uint8_t *)iov[0].iov_base != r.mem + 0x80000);
	memcpy(iov[1].iov_base, "answer!", 8);
	CHECK_EQ(vhu_vring_push(&vq->vring, e.head, 8), 0);
	CHECK_EQ(vhu_backend_vq_notify(vq), 1);
	CHECK(read(cfd, &n, 8) == 8 && n == 1);
	CHECK_EQ(used->idx, 1);
	CHECK_EQ(used->ring[0].id, 3);
	CHECK(!strcmp((char *)r.mem + 0x90000, "answer!"));
	/* The ring's position comes back through GET_VRING_BASE. */
	state(&r, VHOST_USER_GET_VRING_BASE, 0, 0, 0);
	CHECK_EQ(reply_u64(&r, VHOST_USER_GET_VRING_BASE), 1ull << 32);
	close(kfd);
	close(cfd);
	rig_close(&r);
}

static void config_msg(struct rig *r, uint32_t rq, uint32_t off, uint32_t size,
		       uint32_t wire_size, int res)
{
	struct vhu_config c = { .offset = off, .size = size };

	memset(c.region, 0xab, sizeof(c.region));
	req(r, rq, &c, wire_size, res);
}

static void test_config(void)
{
	struct vhu_msg m;
	struct rig r;

	rig_open(&r);
	for (int i = 0; i < 32; i++)
		r.t.config[i] = (uint8_t)i;
	config_msg(&r, VHOST_USER_GET_CONFIG, 0, 16, 28, -ENOTSUP);
	no_reply(&r);
	negotiate(&r, PF(CONFIG));
	config_msg(&r, VHOST_USER_GET_CONFIG, 4, 16, 28, 0);
	get_reply(&r, VHOST_USER_GET_CONFIG, &m);
	CHECK_EQ(m.hdr.size, 28);
	CHECK_EQ(m.payload.config.offset, 4);
	CHECK_EQ(m.payload.config.size, 16);
	CHECK_EQ(m.payload.config.region[0], 4);
	CHECK_EQ(m.payload.config.region[15], 19);
	/* Failures answer with size 0. */
	config_msg(&r, VHOST_USER_GET_CONFIG, 0, 300, 28, -EINVAL);
	get_reply(&r, VHOST_USER_GET_CONFIG, &m);
	CHECK_EQ(m.hdr.size, 12);
	CHECK_EQ(m.payload.config.size, 0);
	config_msg(&r, VHOST_USER_GET_CONFIG, 250, 16, 28, -EINVAL);
	get_reply(&r, VHOST_USER_GET_CONFIG, &m);
	CHECK_EQ(m.payload.config.size, 0);
	config_msg(&r, VHOST_USER_GET_CONFIG, 0, 16, 20, -EINVAL);
	get_reply(&r, VHOST_USER_GET_CONFIG, &m);
	CHECK_EQ(m.payload.config.size, 0);
	config_msg(&r, VHOST_USER_GET_CONFIG, 24, 16, 28, -EIO); /* device */
	get_reply(&r, VHOST_USER_GET_CONFIG, &m);
	CHECK_EQ(m.payload.config.size, 0);
	config_msg(&r, VHOST_USER_SET_CONFIG, 8, 4, 16, 0);
	CHECK_EQ(r.t.config[8], 0xab);
	CHECK_EQ(r.t.config[12], 12);
	config_msg(&r, VHOST_USER_SET_CONFIG, 8, 4, 17, -EINVAL);
	rig_close(&r);
}

static void test_status_and_reset(void)
{
	int kfd;
	struct rig r;

	rig_open(&r);
	kfd = eventfd(0, EFD_CLOEXEC);
	req_u64(&r, VHOST_USER_SET_STATUS, 0xf, -ENOTSUP);
	negotiate(&r, PF(STATUS) | PF(RESET_DEVICE));
	req_u64(&r, VHOST_USER_SET_STATUS, 0xf, 0);
	CHECK_EQ(get_u64(&r, VHOST_USER_GET_STATUS), 0xf);
	req_u64(&r, VHOST_USER_SET_STATUS, 0x100, -EINVAL);
	mem_table(&r);
	setup_ring(&r, 0);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_KICK, 0, kfd), 0);
	state(&r, VHOST_USER_SET_VRING_ENABLE, 0, 1, 0);
	CHECK_EQ(r.t.starts[0], 1);
	req(&r, VHOST_USER_RESET_DEVICE, NULL, 0, 0);
	CHECK_EQ(r.t.stops[0], 1);
	CHECK_EQ(r.t.resets, 1);
	CHECK_EQ(get_u64(&r, VHOST_USER_GET_STATUS), 0);
	CHECK(!r.dev.vqs[0].started);
	close(kfd);
	rig_close(&r);
}

/* GET_INFLIGHT_FD hands out a laid-out memfd; SET maps one back. */
static void test_inflight(void)
{
	struct vhu_inflight in = { .num_queues = NQ, .queue_size = 16 };
	struct vhu_inflight_split_header *h;
	struct vhu_msg m;
	struct rig r;
	uint8_t *p;

	rig_open(&r);
	negotiate(&r, PF(INFLIGHT_SHMFD));
	req(&r, VHOST_USER_GET_INFLIGHT_FD, &in, sizeof(in), 0);
	get_reply(&r, VHOST_USER_GET_INFLIGHT_FD, &m);
	CHECK_EQ(m.nfds, 1);
	CHECK_EQ(m.payload.inflight.mmap_offset, 0);
	CHECK(m.payload.inflight.mmap_size >= NQ * (16 + 16 * 16));
	p = mmap(NULL, m.payload.inflight.mmap_size, PROT_READ, MAP_SHARED,
		 m.fds[0], 0);
	CHECK(p != MAP_FAILED);
	h = (void *)(p + m.payload.inflight.mmap_size / NQ);
	CHECK_EQ(h->version, 1);
	CHECK_EQ(h->desc_num, 16);
	CHECK(r.dev.vqs[1].inflight != NULL);
	munmap(p, m.payload.inflight.mmap_size);
	/* Hand it back, as after a reconnect. */
	CHECK_EQ(xfer(&r, VHOST_USER_SET_INFLIGHT_FD, 0, &m.payload.inflight,
		      sizeof(in), m.fds, 1),
		 0);
	CHECK_EQ(r.dev.last_err, 0);
	in = m.payload.inflight;
	in.mmap_size = 64; /* too small */
	CHECK_EQ(xfer(&r, VHOST_USER_SET_INFLIGHT_FD, 0, &in, sizeof(in), m.fds,
		      1),
		 0);
	CHECK_HAS(vhu_backend_error(&r.dev), "too small");
	in = m.payload.inflight;
	in.mmap_offset = 4096; /* beyond the fd */
	CHECK_EQ(xfer(&r, VHOST_USER_SET_INFLIGHT_FD, 0, &in, sizeof(in), m.fds,
		      1),
		 0);
	CHECK(r.dev.last_err < 0);
	/* A region that could shrink under the backend's mapping. */
	{
		int loose = memfd_create("loose", MFD_CLOEXEC);

		CHECK(loose >= 0 &&
		      ftruncate(loose, (off_t)m.payload.inflight.mmap_size) ==
			      0);
		in = m.payload.inflight;
		CHECK_EQ(xfer(&r, VHOST_USER_SET_INFLIGHT_FD, 0, &in,
			      sizeof(in), &loose, 1),
			 0);
		CHECK_HAS(vhu_backend_error(&r.dev), "F_SEAL_SHRINK");
		close(loose);
	}
	in.num_queues = NQ + 1;
	req(&r, VHOST_USER_GET_INFLIGHT_FD, &in, sizeof(in), -EINVAL);
	in.num_queues = 1;
	in.queue_size = 3;
	req(&r, VHOST_USER_GET_INFLIGHT_FD, &in, sizeof(in), -EINVAL);
	no_reply(&r);
	close(m.fds[0]);
	rig_close(&r);
}

/* A started ring records in the region; the region cannot be swapped
 * under it; a restart with the same region resubmits what was popped and
 * never pushed; a ring larger than the region's queues is refused. */
static void test_inflight_rings(void)
{
	struct vhu_inflight in = { .num_queues = NQ, .queue_size = 16 };
	struct iovec iov[4];
	struct vhu_vring_elem e = { .iov = iov, .iov_max = 4 };
	struct vhu_inflight_split_header *h;
	struct vhu_inflight_desc_split *d;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	uint64_t u = MEM_UVA + ring_off(0);
	struct vhu_backend_vq *vq;
	struct vhu_msg m;
	struct rig r;
	int kfd, ifd;

	rig_open(&r);
	kfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	negotiate(&r, PF(INFLIGHT_SHMFD));
	mem_table(&r);
	req(&r, VHOST_USER_GET_INFLIGHT_FD, &in, sizeof(in), 0);
	get_reply(&r, VHOST_USER_GET_INFLIGHT_FD, &m);
	ifd = m.fds[0];
	in = m.payload.inflight;
	h = mmap(NULL, in.mmap_size, PROT_READ, MAP_SHARED, ifd, 0);
	CHECK(h != MAP_FAILED);
	d = (void *)(h + 1);
	setup_ring(&r, 0);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_KICK, 0, kfd), 0);
	vq = vhu_backend_vq(&r.dev, 0);
	CHECK(vq->started && vq->vring.inflight == vq->inflight);
	CHECK_EQ(xfer(&r, VHOST_USER_SET_INFLIGHT_FD, 0, &in, sizeof(in), &ifd,
		      1),
		 0);
	CHECK_EQ(r.dev.last_err, -EBUSY);
	CHECK_HAS(vhu_backend_error(&r.dev), "ring 0 is started");
	req(&r, VHOST_USER_GET_INFLIGHT_FD, &in, sizeof(in), -EBUSY);
	no_reply(&r);

	desc = (void *)(r.mem + ring_off(0));
	avail = (void *)(r.mem + ring_off(0) + 0x1000);
	desc[5] = (struct virtq_desc){ MEM_GPA + 0x90000, 8, VIRTQ_DESC_F_WRITE,
				       0 };
	avail->ring[0] = 5;
	__atomic_store_n(&avail->idx, 1, __ATOMIC_RELEASE);
	CHECK_EQ(vhu_vring_pop(&vq->vring, &e), 1);
	CHECK_EQ(d[5].inflight, 1);
	CHECK_EQ(d[5].counter, 1);
	state(&r, VHOST_USER_GET_VRING_BASE, 0, 0, 0);
	CHECK_EQ(reply_u64(&r, VHOST_USER_GET_VRING_BASE), 1ull << 32);

	/* Handed back while stopped; the frontend's base 0 is overridden. */
	CHECK_EQ(xfer(&r, VHOST_USER_SET_INFLIGHT_FD, 0, &in, sizeof(in), &ifd,
		      1),
		 0);
	CHECK_EQ(r.dev.last_err, 0);
	setup_ring(&r, 0);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_KICK, 0, kfd), 0);
	CHECK_EQ(vq->vring.resubmit_num, 1);
	CHECK_EQ(vhu_vring_get_base(&vq->vring), 1);
	CHECK_EQ(vhu_vring_pop(&vq->vring, &e), 1);
	CHECK_EQ(e.head, 5);
	CHECK_EQ(vhu_vring_pop(&vq->vring, &e), 0);
	CHECK_EQ(vhu_vring_push(&vq->vring, 5, 8), 0);
	CHECK_EQ(d[5].inflight, 0);
	CHECK_EQ(h->used_idx, 1);
	state(&r, VHOST_USER_GET_VRING_BASE, 0, 0, 0);
	reply_u64(&r, VHOST_USER_GET_VRING_BASE);

	state(&r, VHOST_USER_SET_VRING_NUM, 0, 32, 0);
	addr(&r, 0, u, u + 0x1000, u + 0x2000, 0);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_KICK, 0, kfd), -EINVAL);
	CHECK_HAS(vhu_backend_error(&r.dev), "ring 0 has 32 entries");
	CHECK(!vq->started);
	munmap(h, in.mmap_size);
	close(ifd);
	close(kfd);
	rig_close(&r);
}

/* ADD_MEM_REG / REM_MEM_REG one slot at a time. */
static void test_mem_slots(void)
{
	struct vhu_single_mem_region one = { .region = { MEM_GPA, MEM_SIZE / 2,
							 MEM_UVA, 0 } };
	int kfd;
	struct rig r;

	rig_open(&r);
	kfd = eventfd(0, EFD_CLOEXEC);
	negotiate(&r, PF(CONFIGURE_MEM_SLOTS));
	CHECK_EQ(xfer(&r, VHOST_USER_ADD_MEM_REG, 0, &one, 40, &r.mem_fd, 1),
		 0);
	CHECK_EQ(r.dev.last_err, 0);
	CHECK_EQ(xfer(&r, VHOST_USER_ADD_MEM_REG, 0, &one, 40, &r.mem_fd, 1),
		 0);
	CHECK_HAS(vhu_backend_error(&r.dev), "overlaps");
	req(&r, VHOST_USER_ADD_MEM_REG, &one, 40, -EINVAL); /* no fd */
	one.region =
		(struct vhu_mem_region){ MEM_GPA + MEM_SIZE / 2, MEM_SIZE / 2,
					 MEM_UVA + MEM_SIZE / 2, MEM_SIZE / 2 };
	CHECK_EQ(xfer(&r, VHOST_USER_ADD_MEM_REG, 0, &one, 40, &r.mem_fd, 1),
		 0);
	CHECK_EQ(r.dev.nregions, 2);
	/* A ring in the first region: that one cannot go while started. */
	setup_ring(&r, 0);
	CHECK_EQ(kick(&r, VHOST_USER_SET_VRING_KICK, 0, kfd), 0);
	one.region =
		(struct vhu_mem_region){ MEM_GPA, MEM_SIZE / 2, MEM_UVA, 0 };
	req(&r, VHOST_USER_REM_MEM_REG, &one, 40, -EBUSY);
	state(&r, VHOST_USER_GET_VRING_BASE, 0, 0, 0);
	reply_u64(&r, VHOST_USER_GET_VRING_BASE);
	CHECK_EQ(xfer(&r, VHOST_USER_REM_MEM_REG, 0, &one, 40, &r.mem_fd, 1),
		 0); /* an fd with it is tolerated and closed */
	CHECK_EQ(r.dev.last_err, 0);
	CHECK_EQ(r.dev.nregions, 1);
	req(&r, VHOST_USER_REM_MEM_REG, &one, 40, -ENOENT);
	CHECK(!vhu_backend_gpa_to_va(&r.dev, MEM_GPA, 1));
	CHECK(vhu_backend_gpa_to_va(&r.dev, MEM_GPA + MEM_SIZE / 2, 1));
	close(kfd);
	rig_close(&r);
}

/* The backend channel carries CONFIG_CHANGE_MSG. */
static void test_backend_channel(void)
{
	struct vhu_msg m;
	struct rig r;
	int sv[2];

	rig_open(&r);
	CHECK_EQ(vhu_backend_config_change(&r.dev), -ENOTCONN);
	negotiate(&r, PF(BACKEND_REQ) | PF(REPLY_ACK));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK_EQ(xfer(&r, VHOST_USER_SET_BACKEND_REQ_FD,
		      VHOST_USER_NEED_REPLY_MASK, NULL, 0, &sv[1], 1),
		 0);
	CHECK_EQ(reply_u64(&r, VHOST_USER_SET_BACKEND_REQ_FD), 0);
	close(sv[1]);
	CHECK_EQ(vhu_backend_config_change(&r.dev), 0);
	CHECK_EQ(vhu_msg_recv(sv[0], &m, 500), 0);
	CHECK_EQ(m.hdr.request, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG);
	CHECK_EQ(m.hdr.flags, VHOST_USER_VERSION);
	CHECK_EQ(m.hdr.size, 0);
	close(sv[0]);
	rig_close(&r);
}

static void test_device_state(void)
{
	struct vhu_device_state ds = { 0, 0 };
	int p[2];
	struct rig r;

	rig_open(&r);
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	negotiate(&r, PF(DEVICE_STATE));
	CHECK_EQ(xfer(&r, VHOST_USER_SET_DEVICE_STATE_FD, 0, &ds, 8, &p[1], 1),
		 0);
	CHECK_EQ(reply_u64(&r, VHOST_USER_SET_DEVICE_STATE_FD),
		 VHOST_USER_DEVICE_STATE_NOFD_MASK);
	CHECK(r.t.state_fd >= 0);
	CHECK_EQ(get_u64(&r, VHOST_USER_CHECK_DEVICE_STATE), 0);
	ds.phase = 1;
	CHECK_EQ(xfer(&r, VHOST_USER_SET_DEVICE_STATE_FD, 0, &ds, 8, &p[1], 1),
		 0);
	CHECK_EQ(r.dev.last_err, -EINVAL);
	no_reply(&r);
	close(p[0]);
	close(p[1]);
	rig_close(&r);
}

/* Broken framing ends the session; the peer closing is -ECONNRESET. */
static void test_framing(void)
{
	struct vhu_msg_header h = { VHOST_USER_SET_OWNER, 1, 5000 };
	struct rig r;

	rig_open(&r);
	CHECK(write(r.peer, &h, sizeof(h)) == sizeof(h));
	CHECK_EQ(vhu_backend_dispatch(&r.dev), -EPROTO);
	rig_close(&r);

	rig_open(&r);
	h.size = 8;
	CHECK(write(r.peer, &h, sizeof(h)) == sizeof(h));
	CHECK(write(r.peer, "abc", 3) == 3);
	CHECK_EQ(vhu_backend_dispatch(&r.dev), -ETIMEDOUT);
	shutdown(r.peer, SHUT_WR);
	CHECK_EQ(vhu_backend_dispatch(&r.dev), -ECONNRESET);
	rig_close(&r);
}

static void test_listen(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[64];
	int lfd, c, a, fds = check_count_fds();

	snprintf(path, sizeof(path), "/tmp/vuvm-backend-test-%d.sock",
		 (int)getpid());
	lfd = vhu_backend_listen(path);
	CHECK(lfd >= 0);
	CHECK_EQ(vhu_backend_accept(lfd, 10), -ETIMEDOUT);
	strcpy(sa.sun_path, path);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	a = vhu_backend_accept(lfd, 1000);
	CHECK(a >= 0);
	close(a);
	close(c);
	close(lfd);
	/* A stale socket file is replaced. */
	lfd = vhu_backend_listen(path);
	CHECK(lfd >= 0);
	close(lfd);
	unlink(path);
	CHECK_EQ(vhu_backend_listen("/tmp/"
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				    "aaaaaaaaaaaaaaaaaaaaaaaaa"),
		 -ENAMETOOLONG);
	CHECK_EQ(check_count_fds(), fds);
}

static const struct check_case cases[] = {
	{ "handshake", test_handshake },
	{ "reply_ack", test_reply_ack },
	{ "bad_headers", test_bad_headers },
	{ "every_row_handled", test_every_row_handled },
	{ "bad_fds", test_bad_fds },
	{ "mem_table", test_mem_table },
	{ "rings", test_rings },
	{ "ring_enable", test_ring_enable },
	{ "ring_data", test_ring_data },
	{ "config", test_config },
	{ "status_and_reset", test_status_and_reset },
	{ "inflight", test_inflight },
	{ "inflight_rings", test_inflight_rings },
	{ "mem_slots", test_mem_slots },
	{ "backend_channel", test_backend_channel },
	{ "device_state", test_device_state },
	{ "framing", test_framing },
	{ "listen", test_listen },
};

int main(int argc, char **argv)
{
	log_set_level(LOG_ERR); /* refusals are expected here */
	return CHECK_RUN(cases, argc, argv);
}
