// SPDX-License-Identifier: MIT
/*
 * x86-64 long-mode entry: identity page tables, GDT and the bootstrap
 * processor's registers, built into plain buffers.
 */
#include "vmm/x86_boot.h"

#include <errno.h>
#include <string.h>

#define X86_GIB		  (1ULL << 30)
#define X86_PAGE	  0x1000ULL
#define X86_TABLE_ENTRIES 512
#define X86_LOW_PDS	  4

uint64_t x86_map_top(uint64_t ram_top)
{
	uint64_t top = (ram_top + X86_GIB - 1) & ~(X86_GIB - 1);

	return top < 4 * X86_GIB ? 4 * X86_GIB : top;
}

/* Page directory @i (covering [i GiB, i+1 GiB)) lives here. */
static uint64_t x86_pd_addr(uint64_t i)
{
	if (i < X86_LOW_PDS)
		return X86_BOOT_PD + i * X86_PAGE;
	return X86_BOOT_PD_EXTRA + (i - X86_LOW_PDS) * X86_PAGE;
}

static void x86_fill_pd(uint64_t *pd, uint64_t gib)
{
	const uint64_t flags = X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_PS;

	for (uint64_t j = 0; j < X86_TABLE_ENTRIES; j++)
		pd[j] = (gib * X86_GIB + (j << 21)) | flags;
}

int x86_build_page_tables(uint8_t *low, uint64_t ram_top)
{
	const uint64_t flags = X86_PTE_P | X86_PTE_RW | X86_PTE_US;
	uint64_t nr_pds = x86_map_top(ram_top) / X86_GIB;
	uint64_t *pml4 = (uint64_t *)(low + X86_BOOT_PML4);
	uint64_t *pdpt = (uint64_t *)(low + X86_BOOT_PDPT);

	if (nr_pds > X86_TABLE_ENTRIES ||
	    x86_pd_addr(nr_pds - 1) + X86_PAGE > X86_BOOT_PD_EXTRA_END)
		return -E2BIG;
	memset(pml4, 0, X86_PAGE);
	memset(pdpt, 0, X86_PAGE);
	pml4[0] = X86_BOOT_PDPT | flags;
	for (uint64_t i = 0; i < nr_pds; i++) {
		pdpt[i] = x86_pd_addr(i) | flags;
		x86_fill_pd((uint64_t *)(low + x86_pd_addr(i)), i);
	}
	return 0;
}

void x86_build_gdt(uint64_t gdt[X86_GDT_ENTRIES])
{
	gdt[0] = 0;
	/* Present, DPL 0, code exec/read accessed, L = 1, G = 1. */
	gdt[X86_SEL_CODE / 8] = 0x00af9b000000ffffULL;
	/* Present, DPL 0, data read/write accessed, D/B = 1, G = 1. */
	gdt[X86_SEL_DATA / 8] = 0x00cf93000000ffffULL;
}

static void x86_flat_segment(struct kvm_segment *seg, uint16_t selector)
{
	bool code = selector == X86_SEL_CODE;

	memset(seg, 0, sizeof(*seg));
	seg->limit = 0xffffffff;
	seg->selector = selector;
	seg->type = code ? 11 : 3;
	seg->present = 1;
	seg->s = 1;
	seg->l = code;
	seg->db = !code;
	seg->g = 1;
}

void x86_boot_sregs(struct kvm_sregs *sregs, bool nx)
{
	x86_flat_segment(&sregs->cs, X86_SEL_CODE);
	x86_flat_segment(&sregs->ds, X86_SEL_DATA);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	sregs->gdt.base = X86_BOOT_GDT;
	sregs->gdt.limit = X86_GDT_ENTRIES * 8 - 1;
	sregs->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		     X86_CR0_WP | X86_CR0_PG;
	sregs->cr3 = X86_BOOT_PML4;
	sregs->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	sregs->efer = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA |
		      (nx ? X86_EFER_NXE : 0);
}

void x86_boot_regs(struct kvm_regs *regs, uint64_t entry, uint64_t fdt)
{
	memset(regs, 0, sizeof(*regs));
	regs->rflags = 0x2;
	regs->rip = entry;
	regs->rdi = fdt;
	regs->rsp = X86_BOOT_STACK;
}
