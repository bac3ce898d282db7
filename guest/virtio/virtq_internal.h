/* SPDX-License-Identifier: MIT */
/*
 * What virtq.c (split ring, entry points) and virtq_packed.c (packed ring)
 * share; not for drivers, which use virtq.h only.
 *
 * vq_fail: records the first misbehaviour of the device as a sentence,
 *   marks the queue broken, returns VIRTQ_EPROTO.
 * pvq_*: the packed ring's half of each virtq_* call, with the same
 *   contract (see virtq.h); pvq_init finishes virtq_init for a packed ring
 *   laid out from @gpa.
 * order_*: IN_ORDER's record of the order buffers were made available in,
 *   a ring of in_flight heads or ids starting at order_first. order_find
 *   returns the position of @id among the first @limit, or -1.
 */
#ifndef VUVM_GUEST_VIRTQ_INTERNAL_H
#define VUVM_GUEST_VIRTQ_INTERNAL_H

#include "virtio/virtq.h"

__attribute__((format(printf, 2, 3))) int vq_fail(struct virtq *vq,
						  const char *fmt, ...);

void pvq_init(struct virtq *vq, uint64_t gpa);
int pvq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned int out,
	    unsigned int in, void *token);
bool pvq_kick_prepare(struct virtq *vq);
int pvq_get_used(struct virtq *vq, void **token, uint32_t *len);
bool pvq_has_used(const struct virtq *vq);
void pvq_disable_cb(struct virtq *vq);
bool pvq_enable_cb(struct virtq *vq);

static inline void order_push(struct virtq *vq, uint16_t id)
{
	unsigned int i = vq->order_first + vq->in_flight;

	vq->order[i >= vq->num ? i - vq->num : i] = id;
}

static inline uint16_t order_pop(struct virtq *vq)
{
	uint16_t id = vq->order[vq->order_first];

	if (++vq->order_first == vq->num)
		vq->order_first = 0;
	return id;
}

static inline int order_find(const struct virtq *vq, uint32_t id,
			     unsigned int limit)
{
	unsigned int i = vq->order_first;

	for (unsigned int k = 0; k < limit; k++) {
		if (vq->order[i] == id)
			return (int)k;
		if (++i == vq->num)
			i = 0;
	}
	return -1;
}

#endif
