// SPDX-License-Identifier: MIT
/*
 * ELF64 loader: check the header, then each PT_LOAD segment against the
 * file, RAM, vuvm's reserved ranges and the other segments, then the entry
 * point; only then copy.
 */
#define pr_fmt(fmt) "elf: " fmt
#include "vmm/elf.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vhost/log.h"
#include "vmm/x86_boot.h"

/* Guest-physical ranges the guest image must leave to vuvm. */
static const struct {
	uint64_t start, end;
	const char *what;
} elf_reserved[] = {
	{ 0, X86_BOOT_GDT, "the null page" },
	{ X86_BOOT_GDT, X86_BOOT_PD + 4 * 0x1000,
	  "the boot GDT and page tables" },
	{ X86_BOOT_FDT, X86_BOOT_FDT + X86_BOOT_FDT_SIZE, "the device tree" },
	{ X86_BOOT_PD_EXTRA, X86_BOOT_STACK, "the page tables and boot stack" },
};

static int elf_fail(char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int elf_fail(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, ELF_WHY_LEN, fmt, ap);
	va_end(ap);
	return -ENOEXEC;
}

static int elf_check_header(const Elf64_Ehdr *eh, size_t len, char *why)
{
	if (len == 0)
		return elf_fail(why, "file is empty");
	if (len < SELFMAG || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return elf_fail(why, "not an ELF file (bad magic)");
	if (len < sizeof(*eh))
		return elf_fail(why, "truncated ELF header (%zu bytes)", len);
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return elf_fail(why, "not a 64-bit ELF (class %u)",
				eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return elf_fail(why, "not a little-endian ELF");
	if (eh->e_machine != EM_X86_64)
		return elf_fail(why, "not an x86-64 ELF (machine %u)",
				eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return elf_fail(why, "not an executable ELF (type %u)",
				eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return elf_fail(why, "bad program header size %u",
				eh->e_phentsize);
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHDRS)
		return elf_fail(why, "bad program header count %u",
				eh->e_phnum);
	if (eh->e_phoff % 8)
		return elf_fail(why, "program header table misaligned");
	if (eh->e_phoff > len ||
	    (len - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
		return elf_fail(why, "program header table outside the file");
	return 0;
}

static int elf_check_reserved(const Elf64_Phdr *ph, unsigned int i, char *why)
{
	uint64_t end = ph->p_paddr + ph->p_memsz;

	for (size_t r = 0; r < sizeof(elf_reserved) / sizeof(elf_reserved[0]);
	     r++) {
		if (ph->p_paddr < elf_reserved[r].end &&
		    end > elf_reserved[r].start)
			return elf_fail(
				why, "segment %u [%#llx, %#llx) overlaps %s", i,
				(unsigned long long)ph->p_paddr,
				(unsigned long long)end, elf_reserved[r].what);
	}
	return 0;
}

static int elf_check_segment(const Elf64_Phdr *ph, unsigned int i, size_t len,
			     const struct mem_table *mem, char *why)
{
	if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
		return elf_fail(why, "segment %u: file range outside the file",
				i);
	if (ph->p_filesz > ph->p_memsz)
		return elf_fail(why, "segment %u: p_filesz > p_memsz", i);
	if (ph->p_vaddr != ph->p_paddr)
		return elf_fail(why,
				"segment %u: p_vaddr %#llx != p_paddr %#llx "
				"(the boot map is an identity map)",
				i, (unsigned long long)ph->p_vaddr,
				(unsigned long long)ph->p_paddr);
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr)
		return elf_fail(why, "segment %u: address overflow", i);
	if (!mem_layout_contains(mem, ph->p_paddr, ph->p_memsz))
		return elf_fail(
			why, "segment %u [%#llx, %#llx) is outside guest RAM",
			i, (unsigned long long)ph->p_paddr,
			(unsigned long long)(ph->p_paddr + ph->p_memsz));
	return elf_check_reserved(ph, i, why);
}

static bool elf_overlap(const Elf64_Phdr *a, const Elf64_Phdr *b)
{
	return a->p_paddr < b->p_paddr + b->p_memsz &&
	       b->p_paddr < a->p_paddr + a->p_memsz;
}

static bool elf_is_load(const Elf64_Phdr *ph)
{
	return ph->p_type == PT_LOAD && ph->p_memsz != 0;
}

static int elf_check_segments(const Elf64_Phdr *ph, unsigned int n, size_t len,
			      const struct mem_table *mem, char *why)
{
	unsigned int loads = 0;
	int err;

	for (unsigned int i = 0; i < n; i++) {
		if (!elf_is_load(&ph[i]))
			continue;
		err = elf_check_segment(&ph[i], i, len, mem, why);
		if (err)
			return err;
		loads++;
		for (unsigned int j = 0; j < i; j++) {
			if (elf_is_load(&ph[j]) && elf_overlap(&ph[i], &ph[j]))
				return elf_fail(why,
						"segments %u and %u overlap", j,
						i);
		}
	}
	if (!loads)
		return elf_fail(why, "no PT_LOAD segment");
	return 0;
}

static bool elf_entry_ok(const Elf64_Phdr *ph, unsigned int n, uint64_t entry)
{
	for (unsigned int i = 0; i < n; i++) {
		if (elf_is_load(&ph[i]) && (ph[i].p_flags & PF_X) &&
		    entry >= ph[i].p_vaddr &&
		    entry - ph[i].p_vaddr < ph[i].p_memsz)
			return true;
	}
	return false;
}

int elf_check(const void *image, size_t len, const struct mem_table *mem,
	      uint64_t *entry, char why[ELF_WHY_LEN])
{
	const Elf64_Ehdr *eh = image;
	const Elf64_Phdr *ph;
	int err;

	err = elf_check_header(eh, len, why);
	if (err)
		return err;
	ph = (const Elf64_Phdr *)((const uint8_t *)image + eh->e_phoff);
	err = elf_check_segments(ph, eh->e_phnum, len, mem, why);
	if (err)
		return err;
	if (!elf_entry_ok(ph, eh->e_phnum, eh->e_entry))
		return elf_fail(why,
				"entry point %#llx is not in an executable "
				"segment",
				(unsigned long long)eh->e_entry);
	*entry = eh->e_entry;
	return 0;
}

int elf_load(const void *image, size_t len, const struct mem_table *mem,
	     uint64_t *entry, const char *name)
{
	const Elf64_Ehdr *eh = image;
	const Elf64_Phdr *ph;
	char why[ELF_WHY_LEN];

	if (elf_check(image, len, mem, entry, why)) {
		pr_err("%s: %s", name, why);
		return -ENOEXEC;
	}
	ph = (const Elf64_Phdr *)((const uint8_t *)image + eh->e_phoff);
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		uint8_t *dst;

		if (!elf_is_load(&ph[i]) || !ph[i].p_filesz)
			continue;
		dst = mem_gpa_to_host(mem, ph[i].p_paddr, ph[i].p_filesz);
		if (!dst)
			return -EFAULT;
		memcpy(dst, (const uint8_t *)image + ph[i].p_offset,
		       ph[i].p_filesz);
	}
	return 0;
}
