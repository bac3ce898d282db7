// SPDX-License-Identifier: MIT
/*
 * The stop request: a compare-and-swap picks the first status, a
 * semaphore wakes the waiter (sem_post is async-signal-safe and needs no
 * lock, so any thread may ask from anywhere).
 */
#define _GNU_SOURCE /* sem_clockwait */
#include "vmm/stop.h"

#include <errno.h>
#include <time.h>

void vm_stop_init(struct vm_stop *s)
{
	s->stopping = 0;
	s->status = 0;
	sem_init(&s->stopped, 0, 0);
}

void vm_stop_request(struct vm_stop *s, int status)
{
	int expected = 0;

	if (!__atomic_compare_exchange_n(&s->stopping, &expected, 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	s->status = status;
	sem_post(&s->stopped);
}

bool vm_stop_requested(const struct vm_stop *s)
{
	return __atomic_load_n(&s->stopping, __ATOMIC_SEQ_CST);
}

int vm_stop_status(const struct vm_stop *s)
{
	return s->status;
}

int vm_stop_wait(struct vm_stop *s, double timeout)
{
	struct timespec deadline;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)timeout;
	deadline.tv_nsec += (long)((timeout - (double)(time_t)timeout) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	do {
		if (timeout > 0)
			ret = sem_clockwait(&s->stopped, CLOCK_MONOTONIC,
					    &deadline);
		else
			ret = sem_wait(&s->stopped);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0 && errno == ETIMEDOUT)
		return -ETIMEDOUT;
	return 0;
}

void vm_stop_destroy(struct vm_stop *s)
{
	sem_destroy(&s->stopped);
}
