/* SPDX-License-Identifier: MIT */
/*
 * What vhost_user_dev.c (connection, start, stop, reconnect) shares with
 * vhost_user_state.c (suspend, resume, device state). Every function is
 * called with d->lock held.
 */
#ifndef VUVM_VMM_VHOST_USER_INTERNAL_H
#define VUVM_VMM_VHOST_USER_INTERNAL_H

#include "vmm/vhost_user_dev.h"

/* The start sequence for queues[] from base[]; 0 or -errno (logged). */
int vudev_rings_start(struct vudev *d);

/* Stops the started rings; base[] gets GET_VRING_BASE's answers, or the
 * used indices when the backend cannot be asked. */
void vudev_rings_stop(struct vudev *d);

/* Kicks every started ring and raises its interrupt once. */
void vudev_rings_wake(struct vudev *d);

/* Queue i's (of queues[]) used and available index in guest memory. */
uint16_t vudev_used_idx(struct vudev *d, unsigned int i);
uint16_t vudev_avail_idx(struct vudev *d, unsigned int i);

#endif
