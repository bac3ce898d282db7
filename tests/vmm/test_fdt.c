// SPDX-License-Identifier: MIT
/*
 * The device tree builder, parsed back with libfdt: every node and
 * property of docs/guest.md, plus the too-small-buffer error.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <libfdt.h>

#include "tests/check.h"
#include "vmm/fdt.h"
#include "vmm/memory.h"

static uint8_t buf[65536];

static int node(const char *path)
{
	int off = fdt_path_offset(buf, path);

	if (off < 0)
		fprintf(stderr, "  missing node %s\n", path);
	CHECK(off >= 0);
	return off;
}

static void check_str(const char *path, const char *name, const char *want)
{
	int len = -1;
	const char *val = fdt_getprop(buf, node(path), name, &len);

	CHECK(val && len == (int)strlen(want) + 1 && !strcmp(val, want));
	if (!val || strcmp(val, want))
		fprintf(stderr, "  %s:%s is '%s', want '%s'\n", path, name,
			val ? val : "(none)", want);
}

static void check_u32(const char *path, const char *name, uint32_t want)
{
	int len = -1;
	const fdt32_t *val = fdt_getprop(buf, node(path), name, &len);

	CHECK(val && len == 4 && fdt32_to_cpu(*val) == want);
}

/* Checks a "reg" of @nr (address, size) pairs with two cells each. */
static void check_reg(const char *path, const uint64_t *pairs, int nr)
{
	int len = -1;
	const fdt64_t *val = fdt_getprop(buf, node(path), "reg", &len);

	CHECK(val && len == nr * 16);
	for (int i = 0; val && len == nr * 16 && i < 2 * nr; i++)
		CHECK(fdt64_ld(&val[i]) == pairs[i]);
}

static void build(const char *test, int expect)
{
	static struct mem_table mem;
	static const struct dt_virtio_mmio virtio[] = {
		{ 0xd0000000, 0x200, 5 },
		{ 0xd0000200, 0x200, 6 },
	};
	struct dt_config cfg = {
		.mem = &mem,
		.cpus = 3,
		.cmdline = "console=ttyS0 quiet",
		.test = test,
		.tsc_khz = 2500000,
		.virtio = virtio,
		.nr_virtio = 2,
	};

	CHECK(mem_layout(&mem, 4ULL << 30) == 0);
	CHECK(dt_build(buf, sizeof(buf), &cfg) == expect);
}

static void test_tree(void)
{
	const uint64_t ram[] = { 0, 0xc0000000, 0x100000000, 0x40000000 };
	const uint64_t dev0[] = { 0xd0000000, 0x200 };

	build("probe,a=1,b=2", 0);
	CHECK(fdt_check_header(buf) == 0);
	CHECK(fdt_totalsize(buf) < 4096);
	check_u32("/", "#address-cells", 2);
	check_u32("/", "#size-cells", 2);
	check_str("/", "compatible", "vuvm,tiny");
	check_str("/", "model", "vuvm");
	check_str("/chosen", "bootargs", "console=ttyS0 quiet");
	check_str("/chosen", "vuvm,test", "probe");
	check_str("/chosen", "vuvm,test-args", "a=1,b=2");
	check_u32("/chosen", "vuvm,tsc-khz", 2500000);
	check_str("/chosen", "stdout-path", "/serial@3f8");
	check_str("/memory@0", "device_type", "memory");
	check_reg("/memory@0", ram, 2);
	check_u32("/cpus", "#address-cells", 1);
	check_u32("/cpus", "#size-cells", 0);
	for (int i = 0; i < 3; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/cpus/cpu@%x", i);
		check_str(path, "device_type", "cpu");
		check_u32(path, "reg", (uint32_t)i);
	}
	CHECK(fdt_path_offset(buf, "/cpus/cpu@3") < 0);
	check_str("/serial@3f8", "compatible", "ns16550a");
	check_u32("/serial@3f8", "vuvm,io-port", 0x3f8);
	check_u32("/serial@3f8", "clock-frequency", 1843200);
	check_str("/exit@f4", "compatible", "vuvm,exit-port");
	check_u32("/exit@f4", "vuvm,io-port", 0xf4);
	check_str("/virtio_mmio@d0000000", "compatible", "virtio,mmio");
	check_reg("/virtio_mmio@d0000000", dev0, 1);
	check_u32("/virtio_mmio@d0000000", "interrupts", 5);
	check_u32("/virtio_mmio@d0000200", "interrupts", 6);
}

static void test_test_arg(void)
{
	build("exit", 0);
	check_str("/chosen", "vuvm,test", "exit");
	check_str("/chosen", "vuvm,test-args", "");
	build(NULL, 0);
	check_str("/chosen", "vuvm,test", "");
	check_str("/chosen", "vuvm,test-args", "");
	build("exit,status=3,", 0);
	check_str("/chosen", "vuvm,test-args", "status=3,");
}

static void test_too_small(void)
{
	static struct mem_table mem;
	struct dt_config cfg = { .mem = &mem, .cpus = 1 };

	CHECK(mem_layout(&mem, 64ULL << 20) == 0);
	CHECK(dt_build(buf, 128, &cfg) == -ENOSPC);
	CHECK(dt_build(buf, sizeof(buf), &cfg) == 0);
	check_str("/chosen", "bootargs", "");
}

int main(void)
{
	test_tree();
	test_test_arg();
	test_too_small();
	return check_exit();
}
