/* SPDX-License-Identifier: MIT */
/*
 * What fs-verify and fs-bench share: opening the first virtio-fs device
 * with its FUSE session, the data pattern, FNV-1a.
 *
 * fsw_open: finds the device, fs_open()s it with @queues request queues,
 *   starts the wait in @mode, INITs the FUSE session asking for max_write
 *   @max_write; reports each step (a FAIL names what went wrong: the
 *   FUSE client's check names, "timeout" for no reply). Returns 0, 77
 *   (report_skip: no device), or -1 (a FAIL was reported; the device was
 *   reset).
 * fsw_close: DESTROY (when @destroy), ends the wait and resets the device.
 * fsw_pattern: @len bytes of file @id's generation @gen pattern at file
 *   offset @off into @buf (any alignment); generation 0 is zeroes.
 * fsw_fnv: FNV-1a 64 of @len bytes, continuing from @h (start with
 *   FSW_FNV_INIT); tests/e2e/fs_manifest_check computes the same.
 */
#ifndef VUVM_GUEST_WORKLOADS_FS_COMMON_H
#define VUVM_GUEST_WORKLOADS_FS_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/fuse.h"
#include "workloads/virtio_common.h"

#define FSW_FNV_INIT 0xcbf29ce484222325ull

struct fsw {
	struct fs_dev fs;
	struct vw_wait wait;
	struct fuse_conn c;
};

int fsw_open(struct fsw *w, int mode, unsigned int queues, uint32_t max_write,
	     uint64_t stall_ns);
void fsw_close(struct fsw *w, bool destroy);
void fsw_pattern(uint8_t *buf, uint64_t off, uint32_t len, uint32_t id,
		 uint32_t gen);
uint64_t fsw_fnv(uint64_t h, const uint8_t *p, uint32_t len);

#endif
