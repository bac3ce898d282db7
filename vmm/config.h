/* SPDX-License-Identifier: MIT */
/*
 * What the command line asks for: one struct that cli.c fills and
 * machine.c reads. New options (devices, tracing) add fields here and a
 * row to cli.c's option table.
 */
#ifndef VUVM_VMM_CONFIG_H
#define VUVM_VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost/log.h"
#include "vmm/vudev_config.h"

#define VUVM_MAX_CPUS	 64
#define VUVM_MAX_DEVICES 8

/* vuvm's own exit statuses; see docs/guest.md. */
enum vuvm_exit {
	VUVM_EXIT_USAGE = 120,
	VUVM_EXIT_SETUP = 121,
	VUVM_EXIT_CRASH = 122,
	VUVM_EXIT_BAD_ACCESS = 123,
	VUVM_EXIT_WATCHDOG = 124,
	VUVM_EXIT_BACKEND = 125,
	VUVM_EXIT_SECCOMP = 126, /* a forbidden system call (seccomp.c) */
};

/* --seccomp (seccomp.c). */
enum sandbox_mode {
	SANDBOX_ON,  /* default: a forbidden call stops vuvm */
	SANDBOX_LOG, /* the kernel logs it (audit, dmesg) and allows it */
	SANDBOX_OFF, /* no filter */
};

struct vuvm_config {
	const char *kernel; /* NULL: the built-in tiny guest */
	uint64_t mem_size;
	unsigned int mem_regions; /* --mem-regions: memfds below the hole */
	unsigned int cpus;
	const char *test; /* "NAME[,k=v...]", NULL: guest's default */
	const char *cmdline;
	double timeout; /* seconds; 0: none */
	enum log_level log_level;
	bool json;
	bool hugepages;
	bool trace_vhost;	   /* --trace vhost */
	const char *control;	   /* --control PATH, NULL: no control socket */
	enum sandbox_mode seccomp; /* --seccomp, default on */
	bool check_port; /* --check-port (vhost_user_dev.h, vudev_step) */
	unsigned int nr_devices;
	struct vudev_config devices[VUVM_MAX_DEVICES];
};

#endif
