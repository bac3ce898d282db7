// SPDX-License-Identifier: MIT
/*
 * vuvm-check: judges a vhost-user backend against the virtio and
 * vhost-user specifications. Reads the command line, selects checks from
 * the catalogue, runs every scenario they need (in parallel with --jobs),
 * and writes TAP on stdout, JUnit XML and JSON on request.
 *
 * Exit status: 0 no MUST-level check failed (nor a SHOULD-level one with
 * --strict), 1 one did, 2 usage or setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/check/catalogue.h"
#include "vmm/check/report.h"
#include "vmm/check/scenario.h"

#define EXIT_CHECK_FAILED 1
#define EXIT_CHECK_USAGE  2
#ifndef VUVM_VERSION
#define VUVM_VERSION "unknown"
#endif
#define MAX_PREFIXES	64
#define MAX_JOBS	16
#define DEFAULT_TIMEOUT 30.0

struct options {
	struct run_config run;
	char *only[MAX_PREFIXES], *skip[MAX_PREFIXES];
	size_t nr_only, nr_skip;
	bool strict, list;
	const char *junit, *json;
	unsigned int jobs;
	char vuvm[PATH_MAX];
};

static void usage(FILE *f)
{
	fputs("usage: vuvm-check --type blk|net|rng|fs\n"
	      "                  (--backend 'COMMAND ... @SOCK@ ...' | "
	      "--socket PATH)\n"
	      "                  [--only ID-PREFIX]... [--skip ID-PREFIX]... "
	      "[--strict]\n"
	      "                  [--list] [--junit FILE] [--json FILE] [--jobs "
	      "N]\n"
	      "                  [--timeout SEC] [--vuvm PATH] [-v]\n"
	      "Runs the tiny guest through vuvm against a vhost-user backend "
	      "and\n"
	      "prints a verdict per requirement of the specifications (TAP "
	      "13).\n\n"
	      "  --type TYPE       the device type the backend serves\n"
	      "  --backend CMD     start the backend with this shell command, "
	      "once per\n"
	      "                    scenario; @SOCK@ becomes the socket path, "
	      "@DIR@ a\n"
	      "                    private directory\n"
	      "  --socket PATH     use a running backend: only the checks that "
	      "fit one\n"
	      "                    connection run, the others are skipped\n"
	      "  --only PREFIX     run only checks whose ID starts with PREFIX "
	      "(repeatable)\n"
	      "  --skip PREFIX     leave out checks whose ID starts with "
	      "PREFIX (repeatable)\n"
	      "  --strict          SHOULD-level failures fail the run too "
	      "(default: warnings)\n"
	      "  --list            print the catalogue (of --type, or all) and "
	      "exit\n"
	      "  --junit FILE      also write JUnit XML, one testsuite per "
	      "spec area\n"
	      "  --json FILE       also write JSON, one object per check\n"
	      "  --jobs N          run N scenarios at a time, 1..16 (default "
	      "1)\n"
	      "  --timeout SEC     bound on each scenario's vuvm run (default "
	      "30)\n"
	      "  --vuvm PATH       the vuvm to run (default: the one installed "
	      "beside\n"
	      "                    vuvm-check, else vuvm from PATH)\n"
	      "  -v, --verbose     progress on stderr; keep each scenario's "
	      "directory\n"
	      "  --help            print this help and exit\n"
	      "  --version         print the version and exit\n\n"
	      "Exit status: 0 no MUST-level check failed, 1 one did, 2 usage "
	      "or setup\n"
	      "error (no KVM, backend would not start). See "
	      "docs/conformance.md.\n",
	      f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vuvm-check: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'vuvm-check --help'.\n");
	return -1;
}

/* vuvm beside this program (bin/, or the build tree's vmm/), else PATH. */
static void default_vuvm(struct options *o)
{
	static const char *const rel[] = { "vuvm", "../vuvm" };
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	snprintf(o->vuvm, sizeof(o->vuvm), "vuvm");
	if (n <= 0)
		return;
	self[n] = '\0';
	dirname(self);
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/%s", self, rel[i]);
		if (strlen(path) < sizeof(o->vuvm) && !access(path, X_OK)) {
			memcpy(o->vuvm, path, strlen(path) + 1);
			return;
		}
	}
}

enum {
	OPT_TYPE = 256,
	OPT_BACKEND,
	OPT_SOCKET,
	OPT_ONLY,
	OPT_SKIP,
	OPT_STRICT,
	OPT_LIST,
	OPT_JUNIT,
	OPT_JSON,
	OPT_JOBS,
	OPT_TIMEOUT,
	OPT_VUVM,
	OPT_HELP,
	OPT_VERSION
};

static const struct option long_options[] = {
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "skip", required_argument, NULL, OPT_SKIP },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "junit", required_argument, NULL, OPT_JUNIT },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "vuvm", required_argument, NULL, OPT_VUVM },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int add_prefix(char **list, size_t *n, char *arg)
{
	if (*n == MAX_PREFIXES)
		return usage_error("at most 64 --only and 64 --skip (%s)", arg);
	list[(*n)++] = arg;
	return 0;
}

/* One option; 1 when --help or --version was given, -1 on a usage
 * error. */
static int parse_one(struct options *o, int opt, char *arg)
{
	char *end;

	switch (opt) {
	case OPT_TYPE:
		if (strcmp(arg, "blk") && strcmp(arg, "net") &&
		    strcmp(arg, "rng") && strcmp(arg, "fs"))
			return usage_error("--type %s: blk, net, rng or fs",
					   arg);
		o->run.type = arg;
		return 0;
	case OPT_BACKEND:
		if (!strstr(arg, "@SOCK@"))
			return usage_error(
				"--backend '%s' has no @SOCK@ for the "
				"socket path",
				arg);
		o->run.backend = arg;
		return 0;
	case OPT_SOCKET:
		o->run.socket = arg;
		return 0;
	case OPT_ONLY:
		return add_prefix(o->only, &o->nr_only, arg);
	case OPT_SKIP:
		return add_prefix(o->skip, &o->nr_skip, arg);
	case OPT_STRICT:
		o->strict = true;
		return 0;
	case OPT_LIST:
		o->list = true;
		return 0;
	case OPT_JUNIT:
		o->junit = arg;
		return 0;
	case OPT_JSON:
		o->json = arg;
		return 0;
	case OPT_JOBS:
		o->jobs = (unsigned int)strtoul(arg, &end, 10);
		if (*end || !arg[0] || o->jobs < 1 || o->jobs > MAX_JOBS)
			return usage_error("--jobs %s: 1..16", arg);
		return 0;
	case OPT_TIMEOUT:
		o->run.timeout = strtod(arg, &end);
		if (*end || !arg[0] || !(o->run.timeout >= 1) ||
		    o->run.timeout > 3600)
			return usage_error("--timeout %s: 1..3600 seconds",
					   arg);
		return 0;
	case OPT_VUVM:
		snprintf(o->vuvm, sizeof(o->vuvm), "%s", arg);
		return 0;
	case 'v':
		o->run.keep = true;
		return 0;
	case OPT_HELP:
		usage(stdout);
		return 1;
	case OPT_VERSION:
		printf("vuvm-check %s\n", VUVM_VERSION);
		return 1;
	default:
		return usage_error("%s", "bad option");
	}
}

/* 0 run, 1 done (--help, --version), -1 usage error. */
static int parse(int argc, char **argv, struct options *o)
{
	int opt, r;

	*o = (struct options){ .jobs = 1, .run.timeout = DEFAULT_TIMEOUT };
	default_vuvm(o);
	o->run.vuvm = o->vuvm;
	while ((opt = getopt_long(argc, argv, "v", long_options, NULL)) != -1)
		if ((r = parse_one(o, opt, optarg)))
			return r;
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->list)
		return 0;
	if (!o->run.type)
		return usage_error("%s", "--type is required");
	if (!o->run.backend == !o->run.socket)
		return usage_error("%s", "give one of --backend and --socket");
	return 0;
}

static void list_catalogue(const struct options *o)
{
	for (size_t i = 0; i < nr_checks; i++) {
		const struct check_def *c = &checks[i];

		if (!check_selected(c, o->run.type, o->only, o->nr_only,
				    o->skip, o->nr_skip))
			continue;
		printf("%-28s %-6s %-4s %-14s %s\n", c->id,
		       check_level_name(c->level), c->scenario->type,
		       c->scenario->name, c->requirement);
	}
}

/* --- Running the scenarios -------------------------------------------------
 */

struct work {
	const struct options *o;
	const bool *selected;
	bool *todo; /* per scenario */
	struct check_result *results;
	pthread_mutex_t lock;
	size_t next;
};

static void *worker(void *opaque)
{
	struct work *w = opaque;

	for (;;) {
		size_t s;

		pthread_mutex_lock(&w->lock);
		while (w->next < nr_scenarios && !w->todo[w->next])
			w->next++;
		s = w->next++;
		pthread_mutex_unlock(&w->lock);
		if (s >= nr_scenarios)
			return NULL;
		if (w->o->run.keep)
			fprintf(stderr, "vuvm-check: running %s\n",
				scenarios[s].name);
		scenario_run(&w->o->run, &scenarios[s], w->selected,
			     w->results);
	}
}

/* With --socket: the first one-connection scenario runs, the rest skip. */
static void plan(const struct options *o, bool *selected, bool *todo,
		 struct check_result *results)
{
	const struct scenario_def *chosen = NULL;

	for (size_t i = 0; i < nr_checks; i++) {
		const struct scenario_def *sc = checks[i].scenario;

		selected[i] = check_selected(&checks[i], o->run.type, o->only,
					     o->nr_only, o->skip, o->nr_skip);
		if (!selected[i])
			continue;
		if (o->run.socket && !chosen && (sc->flags & SC_ONE_CONN))
			chosen = sc;
		if (o->run.socket && sc != chosen) {
			results[i].verdict = VERDICT_SKIP;
			results[i].detail =
				strdup("needs a backend of its own (run with "
				       "--backend)");
			continue;
		}
		todo[sc - scenarios] = true;
	}
}

static void run_all(const struct options *o, bool *selected,
		    struct check_result *results)
{
	bool *todo = calloc(nr_scenarios, sizeof(*todo));
	struct work w = { o, selected, todo, results, PTHREAD_MUTEX_INITIALIZER,
			  0 };
	pthread_t threads[MAX_JOBS];
	unsigned int started = 0;

	if (!todo)
		return;
	plan(o, selected, todo, results);
	for (unsigned int i = 1; i < o->jobs; i++)
		if (!pthread_create(&threads[started], NULL, worker, &w))
			started++;
	worker(&w);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(todo);
}

static int write_files(const struct options *o, const struct report *r)
{
	if (o->junit && report_junit(r, o->junit)) {
		fprintf(stderr, "vuvm-check: --junit %s: %s\n", o->junit,
			strerror(errno));
		return -1;
	}
	if (o->json && report_json(r, o->json)) {
		fprintf(stderr, "vuvm-check: --json %s: %s\n", o->json,
			strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	static bool selected[MAX_CHECKS];
	static struct check_result results[MAX_CHECKS];
	struct report r = { .selected = selected, .results = results };
	char why[2048];
	unsigned int failed;
	int status;

	switch (parse(argc, argv, &o)) {
	case 1:
		return 0;
	case -1:
		return EXIT_CHECK_USAGE;
	}
	if (o.list) {
		list_catalogue(&o);
		return 0;
	}
	if (scenario_preflight(&o.run, why, sizeof(why))) {
		fprintf(stderr, "vuvm-check: %s\n", why);
		return EXIT_CHECK_USAGE;
	}
	run_all(&o, selected, results);
	r.type = o.run.type;
	r.strict = o.strict;
	failed = report_tap(&r, stdout);
	status = write_files(&o, &r) ? EXIT_CHECK_USAGE
		 : failed	     ? EXIT_CHECK_FAILED
				     : 0;
	for (size_t i = 0; i < nr_checks; i++)
		check_result_free(&results[i]);
	return status;
}
