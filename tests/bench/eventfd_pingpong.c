// SPDX-License-Identifier: MIT
// The raw notification floor: an eventfd ping-pong between two processes,
// the host-side shape of "guest kicks, backend thread wakes, guest sees
// the completion" without KVM. The parent ("guest") writes eventfd A and
// blocks reading eventfd B; the child ("backend") blocks reading A and
// writes B. Usage: eventfd_pingpong [ROUNDS [GUEST_CPU BACKEND_CPU]]
// (default 20000, CPUs 0 and 1; -1 leaves a side unpinned). Prints
// "rtt_us p50 P p90 P p99 P mean M rounds N" (microseconds, one decimal).
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		perror("sched_setaffinity");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void xwrite(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one)) {
		perror("eventfd write");
		exit(1);
	}
}

static void xread(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v)) {
		perror("eventfd read");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 20000;
	int gcpu = argc > 3 ? atoi(argv[2]) : 0;
	int bcpu = argc > 3 ? atoi(argv[3]) : 1;
	long warm = rounds / 10 + 1, i;
	int kick = eventfd(0, 0), call = eventfd(0, 0);
	uint64_t *lat, sum = 0;
	pid_t child;
	int status;

	if (rounds < 1 || kick < 0 || call < 0) {
		fprintf(stderr,
			"usage: eventfd_pingpong [ROUNDS [GCPU BCPU]]\n");
		return 2;
	}
	lat = calloc((size_t)rounds, sizeof(*lat));
	if (!lat)
		return 1;
	child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		pin(bcpu);
		for (i = 0; i < warm + rounds; i++) {
			xread(kick);
			xwrite(call);
		}
		_exit(0);
	}
	pin(gcpu);
	for (i = 0; i < warm + rounds; i++) {
		uint64_t t0 = now_ns();

		xwrite(kick);
		xread(call);
		if (i >= warm)
			lat[i - warm] = now_ns() - t0;
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "eventfd_pingpong: the backend side failed\n");
		return 1;
	}
	for (i = 0; i < rounds; i++)
		sum += lat[i];
	qsort(lat, (size_t)rounds, sizeof(*lat), cmp_u64);
	printf("rtt_us p50 %.1f p90 %.1f p99 %.1f mean %.1f rounds %ld\n",
	       lat[rounds / 2] / 1e3, lat[rounds * 9 / 10] / 1e3,
	       lat[rounds * 99 / 100] / 1e3, (double)sum / rounds / 1e3,
	       rounds);
	free(lat);
	return 0;
}
