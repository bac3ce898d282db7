// SPDX-License-Identifier: MIT
/*
 * The table of workloads (see workloads.h). Adding one: a file with its
 * entry function, a line here, a section in docs/guest.md.
 */
#include <stddef.h>
#include <string.h>

#include "workloads/workloads.h"

static const char *const no_params[] = { NULL };
static const char *const exit_params[] = { "status", NULL };
static const char *const selftest_params[] = { "verbose", NULL };
static const char *const fault_params[] = { "kind", NULL };
static const char *const rng_params[] = { "mode", "bytes",    "depth",
					  "ring", "in_order", NULL };
static const char *const net_echo_params[] = { "mode",	"queues", "frames",
					       "qsize", "expect", "lossy",
					       "stall", "ring",	  "in_order",
					       NULL };
static const char *const hostile_params[] = { "seed", "rounds",	  "case",
					      "ring", "in_order", NULL };
static const char *const blk_bench_params[] = { "mode",	    "rw",     "bs",
						"qd",	    "queues", "qsize",
						"seconds",  "count",  "ring",
						"in_order", NULL };
static const char *const net_bench_params[] = { "mode",	  "size",     "batch",
						"window", "queues",   "dir",
						"qsize",  "seconds",  "count",
						"ring",	  "in_order", NULL };
static const char *const check_params[] = { "scenario", "stall", "ring",
					    "in_order", NULL };
static const char *const fs_verify_params[] = { "mode",	    "queues", "files",
						"max_size", "qd",     "seed",
						"stall",    NULL };
static const char *const fs_bench_params[] = { "mode",	"op",	  "bs",
					       "qd",	"queues", "seconds",
					       "count", NULL };
static const char *const blk_verify_params[] = {
	"mode",	  "queues", "depth", "qsize", "maxsec",	  "verbose",
	"verify", "passes", "stall", "ring",  "in_order", NULL
};

const struct workload workloads[] = {
	{ "probe", "print what the guest sees (memory, CPUs, devices, TSC)",
	  no_params, probe_main },
	{ "exit", "exit at once with status=N (default 0)", exit_params,
	  exit_main },
	{ "selftest", "check the guest's own libc, FDT, syscall, SMP, time",
	  selftest_params, selftest_main },
	{ "fault", "raise a CPU exception: kind=ud|gp|pf|de (exits 1)",
	  fault_params, fault_main },
	{ "blk-verify",
	  "write patterns over a virtio-blk disk, flush, discard, read back",
	  blk_verify_params, blk_verify_main },
	{ "net-echo",
	  "send frames on every virtio-net queue pair, compare the echoes",
	  net_echo_params, net_echo_main },
	{ "rng", "read a virtio-rng device and check the bytes look random",
	  rng_params, rng_main },
	{ "hostile",
	  "break the virtio rules on the first device; it must survive",
	  hostile_params, hostile_main },
	{ "blk-bench",
	  "benchmark a virtio-blk device: IOPS, MB/s, latency percentiles",
	  blk_bench_params, blk_bench_main },
	{ "net-bench",
	  "benchmark a virtio-net device: frames/s, Gbit/s, latency",
	  net_bench_params, net_bench_main },
	{ "check",
	  "vuvm-check's scenario=NAME: verdicts on a device's conformance",
	  check_params, check_main },
	{ "fs-verify",
	  "build a file tree on a virtio-fs device, read it back, print it",
	  fs_verify_params, fs_verify_main },
	{ "fs-bench",
	  "benchmark a virtio-fs device: IOPS, MB/s, metadata ops/s",
	  fs_bench_params, fs_bench_main },
	{ NULL, NULL, NULL, NULL },
};

const struct workload *workload_find(const char *name)
{
	const struct workload *w;

	for (w = workloads; w->name; w++) {
		if (!strcmp(w->name, name))
			return w;
	}
	return NULL;
}
