// SPDX-License-Identifier: MIT
/*
 * fault: raises a CPU exception in ring 3 on purpose (kind=ud, gp, pf or
 * de; default ud), to check the crash path end to end: the guest must print
 * "EXCEPTION: ..." with the vector, error code and rip, then exit with
 * status 1. Returning from here is itself a failure.
 */
#include <stdio.h>
#include <string.h>

#include "lib/kv.h"
#include "workloads/workloads.h"

static void raise_exception(const char *kind)
{
	if (!strcmp(kind, "ud"))
		asm volatile("ud2");
	else if (!strcmp(kind, "gp"))
		asm volatile("cli"); /* privileged at IOPL 0 */
	else if (!strcmp(kind, "pf"))
		*(volatile int *)0x7ffffff000ULL = 1; /* beyond the map */
	else if (!strcmp(kind, "de"))
		asm volatile("xor %%ecx, %%ecx; div %%ecx" ::
				     : "eax", "ecx", "edx");
}

int fault_main(const char *args)
{
	char kind[8] = "ud";

	kv_get(args, "kind", kind, sizeof(kind));
	printf("fault: raising %s\n", kind);
	raise_exception(kind);
	printf("ERROR: fault: kind=%s raised nothing (kinds: ud gp pf de)\n",
	       kind);
	return WORKLOAD_BAD_REQUEST;
}
