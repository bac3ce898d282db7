/* SPDX-License-Identifier: MIT */
/*
 * The KVM VM: /dev/kvm with its API version and the capabilities vuvm
 * needs checked up front, the VM with its in-kernel irqchip, the guest RAM
 * slots and the CPUID that every vCPU starts from.
 */
#ifndef VUVM_VMM_KVM_H
#define VUVM_VMM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/memory.h"

#define KVM_DEVICE "/dev/kvm"
/* TSS (3 pages) and EPT identity map page, inside the 32-bit MMIO hole. */
#define KVM_TSS_ADDR	      0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

struct kvm {
	int dev_fd;
	int vm_fd;
	int run_size; /* bytes to mmap of each vCPU fd */
	unsigned int max_vcpus;
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID */
};

/*
 * Opens @path (normally KVM_DEVICE), checks the API version and every
 * capability vuvm relies on, and reads the supported CPUID. Logs which
 * requirement failed. Returns 0 or -errno (-ENOENT when @path is missing).
 */
int kvm_open(struct kvm *kvm, const char *path);

/*
 * Creates the VM: TSS and identity-map addresses, in-kernel irqchip.
 * Returns 0 or -errno.
 */
int kvm_create_vm(struct kvm *kvm);

/*
 * Gives the VM one memory slot per RAM range of @mem. Call it as late as
 * possible before the first KVM_RUN: the first slot change after
 * KVM_CREATE_IRQCHIP waits out a grace period (measured: about 7 ms on the
 * software KVM here), and everything done in between overlaps that wait.
 * Returns 0 or -errno.
 */
int kvm_add_slots(struct kvm *kvm, const struct mem_table *mem);

/*
 * Asks KVM to queue guest writes to ports [@port, @port + @size) in the
 * coalesced ring instead of exiting for each one. Returns 0, or -ENOTSUP
 * when this KVM cannot (then every write still exits, just slower).
 */
int kvm_coalesce_pio(struct kvm *kvm, uint16_t port, uint32_t size);

/*
 * Registers (@assign) or removes an ioeventfd: a @len-byte guest MMIO write
 * of @datamatch to @addr signals @fd without leaving KVM. Returns 0 or
 * -errno.
 */
int kvm_ioeventfd(struct kvm *kvm, uint64_t addr, uint32_t len,
		  uint32_t datamatch, int fd, bool assign);

/* Registers (@assign) or removes an irqfd: a write to @fd raises @gsi. */
int kvm_irqfd(struct kvm *kvm, uint32_t gsi, int fd, bool assign);

/* Closes what kvm_open() and kvm_create_vm() opened; safe to call twice. */
void kvm_close(struct kvm *kvm);

#endif
