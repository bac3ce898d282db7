/* SPDX-License-Identifier: MIT */
/*
 * The test harness of the host tests written as tables of cases (tests/vhost,
 * tests/backends, tests/guest): CHECK macros that name the failing
 * expression and the case, and stop the program; a runner for a table of
 * cases (all, or the one named on the command line); an open-fd counter
 * for leak checks.
 */
#ifndef VUVM_TESTS_CHECK_H
#define VUVM_TESTS_CHECK_H

#include <dirent.h>
#include <stdint.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The case being run. Weak, so that a test made of several files shares
 * one. */
__attribute__((weak)) const char *check_case = "setup";

#define CHECK(expr)                                                       \
	do {                                                              \
		if (!(expr)) {                                            \
			fprintf(stderr, "%s:%d: [%s] CHECK failed: %s\n", \
				__FILE__, __LINE__, check_case, #expr);   \
			exit(1);                                          \
		}                                                         \
	} while (0)

#define CHECK_EQ(a, b)                                                      \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if (a_ != b_) {                                             \
			fprintf(stderr,                                     \
				"%s:%d: [%s] CHECK failed: %s == %s "       \
				"(%lld != %lld)\n",                         \
				__FILE__, __LINE__, check_case, #a, #b, a_, \
				b_);                                        \
			exit(1);                                            \
		}                                                           \
	} while (0)

#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *a_ = (a), *b_ = (b);                             \
		if (strcmp(a_, b_)) {                                        \
			fprintf(stderr,                                      \
				"%s:%d: [%s] CHECK failed: %s\n"             \
				"   got: \"%s\"\nwanted: \"%s\"\n",          \
				__FILE__, __LINE__, check_case, #a, a_, b_); \
			exit(1);                                             \
		}                                                            \
	} while (0)

/* @s occurs in the string @hay. */
#define CHECK_HAS(hay, s) CHECK(strstr((hay), (s)) != NULL)

struct check_case {
	const char *name;
	void (*fn)(void);
};

/* Runs every case, or only the one named by argv[1]. */
static inline int check_run(const struct check_case *cases, size_t n, int argc,
			    char **argv)
{
	int ran = 0;

	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name))
			continue;
		check_case = cases[i].name;
		cases[i].fn();
		printf("ok %s\n", cases[i].name);
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "no test case named %s\n", argv[1]);
		return 1;
	}
	printf("%d cases passed\n", ran);
	return 0;
}
#define CHECK_RUN(cases, argc, argv) \
	check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv)

/*
 * Maps one fresh memfd of @size bytes twice, at two different addresses,
 * so that a driver working through *@a and a device through *@b really
 * exercise address translation (as in Linux's tools/virtio).
 */
static inline void check_map_twice(size_t size, uint8_t **a, uint8_t **b)
{
	/* The syscall: memfd_create() is declared only under _GNU_SOURCE,
	 * which not every includer defines. */
	int fd = (int)syscall(SYS_memfd_create, "vuvm-test", MFD_CLOEXEC);

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, (off_t)size) == 0);
	*a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	*b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(*a != MAP_FAILED && *b != MAP_FAILED);
	CHECK(*a != *b);
	close(fd);
}

/* Number of open fds of this process (leak checks before/after). */
static inline int check_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

#endif
