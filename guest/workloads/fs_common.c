// SPDX-License-Identifier: MIT
/*
 * fs-verify's and fs-bench's shared set-up and data pattern (see
 * fs_common.h).
 */
#include "workloads/fs_common.h"

#include <stdio.h>
#include <string.h>

#include "lib/report.h"
#include "virtio/virtio_ids.h"

struct __attribute__((packed)) fsw_u64 {
	uint64_t v;
};

static inline uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void fsw_pattern(uint8_t *buf, uint64_t off, uint32_t len, uint32_t id,
		 uint32_t gen)
{
	uint64_t key = (uint64_t)id << 40 ^ (uint64_t)gen << 56;
	uint32_t i = 0;

	if (!gen) {
		memset(buf, 0, len);
		return;
	}
	/* Bytes up to the next 8-byte file offset, then whole words. */
	for (; i < len && (off + i) & 7; i++)
		buf[i] = (uint8_t)(mix(key ^ ((off + i) >> 3)) >>
				   (8 * ((off + i) & 7)));
	for (; i + 8 <= len; i += 8)
		((struct fsw_u64 *)(buf + i))->v = mix(key ^ ((off + i) >> 3));
	for (; i < len; i++)
		buf[i] = (uint8_t)(mix(key ^ ((off + i) >> 3)) >>
				   (8 * ((off + i) & 7)));
}

uint64_t fsw_fnv(uint64_t h, const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

int fsw_open(struct fsw *w, int mode, unsigned int queues, uint32_t max_write,
	     uint64_t stall_ns)
{
	struct vio_dev found;
	int err;

	if (vw_find(VIRTIO_ID_FS, "fs", &found))
		return REPORT_SKIP_STATUS;
	report_info("virtio-mmio@%llx, irq %u, vendor %#x",
		    (unsigned long long)found.base, found.irq, found.vendor_id);
	err = fs_open(&w->fs, &found, queues, 128, 0);
	if (!report(!err, "set up: %s", err ? w->fs.vio.error : "ok")) {
		vio_reset(&w->fs.vio);
		return -1;
	}
	report_info("features %#llx, tag \"%s\", %u of %u request queues "
		    "of %u",
		    (unsigned long long)w->fs.vio.features, w->fs.tag, w->fs.nq,
		    w->fs.num_request_queues, w->fs.vq[1].num);
	if (queues > w->fs.nq)
		report_info("queues=%u asked, the device has %u", queues,
			    w->fs.num_request_queues);
	if (vw_wait_start(&w->wait, mode, &w->fs.vio)) {
		vio_reset(&w->fs.vio);
		return -1;
	}
	err = fuse_conn_init(&w->c, &w->fs, &w->wait, stall_ns);
	if (!report(!err, "FUSE session memory")) {
		fsw_close(w, false);
		return -1;
	}
	err = fuse_init(&w->c, max_write);
	if (!report(!err, "INIT: %s",
		    err == 0		    ? "ok"
		    : err < -FUSE_MAX_ERRNO ? w->c.error
					    : "refused by the server")) {
		/* The request may still be in the ring: reset first. */
		fsw_close(w, false);
		return -1;
	}
	report_info("INIT: protocol %u.%u, max_write %u (using %u), flags "
		    "%#x, max_pages %u, readdirplus %s",
		    w->c.init.major, w->c.init.minor, w->c.init.max_write,
		    w->c.max_write, w->c.init.flags, w->c.init.max_pages,
		    w->c.readdirplus ? "yes" : "no");
	return 0;
}

void fsw_close(struct fsw *w, bool destroy)
{
	if (destroy) {
		int err = fuse_destroy(&w->c);

		report(!err, "DESTROY: %s",
		       !err		       ? "ok"
		       : err < -FUSE_MAX_ERRNO ? w->c.error
					       : "error");
	}
	vw_wait_end(&w->wait);
	vio_reset(&w->fs.vio);
}
