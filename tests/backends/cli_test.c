// SPDX-License-Identifier: MIT
/*
 * vuvm-backend's process contract: usage errors exit 2, --help and
 * --print-capabilities exit 0 with what they print, a missing backing
 * file or a socket path taken by a regular file exits 1 (and that file
 * stays), and SIGTERM/SIGINT end it with 0 and no socket file left,
 * whether or not a frontend is connected.
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include "tests/backends/driver.h"
#include "vhost/log.h"

/* Runs vuvm-backend with @argv; returns its exit status and what it
 * printed on stdout in @out. */
static int run(const char *const *argv, char *out, size_t out_len)
{
	int p[2], st = -1;
	ssize_t n = 0, r;
	pid_t pid;

	REQUIRE(!pipe(p));
	time_scale(); /* once, so that parent and child agree */
	pid = fork();
	REQUIRE(pid >= 0);
	if (!pid) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		pid = td_spawn(argv, NULL);
		_exit(td_wait_exit(pid, 3000) & 0xff);
	}
	close(p[1]);
	while (out && (r = read(p[0], out + n, out_len - 1 - (size_t)n)) > 0)
		n += r;
	if (out)
		out[n] = 0;
	close(p[0]);
	st = td_wait_exit(pid, 4000);
	return st;
}

static void test_usage_errors(void)
{
	static const char *const bad[][8] = {
		{ NULL },
		{ "disk", "--socket-path", "/tmp/x", NULL },
		{ "--socket-path", "/tmp/x", NULL },
		{ "blk", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--bogus", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--no-feature", "warp",
		  NULL },
		{ "net", "--socket-path", "/tmp/x", "--no-feature", "flush",
		  NULL },
		{ "net", "--socket-path", "/tmp/x", "--size", "1M", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--size", "1Q", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--size", "0", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--queues", "0", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--queues", "999", NULL },
		{ "rng", "--socket-path", "/tmp/x", "--queues", "2", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--file", "f", "--size",
		  "1M", NULL },
		{ "blk", "--socket-path", "/tmp/x", "extra", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--fd", "3", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--reorder", "0", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--reorder", "33", NULL },
		{ "net", "--socket-path", "/tmp/x", "--reorder", "2", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--die-after", "0", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--die-after", "x", NULL },
		{ "blk", "--socket-path", "/tmp/x", "--die-after-push", "0",
		  NULL },
		{ "blk", "--socket-path", "/tmp/x", "--no-feature", "inflight",
		  NULL },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (run(bad[i], NULL, 0) != 2) {
			fprintf(stderr, "case %zu did not exit 2\n", i);
			CHECK(0);
		}
	}
}

static void test_help_capabilities(void)
{
	static const char *const help[] = { "--help", NULL };
	static const char *const caps[][3] = {
		{ "blk", "--print-capabilities", NULL },
		{ "net", "--print-capabilities", NULL },
		{ "rng", "--print-capabilities", NULL },
		{ "fs", "--print-capabilities", NULL },
	};
	static const char *const want[] = { "{\"type\":\"block\"}\n",
					    "{\"type\":\"net\"}\n",
					    "{\"type\":\"rng\"}\n",
					    "{\"type\":\"fs\"}\n" };
	char out[8192];

	CHECK_EQ(run(help, out, sizeof(out)), 0);
	CHECK_HAS(out, "--socket-path");
	CHECK_HAS(out, "--no-feature");
	CHECK_HAS(out, "--bug NAME");
	CHECK_HAS(out, "get-id-overfill");
	CHECK_HAS(out, "--shared-dir DIR");
	CHECK_HAS(out, "fs-drop-every-8th");
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(run(caps[i], out, sizeof(out)), 0);
		CHECK(!strcmp(out, want[i]));
	}
}

static void test_missing_file(void)
{
	static const char *const argv[] = {
		"blk",	  "--socket-path",	   "/tmp/vub-nofile.sock",
		"--file", "/nonexistent/disk.img", NULL
	};

	char path[] = "/tmp/vub-regular-XXXXXX";
	const char *taken[] = { "rng", "--socket-path", path, NULL };
	struct stat st;
	int fd = mkstemp(path);

	CHECK_EQ(run(argv, NULL, 0), 1);
	/* A regular file at the socket path: refused, and left alone. */
	CHECK(fd >= 0);
	CHECK_EQ(run(taken, NULL, 0), 1);
	CHECK(!stat(path, &st) && S_ISREG(st.st_mode));
	close(fd);
	unlink(path);
}

static bool wait_socket(const char *path)
{
	struct stat st;

	for (long i = 0; i < check_ms(3000) / 10; i++) {
		if (!stat(path, &st))
			return true;
		usleep(10000);
	}
	return false;
}

static void signal_case(int sig, bool connect)
{
	const char *argv[] = { "net", NULL };
	struct vhu_frontend fe;
	struct stat st;
	struct td t;
	pid_t pid;

	td_path(&t, "sig");
	pid = td_spawn(argv, t.path);
	CHECK(wait_socket(t.path));
	if (connect) {
		CHECK_EQ(vhu_connect(&fe, t.path, 3000), 0);
		CHECK_EQ(vhu_negotiate(&fe, TD_WANT_PROTOCOL), 0);
	}
	CHECK(!kill(pid, sig));
	CHECK_EQ(td_wait_exit(pid, 3000), 0);
	CHECK(stat(t.path, &st) && errno == ENOENT);
	if (connect)
		vhu_frontend_close(&fe);
}

static void test_sigterm(void)
{
	signal_case(SIGTERM, false);
	signal_case(SIGTERM, true);
	signal_case(SIGINT, false);
	signal_case(SIGINT, true);
}

/* --fd: the backend serves an inherited, already connected socket. */
static void test_fd(void)
{
	const char *argv[] = { "rng", "--fd", NULL, NULL };
	struct vhu_frontend fe;
	char num[16];
	int sv[2];
	pid_t pid;

	/* Only the backend's end may be inherited, or it keeps ours open. */
	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	CHECK(!fcntl(sv[1], F_SETFD, 0));
	snprintf(num, sizeof(num), "%d", sv[1]);
	argv[2] = num;
	pid = td_spawn(argv, NULL);
	close(sv[1]);
	CHECK_EQ(vhu_frontend_from_fd(&fe, sv[0]), 0);
	CHECK_EQ(vhu_negotiate(&fe, TD_WANT_PROTOCOL), 0);
	CHECK_EQ(fe.queue_num, 1);
	vhu_frontend_close(&fe);
	CHECK_EQ(td_wait_exit(pid, 3000), 0);
}

static const struct check_case cases[] = {
	{ "usage_errors", test_usage_errors },
	{ "help_capabilities", test_help_capabilities },
	{ "missing_file", test_missing_file },
	{ "sigterm", test_sigterm },
	{ "fd", test_fd },
};

int main(int argc, char **argv)
{
	log_set_program("cli_test");
	return CHECK_RUN(cases, argc, argv);
}
