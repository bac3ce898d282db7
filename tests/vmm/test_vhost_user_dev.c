// SPDX-License-Identifier: MIT
/*
 * The vhost-user device (vmm/vhost_user_dev.c) against the reference
 * backend running as a real process: what the transport is offered, the
 * config space it reads, the start sequence (the backend must accept the
 * memory table and rings, and refuse nothing), ring addresses outside RAM,
 * reset, the config vuvm supplies for a net backend without CONFIG,
 * reconnecting to a restarted backend, suspend/resume and device state,
 * every state the device can be in (link, active, suspended) with what
 * vudev_describe() prints for it, the net control queue vuvm adds, and
 * the check port's memory steps (with a fake KVM).
 *
 * Usage: test_vhost_user_dev PATH-TO-vuvm-backend
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/check.h"
#include "vhost/backend.h"
#include "vhost/clock.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_ring.h"
#include "virtio/virtio_ring_packed.h"
#include "vmm/vhost_user_dev.h"

static const char *backend_bin;
static char sock_path[64];

/* Starts vuvm-backend with @args (NULL-terminated, after the type). */
static pid_t start_backend(const char *type, const char *const *args)
{
	const char *argv[16] = { backend_bin, type, "--socket-path",
				 sock_path };
	unsigned int n = 4;
	pid_t pid;

	snprintf(sock_path, sizeof(sock_path), "/tmp/vuvm-vudev-%d.sock",
		 getpid());
	unlink(sock_path);
	while (args && *args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		execv(backend_bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void stop_backend(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	unlink(sock_path);
}

/* The device keeps a pointer to its config: one open device at a time. */
static struct vudev_config dev_cfg;

static int open_dev(struct vudev *d, const char *spec, struct mem_table *mem)
{
	char text[128];
	const char *why = "";

	snprintf(text, sizeof(text), "%s,socket=%s", spec, sock_path);
	CHECK(vudev_parse(text, &dev_cfg, &why) == 0);
	return vudev_open(d, &dev_cfg, mem, 0, 3000, false);
}

static void test_parse(void)
{
	struct vudev_config cfg;
	const char *why = "";

	CHECK(vudev_parse("blk,socket=/x,queues=4,queue-size=128", &cfg,
			  &why) == 0);
	CHECK(cfg.device_id == VIRTIO_ID_BLOCK && cfg.queues == 4);
	CHECK(cfg.queue_size == 128 && strcmp(cfg.socket, "/x") == 0);
	CHECK(cfg.config_size == 60 && cfg.connect_timeout_ms == 5000);
	CHECK(vudev_parse("42,socket=/y,config-size=16,connect-timeout=0.25",
			  &cfg, &why) == 0);
	CHECK(cfg.device_id == 42 && cfg.config_size == 16);
	CHECK(cfg.connect_timeout_ms == 250 && cfg.queues == 1);
	CHECK(cfg.reply_timeout_ms == 5000 && cfg.reconnect_ms == -1);
	CHECK(vudev_parse("blk,socket=/x,reply-timeout=0.2,reconnect=30", &cfg,
			  &why) == 0);
	CHECK(cfg.reply_timeout_ms == 200 && cfg.reconnect_ms == 30000);
	CHECK(vudev_parse("blk,socket=/x,reconnect=0", &cfg, &why) == 0);
	CHECK(cfg.reconnect_ms == 0);
	CHECK(vudev_parse("blk,socket=/x,reply-timeout=0", &cfg, &why) ==
	      -EINVAL);
	CHECK(strstr(why, "reply-timeout") != NULL);
	CHECK(vudev_parse("blk,socket=/x,reconnect=-1", &cfg, &why) == -EINVAL);
	CHECK(strstr(why, "reconnect must be") != NULL);
	CHECK(vudev_parse("blk", &cfg, &why) == -EINVAL);
	CHECK(strstr(why, "socket=PATH") != NULL);
	CHECK(vudev_parse("disk,socket=/x", &cfg, &why) == -EINVAL);
	CHECK(vudev_parse("blk,socket=/x,queue-size=100", &cfg, &why) ==
	      -EINVAL);
	CHECK(vudev_parse("blk,socket=/x,queues=65", &cfg, &why) == -EINVAL);
	CHECK(vudev_parse("blk,socket=/x,config-size=257", &cfg, &why) ==
	      -EINVAL);
	CHECK(vudev_parse("blk,socket=/x,colour=red", &cfg, &why) == -EINVAL);
	CHECK(strstr(why, "unknown option") != NULL);
	CHECK(vudev_parse("blk,socket=/x,queues", &cfg, &why) == -EINVAL);
	CHECK(vudev_parse("0,socket=/x", &cfg, &why) == -EINVAL);
	/* Feature knobs: on by default, off hides the bit. */
	CHECK(vudev_parse("net,socket=/x", &cfg, &why) == 0);
	CHECK(cfg.features_off == 0);
	CHECK(vudev_parse("net,socket=/x,ring-packed=off,in-order=off", &cfg,
			  &why) == 0);
	CHECK(cfg.features_off == (VIRTIO_BIT(VIRTIO_F_RING_PACKED) |
				   VIRTIO_BIT(VIRTIO_F_IN_ORDER)));
	CHECK(vudev_parse("net,socket=/x,in-order=off,in-order=on", &cfg,
			  &why) == 0);
	CHECK(cfg.features_off == 0);
	CHECK(vudev_parse("net,socket=/x,ring-packed=no", &cfg, &why) ==
	      -EINVAL);
	CHECK(strstr(why, "ring-packed and in-order must be on or off") !=
	      NULL);
}

/* A queue whose rings lie at @gpa in RAM, with fresh eventfds. */
static struct vdev_queue make_queue(unsigned int index, uint64_t gpa)
{
	return (struct vdev_queue){
		.index = index,
		.size = 64,
		.desc_gpa = gpa,
		.driver_gpa = gpa + 0x1000,
		.device_gpa = gpa + 0x2000,
		.kick_fd = eventfd(0, EFD_CLOEXEC),
		.call_fd = eventfd(0, EFD_CLOEXEC),
	};
}

static void close_queue(struct vdev_queue *q)
{
	close(q->kick_fd);
	close(q->call_fd);
}

static void test_blk(struct mem_table *mem)
{
	const char *const args[] = { "--size", "8M", NULL };
	pid_t pid = start_backend("blk", args);
	struct virtio_blk_config cfg;
	struct vdev_queue q = make_queue(0, 0x200000);
	struct vudev d;
	uint64_t features, acked;

	CHECK(open_dev(&d, "blk", mem) == 0);
	features = d.vdev.ops->features(d.vdev.opaque);
	CHECK(features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	CHECK(!(features & VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)));
	CHECK(d.vdev.ops->config_read(d.vdev.opaque, 0, &cfg, 60) == 0);
	CHECK(cfg.capacity == (8 << 20) / 512);
	CHECK(d.chan_fd >= 0);

	/* the backend accepts the whole start sequence */
	acked = VIRTIO_BIT(VIRTIO_F_VERSION_1);
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == 0);
	CHECK(d.nr_started == 1);
	/* the ring error fd: said once per signal */
	CHECK(vudev_ring_error(&d) == 0);
	CHECK(write(d.err_fd, &(uint64_t){ 1 }, 8) == 8);
	CHECK(vudev_ring_error(&d) == 1 && vudev_ring_error(&d) == 0);
	CHECK(d.fe.acked_features ==
	      (acked | VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES)));
	d.vdev.ops->reset(d.vdev.opaque);
	CHECK(d.nr_started == 0 && d.base[0] == 0 && !d.active);
	CHECK(!d.fe.broken);

	/* rings that leave RAM are refused before anything reaches them */
	close_queue(&q);
	q = make_queue(0, mem->regions[0].size - 0x1000);
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == -EFAULT);
	close_queue(&q);
	vudev_close(&d);
	stop_backend(pid);
}

static void test_net_local_config(struct mem_table *mem)
{
	const char *const args[] = { "--queues", "2", "--no-feature", "config",
				     NULL };
	pid_t pid = start_backend("net", args);
	struct virtio_net_config cfg;
	struct vudev d;

	CHECK(open_dev(&d, "net,queues=4", mem) == 0);
	CHECK(!d.have_config);
	CHECK(d.vdev.ops->config_read(d.vdev.opaque, 0, &cfg, 12) == 0);
	CHECK(cfg.mac[0] == 0x52 && cfg.mac[5] == 0x56);
	CHECK(cfg.status == VIRTIO_NET_S_LINK_UP);
	CHECK(cfg.max_virtqueue_pairs == 2);
	vudev_close(&d);
	stop_backend(pid);
}

static void test_queue_count(struct mem_table *mem)
{
	pid_t pid = start_backend("blk", NULL);
	struct vudev d;

	CHECK(open_dev(&d, "blk,queues=2", mem) == -EINVAL);
	stop_backend(pid);
}

/*
 * The backend channel, with an in-process backend (the library's backend
 * side) because the reference backend never changes its config: the
 * backend sends CONFIG_CHANGE_MSG, vuvm's device must re-read the config
 * and say "changed" so the transport raises the interrupt.
 */
struct chan_backend {
	struct vhu_backend dev;
	int listen_fd;
	uint8_t capacity_byte;
	bool served_config;
	bool changed;
};

static uint64_t cb_features(struct vhu_backend *dev)
{
	return VIRTIO_BIT(VIRTIO_F_VERSION_1);
}

static int cb_get_config(struct vhu_backend *dev, uint32_t offset, void *buf,
			 uint32_t size)
{
	struct chan_backend *b = dev->opaque;

	memset(buf, 0, size);
	b->served_config = true;
	if (offset == 0 && size)
		((uint8_t *)buf)[0] = b->capacity_byte;
	return 0;
}

static const struct vhu_backend_ops cb_ops = {
	.get_features = cb_features,
	.get_config = cb_get_config,
};

/* Serves the frontend; once it has answered the first GET_CONFIG (the
 * last message of vudev_open) it changes the config and announces it. */
static void *chan_backend_run(void *opaque)
{
	struct chan_backend *b = opaque;
	int sock = vhu_backend_accept(b->listen_fd, 3000);

	if (sock < 0 || vhu_backend_init(&b->dev, sock, 1, 256, &cb_ops, b))
		return NULL;
	while (vhu_backend_dispatch(&b->dev) >= 0) {
		if (b->served_config && !b->changed) {
			b->changed = true;
			b->capacity_byte = 0x42;
			CHECK(vhu_backend_config_change(&b->dev) == 0);
		}
	}
	vhu_backend_cleanup(&b->dev);
	return NULL;
}

static void test_config_change(struct mem_table *mem)
{
	struct chan_backend b = { .capacity_byte = 0x11 };
	struct vudev d;
	pthread_t t;

	snprintf(sock_path, sizeof(sock_path), "/tmp/vuvm-vudev-%d.sock",
		 getpid());
	b.listen_fd = vhu_backend_listen(sock_path);
	REQUIRE(b.listen_fd >= 0);
	REQUIRE(pthread_create(&t, NULL, chan_backend_run, &b) == 0);
	CHECK(open_dev(&d, "blk", mem) == 0);
	CHECK(d.chan_fd >= 0);
	CHECK(d.config[0] == 0x11); /* what GET_CONFIG at open saw */
	CHECK(vudev_handle_channel(&d) == 1);
	CHECK(d.config[0] == 0x42);
	vudev_close(&d);
	pthread_join(t, NULL);
	close(b.listen_fd);
	unlink(sock_path);
}

static bool all_zero64(const uint8_t *p)
{
	for (unsigned int i = 0; i < 64; i++)
		if (p[i])
			return false;
	return true;
}

static uint16_t *ring_index(struct mem_table *mem, uint64_t ring_gpa)
{
	return mem_gpa_to_host(mem, ring_gpa + 2, 2);
}

/* The eventfd's count, 0 when nothing was signalled (never blocks). */
static uint64_t read_eventfd(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	uint64_t n = 0;

	if (poll(&p, 1, 0) != 1 || read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* Kills the backend the way a crash does and tells the device. */
static void crash_backend(struct vudev *d, pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	vudev_lost(d);
}

/* Reconnects once the new backend listens (up to 3 s): retries only
 * while connect() fails, since the backend serves one frontend. */
static int reconnect_soon(struct vudev *d, char *why, size_t len)
{
	int r = vudev_reconnect(d, 3000, why, len);

	for (long i = 0; i < check_ms(3000) / 20 && r < 0 &&
			 strncmp(why, "connect", 7) == 0;
	     i++) {
		usleep(20000);
		r = vudev_reconnect(d, 3000, why, len);
	}
	return r;
}

static void test_reconnect(struct mem_table *mem)
{
	const char *const args[] = { "--size", "8M", NULL };
	const char *const no_flush[] = { "--size", "8M", "--no-feature",
					 "flush", NULL };
	struct vdev_queue q = make_queue(0, 0x200000);
	uint64_t acked =
		VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
	pid_t pid = start_backend("blk", args);
	char why[300] = "";
	struct vudev d;

	CHECK(open_dev(&d, "blk,reconnect=5", mem) == 0);
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == 0);
	CHECK(d.nr_started == 1 && d.link == VUDEV_CONNECTED);
	CHECK(d.inflight_fd >= 0); /* the blk backend offers INFLIGHT_SHMFD */

	/* The driver had 7 requests completed when the backend died: the
	 * ring restarts there, since GET_VRING_BASE cannot be asked. */
	*ring_index(mem, q.driver_gpa) = 7;
	*ring_index(mem, q.device_gpa) = 7;
	read_eventfd(q.kick_fd);
	crash_backend(&d, pid);
	CHECK(d.link == VUDEV_LOST && d.nr_started == 0 && d.base[0] == 7);
	CHECK(vudev_reconnect(&d, 3000, why, sizeof(why)) < 0);
	CHECK(strstr(why, "connect") != NULL);

	pid = start_backend("blk", args);
	CHECK(reconnect_soon(&d, why, sizeof(why)) == 0);
	CHECK(d.link == VUDEV_CONNECTED && d.nr_started == 1 &&
	      d.reconnects == 1);
	CHECK(d.inflight_fd >= 0);
	/* The driver was told to look at the ring again (the kick that
	 * wakes the backend is the backend's to consume: not checked). */
	CHECK(read_eventfd(q.call_fd) >= 1);

	/* A backend without a feature the driver uses cannot take over. */
	crash_backend(&d, pid);
	pid = start_backend("blk", no_flush);
	CHECK(reconnect_soon(&d, why, sizeof(why)) == -ENOTSUP);
	CHECK(strstr(why, "no longer offers feature bits 0x200") != NULL);
	CHECK(d.link == VUDEV_LOST && d.nr_started == 0);

	/* Given up on: the device refuses to start again. */
	vudev_give_up(&d);
	d.vdev.ops->reset(d.vdev.opaque);
	CHECK(d.inflight_fd < 0);
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == -ENOTCONN);
	close_queue(&q);
	vudev_close(&d);
	stop_backend(pid);
}

/* A reconnect attempt to a backend that accepts and never answers ends
 * within its budget, not the 5 s reply timeout. */
static void test_reconnect_budget(struct mem_table *mem)
{
	const char *const args[] = { "--size", "8M", NULL };
	pid_t pid = start_backend("blk", args);
	char why[300] = "";
	struct vudev d;
	int64_t t0;
	int lfd;

	CHECK(open_dev(&d, "blk,reconnect=5", mem) == 0);
	crash_backend(&d, pid);
	lfd = vhu_backend_listen(sock_path); /* listens, never accepts */
	CHECK(lfd >= 0);
	t0 = now_ms();
	CHECK(vudev_reconnect(&d, 200, why, sizeof(why)) == -ETIMEDOUT);
	CHECK(now_ms() - t0 < check_ms(2000));
	CHECK(strstr(why, "no reply within 200 ms") != NULL);
	CHECK(d.link == VUDEV_LOST && d.fe.sock < 0);
	close(lfd);
	unlink(sock_path);
	vudev_close(&d);
}

static void test_suspend_resume(struct mem_table *mem)
{
	const char *const args[] = { "--size", "8M", NULL };
	struct vdev_queue q = make_queue(0, 0x200000);
	uint64_t acked = VIRTIO_BIT(VIRTIO_F_VERSION_1);
	uint16_t *used = ring_index(mem, q.device_gpa);
	pid_t pid = start_backend("blk", args);
	char msg[300];
	struct vudev d;

	*ring_index(mem, q.driver_gpa) = 0;
	*used = 0;
	CHECK(open_dev(&d, "blk", mem) == 0);
	CHECK(vudev_resume(&d, msg, sizeof(msg)) == -EINVAL);
	CHECK(strstr(msg, "blk0 is not suspended") != NULL);
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == 0);

	CHECK(vudev_suspend(&d, msg, sizeof(msg)) == 0);
	CHECK(strstr(msg, "blk0 suspended; queue 0: base 0 used 0") != NULL);
	CHECK(d.suspended && d.nr_started == 0);
	CHECK(vudev_suspend(&d, msg, sizeof(msg)) == -EALREADY);

	/* A clean resume restarts the ring and says nothing moved. */
	CHECK(vudev_resume(&d, msg, sizeof(msg)) == 0);
	CHECK(strcmp(msg, "blk0 resumed") == 0);
	CHECK(!d.suspended && d.nr_started == 1);

	/* A used index that moves while suspended is reported. */
	CHECK(vudev_suspend(&d, msg, sizeof(msg)) == 0);
	*used = 1;
	CHECK(vudev_resume(&d, msg, sizeof(msg)) == 0);
	CHECK(strstr(msg, "queue 0: used index moved 0 -> 1 while "
			  "suspended") != NULL);
	*used = 0;

	/* A guest reset while suspended: the activation waits for resume,
	 * and the new rings (another used index) are not mistaken for the
	 * old ones having moved. */
	*ring_index(mem, q.driver_gpa) = 3;
	*used = 3;
	CHECK(vudev_suspend(&d, msg, sizeof(msg)) == 0);
	d.vdev.ops->reset(d.vdev.opaque);
	*ring_index(mem, q.driver_gpa) = 0;
	*used = 0;
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == 0);
	CHECK(d.nr_started == 0);
	CHECK(vudev_resume(&d, msg, sizeof(msg)) == 0 && d.nr_started == 1);
	CHECK(strcmp(msg, "blk0 resumed") == 0);
	d.vdev.ops->reset(d.vdev.opaque);
	close_queue(&q);
	vudev_close(&d);
	stop_backend(pid);
}

/* Device state: saved from one backend process, loaded into a fresh one
 * after a crash, refused when running, when garbled, or without the
 * feature. */
static void test_device_state(struct mem_table *mem)
{
	const char *const args[] = { "--size", "8M", NULL };
	struct vdev_queue q = make_queue(0, 0x200000);
	uint64_t acked = VIRTIO_BIT(VIRTIO_F_VERSION_1);
	pid_t pid = start_backend("blk", args);
	int state = memfd_create("state", MFD_CLOEXEC);
	int junk = memfd_create("junk", MFD_CLOEXEC);
	char msg[300];
	struct vudev d;

	*ring_index(mem, q.driver_gpa) = 0;
	*ring_index(mem, q.device_gpa) = 0;
	CHECK(state >= 0 && junk >= 0);
	CHECK(write(junk, "not a device state", 18) == 18);
	CHECK(open_dev(&d, "blk,reconnect=5,reply-timeout=3", mem) == 0);
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == 0);
	CHECK(vudev_save_state(&d, state, msg, sizeof(msg)) == -EBUSY);
	CHECK(strstr(msg, "blk0 is running: suspend it first") != NULL);

	CHECK(vudev_suspend(&d, msg, sizeof(msg)) == 0);
	CHECK(vudev_save_state(&d, state, msg, sizeof(msg)) == 0);
	CHECK(strstr(msg, "blk0: saved") != NULL);
	CHECK(lseek(state, 0, SEEK_END) > 0);

	crash_backend(&d, pid);
	CHECK(vudev_load_state(&d, state, msg, sizeof(msg)) == -ENOTCONN);
	pid = start_backend("blk", args);
	CHECK(reconnect_soon(&d, msg, sizeof(msg)) == 0);
	CHECK(d.nr_started == 0); /* still suspended */
	CHECK(lseek(junk, 0, SEEK_SET) == 0);
	CHECK(vudev_load_state(&d, junk, msg, sizeof(msg)) < 0);
	CHECK(strstr(msg, "CHECK_DEVICE_STATE") != NULL);
	CHECK(lseek(state, 0, SEEK_SET) == 0);
	CHECK(vudev_load_state(&d, state, msg, sizeof(msg)) == 0);
	CHECK(strstr(msg, "blk0: loaded") != NULL);
	CHECK(vudev_resume(&d, msg, sizeof(msg)) == 0 && d.nr_started == 1);
	d.vdev.ops->reset(d.vdev.opaque);
	close_queue(&q);
	vudev_close(&d);
	stop_backend(pid);

	/* rng offers no DEVICE_STATE */
	pid = start_backend("rng", NULL);
	CHECK(open_dev(&d, "rng", mem) == 0);
	CHECK(vudev_save_state(&d, state, msg, sizeof(msg)) == -ENOTSUP);
	CHECK(strstr(msg, "does not offer DEVICE_STATE") != NULL);
	vudev_close(&d);
	stop_backend(pid);
	close(state);
	close(junk);
}

/* The line vudev_describe() prints, compared whole. */
static bool describes(struct vudev *d, const char *want)
{
	char line[256];

	vudev_describe(d, line, sizeof(line));
	if (strcmp(line, want) == 0)
		return true;
	fprintf(stderr, "describe: '%s', wanted '%s'\n", line, want);
	return false;
}

/*
 * The device's state (vhost_user_dev.h): the link, the driver's active
 * and the operator's suspended through every move that makes them, what
 * vudev_describe() prints in each, and the moves that are refused.
 */
static void test_states(struct mem_table *mem)
{
	const char *const args[] = { "--size", "8M", NULL };
	struct vdev_queue q = make_queue(0, 0x200000);
	uint64_t acked = VIRTIO_BIT(VIRTIO_F_VERSION_1);
	pid_t pid = start_backend("blk", args);
	char why[300] = "", msg[300];
	struct vudev d;

	*ring_index(mem, q.driver_gpa) = 0;
	*ring_index(mem, q.device_gpa) = 0;
	CHECK(open_dev(&d, "blk,reconnect=5", mem) == 0);
	CHECK(d.link == VUDEV_CONNECTED && !d.active && !d.suspended);
	CHECK(vudev_is_connected(&d));
	CHECK(describes(&d, "blk0 connected idle reconnects=0"));

	/* DRIVER_OK: idle -> active, the rings run; twice is refused */
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == 0);
	CHECK(d.active && d.nr_started == 1);
	CHECK(describes(&d, "blk0 connected running reconnects=0 "
			    "q0=avail:0,used:0"));
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == -EBUSY);
	CHECK(d.active && d.nr_started == 1);

	/* suspend, resume, reset */
	CHECK(vudev_suspend(&d, msg, sizeof(msg)) == 0);
	CHECK(d.suspended && d.active && d.nr_started == 0);
	CHECK(describes(&d, "blk0 connected suspended reconnects=0 "
			    "q0=avail:0,used:0"));
	CHECK(vudev_resume(&d, msg, sizeof(msg)) == 0);
	CHECK(!d.suspended && d.nr_started == 1);
	d.vdev.ops->reset(d.vdev.opaque);
	CHECK(!d.active && d.nr_started == 0 && d.link == VUDEV_CONNECTED);
	CHECK(describes(&d, "blk0 connected idle reconnects=0"));

	/* suspended before DRIVER_OK: active, started on resume */
	CHECK(vudev_suspend(&d, msg, sizeof(msg)) == 0);
	CHECK(strstr(msg, "(the driver has not started it)") != NULL);
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == 0);
	CHECK(d.active && d.suspended && d.nr_started == 0);
	CHECK(vudev_resume(&d, msg, sizeof(msg)) == 0 && d.nr_started == 1);

	/* lost: the rings wait; the driver may reset and restart meanwhile */
	crash_backend(&d, pid);
	CHECK(d.link == VUDEV_LOST && !vudev_is_connected(&d));
	CHECK(d.active && d.nr_started == 0);
	CHECK(describes(&d, "blk0 reconnecting waiting reconnects=0 "
			    "q0=avail:0,used:0"));
	d.vdev.ops->reset(d.vdev.opaque);
	CHECK(describes(&d, "blk0 reconnecting idle reconnects=0"));
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == 0);
	CHECK(d.active && d.nr_started == 0);

	/* back: LOST -> CONNECTED, running again */
	pid = start_backend("blk", args);
	CHECK(reconnect_soon(&d, why, sizeof(why)) == 0);
	CHECK(d.link == VUDEV_CONNECTED && d.nr_started == 1);
	CHECK(describes(&d, "blk0 connected running reconnects=1 "
			    "q0=avail:0,used:0"));

	/* moves the link table lacks change nothing */
	CHECK(vudev_reconnect(&d, 1000, why, sizeof(why)) == -EINVAL);
	CHECK(strcmp(why, "the link is connected, not lost") == 0);
	vudev_give_up(&d);
	CHECK(d.link == VUDEV_CONNECTED && d.nr_started == 1);

	/* lost while suspended: reconnected, started only on resume */
	CHECK(vudev_suspend(&d, msg, sizeof(msg)) == 0);
	crash_backend(&d, pid);
	CHECK(describes(&d, "blk0 reconnecting suspended reconnects=1 "
			    "q0=avail:0,used:0"));
	CHECK(vudev_resume(&d, msg, sizeof(msg)) == 0);
	CHECK(strstr(msg, "the backend is away") != NULL);
	CHECK(!d.suspended && d.nr_started == 0);
	CHECK(vudev_suspend(&d, msg, sizeof(msg)) == 0);
	pid = start_backend("blk", args);
	CHECK(reconnect_soon(&d, why, sizeof(why)) == 0);
	CHECK(d.link == VUDEV_CONNECTED && d.nr_started == 0);
	CHECK(describes(&d, "blk0 connected suspended reconnects=2 "
			    "q0=avail:0,used:0"));
	CHECK(vudev_resume(&d, msg, sizeof(msg)) == 0 && d.nr_started == 1);

	/* gone for good: LOST -> FAILED, nothing starts or reconnects */
	crash_backend(&d, pid);
	vudev_give_up(&d);
	CHECK(d.link == VUDEV_FAILED && d.active);
	CHECK(describes(&d, "blk0 failed waiting reconnects=2 "
			    "q0=avail:0,used:0"));
	CHECK(vudev_reconnect(&d, 1000, why, sizeof(why)) == -EINVAL);
	CHECK(strcmp(why, "the link is failed, not lost") == 0);
	vudev_lost(&d); /* nothing to lose */
	CHECK(d.link == VUDEV_FAILED);
	d.vdev.ops->reset(d.vdev.opaque);
	CHECK(describes(&d, "blk0 failed idle reconnects=2"));
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == -ENOTCONN);
	CHECK(!d.active && d.nr_started == 0);
	vudev_close(&d);
	CHECK(d.link == VUDEV_CLOSED);
	close_queue(&q);
	unlink(sock_path);
}

/* Sends VQ_PAIRS_SET @pairs on the control queue @q (rings in RAM at
 * q->desc_gpa) as a driver would; the ack byte, or -1 without one. */
/* Packed: makes one 64-byte writable buffer (id @id) available at @slot
 * (first lap), kicks, and waits for the rng backend to use it there. */
static bool packed_rng_round(struct mem_table *mem, struct vdev_queue *q,
			     uint16_t slot, uint16_t id)
{
	struct virtq_packed_desc *ring =
		mem_gpa_to_host(mem, q->desc_gpa, virtq_packed_desc_size(64));
	uint8_t *buf = mem_gpa_to_host(mem, 0x300000, 64);
	uint64_t one = 1;

	memset(buf, 0, 64);
	ring[slot] = (struct virtq_packed_desc){ 0x300000, 64, id, 0 };
	__atomic_store_n(&ring[slot].flags,
			 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_AVAIL,
			 __ATOMIC_RELEASE);
	CHECK(write(q->kick_fd, &one, sizeof(one)) == sizeof(one));
	for (long i = 0; i < check_ms(3000); i++) {
		uint16_t f =
			__atomic_load_n(&ring[slot].flags, __ATOMIC_ACQUIRE);

		if ((f & VIRTQ_DESC_F_USED) && (f & VIRTQ_DESC_F_AVAIL))
			return ring[slot].id == id && ring[slot].len == 64 &&
			       !all_zero64(buf);
		usleep(1000);
	}
	return false;
}

/* A packed ring end to end through the device: the transport's features
 * carry RING_PACKED (and ring-packed=off hides it), the start sends the
 * packed base and driver/device areas, the backend serves the ring, and
 * suspend/resume move the 32-bit position (GET_VRING_BASE's answer comes
 * back in SET_VRING_BASE), as status and the suspend message show. */
static void test_packed(struct mem_table *mem)
{
	struct vdev_queue q = make_queue(0, 0x200000);
	uint64_t acked = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			 VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	pid_t pid = start_backend("rng", NULL);
	char msg[300];
	struct vudev d;

	memset(mem_gpa_to_host(mem, 0x200000, 0x3000), 0, 0x3000);
	CHECK(open_dev(&d, "rng,ring-packed=off", mem) == 0);
	CHECK(!(d.vdev.ops->features(d.vdev.opaque) &
		VIRTIO_BIT(VIRTIO_F_RING_PACKED)));
	CHECK(d.vdev.ops->features(d.vdev.opaque) &
	      VIRTIO_BIT(VIRTIO_F_IN_ORDER));
	vudev_close(&d);
	stop_backend(pid);

	pid = start_backend("rng", NULL);
	CHECK(open_dev(&d, "rng", mem) == 0);
	CHECK(d.vdev.ops->features(d.vdev.opaque) &
	      VIRTIO_BIT(VIRTIO_F_RING_PACKED));
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == 0);
	CHECK(d.nr_started == 1);
	CHECK(d.base[0] == 0x80008000u);
	CHECK(packed_rng_round(mem, &q, 0, 5));
	CHECK(vudev_suspend(&d, msg, sizeof(msg)) == 0);
	CHECK(strstr(msg, "queue 0: packed base 0x80018001") != NULL);
	CHECK(strstr(msg, "not completed") == NULL);
	CHECK(describes(&d, "rng0 connected suspended reconnects=0 "
			    "q0=packed,base:0x80018001"));
	CHECK(vudev_resume(&d, msg, sizeof(msg)) == 0);
	CHECK(strcmp(msg, "rng0 resumed") == 0);
	/* the backend goes on at slot 1 */
	CHECK(packed_rng_round(mem, &q, 1, 9));
	d.vdev.ops->reset(d.vdev.opaque);
	CHECK(d.nr_started == 0);
	close_queue(&q);
	vudev_close(&d);
	stop_backend(pid);
}

static int ctrl_pairs_set(struct mem_table *mem, const struct vdev_queue *q,
			  uint16_t pairs)
{
	struct virtq_desc *desc = mem_gpa_to_host(mem, q->desc_gpa, 32);
	struct virtq_avail *avail = mem_gpa_to_host(mem, q->driver_gpa, 6);
	uint8_t *cmd = mem_gpa_to_host(mem, q->desc_gpa + 0x800, 5);
	struct pollfd p = { q->call_fd, POLLIN, 0 };

	memcpy(cmd,
	       (uint8_t[]){ VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			    (uint8_t)pairs, (uint8_t)(pairs >> 8), 0xee },
	       5);
	desc[0] = (struct virtq_desc){ q->desc_gpa + 0x800, 4,
				       VIRTQ_DESC_F_NEXT, 1 };
	desc[1] = (struct virtq_desc){ q->desc_gpa + 0x804, 1,
				       VIRTQ_DESC_F_WRITE, 0 };
	avail->ring[avail->idx % q->size] = 0;
	__atomic_store_n(&avail->idx, avail->idx + 1, __ATOMIC_RELEASE);
	if (write(q->kick_fd, &(uint64_t){ 1 }, 8) != 8 ||
	    poll(&p, 1, 2000) != 1)
		return -1;
	read_eventfd(q->call_fd);
	return cmd[4];
}

/*
 * A net backend that offers CTRL_VQ with an even queue count: vuvm adds
 * the control queue, keeps it from the backend, serves it while the
 * device is active; a control queue that cannot start undoes the whole
 * activation (the transport will not reset it).
 */
static void test_net_ctrl_queue(struct mem_table *mem)
{
	const char *const args[] = { "--queues", "2", NULL };
	pid_t pid = start_backend("net", args);
	uint64_t acked = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			 VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) |
			 VIRTIO_BIT(VIRTIO_NET_F_MQ);
	struct vdev_queue q[5];
	struct vudev d;

	for (unsigned int i = 0; i < 5; i++)
		q[i] = make_queue(i, 0x200000 + i * 0x4000);
	memset(mem_gpa_to_host(mem, q[4].desc_gpa, 0x3000), 0, 0x3000);
	CHECK(open_dev(&d, "net,queues=4", mem) == 0);
	CHECK(d.local_ctrl && d.ctrl.index == 4 && d.vdev.nr_queues == 5);

	/* a control queue outside RAM: nothing stays started */
	q[4].device_gpa = mem->regions[0].size - 8;
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, q, 5) == -EFAULT);
	CHECK(!d.active && d.nr_started == 0 && !d.ctrl.running);
	q[4].device_gpa = q[4].desc_gpa + 0x2000;

	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, q, 5) == 0);
	CHECK(d.nr_active == 4 && d.nr_started == 4 && d.ctrl.running);
	CHECK(ctrl_pairs_set(mem, &q[4], 1) == VIRTIO_NET_OK);
	CHECK(d.net_pairs == 1);
	CHECK(ctrl_pairs_set(mem, &q[4], 3) == VIRTIO_NET_ERR);
	CHECK(d.net_pairs == 1);
	d.vdev.ops->reset(d.vdev.opaque);
	CHECK(!d.active && !d.ctrl.running);
	vudev_close(&d);
	for (unsigned int i = 0; i < 5; i++)
		close_queue(&q[i]);
	stop_backend(pid);
}

static int count_fds(void)
{
	char path[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		struct stat st;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += stat(path, &st) == 0;
	}
	return n;
}

/* --- The check port's memory steps, KVM faked ------------------------- */

struct fake_slots {
	unsigned int sets, deletes;
	unsigned int last_slot;
	struct mem_region last; /* the last region given */
};

static int fake_set_slot(void *ctx, unsigned int slot,
			 const struct mem_region *r)
{
	struct fake_slots *f = ctx;

	f->last_slot = slot;
	if (!r) {
		f->deletes++;
		return 0;
	}
	f->sets++;
	f->last = *r;
	return 0;
}

static void test_mem_steps(struct mem_table *mem)
{
	const char *const args[] = { "--size", "8M", NULL };
	const char *const eight[] = { "--size", "8M", "--bug",
				      "vu-slots-overstated", NULL };
	const char *const none[] = { "--size", "8M", "--no-feature",
				     "configure_mem_slots", NULL };
	struct fake_slots f = { 0 };
	const struct vudev_memslots ms = { &f, fake_set_slot };
	struct vdev_queue q = make_queue(0, 0x200000);
	uint64_t acked = VIRTIO_BIT(VIRTIO_F_VERSION_1);
	pid_t pid = start_backend("blk", args);
	char why[300] = "";
	void *old;
	struct vudev d;

	CHECK(open_dev(&d, "blk,reconnect=5", mem) == 0);
	CHECK(d.vdev.ops->activate(d.vdev.opaque, acked, &q, 1) == 0);
	/* Without --check-port's slots: no memory steps. */
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_ADD, 0) == -EINVAL);
	d.memslots = &ms;
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_SLOTS, 0) == 32);
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_ADD, VUDEV_MAX_HOT) == -EINVAL);
	/* Added: MiB 3072 (0xc0000000), slot MEM_MAX_REGIONS. */
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_ADD, 0) == MEM_HOT_START >> 20);
	CHECK(f.sets == 1 && f.last_slot == MEM_MAX_REGIONS);
	CHECK(f.last.gpa == MEM_HOT_START && f.last.size == VUDEV_HOT_SIZE);
	CHECK(d.hot[0].host == f.last.host && d.hot[0].fd >= 0);
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_ADD, 0) == -EEXIST);
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_ADD, 1) ==
	      (MEM_HOT_START + VUDEV_HOT_SIZE) >> 20);
	CHECK(f.last_slot == MEM_MAX_REGIONS + 1);
	/* Replaced: the content moves to other memory, the slot follows. */
	memset(d.hot[0].host, 0x5a, 4096);
	old = d.hot[0].host;
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_REPLACE, 0) == 0);
	CHECK(f.deletes == 1 && f.sets == 3 && f.last.host == d.hot[0].host);
	CHECK(d.hot[0].host && d.hot[0].host != old);
	CHECK(((uint8_t *)d.hot[0].host)[4095] == 0x5a);
	/* Removed: REM_MEM_REG of what the backend has; twice is -ENOENT. */
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_REMOVE, 0) == 0);
	CHECK(f.deletes == 2 && f.last_slot == MEM_MAX_REGIONS);
	CHECK(!d.hot[0].host && d.hot[0].fd < 0);
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_REMOVE, 0) == -ENOENT);
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_REPLACE, 0) == -ENOENT);

	/* A new backend gets range 1 after SET_MEM_TABLE: it can remove
	 * it, which it could not if vuvm had not sent it. */
	crash_backend(&d, pid);
	pid = start_backend("blk", args);
	CHECK(reconnect_soon(&d, why, sizeof(why)) == 0);
	CHECK(d.nr_started == 1);
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_REMOVE, 1) == 0);

	/* A refused ADD_MEM_REG leaves nothing behind: eight regions at
	 * most (RAM's one and seven added). */
	crash_backend(&d, pid);
	pid = start_backend("blk", eight);
	CHECK(reconnect_soon(&d, why, sizeof(why)) == 0);
	for (unsigned int k = 0; k < 7; k++)
		CHECK(vudev_step(&d, VUDEV_STEP_MEM_ADD, k) > 0);
	f.deletes = 0;
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_ADD, 7) < 0);
	CHECK(!d.hot[7].host && d.hot[7].fd < 0 && f.deletes == 1);
	for (unsigned int k = 1; k < 7; k++)
		CHECK(vudev_step(&d, VUDEV_STEP_MEM_REMOVE, k) == 0);

	/* Without CONFIGURE_MEM_SLOTS every memory step is -ENOTSUP, and a
	 * range still added cannot be sent (the rings start all the same). */
	crash_backend(&d, pid);
	pid = start_backend("blk", none);
	CHECK(reconnect_soon(&d, why, sizeof(why)) == 0);
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_SLOTS, 0) == -ENOTSUP);
	CHECK(vudev_step(&d, VUDEV_STEP_MEM_ADD, 1) == -ENOTSUP);
	CHECK(d.nr_started == 1 && d.hot[0].host);

	/* What is still added is freed with the device (count_fds). */
	d.vdev.ops->reset(d.vdev.opaque);
	close_queue(&q);
	vudev_close(&d);
	stop_backend(pid);
}

int main(int argc, char **argv)
{
	struct mem_table mem;
	int fds;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-vuvm-backend\n", argv[0]);
		return 2;
	}
	backend_bin = argv[1];
	test_parse();
	CHECK(mem_alloc(&mem, 4 << 20, false) == 0);
	fds = count_fds();
	test_blk(&mem);
	test_net_local_config(&mem);
	test_queue_count(&mem);
	test_config_change(&mem);
	test_reconnect(&mem);
	test_reconnect_budget(&mem);
	test_suspend_resume(&mem);
	test_device_state(&mem);
	test_states(&mem);
	test_net_ctrl_queue(&mem);
	test_packed(&mem);
	test_mem_steps(&mem);
	CHECK(count_fds() == fds);
	mem_free(&mem);
	return check_exit();
}
