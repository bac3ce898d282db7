// SPDX-License-Identifier: MIT
/*
 * vhu_connect(): retries while the backend is not listening yet, gives up
 * at the deadline, and the result talks; vhu_frontend_from_fd() refuses
 * what is not a stream socket.
 */
#include "frontend_test.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char path[108];

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void make_path(void)
{
	snprintf(path, sizeof(path), "/tmp/vuvm-fe-%d.sock", (int)getpid());
	unlink(path);
}

/* A backend that starts listening 80 ms late and answers GET_FEATURES. */
static void *late_backend(void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec delay = { 0, 80 * 1000000 };
	struct vhu_msg m;
	int ls, s;

	nanosleep(&delay, NULL);
	strcpy(sa.sun_path, path);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(ls, 1))
		return NULL;
	s = accept(ls, NULL, NULL);
	if (s >= 0 && vhu_msg_recv(s, &m, 1000) == 0)
		peer_reply_u64(s, VHOST_USER_GET_FEATURES, 0x42);
	if (s >= 0)
		close(s);
	close(ls);
	return NULL;
}

static void test_retry_until_listening(void)
{
	struct vhu_frontend fe;
	pthread_t t;
	uint64_t f;
	long t0 = now_ms();

	make_path();
	REQUIRE(pthread_create(&t, NULL, late_backend, NULL) == 0);
	CHECK_EQ(vhu_connect(&fe, path, (int)check_ms(2000)), 0);
	CHECK(now_ms() - t0 >= 70);
	CHECK_EQ(vhu_get_features(&fe, &f), 0);
	CHECK_EQ(f, 0x42);
	vhu_frontend_close(&fe);
	pthread_join(t, NULL);
	unlink(path);
}

static void test_deadline(void)
{
	struct vhu_frontend fe;
	long t0 = now_ms();

	make_path();
	CHECK_EQ(vhu_connect(&fe, path, 100), -ETIMEDOUT);
	CHECK(now_ms() - t0 >= 95 && now_ms() - t0 < check_ms(600));
	CHECK(strstr(vhu_frontend_error(&fe), "not ready after 100 ms"));
	CHECK_EQ(fe.sock, -1);
	CHECK_EQ(vhu_connect(&fe, path, 0), -ETIMEDOUT);
}

static void test_errors(void)
{
	struct vhu_frontend fe;
	char longpath[200];
	int p[2], s;

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	CHECK_EQ(vhu_connect(&fe, longpath, 10), -ENAMETOOLONG);
	CHECK(strstr(vhu_frontend_error(&fe), "longer than 107 bytes"));
	CHECK_EQ(vhu_connect(&fe, "/proc/self/nonexistent-dir/x", 0),
		 -ETIMEDOUT);
	/* Not a socket: refused, which is retried until the deadline. */
	CHECK_EQ(vhu_connect(&fe, "/dev/null", 0), -ETIMEDOUT);
	CHECK(strstr(vhu_frontend_error(&fe), "Connection refused"));
	/* Not retryable: fails at once with the errno. */
	CHECK_EQ(vhu_connect(&fe, "/dev/null/x", 1000), -ENOTDIR);
	CHECK_STR(vhu_frontend_error(&fe),
		  "connect /dev/null/x: Not a directory");
	CHECK_EQ(vhu_frontend_from_fd(&fe, -1), -EBADF);
	CHECK(pipe(p) == 0);
	CHECK_EQ(vhu_frontend_from_fd(&fe, p[0]), -ENOTSOCK);
	close(p[0]);
	close(p[1]);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK_EQ(vhu_frontend_from_fd(&fe, s), -ENOTSOCK);
	close(s);
}

static const struct check_case cases[] = {
	{ "retry_until_listening", test_retry_until_listening },
	{ "deadline", test_deadline },
	{ "errors", test_errors },
};

int main(int argc, char **argv)
{
	int before = check_count_fds(), err = RUN_TESTS(cases, argc, argv);

	if (!err && check_count_fds() != before) {
		fprintf(stderr, "fd leak\n");
		return 1;
	}
	return err;
}
