// SPDX-License-Identifier: MIT
/*
 * One run of a guest: set up KVM and RAM, load the guest, write the boot
 * structures, start the vCPUs, wait for the guest's verdict (or the
 * watchdog), stop every vCPU and tear everything down.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "machine: " fmt
#include "vmm/machine.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vhost/log.h"
#include "vmm/control.h"
#include "vmm/devices.h"
#include "vmm/elf.h"
#include "vmm/fdt.h"
#include "vmm/guest_image.h"
#include "vmm/ioapic.h"
#include "vmm/ioport.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"
#include "vmm/seccomp.h"
#include "vmm/serial.h"
#include "vmm/stop.h"
#include "vmm/vcpu.h"
#include "vmm/x86_boot.h"

struct machine {
	const struct vuvm_config *cfg;
	struct kvm kvm;
	struct ioapic ioapic;
	struct ioapic_sink ioapic_sink; /* routes go to kvm */
	struct mem_table mem;
	struct serial serial;
	struct ioport ioport; /* the UART and the exit port */
	struct devices devices;
	struct mmio_signals signals;	/* the devices' eventfds go to kvm */
	struct vudev_memslots memslots; /* --check-port's memory steps */
	struct control control;		/* --control */
	struct vm_stop stop;
	struct vcpu_exits exits; /* every vCPU's PIO and MMIO come here */
	unsigned int nr_vcpus;
	struct vcpu vcpus[VUVM_MAX_CPUS];
};

/* Static: large but mostly untouched, so it costs no page faults. */
static struct machine machine;

/* --- What the modules get instead of the machine ------------------------- */

static void machine_pio(void *ctx, unsigned int cpu, uint16_t port,
			bool is_write, uint8_t *data, unsigned int size)
{
	struct machine *m = ctx;

	ioport_access(&m->ioport, cpu, port, is_write, data, size);
}

/* The IOAPIC first, then the device windows. */
static bool machine_mmio(void *ctx, uint64_t addr, uint8_t *data,
			 unsigned int len, bool is_write)
{
	struct machine *m = ctx;

	return ioapic_mmio(&m->ioapic, addr, data, len, is_write) ||
	       devices_mmio(&m->devices, addr, data, len, is_write);
}

/* The check port: bits 0-7 the step, 8-15 the device, 16-31 its arg. */
static int64_t machine_check(void *ctx, uint32_t cmd)
{
	struct machine *m = ctx;
	unsigned int dev = (cmd >> 8) & 0xff;

	if (dev >= m->devices.nr || !m->devices.dev[dev].vu_open)
		return -ENODEV;
	return vudev_step(&m->devices.dev[dev].vu,
			  (enum vudev_step)(cmd & 0xff), cmd >> 16);
}

static int machine_memslot(void *ctx, unsigned int slot,
			   const struct mem_region *r)
{
	struct machine *m = ctx;

	return kvm_set_slot(&m->kvm, slot, r);
}

static void machine_drain(void *ctx)
{
	struct machine *m = ctx;

	ioport_drain(&m->ioport);
}

static int machine_set_routes(void *ctx, const struct ioapic_route *routes,
			      unsigned int nr)
{
	return kvm_set_msi_routes(ctx, routes, nr);
}

static int machine_ioeventfd(void *ctx, uint64_t addr, uint32_t len,
			     uint32_t datamatch, int fd, bool assign)
{
	return kvm_ioeventfd(ctx, addr, len, datamatch, fd, assign);
}

static int machine_irqfd(void *ctx, uint32_t gsi, int fd, bool assign)
{
	return kvm_irqfd(ctx, gsi, fd, assign);
}

/* --- The run -------------------------------------------------------------- */

static int machine_load_guest(struct machine *m, uint64_t *entry)
{
	struct guest_image img;
	int err = guest_image_open(&img, m->cfg->kernel);

	if (err)
		return err;
	err = elf_load(img.data, img.size, &m->mem, entry, img.name);
	guest_image_close(&img);
	return err;
}

static int machine_write_fdt(struct machine *m, uint8_t *low)
{
	const struct vuvm_config *cfg = m->cfg;
	struct dt_config dt = {
		.mem = &m->mem,
		.cpus = m->nr_vcpus,
		.cmdline = cfg->cmdline,
		.test = cfg->test,
		.virtio = m->devices.dt,
		.nr_virtio = m->devices.nr,
		.check_port = cfg->check_port,
	};
	int err = vcpu_tsc_khz(&m->vcpus[0], &dt.tsc_khz);

	if (err)
		return err;
	return dt_build(low + X86_BOOT_FDT, X86_BOOT_FDT_SIZE, &dt);
}

/* Page tables, GDT, FDT, then the bootstrap processor's registers. */
static int machine_write_boot(struct machine *m, uint64_t entry)
{
	uint8_t *low = mem_gpa_to_host(&m->mem, 0, X86_BOOT_AREA);
	int err;

	if (!low)
		return -EFAULT;
	err = x86_build_page_tables(low, mem_top(&m->mem));
	if (err) {
		pr_err("RAM too large for the boot page tables");
		return err;
	}
	x86_build_gdt((uint64_t *)(low + X86_BOOT_GDT));
	err = machine_write_fdt(m, low);
	if (err)
		return err;
	return vcpu_setup_boot(&m->vcpus[0], entry, X86_BOOT_FDT);
}

static int machine_create_vcpus(struct machine *m)
{
	if (m->cfg->cpus > m->kvm.max_vcpus) {
		pr_err("--cpus %u: this KVM allows at most %u vCPUs",
		       m->cfg->cpus, m->kvm.max_vcpus);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < m->cfg->cpus; i++) {
		int err = vcpu_create(&m->vcpus[i], &m->kvm, i, &m->exits,
				      &m->stop);

		m->nr_vcpus = i + 1;
		if (err)
			return err;
	}
	/* One exit per console byte costs ~9 us here; coalescing avoids it. */
	if (ioport_coalesce_serial(&m->ioport, &m->kvm,
				   (void *)((uint8_t *)m->vcpus[0].run +
					    KVM_COALESCED_MMIO_PAGE_OFFSET *
						    sysconf(_SC_PAGESIZE))))
		pr_info("no coalesced PIO: one exit per console byte");
	return 0;
}

static int machine_setup(struct machine *m)
{
	uint64_t entry;
	int err;

	/*
	 * Slots before anything goes on a KVM I/O bus (the UART's coalesced
	 * zone in machine_create_vcpus(), the devices' ioeventfds), or the
	 * slot change waits out a grace period: see kvm_add_slots(). The
	 * control socket first, so that a path it refuses costs nothing.
	 */
	err = control_open(&m->control, m->cfg->control, &m->devices, &m->stop);
	if (!err)
		err = kvm_open(&m->kvm, KVM_DEVICE);
	if (!err)
		err = kvm_create_vm(&m->kvm);
	if (!err)
		err = mem_alloc_parts(&m->mem, m->cfg->mem_size,
				      m->cfg->mem_regions, m->cfg->hugepages);
	if (!err)
		err = kvm_add_slots(&m->kvm, &m->mem);
	if (!err)
		err = machine_load_guest(m, &entry);
	if (!err)
		err = machine_create_vcpus(m);
	if (!err)
		err = devices_open(&m->devices, m->cfg, &m->mem, &m->signals,
				   &m->stop);
	if (!err && m->cfg->check_port) {
		m->memslots = (struct vudev_memslots){ m, machine_memslot };
		devices_set_memslots(&m->devices, &m->memslots);
	}
	if (!err)
		err = machine_write_boot(m, entry);
	return err;
}

/* Waits for a stop request, or makes one when --timeout expires. */
static void machine_wait(struct machine *m)
{
	if (vm_stop_wait(&m->stop, m->cfg->timeout) == -ETIMEDOUT) {
		pr_err("watchdog: the guest did not finish within %g s",
		       m->cfg->timeout);
		vm_stop_request(&m->stop, VUVM_EXIT_WATCHDOG);
	}
}

static void machine_boot(struct machine *m)
{
	int err = vcpu_init_signals();

	if (!err)
		err = devices_watch(&m->devices);
	if (!err)
		err = control_start(&m->control);
	for (unsigned int i = 0; i < m->nr_vcpus && !err; i++)
		err = vcpu_start(&m->vcpus[i]);
	if (err)
		vm_stop_request(&m->stop, VUVM_EXIT_SETUP);
	else /* every other thread runs: now main's own filter */
		sandbox_enter(SANDBOX_MAIN, "main");
	machine_wait(m);
	for (unsigned int i = 0; i < m->nr_vcpus; i++)
		vcpu_kick(&m->vcpus[i]);
}

/* Returns the exit status. */
static int machine_teardown(struct machine *m)
{
	bool lost;
	int status;

	/* First: its commands use the devices. */
	control_close(&m->control);
	for (unsigned int i = 0; i < m->nr_vcpus; i++)
		vcpu_join(&m->vcpus[i]);
	ioport_drain(&m->ioport);
	lost = devices_close(&m->devices);
	/* Final now: every thread that could ask for a stop has ended (the
	 * watcher in devices_close()). */
	status = vm_stop_status(&m->stop);
	if (lost && status < VUVM_EXIT_USAGE) {
		pr_err("exit status %d, not the guest's %d: a backend was lost",
		       VUVM_EXIT_BACKEND, status);
		status = VUVM_EXIT_BACKEND;
	}
	for (unsigned int i = 0; i < m->nr_vcpus; i++)
		vcpu_destroy(&m->vcpus[i]);
	serial_flush(&m->serial);
	serial_destroy(&m->serial);
	kvm_close(&m->kvm);
	ioapic_destroy(&m->ioapic);
	mem_free(&m->mem);
	ioport_destroy(&m->ioport);
	vm_stop_destroy(&m->stop);
	return status;
}

int machine_run(const struct vuvm_config *cfg)
{
	struct machine *m = &machine;

	m->cfg = cfg;
	m->kvm.dev_fd = m->kvm.vm_fd = -1;
	m->devices.stop_fd = m->devices.wake_fd = -1;
	m->ioapic_sink = (struct ioapic_sink){ &m->kvm, machine_set_routes };
	m->signals = (struct mmio_signals){ &m->kvm, machine_ioeventfd,
					    machine_irqfd };
	m->exits = (struct vcpu_exits){ m, machine_pio, machine_mmio,
					machine_drain };
	ioapic_init(&m->ioapic, &m->ioapic_sink);
	vm_stop_init(&m->stop);
	serial_init(&m->serial, STDOUT_FILENO, cfg->json);
	ioport_init(&m->ioport, &m->serial, &m->stop);
	if (cfg->check_port)
		ioport_set_check(&m->ioport, machine_check, m);
	if (machine_setup(m))
		vm_stop_request(&m->stop, VUVM_EXIT_SETUP);
	else
		machine_boot(m);
	return machine_teardown(m);
}
