/* SPDX-License-Identifier: MIT */
/*
 * The guest's stdlib subset: number parsing (lib/string.c) and exit
 * (lib/console.c).
 */
#ifndef VUVM_GUEST_STDLIB_H
#define VUVM_GUEST_STDLIB_H

#include <stddef.h>

/* Base 0 accepts 0x (hex), leading 0 (octal) or decimal; no locale. On
 * overflow strtoul and strtoull saturate at ULLONG_MAX (the same type on
 * x86-64); strtol is strtoull's result cast to long. */
unsigned long strtoul(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);
long strtol(const char *s, char **end, int base);

/* Writes @status to the exit port found in the FDT; vuvm then exits with
 * status & 0xff. Never returns (triple-faults if there is no exit port). */
void exit(int status) __attribute__((noreturn));

#endif
