// SPDX-License-Identifier: MIT
/*
 * One scenario, as a story: make a directory, start the backend and wait
 * for its socket, run vuvm with the guest's check workload, stop the
 * backend by its process group, then read the guest's verdicts and say,
 * for every check left without one, why.
 *
 * A scenario marked SC_RESTART (vu-reconnect) may ask for its backend to
 * crash: each line with CRASH_MARKER the guest prints on its console has
 * the backend's process group killed with SIGKILL, and the next line with
 * START_MARKER the same command started again on the same socket and
 * directory (a file-backed disk keeps its data), while vuvm, told to
 * reconnect, waits for it. The guest says when to start again, once it
 * has seen the loss and done what it does while the backend is down: a
 * restart the moment the old one died could be over before the guest
 * looked.
 */
#define _GNU_SOURCE
#include "vmm/check/scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmm/config.h"

#define TERM_WAIT_MS 3000 /* and exit by then after SIGTERM */
#define VUVM_GRACE_S 15	  /* beyond --timeout before vuvm is killed */
#define TAIL_LINES   20
#define JSON_PREFIX  "VUVM-JSON: "

#define CRASH_MARKER	"VUVM-CHECK: crash the backend"
#define START_MARKER	"VUVM-CHECK: start the backend again"
#define MAX_RESTARTS	32   /* per scenario: a guest in a loop stops there */
#define CRASH_JITTER_US 8000 /* a crash comes up to 8 ms after its marker */

/* What happened to the processes of one run. */
struct run_state {
	char dir[256];
	char sock[300];
	pid_t backend;		  /* process group leader, or 0 */
	int backend_status;	  /* waitpid status once it ended */
	bool backend_ended_early; /* before we stopped it */
	bool backend_hung;	  /* ignored SIGTERM */
	int vuvm_status;	  /* exit status, 128 + signal, -1 not run */
	unsigned int crashes;	  /* SC_RESTART: backends killed */
	unsigned int restarts;	  /* ... and started again */
	char problem[512];	  /* why the run as a whole went wrong */
	double seconds;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* --- The backend ---------------------------------------------------------- */

/* @tmpl with every @SOCK@ and @DIR@ replaced. */
static char *expand(const char *tmpl, const char *sock, const char *dir)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	if (!m)
		return NULL;
	while (*tmpl) {
		if (!strncmp(tmpl, "@SOCK@", 6)) {
			fputs(sock, m);
			tmpl += 6;
		} else if (!strncmp(tmpl, "@DIR@", 5)) {
			fputs(dir, m);
			tmpl += 5;
		} else {
			fputc(*tmpl++, m);
		}
	}
	if (fclose(m)) {
		free(out);
		return NULL;
	}
	return out;
}

static int redirect(const char *path, int fd, int flags)
{
	int f = open(path, flags | O_CLOEXEC, 0600);

	if (f < 0 || dup2(f, fd) < 0)
		return -1;
	close(f);
	return 0;
}

/* @out is truncated, unless @append (a restarted backend's log goes on). */
static pid_t spawn(char *const argv[], const char *out, const char *err,
		   bool own_group, bool append)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (own_group)
		setpgid(0, 0);
	if (redirect("/dev/null", 0, O_RDONLY) ||
	    redirect(out, 1,
		     O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)) ||
	    redirect(err, 2, O_WRONLY | O_CREAT | O_APPEND))
		_exit(126);
	execvp(argv[0], argv);
	_exit(127);
}

/* Whether the backend has ended; records how, once. */
static bool backend_ended(struct run_state *st)
{
	if (!st->backend)
		return true;
	if (waitpid(st->backend, &st->backend_status, WNOHANG) != st->backend)
		return false;
	st->backend = 0;
	return true;
}

static int start_backend(const struct run_config *cfg, struct run_state *st,
			 bool again)
{
	char *cmd = expand(cfg->backend, st->sock, st->dir);
	char log[300];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	/* A backend must create its socket within the scenario's time. */
	long long deadline = now_ms() + (long long)(cfg->timeout * 1000);
	struct stat sb;

	if (!cmd)
		return -1;
	snprintf(log, sizeof(log), "%s/backend.log", st->dir);
	st->backend = spawn(argv, log, log, true, again);
	free(cmd);
	if (st->backend < 0) {
		st->backend = 0;
		snprintf(st->problem, sizeof(st->problem),
			 "cannot start the backend: %s", strerror(errno));
		return -1;
	}
	while (stat(st->sock, &sb) || !S_ISSOCK(sb.st_mode)) {
		if (backend_ended(st)) {
			st->backend_ended_early = true;
			snprintf(
				st->problem, sizeof(st->problem),
				"the backend ended before creating its socket");
			return -1;
		}
		if (now_ms() > deadline) {
			snprintf(st->problem, sizeof(st->problem),
				 "the backend did not create its socket within "
				 "%g s (--timeout)",
				 cfg->timeout);
			return -1;
		}
		sleep_ms(5);
	}
	return 0;
}

/* SIGTERM to its process group, then SIGKILL after TERM_WAIT_MS. */
static void stop_backend(struct run_state *st)
{
	long long deadline = now_ms() + TERM_WAIT_MS;
	pid_t pgid = st->backend;

	if (backend_ended(st)) {
		st->backend_ended_early = true;
		return;
	}
	kill(-pgid, SIGTERM);
	while (!backend_ended(st)) {
		if (now_ms() > deadline) {
			st->backend_hung = true;
			kill(-pgid, SIGKILL);
			waitpid(pgid, &st->backend_status, 0);
			st->backend = 0;
			break;
		}
		sleep_ms(5);
	}
	kill(-pgid, SIGKILL); /* whatever it left behind */
}

/* Up to CRASH_JITTER_US before a crash, taken from the clock's low bits:
 * the marker comes at one point of the guest's loop and the console is
 * read every 2 ms, so without it the crashes fell at a few points of a
 * request's life, and too few in the backend's hands. */
static void crash_jitter(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec = (ts.tv_nsec / 7) % (CRASH_JITTER_US * 1000L);
	ts.tv_sec = 0;
	nanosleep(&ts, NULL);
}

/* A line of ours in the backend's log, between its processes' lines. */
static void backend_log_line(const struct run_state *st, const char *what,
			     unsigned int n)
{
	char log[300];
	FILE *f;

	snprintf(log, sizeof(log), "%s/backend.log", st->dir);
	f = fopen(log, "ae");
	if (!f)
		return;
	fprintf(f,
		"--- vuvm-check: backend %s %u, at the guest's request ---\n",
		what, n);
	fclose(f);
}

/* SC_RESTART: the guest's backend crashes (SIGKILL to its process group),
 * its log going on after a line that says so. One that had already ended
 * on its own is left dead: that is a crash, which the verdicts report. */
static void crash_backend(struct run_state *st)
{
	pid_t pgid = st->backend;

	if (backend_ended(st)) {
		st->backend_ended_early = true;
		return;
	}
	crash_jitter();
	kill(-pgid, SIGKILL);
	waitpid(pgid, &st->backend_status, 0);
	st->backend = 0;
	st->crashes++;
	/* Its socket file stays behind; the new one must not be taken for
	 * ready before it listens. */
	unlink(st->sock);
	backend_log_line(st, "killed (SIGKILL), crash", st->crashes);
}

/* ... and the same command starts again on the same socket, when the
 * guest asks, once per crash. */
static void restart_backend(const struct run_config *cfg, struct run_state *st)
{
	if (st->restarts >= st->crashes || st->backend_ended_early)
		return;
	st->restarts++;
	backend_log_line(st, "started again, restart", st->restarts);
	if (start_backend(cfg, st, true)) {
		char why[sizeof(st->problem)];

		memcpy(why, st->problem, sizeof(why));
		snprintf(st->problem, sizeof(st->problem),
			 "restart %u of the backend: %.400s", st->restarts,
			 why);
	}
}

/* The guest's console as vuvm writes it, read as it grows, for the
 * restart requests of an SC_RESTART scenario. */
struct console_watch {
	int fd;
	char line[256];
	size_t len;
};

/* Carries out the crash and start requests among the complete lines
 * written since the last call, in their order. */
static void restart_requests(struct console_watch *w, const char *path,
			     const struct run_config *cfg, struct run_state *st)
{
	char buf[4096];
	ssize_t got;

	if (w->fd < 0)
		w->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (w->fd < 0)
		return;
	while ((got = read(w->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] != '\n') {
				if (w->len < sizeof(w->line) - 1)
					w->line[w->len++] = buf[i];
				continue;
			}
			w->line[w->len] = '\0';
			w->len = 0;
			if (strstr(w->line, CRASH_MARKER)) {
				if (st->crashes < MAX_RESTARTS)
					crash_backend(st);
			} else if (strstr(w->line, START_MARKER))
				restart_backend(cfg, st);
		}
	}
}

/* --- vuvm ----------------------------------------------------------------- */

static void run_vuvm(const struct run_config *cfg,
		     const struct scenario_def *sc, struct run_state *st)
{
	char timeout[32], device[512], test[256], out[300], err[300];
	char *argv[] = { (char *)cfg->vuvm,
			 "--timeout",
			 timeout,
			 "--test",
			 test,
			 "--trace",
			 "vhost",
			 "--device",
			 device,
			 NULL,
			 NULL,
			 NULL,
			 NULL };
	int extra = 9;
	long long deadline =
		now_ms() + (long long)(cfg->timeout + VUVM_GRACE_S) * 1000;
	struct console_watch watch = { .fd = -1 };
	bool restarts = (sc->flags & SC_RESTART) && cfg->backend;
	int status;
	pid_t pid;

	snprintf(timeout, sizeof(timeout), "%g", cfg->timeout);
	snprintf(device, sizeof(device), "%s,socket=%s,connect-timeout=5%s%s",
		 cfg->type, st->sock, sc->device_opts[0] ? "," : "",
		 sc->device_opts);
	snprintf(test, sizeof(test), "check,scenario=%s%s%s", sc->name,
		 sc->guest_args[0] ? "," : "", sc->guest_args);
	if (sc->flags & (SC_MEM_REGIONS | SC_MEM_REGIONS_MAX)) {
		argv[extra++] = "--mem-regions";
		argv[extra++] = sc->flags & SC_MEM_REGIONS_MAX ? "8" : "4";
	}
	if (sc->flags & SC_CHECK_PORT)
		argv[extra++] = "--check-port";
	if (!sc->name[0]) {
		/* The preflight: the exit workload, no device. */
		snprintf(test, sizeof(test), "exit,status=0");
		argv[5] = NULL;
	}
	snprintf(out, sizeof(out), "%s/console", st->dir);
	snprintf(err, sizeof(err), "%s/vuvm.log", st->dir);
	pid = spawn(argv, out, err, false, false);
	if (pid < 0) {
		snprintf(st->problem, sizeof(st->problem),
			 "cannot start vuvm: %s", strerror(errno));
		return;
	}
	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (restarts)
			restart_requests(&watch, out, cfg, st);
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(st->problem, sizeof(st->problem),
				 "vuvm did not end %d s after its --timeout",
				 VUVM_GRACE_S);
			break;
		}
		sleep_ms(2);
	}
	st->vuvm_status = WIFEXITED(status) ? WEXITSTATUS(status)
					    : 128 + WTERMSIG(status);
	if (watch.fd >= 0)
		close(watch.fd);
}

/* --- Verdicts ---------------------------------------------------------------
 */

static int find_check(const struct scenario_def *sc, const char *id)
{
	for (size_t i = 0; i < nr_checks; i++)
		if (checks[i].scenario == sc && !strcmp(checks[i].id, id))
			return (int)i;
	return -1;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* "expected X; got Y", or the reason, from the guest's verdict. */
static char *verdict_detail(json_t *o)
{
	const char *exp = jstr(o, "expected"), *got = jstr(o, "got");
	const char *why = jstr(o, "reason");

	if (exp || got)
		return xasprintf("expected %s; got %s", exp ? exp : "?",
				 got ? got : "?");
	return why ? strdup(why) : NULL;
}

static void take_verdict(const struct scenario_def *sc, json_t *o,
			 struct check_result *results)
{
	const char *id = jstr(o, "check"), *res = jstr(o, "result");
	enum verdict v;
	int i;

	if (!id || !res || (i = find_check(sc, id)) < 0)
		return;
	v = !strcmp(res, "pass")   ? VERDICT_PASS
	    : !strcmp(res, "skip") ? VERDICT_SKIP
				   : VERDICT_FAIL;
	/* Reported more than once: a failure wins, a skip loses. */
	if (results[i].verdict == VERDICT_FAIL ||
	    (results[i].verdict == VERDICT_PASS && v == VERDICT_SKIP))
		return;
	free(results[i].detail);
	results[i].verdict = v;
	results[i].detail = verdict_detail(o);
}

static void read_verdicts(const struct run_state *st,
			  const struct scenario_def *sc,
			  struct check_result *results)
{
	char path[300], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/console", st->dir);
	f = fopen(path, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		json_t *o;

		if (strncmp(line, JSON_PREFIX, strlen(JSON_PREFIX)))
			continue;
		o = json_loads(line + strlen(JSON_PREFIX), 0, NULL);
		if (json_is_object(o))
			take_verdict(sc, o, results);
		json_decref(o);
	}
	free(line);
	fclose(f);
}

/* The last TAIL_LINES lines of @name in the run's directory. */
static char *tail(const struct run_state *st, const char *name)
{
	char path[300], *text = NULL;
	size_t len = 0;
	FILE *f, *m;
	char *lines[TAIL_LINES] = { 0 }, *line = NULL;
	size_t cap = 0, n = 0;

	snprintf(path, sizeof(path), "%s/%s", st->dir, name);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		free(lines[n % TAIL_LINES]);
		lines[n++ % TAIL_LINES] = strdup(line);
	}
	free(line);
	fclose(f);
	m = open_memstream(&text, &len);
	for (size_t i = n > TAIL_LINES ? n - TAIL_LINES : 0; i < n; i++) {
		if (m && lines[i % TAIL_LINES])
			fputs(lines[i % TAIL_LINES], m);
		free(lines[i % TAIL_LINES]);
	}
	if (m)
		fclose(m);
	return text;
}

/* The first line of @name in the run's directory that contains @needle,
 * without its newline, or NULL. */
static char *find_line(const struct run_state *st, const char *name,
		       const char *needle)
{
	char path[300], *line = NULL, *found = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", st->dir, name);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (!found && getline(&line, &cap, f) > 0) {
		if (strstr(line, needle)) {
			line[strcspn(line, "\n")] = '\0';
			found = strdup(line);
		}
	}
	free(line);
	fclose(f);
	return found;
}

/* A scenario that needs more queues than the backend has (blk-mq, net-mq)
 * is not the backend's failure: its checks are skipped, with vuvm's line. */
static char *too_few_queues(const struct run_state *st)
{
	char *line, *why;

	if (st->vuvm_status != VUVM_EXIT_SETUP)
		return NULL;
	line = find_line(st, "vuvm.log", " queues asked for, the backend has ");
	if (!line)
		return NULL;
	why = xasprintf("the backend has fewer queues than this scenario "
			"needs (%s)",
			line);
	free(line);
	return why;
}

/* Why a check got no verdict, from what happened to the processes. */
static char *no_verdict(const struct run_config *cfg,
			const struct run_state *st)
{
	int bs = st->backend_status;

	if (st->problem[0])
		return xasprintf("no verdict: %s", st->problem);
	if (st->backend_ended_early && WIFSIGNALED(bs))
		return xasprintf("no verdict: the backend crashed (signal %d, "
				 "%s); vuvm exited %d",
				 WTERMSIG(bs), strsignal(WTERMSIG(bs)),
				 st->vuvm_status);
	switch (st->vuvm_status) {
	case VUVM_EXIT_WATCHDOG:
		return xasprintf("no verdict: vuvm's --timeout (%g s) expired: "
				 "the guest was still waiting for the device",
				 cfg->timeout);
	case VUVM_EXIT_BACKEND:
		return strdup("no verdict: the backend was lost (hung up, "
			      "stopped answering or broke the protocol; see "
			      "the trace)");
	case VUVM_EXIT_SETUP:
		return strdup("no verdict: vuvm could not set the device up "
			      "(see the trace)");
	case VUVM_EXIT_CRASH:
		return strdup("no verdict: the guest crashed");
	default:
		return xasprintf("no verdict: the guest ended (status %d) "
				 "without reporting this check",
				 st->vuvm_status);
	}
}

static void judge(const struct run_config *cfg, const struct scenario_def *sc,
		  const bool *selected, struct check_result *results,
		  const struct run_state *st)
{
	char *trace = NULL, *blog = NULL, *skip_why = too_few_queues(st);
	int bs = st->backend_status;

	for (size_t i = 0; i < nr_checks; i++) {
		struct check_result *r = &results[i];

		if (!selected[i] || checks[i].scenario != sc)
			continue;
		r->seconds = st->seconds;
		if (r->verdict == VERDICT_NONE && skip_why) {
			r->verdict = VERDICT_SKIP;
			r->detail = strdup(skip_why);
		} else if (r->verdict == VERDICT_NONE) {
			r->verdict = VERDICT_FAIL;
			r->detail = no_verdict(cfg, st);
		} else if (r->verdict == VERDICT_PASS &&
			   st->backend_ended_early && WIFSIGNALED(bs)) {
			/* It passed, then the backend died: still a crash. */
			r->verdict = VERDICT_FAIL;
			free(r->detail);
			r->detail = xasprintf("the backend crashed (signal %d) "
					      "during the scenario",
					      WTERMSIG(bs));
		}
		if (r->verdict != VERDICT_FAIL)
			continue;
		if (!trace)
			trace = tail(st, "vuvm.log");
		if (!blog && cfg->backend)
			blog = tail(st, "backend.log");
		if (st->vuvm_status < 0)
			r->logs = xasprintf("vuvm did not run\n%s%s",
					    blog ? "backend log, last lines:\n"
						 : "",
					    blog ? blog : "");
		else
			r->logs = xasprintf(
				"vuvm (exit status %d), last lines:\n%s%s%s",
				st->vuvm_status, trace ? trace : "",
				blog ? "backend log, last lines:\n" : "",
				blog ? blog : "");
	}
	free(trace);
	free(blog);
	free(skip_why);
}

/* --- The story ------------------------------------------------------------ */

static int remove_one(const char *path, const struct stat *sb, int flag,
		      struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* The scenario's directory and whatever the backend left in it (an fs
 * backend's shared directory under @DIR@). */
static void remove_dir(const char *dir)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int make_dir(struct run_state *st, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(st->dir, sizeof(st->dir), "%s/vuvm-check-%s-XXXXXX",
		 tmp && tmp[0] ? tmp : "/tmp", name);
	if (!mkdtemp(st->dir))
		return -1;
	snprintf(st->sock, sizeof(st->sock), "%s/vhost.sock", st->dir);
	return 0;
}

void scenario_run(const struct run_config *cfg, const struct scenario_def *sc,
		  const bool *selected, struct check_result *results)
{
	struct run_state st = { .vuvm_status = -1 };
	long long start = now_ms();

	if (make_dir(&st, sc->name)) {
		snprintf(st.problem, sizeof(st.problem),
			 "cannot make a directory under $TMPDIR: %s",
			 strerror(errno));
	} else if (cfg->socket) {
		snprintf(st.sock, sizeof(st.sock), "%s", cfg->socket);
		run_vuvm(cfg, sc, &st);
	} else if (!start_backend(cfg, &st, false)) {
		run_vuvm(cfg, sc, &st);
	}
	if (!cfg->socket && st.backend)
		stop_backend(&st);
	st.seconds = (double)(now_ms() - start) / 1000.0;
	if (st.dir[0]) {
		read_verdicts(&st, sc, results);
		judge(cfg, sc, selected, results, &st);
		if (!cfg->keep)
			remove_dir(st.dir);
		else
			fprintf(stderr, "vuvm-check: %s: kept %s\n", sc->name,
				st.dir);
	} else {
		judge(cfg, sc, selected, results, &st);
	}
}

/* --- Before any scenario
 * ------------------------------------------------------ */

/* vuvm boots the guest with no device: KVM, vuvm and the guest work. */
static int boot_once(const struct run_config *cfg, char *why, size_t len)
{
	struct run_state st = { .vuvm_status = -1 };
	static const struct scenario_def probe = { "", "", 0, "", "", "" };
	char *log;

	if (make_dir(&st, "preflight")) {
		snprintf(why, len, "cannot make a directory: %s",
			 strerror(errno));
		return -1;
	}
	run_vuvm(cfg, &probe, &st);
	log = st.vuvm_status ? tail(&st, "vuvm.log") : NULL;
	if (st.vuvm_status)
		snprintf(why, len,
			 "%s cannot boot the guest (exit status %d)%s%s",
			 cfg->vuvm, st.vuvm_status, log ? ":\n" : "",
			 log ? log : "");
	free(log);
	remove_dir(st.dir);
	return st.vuvm_status ? -1 : 0;
}

int scenario_preflight(const struct run_config *cfg, char *why, size_t len)
{
	struct run_state st = { .vuvm_status = -1 };
	int err;

	if (boot_once(cfg, why, len))
		return -1;
	if (cfg->socket) {
		/* Probing would use up a backend that serves one client. */
		err = access(cfg->socket, F_OK) ? -errno : 0;
		if (err)
			snprintf(why, len, "--socket %s: %s", cfg->socket,
				 strerror(-err));
		return err ? -1 : 0;
	}
	if (make_dir(&st, "preflight")) {
		snprintf(why, len, "cannot make a directory: %s",
			 strerror(errno));
		return -1;
	}
	err = start_backend(cfg, &st, false);
	if (err) {
		char *blog = tail(&st, "backend.log");

		snprintf(why, len, "the backend would not start: %s%s%s",
			 st.problem, blog ? "; its log:\n" : "",
			 blog ? blog : "");
		free(blog);
	}
	stop_backend(&st);
	remove_dir(st.dir);
	return err ? -1 : 0;
}

void check_result_free(struct check_result *r)
{
	free(r->detail);
	free(r->logs);
	r->detail = r->logs = NULL;
}
