/* SPDX-License-Identifier: MIT */
/*
 * vuvm-check's view of the catalogue (guest/check/catalogue.def): every
 * scenario and check as data, and the selection a command line makes.
 *
 * check_area: the JUnit test suite a check belongs to: the part of its id
 *   before the first '/', plus, when the second part is a section number,
 *   its first two levels ("virtio/2.7.4/1" → "virtio/2.7",
 *   "vhost-user/GET_VRING_BASE/1" → "vhost-user"). Writes into @buf.
 * check_selected: whether @c is of @type and passes the --only/--skip
 *   prefixes (none given: all).
 */
#ifndef VUVM_CHECK_CATALOGUE_H
#define VUVM_CHECK_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>

#define SC_ONE_CONN	   1u
#define SC_MEM_REGIONS	   2u	/* vuvm runs with --mem-regions 4 */
#define SC_CHECK_PORT	   4u	/* vuvm runs with --check-port */
#define SC_MEM_REGIONS_MAX 8u	/* vuvm runs with --mem-regions 8 */
#define SC_RESTART	   16u	/* backend killed, restarted (scenario.c) */
#define MAX_CHECKS	   1024 /* a bound for arrays indexed like checks[] */

enum check_level { MUST, SHOULD };

struct scenario_def {
	const char *type; /* "blk", "net", "rng" */
	const char *name;
	unsigned int flags;
	const char *device_opts; /* appended to --device TYPE,socket=S */
	const char *guest_args;	 /* appended to --test check,scenario=N */
	const char *what;
};

struct check_def {
	const char *id;
	enum check_level level;
	const struct scenario_def *scenario;
	const char *requirement;
};

extern const struct scenario_def scenarios[];
extern const size_t nr_scenarios;
extern const struct check_def checks[];
extern const size_t nr_checks;

const char *check_level_name(enum check_level level);
void check_area(const struct check_def *c, char *buf, size_t len);
bool check_selected(const struct check_def *c, const char *type,
		    char *const *only, size_t nr_only, char *const *skip,
		    size_t nr_skip);

#endif
