/* SPDX-License-Identifier: MIT */
/*
 * Verdicts of vuvm-check's checks (guest/check/catalogue.def), as the
 * runner reads them: one line per check,
 *
 *   VUVM-JSON: {"check":"virtio/2.7.4/1","result":"pass"}
 *   VUVM-JSON: {"check":"...","result":"fail","expected":"...","got":"..."}
 *   VUVM-JSON: {"check":"...","result":"skip","reason":"..."}
 *
 * plus the usual PASS:/FAIL:/SKIP: line for people reading the console.
 *
 * A check usually judges many cases (every byte boundary, every length):
 * a struct check_acc gathers them and keeps the first failure.
 *
 * check_expect: counts one case of @a; when @ok is false and nothing has
 *   failed yet, keeps @expected and the formatted "got" text. Returns @ok.
 * check_done: prints @id's verdict from @a: fail if a case failed, pass
 *   if any ran, else skip with @a's skip reason (check_skip_reason) or
 *   "no case ran".
 * check_skip: prints a skip verdict for @id at once.
 * check_id: the catalogue ID of @id.
 */
#ifndef VUVM_GUEST_CHECK_H
#define VUVM_GUEST_CHECK_H

#include <stdbool.h>
#include <stdio.h> /* __printf */

enum check_id {
#define CHECK(sym, id, level, sc, text) CK_##sym,
#include "check/catalogue.def"
	CK_COUNT
};

#define CHECK_TEXT 120

struct check_acc {
	unsigned int cases;
	bool failed;
	char expected[CHECK_TEXT];
	char got[CHECK_TEXT];
	char skip[CHECK_TEXT];
};

bool check_expect(struct check_acc *a, bool ok, const char *expected,
		  const char *got_fmt, ...) __printf(4, 5);
void check_skip_reason(struct check_acc *a, const char *reason);
void check_done(enum check_id id, const struct check_acc *a);
void check_skip(enum check_id id, const char *reason);
const char *check_id(enum check_id id);

#endif
