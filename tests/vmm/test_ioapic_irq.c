// SPDX-License-Identifier: MIT
/*
 * An irqfd interrupt end to end on the split irqchip, without vuvm's
 * devices: a one-vCPU VM built from vuvm's own pieces (kvm.c, ioapic.c,
 * memory.c, elf.c, x86_boot.c) runs the TG_IRQ test guest, which programs
 * the IOAPIC (pin 16 to vector 0x30), enables its LAPIC and waits with
 * sti; hlt. The irqfd on GSI 16 is registered before the pin has a route,
 * as virtio-mmio does at start-up; once the guest reports ready, the test
 * writes the eventfd and the guest's handler must run.
 *
 * Usage: test_vmm_ioapic_irq TG_IRQ_ELF. Exits 0, 1 on failure, 77
 * without /dev/kvm.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/check.h"
#include "vmm/elf.h"
#include "vmm/ioapic.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"
#include "vmm/x86_boot.h"

#define TEST_GSI       16
#define PORT_READY     0x80
#define PORT_EXIT      0xf4
#define TEST_TIMEOUT_S 5

struct vm {
	struct kvm kvm;
	struct mem_table mem;
	struct ioapic ioapic;
	struct ioapic_sink sink;
	int vcpu;
	struct kvm_run *run;
	int irq_fd;
	unsigned int routes_set; /* tables KVM accepted */
};

static int set_routes(void *ctx, const struct ioapic_route *routes,
		      unsigned int nr)
{
	struct vm *vm = ctx;
	int err = kvm_set_msi_routes(&vm->kvm, routes, nr);

	vm->routes_set += !err;
	return err;
}

static void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	void *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 &&
	    !fseek(f, 0, SEEK_SET)) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*size = (size_t)n;
	}
	fclose(f);
	return buf;
}

static int load_guest(struct vm *vm, const char *path, uint64_t *entry)
{
	uint8_t *low = mem_gpa_to_host(&vm->mem, 0, X86_BOOT_AREA);
	size_t size = 0;
	void *image = read_file(path, &size);
	int err;

	if (!image || !low) {
		fprintf(stderr, "cannot read %s\n", path);
		free(image);
		return -ENOENT;
	}
	err = elf_load(image, size, &vm->mem, entry, path);
	free(image);
	if (!err)
		err = x86_build_page_tables(low, mem_top(&vm->mem));
	x86_build_gdt((uint64_t *)(low + X86_BOOT_GDT));
	return err;
}

static int create_vcpu(struct vm *vm, uint64_t entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	vm->vcpu = ioctl(vm->kvm.vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		return -errno;
	vm->run = mmap(NULL, (size_t)vm->kvm.run_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED ||
	    ioctl(vm->vcpu, KVM_SET_CPUID2, vm->kvm.cpuid) < 0 ||
	    ioctl(vm->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	x86_boot_sregs(&sregs, false);
	x86_boot_regs(&regs, entry, X86_BOOT_FDT);
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(vm->vcpu, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static int setup(struct vm *vm, const char *guest)
{
	uint64_t entry;
	int err;

	vm->vcpu = vm->irq_fd = -1;
	vm->sink = (struct ioapic_sink){ vm, set_routes };
	ioapic_init(&vm->ioapic, &vm->sink);
	err = kvm_open(&vm->kvm, KVM_DEVICE);
	if (err)
		return err;
	err = kvm_create_vm(&vm->kvm);
	if (!err)
		err = mem_alloc(&vm->mem, 2ULL << 20, false);
	if (!err)
		err = kvm_add_slots(&vm->kvm, &vm->mem);
	if (!err)
		err = load_guest(vm, guest, &entry);
	if (!err)
		err = create_vcpu(vm, entry);
	if (err)
		return err;
	/* Before the pin has a route, as virtio-mmio registers its irqfds. */
	vm->irq_fd = eventfd(0, EFD_CLOEXEC);
	if (vm->irq_fd < 0)
		return -errno;
	return kvm_irqfd(&vm->kvm, TEST_GSI, vm->irq_fd, true);
}

/* Returns 1 to run on, 0 when the guest wrote its status, -1 on error. */
static int handle_exit(struct vm *vm, uint32_t *status)
{
	struct kvm_run *run = vm->run;
	uint8_t *io = (uint8_t *)run + run->io.data_offset;
	uint64_t one = 1;

	if (run->exit_reason == KVM_EXIT_MMIO &&
	    ioapic_mmio(&vm->ioapic, run->mmio.phys_addr, run->mmio.data,
			run->mmio.len, run->mmio.is_write))
		return 1;
	if (run->exit_reason != KVM_EXIT_IO ||
	    run->io.direction != KVM_EXIT_IO_OUT) {
		fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
		return -1;
	}
	if (run->io.port == PORT_READY) {
		CHECK(vm->routes_set == 1);
		CHECK(write(vm->irq_fd, &one, sizeof(one)) == sizeof(one));
		return 1;
	}
	if (run->io.port == PORT_EXIT && run->io.size == 4) {
		memcpy(status, io, 4);
		return 0;
	}
	fprintf(stderr, "unexpected write to port %#x\n", run->io.port);
	return -1;
}

static void on_alarm(int sig)
{
	/* Nothing: delivery alone makes KVM_RUN return EINTR. */
}

static int run_guest(struct vm *vm, uint32_t *status)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	int r = 1;

	sigaction(SIGALRM, &sa, NULL);
	alarm(TEST_TIMEOUT_S);
	while (r > 0) {
		if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
			fprintf(stderr, "KVM_RUN: %s%s\n", strerror(errno),
				errno == EINTR ? " (timed out: the interrupt "
						 "never arrived)"
					       : "");
			return -1;
		}
		r = handle_exit(vm, status);
	}
	alarm(0);
	return r;
}

static void teardown(struct vm *vm)
{
	if (vm->irq_fd >= 0) {
		kvm_irqfd(&vm->kvm, TEST_GSI, vm->irq_fd, false);
		close(vm->irq_fd);
	}
	if (vm->run && vm->run != MAP_FAILED)
		munmap(vm->run, (size_t)vm->kvm.run_size);
	if (vm->vcpu >= 0)
		close(vm->vcpu);
	kvm_close(&vm->kvm);
	mem_free(&vm->mem);
	ioapic_destroy(&vm->ioapic);
}

int main(int argc, char **argv)
{
	static struct vm vm;
	uint32_t status = ~0U;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s TG_IRQ_ELF\n", argv[0]);
		return 1;
	}
	if (access(KVM_DEVICE, F_OK)) {
		printf("SKIP: %s does not exist\n", KVM_DEVICE);
		return 77;
	}
	err = setup(&vm, argv[1]);
	CHECK(!err);
	if (!err)
		CHECK(!run_guest(&vm, &status));
	if (!err) {
		printf("guest status %u (0: the interrupt arrived)\n", status);
		CHECK(status == 0);
		CHECK(vm.routes_set == 1);
	}
	teardown(&vm);
	return check_exit();
}
