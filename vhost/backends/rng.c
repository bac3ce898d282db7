// SPDX-License-Identifier: MIT
/*
 * The reference virtio-rng (entropy) backend: one queue; every writable
 * byte of every chain is filled from getrandom(), readable parts are
 * ignored. No config space, no device features beyond the ring ones.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "rng: " fmt
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "vhost/backends/vub.h"
#include "vhost/log.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_rng.h"

/* Fills @len bytes; getrandom() may return less than asked for large
 * requests or when interrupted. */
static int fill_random(uint8_t *p, size_t len)
{
	while (len) {
		ssize_t r = getrandom(p, len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Returns the bytes written into the chain's writable part. */
static uint32_t rng_fill(struct vhu_vring_elem *e)
{
	uint32_t written = 0;

	for (unsigned int i = e->out_num; i < e->out_num + e->in_num; i++) {
		int err = fill_random(e->iov[i].iov_base, e->iov[i].iov_len);

		if (err) {
			pr_err("getrandom: %s", strerror(-err));
			break;
		}
		written += (uint32_t)e->iov[i].iov_len;
	}
	return written;
}

static void rng_serve(struct vub *b, unsigned int index)
{
	struct vhu_vring_elem e;
	bool any = false;

	while (vub_pop(b, index, 0, &e) == 1) {
		vub_push(b, index, e.head, rng_fill(&e));
		any = true;
	}
	if (any)
		vub_notify(b, index);
}

static int rng_setup(struct vub *b)
{
	b->num_queues = VIRTIO_RNG_NUM_QUEUES;
	b->features = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		      VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
		      VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	return 0;
}

static void rng_teardown(struct vub *b)
{
}

/* virtio-rng has no config space: reads see zeroes. */
static int rng_get_config(struct vub *b, uint32_t offset, void *buf,
			  uint32_t size)
{
	vub_config_read(NULL, 0, offset, buf, size);
	return 0;
}

const struct vub_type vub_rng = {
	.name = "rng",
	.capability = "rng",
	.max_queues = VIRTIO_RNG_NUM_QUEUES,
	.setup = rng_setup,
	.teardown = rng_teardown,
	.get_config = rng_get_config,
	.serve = rng_serve,
	.inflight = true,
};
