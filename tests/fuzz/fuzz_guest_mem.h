/* SPDX-License-Identifier: MIT */
/*
 * The guest memory of the ring fuzzers (fuzz_vring.c, fuzz_vring_packed.c):
 * MEM_SIZE bytes at guest-physical 0, with an optional 4 KiB hole at HOLE
 * that translation refuses (a gap between memory regions). Include once,
 * from the fuzzer's single source file.
 */
#ifndef VUVM_FUZZ_GUEST_MEM_H
#define VUVM_FUZZ_GUEST_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>

#define MEM_SIZE  (1u << 20)
#define HOLE	  0x80000u
#define HOLE_SIZE 0x1000u

/* A broken promise of the ring walker: say which and abort, so libFuzzer
 * keeps the input. */
#define FUZZ_CHECK(expr)                                                  \
	do {                                                              \
		if (!(expr)) {                                            \
			fprintf(stderr, "%s:%d: ring walker broke: %s\n", \
				__FILE__, __LINE__, #expr);               \
			abort();                                          \
		}                                                         \
	} while (0)

static uint8_t mem[MEM_SIZE] __attribute__((aligned(4096)));
static bool mem_hole; /* this input's memory has the hole */

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* vhu_vring_translate_fn: a range inside mem[] and clear of the hole. */
static inline void *translate(void *opaque, uint64_t gpa, uint64_t len)
{
	(void)opaque;
	FUZZ_CHECK(len != 0);
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return NULL;
	if (mem_hole && gpa < HOLE + HOLE_SIZE && gpa + len > HOLE)
		return NULL;
	return mem + gpa;
}

/* Whether an iovec the walker produced lies where translate() allows. */
static inline bool inside_mem(const struct iovec *v)
{
	uintptr_t p = (uintptr_t)v->iov_base, m = (uintptr_t)mem;

	if (p < m || v->iov_len > MEM_SIZE || p - m > MEM_SIZE - v->iov_len)
		return false;
	return !mem_hole || p - m + v->iov_len <= HOLE ||
	       p - m >= HOLE + HOLE_SIZE;
}

#endif
