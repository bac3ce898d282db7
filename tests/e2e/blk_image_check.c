// SPDX-License-Identifier: MIT
/*
 * Reads a disk image that the guest's blk-verify wrote through a backend
 * and proves, on the host, that the data really landed: every 512-byte
 * sector holds either zeroes (discarded or zeroed ranges) or blk-verify's
 * pattern for exactly that sector number, in one generation throughout.
 * It also wants most of the disk written and at least two generations
 * (the full write and the overwrite), so an untouched or zeroed image
 * fails. With GENERATIONS it wants exactly that many: blk-verify passes=N
 * ends with one full write of its last generation, so 1 there means no
 * sector kept an older pass's data (a lost write).
 *
 * Usage: blk_image_check IMAGE [GENERATIONS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/workloads/blk_pattern.h"

struct tally {
	uint64_t sectors, zero, bad;
	uint64_t per_gen[256];
	uint64_t first_bad;
};

/* Returns the generation @w holds for @sector, 0 for zeroes, -1 if none. */
static int sector_gen(const uint64_t *w, uint64_t sector)
{
	int gen = -1;

	for (unsigned int g = 1; g < 256 && gen < 0; g++)
		if (w[0] == blk_pattern(sector, (uint8_t)g, 0))
			gen = (int)g;
	if (gen < 0) {
		for (unsigned int i = 0; i < BLK_PATTERN_SECTOR_WORDS; i++)
			if (w[i])
				return -1;
		return 0;
	}
	for (unsigned int i = 1; i < BLK_PATTERN_SECTOR_WORDS; i++)
		if (w[i] != blk_pattern(sector, (uint8_t)gen, i))
			return -1;
	return gen;
}

static int check(FILE *f, struct tally *t)
{
	uint64_t w[BLK_PATTERN_SECTOR_WORDS];

	while (fread(w, sizeof(w), 1, f) == 1) {
		int gen = sector_gen(w, t->sectors);

		if (gen < 0 && !t->bad++)
			t->first_bad = t->sectors;
		else if (gen == 0)
			t->zero++;
		else if (gen > 0)
			t->per_gen[gen]++;
		t->sectors++;
	}
	return ferror(f) ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct tally t;
	unsigned int gens = 0, want = 0;
	FILE *f;

	if (argc == 3)
		want = (unsigned int)strtoul(argv[2], NULL, 10);
	if (argc < 2 || argc > 3 || (argc == 3 && (want < 1 || want > 255))) {
		fprintf(stderr, "usage: blk_image_check IMAGE [GENERATIONS]\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	memset(&t, 0, sizeof(t));
	if (check(f, &t)) {
		perror(argv[1]);
		fclose(f);
		return 1;
	}
	fclose(f);
	for (unsigned int g = 1; g < 256; g++)
		gens += t.per_gen[g] != 0;
	printf("%s: %llu sectors: %llu with the pattern in %u generations, "
	       "%llu zero, %llu wrong\n",
	       argv[1], (unsigned long long)t.sectors,
	       (unsigned long long)(t.sectors - t.zero - t.bad), gens,
	       (unsigned long long)t.zero, (unsigned long long)t.bad);
	if (t.bad)
		printf("FAIL: sector %llu holds neither zeroes nor its own "
		       "pattern\n",
		       (unsigned long long)t.first_bad);
	if (want && gens != want) {
		printf("FAIL: %u generations, wanted %u: some sectors hold an "
		       "older write\n",
		       gens, want);
		return 1;
	}
	if (t.sectors == 0 || 2 * t.zero > t.sectors || gens < (want ?: 2)) {
		printf("FAIL: blk-verify's writes are not in the image\n");
		return 1;
	}
	return t.bad ? 1 : 0;
}
