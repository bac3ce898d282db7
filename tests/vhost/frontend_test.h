/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the frontend and trace tests (CHECK and friends come from
 * tests/check.h): a socketpair "peer" that plays the
 * backend by hand, so every byte and fd the frontend sends can be checked
 * and every reply, good or bad, can be scripted. Replies are queued on the
 * socket before the request is made, so the tests need no threads.
 */
#ifndef VUVM_TESTS_FRONTEND_TEST_H
#define VUVM_TESTS_FRONTEND_TEST_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "vhost/frontend.h"
#include "vhost/msg.h"

/* The frontend's last error sentence contains @s. */
#define CHECK_ERR(fe, s) CHECK(strstr(vhu_frontend_error(fe), (s)) != NULL)

/* check_run() with the frontend's own error log quiet (it would print
 * every failure the tests provoke on purpose), unless argv[2] is given. */
int run_tests(const struct check_case *cases, size_t n, int argc, char **argv);
#define RUN_TESTS(cases, argc, argv) \
	run_tests(cases, sizeof(cases) / sizeof(cases[0]), argc, argv)

struct tpair {
	struct vhu_frontend fe;
	int peer;
};

/* A connected frontend and its peer; reply timeout 1 s. */
void tp_open(struct tpair *tp);
void tp_close(struct tpair *tp);
/* Pretends the handshake happened: offered = acked = the given sets. */
void tp_negotiated(struct tpair *tp, uint64_t features, uint64_t protocol);

/* Receives one message on the peer and checks its header. */
void peer_expect(int peer, uint32_t req, uint32_t flags, uint32_t size,
		 struct vhu_msg *out);
/* Sends raw header fields, a payload and fds. */
void peer_send(int peer, uint32_t req, uint32_t flags, const void *payload,
	       uint32_t size, const int *fds, unsigned int nfds);
/* A well-formed reply carrying a u64. */
void peer_reply_u64(int peer, uint32_t req, uint64_t value);
/* Nothing is waiting to be read on @peer. */
bool peer_idle(int peer);
/* Reads and discards everything pending (closing received fds). */
void peer_drain(int peer);

bool same_file(int a, int b);
int make_memfd(size_t size);
int make_eventfd(void);

#define PF(name)   (1ull << VHOST_USER_PROTOCOL_F_##name)
#define F_PROTOCOL (1ull << VHOST_USER_F_PROTOCOL_FEATURES)
#define REPLY	   (VHOST_USER_VERSION | VHOST_USER_REPLY_MASK)
#define NEED	   (VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK)

#endif
