/* SPDX-License-Identifier: MIT */
/*
 * The flattened device tree vuvm hands the guest (docs/guest.md, "The
 * device tree"), built with libfdt. Our prefix is dt_ because libfdt owns
 * fdt_.
 */
#ifndef VUVM_VMM_FDT_H
#define VUVM_VMM_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/memory.h"

#define DT_SERIAL_PORT 0x3f8
#define DT_EXIT_PORT   0xf4
#define DT_CHECK_PORT  0xf6 /* --check-port */
#define DT_UART_CLOCK  1843200

/* One virtio-mmio device window and its interrupt. */
struct dt_virtio_mmio {
	uint64_t base;
	uint64_t size;
	uint32_t gsi;
};

struct dt_config {
	const struct mem_table *mem;
	unsigned int cpus;   /* LAPIC IDs 0..cpus-1 */
	const char *cmdline; /* NULL: empty */
	const char *test;    /* "NAME[,ARGS]"; NULL: empty */
	uint32_t tsc_khz;
	const struct dt_virtio_mmio *virtio;
	unsigned int nr_virtio;
	bool check_port; /* a "vuvm,check-port" node */
};

/*
 * Writes the device tree for @cfg into @buf (@size bytes). Returns 0, or
 * -ENOSPC when it does not fit, -EINVAL on other libfdt errors.
 */
int dt_build(void *buf, size_t size, const struct dt_config *cfg);

#endif
