/* SPDX-License-Identifier: MIT */
/*
 * Running one scenario: a private directory, the backend (started from the
 * --backend template, or the --socket given), one vuvm run of the guest's
 * check workload, and the verdicts the guest printed.
 *
 * scenario_run: runs @sc and fills results[i] for every i with
 *   selected[i] whose check belongs to @sc: the guest's verdict, or a
 *   failure saying why there is none (vuvm's exit status, a backend that
 *   crashed or did not start, a timeout), with the tail of vuvm's
 *   vhost-user trace and of the backend's log attached to every failure.
 *   Safe to call from several threads at once for different scenarios.
 * scenario_preflight: what must hold before any scenario runs: /dev/kvm
 *   usable, vuvm executable, and the backend starting (its socket appears)
 *   or the --socket accepting a connection. 0, or -1 with @why filled.
 * check_result_free: releases what scenario_run allocated.
 */
#ifndef VUVM_CHECK_SCENARIO_H
#define VUVM_CHECK_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/check/catalogue.h"

struct run_config {
	const char *vuvm;    /* vuvm's path */
	const char *type;    /* blk, net, rng */
	const char *backend; /* command template with @SOCK@ / @DIR@, or NULL */
	const char *socket;  /* --socket, or NULL */
	double timeout;	     /* seconds per scenario */
	bool keep;	     /* keep the scenario directories (-v) */
};

enum verdict { VERDICT_NONE, VERDICT_PASS, VERDICT_FAIL, VERDICT_SKIP };

struct check_result {
	enum verdict verdict;
	char *detail; /* what was expected and what happened, or why skipped */
	char *logs;   /* on failure: trace and backend log tails, or NULL */
	double seconds; /* of the scenario that judged it */
};

int scenario_preflight(const struct run_config *cfg, char *why, size_t len);
void scenario_run(const struct run_config *cfg, const struct scenario_def *sc,
		  const bool *selected, struct check_result *results);
void check_result_free(struct check_result *r);

#endif
