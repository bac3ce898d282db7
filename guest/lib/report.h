/* SPDX-License-Identifier: MIT */
/*
 * Test reporting, in the style of kvm-unit-tests. Each check prints one
 * line to the console:
 *
 *   PASS: prefix: what        FAIL: prefix: what        SKIP: prefix: what
 *
 * where "prefix" is the stack of report_prefix_push() names joined by ": ".
 *
 * report: counts one test, prints PASS or FAIL, returns @pass.
 * report_skip: counts one skipped test.
 * report_info: prints "INFO: prefix: what", counts nothing.
 * report_summary: prints "SUMMARY: N tests, M failures[, K skipped]" and
 *   returns the exit status: 1 if anything failed, 77 if every test was
 *   skipped (or there were none), else 0. Use it as `return
 *   report_summary();` at the end of a workload.
 * Safe to call from any CPU; counters are atomic.
 */
#ifndef VUVM_GUEST_REPORT_H
#define VUVM_GUEST_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#define REPORT_SKIP_STATUS 77

bool report(bool pass, const char *fmt, ...) __printf(2, 3);
void report_skip(const char *fmt, ...) __printf(1, 2);
void report_info(const char *fmt, ...) __printf(1, 2);
void report_prefix_push(const char *prefix);
void report_prefix_pop(void);
int report_summary(void);
/* FAIL lines so far (a workload running several devices counts its own). */
unsigned int report_failures(void);

#endif
