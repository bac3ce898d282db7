/* SPDX-License-Identifier: MIT */
/*
 * ELF64 guest loader: copies the PT_LOAD segments of an x86-64 executable
 * into guest RAM at their physical addresses (p_paddr, which must equal
 * p_vaddr because the boot map is an identity map).
 *
 * Everything in the image is untrusted: the header, the program header
 * table and every segment are checked against the file, against RAM,
 * against each other and against vuvm's reserved ranges before a byte is
 * copied. Bytes past p_filesz are left alone: fresh guest RAM is zero.
 */
#ifndef VUVM_VMM_ELF_H
#define VUVM_VMM_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/memory.h"

#define ELF_WHY_LEN   160
#define ELF_MAX_PHDRS 64

/*
 * Checks @image (@len bytes) as a guest for @mem. Returns 0 and the entry
 * point in @entry, or -ENOEXEC with a sentence naming the problem in @why.
 * Pure: reads only the image and the table's layout.
 */
int elf_check(const void *image, size_t len, const struct mem_table *mem,
	      uint64_t *entry, char why[ELF_WHY_LEN]);

/*
 * Checks then loads @image into @mem's RAM; @name (the file name) prefixes
 * the error logged on failure. Returns 0 with @entry set, or -ENOEXEC.
 */
int elf_load(const void *image, size_t len, const struct mem_table *mem,
	     uint64_t *entry, const char *name);

#endif
