// SPDX-License-Identifier: MIT
/*
 * What Debian's hosted libfdt.a expects from its libc for -fstack-protector:
 * the canary at %fs:0x28 (struct cpu.canary, FS base set by cpu_enter) and
 * this function when it has been overwritten.
 */
#include <stdio.h>
#include <stdlib.h>

void __stack_chk_fail(void) __attribute__((noreturn));

void __stack_chk_fail(void)
{
	printf("\nFATAL: stack smashing detected (return address %p)\n",
	       __builtin_return_address(0));
	exit(1);
}
