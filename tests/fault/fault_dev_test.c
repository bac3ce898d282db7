// SPDX-License-Identifier: MIT
/*
 * The fault matrix (faults.txt) in process: vuvm's vhost-user device
 * (vmm/vhost_user_dev.c) opened through vuvm-fault-backend to
 * `vuvm-backend blk`, one fault per case. For each case the phase of the
 * table is driven through the device API: start is vudev_open(), run is
 * the driver's DRIVER_OK (ops->activate), stop the driver's reset
 * (ops->reset). The call of that phase must fail (start, run), what the
 * device logs must match the table's sentence, the proxy must have
 * injected its fault and exited 0 by itself, and this process must hold
 * exactly the fds it held before the case.
 *
 * Usage: fault_dev_test FAULTS.TXT VUVM-BACKEND VUVM-FAULT-BACKEND [MODE]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/check.h"
#include "vhost/clock.h"
#include "virtio/virtio_config.h"
#include "vmm/vhost_user_dev.h"

enum phase { PH_START, PH_RUN, PH_STOP };

struct fcase {
	char mode[32], request[40], name[40], ere[256];
	enum phase phase;
};

static const char *backend_bin, *proxy_bin;
/* The reply timeout: --device's reply-timeout= in seconds, and the
 * milliseconds vuvm makes of it (its error sentences say those). */
static char reply_timeout[48], reply_ms[16];
static char dir[64];

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Runs @argv with stdout and stderr into @log (or /dev/null). */
static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	REQUIRE(pid >= 0);
	if (pid == 0) {
		int fd = open(log ? log : "/dev/null",
			      O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void wait_socket(const char *path, pid_t pid)
{
	struct stat st;

	for (long i = 0; i < check_ms(5000) / 10; i++) {
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return;
		if (waitpid(pid, NULL, WNOHANG) != 0) {
			CHECK(!"the process exited before its socket appeared");
			return;
		}
		sleep_ms(10);
	}
	CHECK(!"no socket within the bound");
}

/* Waits up to 2 s (scaled) for @pid to exit by itself; returns its status, or
 * -1 when it had to be killed. */
static int reap(pid_t pid)
{
	int status;

	for (long i = 0; i < check_ms(2000) / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	CHECK(fd >= 0);
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

static bool matches(const char *ere, const char *text)
{
	regex_t re;
	bool ok;

	CHECK(regcomp(&re, ere, REG_EXTENDED | REG_NOSUB) == 0);
	ok = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* A queue whose rings lie at 2 MiB in RAM, with fresh eventfds. */
static struct vdev_queue make_queue(void)
{
	return (struct vdev_queue){
		.index = 0,
		.size = 64,
		.desc_gpa = 0x200000,
		.driver_gpa = 0x201000,
		.device_gpa = 0x202000,
		.kick_fd = eventfd(0, EFD_CLOEXEC),
		.call_fd = eventfd(0, EFD_CLOEXEC),
	};
}

/* Drives the device through @c's phase; returns the phase call's result
 * (0 for stop, which cannot fail). */
static int drive(const struct fcase *c, struct mem_table *mem)
{
	struct vudev_config cfg;
	struct vdev_queue q;
	struct vudev d;
	const char *why = "";
	char spec[192];
	int err;

	snprintf(spec, sizeof(spec), "blk,socket=%s/p.sock,reply-timeout=%s",
		 dir, reply_timeout);
	CHECK(vudev_parse(spec, &cfg, &why) == 0);
	err = vudev_open(&d, &cfg, mem, 0, (int)check_ms(1000), false);
	if (c->phase == PH_START)
		return err;
	CHECK_EQ(err, 0);
	q = make_queue();
	err = d.vdev.ops->activate(d.vdev.opaque,
				   VIRTIO_BIT(VIRTIO_F_VERSION_1), &q, 1);
	if (c->phase == PH_STOP) {
		CHECK_EQ(err, 0);
		d.vdev.ops->reset(d.vdev.opaque);
	}
	close(q.kick_fd);
	close(q.call_fd);
	vudev_close(&d);
	return err;
}

static void run_case(const struct fcase *c, struct mem_table *mem)
{
	char bsock[96], psock[96], plog[96], elog[96], fault[80];
	char *bargv[] = { (char *)backend_bin,
			  "blk",
			  "--socket-path",
			  bsock,
			  "--size",
			  "8M",
			  NULL };
	char *pargv[] = {
		(char *)proxy_bin, "--listen", psock, "--upstream", bsock,
		"--fault",	   fault,      NULL
	};
	static char log[16384];
	pid_t bpid, ppid;
	int fds, saved, efd, err;

	snprintf(dir, sizeof(dir), "/tmp/vuvm-fault-XXXXXX");
	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(bsock, sizeof(bsock), "%s/b.sock", dir);
	snprintf(psock, sizeof(psock), "%s/p.sock", dir);
	snprintf(plog, sizeof(plog), "%s/proxy.log", dir);
	snprintf(elog, sizeof(elog), "%s/vuvm.log", dir);
	snprintf(fault, sizeof(fault), "%s@%s", c->mode, c->request);
	bpid = spawn(bargv, NULL);
	wait_socket(bsock, bpid);
	ppid = spawn(pargv, plog);
	wait_socket(psock, ppid);

	/* What the device logs goes to a file for the duration. */
	fds = check_count_fds();
	fflush(stderr);
	saved = dup(2);
	efd = open(elog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(saved >= 0 && efd >= 0 && dup2(efd, 2) == 2);
	close(efd);
	err = drive(c, mem);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CHECK_EQ(check_count_fds(), fds);

	read_file(elog, log, sizeof(log));
	if (c->phase != PH_STOP)
		CHECK(err != 0);
	if (!matches(c->ere, log)) {
		fprintf(stderr, "[%s] the log does not match /%s/:\n%s",
			check_case, c->ere, log);
		CHECK(!"log matches the table");
	}
	CHECK_EQ(reap(ppid), 0);
	read_file(plog, log, sizeof(log));
	CHECK_HAS(log, "fault: ");
	CHECK(strstr(log, "Sanitizer") == NULL);
	/* The backend exits by itself once the proxy hung up. */
	CHECK(reap(bpid) >= 0);
	unlink(plog);
	unlink(elog);
	unlink(bsock);
	rmdir(dir);
}

/* How often @needle occurs in @hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/*
 * A backend that accepts and closes @closes connections unanswered
 * before it serves one (the proxy's --close-first), met by vudev_open()
 * with @connect_ms of connect-timeout: with time enough vuvm connects
 * again and again and then opens the device, saying so on each attempt;
 * with too little (@serves false) it gives up within the bound and says
 * why. The fds
 * held before and after are the same either way.
 */
static void close_first_case(unsigned int closes, int connect_ms, bool serves,
			     struct mem_table *mem)
{
	char bsock[96], psock[96], plog[96], elog[96], n[16], spec[192];
	char *bargv[] = { (char *)backend_bin, "blk", "--socket-path", bsock,
			  NULL };
	char *pargv[] = {
		(char *)proxy_bin, "--listen", psock, "--upstream", bsock,
		"--close-first",   n,	       NULL
	};
	static char log[16384];
	struct vudev_config cfg;
	const char *why = "";
	struct vudev d;
	pid_t bpid, ppid;
	int fds, saved, efd, err;
	long long t0, ms;
	char line[96];

	snprintf(dir, sizeof(dir), "/tmp/vuvm-fault-XXXXXX");
	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(bsock, sizeof(bsock), "%s/b.sock", dir);
	snprintf(psock, sizeof(psock), "%s/p.sock", dir);
	snprintf(plog, sizeof(plog), "%s/proxy.log", dir);
	snprintf(elog, sizeof(elog), "%s/vuvm.log", dir);
	snprintf(n, sizeof(n), "%u", closes);
	bpid = spawn(bargv, NULL);
	wait_socket(bsock, bpid);
	ppid = spawn(pargv, plog);
	wait_socket(psock, ppid);
	snprintf(spec, sizeof(spec), "blk,socket=%s", psock);
	CHECK(vudev_parse(spec, &cfg, &why) == 0);

	fds = check_count_fds();
	fflush(stderr);
	saved = dup(2);
	efd = open(elog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(saved >= 0 && efd >= 0 && dup2(efd, 2) == 2);
	close(efd);
	t0 = now_ms();
	err = vudev_open(&d, &cfg, mem, 0, connect_ms, false);
	ms = now_ms() - t0;
	if (!err)
		vudev_close(&d);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CHECK_EQ(check_count_fds(), fds);
	read_file(elog, log, sizeof(log));
	printf("%s", log);

	if (serves) {
		CHECK_EQ(err, 0);
		CHECK_EQ(count(log, "blk0: the backend closed the connection "
				    "before its first reply"),
			 (int)closes);
		snprintf(line, sizeof(line), "blk0: connected at attempt %u",
			 closes + 1);
		CHECK_HAS(log, line);
		/* vuvm hung up after vudev_close(): both end by themselves. */
		CHECK_EQ(reap(ppid), 0);
		CHECK(reap(bpid) >= 0);
	} else {
		CHECK(err == -ECONNRESET || err == -EPIPE);
		CHECK(matches("blk0: gave up after connect-timeout [(][0-9]+ "
			      "ms[)]: the backend closed [0-9]+ connections? "
			      "before its first reply [(]the last: (SET_OWNER|"
			      "GET_FEATURES): ",
			      log));
		CHECK(ms >= connect_ms && ms <= check_ms(connect_ms + 1000));
		kill(ppid, SIGTERM);
		CHECK_EQ(reap(ppid), 0);
		kill(bpid, SIGTERM);
		CHECK(reap(bpid) >= 0);
	}
	read_file(plog, log, sizeof(log));
	CHECK(count(log, "closed frontend ") >= (serves ? (int)closes : 1));
	CHECK(strstr(log, "Sanitizer") == NULL);
	unlink(plog);
	unlink(elog);
	unlink(bsock);
	rmdir(dir);
}

/* Every @key in @tmpl becomes @value. */
static void replace(char *out, size_t len, const char *tmpl, const char *key,
		    const char *value)
{
	const char *at;
	size_t n = 0;

	while ((at = strstr(tmpl, key)) && n < len) {
		n += (size_t)snprintf(out + n, len - n, "%.*s%s",
				      (int)(at - tmpl), tmpl, value);
		tmpl = at + strlen(key);
	}
	if (n < len)
		snprintf(out + n, len - n, "%s", tmpl);
}

/* "@REQ@" in @tmpl becomes @name, "@MS@" the reply timeout in ms. */
static void expand(char *out, size_t len, const char *tmpl, const char *name)
{
	char tmp[256];

	replace(tmp, sizeof(tmp), tmpl, "@REQ@", name);
	replace(out, len, tmp, "@MS@", reply_ms);
}

/* 300 ms times the load factor, as vuvm will read it. */
static void set_reply_timeout(void)
{
	long ms = check_ms(300);

	snprintf(reply_timeout, sizeof(reply_timeout), "%ld.%03ld", ms / 1000,
		 ms % 1000);
	snprintf(reply_ms, sizeof(reply_ms), "%d",
		 (int)(strtod(reply_timeout, NULL) * 1000));
}

static int parse_phase(const char *s, enum phase *p)
{
	if (strcmp(s, "start") == 0)
		*p = PH_START;
	else if (strcmp(s, "run") == 0)
		*p = PH_RUN;
	else if (strcmp(s, "stop") == 0)
		*p = PH_STOP;
	else
		return -EINVAL;
	return 0;
}

/* Runs every case of one table line; returns how many. */
static int run_line(char *line, const char *only, struct mem_table *mem)
{
	char mode[32], phase[8], reqs[512], status[16], tmpl[256];
	char *save = NULL, *req, label[96];
	struct fcase c;
	int n = 0, before;

	if (sscanf(line, "%31s %7s %511s %15s %255[^\n]", mode, phase, reqs,
		   status, tmpl) != 5) {
		fprintf(stderr, "faults.txt: cannot parse: %s", line);
		exit(1);
	}
	if (strcmp(status, "skip") == 0 || (only && strcmp(only, mode)))
		return 0;
	memset(&c, 0, sizeof(c));
	snprintf(c.mode, sizeof(c.mode), "%s", mode);
	CHECK(parse_phase(phase, &c.phase) == 0);
	for (req = strtok_r(reqs, ",", &save); req;
	     req = strtok_r(NULL, ",", &save)) {
		snprintf(c.request, sizeof(c.request), "%s", req);
		snprintf(c.name, sizeof(c.name), "%.*s", (int)strcspn(req, "#"),
			 req);
		expand(c.ere, sizeof(c.ere), tmpl, c.name);
		snprintf(label, sizeof(label), "%s@%s", mode, req);
		before = check_failures;
		check_case = label;
		run_case(&c, mem);
		printf("%s %s\n", check_failures == before ? "ok" : "FAIL",
		       label);
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct mem_table mem;
	char line[1024];
	FILE *f;
	int n = 0;

	if (argc < 4 || argc > 5) {
		fprintf(stderr,
			"usage: %s FAULTS.TXT VUVM-BACKEND VUVM-FAULT-BACKEND "
			"[MODE]\n",
			argv[0]);
		return 2;
	}
	backend_bin = argv[2];
	set_reply_timeout();
	proxy_bin = argv[3];
	f = fopen(argv[1], "re");
	REQUIRE(f != NULL);
	REQUIRE(mem_alloc(&mem, 4 << 20, false) == 0);
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && line[0] != '\n')
			n += run_line(line, argc == 5 ? argv[4] : NULL, &mem);
	fclose(f);
	if (argc == 4 || !strcmp(argv[4], "close-first")) {
		check_case = "close-first 3, served";
		close_first_case(3, (int)check_ms(5000), true, &mem);
		check_case = "close-first for ever, 300 ms";
		close_first_case(1000, 300, false, &mem);
		n += 2;
	}
	mem_free(&mem);
	CHECK(n > 0);
	printf("%d fault cases run\n", n);
	return check_exit();
}
