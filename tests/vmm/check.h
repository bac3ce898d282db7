/* SPDX-License-Identifier: MIT */
/*
 * A minimal check harness for vuvm's host unit tests: CHECK() prints each
 * failure with its line and counts it; check_exit() turns the count into
 * the test's exit status.
 */
#ifndef VUVM_TESTS_VMM_CHECK_H
#define VUVM_TESTS_VMM_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond)                                                    \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, \
				__LINE__, #cond);                      \
			check_failures++;                              \
		}                                                      \
	} while (0)

static inline int check_exit(void)
{
	printf("%s: %d failure(s)\n", check_failures ? "FAIL" : "PASS",
	       check_failures);
	return check_failures ? 1 : 0;
}

#endif
