/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM: the one table of RAM ranges.
 *
 * Each range is a sealed memfd mapped MAP_SHARED into vuvm. The table is the
 * single source for the KVM memory slots, the FDT /memory node and (later)
 * the vhost-user memory table: guest-physical address, size, vuvm's host
 * address, fd and offset in that fd.
 *
 * RAM below the 32-bit MMIO hole ends at MEM_HOLE_START; the rest continues
 * at MEM_HIGH_START (4 GiB). Fresh RAM reads as zero, and vuvm touches only
 * the pages it writes, because a first touch of a guest page is expensive.
 */
#ifndef VUVM_VMM_MEMORY_H
#define VUVM_VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_HOLE_START	 0xc0000000ULL
#define MEM_HIGH_START	 0x100000000ULL
#define MEM_MIN_SIZE	 (2ULL << 20)
#define MEM_MAX_SIZE	 (64ULL << 30)
#define MEM_ALIGN	 (2ULL << 20)
#define MEM_DEFAULT_SIZE (64ULL << 20)
#define MEM_MAX_REGIONS	 8 /* what SET_MEM_TABLE carries */
#define MEM_MAX_PARTS	 8 /* --mem-regions */
/*
 * Guest-physical space for memory added while the guest runs (the check
 * port's memory steps, vhost_user_dev.h): in the 32-bit hole below the
 * devices' MMIO windows, so never RAM, and inside the boot identity map
 * (which always covers the first 4 GiB), so the guest reaches it as it is.
 */
#define MEM_HOT_START 0xc0000000ULL
#define MEM_HOT_END   0xd0000000ULL

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	void *host;
	int fd;
	uint64_t fd_offset;
};

struct mem_table {
	unsigned int nr;
	struct mem_region regions[MEM_MAX_REGIONS];
};

/*
 * Parses a RAM size: plain bytes or a number with a K, M or G suffix (powers
 * of 1024, either case). The size must be a multiple of 2 MiB between
 * MEM_MIN_SIZE and MEM_MAX_SIZE. Returns 0, or -EINVAL with @why set to a
 * short reason for the user.
 */
int mem_parse_size(const char *text, uint64_t *size, const char **why);

/*
 * Fills @table with the guest-physical layout of @size bytes of RAM, split
 * around the MMIO hole; no memory is allocated (host = NULL, fd = -1).
 * @size must already be valid (see mem_parse_size). Returns 0 or -EINVAL.
 */
int mem_layout(struct mem_table *table, uint64_t size);

/*
 * Like mem_layout(), with the RAM below the hole cut into @parts ranges of
 * equal size (multiples of 2 MiB; the last takes the remainder), each
 * later backed by its own memfd (--mem-regions). -EINVAL when a part
 * would be under 2 MiB or the table would exceed MEM_MAX_REGIONS.
 */
int mem_layout_parts(struct mem_table *table, uint64_t size,
		     unsigned int parts);

/*
 * Lays out @size bytes and backs every range with its own sealed memfd
 * (hugetlb pages when @hugepages), mapped shared. Returns 0 or -errno, with
 * nothing left allocated on error.
 */
int mem_alloc(struct mem_table *table, uint64_t size, bool hugepages);

/*
 * mem_alloc() over mem_layout_parts(). With @parts > 1 every range sits
 * MEM_ALIGN bytes into its memfd (fd_offset, the vhost-user mmap_offset),
 * so a backend that ignores mmap_offset sees the wrong bytes.
 */
int mem_alloc_parts(struct mem_table *table, uint64_t size, unsigned int parts,
		    bool hugepages);

/*
 * Backs the one range @r describes (gpa and size set, a multiple of the
 * page size) with a fresh sealed memfd mapped shared from offset 0, as
 * mem_alloc() backs RAM (no hugetlb). Returns 0 or -errno, with @r
 * holding nothing on error (host NULL, fd -1).
 */
int mem_region_alloc(struct mem_region *r);

/* Unmaps and closes what mem_region_alloc() made; safe twice. */
void mem_region_free(struct mem_region *r);

/* Unmaps and closes everything mem_alloc() made; safe on a laid-out table. */
void mem_free(struct mem_table *table);

/*
 * Returns vuvm's pointer to guest-physical [@gpa, @gpa + @len), or NULL
 * unless every byte of it is inside one RAM range (a zero @len still needs
 * @gpa inside RAM). Safe against overflow for any @gpa and @len.
 */
void *mem_gpa_to_host(const struct mem_table *table, uint64_t gpa,
		      uint64_t len);

/*
 * Returns whether guest-physical [@gpa, @gpa + @len) lies inside one range
 * of @table's layout (same rules as mem_gpa_to_host, host not needed).
 */
bool mem_layout_contains(const struct mem_table *table, uint64_t gpa,
			 uint64_t len);

/* Returns the guest-physical address just past the highest RAM byte. */
uint64_t mem_top(const struct mem_table *table);

#endif
