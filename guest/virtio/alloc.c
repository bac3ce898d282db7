// SPDX-License-Identifier: MIT
/*
 * The bump allocator of alloc.h. The arena is found on first use: from the
 * image's end (_end, from guest.ld) to the end of the /memory range that
 * contains it, clipped to the 32-bit MMIO hole.
 */
#include "virtio/alloc.h"

#include "lib/devtree.h"

#define MAX_RANGES 16
#define MMIO_HOLE  0xc0000000ull

extern char _end[];

static uint64_t next, limit;

static void arena_init(void)
{
	struct dt_range r[MAX_RANGES];
	uint64_t start = dma_addr(_end);
	int n = dt_memory(r, MAX_RANGES);

	next = limit = start;
	for (int i = 0; i < n && i < MAX_RANGES; i++) {
		if (start < r[i].base || start - r[i].base >= r[i].size)
			continue;
		limit = r[i].base + r[i].size;
		if (limit > MMIO_HOLE)
			limit = MMIO_HOLE;
	}
}

void *dma_alloc(size_t size, size_t align)
{
	uint64_t at;

	if (!next)
		arena_init();
	if (align < 16)
		align = 16;
	at = (next + align - 1) & ~(uint64_t)(align - 1);
	if (at < next || at > limit || size > limit - at)
		return NULL;
	next = at + size;
	return (void *)(uintptr_t)at;
}

uint64_t dma_free_bytes(void)
{
	if (!next)
		arena_init();
	return limit - next;
}

uint64_t dma_mark(void)
{
	if (!next)
		arena_init();
	return next;
}

void dma_release(uint64_t mark)
{
	if (mark && mark <= next)
		next = mark;
}
