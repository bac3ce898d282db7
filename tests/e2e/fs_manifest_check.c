// SPDX-License-Identifier: MIT
/*
 * Proves on the host that the tree fs-verify built through a virtio-fs
 * backend is really in the shared directory: the guest's manifest (its
 * VUVM-JSON line) lists every directory ("t/d0/") and every file ("t/f0
 * SIZE FNV1A64"); the shared directory must hold exactly those, nothing
 * extra and nothing missing, each file of that size with that FNV-1a 64
 * checksum (guest/workloads/fs_common.c computes the same over what it
 * read back and compared).
 *
 * Usage: fs_manifest_check VUVM-STDOUT SHARED-DIR
 * Exits 0 when everything matches, 1 with one line per difference.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENTRIES 256

struct entry {
	char *path; /* relative; directories end in '/' */
	uint64_t size, fnv;
	bool seen;
};

static struct entry want[MAX_ENTRIES];
static size_t nwant;
static size_t root_len;
static int problems;

static uint64_t fnv_file(const char *p, uint64_t *size)
{
	static unsigned char buf[1 << 16];
	uint64_t h = 0xcbf29ce484222325ull;
	ssize_t n;
	int fd = open(p, O_RDONLY);

	*size = 0;
	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
		*size += (uint64_t)n;
	}
	close(fd);
	return h;
}

static struct entry *lookup(const char *rel)
{
	for (size_t i = 0; i < nwant; i++)
		if (!strcmp(want[i].path, rel))
			return &want[i];
	return NULL;
}

static int visit(const char *p, const struct stat *st, int type,
		 struct FTW *ftw)
{
	char rel[4096];
	struct entry *e;
	uint64_t size, h;

	(void)st;
	if (ftw->level == 0)
		return 0;
	snprintf(rel, sizeof(rel), "%s%s", p + root_len + 1,
		 type == FTW_D ? "/" : "");
	e = lookup(rel);
	if (!e) {
		printf("FAIL: %s is in the shared directory, not in the "
		       "manifest\n",
		       rel);
		problems++;
		return 0;
	}
	e->seen = true;
	if (type == FTW_D)
		return 0;
	if (type != FTW_F) {
		printf("FAIL: %s is not a regular file\n", rel);
		problems++;
		return 0;
	}
	h = fnv_file(p, &size);
	if (size != e->size || h != e->fnv) {
		printf("FAIL: %s: %llu bytes, FNV %016llx; the guest says "
		       "%llu, %016llx\n",
		       rel, (unsigned long long)size, (unsigned long long)h,
		       (unsigned long long)e->size, (unsigned long long)e->fnv);
		problems++;
	}
	return 0;
}

/* The last fs-verify VUVM-JSON line of @file, parsed. */
static json_t *read_result(const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL, *last = NULL;
	size_t cap = 0;
	json_t *j = NULL;

	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0)
		if (!strncmp(line, "VUVM-JSON: ", 11) &&
		    strstr(line, "\"fs-verify\"")) {
			free(last);
			last = strdup(line + 11);
		}
	free(line);
	fclose(f);
	if (last)
		j = json_loads(last, 0, NULL);
	free(last);
	return j;
}

int main(int argc, char **argv)
{
	json_t *j, *m, *v;
	size_t i;

	if (argc != 3) {
		fprintf(stderr, "usage: fs_manifest_check VUVM-STDOUT "
				"SHARED-DIR\n");
		return 2;
	}
	j = read_result(argv[1]);
	m = j ? json_object_get(j, "manifest") : NULL;
	if (!json_is_array(m) || !json_array_size(m)) {
		printf("FAIL: no fs-verify manifest in %s\n", argv[1]);
		return 1;
	}
	json_array_foreach(m, i, v)
	{
		const char *s = json_string_value(v);
		char path[4096];
		unsigned long long size, h;

		if (!s || nwant == MAX_ENTRIES) {
			printf("FAIL: manifest entry %zu unreadable\n", i);
			return 1;
		}
		if (sscanf(s, "%4095s %llu %llx", path, &size, &h) == 3)
			want[nwant] =
				(struct entry){ strdup(path), size, h, false };
		else if (s[0] && s[strlen(s) - 1] == '/')
			want[nwant] = (struct entry){ strdup(s), 0, 0, false };
		else {
			printf("FAIL: manifest entry \"%s\" unreadable\n", s);
			return 1;
		}
		nwant++;
	}
	root_len = strlen(argv[2]);
	while (root_len > 1 && argv[2][root_len - 1] == '/')
		root_len--;
	if (nftw(argv[2], visit, 16, FTW_PHYS)) {
		perror(argv[2]);
		return 1;
	}
	for (i = 0; i < nwant; i++)
		if (!want[i].seen) {
			printf("FAIL: %s is in the manifest, not in the "
			       "shared directory\n",
			       want[i].path);
			problems++;
		}
	if (problems)
		return 1;
	printf("PASS: %zu manifest entries match %s\n", nwant, argv[2]);
	json_decref(j);
	return 0;
}
