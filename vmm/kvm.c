// SPDX-License-Identifier: MIT
/*
 * KVM: open the device, check what we need, create the VM, give it RAM.
 */
#define pr_fmt(fmt) "kvm: " fmt
#include "vmm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost/log.h"

#define KVM_CPUID_MAX_ENTRIES 128

static const struct {
	int cap;
	const char *name;
} kvm_needed_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SPLIT_IRQCHIP, "KVM_CAP_SPLIT_IRQCHIP" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_GET_TSC_KHZ, "KVM_CAP_GET_TSC_KHZ" },
};

static int kvm_check_caps(struct kvm *kvm)
{
	int n;

	for (size_t i = 0;
	     i < sizeof(kvm_needed_caps) / sizeof(kvm_needed_caps[0]); i++) {
		if (ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION,
			  kvm_needed_caps[i].cap) <= 0) {
			pr_err("this KVM lacks %s, which vuvm needs",
			       kvm_needed_caps[i].name);
			return -ENOTSUP;
		}
	}
	n = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (n <= 0)
		n = ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	kvm->max_vcpus = n > 0 ? (unsigned int)n : 1;
	return 0;
}

static int kvm_read_cpuid(struct kvm *kvm)
{
	size_t size = sizeof(*kvm->cpuid) +
		      KVM_CPUID_MAX_ENTRIES * sizeof(kvm->cpuid->entries[0]);
	int err;

	kvm->cpuid = calloc(1, size);
	if (!kvm->cpuid)
		return -ENOMEM;
	kvm->cpuid->nent = KVM_CPUID_MAX_ENTRIES;
	if (ioctl(kvm->dev_fd, KVM_GET_SUPPORTED_CPUID, kvm->cpuid) < 0) {
		err = -errno;
		pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return err;
	}
	return 0;
}

static bool in_group(gid_t gid)
{
	gid_t groups[256];
	int n = getgroups(256, groups);

	if (getegid() == gid)
		return true;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * @path exists but cannot be opened for reading and writing (@err): says
 * who may open it and what gives this user that right. vuvm needs no root:
 * on Debian, udev makes /dev/kvm root:kvm 0660 and the kvm group is the
 * right (docs/install.md).
 */
static void kvm_access_error(const char *path, int err)
{
	const struct passwd *pw = getpwuid(geteuid());
	const char *user = pw ? pw->pw_name : "USER";
	const struct group *gr;
	char gname[64];
	struct stat st;

	if (stat(path, &st)) {
		pr_err("cannot open %s: %s", path, strerror(-err));
		return;
	}
	gr = getgrgid(st.st_gid);
	if (gr)
		snprintf(gname, sizeof(gname), "%s", gr->gr_name);
	else
		snprintf(gname, sizeof(gname), "%u", (unsigned int)st.st_gid);
	if (st.st_gid && (st.st_mode & 060) == 060 && !in_group(st.st_gid))
		pr_err("cannot open %s: %s: it is for group %s (mode %04o), "
		       "and user %s is not in it: sudo usermod -aG %s %s, "
		       "then log in again",
		       path, strerror(-err), gname,
		       (unsigned int)(st.st_mode & 07777), user, gname, user);
	else
		pr_err("cannot open %s: %s: group %s, mode %04o, gives user "
		       "%s no read and write access; Debian's udev makes it "
		       "group kvm, mode 0660, and a member of group kvm may "
		       "open it",
		       path, strerror(-err), gname,
		       (unsigned int)(st.st_mode & 07777), user);
}

static int kvm_open_device(struct kvm *kvm, const char *path)
{
	int err;

	kvm->dev_fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->dev_fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			pr_err("%s does not exist: this host has no KVM "
			       "(load kvm_intel, kvm_amd or kvm_pvm)",
			       path);
		else if (err == -EACCES || err == -EPERM)
			kvm_access_error(path, err);
		else
			pr_err("cannot open %s: %s", path, strerror(errno));
		return err;
	}
	err = ioctl(kvm->dev_fd, KVM_GET_API_VERSION, 0);
	if (err != KVM_API_VERSION) {
		pr_err("%s: KVM API version %d, vuvm needs %d", path, err,
		       KVM_API_VERSION);
		return -ENOTSUP;
	}
	return 0;
}

int kvm_open(struct kvm *kvm, const char *path)
{
	int err;

	memset(kvm, 0, sizeof(*kvm));
	kvm->vm_fd = -1;
	err = kvm_open_device(kvm, path);
	if (!err)
		err = kvm_check_caps(kvm);
	if (!err)
		err = kvm_read_cpuid(kvm);
	if (err) {
		kvm_close(kvm);
		return err;
	}
	return 0;
}

static int kvm_vm_ioctl(struct kvm *kvm, unsigned long req, unsigned long arg,
			const char *name)
{
	int err;

	if (ioctl(kvm->vm_fd, req, arg) >= 0)
		return 0;
	err = -errno;
	pr_err("%s: %s", name, strerror(errno));
	return err;
}

int kvm_add_slots(struct kvm *kvm, const struct mem_table *mem)
{
	for (unsigned int i = 0; i < mem->nr; i++) {
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = mem->regions[i].gpa,
			.memory_size = mem->regions[i].size,
			.userspace_addr = (uintptr_t)mem->regions[i].host,
		};
		int err = kvm_vm_ioctl(kvm, KVM_SET_USER_MEMORY_REGION,
				       (unsigned long)&slot,
				       "KVM_SET_USER_MEMORY_REGION");
		if (err)
			return err;
		kvm->nr_slots = i + 1;
	}
	return 0;
}

int kvm_set_slot(struct kvm *kvm, unsigned int slot, const struct mem_region *r)
{
	struct kvm_userspace_memory_region s = { .slot = slot };

	if (slot < MEM_MAX_REGIONS)
		return -EINVAL;
	if (r) {
		s.guest_phys_addr = r->gpa;
		s.memory_size = r->size;
		s.userspace_addr = (uintptr_t)r->host;
	}
	return kvm_vm_ioctl(kvm, KVM_SET_USER_MEMORY_REGION, (unsigned long)&s,
			    r ? "KVM_SET_USER_MEMORY_REGION"
			      : "KVM_SET_USER_MEMORY_REGION (delete)");
}

static void kvm_remove_slots(struct kvm *kvm)
{
	for (unsigned int i = 0; i < kvm->nr_slots; i++) {
		struct kvm_userspace_memory_region slot = { .slot = i };

		kvm_vm_ioctl(kvm, KVM_SET_USER_MEMORY_REGION,
			     (unsigned long)&slot,
			     "KVM_SET_USER_MEMORY_REGION (delete)");
	}
	kvm->nr_slots = 0;
}

/*
 * LAPICs in KVM, IOAPIC in vuvm (ioapic.c). KVM_CREATE_IRQCHIP would put
 * the IOAPIC and PIC in KVM too, but on the software KVM here it makes the
 * next memory-slot change and the VM's teardown wait out a grace period:
 * about 6.5 ms of a 12 ms boot (docs/benchmarks.md). Must come before any
 * vCPU exists.
 */
static int kvm_enable_split_irqchip(struct kvm *kvm)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args = { KVM_IOAPIC_PINS },
	};

	return kvm_vm_ioctl(kvm, KVM_ENABLE_CAP, (unsigned long)&cap,
			    "KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)");
}

int kvm_create_vm(struct kvm *kvm)
{
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;
	int err;

	kvm->run_size = ioctl(kvm->dev_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	kvm->vm_fd = ioctl(kvm->dev_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0 || kvm->run_size <= 0) {
		err = -errno;
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		return err;
	}
	err = kvm_vm_ioctl(kvm, KVM_SET_TSS_ADDR, KVM_TSS_ADDR,
			   "KVM_SET_TSS_ADDR");
	/* Only VMX-style KVMs have (and need) the identity map. */
	if (!err && ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION,
			  KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0)
		err = kvm_vm_ioctl(kvm, KVM_SET_IDENTITY_MAP_ADDR,
				   (unsigned long)&identity,
				   "KVM_SET_IDENTITY_MAP_ADDR");
	if (!err)
		err = kvm_enable_split_irqchip(kvm);
	return err;
}

int kvm_set_msi_routes(struct kvm *kvm, const struct ioapic_route *routes,
		       unsigned int nr)
{
	struct kvm_irq_routing *table;
	int err;

	if (nr > KVM_IOAPIC_PINS)
		return -EINVAL;
	table = calloc(1, offsetof(struct kvm_irq_routing, entries) +
				  nr * sizeof(table->entries[0]));
	if (!table)
		return -ENOMEM;
	table->nr = nr;
	for (unsigned int i = 0; i < nr; i++) {
		table->entries[i].gsi = routes[i].gsi;
		table->entries[i].type = KVM_IRQ_ROUTING_MSI;
		table->entries[i].u.msi.address_lo = routes[i].address_lo;
		table->entries[i].u.msi.data = routes[i].data;
	}
	err = kvm_vm_ioctl(kvm, KVM_SET_GSI_ROUTING, (unsigned long)table,
			   "KVM_SET_GSI_ROUTING");
	free(table);
	return err;
}

int kvm_coalesce_pio(struct kvm *kvm, uint16_t port, uint32_t size)
{
	struct kvm_coalesced_mmio_zone zone = {
		.addr = port,
		.size = size,
		.pio = 1,
	};

	if (ioctl(kvm->dev_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0)
		return -ENOTSUP;
	return kvm_vm_ioctl(kvm, KVM_REGISTER_COALESCED_MMIO,
			    (unsigned long)&zone,
			    "KVM_REGISTER_COALESCED_MMIO");
}

int kvm_ioeventfd(struct kvm *kvm, uint64_t addr, uint32_t len,
		  uint32_t datamatch, int fd, bool assign)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return kvm_vm_ioctl(kvm, KVM_IOEVENTFD, (unsigned long)&io,
			    "KVM_IOEVENTFD");
}

int kvm_irqfd(struct kvm *kvm, uint32_t gsi, int fd, bool assign)
{
	struct kvm_irqfd irq = {
		.fd = (uint32_t)fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	return kvm_vm_ioctl(kvm, KVM_IRQFD, (unsigned long)&irq, "KVM_IRQFD");
}

void kvm_close(struct kvm *kvm)
{
	if (kvm->vm_fd >= 0) {
		kvm_remove_slots(kvm);
		close(kvm->vm_fd);
	}
	if (kvm->dev_fd >= 0)
		close(kvm->dev_fd);
	free(kvm->cpuid);
	kvm->vm_fd = -1;
	kvm->dev_fd = -1;
	kvm->cpuid = NULL;
}
