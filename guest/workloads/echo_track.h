/* SPDX-License-Identifier: MIT */
/*
 * net-echo's bookkeeping of which frames came back, by sequence number:
 * echoed, duplicated, never sent, and (lossy=1) lost when not back within
 * a bound, or late when one counted lost comes back after all. A late
 * frame is recognised by its own sequence number, so it is never taken
 * for another. Portable C (header only): tests/guest/echo_track_test runs
 * it on the host with a fake clock.
 *
 * echo_track_init: @seen is one zeroed byte per sequence number (the
 *   run's frame count); frames not back within @loss_ns are lost.
 * echo_track_sent: frame number t->sent leaves at @now_ns.
 * echo_track_echo: frame @seq came back: ECHO_NEW (first time, in time),
 *   ECHO_LATE (first time, after it was counted lost), ECHO_DUP (again),
 *   ECHO_UNSENT (a number never sent). Only ECHO_UNSENT is an error.
 * echo_track_resolve: counts as lost every frame, oldest first, still
 *   not back @loss_ns after it left; moves t->resolved past the frames
 *   echoed or lost. Stops at the first one still in time, so at most
 *   ECHO_TRACK_WINDOW frames may be open (sent - resolved) at once.
 * echo_track_missing: frames sent and never echoed (lost, or still open).
 */
#ifndef VUVM_GUEST_WORKLOADS_ECHO_TRACK_H
#define VUVM_GUEST_WORKLOADS_ECHO_TRACK_H

#include <stdint.h>

#define ECHO_TRACK_WINDOW 32
#define ECHO_SEEN_ECHO	  1
#define ECHO_SEEN_LOST	  2

enum echo_result { ECHO_NEW, ECHO_LATE, ECHO_DUP, ECHO_UNSENT };

struct echo_track {
	uint8_t *seen; /* ECHO_SEEN_* bits per sequence number */
	uint64_t loss_ns;
	uint32_t sent, resolved;
	uint32_t echoed, lost, late, dup;
	uint64_t sent_ns[ECHO_TRACK_WINDOW]; /* by sequence modulo window */
};

static inline void echo_track_init(struct echo_track *t, uint8_t *seen,
				   uint64_t loss_ns)
{
	*t = (struct echo_track){ .seen = seen, .loss_ns = loss_ns };
}

static inline void echo_track_sent(struct echo_track *t, uint64_t now_ns)
{
	t->sent_ns[t->sent % ECHO_TRACK_WINDOW] = now_ns;
	t->sent++;
}

static inline enum echo_result echo_track_echo(struct echo_track *t,
					       uint32_t seq)
{
	if (seq >= t->sent)
		return ECHO_UNSENT;
	if (t->seen[seq] & ECHO_SEEN_ECHO) {
		t->dup++;
		return ECHO_DUP;
	}
	t->seen[seq] |= ECHO_SEEN_ECHO;
	t->echoed++;
	if (!(t->seen[seq] & ECHO_SEEN_LOST))
		return ECHO_NEW;
	t->late++;
	return ECHO_LATE;
}

static inline void echo_track_resolve(struct echo_track *t, uint64_t now_ns)
{
	while (t->resolved < t->sent) {
		uint32_t s = t->resolved;

		if (!(t->seen[s] & ECHO_SEEN_ECHO)) {
			if (now_ns - t->sent_ns[s % ECHO_TRACK_WINDOW] <
			    t->loss_ns)
				break;
			t->seen[s] |= ECHO_SEEN_LOST;
			t->lost++;
		}
		t->resolved++;
	}
}

static inline uint32_t echo_track_missing(const struct echo_track *t)
{
	return t->sent - t->echoed;
}

#endif
