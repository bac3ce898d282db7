// SPDX-License-Identifier: MIT
/*
 * exit: ends the guest at once with status=N (default 0), the smallest
 * test of the exit-status path from guest to vuvm's own exit code.
 */
#include <stdint.h>
#include <stdio.h>

#include "lib/kv.h"
#include "workloads/workloads.h"

int exit_main(const char *args)
{
	uint64_t status;

	if (kv_get_u64(args, "status", 0, &status) == -2 ||
	    status > UINT32_MAX) {
		printf("ERROR: exit: status must be a number up to 2^32-1\n");
		return WORKLOAD_BAD_REQUEST;
	}
	return (int)status;
}
