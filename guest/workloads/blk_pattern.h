/* SPDX-License-Identifier: MIT */
/*
 * The data blk-verify writes: 64 words per 512-byte sector, a function of
 * the sector number, a generation (1..255; 0 means the sector must read as
 * zeroes) and the word's index. Shared by the guest and by the host-side
 * check of a file-backed disk (tests/e2e/blk_image_check.c), which can so
 * prove that every sector holds its own sector's data.
 */
#ifndef VUVM_GUEST_BLK_PATTERN_H
#define VUVM_GUEST_BLK_PATTERN_H

#include <stdint.h>

#define BLK_PATTERN_GEN_ZERO	 0
#define BLK_PATTERN_SECTOR_WORDS 64

static inline uint64_t blk_pattern(uint64_t sector, uint8_t gen,
				   unsigned int word)
{
	uint64_t x = (sector << 16 | (uint64_t)gen << 8 | word) + 1;

	x *= 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 29) ^ sector;
}

#endif
