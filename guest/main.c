// SPDX-License-Identifier: MIT
/*
 * The BSP's life in ring 3: IDT, device tree, console, then the workload
 * that /chosen/vuvm,test names, whose return value is the exit status.
 */
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>

#include "arch/x86_64/cpu.h"
#include "lib/console.h"
#include "lib/devtree.h"
#include "lib/kv.h"
#include "lib/time.h"
#include "workloads/workloads.h"

/* Without a console there is nobody to tell: crash so that vuvm says so. */
static void setup_console(void)
{
	uint16_t serial = 0, exit_io = 0;

	if (dt_init((const void *)boot_fdt) < 0)
		sys_call(SYS_SHUTDOWN, 0, 0, 0);
	dt_io_port("ns16550a", &serial);
	dt_io_port("vuvm,exit-port", &exit_io);
	console_init(serial, exit_io);
	if (!exit_io)
		printf("ERROR: no vuvm,exit-port in the device tree\n");
}

static void list_workloads(void)
{
	const struct workload *w;

	printf("known workloads:\n");
	for (w = workloads; w->name; w++)
		printf("  %-10s %s\n", w->name, w->summary);
}

static const struct workload *choose(const char *name, const char *args)
{
	const struct workload *w = workload_find(name);
	const char *bad;
	size_t len;

	if (!w) {
		printf("ERROR: unknown workload '%s'\n", name);
		list_workloads();
		exit(WORKLOAD_BAD_REQUEST);
	}
	bad = kv_unknown(args, w->params, &len);
	if (bad) {
		printf("ERROR: workload %s has no parameter '%.*s'\n", name,
		       (int)len, bad);
		exit(WORKLOAD_BAD_REQUEST);
	}
	return w;
}

void bsp_main(struct cpu *c)
{
	const struct workload *w;
	const char *name, *args;
	uint32_t khz = 0;

	idt_init();
	setup_console();
	dt_chosen_u32("vuvm,tsc-khz", &khz);
	time_init(khz);

	name = dt_chosen("vuvm,test");
	if (!name || !*name)
		name = WORKLOAD_DEFAULT;
	args = dt_chosen("vuvm,test-args");
	if (!args)
		args = "";
	w = choose(name, args);
	printf("vuvm tiny guest: workload %s%s%s\n", w->name, *args ? "," : "",
	       args);
	exit(w->entry(args));
}
