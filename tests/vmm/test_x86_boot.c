// SPDX-License-Identifier: MIT
/*
 * The boot builders on plain buffers: page tables, GDT, entry registers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "vmm/x86_boot.h"

#define GiB (1ULL << 30)
#define MiB (1ULL << 20)

/* Walks the tables in @low like the MMU would for a 2 MiB page. */
static uint64_t walk(const uint8_t *low, uint64_t va, uint64_t *flags)
{
	const uint64_t addr_mask = 0x000ffffffffff000ULL;
	const uint64_t *pml4 = (const uint64_t *)(low + X86_BOOT_PML4);
	uint64_t e = pml4[(va >> 39) & 511], all = e;

	if (!(e & X86_PTE_P))
		return ~0ULL;
	e = ((const uint64_t *)(low + (e & addr_mask)))[(va >> 30) & 511];
	all &= e;
	if (!(e & X86_PTE_P) || (e & X86_PTE_PS))
		return ~0ULL;
	e = ((const uint64_t *)(low + (e & addr_mask)))[(va >> 21) & 511];
	all &= e;
	if (!(e & X86_PTE_P) || !(e & X86_PTE_PS))
		return ~0ULL;
	*flags = all;
	return (e & 0x000fffffffe00000ULL) | (va & (2 * MiB - 1));
}

static void check_identity(const uint8_t *low, uint64_t va)
{
	const uint64_t want = X86_PTE_P | X86_PTE_RW | X86_PTE_US;
	uint64_t flags = 0;

	CHECK(walk(low, va, &flags) == va);
	CHECK((flags & want) == want);
}

static void test_page_tables(void)
{
	uint8_t *low = calloc(1, X86_BOOT_AREA);
	uint64_t flags;

	CHECK(x86_map_top(64 * MiB) == 4 * GiB);
	CHECK(x86_map_top(4 * GiB + 1) == 5 * GiB);
	CHECK(x86_map_top(65 * GiB) == 65 * GiB);
	CHECK(x86_build_page_tables(low, 64 * MiB) == 0);
	check_identity(low, 0);
	check_identity(low, 0x100000);
	check_identity(low, 0x123456789ULL & (4 * GiB - 1));
	check_identity(low, 0xd0000000); /* MMIO hole: virtio-mmio */
	check_identity(low, 0xfee00000); /* LAPIC */
	check_identity(low, 4 * GiB - 1);
	CHECK(walk(low, 4 * GiB, &flags) == ~0ULL);
	/* Nothing outside the tables' own pages was written. */
	CHECK(low[X86_BOOT_FDT] == 0 && low[X86_BOOT_PD_EXTRA] == 0);

	memset(low, 0, X86_BOOT_AREA);
	CHECK(x86_build_page_tables(low, 65 * GiB) == 0); /* --mem 64G */
	check_identity(low, 4 * GiB);
	check_identity(low, 65 * GiB - 1);
	CHECK(walk(low, 65 * GiB, &flags) == ~0ULL);
	CHECK(low[X86_BOOT_PD_EXTRA_END] == 0);
	CHECK(x86_build_page_tables(low, 200 * GiB) == -E2BIG);
	free(low);
}

static void test_gdt(void)
{
	uint64_t gdt[X86_GDT_ENTRIES];
	uint64_t code, data;

	memset(gdt, 0xcc, sizeof(gdt));
	x86_build_gdt(gdt);
	code = gdt[X86_SEL_CODE / 8];
	data = gdt[X86_SEL_DATA / 8];
	CHECK(gdt[0] == 0);
	CHECK(code & (1ULL << 47));	/* present */
	CHECK(((code >> 45) & 3) == 0); /* DPL 0 */
	CHECK(code & (1ULL << 43));	/* code */
	CHECK(code & (1ULL << 53));	/* L: 64-bit */
	CHECK(!(code & (1ULL << 54)));	/* D must be 0 with L */
	CHECK(data & (1ULL << 47));
	CHECK(!(data & (1ULL << 43))); /* data */
	CHECK(data & (1ULL << 41));    /* writable */
	CHECK(((data >> 45) & 3) == 0);
}

static void test_regs(void)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	memset(&s, 0x5a, sizeof(s));
	x86_boot_sregs(&s, false);
	CHECK(s.cs.selector == 0x08 && s.cs.l == 1 && s.cs.db == 0);
	CHECK(s.cs.present && s.cs.s && s.cs.dpl == 0 && s.cs.base == 0);
	CHECK(s.ds.selector == 0x10 && s.ss.selector == 0x10);
	CHECK(s.es.selector == 0x10 && s.fs.selector == 0x10);
	CHECK(s.gs.selector == 0x10 && s.ss.base == 0 && s.ss.db == 1);
	CHECK(s.gdt.base == X86_BOOT_GDT && s.gdt.limit == 23);
	CHECK(s.cr3 == 0x2000);
	CHECK(s.cr0 == 0x80010033ULL);
	CHECK(s.cr4 == 0x620);
	CHECK(s.efer == 0x501);
	x86_boot_sregs(&s, true);
	CHECK(s.efer == 0xd01);

	memset(&r, 0x5a, sizeof(r));
	x86_boot_regs(&r, 0x101000, 0x10000);
	CHECK(r.rip == 0x101000 && r.rdi == 0x10000 && r.rsp == 0x80000);
	CHECK(r.rflags == 2 && r.rsi == 0 && r.rax == 0 && r.r15 == 0);
}

int main(void)
{
	test_page_tables();
	test_gdt();
	test_regs();
	return check_exit();
}
