/* SPDX-License-Identifier: MIT */
/*
 * Reading vuvm's flattened device tree (docs/guest.md, "The device tree")
 * with libfdt. Every function returns a negative libfdt error code
 * (-FDT_ERR_*, printable with fdt_strerror) when the tree lacks what was
 * asked for; nothing here asserts on the tree's content.
 */
#ifndef VUVM_GUEST_DEVTREE_H
#define VUVM_GUEST_DEVTREE_H

#include <stdint.h>

struct dt_range {
	uint64_t base;
	uint64_t size;
};

struct dt_virtio_mmio {
	uint64_t base;
	uint64_t size;
	uint32_t irq; /* first cell of "interrupts" (a GSI), or ~0 if none */
	int node;     /* offset in the FDT, for later lookups */
};

/* Checks the header at @fdt and keeps it for the other calls. */
int dt_init(const void *fdt);
const void *dt_fdt(void);

/*
 * Each (address, size) pair of every node whose device_type is "memory",
 * in tree order. Fills at most @max; returns how many there are.
 */
int dt_memory(struct dt_range *ranges, int max);

/* The reg (LAPIC ID) of each /cpus child with device_type "cpu", in tree
 * order. Fills at most @max; returns how many there are. */
int dt_cpus(uint32_t *ids, int max);

/* The vuvm,io-port of the first node compatible with @compatible. */
int dt_io_port(const char *compatible, uint16_t *port);

/* A string property of /chosen, or NULL if absent or not terminated. */
const char *dt_chosen(const char *prop);
/* A u32 property of /chosen. */
int dt_chosen_u32(const char *prop, uint32_t *val);

/* Every "virtio,mmio" node; fills at most @max, returns how many. */
int dt_virtio_mmio(struct dt_virtio_mmio *devs, int max);

/*
 * The @index-th (address, size) pair of @node's reg, decoded with its
 * parent's #address-cells and #size-cells (1 or 2 each).
 */
int dt_reg(int node, int index, uint64_t *base, uint64_t *size);

#endif
