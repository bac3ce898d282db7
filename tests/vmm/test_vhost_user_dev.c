// SPDX-License-Identifier: MIT
/*
 * The vhost-user device (vmm/vhost_user_dev.c) against the reference
 * backend running as a real process: what the transport is offered, the
 * config space it reads, the start sequence (the backend must accept the
 * memory table and rings, and refuse nothing), ring addresses outside RAM,
 * reset, and the config vuvm supplies for a net backend without CONFIG.
 *
 * Usage: test_vhost_user_dev PATH-TO-vuvm-backend
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/vmm/check.h"
#include "vhost/backend.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_net.h"
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

static int open_dev(struct vudev *d, const char *spec, struct mem_table *mem)
{
	struct vudev_config cfg;
	char text[128];
	const char *why = "";

	snprintf(text, sizeof(text), "%s,socket=%s", spec, sock_path);
	CHECK(vudev_parse(text, &cfg, &why) == 0);
	return vudev_open(d, &cfg, mem, 0, 3000, false);
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
	CHECK(b.listen_fd >= 0);
	CHECK(pthread_create(&t, NULL, chan_backend_run, &b) == 0);
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
	CHECK(count_fds() == fds);
	mem_free(&mem);
	return check_exit();
}
