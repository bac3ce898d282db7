/* SPDX-License-Identifier: MIT */
/*
 * vuvm-check's outputs, from the catalogue and one result per check:
 * TAP version 13 on a stream, JUnit XML (one testsuite per spec area) and
 * JSON (one object per check, then a summary) into files.
 *
 * A failed SHOULD-level check is a warning unless @strict: TAP marks it
 * "# TODO" (not a failure to a TAP harness), JUnit lists it as passed with
 * the warning in system-out, JSON gives it the result "warn".
 *
 * report_outcome: the result word of check @i: pass, fail, warn, skip.
 * report_tap: writes the TAP stream; returns the number of failures that
 *   count (MUST, and SHOULD with @strict).
 * report_junit / report_json: write @path; 0 or -1 with errno set.
 */
#ifndef VUVM_CHECK_REPORT_H
#define VUVM_CHECK_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "vmm/check/scenario.h"

struct report {
	const char *type;
	const bool *selected; /* per catalogue entry */
	const struct check_result *results;
	bool strict;
};

const char *report_outcome(const struct report *r, size_t i);
unsigned int report_tap(const struct report *r, FILE *out);
int report_junit(const struct report *r, const char *path);
int report_json(const struct report *r, const char *path);

#endif
