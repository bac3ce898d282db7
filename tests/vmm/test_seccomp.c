// SPDX-License-Identifier: MIT
/*
 * The sandbox (vmm/seccomp.c) without KVM: the allow-lists name real
 * system calls, and a child process that installs a class's filter and
 * then makes a forbidden call is stopped by the SIGSYS handler with the
 * line naming the thread and the call, and exit status 126; the argument
 * checks (ioctl requests, socket families, PROT_EXEC, clone3) hold; log
 * and off let the call through; the test hook makes the call itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>

#include "tests/check.h"
#include "vmm/config.h"
#include "vmm/seccomp.h"

/* What a child does once its filter is on. */
typedef void (*child_fn)(void);

struct child {
	enum sandbox_mode mode;
	enum sandbox_thread cls;
	child_fn fn;
	int status; /* exit status, or 1000 + the signal that killed it */
	char err[1024];
};

static void say(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0)
		_exit(90);
}

/* Forks; the child installs @c->cls's filter in @c->mode and runs @c->fn;
 * its stderr comes back in @c->err. */
static void run_child(struct child *c)
{
	int p[2], st;
	size_t used = 0;
	ssize_t n;
	pid_t pid;

	REQUIRE(pipe(p) == 0);
	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		if (sandbox_init(c->mode, false))
			_exit(91);
		sandbox_enter(c->cls, "t-%s", sandbox_thread_name(c->cls));
		c->fn();
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], c->err + used, sizeof(c->err) - 1 - used)) > 0)
		used += (size_t)n;
	c->err[used] = '\0';
	close(p[0]);
	REQUIRE(waitpid(pid, &st, 0) == pid);
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

static void call_getcwd(void)
{
	char buf[256];

	say("alive\n");
	if (syscall(SYS_getcwd, buf, sizeof(buf)) > 0)
		say("getcwd ok\n");
	else
		say("getcwd failed\n");
}

static void test_tables(void)
{
	enum sandbox_mode m;
	const char *name;
	unsigned int i;

	for (i = 0; (name = sandbox_rule_syscall(i)); i++) {
		CHECK_MSG(seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR,
			  "rule %u: '%s' is no system call", i, name);
		CHECK_MSG(strcmp(name, "getcwd") && strcmp(name, "execve"),
			  "rule %u: %s allowed", i, name);
	}
	CHECK(i > 20);
	/* What the SIGSYS handler and every thread need, in every class. */
	for (int cls = 0; cls < SANDBOX_NR_THREADS; cls++) {
		bool has_write = false, has_exit = false, has_futex = false;

		for (i = 0; (name = sandbox_rule_syscall(i)); i++) {
			bool on = sandbox_rule_allows(i, cls);

			has_write |= on && !strcmp(name, "write");
			has_exit |= on && !strcmp(name, "exit_group");
			has_futex |= on && !strcmp(name, "futex");
		}
		CHECK_MSG(has_write && has_exit && has_futex, "class %s",
			  sandbox_thread_name(cls));
	}
	CHECK_STR(sandbox_thread_name(SANDBOX_NETCTRL), "netctrl");
	CHECK(!sandbox_parse_mode("on", &m) && m == SANDBOX_ON);
	CHECK(!sandbox_parse_mode("log", &m) && m == SANDBOX_LOG);
	CHECK(!sandbox_parse_mode("off", &m) && m == SANDBOX_OFF);
	CHECK(sandbox_parse_mode("yes", &m) == -EINVAL);
}

/* Every class: an allowed write goes through, getcwd stops the child. */
static void test_trap_each_class(void)
{
	for (int cls = 0; cls < SANDBOX_NR_THREADS; cls++) {
		struct child c = { .mode = SANDBOX_ON,
				   .cls = cls,
				   .fn = call_getcwd };
		char want[160];

		check_case = sandbox_thread_name(cls);
		run_child(&c);
		snprintf(want, sizeof(want),
			 "alive\nvuvm: seccomp: thread t-%s made forbidden "
			 "system call 'getcwd' (%d); exit status 126\n",
			 sandbox_thread_name(cls), SYS_getcwd);
		CHECK_EQ(c.status, VUVM_EXIT_SECCOMP);
		CHECK_STR(c.err, want);
	}
	check_case = "trap_each_class";
}

static void vcpu_ioctls(void)
{
	/* KVM_RUN is allowed (a bad fd: EBADF), TCGETS is not. */
	if (ioctl(-1, KVM_RUN, 0) < 0 && errno == EBADF)
		say("KVM_RUN EBADF\n");
	/* clone3 fails (ENOSYS), so that glibc falls back to clone. */
	if (syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS)
		say("clone3 ENOSYS\n");
	ioctl(-1, TCGETS, 0);
}

static void reconnector_sockets(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	if (s >= 0)
		say("unix socket ok\n");
	socket(AF_INET, SOCK_STREAM, 0);
}

static void exec_mapping(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		say("rw mapping ok\n");
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	     0);
}

static void test_arguments(void)
{
	struct child vcpu = { .mode = SANDBOX_ON,
			      .cls = SANDBOX_VCPU,
			      .fn = vcpu_ioctls };
	struct child rc = { .mode = SANDBOX_ON,
			    .cls = SANDBOX_RECONNECTOR,
			    .fn = reconnector_sockets };
	struct child ctl = { .mode = SANDBOX_ON,
			     .cls = SANDBOX_CONTROL,
			     .fn = exec_mapping };
	struct child main_ioctl = { .mode = SANDBOX_ON,
				    .cls = SANDBOX_MAIN,
				    .fn = vcpu_ioctls };

	run_child(&vcpu);
	CHECK_EQ(vcpu.status, VUVM_EXIT_SECCOMP);
	CHECK_HAS(vcpu.err, "KVM_RUN EBADF\nclone3 ENOSYS\nvuvm: seccomp: "
			    "thread t-vcpu made forbidden system call 'ioctl' "
			    "(16)");
	run_child(&rc);
	CHECK_EQ(rc.status, VUVM_EXIT_SECCOMP);
	CHECK_HAS(rc.err, "unix socket ok\nvuvm: seccomp: thread "
			  "t-reconnector made forbidden system call 'socket' "
			  "(41)");
	run_child(&ctl);
	CHECK_EQ(ctl.status, VUVM_EXIT_SECCOMP);
	CHECK_HAS(ctl.err, "rw mapping ok\nvuvm: seccomp: thread t-control "
			   "made forbidden system call 'mmap' (9)");
	/* Main never runs a vCPU: KVM_RUN is not among its requests. */
	run_child(&main_ioctl);
	CHECK_EQ(main_ioctl.status, VUVM_EXIT_SECCOMP);
	CHECK_HAS(main_ioctl.err, "vuvm: seccomp: thread t-main made "
				  "forbidden system call 'ioctl' (16)");
	CHECK(!strstr(main_ioctl.err, "KVM_RUN EBADF"));
}

static void test_log_and_off(void)
{
	struct child log = { .mode = SANDBOX_LOG,
			     .cls = SANDBOX_VCPU,
			     .fn = call_getcwd };
	struct child off = { .mode = SANDBOX_OFF,
			     .cls = SANDBOX_VCPU,
			     .fn = call_getcwd };

	run_child(&log);
	CHECK_EQ(log.status, 0);
	CHECK_STR(log.err, "vuvm: seccomp: log mode: a system call outside a "
			   "thread's allow-list is allowed and logged by the "
			   "kernel (dmesg, audit log)\nalive\ngetcwd ok\n");
	run_child(&off);
	CHECK_EQ(off.status, 0);
	CHECK_STR(off.err, "alive\ngetcwd ok\n");
}

static void nothing(void)
{
}

/* VUVM_SECCOMP_TEST=CLASS: that class's thread makes the call itself. */
static void test_hook(void)
{
	struct child on = { .mode = SANDBOX_ON,
			    .cls = SANDBOX_WATCHER,
			    .fn = nothing };
	struct child other = { .mode = SANDBOX_ON,
			       .cls = SANDBOX_CONTROL,
			       .fn = nothing };
	struct child off = { .mode = SANDBOX_OFF,
			     .cls = SANDBOX_WATCHER,
			     .fn = nothing };

	setenv("VUVM_SECCOMP_TEST", "watcher", 1);
	run_child(&on);
	run_child(&other);
	run_child(&off);
	unsetenv("VUVM_SECCOMP_TEST");
	CHECK_EQ(on.status, VUVM_EXIT_SECCOMP);
	CHECK_HAS(on.err, "vuvm: seccomp: t-watcher: test: calling getcwd(2)"
			  ", which no thread may\nvuvm: seccomp: thread "
			  "t-watcher made forbidden system call 'getcwd'");
	CHECK_EQ(other.status, 0);
	CHECK_STR(other.err, "");
	CHECK_EQ(off.status, 0);
	CHECK_STR(off.err, "vuvm: seccomp: t-watcher: test: calling getcwd(2)"
			   ", which no thread may\n");
}

/* Reachable at exit: LeakSanitizer's check (ASan builds) must run under
 * main's filter and find nothing. */
static void *volatile kept;

static void end_process(void)
{
	kept = malloc(64);
	exit(0);
}

/* Main's filter lets vuvm end the ordinary way: atexit handlers, stdio,
 * and under ASan the sanitizer's leak check. */
static void test_exit_under_main(void)
{
	struct child c = { .mode = SANDBOX_ON,
			   .cls = SANDBOX_MAIN,
			   .fn = end_process };

	run_child(&c);
	CHECK_EQ(c.status, 0);
	CHECK_STR(c.err, "");
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		{ "tables", test_tables },
		{ "trap_each_class", test_trap_each_class },
		{ "arguments", test_arguments },
		{ "log_and_off", test_log_and_off },
		{ "hook", test_hook },
		{ "exit_under_main", test_exit_under_main },
	};

	return CHECK_RUN(cases, argc, argv);
}
