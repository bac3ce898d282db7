// SPDX-License-Identifier: MIT
/*
 * Runs a command many times and reports its wall time and peak RSS:
 *	bootstat N STATUS CMD [ARG...]
 * Each run must exit with STATUS. Prints one line:
 *	runs=N median_ms=... min_ms=... p90_ms=... max_rss_kib=...
 * Timing covers fork to reap, measured here rather than by a shell, so a
 * run costs only the command itself; the command's output goes to
 * /dev/null.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Runs @argv once; returns its wall time in ms or -1 on a bad status. */
static double run_once(char **argv, int want, long *rss_kib)
{
	struct rusage ru;
	double start = now_ms();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != want) {
		fprintf(stderr, "bootstat: %s: status %#x\n", argv[0], status);
		return -1;
	}
	if (ru.ru_maxrss > *rss_kib)
		*rss_kib = ru.ru_maxrss;
	return now_ms() - start;
}

int main(int argc, char **argv)
{
	int n = argc > 3 ? atoi(argv[1]) : 0;
	double *ms = calloc((size_t)(n > 0 ? n : 1), sizeof(*ms));
	long rss = 0;

	if (n <= 0 || !ms) {
		fprintf(stderr, "usage: bootstat N STATUS CMD [ARG...]\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		ms[i] = run_once(argv + 3, atoi(argv[2]), &rss);
		if (ms[i] < 0)
			return 1;
	}
	qsort(ms, (size_t)n, sizeof(*ms), cmp_double);
	printf("runs=%d median_ms=%.3f min_ms=%.3f p90_ms=%.3f "
	       "max_rss_kib=%ld\n",
	       n, ms[n / 2], ms[0], ms[n * 9 / 10], rss);
	return 0;
}
