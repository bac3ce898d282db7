/* SPDX-License-Identifier: MIT */
/*
 * The sandbox: a seccomp-bpf allow-list per thread class, built once by
 * main() before any thread starts and installed by each thread once its
 * set-up is done (docs/architecture.md, "The sandbox"). A forbidden call
 * stops vuvm with a line naming the call and the thread, and exit status
 * VUVM_EXIT_SECCOMP. The functions are sandbox_*: seccomp_* is
 * libseccomp's.
 */
#ifndef VUVM_VMM_SECCOMP_H
#define VUVM_VMM_SECCOMP_H

#include <stdbool.h>

#include "vmm/config.h" /* enum sandbox_mode, the exit statuses */

/* The thread classes of docs/architecture.md, "Threads and locks". */
enum sandbox_thread {
	SANDBOX_MAIN,
	SANDBOX_VCPU,
	SANDBOX_WATCHER,
	SANDBOX_RECONNECTOR,
	SANDBOX_CONTROL,
	SANDBOX_NETCTRL,
	SANDBOX_NR_THREADS,
};

/* "on", "log", "off"; -EINVAL for anything else. */
int sandbox_parse_mode(const char *arg, enum sandbox_mode *mode);

/* First thing in main(): closes every file descriptor from 3 up, which
 * vuvm inherited and never uses (it takes none on purpose). */
void sandbox_close_inherited_fds(void);

/*
 * Before any other thread exists: sets PR_SET_NO_NEW_PRIVS and, unless
 * @mode is SANDBOX_OFF, builds every class's filter and installs the
 * SIGSYS handler; @check_port adds the rules that only --check-port
 * needs. Returns 0 or a negative errno (logged).
 */
int sandbox_init(enum sandbox_mode mode, bool check_port);

/*
 * First thing in a thread of class @cls (for main: once every other
 * thread is started): names the thread (@fmt, printf-style, also its
 * comm) and installs its filter. A no-op for the filter without
 * sandbox_init() or with SANDBOX_OFF. A filter that cannot be installed
 * stops vuvm (exit 121): a thread never runs unconfined by mistake.
 */
void sandbox_enter(enum sandbox_thread cls, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* For tests: the class's name ("vcpu"), and the system call names of
 * every rule, one at a time (NULL after the last). */
const char *sandbox_thread_name(enum sandbox_thread cls);
const char *sandbox_rule_syscall(unsigned int i);
/* Whether rule @i is in the allow-list of @cls (after inheritance),
 * --check-port's rules included. */
bool sandbox_rule_allows(unsigned int i, enum sandbox_thread cls);

#endif
