// SPDX-License-Identifier: MIT
/*
 * The stop request (vmm/stop.h): the first status wins, a waiter wakes
 * when another thread asks, and a bounded wait times out.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "tests/vmm/check.h"
#include "vhost/clock.h"
#include "vmm/stop.h"

static void *ask_later(void *opaque)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	vm_stop_request(opaque, 52);
	return NULL;
}

static void test_first_wins(void)
{
	struct vm_stop s;

	vm_stop_init(&s);
	CHECK(!vm_stop_requested(&s) && vm_stop_status(&s) == 0);
	vm_stop_request(&s, 0);
	CHECK(vm_stop_requested(&s) && vm_stop_status(&s) == 0);
	vm_stop_request(&s, 125);
	CHECK(vm_stop_status(&s) == 0);
	/* already asked: no wait, even without a limit */
	CHECK(vm_stop_wait(&s, 0) == 0);
	vm_stop_destroy(&s);
}

static void test_wait(void)
{
	struct vm_stop s;
	pthread_t t;
	long long start;

	vm_stop_init(&s);
	start = now_ms();
	CHECK(vm_stop_wait(&s, 0.1) == -ETIMEDOUT);
	CHECK(now_ms() - start >= 90);
	CHECK(!vm_stop_requested(&s));

	CHECK(pthread_create(&t, NULL, ask_later, &s) == 0);
	start = now_ms();
	CHECK(vm_stop_wait(&s, 10) == 0);
	CHECK(now_ms() - start < 5000);
	CHECK(vm_stop_status(&s) == 52);
	pthread_join(t, NULL);
	vm_stop_destroy(&s);

	vm_stop_init(&s);
	CHECK(pthread_create(&t, NULL, ask_later, &s) == 0);
	CHECK(vm_stop_wait(&s, 0) == 0 && vm_stop_status(&s) == 52);
	pthread_join(t, NULL);
	vm_stop_destroy(&s);
}

int main(void)
{
	test_first_wins();
	test_wait();
	return check_exit();
}
