/* SPDX-License-Identifier: MIT */
/*
 * One machine-readable result line: "VUVM-JSON: {...}" (docs/guest.md).
 * Build the object into a struct json, then json_print() it. Members and
 * array elements get their commas automatically; keys and string values
 * are escaped. A result that does not fit is not printed: json_print then
 * prints an error line instead and returns -1.
 *
 *   struct json j;
 *   json_begin(&j);
 *   json_u64(&j, "tsc_khz", khz);
 *   json_array_begin(&j, "cpus"); json_u64(&j, NULL, 0); json_array_end(&j);
 *   json_print(&j);
 *
 * A NULL key means "array element".
 */
#ifndef VUVM_GUEST_JSON_H
#define VUVM_GUEST_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_PREFIX "VUVM-JSON: "
#define JSON_MAX    2048

struct json {
	char buf[JSON_MAX];
	size_t len;
	bool overflow;
};

void json_begin(struct json *j);
void json_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_i64(struct json *j, const char *key, int64_t val);
void json_bool(struct json *j, const char *key, bool val);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
/* Closes the top-level object; the text is then in j->buf. */
void json_end(struct json *j);
/* json_end, then prints the line; 0 or -1 on overflow. */
int json_print(struct json *j);

#endif
