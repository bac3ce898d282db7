// SPDX-License-Identifier: MIT
/*
 * Writes a broken guest image for vuvm's command-line tests:
 *	mkelf KIND FILE
 * KIND: empty, random, truncated, elf32, machine, outside, reserved,
 * overlap. Images whose segments lie in RAM assume --mem 64M.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/vmm/elf_builder.h"

static uint8_t img[ELFB_SIZE];

/* One code segment at @addr, entry at its start. */
static size_t one(uint64_t addr)
{
	return elfb_build(img, &(struct elfb_seg){ addr, 0x40, PF_R | PF_X }, 1,
			  addr);
}

static size_t make(const char *kind)
{
	const struct elfb_seg two[] = { { 0x100000, 0x1000, PF_R | PF_X },
					{ 0x100800, 0x1000, PF_R } };

	if (!strcmp(kind, "empty"))
		return 0;
	if (!strcmp(kind, "random")) {
		srand(7);
		for (size_t i = 0; i < sizeof(img); i++)
			img[i] = (uint8_t)rand();
		return sizeof(img);
	}
	if (!strcmp(kind, "truncated"))
		return one(0x100000) - ELFB_SEG_FILESZ * ELFB_MAX_SEGS - 0x100;
	if (!strcmp(kind, "elf32")) {
		one(0x100000);
		elfb_ehdr(img)->e_ident[EI_CLASS] = ELFCLASS32;
		return sizeof(img);
	}
	if (!strcmp(kind, "machine")) {
		one(0x100000);
		elfb_ehdr(img)->e_machine = EM_AARCH64;
		return sizeof(img);
	}
	if (!strcmp(kind, "outside"))
		return one(0x40000000);
	if (!strcmp(kind, "reserved"))
		return one(0x10000);
	if (!strcmp(kind, "overlap"))
		return elfb_build(img, two, 2, 0x100000);
	return (size_t)-1;
}

int main(int argc, char **argv)
{
	size_t len;
	FILE *f;

	if (argc != 3 || (len = make(argv[1])) == (size_t)-1) {
		fprintf(stderr, "usage: mkelf KIND FILE\n");
		return 2;
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite(img, 1, len, f) != len || fclose(f)) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
