/* SPDX-License-Identifier: MIT */
/*
 * How a run ends: any thread (a vCPU at the exit port or on a crash, the
 * device watcher, the control socket, the watchdog) asks for a stop with
 * an exit status; the first request wins and wakes whoever waits for it.
 * The modules that may end a run get a struct vm_stop instead of the
 * machine, so each can be tested alone; machine.c owns the one of a run.
 */
#ifndef VUVM_VMM_STOP_H
#define VUVM_VMM_STOP_H

#include <semaphore.h>
#include <stdbool.h>

struct vm_stop {
	sem_t stopped; /* posted once, by the first request */
	int stopping;  /* atomic: set by the first request */
	int status;    /* the first request's; read it once stopping */
};

/* Prepares @s: nothing requested yet. */
void vm_stop_init(struct vm_stop *s);

/*
 * Asks for the run to end with exit status @status. The first call wins;
 * later calls are ignored. Safe from any thread.
 */
void vm_stop_request(struct vm_stop *s, int status);

/* Returns whether a stop was requested. Safe from any thread. */
bool vm_stop_requested(const struct vm_stop *s);

/*
 * The status of the first request (0 when none was made). Final once
 * vm_stop_wait() returned 0 or the thread that asked was joined.
 */
int vm_stop_status(const struct vm_stop *s);

/*
 * Waits for the first request, at most @timeout seconds (0: no limit).
 * Returns 0, or -ETIMEDOUT when the time ran out first.
 */
int vm_stop_wait(struct vm_stop *s, double timeout);

/* Releases @s. */
void vm_stop_destroy(struct vm_stop *s);

#endif
