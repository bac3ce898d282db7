// SPDX-License-Identifier: MIT
/*
 * Guest RAM: parse the size, split it around the MMIO hole, back each range
 * with a sealed memfd, translate guest-physical addresses.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "memory: " fmt
#include "vmm/memory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost/log.h"

static int mem_suffix_shift(const char *suffix, unsigned int *shift)
{
	if (suffix[0] != '\0' && suffix[1] != '\0')
		return -EINVAL;
	switch (suffix[0]) {
	case '\0':
		*shift = 0;
		return 0;
	case 'k':
	case 'K':
		*shift = 10;
		return 0;
	case 'm':
	case 'M':
		*shift = 20;
		return 0;
	case 'g':
	case 'G':
		*shift = 30;
		return 0;
	}
	return -EINVAL;
}

int mem_parse_size(const char *text, uint64_t *size, const char **why)
{
	unsigned long long value;
	unsigned int shift;
	char *end;

	*why = "expected a number with an optional K, M or G suffix";
	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (end == text || mem_suffix_shift(end, &shift))
		return -EINVAL;
	*why = "too large";
	if (errno == ERANGE || value > (MEM_MAX_SIZE >> shift))
		return -EINVAL;
	value <<= shift;
	*why = "must be at least 2M";
	if (value < MEM_MIN_SIZE)
		return -EINVAL;
	*why = "must be a multiple of 2M";
	if (value % MEM_ALIGN)
		return -EINVAL;
	*size = value;
	return 0;
}

static void mem_add_range(struct mem_table *table, uint64_t gpa, uint64_t size)
{
	struct mem_region *r = &table->regions[table->nr++];

	r->gpa = gpa;
	r->size = size;
	r->host = NULL;
	r->fd = -1;
	r->fd_offset = 0;
}

int mem_layout(struct mem_table *table, uint64_t size)
{
	return mem_layout_parts(table, size, 1);
}

/* RAM below the hole in @parts ranges of equal size (2 MiB multiples),
 * the last one taking what rounding left; then the rest above 4 GiB. */
int mem_layout_parts(struct mem_table *table, uint64_t size, unsigned int parts)
{
	uint64_t low = size < MEM_HOLE_START ? size : MEM_HOLE_START;
	uint64_t part = parts ? low / parts / MEM_ALIGN * MEM_ALIGN : 0;

	if (size < MEM_MIN_SIZE || size > MEM_MAX_SIZE || size % MEM_ALIGN ||
	    !part || parts + (size > low) > MEM_MAX_REGIONS)
		return -EINVAL;
	table->nr = 0;
	for (unsigned int i = 0; i + 1 < parts; i++)
		mem_add_range(table, i * part, part);
	mem_add_range(table, (parts - 1) * part, low - (parts - 1) * part);
	if (size > low)
		mem_add_range(table, MEM_HIGH_START, size - low);
	return 0;
}

/* A memfd of @r->fd_offset + @r->size bytes, the range mapped from
 * @r->fd_offset. */
static int mem_back_region(struct mem_region *r, bool hugepages)
{
	unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int err;

	if (hugepages)
		flags |= MFD_HUGETLB; /* the default size: 2 MiB on x86 */
	r->fd = memfd_create("vuvm-ram", flags);
	if (r->fd < 0) {
		err = -errno;
		pr_err("memfd_create%s: %s", hugepages ? " (hugetlb)" : "",
		       strerror(errno));
		return err;
	}
	if (ftruncate(r->fd, (off_t)(r->fd_offset + r->size)) < 0)
		goto err_errno;
	if (fcntl(r->fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto err_errno;
	/* MAP_NORESERVE: RAM costs only what the guest touches. */
	r->host = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (hugepages ? 0 : MAP_NORESERVE), r->fd,
		       (off_t)r->fd_offset);
	if (r->host == MAP_FAILED) {
		r->host = NULL;
		goto err_errno;
	}
	return 0;
err_errno:
	err = -errno;
	if (hugepages && (err == -ENOMEM || err == -EINVAL))
		pr_err("cannot get %llu MiB of 2 MiB huge pages (see "
		       "/proc/sys/vm/nr_hugepages): %s",
		       (unsigned long long)(r->size >> 20), strerror(-err));
	else
		pr_err("cannot back %llu MiB of guest RAM: %s",
		       (unsigned long long)(r->size >> 20), strerror(-err));
	return err;
}

int mem_alloc(struct mem_table *table, uint64_t size, bool hugepages)
{
	return mem_alloc_parts(table, size, 1, hugepages);
}

int mem_alloc_parts(struct mem_table *table, uint64_t size, unsigned int parts,
		    bool hugepages)
{
	int err = mem_layout_parts(table, size, parts);

	if (err) {
		pr_err("invalid RAM size %llu in %u region%s",
		       (unsigned long long)size, parts, parts == 1 ? "" : "s");
		return err;
	}
	for (unsigned int i = 0; i < table->nr; i++) {
		/* Split RAM also starts every range MEM_ALIGN into its
		 * memfd: backends must honour mmap_offset. */
		table->regions[i].fd_offset = parts > 1 ? MEM_ALIGN : 0;
		err = mem_back_region(&table->regions[i], hugepages);
		if (err)
			goto err_free;
	}
	return 0;
err_free:
	mem_free(table);
	return err;
}

int mem_region_alloc(struct mem_region *r)
{
	int err;

	r->host = NULL;
	r->fd = -1;
	r->fd_offset = 0;
	if (!r->size || r->size % 4096 || r->gpa % 4096)
		return -EINVAL;
	err = mem_back_region(r, false);
	if (err)
		mem_region_free(r);
	return err;
}

void mem_region_free(struct mem_region *r)
{
	if (r->host)
		munmap(r->host, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->host = NULL;
	r->fd = -1;
}

void mem_free(struct mem_table *table)
{
	for (unsigned int i = 0; i < table->nr; i++)
		mem_region_free(&table->regions[i]);
	table->nr = 0;
}

static const struct mem_region *mem_find(const struct mem_table *table,
					 uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < table->nr; i++) {
		const struct mem_region *r = &table->regions[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		/* gpa - r->gpa < size, so the subtraction cannot wrap. */
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r;
	}
	return NULL;
}

bool mem_layout_contains(const struct mem_table *table, uint64_t gpa,
			 uint64_t len)
{
	return mem_find(table, gpa, len) != NULL;
}

void *mem_gpa_to_host(const struct mem_table *table, uint64_t gpa, uint64_t len)
{
	const struct mem_region *r = mem_find(table, gpa, len);

	if (!r || !r->host)
		return NULL;
	return (uint8_t *)r->host + (gpa - r->gpa);
}

uint64_t mem_top(const struct mem_table *table)
{
	const struct mem_region *r;

	if (!table->nr)
		return 0;
	r = &table->regions[table->nr - 1];
	return r->gpa + r->size;
}
