// SPDX-License-Identifier: MIT
/*
 * Device tree lookups over libfdt (see devtree.h). The tree comes from the
 * VMM: every length and cell count is checked before use.
 */
#include <libfdt.h>
#include <string.h>

#include "lib/devtree.h"

static const void *fdt;

int dt_init(const void *blob)
{
	int err = fdt_check_header(blob);

	if (err)
		return err;
	fdt = blob;
	return 0;
}

const void *dt_fdt(void)
{
	return fdt;
}

/* Reads @cells big-endian 32-bit cells (1 or 2) at @p into a u64. */
static uint64_t read_cells(const fdt32_t *p, int cells)
{
	uint64_t v = 0;

	while (cells--)
		v = v << 32 | fdt32_to_cpu(*p++);
	return v;
}

int dt_reg(int node, int index, uint64_t *base, uint64_t *size)
{
	int parent = fdt_parent_offset(fdt, node), ac, sc, len, per;
	const fdt32_t *reg;

	if (parent < 0)
		return parent;
	ac = fdt_address_cells(fdt, parent);
	sc = fdt_size_cells(fdt, parent);
	if (ac < 1 || ac > 2 || sc < 0 || sc > 2)
		return -FDT_ERR_BADNCELLS;
	reg = fdt_getprop(fdt, node, "reg", &len);
	if (!reg)
		return len;
	per = (ac + sc) * 4;
	if (index < 0 || len / per <= index)
		return -FDT_ERR_NOTFOUND;
	reg += index * (ac + sc);
	*base = read_cells(reg, ac);
	*size = read_cells(reg + ac, sc);
	return 0;
}

static int reg_count(int node)
{
	int parent = fdt_parent_offset(fdt, node), len;
	int cells;

	if (parent < 0)
		return 0;
	cells = fdt_address_cells(fdt, parent) + fdt_size_cells(fdt, parent);
	if (cells <= 0 || !fdt_getprop(fdt, node, "reg", &len))
		return 0;
	return len / (cells * 4);
}

static bool has_device_type(int node, const char *type)
{
	const char *t;
	int len;

	t = fdt_getprop(fdt, node, "device_type", &len);
	return t && len > 0 && strnlen(t, len) < (size_t)len &&
	       !strcmp(t, type);
}

int dt_memory(struct dt_range *ranges, int max)
{
	int node, i, n = 0;

	for (node = fdt_next_node(fdt, -1, NULL); node >= 0;
	     node = fdt_next_node(fdt, node, NULL)) {
		if (!has_device_type(node, "memory"))
			continue;
		for (i = 0; i < reg_count(node); i++, n++) {
			if (n < max && dt_reg(node, i, &ranges[n].base,
					      &ranges[n].size) < 0)
				return -FDT_ERR_BADVALUE;
		}
	}
	return n;
}

int dt_cpus(uint32_t *ids, int max)
{
	int cpus = fdt_path_offset(fdt, "/cpus"), node, len, n = 0;
	const fdt32_t *reg;

	if (cpus < 0)
		return cpus;
	fdt_for_each_subnode (node, fdt, cpus) {
		if (!has_device_type(node, "cpu"))
			continue;
		reg = fdt_getprop(fdt, node, "reg", &len);
		if (!reg || len < 4)
			return -FDT_ERR_BADVALUE;
		if (n < max)
			ids[n] = fdt32_to_cpu(*reg);
		n++;
	}
	return n;
}

int dt_io_port(const char *compatible, uint16_t *port)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, compatible), len;
	const fdt32_t *p;

	if (node < 0)
		return node;
	p = fdt_getprop(fdt, node, "vuvm,io-port", &len);
	if (!p)
		return len;
	if (len != 4 || fdt32_to_cpu(*p) > 0xffff)
		return -FDT_ERR_BADVALUE;
	*port = fdt32_to_cpu(*p);
	return 0;
}

const char *dt_chosen(const char *prop)
{
	int node = fdt_path_offset(fdt, "/chosen"), len;
	const char *s;

	if (node < 0)
		return NULL;
	s = fdt_getprop(fdt, node, prop, &len);
	if (!s || len < 1 || strnlen(s, len) == (size_t)len)
		return NULL;
	return s;
}

int dt_chosen_u32(const char *prop, uint32_t *val)
{
	int node = fdt_path_offset(fdt, "/chosen"), len;
	const fdt32_t *p;

	if (node < 0)
		return node;
	p = fdt_getprop(fdt, node, prop, &len);
	if (!p)
		return len;
	if (len != 4)
		return -FDT_ERR_BADVALUE;
	*val = fdt32_to_cpu(*p);
	return 0;
}

int dt_virtio_mmio(struct dt_virtio_mmio *devs, int max)
{
	int node = -1, n = 0, len;
	const fdt32_t *irq;

	for (;;) {
		node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio");
		if (node < 0)
			break;
		if (n < max) {
			struct dt_virtio_mmio *d = &devs[n];

			if (dt_reg(node, 0, &d->base, &d->size) < 0)
				d->base = d->size = 0;
			irq = fdt_getprop(fdt, node, "interrupts", &len);
			d->irq = irq && len >= 4 ? fdt32_to_cpu(*irq) : ~0u;
			d->node = node;
		}
		n++;
	}
	return n;
}
