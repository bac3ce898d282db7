// SPDX-License-Identifier: MIT
/*
 * The region table: --mem parsing, the split around the MMIO hole, and
 * gpa -> host translation at every edge.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/check.h"
#include "vmm/memory.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static uint64_t parse_ok(const char *text)
{
	const char *why;
	uint64_t size = 0;

	CHECK(mem_parse_size(text, &size, &why) == 0);
	return size;
}

static void parse_bad(const char *text, const char *reason)
{
	const char *why = "";
	uint64_t size = 7;

	CHECK(mem_parse_size(text, &size, &why) == -EINVAL);
	CHECK(size == 7);
	CHECK(strstr(why, reason) != NULL);
}

static void test_parse(void)
{
	CHECK(parse_ok("64M") == 64 * MiB);
	CHECK(parse_ok("64m") == 64 * MiB);
	CHECK(parse_ok("2M") == 2 * MiB);
	CHECK(parse_ok("2048K") == 2 * MiB);
	CHECK(parse_ok("1G") == GiB);
	CHECK(parse_ok("64G") == 64 * GiB);
	CHECK(parse_ok("4194304") == 4 * MiB);
	parse_bad("", "expected a number");
	parse_bad("abc", "expected a number");
	parse_bad("-2M", "expected a number");
	parse_bad(" 2M", "expected a number");
	parse_bad("2MB", "expected a number");
	parse_bad("2T", "expected a number");
	parse_bad("M", "expected a number");
	parse_bad("0", "at least 2M");
	parse_bad("1M", "at least 2M");
	parse_bad("3M", "multiple of 2M");
	parse_bad("4194305", "multiple of 2M");
	parse_bad("65G", "too large");
	parse_bad("18446744073709551615", "too large");
	parse_bad("99999999999999999999999", "too large");
	parse_bad("17179869184G", "too large"); /* overflows when shifted */
}

static void test_layout(void)
{
	struct mem_table t;

	CHECK(mem_layout(&t, 64 * MiB) == 0);
	CHECK(t.nr == 1 && t.regions[0].gpa == 0);
	CHECK(t.regions[0].size == 64 * MiB && t.regions[0].fd == -1);
	CHECK(mem_top(&t) == 64 * MiB);

	CHECK(mem_layout(&t, 3 * GiB) == 0);
	CHECK(t.nr == 1 && mem_top(&t) == MEM_HOLE_START);

	CHECK(mem_layout(&t, 4 * GiB) == 0);
	CHECK(t.nr == 2);
	CHECK(t.regions[0].gpa == 0 && t.regions[0].size == MEM_HOLE_START);
	CHECK(t.regions[1].gpa == MEM_HIGH_START);
	CHECK(t.regions[1].size == GiB);
	CHECK(mem_top(&t) == MEM_HIGH_START + GiB);

	CHECK(mem_layout(&t, 0) == -EINVAL);
	CHECK(mem_layout(&t, 3 * MiB) == -EINVAL);
	CHECK(mem_layout(&t, MEM_MAX_SIZE + 2 * MiB) == -EINVAL);
}

/* A two-range table with fake host addresses (never dereferenced). */
static void fake_table(struct mem_table *t)
{
	CHECK(mem_layout(t, 4 * GiB) == 0);
	t->regions[0].host = (void *)0x10000000000ULL;
	t->regions[1].host = (void *)0x20000000000ULL;
}

static void test_translate(void)
{
	struct mem_table t;
	uint8_t *low, *high;

	fake_table(&t);
	low = t.regions[0].host;
	high = t.regions[1].host;
	CHECK(mem_gpa_to_host(&t, 0, 1) == low);
	CHECK(mem_gpa_to_host(&t, 0x1234, 16) == low + 0x1234);
	CHECK(mem_gpa_to_host(&t, MEM_HOLE_START - 1, 1) ==
	      low + MEM_HOLE_START - 1);
	CHECK(mem_gpa_to_host(&t, 0, MEM_HOLE_START) == low);
	CHECK(mem_gpa_to_host(&t, MEM_HOLE_START - 1, 0) != NULL);
	/* Out of RAM, across the hole, in the hole, past the end. */
	CHECK(mem_gpa_to_host(&t, MEM_HOLE_START - 1, 2) == NULL);
	CHECK(mem_gpa_to_host(&t, 0, MEM_HOLE_START + 1) == NULL);
	CHECK(mem_gpa_to_host(&t, MEM_HOLE_START, 1) == NULL);
	CHECK(mem_gpa_to_host(&t, MEM_HOLE_START, 0) == NULL);
	CHECK(mem_gpa_to_host(&t, 0xfee00000, 4) == NULL);
	CHECK(mem_gpa_to_host(&t, MEM_HIGH_START, GiB) == high);
	CHECK(mem_gpa_to_host(&t, MEM_HIGH_START + GiB - 8, 8) ==
	      high + GiB - 8);
	CHECK(mem_gpa_to_host(&t, MEM_HIGH_START + GiB - 8, 9) == NULL);
	CHECK(mem_gpa_to_host(&t, MEM_HIGH_START + GiB, 1) == NULL);
	/* Overflow: the end wraps around to inside RAM. */
	CHECK(mem_gpa_to_host(&t, 0x1000, UINT64_MAX) == NULL);
	CHECK(mem_gpa_to_host(&t, 0x1000, UINT64_MAX - 0xfff) == NULL);
	CHECK(mem_gpa_to_host(&t, UINT64_MAX, 2) == NULL);
	CHECK(mem_gpa_to_host(&t, UINT64_MAX, 0) == NULL);
	/* The layout alone answers containment but gives no pointer. */
	t.regions[0].host = NULL;
	CHECK(mem_layout_contains(&t, 0x1000, 0x1000));
	CHECK(mem_gpa_to_host(&t, 0x1000, 0x1000) == NULL);
}

static void test_alloc(void)
{
	struct mem_table t;
	uint8_t *p;

	CHECK(mem_alloc(&t, 4 * MiB, false) == 0);
	CHECK(t.nr == 1 && t.regions[0].fd >= 0 && t.regions[0].host);
	p = mem_gpa_to_host(&t, 4 * MiB - 1, 1);
	CHECK(p != NULL && *p == 0);
	if (p)
		*p = 0xaa;
	mem_free(&t);
	CHECK(t.nr == 0);
}

static void test_layout_parts(void)
{
	struct mem_table t;

	CHECK(mem_layout_parts(&t, 64 * MiB, 4) == 0);
	CHECK(t.nr == 4);
	for (unsigned int i = 0; i < t.nr; i++)
		CHECK(t.regions[i].gpa == i * 16 * MiB &&
		      t.regions[i].size == 16 * MiB);
	/* 64M / 3 rounds to 20M parts; the last takes the rest. */
	CHECK(mem_layout_parts(&t, 64 * MiB, 3) == 0);
	CHECK(t.nr == 3 && t.regions[1].gpa == 20 * MiB);
	CHECK(t.regions[2].gpa == 40 * MiB && t.regions[2].size == 24 * MiB);
	CHECK(mem_top(&t) == 64 * MiB);
	/* RAM above the hole is one more region, within 8. */
	CHECK(mem_layout_parts(&t, 4 * GiB, 7) == 0);
	CHECK(t.nr == 8 && t.regions[7].gpa == MEM_HIGH_START);
	CHECK(mem_layout_parts(&t, 4 * GiB, 8) == -EINVAL);
	CHECK(mem_layout_parts(&t, 4 * MiB, 4) == -EINVAL); /* 1M parts */
	CHECK(mem_layout_parts(&t, 64 * MiB, 0) == -EINVAL);
}

/* Split RAM sits 2M into each memfd: what vuvm writes is at that offset
 * of the fd a backend gets. */
static void test_alloc_parts(void)
{
	struct mem_table t;
	struct stat st;
	uint8_t *p, byte = 0;

	CHECK(mem_alloc_parts(&t, 8 * MiB, 2, false) == 0);
	CHECK(t.nr == 2 && t.regions[1].gpa == 4 * MiB);
	for (unsigned int i = 0; i < t.nr; i++) {
		CHECK(t.regions[i].fd_offset == MEM_ALIGN);
		CHECK(fstat(t.regions[i].fd, &st) == 0 &&
		      (uint64_t)st.st_size == MEM_ALIGN + 4 * MiB);
	}
	p = mem_gpa_to_host(&t, 4 * MiB + 5, 1);
	CHECK(p != NULL);
	CHECK(mem_gpa_to_host(&t, 4 * MiB - 1, 2) == NULL);
	if (p)
		*p = 0x5c;
	CHECK(pread(t.regions[1].fd, &byte, 1, (off_t)MEM_ALIGN + 5) == 1);
	CHECK(byte == 0x5c);
	mem_free(&t);
}

int main(void)
{
	test_parse();
	test_layout();
	test_translate();
	test_alloc();
	test_layout_parts();
	test_alloc_parts();
	return check_exit();
}
