/* SPDX-License-Identifier: MIT */
/*
 * What vuvm-check's scenarios share to build requests at the ring level
 * and to see what the device wrote: buffers between canaries, and the
 * indirect table a chain went through.
 *
 * A struct chain_arena hands out buffers from one block, each between
 * CHAIN_GUARD bytes of CHAIN_GUARD_BYTE, at odd offsets (a device must not
 * assume any alignment); chain_reset() frees them all at once.
 *
 * chain_place: @len bytes between two canaries; NULL when the arena is
 *   full.
 * chain_intact: whether both canaries of the @len-byte buffer at @p are as
 *   chain_place left them.
 * chain_indirect: the indirect table the chain at @head of @vq goes
 *   through, with its length in *@n; NULL (and *@n = 0) for a direct
 *   chain.
 */
#ifndef VUVM_GUEST_CHECK_CHAIN_H
#define VUVM_GUEST_CHECK_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtq.h"

#define CHAIN_GUARD	 64
#define CHAIN_GUARD_BYTE 0xa5

struct chain_arena {
	uint8_t *base;
	size_t size, used;
};

uint8_t *chain_place(struct chain_arena *a, uint32_t len);
bool chain_intact(const uint8_t *p, uint32_t len);
struct virtq_desc *chain_indirect(struct virtq *vq, uint16_t head, uint32_t *n);

static inline void chain_reset(struct chain_arena *a)
{
	a->used = 0;
}

#endif
