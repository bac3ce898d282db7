// SPDX-License-Identifier: MIT
/*
 * Device tree: root, /chosen, /memory, /cpus, the serial and exit ports,
 * then one node per virtio-mmio device, written with libfdt's sequential
 * writer straight into the caller's buffer.
 */
#define pr_fmt(fmt) "fdt: " fmt
#include "vmm/fdt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "vhost/log.h"

/* Chains libfdt calls: the first error sticks and the rest are skipped. */
#define DT_DO(err, call)                \
	do {                            \
		if (!(err))             \
			(err) = (call); \
	} while (0)

/* Writes "reg" as (address, size) pairs of two cells each. */
static int dt_reg_prop(void *fdt, const uint64_t *pairs, unsigned int nr)
{
	fdt64_t cells[2 * MEM_MAX_REGIONS];

	if (nr > MEM_MAX_REGIONS)
		return -FDT_ERR_BADVALUE;
	for (unsigned int i = 0; i < 2 * nr; i++)
		cells[i] = cpu_to_fdt64(pairs[i]);
	return fdt_property(fdt, "reg", cells, (int)(2 * nr * sizeof(*cells)));
}

/* "vuvm,test" is the part of --test before the first comma. */
static int dt_test_name(void *fdt, const char *test, size_t len)
{
	void *val;
	int err =
		fdt_property_placeholder(fdt, "vuvm,test", (int)len + 1, &val);

	if (err)
		return err;
	memcpy(val, test, len);
	((char *)val)[len] = '\0';
	return 0;
}

static int dt_chosen(void *fdt, const struct dt_config *cfg)
{
	const char *test = cfg->test ? cfg->test : "";
	const char *comma = strchr(test, ',');
	size_t name_len = comma ? (size_t)(comma - test) : strlen(test);
	int err = fdt_begin_node(fdt, "chosen");

	DT_DO(err, fdt_property_string(fdt, "bootargs",
				       cfg->cmdline ? cfg->cmdline : ""));
	DT_DO(err, dt_test_name(fdt, test, name_len));
	DT_DO(err, fdt_property_string(fdt, "vuvm,test-args",
				       comma ? comma + 1 : ""));
	DT_DO(err, fdt_property_u32(fdt, "vuvm,tsc-khz", cfg->tsc_khz));
	DT_DO(err, fdt_property_string(fdt, "stdout-path", "/serial@3f8"));
	DT_DO(err, fdt_end_node(fdt));
	return err;
}

static int dt_memory(void *fdt, const struct mem_table *mem)
{
	uint64_t pairs[2 * MEM_MAX_REGIONS];
	char name[32];
	int err;

	for (unsigned int i = 0; i < mem->nr; i++) {
		pairs[2 * i] = mem->regions[i].gpa;
		pairs[2 * i + 1] = mem->regions[i].size;
	}
	snprintf(name, sizeof(name), "memory@%llx",
		 (unsigned long long)(mem->nr ? mem->regions[0].gpa : 0));
	err = fdt_begin_node(fdt, name);
	DT_DO(err, fdt_property_string(fdt, "device_type", "memory"));
	DT_DO(err, dt_reg_prop(fdt, pairs, mem->nr));
	DT_DO(err, fdt_end_node(fdt));
	return err;
}

static int dt_cpus(void *fdt, unsigned int cpus)
{
	char name[32];
	int err = fdt_begin_node(fdt, "cpus");

	DT_DO(err, fdt_property_u32(fdt, "#address-cells", 1));
	DT_DO(err, fdt_property_u32(fdt, "#size-cells", 0));
	for (unsigned int i = 0; i < cpus && !err; i++) {
		snprintf(name, sizeof(name), "cpu@%x", i);
		err = fdt_begin_node(fdt, name);
		DT_DO(err, fdt_property_string(fdt, "device_type", "cpu"));
		DT_DO(err, fdt_property_u32(fdt, "reg", i));
		DT_DO(err, fdt_end_node(fdt));
	}
	DT_DO(err, fdt_end_node(fdt));
	return err;
}

static int dt_check_port(void *fdt)
{
	int err = fdt_begin_node(fdt, "check@f6");

	DT_DO(err, fdt_property_string(fdt, "compatible", "vuvm,check-port"));
	DT_DO(err, fdt_property_u32(fdt, "vuvm,io-port", DT_CHECK_PORT));
	DT_DO(err, fdt_end_node(fdt));
	return err;
}

static int dt_ports(void *fdt)
{
	int err = fdt_begin_node(fdt, "serial@3f8");

	DT_DO(err, fdt_property_string(fdt, "compatible", "ns16550a"));
	DT_DO(err, fdt_property_u32(fdt, "vuvm,io-port", DT_SERIAL_PORT));
	DT_DO(err, fdt_property_u32(fdt, "clock-frequency", DT_UART_CLOCK));
	DT_DO(err, fdt_end_node(fdt));
	DT_DO(err, fdt_begin_node(fdt, "exit@f4"));
	DT_DO(err, fdt_property_string(fdt, "compatible", "vuvm,exit-port"));
	DT_DO(err, fdt_property_u32(fdt, "vuvm,io-port", DT_EXIT_PORT));
	DT_DO(err, fdt_end_node(fdt));
	return err;
}

static int dt_virtio(void *fdt, const struct dt_virtio_mmio *dev)
{
	uint64_t pair[2] = { dev->base, dev->size };
	char name[48];
	int err;

	snprintf(name, sizeof(name), "virtio_mmio@%llx",
		 (unsigned long long)dev->base);
	err = fdt_begin_node(fdt, name);
	DT_DO(err, fdt_property_string(fdt, "compatible", "virtio,mmio"));
	DT_DO(err, dt_reg_prop(fdt, pair, 1));
	DT_DO(err, fdt_property_u32(fdt, "interrupts", dev->gsi));
	DT_DO(err, fdt_end_node(fdt));
	return err;
}

static int dt_root(void *fdt, const struct dt_config *cfg)
{
	int err = fdt_begin_node(fdt, "");

	DT_DO(err, fdt_property_u32(fdt, "#address-cells", 2));
	DT_DO(err, fdt_property_u32(fdt, "#size-cells", 2));
	DT_DO(err, fdt_property_string(fdt, "compatible", "vuvm,tiny"));
	DT_DO(err, fdt_property_string(fdt, "model", "vuvm"));
	DT_DO(err, dt_chosen(fdt, cfg));
	DT_DO(err, dt_memory(fdt, cfg->mem));
	DT_DO(err, dt_cpus(fdt, cfg->cpus));
	DT_DO(err, dt_ports(fdt));
	if (cfg->check_port)
		DT_DO(err, dt_check_port(fdt));
	for (unsigned int i = 0; i < cfg->nr_virtio; i++)
		DT_DO(err, dt_virtio(fdt, &cfg->virtio[i]));
	DT_DO(err, fdt_end_node(fdt));
	return err;
}

int dt_build(void *buf, size_t size, const struct dt_config *cfg)
{
	int err = size > INT32_MAX ? -FDT_ERR_NOSPACE : 0;

	DT_DO(err, fdt_create(buf, (int)size));
	DT_DO(err, fdt_finish_reservemap(buf));
	DT_DO(err, dt_root(buf, cfg));
	DT_DO(err, fdt_finish(buf));
	if (err) {
		pr_err("cannot build the device tree: %s", fdt_strerror(err));
		return err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
	}
	return 0;
}
