// SPDX-License-Identifier: MIT
/*
 * End to end: vuvm's frontend (vhost/frontend.c) against the backend side
 * (vhost/backend.c) over a real unix socket, the backend in its own thread
 * with its own poll loop, like a reference backend.
 *
 * The main thread plays the VMM: full handshake and device start (features,
 * protocol features, SET_OWNER, memfd memory table, vring
 * num/base/addr/kick/call/enable), then the guest's part: it writes a
 * request into guest memory through its own mapping and kicks. The backend
 * maps the memory itself, pops the chain through its translation, answers
 * the text upper-cased and signals the call fd. Finally GET_VRING_BASE
 * reports how far the backend got.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/check.h"
#include "vhost/backend.h"
#include "vhost/frontend.h"
#include "vhost/log.h"
#include "virtio/virtio_config.h"

#define MEM_SIZE  0x100000ull
#define MEM_GPA	  0x80000000ull
#define QSIZE	  16
#define DESC_OFF  0x1000
#define AVAIL_OFF 0x2000
#define USED_OFF  0x3000
#define REQ_OFF	  0x10000
#define RESP_OFF  0x20000
#define FEATURES                                                           \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
	 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))

static const uint8_t config_space[8] = { 'v', 'u', 'v', 'm', 1, 2, 3, 4 };

/* --- the backend: a tiny "upper-case" device ----------------------------- */

struct upper {
	int listen_fd;
	struct vhu_backend dev;
	int result; /* what the backend thread saw: 0 or -errno */
	unsigned int served;
};

static uint64_t up_features(struct vhu_backend *dev)
{
	return FEATURES;
}

static int up_get_config(struct vhu_backend *dev, uint32_t off, void *buf,
			 uint32_t size)
{
	if (off > sizeof(config_space) || size > sizeof(config_space) - off)
		return -EINVAL;
	memcpy(buf, config_space + off, size);
	return 0;
}

static const struct vhu_backend_ops up_ops = {
	.get_features = up_features,
	.get_config = up_get_config,
};

/* Serves every available chain: out bytes upper-cased into the in part. */
static int serve(struct upper *u, struct vhu_backend_vq *vq)
{
	struct iovec iov[8];
	struct vhu_vring_elem e = { .iov = iov, .iov_max = 8 };
	int r;

	vhu_backend_vq_drain_kick(vq);
	while ((r = vhu_vring_pop(&vq->vring, &e)) == 1) {
		size_t n = 0;

		if (e.out_num != 1 || e.in_num != 1)
			return -EINVAL;
		for (; n < iov[0].iov_len && n < iov[1].iov_len; n++)
			((char *)iov[1].iov_base)[n] =
				(char)toupper(((char *)iov[0].iov_base)[n]);
		r = vhu_vring_push(&vq->vring, e.head, (uint32_t)n);
		if (r)
			return r;
		u->served++;
	}
	if (r < 0)
		return r;
	return vhu_backend_vq_notify(vq) < 0 ? -EIO : 0;
}

static void *backend_thread(void *arg)
{
	struct upper *u = arg;
	int sock = vhu_backend_accept(u->listen_fd, 5000), r = 0;

	if (sock < 0 ||
	    vhu_backend_init(&u->dev, sock, 1, 256, &up_ops, u) != 0) {
		u->result = sock < 0 ? sock : -EINVAL;
		return NULL;
	}
	while (!r) {
		struct vhu_backend_vq *vq = vhu_backend_vq(&u->dev, 0);
		struct pollfd p[2] = { { u->dev.sock, POLLIN, 0 },
				       { vq->running ? vq->kick_fd : -1, POLLIN,
					 0 } };

		if (poll(p, 2, (int)check_ms(5000)) <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (p[1].revents & POLLIN)
			r = serve(u, vq);
		if (!r && (p[0].revents & (POLLIN | POLLHUP)))
			r = vhu_backend_dispatch(&u->dev);
	}
	u->result = r == -ECONNRESET ? 0 : r;
	vhu_backend_cleanup(&u->dev);
	return NULL;
}

/* --- the frontend: the VMM and the guest --------------------------------- */

struct vmm {
	struct vhu_frontend fe;
	int mem_fd;
	uint8_t *mem;
	int kick, call;
};

static uint64_t uva(struct vmm *v, uint64_t off)
{
	return (uint64_t)(uintptr_t)v->mem + off;
}

static void start_device(struct vmm *v, const char *path)
{
	uint64_t want = (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
			(1ull << VHOST_USER_PROTOCOL_F_MQ) |
			(1ull << VHOST_USER_PROTOCOL_F_CONFIG) |
			(1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);
	struct vhu_region reg = { MEM_GPA, MEM_SIZE, uva(v, 0), 0, v->mem_fd };
	struct vhu_vring_addr a = {
		0, 0, uva(v, DESC_OFF), uva(v, USED_OFF), uva(v, AVAIL_OFF), 0
	};
	uint8_t cfg[8];

	CHECK_EQ(vhu_connect(&v->fe, path, 5000), 0);
	CHECK_EQ(vhu_negotiate(&v->fe, want), 0);
	CHECK_EQ(v->fe.acked_protocol_features, want);
	CHECK_EQ(v->fe.queue_num, 1);
	CHECK_EQ(v->fe.max_mem_slots, VHU_BACKEND_MAX_MEM_SLOTS);
	CHECK_EQ(vhu_get_config(&v->fe, 0, 8, 0, cfg), 0);
	CHECK(!memcmp(cfg, config_space, 8));
	CHECK_EQ(vhu_set_features(
			 &v->fe,
			 FEATURES | VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)),
		 0);
	CHECK_EQ(vhu_set_mem_table(&v->fe, &reg, 1), 0);
	CHECK_EQ(vhu_set_vring_num(&v->fe, 0, QSIZE), 0);
	CHECK_EQ(vhu_set_vring_base(&v->fe, 0, 0), 0);
	CHECK_EQ(vhu_set_vring_addr(&v->fe, &a), 0);
	CHECK_EQ(vhu_set_vring_kick(&v->fe, 0, v->kick), 0);
	CHECK_EQ(vhu_set_vring_call(&v->fe, 0, v->call), 0);
	CHECK_EQ(vhu_set_vring_enable(&v->fe, 0, true), 0);
}

/* The guest: one request chain, a kick, a wait for the interrupt. */
static void guest_request(struct vmm *v, uint16_t n, const char *text)
{
	struct virtq_desc *desc = (void *)(v->mem + DESC_OFF);
	struct virtq_avail *avail = (void *)(v->mem + AVAIL_OFF);
	struct virtq_used *used = (void *)(v->mem + USED_OFF);
	struct pollfd p = { v->call, POLLIN, 0 };
	size_t len = strlen(text) + 1;
	uint16_t head = (uint16_t)(2 * (n % (QSIZE / 2)));
	uint64_t one = 1;

	strcpy((char *)v->mem + REQ_OFF, text);
	memset(v->mem + RESP_OFF, 0, 256);
	desc[head] =
		(struct virtq_desc){ MEM_GPA + REQ_OFF, (uint32_t)len,
				     VIRTQ_DESC_F_NEXT, (uint16_t)(head + 1) };
	desc[head + 1] = (struct virtq_desc){ MEM_GPA + RESP_OFF, 256,
					      VIRTQ_DESC_F_WRITE, 0 };
	avail->ring[avail->idx % QSIZE] = head;
	*virtq_used_event(avail, QSIZE) = n; /* interrupt for this one */
	__atomic_store_n(&avail->idx, (uint16_t)(n + 1), __ATOMIC_RELEASE);
	CHECK(write(v->kick, &one, 8) == 8);
	CHECK_EQ(poll(&p, 1, (int)check_ms(5000)), 1);
	CHECK(read(v->call, &one, 8) == 8);
	CHECK_EQ(__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE), n + 1);
	CHECK_EQ(used->ring[n % QSIZE].id, head);
	CHECK_EQ(used->ring[n % QSIZE].len, len);
	for (size_t i = 0; i < len; i++)
		CHECK_EQ(v->mem[RESP_OFF + i], toupper((unsigned char)text[i]));
}

static void test_e2e(void)
{
	struct upper u = { .listen_fd = -1 };
	char path[64];
	struct vmm v;
	pthread_t th;
	uint32_t base;

	snprintf(path, sizeof(path), "/tmp/vuvm-e2e-%d.sock", (int)getpid());
	u.listen_fd = vhu_backend_listen(path);
	REQUIRE(u.listen_fd >= 0);
	REQUIRE(pthread_create(&th, NULL, backend_thread, &u) == 0);
	v.mem_fd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	REQUIRE(v.mem_fd >= 0 && ftruncate(v.mem_fd, MEM_SIZE) == 0);
	v.mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		     v.mem_fd, 0);
	REQUIRE(v.mem != MAP_FAILED);
	v.kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v.call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	start_device(&v, path);
	guest_request(&v, 0, "hello from the frontend");
	guest_request(&v, 1, "second request, same ring");
	guest_request(&v, 2, "and a third");
	CHECK_EQ(vhu_get_vring_base(&v.fe, 0, &base), 0);
	CHECK_EQ(base, 3);
	vhu_frontend_close(&v.fe);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK_EQ(u.result, 0);
	CHECK_EQ(u.served, 3);
	close(u.listen_fd);
	unlink(path);
	close(v.kick);
	close(v.call);
	close(v.mem_fd);
	munmap(v.mem, MEM_SIZE);
}

static const struct check_case cases[] = {
	{ "e2e", test_e2e },
};

int main(int argc, char **argv)
{
	log_set_program("e2e_frontend_backend");
	return CHECK_RUN(cases, argc, argv);
}
