/* SPDX-License-Identifier: MIT */
/*
 * Workload parameters: "k=v,k2=v2,flag" as vuvm passes them in
 * /chosen/vuvm,test-args. A key without '=' has the empty value. Keys and
 * values cannot contain ',' ; the first occurrence of a key wins.
 * Portable C, unit tested on the host.
 */
#ifndef VUVM_GUEST_KV_H
#define VUVM_GUEST_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Finds @key in @args; copies its value (terminated, truncated to @size)
 * into @val if @val is not NULL. Returns the full value length, or -1 when
 * the key is absent.
 */
int kv_get(const char *args, const char *key, char *val, size_t size);

/*
 * Reads @key as an unsigned number (decimal, 0x hex, or with a K/M/G suffix,
 * powers of 1024). Returns 0 and sets @out, -1 when the key is absent
 * (@out = @def), or -2 when the value is not such a number (@out = @def).
 */
int kv_get_u64(const char *args, const char *key, uint64_t def, uint64_t *out);

/*
 * Reads @key as a boolean: absent → @def; "", "1", "y", "yes", "on",
 * "true" → true; "0", "n", "no", "off", "false" → false. Returns 0, -1
 * when absent, -2 for any other value (@out = @def).
 */
int kv_get_bool(const char *args, const char *key, bool def, bool *out);

/*
 * Checks every key of @args against the NULL-terminated list @known.
 * Returns NULL when all are known, else the first unknown key: a pointer
 * into @args, up to the next ',' or '='; its length goes to @len.
 */
const char *kv_unknown(const char *args, const char *const *known, size_t *len);

#endif
