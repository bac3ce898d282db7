// SPDX-License-Identifier: MIT
/*
 * The catalogue as C data, expanded from the one table the guest reads
 * too, and the selection rules of the command line.
 */
#include "vmm/check/catalogue.h"

#include <stdio.h>
#include <string.h>

enum scenario_index {
#define SCENARIO(sym, type, name, flags, dev, args, what) sym,
#include "guest/check/catalogue.def"
	NR_SCENARIOS
};

const struct scenario_def scenarios[] = {
#define SCENARIO(sym, type, name, flags, dev, args, what) \
	[sym] = { type, name, flags, dev, args, what },
#include "guest/check/catalogue.def"
};
const size_t nr_scenarios = NR_SCENARIOS;

const struct check_def checks[] = {
#define CHECK(sym, id, level, sc, text) { id, level, &scenarios[sc], text },
#include "guest/check/catalogue.def"
};
const size_t nr_checks = sizeof(checks) / sizeof(checks[0]);
_Static_assert(sizeof(checks) / sizeof(checks[0]) <= MAX_CHECKS,
	       "raise MAX_CHECKS");

const char *check_level_name(enum check_level level)
{
	return level == MUST ? "MUST" : "SHOULD";
}

void check_area(const struct check_def *c, char *buf, size_t len)
{
	const char *slash = strchr(c->id, '/');
	size_t first = slash ? (size_t)(slash - c->id) : strlen(c->id);
	size_t n = first;

	if (slash && slash[1] >= '0' && slash[1] <= '9') {
		const char *dot = strchr(slash + 1, '.');
		const char *end = dot ? dot + 1 + strcspn(dot + 1, "./")
				      : slash + 1 + strcspn(slash + 1, "/");

		n = (size_t)(end - c->id);
	}
	snprintf(buf, len, "%.*s", (int)n, c->id);
}

static bool has_prefix(const char *s, char *const *prefixes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

bool check_selected(const struct check_def *c, const char *type,
		    char *const *only, size_t nr_only, char *const *skip,
		    size_t nr_skip)
{
	if (type && strcmp(c->scenario->type, type))
		return false;
	if (nr_only && !has_prefix(c->id, only, nr_only))
		return false;
	return !has_prefix(c->id, skip, nr_skip);
}
