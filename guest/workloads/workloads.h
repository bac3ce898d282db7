/* SPDX-License-Identifier: MIT */
/*
 * The workloads, one file and one entry function each. An entry gets the
 * raw "k=v,..." parameters (lib/kv.h) and returns the exit status: 0 pass,
 * 1 fail, 77 all skipped (usually `return report_summary();`).
 *
 * Before an entry runs, main.c has rejected unknown workload names and
 * parameter names not in the workload's @params list, with exit status
 * WORKLOAD_BAD_REQUEST.
 */
#ifndef VUVM_GUEST_WORKLOADS_H
#define VUVM_GUEST_WORKLOADS_H

#define WORKLOAD_DEFAULT     "probe"
#define WORKLOAD_BAD_REQUEST 1

struct workload {
	const char *name;
	const char *summary;
	const char *const *params; /* NULL-terminated known keys */
	int (*entry)(const char *args);
};

/* Terminated by an entry whose name is NULL. */
extern const struct workload workloads[];

/* The workload called @name, or NULL. */
const struct workload *workload_find(const char *name);

int probe_main(const char *args);
int exit_main(const char *args);
int selftest_main(const char *args);
int fault_main(const char *args);
int blk_verify_main(const char *args);
int rng_main(const char *args);
int net_echo_main(const char *args);
int hostile_main(const char *args);
int blk_bench_main(const char *args);
int net_bench_main(const char *args);
int check_main(const char *args);
int fs_verify_main(const char *args);
int fs_bench_main(const char *args);

#endif
