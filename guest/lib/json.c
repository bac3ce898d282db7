// SPDX-License-Identifier: MIT
/*
 * The VUVM-JSON line builder (see json.h). Portable C.
 */
#include <stdio.h>
#include <string.h>

#include "lib/json.h"

static void add(struct json *j, const char *s, size_t n)
{
	if (j->overflow || j->len + n >= sizeof(j->buf)) {
		j->overflow = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = 0;
}

static void add_str(struct json *j, const char *s)
{
	add(j, s, strlen(s));
}

static void add_quoted(struct json *j, const char *s)
{
	char esc[8];

	add(j, "\"", 1);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = c;
			add(j, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			add(j, esc, 6);
		} else {
			add(j, (const char *)&c, 1);
		}
	}
	add(j, "\"", 1);
}

/* The comma before a member or element, then "key": if there is a key. */
static void member(struct json *j, const char *key)
{
	char last = j->len ? j->buf[j->len - 1] : '{';

	if (last != '{' && last != '[')
		add(j, ",", 1);
	if (key) {
		add_quoted(j, key);
		add(j, ":", 1);
	}
}

void json_begin(struct json *j)
{
	j->len = 0;
	j->overflow = false;
	j->buf[0] = 0;
	add(j, "{", 1);
}

void json_str(struct json *j, const char *key, const char *val)
{
	member(j, key);
	if (val)
		add_quoted(j, val);
	else
		add_str(j, "null");
}

void json_u64(struct json *j, const char *key, uint64_t val)
{
	char num[24];

	member(j, key);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)val);
	add_str(j, num);
}

void json_i64(struct json *j, const char *key, int64_t val)
{
	char num[24];

	member(j, key);
	snprintf(num, sizeof(num), "%lld", (long long)val);
	add_str(j, num);
}

void json_bool(struct json *j, const char *key, bool val)
{
	member(j, key);
	add_str(j, val ? "true" : "false");
}

void json_object_begin(struct json *j, const char *key)
{
	member(j, key);
	add(j, "{", 1);
}

void json_object_end(struct json *j)
{
	add(j, "}", 1);
}

void json_array_begin(struct json *j, const char *key)
{
	member(j, key);
	add(j, "[", 1);
}

void json_array_end(struct json *j)
{
	add(j, "]", 1);
}

void json_end(struct json *j)
{
	add(j, "}", 1);
}

int json_print(struct json *j)
{
	json_end(j);
	if (j->overflow) {
		printf("ERROR: JSON result longer than %d bytes, not printed\n",
		       JSON_MAX);
		return -1;
	}
	printf("%s%s\n", JSON_PREFIX, j->buf);
	return 0;
}
