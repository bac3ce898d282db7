// SPDX-License-Identifier: MIT
/*
 * Canaried buffers and indirect tables for vuvm-check's scenarios (see
 * chain.h).
 */
#include "check/chain.h"

#include <string.h>

uint8_t *chain_place(struct chain_arena *a, uint32_t len)
{
	uint8_t *p;

	if (a->used + len + 2 * CHAIN_GUARD + 1 > a->size)
		return NULL;
	p = a->base + a->used + CHAIN_GUARD;
	memset(p - CHAIN_GUARD, CHAIN_GUARD_BYTE, CHAIN_GUARD);
	memset(p + len, CHAIN_GUARD_BYTE, CHAIN_GUARD);
	a->used += len + 2 * CHAIN_GUARD + (a->used & 1 ? 0 : 1);
	return p;
}

bool chain_intact(const uint8_t *p, uint32_t len)
{
	for (unsigned int i = 0; i < CHAIN_GUARD; i++)
		if (p[-1 - (int)i] != CHAIN_GUARD_BYTE ||
		    p[len + i] != CHAIN_GUARD_BYTE)
			return false;
	return true;
}

struct virtq_desc *chain_indirect(struct virtq *vq, uint16_t head, uint32_t *n)
{
	uint16_t i = head;

	for (unsigned int k = 0; k < vq->num; k++) {
		struct virtq_desc *d = &vq->desc[i];

		if (d->flags & VIRTQ_DESC_F_INDIRECT) {
			*n = d->len / sizeof(*d);
			return vq->indirect + (uint64_t)head * vq->indirect_max;
		}
		if (!(d->flags & VIRTQ_DESC_F_NEXT))
			break;
		i = d->next;
	}
	*n = 0;
	return NULL;
}
