/* SPDX-License-Identifier: MIT */
/*
 * The KVM VM: /dev/kvm with its API version and the capabilities vuvm
 * needs checked up front, the VM with its split irqchip, the guest RAM
 * slots, the interrupt routes and the CPUID that every vCPU starts from.
 *
 * Interrupts: the VM has a split irqchip (KVM_CAP_SPLIT_IRQCHIP). Each
 * vCPU's LAPIC is in KVM (so IPIs, INIT/SIPI, the LAPIC timer and HLT stay
 * in the kernel); the IOAPIC is vuvm's (ioapic.h) and there is no PIC.
 * GSIs 0..KVM_IOAPIC_PINS-1 are the IOAPIC's pins: the IOAPIC turns each
 * pin the guest unmasks into an MSI route (kvm_set_msi_routes()), and an
 * irqfd on that GSI then reaches the LAPIC without leaving KVM. An irqfd
 * may be registered before its GSI has a route (its writes are dropped,
 * as a masked pin's are); KVM re-resolves every irqfd when the table
 * changes.
 */
#ifndef VUVM_VMM_KVM_H
#define VUVM_VMM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/ioapic.h"
#include "vmm/memory.h"

#define KVM_DEVICE "/dev/kvm"
/* TSS (3 pages) and EPT identity map page, inside the 32-bit MMIO hole. */
#define KVM_TSS_ADDR	      0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL
/* GSIs KVM reserves for the userspace IOAPIC's pins. */
#define KVM_IOAPIC_PINS IOAPIC_PINS

struct kvm {
	int dev_fd;
	int vm_fd;
	int run_size; /* bytes to mmap of each vCPU fd */
	unsigned int max_vcpus;
	unsigned int nr_slots;	  /* memory slots kvm_add_slots() created */
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID */
};

/*
 * Opens @path (normally KVM_DEVICE), checks the API version and every
 * capability vuvm relies on, and reads the supported CPUID. Logs which
 * requirement failed. Returns 0 or -errno (-ENOENT when @path is missing).
 */
int kvm_open(struct kvm *kvm, const char *path);

/*
 * Creates the VM: TSS and identity-map addresses, split irqchip with
 * KVM_IOAPIC_PINS routes reserved. Call before any vCPU is created.
 * Returns 0 or -errno.
 */
int kvm_create_vm(struct kvm *kvm);

/*
 * Gives the VM one memory slot per RAM range of @mem. Call it before
 * anything registers on KVM's I/O buses (kvm_coalesce_pio(),
 * kvm_ioeventfd()): each registration frees the old bus after an SRCU
 * grace period, which on the software KVM here takes about 6 ms, and a
 * slot change made while one is pending waits it out.
 * Returns 0 or -errno.
 */
int kvm_add_slots(struct kvm *kvm, const struct mem_table *mem);

/*
 * Memory added or removed while the guest runs (the check port's memory
 * steps): memory slot @slot (at least MEM_MAX_REGIONS, past RAM's) maps
 * @r, or is deleted when @r is NULL. A slot's memory cannot be swapped in
 * place: delete it first. Returns 0 or -errno.
 */
int kvm_set_slot(struct kvm *kvm, unsigned int slot,
		 const struct mem_region *r);

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

/*
 * Registers (@assign) or removes an irqfd: a write to @fd raises @gsi,
 * through whatever route @gsi has then (none: the write is dropped).
 */
int kvm_irqfd(struct kvm *kvm, uint32_t gsi, int fd, bool assign);

/*
 * Replaces the VM's whole GSI routing table with @nr (at most
 * KVM_IOAPIC_PINS) MSI routes. Safe from any thread. Returns 0 or -errno.
 */
int kvm_set_msi_routes(struct kvm *kvm, const struct ioapic_route *routes,
		       unsigned int nr);

/*
 * Closes what kvm_open() and kvm_create_vm() opened; safe to call twice.
 * Deletes the memory slots first: a slot change ends the grace periods
 * the I/O-bus registrations left pending at expedited pace (what remains
 * of ~6 ms), where destroying the VM with them pending waits them out at
 * normal pace (13 to 22 ms measured).
 */
void kvm_close(struct kvm *kvm);

#endif
