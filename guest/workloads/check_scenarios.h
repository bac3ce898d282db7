/* SPDX-License-Identifier: MIT */
/*
 * The scenarios of vuvm-check's catalogue that the guest runs, one
 * function each (check.c dispatches on scenario=NAME). Each gets the
 * workload's parameters and returns the exit status.
 */
#ifndef VUVM_GUEST_WORKLOADS_CHECK_SCENARIOS_H
#define VUVM_GUEST_WORKLOADS_CHECK_SCENARIOS_H

int check_blk_main(const char *args);

#endif
