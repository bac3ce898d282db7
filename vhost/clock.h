/* SPDX-License-Identifier: MIT */
/*
 * Milliseconds on the monotonic clock: what every bounded wait in vhost/
 * and vmm/ measures its deadline with.
 */
#ifndef VUVM_VHOST_CLOCK_H
#define VUVM_VHOST_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
