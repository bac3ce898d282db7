// SPDX-License-Identifier: MIT
/*
 * probe: prints what the guest sees (RAM ranges, CPUs listed in the FDT and
 * CPUs that actually checked in after INIT/SIPI, devices, TSC frequency),
 * as text and as one VUVM-JSON line, and checks that it is sane.
 */
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/smp.h"
#include "lib/devtree.h"
#include "lib/json.h"
#include "lib/report.h"
#include "lib/time.h"
#include "workloads/workloads.h"

#define MAX_RANGES    16
#define MAX_DEVS      32
#define AP_TIMEOUT_US 200000

extern const char _image_start[], _end[];

struct probe {
	struct dt_range mem[MAX_RANGES];
	int nr_mem;
	uint32_t cpu_ids[GUEST_MAX_CPUS];
	int nr_cpus;
	int online;
	uint64_t smp_ns; /* INIT/SIPI until every AP checked in */
	struct dt_virtio_mmio devs[MAX_DEVS];
	int nr_devs;
	uint16_t serial, exit_port;
	uint32_t tsc_khz;
	const char *bootargs;
};

static void gather(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	p->nr_mem = dt_memory(p->mem, MAX_RANGES);
	p->nr_cpus = dt_cpus(p->cpu_ids, GUEST_MAX_CPUS);
	p->smp_ns = time_ns();
	p->online = smp_boot(AP_TIMEOUT_US);
	p->smp_ns = time_ns() - p->smp_ns;
	p->nr_devs = dt_virtio_mmio(p->devs, MAX_DEVS);
	dt_io_port("ns16550a", &p->serial);
	dt_io_port("vuvm,exit-port", &p->exit_port);
	dt_chosen_u32("vuvm,tsc-khz", &p->tsc_khz);
	p->bootargs = dt_chosen("bootargs");
}

static int min_int(int a, int b)
{
	return a < b ? a : b;
}

static void print_text(const struct probe *p)
{
	int i;

	for (i = 0; i < min_int(p->nr_mem, MAX_RANGES); i++)
		printf("memory: 0x%012llx-0x%012llx (%llu MiB)\n",
		       (unsigned long long)p->mem[i].base,
		       (unsigned long long)(p->mem[i].base + p->mem[i].size),
		       (unsigned long long)(p->mem[i].size >> 20));
	printf("cpus: %d in the device tree, %d online after %llu us, LAPIC "
	       "IDs",
	       p->nr_cpus, p->online, (unsigned long long)p->smp_ns / 1000);
	for (i = 0; i < min_int(p->nr_cpus, GUEST_MAX_CPUS); i++)
		printf(" %u", p->cpu_ids[i]);
	printf("\n");
	for (i = 0; i < min_int(p->nr_devs, MAX_DEVS); i++)
		printf("virtio-mmio: %#llx size %#llx irq %u\n",
		       (unsigned long long)p->devs[i].base,
		       (unsigned long long)p->devs[i].size, p->devs[i].irq);
	printf("serial: port %#x, exit: port %#x\n", p->serial, p->exit_port);
	printf("tsc: %u kHz\n", p->tsc_khz);
	printf("bootargs: \"%s\"\n", p->bootargs ? p->bootargs : "");
}

static void print_json(const struct probe *p)
{
	struct json j;
	int i;

	json_begin(&j);
	json_str(&j, "workload", "probe");
	json_array_begin(&j, "memory");
	for (i = 0; i < min_int(p->nr_mem, MAX_RANGES); i++) {
		json_object_begin(&j, NULL);
		json_u64(&j, "base", p->mem[i].base);
		json_u64(&j, "size", p->mem[i].size);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_begin(&j, "cpus");
	json_i64(&j, "listed", p->nr_cpus);
	json_i64(&j, "online", p->online);
	json_array_begin(&j, "apic_ids");
	for (i = 0; i < min_int(p->nr_cpus, GUEST_MAX_CPUS); i++)
		json_u64(&j, NULL, p->cpu_ids[i]);
	json_array_end(&j);
	json_u64(&j, "boot_us", p->smp_ns / 1000);
	json_object_end(&j);
	json_array_begin(&j, "virtio_mmio");
	for (i = 0; i < min_int(p->nr_devs, MAX_DEVS); i++) {
		json_object_begin(&j, NULL);
		json_u64(&j, "base", p->devs[i].base);
		json_u64(&j, "size", p->devs[i].size);
		json_u64(&j, "irq", p->devs[i].irq);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_u64(&j, "serial_port", p->serial);
	json_u64(&j, "exit_port", p->exit_port);
	json_u64(&j, "tsc_khz", p->tsc_khz);
	json_str(&j, "bootargs", p->bootargs ? p->bootargs : "");
	json_print(&j);
}

static bool image_in_ram(const struct probe *p)
{
	uint64_t start = (uint64_t)_image_start, end = (uint64_t)_end;
	int i;

	for (i = 0; i < min_int(p->nr_mem, MAX_RANGES); i++) {
		if (p->mem[i].base <= start &&
		    end - p->mem[i].base <= p->mem[i].size)
			return true;
	}
	return false;
}

static void check(const struct probe *p)
{
	bool ids_ok = true, bsp_listed = false;
	int i;

	report(p->nr_mem >= 1, "at least one memory range (%d)", p->nr_mem);
	report(image_in_ram(p), "the guest image lies in RAM");
	report(p->nr_cpus >= 1, "at least one CPU listed (%d)", p->nr_cpus);
	for (i = 0; i < min_int(p->nr_cpus, GUEST_MAX_CPUS); i++) {
		ids_ok &= p->cpu_ids[i] <= 0xff;
		bsp_listed |= p->cpu_ids[i] == lapic_id();
	}
	report(ids_ok, "LAPIC IDs fit xAPIC (<= 255)");
	report(bsp_listed, "the BSP's LAPIC ID %u is listed", lapic_id());
	report(p->online == min_int(p->nr_cpus, GUEST_MAX_CPUS),
	       "every listed CPU checked in (%d of %d)", p->online, p->nr_cpus);
	report(p->serial != 0, "serial port found");
	report(p->exit_port != 0, "exit port found");
	report(p->tsc_khz != 0, "TSC frequency given (%u kHz)", p->tsc_khz);
	for (i = 0; i < min_int(p->nr_devs, MAX_DEVS); i++)
		report(p->devs[i].size >= 0x100 && p->devs[i].irq != ~0u,
		       "virtio-mmio@%llx has a register window and an irq",
		       (unsigned long long)p->devs[i].base);
}

int probe_main(const char *args)
{
	struct probe p;

	report_prefix_push("probe");
	gather(&p);
	print_text(&p);
	print_json(&p);
	check(&p);
	report_prefix_pop();
	return report_summary();
}
