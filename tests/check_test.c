// SPDX-License-Identifier: MIT
/*
 * The harness itself (tests/check.h, tests/time_scale.h and .sh): failed
 * checks are counted and reported, not fatal, and their count is the exit
 * status; REQUIRE stops at once; a table run goes on past a failing case;
 * the time scale follows its documented rule, and the shell version
 * (argv[1]) computes the same factor as the C one for the same inputs.
 * Each harness behaviour runs in a child process, so that its failures do
 * not count here.
 */
#include <sys/wait.h>

#include "tests/check.h"

static const char *script;

/* Runs @fn in a child with stdout and stderr into @err; returns its exit
 * status. */
static int in_child(void (*fn)(void), char *err, size_t len)
{
	char scratch[512];
	int p[2], st;
	ssize_t n = 0, r;
	pid_t pid;

	REQUIRE(pipe(p) == 0);
	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0);
	if (!pid) {
		check_failures = 0; /* the child's own count */
		check_case = NULL;
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		fn();
		fflush(NULL);
		_exit(99); /* fn must exit by itself */
	}
	close(p[1]);
	while ((r = read(p[0], err + n, len - 1 - (size_t)n)) > 0)
		n += r;
	err[n] = 0;
	while (read(p[0], scratch, sizeof(scratch)) > 0)
		; /* the rest, so that the child never blocks */
	close(p[0]);
	REQUIRE(waitpid(pid, &st, 0) == pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void five_failures(void)
{
	const char *s = "abc";

	CHECK(1 + 1 == 3);
	CHECK(1 + 1 == 2);
	CHECK_EQ(2 * 3, 7);
	CHECK_STR(s, "abd");
	CHECK_STR(NULL, "x");
	CHECK_HAS(s, "bc");
	CHECK_MSG(2 > 3, "two is %d", 2);
	CHECK_MSG(3 > 2, "never printed");
	exit(check_exit());
}

static void stops_at_require(void)
{
	CHECK(0);
	REQUIRE(NULL != NULL);
	fprintf(stderr, "went on\n");
	exit(check_exit());
}

static void many_failures(void)
{
	for (int i = 0; i < 300; i++)
		CHECK(i < 0);
	exit(check_exit());
}

static void case_fails(void)
{
	CHECK_EQ(1, 2);
}

static void case_passes(void)
{
	fprintf(stderr, "second case ran\n");
}

static const struct check_case two[] = {
	{ "fails", case_fails },
	{ "passes", case_passes },
};

static void table(void)
{
	char *argv[] = { "t", NULL };

	exit(CHECK_RUN(two, 1, argv));
}

static void test_counting(void)
{
	char err[4096];

	CHECK_EQ(in_child(five_failures, err, sizeof(err)), 5);
	CHECK_HAS(err, "CHECK failed: 1 + 1 == 3");
	CHECK_HAS(err, "2 * 3 == 7 (6 != 7)");
	CHECK_HAS(err, "got: \"abc\"\nwanted: \"abd\"");
	CHECK_HAS(err, "got: \"(null)\"");
	CHECK_HAS(err, "CHECK failed: two is 2\n");
	CHECK(!strstr(err, "never printed"));
	CHECK_HAS(err, "FAIL: 5 failure(s)");
	CHECK(!strstr(err, "1 + 1 == 2"));
	CHECK(!strstr(err, "\"bc\" in s"));
	/* 77 would read as "skipped", 256 as success. */
	CHECK_EQ(in_child(many_failures, err, sizeof(err)), CHECK_STATUS_MAX);
}

static void test_require(void)
{
	char err[4096];

	CHECK_EQ(in_child(stops_at_require, err, sizeof(err)), 2);
	CHECK_HAS(err, "CHECK failed: NULL != NULL");
	CHECK(!strstr(err, "went on"));
}

static void test_table(void)
{
	char err[4096];

	CHECK_EQ(in_child(table, err, sizeof(err)), 1);
	CHECK_HAS(err, "[fails] CHECK failed: 1 == 2");
	CHECK_HAS(err, "second case ran");
	CHECK_HAS(err, "FAIL fails\nok passes\n1 cases passed, 1 failed\n");
}

/* The shell's factor for the same inputs. */
static double sh_scale(const char *env, const char *loadavg, long cpus)
{
	char cmd[512], out[64] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), ". '%s'; time_scale_from '%s' '%s' %ld",
		 script, env, loadavg ? loadavg : "", cpus);
	f = popen(cmd, "r");
	REQUIRE(f != NULL);
	CHECK(fgets(out, sizeof(out), f) != NULL);
	CHECK_EQ(pclose(f), 0);
	return strtod(out, NULL);
}

static void test_time_scale(void)
{
	static const struct {
		const char *env, *loadavg;
		long cpus;
		double want;
	} t[] = {
		{ NULL, "0.07 0.21 0.10 1/234 5678\n", 2, 1.035 },
		{ "", "0.00 0.00 0.00 1/90 5\n", 16, 1 },
		/* A load average of 8 on 2 cpus. */
		{ NULL, "8.00 4.00 2.00 2/300 7\n", 2, 5 },
		/* 9 runnable besides the reader, the average still low. */
		{ NULL, "0.50 0.20 0.10 10/300 7\n", 4, 3.25 },
		{ NULL, "60.0 60.0 60.0 61/300 7\n", 2, 10 },
		{ "3", "60.0 60.0 60.0 61/300 7\n", 2, 3 },
		{ "2.5", NULL, 2, 2.5 },
		/* Not a number from 1 to 100: the load decides. */
		{ "0.5", "2.00 0 0 1/9 1\n", 2, 2 },
		{ "abc", "2.00 0 0 1/9 1\n", 2, 2 },
		{ "3x", "2.00 0 0 1/9 1\n", 2, 2 },
		{ "101", "2.00 0 0 1/9 1\n", 2, 2 },
		{ NULL, "garbage", 2, 1 },
		{ NULL, NULL, 2, 1 },
		{ NULL, "4.00 0 0 1/9 1\n", 0, 1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double c = time_scale_from(t[i].env, t[i].loadavg, t[i].cpus);
		double s = sh_scale(t[i].env ? t[i].env : "", t[i].loadavg,
				    t[i].cpus);

		if (c < t[i].want - 1e-6 || c > t[i].want + 1e-6 ||
		    s < c - 1e-5 || s > c + 1e-5) {
			check_fail(__FILE__, __LINE__,
				   "row %zu: C %f, sh %f, wanted %f", i, c, s,
				   t[i].want);
		}
	}
}

/* check_ms() follows VUVM_TEST_TIME_SCALE, and is computed once. */
static void test_check_ms(void)
{
	CHECK_EQ(setenv("VUVM_TEST_TIME_SCALE", "2.5", 1), 0);
	CHECK_EQ(check_ms(500), 1250);
	CHECK_EQ(check_ms(3), 8);
	CHECK_EQ(setenv("VUVM_TEST_TIME_SCALE", "4", 1), 0);
	CHECK_EQ(check_ms(500), 1250);
}

static const struct check_case cases[] = {
	{ "counting", test_counting }, { "require", test_require },
	{ "table", test_table },       { "time_scale", test_time_scale },
	{ "check_ms", test_check_ms },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s TIME_SCALE.SH [CASE]\n", argv[0]);
		return 2;
	}
	script = argv[1];
	return CHECK_RUN(cases, argc - 1, argv + 1);
}
