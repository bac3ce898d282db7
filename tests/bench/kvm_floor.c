// SPDX-License-Identifier: MIT
/*
 * The floor for vuvm's boot time: the least a KVM process can do to run a
 * guest. Opens /dev/kvm, creates a VM (no in-kernel irqchip, so HLT exits
 * to us), gives it one page of RAM holding a single HLT, creates one vCPU
 * in real mode and runs it until KVM_EXIT_HLT. Exits 0 on that exit.
 *
 * With --split-irqchip it enables the split irqchip as vuvm does
 * (KVM_CAP_SPLIT_IRQCHIP: LAPIC in the kernel, IOAPIC in userspace); with
 * --irqchip it creates the full in-kernel irqchip (KVM_CREATE_IRQCHIP), as
 * vuvm did before. With either, HLT stays in the kernel, so the guest is
 * "out %al, $0xf4" and the expected exit KVM_EXIT_IO.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define FLOOR_GPA  0x1000
#define FLOOR_SIZE 0x1000

static int floor_fail(const char *what)
{
	perror(what);
	return 1;
}

static int floor_setup_vcpu(int vcpu)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = FLOOR_GPA, .rflags = 2 };

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return -1;
	return ioctl(vcpu, KVM_SET_REGS, &regs);
}

int main(int argc, char **argv)
{
	bool full = argc > 1 && !strcmp(argv[1], "--irqchip");
	bool split = argc > 1 && !strcmp(argv[1], "--split-irqchip");
	bool irqchip = full || split;
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args = { 24 },
	};
	int kvm, vm, vcpu, run_size;
	struct kvm_userspace_memory_region slot;
	struct kvm_run *run;
	uint8_t *ram;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return floor_fail("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000) < 0)
		return floor_fail("KVM_CREATE_VM");
	if (full && ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return floor_fail("KVM_CREATE_IRQCHIP");
	if (split && ioctl(vm, KVM_ENABLE_CAP, &cap) < 0)
		return floor_fail("KVM_CAP_SPLIT_IRQCHIP");
	ram = mmap(NULL, FLOOR_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return floor_fail("mmap");
	ram[0] = 0xf4; /* hlt */
	if (irqchip) {
		ram[0] = 0xe6; /* out %al, $0xf4 */
		ram[1] = 0xf4;
	}
	slot = (struct kvm_userspace_memory_region){
		.guest_phys_addr = FLOOR_GPA,
		.memory_size = FLOOR_SIZE,
		.userspace_addr = (uintptr_t)ram,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return floor_fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || run_size <= 0)
		return floor_fail("KVM_CREATE_VCPU");
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu, 0);
	if (run == MAP_FAILED || floor_setup_vcpu(vcpu) < 0)
		return floor_fail("vcpu setup");
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return floor_fail("KVM_RUN");
	if (run->exit_reason != (irqchip ? KVM_EXIT_IO : KVM_EXIT_HLT)) {
		fprintf(stderr, "kvm_floor: unexpected exit reason %u\n",
			run->exit_reason);
		return 1;
	}
	return 0;
}
