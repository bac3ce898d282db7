// SPDX-License-Identifier: MIT
/*
 * Verdict lines for vuvm-check (see check.h).
 */
#include "check/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/report.h"

static const char *const ids[CK_COUNT] = {
#define CHECK(sym, id, level, sc, text) [CK_##sym] = id,
#include "check/catalogue.def"
};

const char *check_id(enum check_id id)
{
	return id < CK_COUNT ? ids[id] : "?";
}

bool check_expect(struct check_acc *a, bool ok, const char *expected,
		  const char *got_fmt, ...)
{
	va_list ap;

	a->cases++;
	if (ok || a->failed)
		return ok;
	a->failed = true;
	snprintf(a->expected, sizeof(a->expected), "%s", expected);
	va_start(ap, got_fmt);
	vsnprintf(a->got, sizeof(a->got), got_fmt, ap);
	va_end(ap);
	return ok;
}

void check_skip_reason(struct check_acc *a, const char *reason)
{
	snprintf(a->skip, sizeof(a->skip), "%s", reason);
}

static void verdict(enum check_id id, const char *result, const char *k1,
		    const char *v1, const char *k2, const char *v2)
{
	struct json j;

	json_begin(&j);
	json_str(&j, "check", check_id(id));
	json_str(&j, "result", result);
	if (k1)
		json_str(&j, k1, v1);
	if (k2)
		json_str(&j, k2, v2);
	json_print(&j);
}

void check_done(enum check_id id, const struct check_acc *a)
{
	if (a->failed) {
		report(false, "%s: expected %s; got %s", check_id(id),
		       a->expected, a->got);
		verdict(id, "fail", "expected", a->expected, "got", a->got);
	} else if (a->cases) {
		report(true, "%s (%u cases)", check_id(id), a->cases);
		verdict(id, "pass", NULL, NULL, NULL, NULL);
	} else {
		check_skip(id, a->skip[0] ? a->skip : "no case ran");
	}
}

void check_skip(enum check_id id, const char *reason)
{
	report_skip("%s: %s", check_id(id), reason);
	verdict(id, "skip", "reason", reason, NULL, NULL);
}
