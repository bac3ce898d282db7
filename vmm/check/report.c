// SPDX-License-Identifier: MIT
/*
 * TAP, JUnit XML and JSON, written from the same results in catalogue
 * order, so that the three always agree.
 */
#include "vmm/check/report.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "vmm/check/catalogue.h"

struct tally {
	unsigned int total, pass, fail_must, fail_should, skip;
};

const char *report_outcome(const struct report *r, size_t i)
{
	switch (r->results[i].verdict) {
	case VERDICT_PASS:
		return "pass";
	case VERDICT_SKIP:
		return "skip";
	default:
		return checks[i].level == SHOULD && !r->strict ? "warn"
							       : "fail";
	}
}

static void tally_add(struct tally *t, const struct report *r, size_t i)
{
	const char *o = report_outcome(r, i);

	t->total++;
	if (!strcmp(o, "pass"))
		t->pass++;
	else if (!strcmp(o, "skip"))
		t->skip++;
	else if (checks[i].level == MUST)
		t->fail_must++;
	else
		t->fail_should++;
}

/* --- TAP --------------------------------------------------------------------
 */

/* Every line of @text as a "# " diagnostic. */
static void tap_diag(FILE *out, const char *text)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");

		fprintf(out, "#   %.*s\n", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

unsigned int report_tap(const struct report *r, FILE *out)
{
	struct tally t = { 0 };
	unsigned int n = 0;

	fprintf(out, "TAP version 13\n");
	for (size_t i = 0; i < nr_checks; i++)
		n += r->selected[i];
	fprintf(out, "1..%u\n", n);
	n = 0;
	for (size_t i = 0; i < nr_checks; i++) {
		const struct check_result *res = &r->results[i];
		const char *o;

		if (!r->selected[i])
			continue;
		o = report_outcome(r, i);
		tally_add(&t, r, i);
		fprintf(out, "%s %u - %s %s",
			strcmp(o, "pass") && strcmp(o, "skip") ? "not ok"
							       : "ok",
			++n, checks[i].id, checks[i].requirement);
		if (!strcmp(o, "skip"))
			fprintf(out, " # SKIP %s\n",
				res->detail ? res->detail : "not applicable");
		else if (!strcmp(o, "warn"))
			fprintf(out, " # TODO SHOULD-level: a warning "
				     "(--strict makes it a failure)\n");
		else
			fputc('\n', out);
		if (strcmp(o, "fail") && strcmp(o, "warn"))
			continue;
		fprintf(out, "# %s: %s\n", check_level_name(checks[i].level),
			checks[i].requirement);
		tap_diag(out, res->detail);
		tap_diag(out, res->logs);
	}
	fprintf(out,
		"# %s: %u checks, %u passed, %u failed (MUST), %u warnings "
		"(SHOULD), %u skipped\n",
		r->type, t.total, t.pass, t.fail_must, t.fail_should, t.skip);
	return t.fail_must + (r->strict ? t.fail_should : 0);
}

/* --- JUnit ---------------------------------------------------------------- */

static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '&')
			fputs("&amp;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c < ' ' && c != '\n' && c != '\t')
			fputc(' ', f); /* not allowed in XML 1.0 */
		else
			fputc(c, f);
	}
}

static void junit_case(FILE *f, const struct report *r, size_t i,
		       const char *area)
{
	const struct check_result *res = &r->results[i];
	const char *o = report_outcome(r, i);

	fprintf(f, "    <testcase classname=\"vuvm-check.%s.", r->type);
	xml_text(f, area);
	fputs("\" name=\"", f);
	xml_text(f, checks[i].id);
	fputs(" ", f);
	xml_text(f, checks[i].requirement);
	fprintf(f, "\" time=\"%.3f\">\n", res->seconds);
	if (!strcmp(o, "skip")) {
		fputs("      <skipped message=\"", f);
		xml_text(f, res->detail ? res->detail : "not applicable");
		fputs("\"/>\n", f);
	} else if (!strcmp(o, "fail")) {
		fputs("      <failure message=\"", f);
		xml_text(f, res->detail);
		fprintf(f, "\" type=\"%s\">",
			check_level_name(checks[i].level));
		xml_text(f, res->logs);
		fputs("</failure>\n", f);
	} else if (!strcmp(o, "warn")) {
		fputs("      <system-out>WARNING (SHOULD): ", f);
		xml_text(f, res->detail);
		fputc('\n', f);
		xml_text(f, res->logs);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
}

/* Checks of area @area, all of them when @area is NULL. */
static struct tally junit_tally(const struct report *r, const char *area)
{
	struct tally t = { 0 };
	char a[64];

	for (size_t i = 0; i < nr_checks; i++) {
		if (!r->selected[i])
			continue;
		check_area(&checks[i], a, sizeof(a));
		if (!area || !strcmp(a, area))
			tally_add(&t, r, i);
	}
	return t;
}

static bool area_seen_before(const struct report *r, size_t upto,
			     const char *area)
{
	char a[64];

	for (size_t i = 0; i < upto; i++) {
		if (!r->selected[i])
			continue;
		check_area(&checks[i], a, sizeof(a));
		if (!strcmp(a, area))
			return true;
	}
	return false;
}

static void junit_suite(FILE *f, const struct report *r, const char *area)
{
	struct tally t = junit_tally(r, area);
	char a[64];

	fputs("  <testsuite name=\"", f);
	xml_text(f, area);
	fprintf(f,
		"\" tests=\"%u\" failures=\"%u\" errors=\"0\" "
		"skipped=\"%u\">\n",
		t.total, t.fail_must + (r->strict ? t.fail_should : 0), t.skip);
	for (size_t i = 0; i < nr_checks; i++) {
		if (!r->selected[i])
			continue;
		check_area(&checks[i], a, sizeof(a));
		if (!strcmp(a, area))
			junit_case(f, r, i, area);
	}
	fputs("  </testsuite>\n", f);
}

int report_junit(const struct report *r, const char *path)
{
	struct tally t = junit_tally(r, NULL);
	FILE *f = fopen(path, "we");
	char area[64];

	if (!f)
		return -1;
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"vuvm-check %s\" tests=\"%u\" "
		"failures=\"%u\" errors=\"0\" skipped=\"%u\">\n",
		r->type, t.total, t.fail_must + (r->strict ? t.fail_should : 0),
		t.skip);
	for (size_t i = 0; i < nr_checks; i++) {
		if (!r->selected[i])
			continue;
		check_area(&checks[i], area, sizeof(area));
		if (!area_seen_before(r, i, area))
			junit_suite(f, r, area);
	}
	fputs("</testsuites>\n", f);
	return fclose(f) ? -1 : 0;
}

/* --- JSON -------------------------------------------------------------------
 */

static json_t *json_check(const struct report *r, size_t i)
{
	const struct check_result *res = &r->results[i];
	char area[64];

	check_area(&checks[i], area, sizeof(area));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:f}",
			 "id", checks[i].id, "level",
			 check_level_name(checks[i].level), "area", area,
			 "scenario", checks[i].scenario->name, "requirement",
			 checks[i].requirement, "result", report_outcome(r, i),
			 "detail", res->detail, "logs", res->logs, "seconds",
			 res->seconds);
}

int report_json(const struct report *r, const char *path)
{
	struct tally t = junit_tally(r, NULL);
	json_t *list = json_array(), *doc;
	int err;

	for (size_t i = 0; i < nr_checks; i++)
		if (r->selected[i])
			json_array_append_new(list, json_check(r, i));
	doc = json_pack("{s:s, s:b, s:o, s:{s:i, s:i, s:i, s:i, s:i}}", "type",
			r->type, "strict", r->strict, "checks", list, "summary",
			"checks", t.total, "passed", t.pass, "failed",
			t.fail_must, "warnings", t.fail_should, "skipped",
			t.skip);
	if (!doc) {
		errno = ENOMEM;
		return -1;
	}
	err = json_dump_file(doc, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (err && !errno)
		errno = EIO;
	return err ? -1 : 0;
}
