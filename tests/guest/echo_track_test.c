// SPDX-License-Identifier: MIT
/*
 * net-echo's frame bookkeeping (guest/workloads/echo_track.h) on the host,
 * with a fake clock: frames that never come back are lost after the
 * bound, not before; one that comes back late counts as late (echoed),
 * never as another frame; duplicates and numbers never sent are told
 * apart; the window of open frames never exceeds ECHO_TRACK_WINDOW; and
 * the totals add up (sent = echoed + missing) over a long lossy run.
 */
#include <stdint.h>
#include <string.h>

#include "guest/workloads/echo_track.h"
#include "tests/check.h"

#define MS   1000000ull
#define LOSS (100 * MS)
#define LONG 200000

static uint8_t seen[LONG];

static void test_basic(void)
{
	struct echo_track t;

	memset(seen, 0, sizeof(seen));
	echo_track_init(&t, seen, LOSS);
	for (int i = 0; i < 4; i++)
		echo_track_sent(&t, 1000 * MS + i);
	CHECK_EQ(echo_track_echo(&t, 4), ECHO_UNSENT);
	CHECK_EQ(echo_track_echo(&t, 1), ECHO_NEW);
	CHECK_EQ(echo_track_echo(&t, 1), ECHO_DUP);
	CHECK_EQ(echo_track_echo(&t, 3), ECHO_NEW);
	/* Frame 0 is open: resolve stops there until the bound passes. */
	echo_track_resolve(&t, 1000 * MS + LOSS - 1);
	CHECK_EQ(t.resolved, 0);
	CHECK_EQ(t.lost, 0);
	echo_track_resolve(&t, 1000 * MS + LOSS);
	CHECK_EQ(t.resolved, 2); /* 0 lost, 1 echoed; 2 still in time */
	CHECK_EQ(t.lost, 1);
	echo_track_resolve(&t, 1000 * MS + LOSS + 2);
	CHECK_EQ(t.resolved, 4); /* 2 lost, 3 echoed */
	CHECK_EQ(t.lost, 2);
	/* Frame 2 arrives after all: late, and echoed; not a duplicate. */
	CHECK_EQ(echo_track_echo(&t, 2), ECHO_LATE);
	CHECK_EQ(echo_track_echo(&t, 2), ECHO_DUP);
	CHECK_EQ(t.echoed, 3);
	CHECK_EQ(t.late, 1);
	CHECK_EQ(t.dup, 2);
	CHECK_EQ(echo_track_missing(&t), 1); /* frame 0 */
}

/* A long run through a peer that drops, delays and repeats frames; the
 * sender keeps at most a window open as net-echo does. */
static void test_lossy_run(void)
{
	struct echo_track t;
	uint32_t rng = 0x9e3779b9, pending[512], npend = 0;
	uint32_t dropped = 0, delayed = 0, dups = 0;
	uint64_t now = 5 * MS, due[512];

	memset(seen, 0, sizeof(seen));
	echo_track_init(&t, seen, LOSS);
	while (t.resolved < LONG) {
		while (t.sent < LONG &&
		       t.sent - t.resolved < ECHO_TRACK_WINDOW && npend < 512) {
			uint32_t r = rng = rng * 1103515245u + 12345u;

			echo_track_sent(&t, now);
			if (r % 100 < 3) {
				dropped++;
				continue;
			}
			pending[npend] = t.sent - 1;
			/* Some come back well after the bound. */
			due[npend++] = now + (r % 1000 < 5 ? 2 * LOSS : MS);
			delayed += r % 1000 < 5;
		}
		now += MS / 4;
		for (uint32_t i = 0; i < npend;) {
			if (due[i] > now) {
				i++;
				continue;
			}
			CHECK(echo_track_echo(&t, pending[i]) != ECHO_UNSENT);
			if (pending[i] % 997 == 0) {
				CHECK_EQ(echo_track_echo(&t, pending[i]),
					 ECHO_DUP);
				dups++;
			}
			pending[i] = pending[--npend];
			due[i] = due[npend];
		}
		echo_track_resolve(&t, now);
		CHECK(t.sent - t.resolved <= ECHO_TRACK_WINDOW);
	}
	now += 3 * LOSS; /* let the stragglers in */
	for (uint32_t i = 0; i < npend; i++)
		CHECK_EQ(echo_track_echo(&t, pending[i]), ECHO_LATE);
	CHECK_EQ(t.sent, LONG);
	CHECK_EQ(echo_track_missing(&t), dropped);
	CHECK_EQ(t.echoed + dropped, LONG);
	CHECK_EQ(t.dup, dups);
	CHECK(t.late >= npend && t.late <= delayed);
	CHECK_EQ(t.lost, dropped + t.late);
	printf("  %u sent, %u dropped, %u late, %u duplicated\n", t.sent,
	       dropped, t.late, t.dup);
}

static const struct check_case cases[] = {
	{ "basic", test_basic },
	{ "lossy_run", test_lossy_run },
};

int main(int argc, char **argv)
{
	return CHECK_RUN(cases, argc, argv);
}
