// SPDX-License-Identifier: MIT
/*
 * k=v parsing for workload parameters (see kv.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/kv.h"

/* Length of the key at @p: up to '=', ',' or the end. */
static size_t key_len(const char *p)
{
	size_t n = 0;

	while (p[n] && p[n] != '=' && p[n] != ',')
		n++;
	return n;
}

/* Finds @key; returns its value (after '=') or "" for a bare key. */
static const char *find(const char *args, const char *key)
{
	size_t klen = strlen(key);
	const char *p = args;

	while (p && *p) {
		size_t n = key_len(p);

		if (n == klen && !strncmp(p, key, n))
			return p[n] == '=' ? p + n + 1 : p + n;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return NULL;
}

static size_t value_len(const char *v)
{
	const char *end = strchr(v, ',');

	return end ? (size_t)(end - v) : strlen(v);
}

int kv_get(const char *args, const char *key, char *val, size_t size)
{
	const char *v = args ? find(args, key) : NULL;
	size_t len;

	if (!v)
		return -1;
	len = value_len(v);
	if (val && size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(val, v, n);
		val[n] = 0;
	}
	return len;
}

static int suffix_shift(char c)
{
	switch (c) {
	case 'k':
	case 'K':
		return 10;
	case 'm':
	case 'M':
		return 20;
	case 'g':
	case 'G':
		return 30;
	}
	return -1;
}

int kv_get_u64(const char *args, const char *key, uint64_t def, uint64_t *out)
{
	char buf[32], *end;
	uint64_t v;
	int len = kv_get(args, key, buf, sizeof(buf)), shift = 0;

	*out = def;
	if (len < 0)
		return -1;
	if (len == 0 || len >= (int)sizeof(buf) || buf[0] == '-' ||
	    buf[0] == '+' || buf[0] == ' ')
		return -2;
	v = strtoull(buf, &end, 0);
	if (end == buf)
		return -2;
	if (*end) {
		shift = suffix_shift(*end);
		if (shift < 0 || end[1])
			return -2;
	}
	if (v == ~0ULL || (shift && v > (~0ULL >> shift)))
		return -2;
	*out = v << shift;
	return 0;
}

int kv_get_bool(const char *args, const char *key, bool def, bool *out)
{
	static const char *const yes[] = { "", "1", "y", "yes", "on", "true" };
	static const char *const no[] = { "0", "n", "no", "off", "false" };
	char buf[8];
	unsigned int i;

	*out = def;
	if (kv_get(args, key, buf, sizeof(buf)) < 0)
		return -1;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(buf, yes[i])) {
			*out = true;
			return 0;
		}
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (!strcmp(buf, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -2;
}

static bool is_known(const char *key, size_t len, const char *const *known)
{
	for (; *known; known++) {
		if (strlen(*known) == len && !strncmp(*known, key, len))
			return true;
	}
	return false;
}

const char *kv_unknown(const char *args, const char *const *known, size_t *len)
{
	const char *p = args;

	while (p && *p) {
		size_t n = key_len(p);

		if (!is_known(p, n, known)) {
			*len = n;
			return p;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return NULL;
}
