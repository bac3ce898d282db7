/* SPDX-License-Identifier: MIT */
/*
 * Stands in for guest/arch/x86_64/io.h in host tests of guest code that
 * reads the TSC (bench_run_test.c): rdtsc() is the test's fake clock. The
 * test's include path puts this directory before guest/.
 */
#ifndef VUVM_TESTS_GUEST_FAKE_IO_H
#define VUVM_TESTS_GUEST_FAKE_IO_H

#include <stdint.h>

uint64_t rdtsc(void);

#endif
