/* SPDX-License-Identifier: MIT */
/*
 * blk requests for the tests of tests/backends (driver.h plays the
 * guest driver): one request of a given type with its data split into
 * descriptors, DISCARD/WRITE_ZEROES segments, arbitrary chains, and the
 * data patterns they are checked with. Shared by blk_test and bug_test.
 */
#ifndef VUVM_TESTS_BACKENDS_BLK_DRIVER_H
#define VUVM_TESTS_BACKENDS_BLK_DRIVER_H

#include "tests/backends/driver.h"
#include "virtio/virtio_blk.h"

#define BLK_FEATURES                                                           \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |     \
	 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | \
	 VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |                                    \
	 VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES))

/* One request: header, data split into @nseg pieces, status. Returns the
 * status byte and the used length in *@used_len. */
static inline uint8_t blk_req(struct td *t, unsigned int qi, uint32_t type,
			      uint64_t sector, void *data, uint32_t len,
			      unsigned int nseg, uint32_t *used_len)
{
	struct td_buf b[8];
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	struct virtio_blk_outhdr *h;
	uint64_t hdr, status, dgpa = 0;
	unsigned int n = 0;
	uint32_t l;

	CHECK(nseg >= 1 && nseg <= 6);
	td_reset_heap(t);
	hdr = td_alloc(t, sizeof(*h));
	h = td_host(t, hdr);
	*h = (struct virtio_blk_outhdr){ .type = type, .sector = sector };
	b[n++] = (struct td_buf){ hdr, sizeof(*h), false };
	if (len) {
		dgpa = td_alloc(t, len);
		if (!in)
			memcpy(td_host(t, dgpa), data, len);
		else
			memset(td_host(t, dgpa), 0xee, len);
		for (unsigned int i = 0; i < nseg; i++) {
			uint32_t off = len / nseg * i;
			uint32_t end =
				i + 1 == nseg ? len : len / nseg * (i + 1);

			b[n++] = (struct td_buf){ dgpa + off, end - off, in };
		}
	}
	status = td_alloc(t, 1);
	*(uint8_t *)td_host(t, status) = 0xff;
	b[n++] = (struct td_buf){ status, 1, true };
	td_submit(t, qi, b, n);
	l = td_wait_used(t, qi, NULL);
	if (used_len)
		*used_len = l;
	if (in && len)
		memcpy(data, td_host(t, dgpa), len);
	return *(uint8_t *)td_host(t, status);
}

static inline void fill_pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 9));
}

static inline void start_blk(struct td *t, const char *const *argv,
			     unsigned int nq)
{
	td_start(t, argv);
	td_start_device(t, BLK_FEATURES & t->fe.features, nq);
}

static inline uint8_t dz_req(struct td *t, uint32_t type, uint64_t sector,
			     uint32_t num, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes s = { sector, num, flags };

	return blk_req(t, 0, type, 0, &s, sizeof(s), 1, NULL);
}

static inline bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* A chain of arbitrary buffers; returns the status byte (last buffer). */
static inline uint8_t raw_req(struct td *t, const struct td_buf *b,
			      unsigned int n)
{
	td_submit(t, 0, b, n);
	td_wait_used(t, 0, NULL);
	return *(uint8_t *)td_host(t, b[n - 1].gpa);
}

#endif
