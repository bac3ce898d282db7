/* SPDX-License-Identifier: MIT */
/*
 * Builds small x86-64 ELF executables in memory for loader tests: a header,
 * up to ELFB_MAX_SEGS program headers, and each segment's bytes. Tests then
 * break one field at a time.
 */
#ifndef VUVM_TESTS_VMM_ELF_BUILDER_H
#define VUVM_TESTS_VMM_ELF_BUILDER_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#define ELFB_MAX_SEGS	4
#define ELFB_DATA_OFF	0x200 /* first segment's bytes in the file */
#define ELFB_SEG_FILESZ 0x40  /* bytes of file data per segment */
#define ELFB_SIZE	(ELFB_DATA_OFF + ELFB_MAX_SEGS * ELFB_SEG_FILESZ)

struct elfb_seg {
	uint64_t paddr;
	uint64_t memsz; /* file size is min(memsz, ELFB_SEG_FILESZ) */
	uint32_t flags; /* PF_R | PF_X ... */
};

/*
 * Writes into @buf (ELFB_SIZE bytes) an executable with @nr segments and
 * entry @entry; segment i's bytes are the value 0xa0 + i. Returns the file
 * size.
 */
size_t elfb_build(uint8_t *buf, const struct elfb_seg *segs, unsigned int nr,
		  uint64_t entry);

/* The header and program headers of an image built by elfb_build(). */
static inline Elf64_Ehdr *elfb_ehdr(uint8_t *buf)
{
	return (Elf64_Ehdr *)buf;
}

static inline Elf64_Phdr *elfb_phdr(uint8_t *buf, unsigned int i)
{
	return (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr)) + i;
}

#endif
