// SPDX-License-Identifier: MIT
/*
 * vuvm-fault-backend: a vhost-user proxy that misbehaves on purpose.
 *
 *	vuvm-fault-backend --listen PATH --upstream PATH
 *			   --fault MODE[@REQUEST[#N]]
 *
 * It accepts one frontend on PATH, connects to a real backend at the
 * upstream path and forwards every message both ways with its fds (the
 * backend channel travels as the fd of SET_BACKEND_REQ_FD, so it goes
 * direct). Exactly one request, the N-th REQUEST the mode applies to (the
 * first by default; without @REQUEST any request the mode applies to),
 * gets the fault: its reply is altered, withheld or cut, or the request
 * itself is refused. One line "fault: REQUEST: what" goes to stderr when it
 * happens. Exits 0 when the frontend hangs up, on SIGTERM/SIGINT, or after
 * a fault that closes the connections; 1 when something else fails; 2 on
 * usage errors. Never daemonizes.
 *
 * The proxy pairs replies with requests in order, which holds for every
 * frontend that waits for each reply before it sends on (all of them: the
 * protocol has no request ids).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhost/backend.h"
#include "vhost/log.h"
#include "vhost/msg.h"
#include "vhost/requests.h"

#define PROGRAM "vuvm-fault-backend"
#ifndef VUVM_VERSION
#define VUVM_VERSION "unknown"
#endif
#define EXIT_USAGE	   2
#define MSG_TIMEOUT_MS	   5000 /* for the rest of a message once it started */
#define MAX_PENDING	   16	/* requests sent on whose reply we wait */
#define VIRTIO_F_VERSION_1 32

enum mode {
	M_WRONG_CODE,
	M_BAD_FLAGS,
	M_UNKNOWN_FLAGS,
	M_BAD_VERSION,
	M_SHORT,
	M_LONG,
	M_OVERSIZED,
	M_EXTRA_FD,
	M_MISSING_FD,
	M_NACK,
	M_STALL,
	M_CLOSE_MID,
	M_CLOSE_MID_HEADER,
	M_HANG_UP,
	M_DUPLICATE,
	M_REFUSE_FEATURES,
	M_NO_VERSION_1,
	M_ZERO_CONFIG,
	M_CONFIG_ECHO,
	M_BAD_QUEUE_NUM,
	M_HUGE_QUEUE_NUM,
	M_BAD_VRING_INDEX,
	M_BAD_VRING_BASE,
	M_INFLIGHT_SIZE0,
	M_INFLIGHT_NOT_MEMFD,
	M_INFLIGHT_TOO_BIG,
	M_COUNT,
};

/* What a mode needs of a request before it counts as a target. */
enum needs {
	N_ANY,	    /* any request, with or without a reply */
	N_REPLY,    /* a request the backend answers */
	N_ACK,	    /* a request with NEED_REPLY set */
	N_FD_REPLY, /* a reply that carries an fd */
	N_SET_FEAT, /* SET_FEATURES or SET_PROTOCOL_FEATURES */
	N_CODE,	    /* exactly the request in .code */
};

/* The fault's outcome for the connection. */
enum verdict {
	V_FORWARD, /* send the (altered) reply */
	V_DROP,	   /* send nothing; stall from now on */
	V_CLOSE,   /* close both connections and exit */
};

struct proxy;

struct mode_info {
	const char *name;
	enum needs needs;
	uint32_t code; /* N_CODE */
	const char *help;
	/* Alters the reply @r to @code, or acts instead of sending it. */
	enum verdict (*apply)(struct proxy *p, uint32_t code,
			      struct vhu_msg *r);
};

/* The table of modes, after the functions it points to. */
static const struct mode_info modes[M_COUNT];

struct fault {
	enum mode mode;
	const struct mode_info *info;
	uint32_t request; /* 0: any */
	unsigned int nth; /* 1-based */
	unsigned int seen;
	bool injected;
};

struct pending {
	uint32_t code;
	bool target;
};

struct proxy {
	struct fault fault;
	int front, up, sig;
	bool stalled;
	struct pending pend[MAX_PENDING];
	unsigned int npend;
};

/* --- Command line ---------------------------------------------------------
 */

/* "  name   help", the help wrapped at 78 columns under itself. */
static void print_mode(FILE *f, const struct mode_info *m)
{
	const char *s = m->help;
	int col = fprintf(f, "  %-18s", m->name);

	while (*s) {
		size_t word = strcspn(s, " ");

		if (col + 1 + (int)word > 78)
			col = fprintf(f, "\n%20s", "");
		col += fprintf(f, " %.*s", (int)word, s);
		s += word;
		s += strspn(s, " ");
	}
	fputc('\n', f);
}

static void usage(FILE *f)
{
	fputs("usage: " PROGRAM " --listen PATH --upstream PATH\n"
	      "         [--fault MODE[@REQUEST[#N]]] [--close-first N]\n"
	      "         [--connect-timeout SEC] [--log-level LEVEL]\n"
	      "       " PROGRAM " --list-faults | --help | --version\n"
	      "\n"
	      "A vhost-user proxy for tests: accepts one frontend on PATH,\n"
	      "forwards every message to and from the backend at the\n"
	      "upstream PATH, and injects exactly one fault.\n"
	      "\n"
	      "  --listen PATH        socket the frontend connects to\n"
	      "  --upstream PATH      the real backend's socket (retried\n"
	      "                       until --connect-timeout, default 5)\n"
	      "  --fault MODE[@REQUEST[#N]]\n"
	      "                       REQUEST: a name (GET_CONFIG) or code;\n"
	      "                       N: the N-th such request the mode\n"
	      "                       applies to (default 1); no @: the\n"
	      "                       first request the mode applies to\n"
	      "  --close-first N      close the first N frontends after\n"
	      "                       their first request, unanswered (a\n"
	      "                       backend still starting, as DPDK's\n"
	      "                       vhost PMD can); serve the next one\n"
	      "                       (--fault or --close-first is needed)\n"
	      "  --list-faults        print the mode names, one a line\n"
	      "  --log-level LEVEL    error, warn (default), info or debug\n"
	      "  --version            print the version and exit\n"
	      "\n"
	      "Modes:\n",
	      f);
	for (int i = 0; i < M_COUNT; i++)
		print_mode(f, &modes[i]);
	fputs("\nExit: 0 when the frontend hangs up, on SIGTERM, or after a\n"
	      "fault that closes the connections; 1 on failure; 2 on usage\n"
	      "errors.\n",
	      f);
}

static int parse_request(const char *s, uint32_t *code)
{
	char *end;
	unsigned long n;

	for (uint32_t i = 1; i < VHOST_USER_MAX_REQUEST; i++) {
		const char *name = vhu_request_name(i);

		if (name && strcasecmp(s, name) == 0) {
			*code = i;
			return 0;
		}
	}
	errno = 0;
	n = strtoul(s, &end, 0);
	if (errno || end == s || *end || n == 0 || n >= 0xffffffffUL)
		return -EINVAL;
	*code = (uint32_t)n;
	return 0;
}

/* MODE[@REQUEST[#N]] */
static int parse_fault(char *spec, struct fault *f)
{
	char *at = strchr(spec, '@'), *hash;
	unsigned long n;

	memset(f, 0, sizeof(*f));
	f->nth = 1;
	if (at) {
		*at++ = '\0';
		hash = strchr(at, '#');
		if (hash) {
			*hash++ = '\0';
			errno = 0;
			n = strtoul(hash, &hash, 10);
			if (errno || *hash || n == 0 || n > 1000000)
				return -EINVAL;
			f->nth = (unsigned int)n;
		}
		if (parse_request(at, &f->request))
			return -EINVAL;
	}
	for (int i = 0; i < M_COUNT; i++) {
		if (strcmp(spec, modes[i].name) == 0) {
			f->mode = (enum mode)i;
			f->info = &modes[i];
			return 0;
		}
	}
	return -EINVAL;
}

/* --- Sockets -------------------------------------------------------------
 */

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static int connect_upstream(const char *path, int timeout_ms)
{
	struct sockaddr_un sa;
	struct timespec step = { 0, 20 * 1000000 };
	int err = unix_addr(path, &sa);

	if (err)
		return err;
	for (int waited = 0;; waited += 20) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		err = -errno;
		close(fd);
		if ((err != -ENOENT && err != -ECONNREFUSED) ||
		    waited >= timeout_ms)
			return err;
		nanosleep(&step, NULL);
	}
}

/* Waits for the frontend, or a signal (-EINTR). */
static int accept_front(int lfd, int sig)
{
	struct pollfd p[2] = { { lfd, POLLIN, 0 }, { sig, POLLIN, 0 } };
	int fd;

	while (poll(p, 2, -1) < 0)
		if (errno != EINTR)
			return -errno;
	if (p[1].revents)
		return -EINTR;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Writes raw bytes: a message cut short, or a header vhu_msg_send refuses. */
static void send_raw(int fd, const void *a, size_t alen, const void *b,
		     size_t blen)
{
	struct iovec iov[2] = { { (void *)a, alen }, { (void *)b, blen } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = blen ? 2 : 1 };

	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		pr_warn("raw send: %s", strerror(errno));
}

/* --- The fault -------------------------------------------------------------
 */

static const char *name_of(uint32_t code)
{
	const char *n = vhu_request_name(code);

	return n ? n : "UNKNOWN";
}

/* The reply kind of @code in the request table; none for unknown codes. */
static uint8_t reply_kind(uint32_t code)
{
	const struct vhu_request_info *r = vhu_request_info(code);

	return r ? r->reply : VHU_REPLY_NONE;
}

/* Answered when NEED_REPLY asks, or always (GET_*, ...). */
static bool has_reply(const struct vhu_msg *req)
{
	return vhu_msg_needs_reply(&req->hdr) ||
	       vhu_reply_always(reply_kind(req->hdr.request));
}

/* Whether the reply to @code carries fds (GET_INFLIGHT_FD, ...). */
static bool fd_reply(uint32_t code)
{
	unsigned int min, max;

	vhu_reply_fds(reply_kind(code), &min, &max);
	return max > 0;
}

static bool applies(const struct mode_info *m, const struct vhu_msg *req)
{
	uint32_t code = req->hdr.request;

	switch (m->needs) {
	case N_ANY:
		return true;
	case N_REPLY:
		return has_reply(req);
	case N_ACK:
		return vhu_msg_needs_reply(&req->hdr);
	case N_FD_REPLY:
		return fd_reply(code);
	case N_SET_FEAT:
		return code == VHOST_USER_SET_FEATURES ||
		       code == VHOST_USER_SET_PROTOCOL_FEATURES;
	case N_CODE:
		return code == m->code;
	}
	return false;
}

/* Whether @req is the one the fault is for; counts the candidates. */
static bool is_target(struct fault *f, const struct vhu_msg *req)
{
	if (!f->info || f->injected ||
	    (f->request && req->hdr.request != f->request) ||
	    !applies(f->info, req))
		return false;
	return ++f->seen == f->nth;
}

__attribute__((format(printf, 3, 4))) static void
say_fault(struct fault *f, uint32_t code, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	f->injected = true;
	pr_err("fault: %s: %s (%s)", name_of(code), what, f->info->name);
}

static int open_null(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/*
 * One function per mode: each alters @r, the reply to @code, logs what it
 * did and says what becomes of the reply.
 */
static enum verdict apply_wrong_code(struct proxy *p, uint32_t code,
				     struct vhu_msg *r)
{
	uint32_t other = code + 1 < VHOST_USER_MAX_REQUEST ? code + 1 : 1;

	r->hdr.request = other;
	say_fault(&p->fault, code, "reply code %u (%s)", other, name_of(other));
	return V_FORWARD;
}

static enum verdict apply_bad_flags(struct proxy *p, uint32_t code,
				    struct vhu_msg *r)
{
	r->hdr.flags &= ~VHOST_USER_REPLY_MASK;
	say_fault(&p->fault, code, "reply flags 0x%x, no reply bit",
		  r->hdr.flags);
	return V_FORWARD;
}

static enum verdict apply_unknown_flags(struct proxy *p, uint32_t code,
					struct vhu_msg *r)
{
	r->hdr.flags |= 0x20;
	say_fault(&p->fault, code, "reply flags 0x%x", r->hdr.flags);
	return V_FORWARD;
}

static enum verdict apply_bad_version(struct proxy *p, uint32_t code,
				      struct vhu_msg *r)
{
	r->hdr.flags = (r->hdr.flags & ~VHOST_USER_VERSION_MASK) | 2;
	say_fault(&p->fault, code, "reply flags 0x%x, version 2", r->hdr.flags);
	return V_FORWARD;
}

static enum verdict apply_short(struct proxy *p, uint32_t code,
				struct vhu_msg *r)
{
	r->hdr.size = r->hdr.size >= 4 ? r->hdr.size - 4 : 0;
	say_fault(&p->fault, code, "reply size %u", r->hdr.size);
	return V_FORWARD;
}

static enum verdict apply_long(struct proxy *p, uint32_t code,
			       struct vhu_msg *r)
{
	if (r->hdr.size + 8 <= VHOST_USER_MAX_PAYLOAD) {
		memset(r->payload.bytes + r->hdr.size, 0, 8);
		r->hdr.size += 8;
	}
	say_fault(&p->fault, code, "reply size %u", r->hdr.size);
	return V_FORWARD;
}

/* vhu_msg_send() refuses such a header, so it goes out raw. */
static enum verdict apply_oversized(struct proxy *p, uint32_t code,
				    struct vhu_msg *r)
{
	struct vhu_msg_header h = r->hdr;

	h.size = VHOST_USER_MAX_PAYLOAD + 8;
	say_fault(&p->fault, code, "reply header claims size %u", h.size);
	send_raw(p->front, &h, sizeof(h), &r->payload, r->hdr.size);
	return V_DROP;
}

static enum verdict apply_extra_fd(struct proxy *p, uint32_t code,
				   struct vhu_msg *r)
{
	int fd = r->nfds < VHOST_USER_MAX_FDS ? open_null() : -1;

	if (fd >= 0)
		r->fds[r->nfds++] = fd;
	say_fault(&p->fault, code, "reply carries %u fds", r->nfds);
	return V_FORWARD;
}

static enum verdict apply_missing_fd(struct proxy *p, uint32_t code,
				     struct vhu_msg *r)
{
	say_fault(&p->fault, code, "%u fds dropped from the reply", r->nfds);
	vhu_msg_close_fds(r);
	return V_FORWARD;
}

static enum verdict apply_nack(struct proxy *p, uint32_t code,
			       struct vhu_msg *r)
{
	r->payload.u64 = 1;
	say_fault(&p->fault, code, "ack 1 (failure)");
	return V_FORWARD;
}

static enum verdict apply_stall(struct proxy *p, uint32_t code,
				struct vhu_msg *r)
{
	say_fault(&p->fault, code, "reply withheld, connection kept open");
	return V_DROP;
}

static enum verdict apply_close_mid_header(struct proxy *p, uint32_t code,
					   struct vhu_msg *r)
{
	say_fault(&p->fault, code, "6 of 12 header bytes sent, then closed");
	send_raw(p->front, &r->hdr, 6, NULL, 0);
	return V_CLOSE;
}

static enum verdict apply_close_mid(struct proxy *p, uint32_t code,
				    struct vhu_msg *r)
{
	if (!r->hdr.size) /* no payload to cut: cut the header */
		return apply_close_mid_header(p, code, r);
	say_fault(&p->fault, code,
		  "header and %u of %u payload bytes sent, then closed",
		  r->hdr.size / 2, r->hdr.size);
	send_raw(p->front, &r->hdr, sizeof(r->hdr), &r->payload,
		 r->hdr.size / 2);
	return V_CLOSE;
}

static enum verdict apply_hang_up(struct proxy *p, uint32_t code,
				  struct vhu_msg *r)
{
	say_fault(&p->fault, code, "closed instead of replying");
	return V_CLOSE;
}

static enum verdict apply_duplicate(struct proxy *p, uint32_t code,
				    struct vhu_msg *r)
{
	say_fault(&p->fault, code, "reply sent twice");
	return vhu_msg_send(p->front, r) ? V_CLOSE : V_FORWARD;
}

/* Only a SET_*FEATURES with NEED_REPLY gets here (see from_front()). */
static enum verdict apply_refuse_features(struct proxy *p, uint32_t code,
					  struct vhu_msg *r)
{
	r->payload.u64 = 1;
	say_fault(&p->fault, code, "refused with ack 1");
	return V_FORWARD;
}

static enum verdict apply_no_version_1(struct proxy *p, uint32_t code,
				       struct vhu_msg *r)
{
	r->payload.u64 &= ~(1ull << VIRTIO_F_VERSION_1);
	say_fault(&p->fault, code, "features 0x%llx, no VERSION_1",
		  (unsigned long long)r->payload.u64);
	return V_FORWARD;
}

static enum verdict apply_zero_config(struct proxy *p, uint32_t code,
				      struct vhu_msg *r)
{
	r->hdr.size = 0;
	say_fault(&p->fault, code, "reply size 0");
	return V_FORWARD;
}

static enum verdict apply_config_echo(struct proxy *p, uint32_t code,
				      struct vhu_msg *r)
{
	r->payload.config.offset += 4;
	say_fault(&p->fault, code, "reply for offset %u",
		  r->payload.config.offset);
	return V_FORWARD;
}

static enum verdict apply_bad_queue_num(struct proxy *p, uint32_t code,
					struct vhu_msg *r)
{
	r->payload.u64 = 0;
	say_fault(&p->fault, code, "0 queues");
	return V_FORWARD;
}

static enum verdict apply_huge_queue_num(struct proxy *p, uint32_t code,
					 struct vhu_msg *r)
{
	r->payload.u64 = 1ull << 40;
	say_fault(&p->fault, code, "%llu queues",
		  (unsigned long long)r->payload.u64);
	return V_FORWARD;
}

static enum verdict apply_bad_vring_index(struct proxy *p, uint32_t code,
					  struct vhu_msg *r)
{
	r->payload.state.index++;
	say_fault(&p->fault, code, "reply for queue %u",
		  r->payload.state.index);
	return V_FORWARD;
}

static enum verdict apply_bad_vring_base(struct proxy *p, uint32_t code,
					 struct vhu_msg *r)
{
	r->payload.state.num |= 0x10000;
	say_fault(&p->fault, code, "base 0x%x", r->payload.state.num);
	return V_FORWARD;
}

static enum verdict apply_inflight_size0(struct proxy *p, uint32_t code,
					 struct vhu_msg *r)
{
	r->payload.inflight.mmap_size = 0;
	say_fault(&p->fault, code, "mmap_size 0");
	return V_FORWARD;
}

static enum verdict apply_inflight_not_memfd(struct proxy *p, uint32_t code,
					     struct vhu_msg *r)
{
	int fd = open_null();

	if (fd >= 0 && r->nfds) {
		close(r->fds[0]);
		r->fds[0] = fd;
	} else if (fd >= 0) {
		close(fd);
	}
	say_fault(&p->fault, code, "the region's fd is /dev/null");
	return V_FORWARD;
}

static enum verdict apply_inflight_too_big(struct proxy *p, uint32_t code,
					   struct vhu_msg *r)
{
	r->payload.inflight.mmap_size += 1 << 20;
	say_fault(&p->fault, code, "mmap_size 0x%llx",
		  (unsigned long long)r->payload.inflight.mmap_size);
	return V_FORWARD;
}

static const struct mode_info modes[M_COUNT] = {
	[M_WRONG_CODE] = { "wrong-code", N_REPLY, 0,
			   "the reply carries another request code",
			   apply_wrong_code },
	[M_BAD_FLAGS] = { "bad-flags", N_REPLY, 0,
			  "the reply lacks the reply bit", apply_bad_flags },
	[M_UNKNOWN_FLAGS] = { "unknown-flags", N_REPLY, 0,
			      "the reply has an unknown flag bit (0x20)",
			      apply_unknown_flags },
	[M_BAD_VERSION] = { "bad-version", N_REPLY, 0,
			    "the reply says protocol version 2",
			    apply_bad_version },
	[M_SHORT] = { "short", N_REPLY, 0,
		      "the reply payload is 4 bytes short (header size too)",
		      apply_short },
	[M_LONG] = { "long", N_REPLY, 0,
		     "the reply payload has 8 extra bytes (header size too)",
		     apply_long },
	[M_OVERSIZED] = { "oversized", N_REPLY, 0,
			  "the reply header claims 4104 bytes, over the "
			  "4096-byte maximum",
			  apply_oversized },
	[M_EXTRA_FD] = { "extra-fd", N_REPLY, 0,
			 "one fd (/dev/null) more than the reply carries",
			 apply_extra_fd },
	[M_MISSING_FD] = { "missing-fd", N_FD_REPLY, 0,
			   "the reply's fds are dropped (GET_INFLIGHT_FD, "
			   "SET_DEVICE_STATE_FD)",
			   apply_missing_fd },
	[M_NACK] = { "nack", N_ACK, 0,
		     "a NEED_REPLY ack is answered 1 (failure)", apply_nack },
	[M_STALL] = { "stall", N_ANY, 0,
		      "the reply (or the request, if it has none) and "
		      "everything after it is never forwarded; both "
		      "connections stay open",
		      apply_stall },
	[M_CLOSE_MID] = { "close-mid", N_REPLY, 0,
			  "the header and half the payload are sent, then "
			  "both connections closed",
			  apply_close_mid },
	[M_CLOSE_MID_HEADER] = { "close-mid-header", N_REPLY, 0,
				 "6 of the 12 header bytes are sent, then both "
				 "connections closed",
				 apply_close_mid_header },
	[M_HANG_UP] = { "hang-up", N_ANY, 0,
			"both connections are closed instead of answering "
			"(or forwarding) the request",
			apply_hang_up },
	[M_DUPLICATE] = { "duplicate", N_REPLY, 0, "the reply is sent twice",
			  apply_duplicate },
	[M_REFUSE_FEATURES] = { "refuse-features", N_SET_FEAT, 0,
				"GET_FEATURES/GET_PROTOCOL_FEATURES pass, then "
				"SET_FEATURES or SET_PROTOCOL_FEATURES is "
				"nacked (NEED_REPLY set) or hung up on",
				apply_refuse_features },
	[M_NO_VERSION_1] = { "no-version-1", N_CODE, VHOST_USER_GET_FEATURES,
			     "GET_FEATURES without VIRTIO_F_VERSION_1",
			     apply_no_version_1 },
	[M_ZERO_CONFIG] = { "zero-config", N_CODE, VHOST_USER_GET_CONFIG,
			    "GET_CONFIG answered with size 0 (no payload)",
			    apply_zero_config },
	[M_CONFIG_ECHO] = { "config-echo", N_CODE, VHOST_USER_GET_CONFIG,
			    "GET_CONFIG answered for offset+4 instead of "
			    "the offset asked for",
			    apply_config_echo },
	[M_BAD_QUEUE_NUM] = { "bad-queue-num", N_CODE, VHOST_USER_GET_QUEUE_NUM,
			      "GET_QUEUE_NUM answered 0", apply_bad_queue_num },
	[M_HUGE_QUEUE_NUM] = { "huge-queue-num", N_CODE,
			       VHOST_USER_GET_QUEUE_NUM,
			       "GET_QUEUE_NUM answered 2^40",
			       apply_huge_queue_num },
	[M_BAD_VRING_INDEX] = { "bad-vring-index", N_CODE,
				VHOST_USER_GET_VRING_BASE,
				"GET_VRING_BASE answered for the next queue",
				apply_bad_vring_index },
	[M_BAD_VRING_BASE] = { "bad-vring-base", N_CODE,
			       VHOST_USER_GET_VRING_BASE,
			       "GET_VRING_BASE answered with a base over "
			       "0xffff",
			       apply_bad_vring_base },
	[M_INFLIGHT_SIZE0] = { "inflight-size0", N_CODE,
			       VHOST_USER_GET_INFLIGHT_FD,
			       "GET_INFLIGHT_FD answered with mmap_size 0",
			       apply_inflight_size0 },
	[M_INFLIGHT_NOT_MEMFD] = { "inflight-not-memfd", N_CODE,
				   VHOST_USER_GET_INFLIGHT_FD,
				   "GET_INFLIGHT_FD answered with /dev/null "
				   "for the region's fd",
				   apply_inflight_not_memfd },
	[M_INFLIGHT_TOO_BIG] = { "inflight-too-big", N_CODE,
				 VHOST_USER_GET_INFLIGHT_FD,
				 "GET_INFLIGHT_FD claims a region 1 MiB "
				 "larger than its fd",
				 apply_inflight_too_big },
};

/*
 * Faults that act on the request itself, which has no reply to alter:
 * refusing features by hanging up, hanging up, stalling.
 */
static enum verdict corrupt_request(struct proxy *p, const struct vhu_msg *req)
{
	struct fault *f = &p->fault;
	uint32_t code = req->hdr.request;

	if (f->mode == M_REFUSE_FEATURES || f->mode == M_HANG_UP) {
		say_fault(f, code, "refused: connection closed");
		return V_CLOSE;
	}
	say_fault(f, code, "request swallowed, connection kept open");
	return V_DROP;
}

/* --- Forwarding ------------------------------------------------------------
 */

/* Returns 1 to go on, 0 when the connection is over (exit 0), -errno. */
static int from_front(struct proxy *p)
{
	struct vhu_msg m;
	bool target, reply;
	int err = vhu_msg_recv(p->front, &m, MSG_TIMEOUT_MS);

	if (err == -ECONNRESET) {
		pr_info("the frontend hung up");
		return 0;
	}
	if (err) {
		pr_err("from the frontend: %s", strerror(-err));
		return err;
	}
	if (p->stalled) {
		vhu_msg_close_fds(&m);
		return 1;
	}
	target = is_target(&p->fault, &m);
	reply = has_reply(&m);
	if (target && !reply) {
		enum verdict v = corrupt_request(p, &m);

		vhu_msg_close_fds(&m);
		p->stalled = v == V_DROP;
		return v == V_CLOSE ? 0 : 1;
	}
	if (reply && p->npend == MAX_PENDING) {
		pr_err("more than %d requests await a reply", MAX_PENDING);
		vhu_msg_close_fds(&m);
		return -EPROTO;
	}
	if (reply)
		p->pend[p->npend++] = (struct pending){ m.hdr.request, target };
	err = vhu_msg_send(p->up, &m);
	vhu_msg_close_fds(&m);
	if (err)
		pr_err("%s to the backend: %s", name_of(m.hdr.request),
		       strerror(-err));
	return err ? err : 1;
}

static int from_up(struct proxy *p)
{
	struct vhu_msg m;
	struct pending head = { 0, false };
	enum verdict v = V_FORWARD;
	int err = vhu_msg_recv(p->up, &m, MSG_TIMEOUT_MS);

	if (err == -ECONNRESET) {
		pr_err("the backend closed the connection");
		return -ECONNRESET;
	}
	if (err) {
		pr_err("from the backend: %s", strerror(-err));
		return err;
	}
	if (p->stalled) {
		vhu_msg_close_fds(&m);
		return 1;
	}
	if (vhu_msg_is_reply(&m.hdr) && p->npend) {
		head = p->pend[0];
		memmove(p->pend, p->pend + 1, --p->npend * sizeof(p->pend[0]));
	}
	if (head.target)
		v = p->fault.info->apply(p, head.code, &m);
	if (v == V_FORWARD)
		err = vhu_msg_send(p->front, &m);
	vhu_msg_close_fds(&m);
	/* A frontend that gave up after the fault is the end, not an error. */
	if (err == -EPIPE || err == -ECONNRESET) {
		pr_info("the frontend hung up");
		return 0;
	}
	if (err)
		pr_err("reply to %s: %s", name_of(head.code), strerror(-err));
	p->stalled = v == V_DROP;
	if (v == V_CLOSE)
		return 0;
	return err ? err : 1;
}

static int serve(struct proxy *p)
{
	struct pollfd fds[3] = { { p->front, POLLIN, 0 },
				 { p->up, POLLIN, 0 },
				 { p->sig, POLLIN, 0 } };
	int r = 1;

	while (r > 0) {
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (fds[2].revents) {
			pr_info("signal, exiting");
			return 0;
		}
		/* The frontend first: its hang-up ends the run cleanly even
		 * when the backend went away at the same moment. */
		if (fds[0].revents)
			r = from_front(p);
		else if (fds[1].revents)
			r = from_up(p);
	}
	return r;
}

static int setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

struct cli {
	const char *listen, *upstream;
	char *fault; /* NULL: forward only */
	unsigned int close_first;
	int connect_timeout_ms;
};

static int parse_cli(int argc, char **argv, struct cli *c)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "upstream", required_argument, NULL, 'u' },
		{ "fault", required_argument, NULL, 'f' },
		{ "connect-timeout", required_argument, NULL, 't' },
		{ "close-first", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "list-faults", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	enum log_level level;
	unsigned long n;
	char *end;
	double s;
	int o;

	c->connect_timeout_ms = 5000;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l':
			c->listen = optarg;
			break;
		case 'u':
			c->upstream = optarg;
			break;
		case 'f':
			c->fault = optarg;
			break;
		case 't':
			s = strtod(optarg, &end);
			if (end == optarg || *end || !(s >= 0 && s <= 3600)) {
				fprintf(stderr,
					PROGRAM ": --connect-timeout '%s': "
						"must be 0..3600 seconds\n",
					optarg);
				return EXIT_USAGE;
			}
			c->connect_timeout_ms = (int)(s * 1000);
			break;
		case 'c':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (end == optarg || *end || *optarg == '-' || errno ||
			    n > 1000) {
				fprintf(stderr,
					PROGRAM ": --close-first '%s': must "
						"be 0..1000\n",
					optarg);
				return EXIT_USAGE;
			}
			c->close_first = (unsigned int)n;
			break;
		case 'L':
			if (log_parse_level(optarg, &level)) {
				fprintf(stderr,
					PROGRAM ": --log-level '%s': error, "
						"warn, info or debug\n",
					optarg);
				return EXIT_USAGE;
			}
			log_set_level(level);
			break;
		case 'F':
			for (int i = 0; i < M_COUNT; i++)
				printf("%s\n", modes[i].name);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(PROGRAM " %s\n", VUVM_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || !c->listen || !c->upstream ||
	    !(c->fault || c->close_first)) {
		fprintf(stderr, PROGRAM ": --listen, --upstream and --fault "
					"or --close-first are required, "
					"nothing else\n");
		return EXIT_USAGE;
	}
	return -1;
}

/*
 * --close-first: each of the first @n frontends is accepted, its first
 * request read, and the connection closed unanswered. 0, -EINTR on a
 * signal, or -errno.
 */
static int close_first(int lfd, int sig, unsigned int n)
{
	for (unsigned int i = 1; i <= n; i++) {
		int fd = accept_front(lfd, sig), err;
		struct vhu_msg m;

		if (fd < 0)
			return fd;
		err = vhu_msg_recv(fd, &m, MSG_TIMEOUT_MS);
		if (!err)
			vhu_msg_close_fds(&m);
		close(fd);
		pr_warn("closed frontend %u of %u after its first request "
			"(%s), unanswered (--close-first)",
			i, n, err ? strerror(-err) : name_of(m.hdr.request));
	}
	return 0;
}

static int run(const struct cli *c, struct proxy *p)
{
	int lfd = vhu_backend_listen(c->listen), r;

	if (lfd < 0)
		return 1; /* said by vhu_backend_listen() */
	r = close_first(lfd, p->sig, c->close_first);
	p->front = r ? r : accept_front(lfd, p->sig);
	close(lfd);
	unlink(c->listen); /* one frontend, like vuvm-backend */
	if (p->front == -EINTR)
		return 0;
	if (p->front < 0) {
		pr_err("accept: %s", strerror(-p->front));
		return 1;
	}
	p->up = connect_upstream(c->upstream, c->connect_timeout_ms);
	if (p->up < 0) {
		pr_err("connect %s: %s", c->upstream, strerror(-p->up));
		close(p->front);
		return 1;
	}
	r = serve(p);
	close(p->front);
	close(p->up);
	if (p->fault.info && !p->fault.injected)
		pr_warn("the fault (%s) was never injected",
			p->fault.info->name);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	struct proxy p = { .front = -1, .up = -1 };
	char spec[128];
	int r;

	log_set_program(PROGRAM);
	r = parse_cli(argc, argv, &c);
	if (r >= 0)
		return r;
	snprintf(spec, sizeof(spec), "%s", c.fault ? c.fault : "");
	if (c.fault && parse_fault(spec, &p.fault)) {
		fprintf(stderr,
			PROGRAM ": --fault '%s': MODE[@REQUEST[#N]] with a "
				"mode from --list-faults, a request name or "
				"code, N >= 1\n",
			c.fault);
		return EXIT_USAGE;
	}
	p.sig = setup_signals();
	if (p.sig < 0) {
		pr_err("signalfd: %s", strerror(-p.sig));
		return 1;
	}
	r = run(&c, &p);
	close(p.sig);
	return r;
}
