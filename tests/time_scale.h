/* SPDX-License-Identifier: MIT */
/*
 * Upper time bounds that hold on a loaded machine. A test that asserts
 * "done within N ms" or waits at most N ms for something asks for
 * check_ms(N) instead: N stretched by a factor that is 1 on an idle
 * machine and grows with the load, so that `ctest -jN` on a busy host
 * does not turn slow into failed. Lower bounds ("not before 95 ms") are
 * never scaled: a loaded machine only makes things later.
 *
 * The factor is VUVM_TEST_TIME_SCALE when that is a number from 1 to 100;
 * otherwise 1 + load / cpus, at most 10, where load is the larger of the
 * 1-minute load average and the processes runnable right now (other than
 * the caller), both from /proc/loadavg. tests/time_scale.sh computes the
 * same factor for the shell scripts; tests/time_scale_test.c checks that
 * both agree.
 */
#ifndef VUVM_TESTS_TIME_SCALE_H
#define VUVM_TESTS_TIME_SCALE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TIME_SCALE_MAX_LOAD 10.0
#define TIME_SCALE_MAX_ENV  100.0

/*
 * The factor from its inputs: @env is VUVM_TEST_TIME_SCALE (or NULL),
 * @loadavg the text of /proc/loadavg (or NULL when unreadable), @cpus the
 * number of online CPUs. Never below 1.
 */
static inline double time_scale_from(const char *env, const char *loadavg,
				     long cpus)
{
	double avg, f;
	int running, total;
	char *end;

	/* Digits and a point only, as the shell version reads it. */
	if (env && *env && strspn(env, "0123456789.") == strlen(env)) {
		f = strtod(env, &end);
		if (!*end && f >= 1 && f <= TIME_SCALE_MAX_ENV)
			return f;
	}
	if (!loadavg || cpus < 1 ||
	    sscanf(loadavg, "%lf %*f %*f %d/%d", &avg, &running, &total) != 3)
		return 1;
	if (running - 1 > avg)
		avg = running - 1;
	f = 1 + (avg > 0 ? avg : 0) / (double)cpus;
	return f < TIME_SCALE_MAX_LOAD ? f : TIME_SCALE_MAX_LOAD;
}

/* The factor for this process, computed on first use (threads that race
 * there compute the same thing). */
static inline double time_scale(void)
{
	static double cached;
	double scale;
	char buf[128] = "";
	FILE *f;

	__atomic_load(&cached, &scale, __ATOMIC_RELAXED);
	if (scale)
		return scale;
	f = fopen("/proc/loadavg", "r");
	if (f && !fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	if (f)
		fclose(f);
	scale = time_scale_from(getenv("VUVM_TEST_TIME_SCALE"),
				buf[0] ? buf : NULL,
				sysconf(_SC_NPROCESSORS_ONLN));
	__atomic_store(&cached, &scale, __ATOMIC_RELAXED);
	return scale;
}

/* The upper bound @ms, stretched for the machine's load. */
static inline long check_ms(long ms)
{
	return (long)(ms * time_scale() + 0.5);
}

#endif
