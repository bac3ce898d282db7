/* SPDX-License-Identifier: MIT */
/*
 * The guest's string functions (lib/string.c): the standard contracts, and
 * the set libfdt needs. Freestanding; also built for the host unit test
 * under other names (tests/guest).
 */
#ifndef VUVM_GUEST_STRING_H
#define VUVM_GUEST_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
/* Copies at most size - 1 bytes and always terminates (if size > 0);
 * returns strlen(src), so a result >= size means truncation. */
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
