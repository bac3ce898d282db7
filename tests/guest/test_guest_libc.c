// SPDX-License-Identifier: MIT
/*
 * Host unit test of the guest's libc pieces. Every guest function carries a
 * guest_ prefix here (guest_names.h), and this file uses no host string or
 * stdio function: it prints with the guest's own snprintf and write(2).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/kv.h"

static int checks, failures;
static char printed[4096];

static void say(const char *s)
{
	if (write(2, s, strlen(s)) < 0)
		failures++;
}

/* json_print's output lands in printed[] instead of a serial port. */
int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(printed, sizeof(printed), fmt, ap);
	va_end(ap);
	return n;
}

static void check(bool ok, const char *what, int line)
{
	char buf[256];

	checks++;
	if (ok)
		return;
	failures++;
	snprintf(buf, sizeof(buf), "FAIL line %d: %s\n", line, what);
	say(buf);
}

#define CHECK(cond) check((cond), #cond, __LINE__)

static void check_fmt(int line, const char *want, const char *fmt, ...)
{
	char got[128], msg[400];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	checks++;
	if (!strcmp(got, want) && n == (int)strlen(want))
		return;
	failures++;
	snprintf(msg, sizeof(msg),
		 "FAIL line %d: format \"%s\": want \"%s\", got \"%s\" (%d)\n",
		 line, fmt, want, got, n);
	say(msg);
}

#define FMT(want, ...) check_fmt(__LINE__, want, __VA_ARGS__)

static void test_integers(void)
{
	FMT("0 -1 2147483647 -2147483648", "%d %i %d %d", 0, -1, 2147483647,
	    -2147483647 - 1);
	FMT("4294967295 0", "%u %u", 4294967295u, 0u);
	FMT("ff FF 0xff 0XFF 0", "%x %X %#x %#X %#x", 255u, 255u, 255u, 255u,
	    0u);
	FMT("123456789abcdef0", "%lx", 0x123456789abcdef0UL);
	FMT("18446744073709551615", "%llu", 18446744073709551615ULL);
	FMT("-9223372036854775808", "%lld", -9223372036854775807LL - 1);
	FMT("42 -7", "%zu %zd", (size_t)42, (ssize_t)-7);
	FMT("17 021 0", "%o %#o %#o", 15u, 17u, 0u);
	FMT("200 -5 65535", "%hhu %hd %hu", (unsigned char)200, (short)-5,
	    (unsigned short)65535);
	FMT("+5 -5  5", "%+d %+d % d", 5, -5, 5);
}

static void test_widths(void)
{
	FMT("[   42][42   ][00042][-0042]", "[%5d][%-5d][%05d][%05d]", 42, 42,
	    42, -42);
	FMT("[0000beef][    beef][0x00beef]", "[%08x][%8x][%#08x]", 0xbeefu,
	    0xbeefu, 0xbeefu);
	FMT("[  007][007]", "[%5.3d][%.3d]", 7, 7);
	FMT("[    7][7    ]", "[%*d][%-*d]", 5, 7, 5, 7);
	FMT("[7    ]", "[%*d]", -5, 7);
	FMT("[]", "[%.0d]", 0);
	FMT("12345", "%3d", 12345);
}

static void test_strings(void)
{
	FMT("hi|  right|l   |cu|Z|%", "%s|%7s|%-4s|%.2s|%c|%%", "hi", "right",
	    "l", "cut", 'Z');
	FMT("(null)", "%s", (char *)NULL);
	FMT("[  x]", "[%3c]", 'x');
	FMT("ab", "%.*s", 2, "abc");
	FMT("0x1000 0xdeadbeef", "%p %p", (void *)0x1000, (void *)0xdeadbeefUL);
	FMT("%y", "%y");
}

static void test_snprintf_bounds(void)
{
	char buf[6] = "zzzzz";

	CHECK(snprintf(buf, sizeof(buf), "%s", "truncated") == 9);
	CHECK(!strcmp(buf, "trunc"));
	CHECK(snprintf(buf, 0, "abc") == 3 && buf[0] == 't');
	CHECK(snprintf(buf, 1, "abc") == 3 && buf[0] == 0);
}

static void test_string_functions(void)
{
	char buf[16] = "abcdefgh", *end;

	memmove(buf + 2, buf, 6);
	CHECK(!memcmp(buf, "ababcdef", 8));
	memmove(buf, buf + 2, 6);
	CHECK(!memcmp(buf, "abcdefef", 8));
	CHECK(memset(buf, 'x', 3) == buf && !memcmp(buf, "xxxd", 4));
	CHECK(memcmp("a\x80", "a\x01", 2) > 0);
	CHECK(strlen("") == 0 && strnlen("abc", 10) == 3);
	CHECK(strcmp("abc", "abd") < 0 && strcmp("b", "a") > 0);
	CHECK(strncmp("abcx", "abcy", 3) == 0 && !strcmp("", ""));
	strlcpy(buf, "a/b/c", sizeof(buf));
	CHECK(strchr(buf, '/') == buf + 1 && strrchr(buf, '/') == buf + 3);
	CHECK(strchr(buf, 0) == buf + 5 && !strrchr(buf, 'z'));
	CHECK(memchr(buf, 'c', 5) == buf + 4 && !memchr(buf, 'c', 4));
	CHECK(strlcpy(buf, "0123456789", 4) == 10 && !strcmp(buf, "012"));
	CHECK(strtoul("0x1F", &end, 0) == 31 && *end == 0);
	CHECK(strtoul("0755", NULL, 0) == 493);
	CHECK(strtoul("  42z", &end, 10) == 42 && *end == 'z');
	CHECK(strtoul("zz", &end, 10) == 0 && !strcmp(end, "zz"));
	CHECK(strtoull("99999999999999999999", NULL, 10) == ~0ULL);
	CHECK(strtol("-12", NULL, 10) == -12);
}

static void test_kv(void)
{
	static const char *const known[] = { "a", "size", "flag", "on", NULL };
	const char *args = "a=1,size=4K,flag,on=off,bad=x,a=2";
	uint64_t v;
	char val[4];
	size_t len;
	bool b;

	CHECK(kv_get(args, "a", val, sizeof(val)) == 1 && !strcmp(val, "1"));
	CHECK(kv_get(args, "bad", NULL, 0) == 1);
	CHECK(kv_get(args, "flag", val, sizeof(val)) == 0 && !val[0]);
	CHECK(kv_get(args, "fla", val, sizeof(val)) == -1);
	CHECK(kv_get("", "a", val, sizeof(val)) == -1);
	CHECK(kv_get(NULL, "a", val, sizeof(val)) == -1);
	CHECK(kv_get("k=12345", "k", val, sizeof(val)) == 5 &&
	      !strcmp(val, "123"));
	CHECK(kv_get_u64(args, "size", 0, &v) == 0 && v == 4096);
	CHECK(kv_get_u64("n=0x10", "n", 0, &v) == 0 && v == 16);
	CHECK(kv_get_u64("n=2G", "n", 0, &v) == 0 && v == 2ULL << 30);
	CHECK(kv_get_u64("n=-1", "n", 3, &v) == -2 && v == 3);
	CHECK(kv_get_u64("n=4KB", "n", 3, &v) == -2 && v == 3);
	CHECK(kv_get_u64("n=", "n", 3, &v) == -2 && v == 3);
	CHECK(kv_get_u64(args, "missing", 9, &v) == -1 && v == 9);
	CHECK(kv_get_bool(args, "flag", false, &b) == 0 && b);
	CHECK(kv_get_bool(args, "on", true, &b) == 0 && !b);
	CHECK(kv_get_bool(args, "bad", true, &b) == -2 && b);
	CHECK(kv_get_bool(args, "missing", true, &b) == -1 && b);
	CHECK(kv_unknown(args, known, &len) == args + 24 && len == 3);
	CHECK(kv_unknown("a=1,flag", known, &len) == NULL);
}

static void test_json(void)
{
	struct json j;

	json_begin(&j);
	json_str(&j, "name", "a\"b\\c\n");
	json_u64(&j, "big", 18446744073709551615ULL);
	json_i64(&j, "neg", -3);
	json_bool(&j, "ok", true);
	json_array_begin(&j, "list");
	json_u64(&j, NULL, 1);
	json_object_begin(&j, NULL);
	json_str(&j, "k", NULL);
	json_object_end(&j);
	json_array_end(&j);
	json_object_begin(&j, "empty");
	json_object_end(&j);
	CHECK(json_print(&j) == 0);
	CHECK(!strcmp(printed,
		      "VUVM-JSON: {\"name\":\"a\\\"b\\\\c\\u000a\","
		      "\"big\":18446744073709551615,\"neg\":-3,\"ok\":true,"
		      "\"list\":[1,{\"k\":null}],\"empty\":{}}\n"));

	json_begin(&j);
	for (int i = 0; i < JSON_MAX; i++)
		json_u64(&j, "n", i);
	CHECK(json_print(&j) == -1 && j.overflow);
	CHECK(!strncmp(printed, "ERROR: JSON", 11));
}

int main(void)
{
	char buf[64];

	test_integers();
	test_widths();
	test_strings();
	test_snprintf_bounds();
	test_string_functions();
	test_kv();
	test_json();
	snprintf(buf, sizeof(buf), "%d checks, %d failures\n", checks,
		 failures);
	say(buf);
	return failures ? 1 : 0;
}
