// SPDX-License-Identifier: MIT
/*
 * The vhost-user frontend. Every request goes through fe_call(), which
 * applies the request's row in the shared table (requests.h, its `send`
 * side): what the request may carry, what it needs negotiated, and what
 * comes back. The public functions only check their arguments, fill the
 * payload and check the body of the reply.
 */
#define pr_fmt(fmt) "vhost-user: " fmt
#include "vhost/frontend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhost/clock.h"
#include "vhost/log.h"
#include "vhost/msg.h"
#include "vhost/requests.h"
#include "vhost/trace.h"

#define P(name) VHOST_USER_PROTOCOL_F_##name

#define REPLY_FLAGS    (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK)
#define F_PROTOCOL     (1ull << VHOST_USER_F_PROTOCOL_FEATURES)
#define KNOWN_PROTOCOL ((1ull << VHOST_USER_PROTOCOL_F_MAX) - 1)

/* --- errors and tracing ------------------------------------------------ */

static const char *req_name(uint32_t req)
{
	const char *name = vhu_request_name(req);

	return name ? name : "UNKNOWN";
}

/* Keeps the sentence for the caller, which logs it with its own context
 * (which device); here it is only a debug line. */
static void fe_vsay(struct vhu_frontend *fe, uint32_t req, const char *fmt,
		    va_list ap)
{
	int n = snprintf(fe->error, sizeof(fe->error), "%s: ", req_name(req));

	vsnprintf(fe->error + n, sizeof(fe->error) - (size_t)n, fmt, ap);
	pr_debug("%s", fe->error);
}

__attribute__((format(printf, 4, 5))) static int
fe_fail(struct vhu_frontend *fe, uint32_t req, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fe_vsay(fe, req, fmt, ap);
	va_end(ap);
	return err;
}

/*
 * A reply that does not fit its request means the stream may be out of
 * step (a late reply, a missing one): nothing after it can be trusted. The
 * socket is shut down, so that the backend and anyone watching the
 * connection (vuvm's device watcher) see at once that it is over.
 */
__attribute__((format(printf, 4, 5))) static int
fe_break(struct vhu_frontend *fe, uint32_t req, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fe_vsay(fe, req, fmt, ap);
	va_end(ap);
	fe->broken = true;
	shutdown(fe->sock, SHUT_RDWR);
	return err;
}

static void fe_trace(struct vhu_frontend *fe, const char *dir,
		     const struct vhu_msg *msg)
{
	char line[768];
	size_t n;

	if (!fe->trace)
		return;
	n = (size_t)snprintf(line, sizeof(line), "%s ", dir);
	vhu_trace_format_ring(line + n, sizeof(line) - n, msg, false,
			      fe->acked_features & (1ull << VHU_F_RING_PACKED));
	fe->trace(fe->trace_opaque, line);
}

void vhu_trace_log(void *opaque, const char *line)
{
	pr_info("%s", line);
}

/* --- connection -------------------------------------------------------- */

static void fe_reset(struct vhu_frontend *fe)
{
	memset(fe, 0, sizeof(*fe));
	fe->sock = -1;
	fe->timeout_ms = VHU_DEFAULT_TIMEOUT_MS;
}

/* Bounds sends too, so that a backend that stops reading cannot block us
 * forever once the socket buffer is full. */
static void apply_send_timeout(struct vhu_frontend *fe)
{
	struct timeval tv = { 0, 0 };

	if (fe->timeout_ms > 0) {
		tv.tv_sec = fe->timeout_ms / 1000;
		tv.tv_usec = (fe->timeout_ms % 1000) * 1000;
	}
	setsockopt(fe->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int vhu_frontend_from_fd(struct vhu_frontend *fe, int sock)
{
	struct stat st;
	int type = 0;
	socklen_t len = sizeof(type);

	fe_reset(fe);
	if (sock < 0 || fstat(sock, &st) < 0)
		return -EBADF;
	if (!S_ISSOCK(st.st_mode) ||
	    getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM)
		return -ENOTSOCK;
	fe->sock = sock;
	apply_send_timeout(fe);
	return 0;
}

static bool connect_retryable(int err)
{
	return err == -ENOENT || err == -ECONNREFUSED || err == -EAGAIN;
}

static int try_connect(const struct sockaddr_un *sa)
{
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err;

	if (sock < 0)
		return -errno;
	if (connect(sock, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return sock;
	err = -errno;
	close(sock);
	return err;
}

/* Sleeps the current back-off step (at most @left ms), then doubles it up
 * to 200 ms: quick for a backend that is just starting, cheap if it is not. */
static void backoff(int64_t left, int64_t *delay)
{
	struct timespec ts;

	left = left < *delay ? left : *delay;
	ts.tv_sec = left / 1000;
	ts.tv_nsec = (left % 1000) * 1000000;
	nanosleep(&ts, NULL);
	*delay = *delay * 2 > 200 ? 200 : *delay * 2;
}

int vhu_connect(struct vhu_frontend *fe, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int64_t delay = 10;
	int sock, err;

	fe_reset(fe);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(fe->error, sizeof(fe->error),
			 "connect: socket path longer than %zu bytes",
			 sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	while ((sock = try_connect(&sa)) < 0 && connect_retryable(sock)) {
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			snprintf(fe->error, sizeof(fe->error),
				 "connect %s: backend not ready after %d ms "
				 "(%s)",
				 path, timeout_ms, strerror(-sock));
			return -ETIMEDOUT;
		}
		backoff(left, &delay);
	}
	if (sock < 0) {
		snprintf(fe->error, sizeof(fe->error), "connect %s: %s", path,
			 strerror(-sock));
		return sock;
	}
	err = vhu_frontend_from_fd(fe, sock);
	if (err)
		close(sock);
	return err;
}

void vhu_frontend_close(struct vhu_frontend *fe)
{
	if (fe->sock >= 0)
		close(fe->sock);
	fe->sock = -1;
}

void vhu_frontend_set_timeout(struct vhu_frontend *fe, int timeout_ms)
{
	fe->timeout_ms = timeout_ms;
	if (fe->sock >= 0)
		apply_send_timeout(fe);
}

void vhu_frontend_set_trace(struct vhu_frontend *fe, vhu_trace_fn fn,
			    void *opaque)
{
	fe->trace = fn;
	fe->trace_opaque = opaque;
}

const char *vhu_frontend_error(const struct vhu_frontend *fe)
{
	return fe->error;
}

bool vhu_has_protocol_feature(const struct vhu_frontend *fe, unsigned int bit)
{
	return bit < 64 && (fe->acked_protocol_features >> bit) & 1;
}

/* --- the one request path ---------------------------------------------- */

static void msg_init(struct vhu_msg *msg, uint32_t req, uint32_t size)
{
	msg->hdr.request = req;
	msg->hdr.flags = VHOST_USER_VERSION;
	msg->hdr.size = size;
	msg->nfds = 0;
	memset(&msg->payload, 0, size);
}

/* The row @req is sent by; NULL if the frontend does not send it. */
static const struct vhu_request_info *sent_row(uint32_t req)
{
	const struct vhu_request_info *r = vhu_request_info(req);

	return r && r->send.on ? r : NULL;
}

/* What the row of @req (one the frontend sends) needs negotiated. */
static int check_needs(struct vhu_frontend *fe, uint32_t req)
{
	int needs = sent_row(req)->send.needs;

	if (needs == VHU_NEEDS_OFFERED && !(fe->features & F_PROTOCOL))
		return fe_fail(fe, req, -ENOTSUP,
			       "backend did not offer PROTOCOL_FEATURES "
			       "(bit 30 of GET_FEATURES)");
	if (needs == VHU_NEEDS_ACKED && !(fe->acked_features & F_PROTOCOL))
		return fe_fail(fe, req, -ENOTSUP,
			       "needs PROTOCOL_FEATURES (bit 30) acked by "
			       "SET_FEATURES");
	if (needs >= 0 && !vhu_has_protocol_feature(fe, (unsigned int)needs))
		return fe_fail(fe, req, -ENOTSUP,
			       "needs protocol feature %s, not negotiated",
			       vhu_protocol_feature_name((unsigned int)needs));
	return 0;
}

/* The request must match its row; a mismatch is a bug in this file, but
 * it is still refused before anything goes out. */
static int check_request(struct vhu_frontend *fe, const struct vhu_msg *req,
			 const struct vhu_request_info *r)
{
	uint32_t code = req->hdr.request, size = req->hdr.size;

	if (fe->sock < 0)
		return fe_fail(fe, code, -ENOTCONN, "not connected");
	if (fe->broken)
		return fe_fail(fe, code, -EPIPE,
			       "connection unusable after an earlier error");
	if (r->size_min ? size < r->size : size != r->size)
		return fe_fail(fe, code, -EINVAL,
			       "payload size %u, expected %s%u", size,
			       r->size_min ? "at least " : "", r->size);
	if (req->nfds < r->send.min_fds || req->nfds > r->send.max_fds)
		return fe_fail(fe, code, -EINVAL, "%u fds, expected %u..%u",
			       req->nfds, r->send.min_fds, r->send.max_fds);
	for (unsigned int i = 0; i < req->nfds; i++)
		if (req->fds[i] < 0)
			return fe_fail(fe, code, -EBADF, "fd %u is invalid", i);
	return check_needs(fe, code);
}

static bool expects_reply(const struct vhu_msg *req,
			  const struct vhu_request_info *r)
{
	if (r->reply == VHU_REPLY_ACK)
		return vhu_msg_needs_reply(&req->hdr);
	return r->reply != VHU_REPLY_NONE;
}

static int fe_send(struct vhu_frontend *fe, struct vhu_msg *req,
		   const struct vhu_request_info *r)
{
	int err;

	if (r->reply == VHU_REPLY_ACK &&
	    vhu_has_protocol_feature(fe, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		req->hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	fe_trace(fe, "->", req);
	err = vhu_msg_send(fe->sock, req);
	if (err == -EAGAIN || err == -EWOULDBLOCK)
		err = -ETIMEDOUT;
	if (err)
		return fe_break(fe, req->hdr.request, err, "send failed: %s",
				strerror(-err));
	return 0;
}

static int recv_failed(struct vhu_frontend *fe, uint32_t code, int err,
		       const struct vhu_msg *reply)
{
	if (err == -ETIMEDOUT)
		return fe_break(fe, code, err, "no reply within %d ms",
				fe->timeout_ms);
	if (err == -ECONNRESET)
		return fe_break(
			fe, code, err,
			"backend closed the connection before replying");
	if (err == -EPROTO && reply->bad &&
	    strncmp(reply->bad, "hung up ", 8) == 0)
		return fe_break(fe, code, err, "backend hung up mid-reply (%s)",
				reply->bad + 8);
	if (err == -EPROTO && reply->bad)
		return fe_break(fe, code, err, "reply: %s", reply->bad);
	return fe_break(fe, code, err, "receive failed: %s", strerror(-err));
}

/* Expected reply payload size; a config reply echoes the request size. */
static uint32_t reply_size(const struct vhu_msg *req, uint8_t kind)
{
	switch (kind) {
	case VHU_REPLY_CONFIG:
		return req->hdr.size;
	case VHU_REPLY_INFLIGHT:
		return sizeof(struct vhu_inflight);
	default:
		return 8;
	}
}

static int check_reply_fds(struct vhu_frontend *fe, uint32_t code,
			   const struct vhu_msg *reply, uint8_t kind)
{
	unsigned int min, max;

	vhu_reply_fds(kind, &min, &max);
	if (reply->nfds < min || reply->nfds > max)
		return fe_break(fe, code, -EPROTO,
				"reply carries %u fds, expected %u",
				reply->nfds, min);
	return 0;
}

static int check_reply_size(struct vhu_frontend *fe, const struct vhu_msg *req,
			    const struct vhu_msg *reply, uint8_t kind)
{
	uint32_t code = req->hdr.request, size = reply->hdr.size;
	uint32_t want = reply_size(req, kind);

	if (kind == VHU_REPLY_LOG && size == 0)
		return 0;
	/* libvhost-user reports a failed GET_CONFIG with an empty reply. */
	if (kind == VHU_REPLY_CONFIG && size == 0)
		return fe_fail(fe, code, -EIO, "backend failed (empty reply)");
	if (kind == VHU_REPLY_CONFIG && size != want)
		return fe_break(
			fe, code, -EPROTO, "reply size %u, expected %u+%u",
			size, VHU_CONFIG_HDR_SIZE, want - VHU_CONFIG_HDR_SIZE);
	if (size != want)
		return fe_break(fe, code, -EPROTO, "reply size %u, expected %u",
				size, want);
	if (kind == VHU_REPLY_ACK && reply->payload.u64)
		return fe_fail(fe, code, -EIO, "backend failed (ack 0x%llx)",
			       (unsigned long long)reply->payload.u64);
	return 0;
}

static int fe_recv_reply(struct vhu_frontend *fe, const struct vhu_msg *req,
			 const struct vhu_request_info *r,
			 struct vhu_msg *reply)
{
	uint32_t code = req->hdr.request;
	int err = vhu_msg_recv(fe->sock, reply, fe->timeout_ms);

	if (err)
		return recv_failed(fe, code, err, reply);
	fe_trace(fe, "<-", reply);
	if (reply->hdr.flags != REPLY_FLAGS)
		err = fe_break(fe, code, -EPROTO,
			       "reply flags 0x%x, expected 0x%x (v1|reply)",
			       reply->hdr.flags, REPLY_FLAGS);
	else if (reply->hdr.request != code)
		err = fe_break(fe, code, -EPROTO, "reply is for %s (%u)",
			       req_name(reply->hdr.request),
			       reply->hdr.request);
	else
		err = check_reply_fds(fe, code, reply, r->reply);
	if (!err)
		err = check_reply_size(fe, req, reply, r->reply);
	if (err)
		vhu_msg_close_fds(reply);
	return err;
}

/*
 * Sends @req and, if one is due, receives and frames the reply into @reply
 * (never @req: the reply is checked against it). On success the caller owns
 * any fds in @reply.
 */
static int fe_call(struct vhu_frontend *fe, struct vhu_msg *req,
		   struct vhu_msg *reply)
{
	uint32_t code = req->hdr.request;
	const struct vhu_request_info *r = sent_row(code);
	int err;

	reply->nfds = 0;
	if (!r)
		return fe_fail(fe, code, -EINVAL, "not a front-end request");
	err = check_request(fe, req, r);
	if (!err)
		err = fe_send(fe, req, r);
	if (!err && expects_reply(req, r))
		err = fe_recv_reply(fe, req, r, reply);
	return err;
}

/* --- small shapes ------------------------------------------------------ */

static int send_empty(struct vhu_frontend *fe, uint32_t code)
{
	struct vhu_msg req, reply;

	msg_init(&req, code, 0);
	return fe_call(fe, &req, &reply);
}

static int send_u64(struct vhu_frontend *fe, uint32_t code, uint64_t value)
{
	struct vhu_msg req, reply;

	msg_init(&req, code, sizeof(uint64_t));
	req.payload.u64 = value;
	return fe_call(fe, &req, &reply);
}

static int get_u64(struct vhu_frontend *fe, uint32_t code, uint64_t *value)
{
	struct vhu_msg req, reply;
	int err;

	msg_init(&req, code, 0);
	err = fe_call(fe, &req, &reply);
	if (!err)
		*value = reply.payload.u64;
	return err;
}

static int check_index(struct vhu_frontend *fe, uint32_t code,
		       unsigned int index)
{
	if (index > VHOST_USER_VRING_IDX_MASK)
		return fe_fail(fe, code, -EINVAL, "queue index %u > %u", index,
			       VHOST_USER_VRING_IDX_MASK);
	if (fe->queue_num && index >= fe->queue_num)
		return fe_fail(fe, code, -EINVAL,
			       "queue index %u, backend has %u queues", index,
			       fe->queue_num);
	return 0;
}

static int send_state(struct vhu_frontend *fe, uint32_t code,
		      unsigned int index, uint32_t num)
{
	struct vhu_msg req, reply;
	int err = check_index(fe, code, index);

	if (err)
		return err;
	msg_init(&req, code, sizeof(struct vhu_vring_state));
	req.payload.state.index = index;
	req.payload.state.num = num;
	return fe_call(fe, &req, &reply);
}

/* --- session and features ---------------------------------------------- */

int vhu_get_features(struct vhu_frontend *fe, uint64_t *features)
{
	int err = get_u64(fe, VHOST_USER_GET_FEATURES, features);

	if (!err) {
		fe->features = *features;
		fe->have_features = true;
	}
	return err;
}

int vhu_set_features(struct vhu_frontend *fe, uint64_t features)
{
	uint32_t code = VHOST_USER_SET_FEATURES;
	int err;

	if (!fe->have_features)
		return fe_fail(fe, code, -EINVAL, "GET_FEATURES not done yet");
	if (features & ~fe->features)
		return fe_fail(
			fe, code, -EINVAL,
			"features 0x%llx were not offered (offered 0x%llx)",
			(unsigned long long)(features & ~fe->features),
			(unsigned long long)fe->features);
	err = send_u64(fe, code, features);
	if (!err)
		fe->acked_features = features;
	return err;
}

int vhu_set_owner(struct vhu_frontend *fe)
{
	return send_empty(fe, VHOST_USER_SET_OWNER);
}

int vhu_reset_owner(struct vhu_frontend *fe)
{
	return send_empty(fe, VHOST_USER_RESET_OWNER);
}

int vhu_get_protocol_features(struct vhu_frontend *fe, uint64_t *features)
{
	int err = get_u64(fe, VHOST_USER_GET_PROTOCOL_FEATURES, features);

	if (!err) {
		fe->protocol_features = *features;
		fe->have_protocol_features = true;
	}
	return err;
}

/* Protocol features that only make sense together with another one. */
static const struct {
	uint8_t bit, needs;
} protocol_deps[] = {
	{ P(BACKEND_SEND_FD), P(BACKEND_REQ) },
	{ P(HOST_NOTIFIER), P(BACKEND_REQ) },
	{ P(HOST_NOTIFIER), P(BACKEND_SEND_FD) },
	{ P(SHARED_OBJECT), P(BACKEND_REQ) },
};

static int check_protocol_deps(struct vhu_frontend *fe, uint64_t features)
{
	for (size_t i = 0; i < sizeof(protocol_deps) / sizeof(protocol_deps[0]);
	     i++) {
		uint64_t bit = 1ull << protocol_deps[i].bit;
		uint64_t needs = 1ull << protocol_deps[i].needs;

		if ((features & bit) && !(features & needs))
			return fe_fail(
				fe, VHOST_USER_SET_PROTOCOL_FEATURES, -EINVAL,
				"%s needs %s",
				vhu_protocol_feature_name(protocol_deps[i].bit),
				vhu_protocol_feature_name(
					protocol_deps[i].needs));
	}
	return 0;
}

int vhu_set_protocol_features(struct vhu_frontend *fe, uint64_t features)
{
	uint32_t code = VHOST_USER_SET_PROTOCOL_FEATURES;
	int err = check_needs(fe, code);

	if (err)
		return err;
	if (!fe->have_protocol_features)
		return fe_fail(fe, code, -EINVAL,
			       "GET_PROTOCOL_FEATURES not done yet");
	if (features & ~fe->protocol_features & KNOWN_PROTOCOL)
		return fe_fail(fe, code, -EINVAL,
			       "protocol features 0x%llx were not offered",
			       (unsigned long long)(features &
						    ~fe->protocol_features));
	if (features & ~KNOWN_PROTOCOL)
		return fe_fail(
			fe, code, -EINVAL,
			"protocol features 0x%llx are unknown",
			(unsigned long long)(features & ~KNOWN_PROTOCOL));
	err = check_protocol_deps(fe, features);
	if (!err)
		err = send_u64(fe, code, features);
	if (!err)
		fe->acked_protocol_features = features;
	return err;
}

/* A u64 reply that must be a count in 1..@max (@what names it). */
static int get_count(struct vhu_frontend *fe, uint32_t code, uint64_t *n,
		     uint32_t max, const char *what)
{
	int err = get_u64(fe, code, n);

	if (err)
		return err;
	if (*n == 0 || *n > max)
		return fe_fail(fe, code, -EPROTO,
			       "backend reports %llu %s, expected 1..%u",
			       (unsigned long long)*n, what, max);
	return 0;
}

int vhu_get_queue_num(struct vhu_frontend *fe, uint64_t *num)
{
	int err = get_count(fe, VHOST_USER_GET_QUEUE_NUM, num, VHU_MAX_QUEUES,
			    "queues");

	if (!err)
		fe->queue_num = (uint32_t)*num;
	return err;
}

int vhu_get_max_mem_slots(struct vhu_frontend *fe, uint64_t *slots)
{
	int err = get_count(fe, VHOST_USER_GET_MAX_MEM_SLOTS, slots,
			    VHU_MAX_MEM_SLOTS, "slots");

	if (!err)
		fe->max_mem_slots = (uint32_t)*slots;
	return err;
}

int vhu_reset_device(struct vhu_frontend *fe)
{
	return send_empty(fe, VHOST_USER_RESET_DEVICE);
}

int vhu_set_status(struct vhu_frontend *fe, uint8_t status)
{
	return send_u64(fe, VHOST_USER_SET_STATUS, status);
}

int vhu_get_status(struct vhu_frontend *fe, uint8_t *status)
{
	uint32_t code = VHOST_USER_GET_STATUS;
	uint64_t value;
	int err = get_u64(fe, code, &value);

	if (err)
		return err;
	if (value > 0xff)
		return fe_fail(fe, code, -EPROTO,
			       "status 0x%llx does not fit the 8-bit status",
			       (unsigned long long)value);
	*status = (uint8_t)value;
	return 0;
}

/* --- memory ------------------------------------------------------------ */

/* Whether [start, start + size) does not fit in 64 bits. */
static bool wraps(uint64_t start, uint64_t size)
{
	return start + size < start;
}

static int check_region(struct vhu_frontend *fe, uint32_t code,
			const struct vhu_region *r, unsigned int i, bool fd)
{
	if (r->memory_size == 0)
		return fe_fail(fe, code, -EINVAL, "region %u has size 0", i);
	if (fd && r->fd < 0)
		return fe_fail(fe, code, -EINVAL, "region %u has no fd", i);
	if (wraps(r->guest_phys_addr, r->memory_size) ||
	    wraps(r->userspace_addr, r->memory_size) ||
	    wraps(r->mmap_offset, r->memory_size))
		return fe_fail(fe, code, -EINVAL, "region %u wraps around", i);
	return 0;
}

/* Inclusive ends, so a range that ends at 2^64 does not overflow. */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a <= b + (blen - 1) && b <= a + (alen - 1);
}

static int check_regions(struct vhu_frontend *fe, const struct vhu_region *r,
			 unsigned int n)
{
	uint32_t code = VHOST_USER_SET_MEM_TABLE;

	if (n == 0 || n > VHOST_USER_MEM_REGIONS_MAX)
		return fe_fail(fe, code, -EINVAL, "%u regions, expected 1..%u",
			       n, VHOST_USER_MEM_REGIONS_MAX);
	for (unsigned int i = 0; i < n; i++) {
		int err = check_region(fe, code, &r[i], i, true);

		if (err)
			return err;
		for (unsigned int j = 0; j < i; j++)
			if (overlap(r[i].guest_phys_addr, r[i].memory_size,
				    r[j].guest_phys_addr, r[j].memory_size) ||
			    overlap(r[i].userspace_addr, r[i].memory_size,
				    r[j].userspace_addr, r[j].memory_size))
				return fe_fail(fe, code, -EINVAL,
					       "regions %u and %u overlap", j,
					       i);
	}
	return 0;
}

static void fill_region(struct vhu_mem_region *out, const struct vhu_region *r)
{
	out->guest_phys_addr = r->guest_phys_addr;
	out->memory_size = r->memory_size;
	out->userspace_addr = r->userspace_addr;
	out->mmap_offset = r->mmap_offset;
}

int vhu_set_mem_table(struct vhu_frontend *fe, const struct vhu_region *regions,
		      unsigned int n)
{
	struct vhu_msg req, reply;
	int err = check_regions(fe, regions, n);

	if (err)
		return err;
	msg_init(&req, VHOST_USER_SET_MEM_TABLE,
		 8 + n * (uint32_t)sizeof(struct vhu_mem_region));
	req.payload.mem.nregions = n;
	for (unsigned int i = 0; i < n; i++) {
		fill_region(&req.payload.mem.regions[i], &regions[i]);
		req.fds[i] = regions[i].fd;
	}
	req.nfds = n;
	return fe_call(fe, &req, &reply);
}

static int send_one_region(struct vhu_frontend *fe, uint32_t code,
			   const struct vhu_region *region, bool fd)
{
	struct vhu_msg req, reply;
	int err = check_region(fe, code, region, 0, fd);

	if (err)
		return err;
	msg_init(&req, code, sizeof(struct vhu_single_mem_region));
	fill_region(&req.payload.mem_reg.region, region);
	if (fd)
		req.fds[req.nfds++] = region->fd;
	return fe_call(fe, &req, &reply);
}

int vhu_add_mem_reg(struct vhu_frontend *fe, const struct vhu_region *region)
{
	return send_one_region(fe, VHOST_USER_ADD_MEM_REG, region, true);
}

int vhu_rem_mem_reg(struct vhu_frontend *fe, const struct vhu_region *region)
{
	return send_one_region(fe, VHOST_USER_REM_MEM_REG, region, false);
}

int vhu_set_log_base(struct vhu_frontend *fe, uint64_t mmap_size,
		     uint64_t mmap_offset, int fd)
{
	uint32_t code = VHOST_USER_SET_LOG_BASE;
	struct vhu_msg req, reply;

	if (fd < 0)
		return fe_fail(fe, code, -EINVAL, "no log fd");
	if (mmap_size == 0 || wraps(mmap_offset, mmap_size))
		return fe_fail(fe, code, -EINVAL, "bad log size 0x%llx",
			       (unsigned long long)mmap_size);
	msg_init(&req, code, sizeof(struct vhu_log));
	req.payload.log.mmap_size = mmap_size;
	req.payload.log.mmap_offset = mmap_offset;
	req.fds[req.nfds++] = fd;
	return fe_call(fe, &req, &reply);
}

int vhu_set_log_fd(struct vhu_frontend *fe, int fd)
{
	struct vhu_msg req, reply;

	if (fd < 0)
		return fe_fail(fe, VHOST_USER_SET_LOG_FD, -EINVAL, "no fd");
	msg_init(&req, VHOST_USER_SET_LOG_FD, 0);
	req.fds[req.nfds++] = fd;
	return fe_call(fe, &req, &reply);
}

/* --- rings --------------------------------------------------------------- */

int vhu_set_vring_num(struct vhu_frontend *fe, unsigned int index,
		      unsigned int num)
{
	if (num == 0 || num > VHU_MAX_VRING_SIZE)
		return fe_fail(fe, VHOST_USER_SET_VRING_NUM, -EINVAL,
			       "ring size %u, expected 1..%u", num,
			       VHU_MAX_VRING_SIZE);
	return send_state(fe, VHOST_USER_SET_VRING_NUM, index, num);
}

static int check_vring_addr(struct vhu_frontend *fe,
			    const struct vhu_vring_addr *a)
{
	uint32_t code = VHOST_USER_SET_VRING_ADDR;
	uint32_t log = 1u << VHOST_VRING_F_LOG;
	int err = check_index(fe, code, a->index);

	if (err)
		return err;
	if (a->flags & ~log)
		return fe_fail(fe, code, -EINVAL, "unknown flags 0x%x",
			       a->flags);
	if ((a->flags & log) &&
	    !(fe->acked_features & (1ull << VHOST_F_LOG_ALL)))
		return fe_fail(fe, code, -ENOTSUP,
			       "log flag without VHOST_F_LOG_ALL acked");
	/* The alignments virtio requires of every ring layout. */
	if (a->desc_user_addr % 16 || a->avail_user_addr % 2 ||
	    a->used_user_addr % 4)
		return fe_fail(fe, code, -EINVAL,
			       "misaligned ring (desc 0x%llx avail 0x%llx "
			       "used 0x%llx)",
			       (unsigned long long)a->desc_user_addr,
			       (unsigned long long)a->avail_user_addr,
			       (unsigned long long)a->used_user_addr);
	return 0;
}

int vhu_set_vring_addr(struct vhu_frontend *fe,
		       const struct vhu_vring_addr *addr)
{
	struct vhu_msg req, reply;
	int err = check_vring_addr(fe, addr);

	if (err)
		return err;
	msg_init(&req, VHOST_USER_SET_VRING_ADDR, sizeof(*addr));
	req.payload.addr = *addr;
	return fe_call(fe, &req, &reply);
}

static bool packed(const struct vhu_frontend *fe)
{
	return fe->acked_features & (1ull << VHU_F_RING_PACKED);
}

int vhu_set_vring_base(struct vhu_frontend *fe, unsigned int index,
		       uint32_t base)
{
	if (!packed(fe) && base > 0xffff)
		return fe_fail(fe, VHOST_USER_SET_VRING_BASE, -EINVAL,
			       "base 0x%x does not fit a split ring", base);
	return send_state(fe, VHOST_USER_SET_VRING_BASE, index, base);
}

int vhu_get_vring_base(struct vhu_frontend *fe, unsigned int index,
		       uint32_t *base)
{
	uint32_t code = VHOST_USER_GET_VRING_BASE;
	struct vhu_msg req, reply;
	int err = check_index(fe, code, index);

	if (err)
		return err;
	msg_init(&req, code, sizeof(struct vhu_vring_state));
	req.payload.state.index = index;
	err = fe_call(fe, &req, &reply);
	if (err)
		return err;
	if (reply.payload.state.index != index)
		return fe_fail(fe, code, -EPROTO,
			       "reply is for queue %u, expected %u",
			       reply.payload.state.index, index);
	if (!packed(fe) && reply.payload.state.num > 0xffff)
		return fe_fail(fe, code, -EPROTO,
			       "base 0x%x does not fit a split ring",
			       reply.payload.state.num);
	*base = reply.payload.state.num;
	return 0;
}

static int send_vring_fd(struct vhu_frontend *fe, uint32_t code,
			 unsigned int index, int fd)
{
	struct vhu_msg req, reply;
	int err = check_index(fe, code, index);

	if (err)
		return err;
	msg_init(&req, code, sizeof(uint64_t));
	req.payload.u64 = index;
	if (fd < 0)
		req.payload.u64 |= VHOST_USER_VRING_NOFD_MASK;
	else
		req.fds[req.nfds++] = fd;
	return fe_call(fe, &req, &reply);
}

int vhu_set_vring_kick(struct vhu_frontend *fe, unsigned int index, int fd)
{
	return send_vring_fd(fe, VHOST_USER_SET_VRING_KICK, index, fd);
}

int vhu_set_vring_call(struct vhu_frontend *fe, unsigned int index, int fd)
{
	return send_vring_fd(fe, VHOST_USER_SET_VRING_CALL, index, fd);
}

int vhu_set_vring_err(struct vhu_frontend *fe, unsigned int index, int fd)
{
	return send_vring_fd(fe, VHOST_USER_SET_VRING_ERR, index, fd);
}

int vhu_set_vring_enable(struct vhu_frontend *fe, unsigned int index,
			 bool enable)
{
	uint32_t code = VHOST_USER_SET_VRING_ENABLE;
	uint64_t barrier;
	int err = check_needs(fe, code);

	if (!err)
		err = send_state(fe, code, index, enable);
	if (err || vhu_has_protocol_feature(fe, P(REPLY_ACK)))
		return err;
	/* Without an ack, a reply to anything proves the enable was read
	 * before the caller goes on to kick the ring. */
	return get_u64(fe, VHOST_USER_GET_FEATURES, &barrier);
}

/* --- config, backend channel, inflight, device state --------------------- */

static int check_config(struct vhu_frontend *fe, uint32_t code, uint32_t offset,
			uint32_t size, uint32_t flags)
{
	if (size == 0 || size > VHOST_USER_CONFIG_SPACE_MAX ||
	    offset > VHOST_USER_CONFIG_SPACE_MAX - size)
		return fe_fail(fe, code, -EINVAL,
			       "offset %u size %u outside the %u-byte config "
			       "space",
			       offset, size, VHOST_USER_CONFIG_SPACE_MAX);
	if (flags > VHOST_USER_CONFIG_FLAG_MIGRATION)
		return fe_fail(fe, code, -EINVAL, "config flags 0x%x", flags);
	return 0;
}

static int check_config_echo(struct vhu_frontend *fe,
			     const struct vhu_config *req,
			     const struct vhu_config *reply)
{
	uint32_t code = VHOST_USER_GET_CONFIG;

	if (reply->size == 0)
		return fe_fail(fe, code, -EIO, "backend failed (size 0)");
	if (reply->offset != req->offset || reply->size != req->size ||
	    reply->flags != req->flags)
		return fe_fail(fe, code, -EPROTO,
			       "reply offset %u size %u flags %u, expected "
			       "%u %u %u",
			       reply->offset, reply->size, reply->flags,
			       req->offset, req->size, req->flags);
	return 0;
}

int vhu_get_config(struct vhu_frontend *fe, uint32_t offset, uint32_t size,
		   uint32_t flags, void *buf)
{
	uint32_t code = VHOST_USER_GET_CONFIG;
	struct vhu_msg req, reply;
	int err = check_config(fe, code, offset, size, flags);

	if (err)
		return err;
	msg_init(&req, code, VHU_CONFIG_HDR_SIZE + size);
	req.payload.config.offset = offset;
	req.payload.config.size = size;
	req.payload.config.flags = flags;
	err = fe_call(fe, &req, &reply);
	if (!err)
		err = check_config_echo(fe, &req.payload.config,
					&reply.payload.config);
	if (!err)
		memcpy(buf, reply.payload.config.region, size);
	return err;
}

int vhu_set_config(struct vhu_frontend *fe, uint32_t offset, uint32_t flags,
		   const void *buf, uint32_t size)
{
	uint32_t code = VHOST_USER_SET_CONFIG;
	struct vhu_msg req, reply;
	int err = check_config(fe, code, offset, size, flags);

	if (err)
		return err;
	msg_init(&req, code, VHU_CONFIG_HDR_SIZE + size);
	req.payload.config.offset = offset;
	req.payload.config.size = size;
	req.payload.config.flags = flags;
	memcpy(req.payload.config.region, buf, size);
	return fe_call(fe, &req, &reply);
}

int vhu_set_backend_req_fd(struct vhu_frontend *fe, int fd)
{
	struct vhu_msg req, reply;

	if (fd < 0)
		return fe_fail(fe, VHOST_USER_SET_BACKEND_REQ_FD, -EINVAL,
			       "no fd");
	msg_init(&req, VHOST_USER_SET_BACKEND_REQ_FD, 0);
	req.fds[req.nfds++] = fd;
	return fe_call(fe, &req, &reply);
}

/* The region must really be there to map: a regular (memfd, tmpfs,
 * hugetlbfs) file at least as long as the reply says. */
static int check_inflight_reply(struct vhu_frontend *fe,
				const struct vhu_inflight *in, int fd)
{
	uint32_t code = VHOST_USER_GET_INFLIGHT_FD;
	struct stat st;

	if (in->mmap_size == 0)
		return fe_fail(fe, code, -EPROTO, "mmap_size 0");
	if (wraps(in->mmap_offset, in->mmap_size))
		return fe_fail(fe, code, -EPROTO, "region wraps around");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return fe_fail(fe, code, -EPROTO, "fd is not a memory file");
	if ((uint64_t)st.st_size < in->mmap_offset + in->mmap_size)
		return fe_fail(fe, code, -EPROTO,
			       "fd is %lld bytes, reply says offset 0x%llx + "
			       "size 0x%llx",
			       (long long)st.st_size,
			       (unsigned long long)in->mmap_offset,
			       (unsigned long long)in->mmap_size);
	return 0;
}

int vhu_get_inflight_fd(struct vhu_frontend *fe, uint16_t num_queues,
			uint16_t queue_size, struct vhu_inflight *out, int *fd)
{
	uint32_t code = VHOST_USER_GET_INFLIGHT_FD;
	struct vhu_msg req, reply;
	int err;

	if (num_queues == 0 || queue_size == 0)
		return fe_fail(fe, code, -EINVAL, "%u queues of size %u",
			       num_queues, queue_size);
	msg_init(&req, code, sizeof(struct vhu_inflight));
	req.payload.inflight.num_queues = num_queues;
	req.payload.inflight.queue_size = queue_size;
	err = fe_call(fe, &req, &reply);
	if (err)
		return err;
	err = check_inflight_reply(fe, &reply.payload.inflight, reply.fds[0]);
	if (err) {
		vhu_msg_close_fds(&reply);
		return err;
	}
	*out = reply.payload.inflight;
	*fd = reply.fds[0];
	return 0;
}

int vhu_set_inflight_fd(struct vhu_frontend *fe,
			const struct vhu_inflight *inflight, int fd)
{
	uint32_t code = VHOST_USER_SET_INFLIGHT_FD;
	struct vhu_msg req, reply;

	if (inflight->mmap_size == 0 || inflight->num_queues == 0 ||
	    inflight->queue_size == 0 || fd < 0)
		return fe_fail(fe, code, -EINVAL,
			       "size 0x%llx, %u queues of size %u, fd %d",
			       (unsigned long long)inflight->mmap_size,
			       inflight->num_queues, inflight->queue_size, fd);
	msg_init(&req, code, sizeof(struct vhu_inflight));
	req.payload.inflight = *inflight;
	req.payload.inflight.padding = 0;
	req.fds[req.nfds++] = fd;
	return fe_call(fe, &req, &reply);
}

static int check_state_fd_reply(struct vhu_frontend *fe,
				const struct vhu_msg *reply)
{
	uint32_t code = VHOST_USER_SET_DEVICE_STATE_FD;
	uint64_t v = reply->payload.u64;
	bool nofd = v & VHOST_USER_DEVICE_STATE_NOFD_MASK;

	if (v & ~(VHOST_USER_DEVICE_STATE_ERROR_MASK |
		  VHOST_USER_DEVICE_STATE_NOFD_MASK))
		return fe_fail(fe, code, -EPROTO,
			       "reply 0x%llx has unknown "
			       "bits",
			       (unsigned long long)v);
	if (v & VHOST_USER_DEVICE_STATE_ERROR_MASK)
		return fe_fail(fe, code, -EIO, "backend failed (error %llu)",
			       (unsigned long long)(v & 0xff));
	if (nofd != (reply->nfds == 0))
		return fe_fail(fe, code, -EPROTO,
			       "reply has %u fds but the no-fd bit is %s",
			       reply->nfds, nofd ? "set" : "clear");
	return 0;
}

int vhu_set_device_state_fd(struct vhu_frontend *fe, uint32_t direction,
			    uint32_t phase, int fd, int *backend_fd)
{
	uint32_t code = VHOST_USER_SET_DEVICE_STATE_FD;
	struct vhu_msg req, reply;
	int err;

	if (direction > VHOST_USER_TRANSFER_STATE_DIRECTION_LOAD ||
	    phase != VHOST_USER_TRANSFER_STATE_PHASE_STOPPED || fd < 0)
		return fe_fail(fe, code, -EINVAL,
			       "direction %u, phase %u, fd %d", direction,
			       phase, fd);
	msg_init(&req, code, sizeof(struct vhu_device_state));
	req.payload.device_state.direction = direction;
	req.payload.device_state.phase = phase;
	req.fds[req.nfds++] = fd;
	err = fe_call(fe, &req, &reply);
	if (!err)
		err = check_state_fd_reply(fe, &reply);
	if (err) {
		vhu_msg_close_fds(&reply);
		return err;
	}
	*backend_fd = reply.nfds ? reply.fds[0] : -1;
	return 0;
}

int vhu_check_device_state(struct vhu_frontend *fe)
{
	uint32_t code = VHOST_USER_CHECK_DEVICE_STATE;
	uint64_t result;
	int err = get_u64(fe, code, &result);

	if (!err && result)
		return fe_fail(fe, code, -EIO, "backend failed (result 0x%llx)",
			       (unsigned long long)result);
	return err;
}

/* --- handshake helper ---------------------------------------------------- */

/* Drops wanted features whose dependency is not wanted too. */
static uint64_t protocol_closure(uint64_t features)
{
	for (size_t i = 0; i < sizeof(protocol_deps) / sizeof(protocol_deps[0]);
	     i++)
		if (!(features & (1ull << protocol_deps[i].needs)))
			features &= ~(1ull << protocol_deps[i].bit);
	return features;
}

int vhu_negotiate(struct vhu_frontend *fe, uint64_t want_protocol)
{
	uint64_t features, offered, value;
	int err;

	err = vhu_set_owner(fe);
	if (!err)
		err = vhu_get_features(fe, &features);
	if (err || !(features & F_PROTOCOL))
		return err;
	err = vhu_get_protocol_features(fe, &offered);
	if (!err)
		err = vhu_set_protocol_features(
			fe, protocol_closure(want_protocol & offered &
					     KNOWN_PROTOCOL));
	if (!err && vhu_has_protocol_feature(fe, P(MQ)))
		err = vhu_get_queue_num(fe, &value);
	if (!err && vhu_has_protocol_feature(fe, P(CONFIGURE_MEM_SLOTS)))
		err = vhu_get_max_mem_slots(fe, &value);
	return err;
}
