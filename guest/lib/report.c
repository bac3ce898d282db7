// SPDX-License-Identifier: MIT
/*
 * The report API (see report.h). A line is formatted into a buffer first so
 * that it reaches the console in one piece.
 */
#include <string.h>

#include "lib/console.h"
#include "lib/report.h"

#define PREFIX_MAX   128
#define LINE_MAX     256
#define PREFIX_DEPTH 8

static char prefix[PREFIX_MAX];
static unsigned int tests, failures, skipped;
static size_t saved_len[PREFIX_DEPTH];
static unsigned int depth;

void report_prefix_push(const char *p)
{
	size_t len = strlen(prefix);

	if (depth < PREFIX_DEPTH)
		saved_len[depth] = len;
	depth++;
	snprintf(prefix + len, sizeof(prefix) - len, "%s%s", len ? ": " : "",
		 p);
}

void report_prefix_pop(void)
{
	if (depth == 0)
		return;
	depth--;
	prefix[depth < PREFIX_DEPTH ? saved_len[depth] : 0] = 0;
}

static void line(const char *kind, const char *fmt, va_list ap)
{
	char buf[LINE_MAX];
	size_t n;

	n = snprintf(buf, sizeof(buf), "%s: %s%s", kind, prefix,
		     prefix[0] ? ": " : "");
	if (n < sizeof(buf))
		vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	n = strlen(buf);
	if (n == sizeof(buf) - 1)
		n--;
	buf[n++] = '\n';
	console_write(buf, n);
}

bool report(bool pass, const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&tests, 1, __ATOMIC_RELAXED);
	if (!pass)
		__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	line(pass ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	return pass;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&tests, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&skipped, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	line("SKIP", fmt, ap);
	va_end(ap);
}

void report_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line("INFO", fmt, ap);
	va_end(ap);
}

unsigned int report_failures(void)
{
	return __atomic_load_n(&failures, __ATOMIC_RELAXED);
}

int report_summary(void)
{
	printf("SUMMARY: %u tests, %u failures", tests, failures);
	if (skipped)
		printf(", %u skipped", skipped);
	printf("\n");
	if (failures)
		return 1;
	if (skipped == tests)
		return REPORT_SKIP_STATUS;
	return 0;
}
