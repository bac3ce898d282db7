/* SPDX-License-Identifier: MIT */
/*
 * Logging for vuvm's host programs (the VMM, the reference backends, tests).
 *
 * Every message goes to stderr as "<program>: <prefix>: <text>\n", so the
 * guest's serial console can own stdout. A file sets its prefix by defining
 * pr_fmt before including this header:
 *
 *	#define pr_fmt(fmt) "kvm: " fmt
 *	#include "vhost/log.h"
 *
 * Levels: LOG_ERR < LOG_WARN < LOG_INFO < LOG_DEBUG; messages above the
 * current level are dropped before formatting.
 */
#ifndef VUVM_LOG_H
#define VUVM_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_ERR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif

/* Sets the program name shown first on every line (default "vuvm"). */
void log_set_program(const char *name);
/* Sets the most verbose level that is printed (default LOG_WARN). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int log_parse_level(const char *name, enum log_level *level);

/* Prints one line at @level; use the pr_* wrappers instead. */
void log_printf(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(fmt, ...)   log_printf(LOG_ERR, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...)  log_printf(LOG_WARN, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...)  log_printf(LOG_INFO, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_debug(fmt, ...) log_printf(LOG_DEBUG, pr_fmt(fmt), ##__VA_ARGS__)

#endif
