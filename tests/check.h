/* SPDX-License-Identifier: MIT */
/*
 * The test harness of the host tests (all but tests/guest/test_guest_libc.c,
 * which stands in for printf itself). CHECK*() name the failing expression
 * (CHECK_MSG: a printf-style sentence instead), its line and the case being
 * run, count the failure and carry on, so that one run reports every
 * failing check. REQUIRE() does the same and then ends the program: for the
 * few checks after which going on makes no sense (a NULL or MAP_FAILED
 * about to be used, a thread or process that did not start). main returns
 * check_exit(), or CHECK_RUN() for a table of cases (all, or the one named
 * on the command line): the number of failed checks as the exit status.
 * Also: upper time bounds that scale with the machine's load
 * (tests/time_scale.h), one memfd mapped twice, an open-fd counter for
 * leak checks.
 */
#ifndef VUVM_TESTS_CHECK_H
#define VUVM_TESTS_CHECK_H

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/time_scale.h"

/* The case being run, and the checks failed so far. Weak, so that a test
 * made of several files shares them; the count is atomic, as checks also
 * run on helper threads. */
__attribute__((weak)) const char *check_case;
__attribute__((weak)) int check_failures;

/* The exit status for @failures: the count, capped below 77 (CTest's
 * "skipped") so that it can neither read as a skip nor wrap to 0. */
#define CHECK_STATUS_MAX 76
static inline int check_status(int failures)
{
	return failures < CHECK_STATUS_MAX ? failures : CHECK_STATUS_MAX;
}

/* Counts one failure and prints where it happened; @fmt says what. */
__attribute__((format(printf, 3, 4))) static inline void
check_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	__atomic_add_fetch(&check_failures, 1, __ATOMIC_RELAXED);
	if (check_case)
		fprintf(stderr, "%s:%d: [%s] CHECK failed: ", file, line,
			check_case);
	else
		fprintf(stderr, "%s:%d: CHECK failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Ends the program after a failed REQUIRE. */
static inline void check_abandon(void)
{
	fprintf(stderr, "stopping: the checks after this one cannot run\n");
	exit(check_status(__atomic_load_n(&check_failures, __ATOMIC_RELAXED)));
}

#define CHECK(expr)                                                  \
	do {                                                         \
		if (!(expr))                                         \
			check_fail(__FILE__, __LINE__, "%s", #expr); \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_)                                                  \
			check_fail(__FILE__, __LINE__,                         \
				   "%s == %s (%lld != %lld)", #a, #b, a_, b_); \
	} while (0)

/* CHECK that says what it saw, printf-style: CHECK_MSG(ok, "p50 %llu", v). */
#define CHECK_MSG(expr, ...)                                         \
	do {                                                         \
		if (!(expr))                                         \
			check_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* NULL is a failure, not a crash. */
#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *a_ = (a), *b_ = (b);                             \
		if (!a_ || !b_ || strcmp(a_, b_))                            \
			check_fail(__FILE__, __LINE__,                       \
				   "%s\n   got: \"%s\"\nwanted: \"%s\"", #a, \
				   a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
	} while (0)

/* @s occurs in the string @hay (NULL is a failure, not a crash). */
#define CHECK_HAS(hay, s)                                                     \
	do {                                                                  \
		const char *h_ = (hay);                                       \
		if (!h_ || !strstr(h_, (s)))                                  \
			check_fail(__FILE__, __LINE__,                        \
				   "\"%s\" in %s\n   got: \"%s\"", (s), #hay, \
				   h_ ? h_ : "(null)");                       \
	} while (0)

#define REQUIRE(expr)                                                \
	do {                                                         \
		if (!(expr)) {                                       \
			check_fail(__FILE__, __LINE__, "%s", #expr); \
			check_abandon();                             \
		}                                                    \
	} while (0)

/* The number of failed checks as an exit status, with a summary line. */
static inline int check_exit(void)
{
	int n = __atomic_load_n(&check_failures, __ATOMIC_RELAXED);

	printf("%s: %d failure(s)\n", n ? "FAIL" : "PASS", n);
	return check_status(n);
}

struct check_case {
	const char *name;
	void (*fn)(void);
};

/* Runs every case, or only the one named by argv[1]; a case that fails
 * does not stop the others. Returns check_exit(). */
static inline int check_run(const struct check_case *cases, size_t n, int argc,
			    char **argv)
{
	int ran = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		int before = __atomic_load_n(&check_failures, __ATOMIC_RELAXED);

		if (argc > 1 && strcmp(argv[1], cases[i].name))
			continue;
		check_case = cases[i].name;
		cases[i].fn();
		ran++;
		if (__atomic_load_n(&check_failures, __ATOMIC_RELAXED) ==
		    before) {
			printf("ok %s\n", cases[i].name);
			continue;
		}
		printf("FAIL %s\n", cases[i].name);
		failed++;
	}
	check_case = NULL;
	if (!ran) {
		fprintf(stderr, "no test case named %s\n", argv[1]);
		return 1;
	}
	printf("%d cases passed, %d failed\n", ran - failed, failed);
	return check_exit();
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

	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, (off_t)size) == 0);
	*a = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	*b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(*a != MAP_FAILED && *b != MAP_FAILED);
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
