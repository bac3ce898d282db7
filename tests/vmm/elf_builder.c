// SPDX-License-Identifier: MIT
#include "tests/vmm/elf_builder.h"

#include <string.h>

static void elfb_header(Elf64_Ehdr *eh, unsigned int nr, uint64_t entry)
{
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = entry;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = (uint16_t)nr;
}

size_t elfb_build(uint8_t *buf, const struct elfb_seg *segs, unsigned int nr,
		  uint64_t entry)
{
	memset(buf, 0, ELFB_SIZE);
	elfb_header(elfb_ehdr(buf), nr, entry);
	for (unsigned int i = 0; i < nr && i < ELFB_MAX_SEGS; i++) {
		Elf64_Phdr *ph = elfb_phdr(buf, i);
		uint64_t off = ELFB_DATA_OFF + i * ELFB_SEG_FILESZ;

		ph->p_type = PT_LOAD;
		ph->p_flags = segs[i].flags;
		ph->p_offset = off;
		ph->p_vaddr = ph->p_paddr = segs[i].paddr;
		ph->p_memsz = segs[i].memsz;
		ph->p_filesz = segs[i].memsz < ELFB_SEG_FILESZ
				       ? segs[i].memsz
				       : ELFB_SEG_FILESZ;
		ph->p_align = 0x1000;
		memset(buf + off, 0xa0 + (int)i, ELFB_SEG_FILESZ);
	}
	return ELFB_SIZE;
}
