/* SPDX-License-Identifier: MIT */
/*
 * Memory for rings and buffers that devices read and write. Guest memory is
 * identity-mapped, so a pointer is also the guest-physical address the
 * device is given (dma_addr()). The image keeps its .bss small (it must fit
 * vuvm's smallest RAM), so anything big comes from here instead: a bump
 * allocator over the free RAM past the image's end, in the RAM range that
 * holds the image (below the 32-bit MMIO hole). Nothing is freed (but see
 * dma_release below): a workload allocates its rings and buffers once and
 * reuses them, which also spares the first-touch cost of fresh pages.
 *
 * dma_alloc: @size bytes aligned to @align (a power of 2, at least 16 is
 *   used), contents unspecified (fresh RAM reads zero, but do not rely on
 *   it); NULL when RAM is exhausted or the device tree has no RAM range
 *   holding the image.
 * dma_free_bytes: how much dma_alloc could still hand out.
 * dma_mark / dma_release: everything allocated after dma_mark() is handed
 *   back by dma_release(mark), for a workload that drives several devices
 *   one after the other. Only once no device can still touch that memory
 *   (each was reset and its Status read 0).
 */
#ifndef VUVM_GUEST_VIRTIO_ALLOC_H
#define VUVM_GUEST_VIRTIO_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *dma_alloc(size_t size, size_t align);
uint64_t dma_free_bytes(void);
uint64_t dma_mark(void);
void dma_release(uint64_t mark);

static inline uint64_t dma_addr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

#endif
