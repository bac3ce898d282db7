// SPDX-License-Identifier: MIT
/*
 * The ELF loader on images built in memory: one good image loaded and
 * checked byte by byte, then one broken field at a time, each rejected
 * with a message that names the problem.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "tests/vmm/elf_builder.h"
#include "vmm/elf.h"
#include "vmm/memory.h"

#define RAM (4ULL << 20)

static struct mem_table mem;
static uint8_t img[ELFB_SIZE];

/* Two segments: code at 1 MiB, data + bss after it. */
static size_t good(void)
{
	const struct elfb_seg segs[] = {
		{ 0x100000, 0x40, PF_R | PF_X },
		{ 0x101000, 0x2000, PF_R | PF_W },
	};

	return elfb_build(img, segs, 2, 0x100010);
}

static void expect(size_t len, const char *reason)
{
	char why[ELF_WHY_LEN] = "";
	uint64_t entry = 0;

	CHECK(elf_check(img, len, &mem, &entry, why) == -ENOEXEC);
	if (!strstr(why, reason)) {
		fprintf(stderr, "  wanted '%s', got '%s'\n", reason, why);
		CHECK(strstr(why, reason));
	}
}

static void test_good(void)
{
	const uint8_t *ram = mem.regions[0].host;
	uint64_t entry = 0;

	CHECK(elf_load(img, good(), &mem, &entry, "good") == 0);
	CHECK(entry == 0x100010);
	CHECK(ram[0x100000] == 0xa0 && ram[0x10003f] == 0xa0);
	CHECK(ram[0x100040] == 0);
	CHECK(ram[0x101000] == 0xa1 && ram[0x10103f] == 0xa1);
	CHECK(ram[0x101040] == 0); /* bss stays zero */
	/* The guest may use 0x8000-0xffff and 0x80000-0xfffff. */
	img[0] = 0;
	elfb_build(img, &(struct elfb_seg){ 0x8000, 0x8000, PF_X }, 1, 0x8000);
	CHECK(elf_load(img, ELFB_SIZE, &mem, &entry, "low") == 0);
	elfb_build(img, &(struct elfb_seg){ 0x80000, 0x80000, PF_X }, 1,
		   0xfffff);
	CHECK(elf_load(img, ELFB_SIZE, &mem, &entry, "low2") == 0);
}

static void test_header(void)
{
	size_t len = good();

	expect(0, "file is empty");
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)rand();
	expect(sizeof(img), "not an ELF file");
	good();
	expect(3, "not an ELF file");
	expect(40, "truncated ELF header");
	expect(sizeof(Elf64_Ehdr) + 10, "program header table outside");
	elfb_ehdr(img)->e_ident[EI_CLASS] = ELFCLASS32;
	expect(len, "not a 64-bit ELF");
	good();
	elfb_ehdr(img)->e_ident[EI_DATA] = ELFDATA2MSB;
	expect(len, "not a little-endian ELF");
	good();
	elfb_ehdr(img)->e_machine = EM_AARCH64;
	expect(len, "not an x86-64 ELF");
	good();
	elfb_ehdr(img)->e_type = ET_DYN;
	expect(len, "not an executable");
	good();
	elfb_ehdr(img)->e_phentsize = 32;
	expect(len, "bad program header size");
	good();
	elfb_ehdr(img)->e_phnum = 0;
	expect(len, "bad program header count");
	good();
	elfb_ehdr(img)->e_phoff = len - 8;
	expect(len, "program header table outside the file");
	good();
	elfb_ehdr(img)->e_phoff = UINT64_MAX - 7;
	expect(len, "program header table outside the file");
}

static void test_segments(void)
{
	size_t len = good();

	expect(ELFB_DATA_OFF + 0x20, "segment 0: file range outside the file");
	elfb_phdr(img, 1)->p_offset = UINT64_MAX - 8;
	expect(len, "segment 1: file range outside the file");
	good();
	elfb_phdr(img, 1)->p_filesz = 0x3000;
	expect(len, "file range outside the file");
	good();
	elfb_phdr(img, 0)->p_memsz = 0x10;
	expect(len, "segment 0: p_filesz > p_memsz");
	good();
	elfb_phdr(img, 1)->p_vaddr = 0x201000;
	expect(len, "p_vaddr");
	good();
	elfb_phdr(img, 1)->p_paddr = elfb_phdr(img, 1)->p_vaddr = RAM - 0x1000;
	expect(len, "segment 1 [0x3ff000, 0x401000) is outside guest RAM");
	good();
	elfb_phdr(img, 1)->p_paddr = elfb_phdr(img, 1)->p_vaddr = 0xd0000000;
	expect(len, "outside guest RAM");
	good();
	elfb_phdr(img, 1)->p_memsz = UINT64_MAX - 0x100000;
	expect(len, "segment 1: address overflow");
	good();
	elfb_phdr(img, 1)->p_paddr = elfb_phdr(img, 1)->p_vaddr = 0x100020;
	expect(len, "segments 0 and 1 overlap");
	good();
	elfb_phdr(img, 1)->p_type = PT_NOTE;
	elfb_phdr(img, 0)->p_type = PT_NULL;
	expect(len, "no PT_LOAD segment");
}

static void test_reserved(void)
{
	static const uint64_t bad[] = { 0x0,	 0x1000,  0x2000,  0x7fff,
					0x10000, 0x1ffff, 0x20000, 0x7ffc0 };
	const char *what[] = { "null page",  "boot GDT",    "boot GDT",
			       "boot GDT",   "device tree", "device tree",
			       "boot stack", "boot stack" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		elfb_build(img, &(struct elfb_seg){ bad[i], 0x40, PF_X }, 1,
			   bad[i]);
		expect(ELFB_SIZE, what[i]);
	}
}

static void test_entry(void)
{
	size_t len = good();

	elfb_ehdr(img)->e_entry = 0x101000; /* data segment */
	expect(len, "entry point 0x101000 is not in an executable segment");
	elfb_ehdr(img)->e_entry = 0x100040; /* just past the code */
	expect(len, "entry point");
	elfb_ehdr(img)->e_entry = 0x200000;
	expect(len, "entry point");
}

int main(void)
{
	srand(1);
	if (mem_alloc(&mem, RAM, false))
		return 1;
	test_good();
	test_header();
	test_segments();
	test_reserved();
	test_entry();
	mem_free(&mem);
	return check_exit();
}
