/* SPDX-License-Identifier: MIT */
/*
 * Formatted output. The format core (lib/format.c) is portable and unit
 * tested on the host; printf itself writes to the serial port
 * (lib/console.c).
 *
 * Conversions: %d %i %u %x %X %o %c %s %p %%, length modifiers hh h l ll z
 * t j, flags - 0 + space #, field width and precision (numbers or *).
 * Unknown conversions are printed as they are.
 */
#ifndef VUVM_GUEST_STDIO_H
#define VUVM_GUEST_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define __printf(a, b) __attribute__((format(__printf__, a, b)))

/* Sink of vformat: called once per output byte. */
typedef void (*format_sink)(void *ctx, char c);

/* Formats to @sink; returns the number of bytes produced. */
int vformat(format_sink sink, void *ctx, const char *fmt, va_list ap);

/* C99 semantics: always terminates when size > 0, returns the length the
 * full result would have. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* To the serial console; a line from one CPU is never split by another. */
int vprintf(const char *fmt, va_list ap);
int printf(const char *fmt, ...) __printf(1, 2);
int puts(const char *s);

#endif
