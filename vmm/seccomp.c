// SPDX-License-Identifier: MIT
/*
 * The sandbox: one allow-list of system calls per thread class, compiled
 * to BPF with libseccomp before any thread starts, installed by each
 * thread with one seccomp(2) call once its set-up is done, and a SIGSYS
 * handler that names the thread and the call when one is refused.
 *
 * A filter is per thread and inherited by the threads it creates, on top
 * of their own: a vCPU starts the net control-queue thread (at DRIVER_OK)
 * and the device watcher starts the reconnectors, so the vCPU's list
 * holds the control queue's and the watcher's the reconnector's, plus
 * what creating a thread takes. Main installs its own filter last, once
 * every thread it starts is running.
 */
#define _GNU_SOURCE
#define pr_fmt(fmt) "seccomp: " fmt
#include "vmm/seccomp.h"

#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vhost/log.h"
#include "vmm/config.h"

/* Set by a test to make one thread class call getcwd(2), which no class
 * may, right after it installed its filter. Not documented for users. */
#define SANDBOX_TEST_ENV "VUVM_SECCOMP_TEST"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

#define M   (1U << SANDBOX_MAIN)
#define V   (1U << SANDBOX_VCPU)
#define W   (1U << SANDBOX_WATCHER)
#define R   (1U << SANDBOX_RECONNECTOR)
#define C   (1U << SANDBOX_CONTROL)
#define N   (1U << SANDBOX_NETCTRL)
#define ALL (M | V | W | R | C | N)
/* Not a class: the rule is there only with --check-port. */
#define CP (1U << SANDBOX_NR_THREADS)
/* The classes that create threads of another class. */
#define PARENTS (V | W)

enum rule_arg {
	ARG_ANY,
	ARG_NO_EXEC,	/* mmap, mprotect: never PROT_EXEC (argument 2) */
	ARG_UNIX,	/* socket: AF_UNIX only */
	ARG_THREAD,	/* clone: threads only (CLONE_THREAD) */
	ARG_SET_NAME,	/* prctl: PR_SET_NAME only */
	ARG_FILTER,	/* seccomp: SECCOMP_SET_MODE_FILTER only */
	ARG_IOCTL_VCPU, /* ioctl: the vCPU's KVM requests */
	ARG_IOCTL_DEV,	/* ioctl: the devices' KVM requests */
	ARG_IOCTL_MAIN, /* ioctl: those and removing the memory slots */
	ARG_IOCTL_SLOT, /* ioctl: a memory slot (--check-port) */
};

struct rule {
	const char *name;
	unsigned int classes;
	enum rule_arg arg;
};

/*
 * Who may call what, and why (docs/architecture.md has the same in
 * prose). Every class logs (write), waits on locks (futex), reads the
 * clock, allocates (brk, mmap...), talks to backends (sendmsg, recvmsg,
 * poll, shutdown on a broken stream, fstat of a received fd, the
 * back-off sleeps of a state transfer) and ends (exit, exit_group).
 */
static const struct rule rules[] = {
	{ "read", ALL, ARG_ANY },
	{ "write", ALL, ARG_ANY },
	{ "close", ALL, ARG_ANY },
	{ "futex", ALL, ARG_ANY },
	{ "exit", ALL, ARG_ANY },
	{ "exit_group", ALL, ARG_ANY },
	{ "rt_sigreturn", ALL, ARG_ANY },
	{ "rt_sigprocmask", ALL, ARG_ANY },
	{ "restart_syscall", ALL, ARG_ANY },
	{ "clock_gettime", ALL, ARG_ANY },
	{ "gettimeofday", ALL, ARG_ANY },
	{ "clock_nanosleep", ALL, ARG_ANY },
	{ "nanosleep", ALL, ARG_ANY },
	{ "getpid", ALL, ARG_ANY },
	{ "gettid", ALL, ARG_ANY },
	{ "sched_yield", ALL, ARG_ANY },
	{ "brk", ALL, ARG_ANY },
	{ "mmap", ALL, ARG_NO_EXEC },
	{ "mprotect", ALL, ARG_NO_EXEC },
	{ "munmap", ALL, ARG_ANY },
	{ "mremap", ALL, ARG_ANY },
	{ "madvise", ALL, ARG_ANY },
	{ "poll", ALL, ARG_ANY },
	{ "ppoll", ALL, ARG_ANY },
	{ "sendmsg", ALL, ARG_ANY },
	{ "recvmsg", ALL, ARG_ANY },
	{ "shutdown", ALL, ARG_ANY },
	{ "fcntl", ALL, ARG_ANY },
	{ "fstat", ALL, ARG_ANY },
	{ "newfstatat", ALL, ARG_ANY },
	/* The vCPU: KVM_RUN and the devices' requests; eventfds for the
	 * rings it starts (DRIVER_OK). Reconnector and control: new eventfds
	 * when rings restart. */
	{ "ioctl", V, ARG_IOCTL_VCPU },
	{ "ioctl", W | R | C, ARG_IOCTL_DEV },
	{ "ioctl", M, ARG_IOCTL_MAIN },
	{ "eventfd2", V | R | C, ARG_ANY },
	/* --check-port alone: its memory steps run on the vCPU that asks,
	 * which makes a memfd and gives the guest a memory slot of it. */
	{ "memfd_create", V | CP, ARG_ANY },
	{ "ftruncate", V | CP, ARG_ANY },
	{ "ioctl", V | CP, ARG_IOCTL_SLOT },
	/* Main: kicks the vCPUs out of KVM_RUN (pthread_kill), removes the
	 * control socket. */
	{ "tgkill", M, ARG_ANY },
	{ "unlink", M | C, ARG_ANY },
	{ "unlinkat", M | C, ARG_ANY },
	/* The reconnector: a new connection to the backend's socket. */
	{ "socket", R, ARG_UNIX },
	{ "connect", R, ARG_ANY },
	{ "socketpair", R, ARG_UNIX }, /* the new backend channel */
	{ "getsockopt", R, ARG_ANY },
	{ "setsockopt", R, ARG_ANY },
	/* Control: its client, the state files (FILE.tmp renamed to FILE),
	 * the pipe of a state transfer. */
	{ "accept4", C, ARG_ANY },
	{ "recvfrom", C, ARG_ANY },
	{ "sendto", C, ARG_ANY },
	{ "openat", C, ARG_ANY },
	{ "rename", C, ARG_ANY },
	{ "renameat", C, ARG_ANY },
	{ "renameat2", C, ARG_ANY },
	{ "pipe2", C, ARG_ANY },
	/* Starting a thread of another class, which then names itself and
	 * installs its own filter. clone3 fails with ENOSYS (below), so
	 * that glibc uses clone, whose flags a filter can see. */
	{ "clone", PARENTS, ARG_THREAD },
	{ "set_robust_list", PARENTS, ARG_ANY },
	{ "rseq", PARENTS, ARG_ANY },
	{ "prctl", PARENTS, ARG_SET_NAME },
	{ "seccomp", PARENTS, ARG_FILTER },
#ifdef SANDBOX_ASAN
	/* AddressSanitizer's runtime: each thread's alternate signal stack,
	 * set up when it starts and taken down when it ends. */
	{ "sigaltstack", ALL, ARG_ANY },
	/* ... and the CPUs a thread may run on, which it asks for in a
	 * vCPU and the watcher (seen with --seccomp=log in the VM). */
	{ "sched_getaffinity", ALL, ARG_ANY },
	/* LeakSanitizer's check at exit, on main: a tracer task (clone
	 * without CLONE_THREAD, inheriting main's filter) stops every
	 * thread with ptrace and reads their registers and /proc. */
	{ "rt_sigaction", M, ARG_ANY },
	{ "clone", M, ARG_ANY },
	{ "getppid", M, ARG_ANY },
	{ "prctl", M, ARG_ANY },
	{ "ptrace", M, ARG_ANY },
	{ "wait4", M, ARG_ANY },
	{ "openat", M, ARG_ANY },
	{ "getdents64", M, ARG_ANY },
	{ "open", M, ARG_ANY },
	{ "getdents", M, ARG_ANY },
	{ "lseek", M, ARG_ANY },
	{ "kill", M, ARG_ANY },
#endif
};

#define NR_RULES (sizeof(rules) / sizeof(rules[0]))

static const unsigned long ioctl_dev[] = {
	KVM_IOEVENTFD,
	KVM_IRQFD,
	KVM_SET_GSI_ROUTING,
};

static const unsigned long ioctl_main[] = {
	KVM_IOEVENTFD, KVM_IRQFD, KVM_SET_GSI_ROUTING,
	KVM_SET_USER_MEMORY_REGION, /* kvm_close() deletes the slots */
};

static const unsigned long ioctl_slot[] = {
	KVM_SET_USER_MEMORY_REGION,
};

static const unsigned long ioctl_vcpu[] = {
	KVM_RUN, KVM_GET_REGS, KVM_IOEVENTFD, KVM_IRQFD, KVM_SET_GSI_ROUTING,
};

static const char *const class_names[SANDBOX_NR_THREADS] = {
	[SANDBOX_MAIN] = "main",       [SANDBOX_VCPU] = "vcpu",
	[SANDBOX_WATCHER] = "watcher", [SANDBOX_RECONNECTOR] = "reconnector",
	[SANDBOX_CONTROL] = "control", [SANDBOX_NETCTRL] = "netctrl",
};

/* si_code of a SIGSYS from a filter (asm-generic/siginfo.h; glibc's
 * headers do not name it). */
#define SANDBOX_SI_SECCOMP 1

/* System call names for the SIGSYS handler, which cannot allocate. */
#define SANDBOX_MAX_NR 512

static enum sandbox_mode sandbox_mode = SANDBOX_OFF;
static bool sandbox_ready;
static bool sandbox_check_port; /* its rules are in the filters */
static int sandbox_test_class = -1;
static struct sock_fprog progs[SANDBOX_NR_THREADS];
static char *syscall_names[SANDBOX_MAX_NR];
static __thread char thread_name[32] = "main";

int sandbox_parse_mode(const char *arg, enum sandbox_mode *mode)
{
	static const char *const names[] = { "on", "log", "off" };

	for (unsigned int i = 0; i < 3; i++) {
		if (!strcmp(arg, names[i])) {
			*mode = (enum sandbox_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *sandbox_thread_name(enum sandbox_thread cls)
{
	return cls < SANDBOX_NR_THREADS ? class_names[cls] : NULL;
}

const char *sandbox_rule_syscall(unsigned int i)
{
	return i < NR_RULES ? rules[i].name : NULL;
}

/* A class's rules with what the threads it starts need added. */
static unsigned int rule_classes(const struct rule *r)
{
	unsigned int m = r->classes;

	if (m & N)
		m |= V;
	if (m & R)
		m |= W;
	return m;
}

bool sandbox_rule_allows(unsigned int i, enum sandbox_thread cls)
{
	return i < NR_RULES && (rule_classes(&rules[i]) & (1U << cls));
}

/* --- Building the filters ------------------------------------------------- */

/* Argument @arg equals @v; libseccomp's SCMP_A0() leaves datum_b implicit,
 * which clang's -Wmissing-field-initializers refuses. */
static struct scmp_arg_cmp arg_eq(unsigned int arg, uint64_t v)
{
	return (struct scmp_arg_cmp){
		.arg = arg, .op = SCMP_CMP_EQ, .datum_a = v, .datum_b = 0
	};
}

/* Argument @arg with @mask applied equals @v. */
static struct scmp_arg_cmp arg_masked(unsigned int arg, uint64_t mask,
				      uint64_t v)
{
	return (struct scmp_arg_cmp){ .arg = arg,
				      .op = SCMP_CMP_MASKED_EQ,
				      .datum_a = mask,
				      .datum_b = v };
}

static int add_ioctls(scmp_filter_ctx ctx, int nr, const unsigned long *req,
		      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* The kernel takes the request as an unsigned int. */
		int err =
			seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					 arg_masked(1, 0xffffffffULL, req[i]));
		if (err)
			return err;
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct rule *r)
{
	int nr = seccomp_syscall_resolve_name(r->name);

	if (nr == __NR_SCMP_ERROR) {
		pr_err("unknown system call '%s' in the allow-list", r->name);
		return -EINVAL;
	}
	switch (r->arg) {
	case ARG_ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	case ARG_NO_EXEC:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					arg_masked(2, PROT_EXEC, 0));
	case ARG_UNIX:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					arg_eq(0, AF_UNIX));
	case ARG_THREAD:
		return seccomp_rule_add(
			ctx, SCMP_ACT_ALLOW, nr, 1,
			arg_masked(0, CLONE_THREAD, CLONE_THREAD));
	case ARG_SET_NAME:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					arg_eq(0, PR_SET_NAME));
	case ARG_FILTER:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					arg_eq(0, SECCOMP_SET_MODE_FILTER));
	case ARG_IOCTL_VCPU:
		return add_ioctls(ctx, nr, ioctl_vcpu,
				  sizeof(ioctl_vcpu) / sizeof(ioctl_vcpu[0]));
	case ARG_IOCTL_MAIN:
		return add_ioctls(ctx, nr, ioctl_main,
				  sizeof(ioctl_main) / sizeof(ioctl_main[0]));
	case ARG_IOCTL_DEV:
		return add_ioctls(ctx, nr, ioctl_dev,
				  sizeof(ioctl_dev) / sizeof(ioctl_dev[0]));
	case ARG_IOCTL_SLOT:
		return add_ioctls(ctx, nr, ioctl_slot,
				  sizeof(ioctl_slot) / sizeof(ioctl_slot[0]));
	}
	return -EINVAL;
}

/* libseccomp 2.5 exports BPF only to a file descriptor: a memfd. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("vuvm-seccomp", MFD_CLOEXEC);
	off_t size;
	void *buf = NULL;
	int err;

	if (fd < 0)
		return -errno;
	err = seccomp_export_bpf(ctx, fd);
	size = err ? -1 : lseek(fd, 0, SEEK_END);
	if (!err && (size <= 0 || size % sizeof(struct sock_filter) ||
		     size / sizeof(struct sock_filter) > BPF_MAXINSNS))
		err = -E2BIG;
	if (!err && !(buf = malloc((size_t)size)))
		err = -ENOMEM;
	if (!err && pread(fd, buf, (size_t)size, 0) != size)
		err = -EIO;
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	prog->filter = buf;
	prog->len = (unsigned short)(size / sizeof(struct sock_filter));
	return 0;
}

static int build_filter(enum sandbox_thread cls, struct sock_fprog *prog)
{
	uint32_t def =
		sandbox_mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
	scmp_filter_ctx ctx = seccomp_init(def);
	int err = ctx ? 0 : -ENOMEM;

	/* Another architecture's system calls (int 0x80) never pass. */
	if (!err)
		err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
				       SCMP_ACT_KILL_PROCESS);
	/* Our own no_new_privs, set once in sandbox_init(). */
	if (!err)
		err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (unsigned int i = 0; i < NR_RULES && !err; i++)
		if (sandbox_rule_allows(i, cls) &&
		    (!(rules[i].classes & CP) || sandbox_check_port))
			err = add_rule(ctx, &rules[i]);
	if (!err && ((1U << cls) & PARENTS))
		err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				       SCMP_SYS(clone3), 0);
	if (!err)
		err = export_bpf(ctx, prog);
	if (ctx)
		seccomp_release(ctx);
	if (err)
		pr_err("%s: cannot build the filter: %s", class_names[cls],
		       strerror(-err));
	return err;
}

/* --- A forbidden call ------------------------------------------------------
 */

static size_t put_str(char *buf, size_t at, size_t size, const char *s)
{
	while (*s && at + 1 < size)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t size, long n)
{
	char digits[24];
	int i = 0;
	unsigned long u = n < 0 ? -(unsigned long)n : (unsigned long)n;

	do
		digits[i++] = (char)('0' + u % 10);
	while ((u /= 10) && i < (int)sizeof(digits));
	if (n < 0 && at + 1 < size)
		buf[at++] = '-';
	while (i && at + 1 < size)
		buf[at++] = digits[--i];
	return at;
}

/* Async-signal-safe: no allocation, no stdio; one write(2). */
static void sandbox_sigsys(int sig, siginfo_t *si, void *ucontext)
{
	char line[256];
	size_t at = 0;
	int nr = si->si_code == SANDBOX_SI_SECCOMP ? si->si_syscall : -1;
	const char *name = nr >= 0 && nr < SANDBOX_MAX_NR && syscall_names[nr]
				   ? syscall_names[nr]
				   : "unknown";

	at = put_str(line, at, sizeof(line), "vuvm: seccomp: thread ");
	at = put_str(line, at, sizeof(line), thread_name);
	at = put_str(line, at, sizeof(line), " made forbidden system call '");
	at = put_str(line, at, sizeof(line), name);
	at = put_str(line, at, sizeof(line), "' (");
	at = put_num(line, at, sizeof(line), nr);
	at = put_str(line, at, sizeof(line), "); exit status ");
	at = put_num(line, at, sizeof(line), VUVM_EXIT_SECCOMP);
	at = put_str(line, at, sizeof(line), "\n");
	if (write(STDERR_FILENO, line, at) < 0) {
		/* Nothing left to tell it to. */
	}
	/* Not _exit(): a sanitizer's interceptor of it makes calls of its
	 * own, which the filter would stop too. */
	syscall(SYS_exit_group, VUVM_EXIT_SECCOMP);
}

static int sandbox_signal(void)
{
	struct sigaction sa = { .sa_sigaction = sandbox_sigsys,
				.sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	/* Unblocked everywhere: the threads inherit main's mask. */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGSYS);
	return -pthread_sigmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
}

/* --- Start-up ---------------------------------------------------------------
 */

void sandbox_close_inherited_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	char list[128] = "";
	size_t used = 0;
	unsigned int n = 0;
	struct dirent *e;

	if (!dir) {
		/* No /proc: close them blind. */
		if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
			pr_warn("cannot close inherited fds: %s",
				strerror(errno));
		return;
	}
	while ((e = readdir(dir))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (*end || end == e->d_name || fd < 3 || fd == dirfd(dir))
			continue;
		close((int)fd);
		n++;
		if (used + 16 < sizeof(list))
			used += (size_t)snprintf(list + used,
						 sizeof(list) - used, "%s%ld",
						 used ? " " : "", fd);
	}
	closedir(dir);
	if (n)
		pr_info("closed %u inherited file descriptor%s (%s)", n,
			n == 1 ? "" : "s", list);
}

int sandbox_init(enum sandbox_mode mode, bool check_port)
{
	const char *test = getenv(SANDBOX_TEST_ENV);
	int err;

	/* vuvm never executes anything; nothing it starts could gain
	 * privileges either. Needed to install a filter without
	 * CAP_SYS_ADMIN. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		pr_err("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -errno;
	}
	for (unsigned int i = 0; test && i < SANDBOX_NR_THREADS; i++)
		if (!strcmp(test, class_names[i]))
			sandbox_test_class = (int)i;
	sandbox_mode = mode;
	sandbox_check_port = check_port;
	sandbox_ready = true;
	if (mode == SANDBOX_OFF)
		return 0;
	for (int nr = 0; nr < SANDBOX_MAX_NR; nr++)
		syscall_names[nr] =
			seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	for (unsigned int i = 0; i < SANDBOX_NR_THREADS; i++) {
		err = build_filter((enum sandbox_thread)i, &progs[i]);
		if (err)
			return err;
	}
	err = sandbox_signal();
	if (err) {
		pr_err("SIGSYS handler: %s", strerror(-err));
		return err;
	}
	if (mode == SANDBOX_LOG)
		pr_warn("log mode: a system call outside a thread's allow-list "
			"is allowed and logged by the kernel (dmesg, audit "
			"log)");
	return 0;
}

/* --- Each thread ------------------------------------------------------------
 */

static void sandbox_fatal(const char *what, int err)
{
	char line[200];
	size_t at = 0;

	at = put_str(line, at, sizeof(line), "vuvm: seccomp: thread ");
	at = put_str(line, at, sizeof(line), thread_name);
	at = put_str(line, at, sizeof(line), ": ");
	at = put_str(line, at, sizeof(line), what);
	at = put_str(line, at, sizeof(line), ": ");
	at = put_str(line, at, sizeof(line), strerror(err));
	at = put_str(line, at, sizeof(line), "\n");
	if (write(STDERR_FILENO, line, at) < 0) {
		/* Nothing left to tell it to. */
	}
	syscall(SYS_exit_group, VUVM_EXIT_SETUP);
}

void sandbox_enter(enum sandbox_thread cls, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(thread_name, sizeof(thread_name), fmt, ap);
	va_end(ap);
	if (!sandbox_ready)
		return;
	/* Its comm too (top -H, the kernel's seccomp log); main keeps
	 * the program's. */
	if (cls != SANDBOX_MAIN)
		prctl(PR_SET_NAME, thread_name, 0, 0, 0);
	if (sandbox_mode != SANDBOX_OFF &&
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &progs[cls]) < 0)
		sandbox_fatal("cannot install its seccomp filter", errno);
	if (sandbox_test_class == (int)cls) {
		char cwd[256];

		pr_warn("%s: test: calling getcwd(2), which no thread may",
			thread_name);
		if (syscall(SYS_getcwd, cwd, sizeof(cwd)) < 0)
			pr_warn("%s: getcwd: %s", thread_name, strerror(errno));
	}
}
