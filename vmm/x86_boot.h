/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 boot state of docs/guest.md: where vuvm's boot structures live
 * in guest memory, and pure builders for the GDT, the identity page tables
 * and the bootstrap processor's registers. The builders write into plain
 * buffers, so unit tests check them without KVM.
 */
#ifndef VUVM_VMM_X86_BOOT_H
#define VUVM_VMM_X86_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

/* Guest-physical layout of vuvm's boot structures (see docs/guest.md). */
#define X86_BOOT_GDT	      0x1000ULL
#define X86_BOOT_PML4	      0x2000ULL
#define X86_BOOT_PDPT	      0x3000ULL
#define X86_BOOT_PD	      0x4000ULL	 /* four PDs: the first 4 GiB */
#define X86_BOOT_PD_EXTRA     0x20000ULL /* PDs for RAM above 4 GiB */
#define X86_BOOT_PD_EXTRA_END 0x60000ULL
#define X86_BOOT_FDT	      0x10000ULL
#define X86_BOOT_FDT_SIZE     0x10000ULL
#define X86_BOOT_STACK	      0x80000ULL /* grows down to X86_BOOT_PD_EXTRA_END */
/* Everything above lies in guest-physical [0, X86_BOOT_AREA). */
#define X86_BOOT_AREA 0x80000ULL

#define X86_SEL_CODE	0x08
#define X86_SEL_DATA	0x10
#define X86_GDT_ENTRIES 3

#define X86_PTE_P  (1ULL << 0)
#define X86_PTE_RW (1ULL << 1)
#define X86_PTE_US (1ULL << 2)
#define X86_PTE_PS (1ULL << 7)

#define X86_CR0_PE	   (1ULL << 0)
#define X86_CR0_MP	   (1ULL << 1)
#define X86_CR0_ET	   (1ULL << 4)
#define X86_CR0_NE	   (1ULL << 5)
#define X86_CR0_WP	   (1ULL << 16)
#define X86_CR0_PG	   (1ULL << 31)
#define X86_CR4_PAE	   (1ULL << 5)
#define X86_CR4_OSFXSR	   (1ULL << 9)
#define X86_CR4_OSXMMEXCPT (1ULL << 10)
#define X86_EFER_SCE	   (1ULL << 0)
#define X86_EFER_LME	   (1ULL << 8)
#define X86_EFER_LMA	   (1ULL << 10)
#define X86_EFER_NXE	   (1ULL << 11)

/*
 * Returns the end of the identity map for RAM ending at @ram_top: at least
 * 4 GiB, rounded up to whole GiB (one page directory each).
 */
uint64_t x86_map_top(uint64_t ram_top);

/*
 * Writes the identity map of [0, x86_map_top(@ram_top)) with 2 MiB pages,
 * present, writable and user-accessible at every level, into @low, vuvm's
 * view of guest-physical [0, X86_BOOT_AREA). Returns 0, or -E2BIG when the
 * extra page directories would not fit below the boot stack.
 */
int x86_build_page_tables(uint8_t *low, uint64_t ram_top);

/* Writes the boot GDT (null, 64-bit code, data; all DPL 0) into @gdt. */
void x86_build_gdt(uint64_t gdt[X86_GDT_ENTRIES]);

/*
 * Turns @sregs (as read from a fresh vCPU) into the long-mode entry state:
 * flat segments, GDT, CR0/CR3/CR4/EFER; @nx sets EFER.NXE.
 */
void x86_boot_sregs(struct kvm_sregs *sregs, bool nx);

/* Fills @regs for the entry: rip = @entry, rdi = @fdt, rsp = boot stack. */
void x86_boot_regs(struct kvm_regs *regs, uint64_t entry, uint64_t fdt);

#endif
