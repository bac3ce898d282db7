/* SPDX-License-Identifier: MIT */
/*
 * What one --device asks for, and the parser of its text (cli.c calls it).
 *
 *	--device TYPE,socket=PATH[,queues=N][,queue-size=N][,config-size=N]
 *		 [,connect-timeout=SEC][,reply-timeout=SEC][,reconnect=SEC]
 *		 [,ring-packed=on|off][,in-order=on|off]
 *
 * TYPE names a virtio device type (net, blk, console, rng, vsock, fs),
 * which gives the device ID, the default queue count and the config space
 * size, or is a virtio device ID. docs/devices.md describes every option.
 */
#ifndef VUVM_VMM_VUDEV_CONFIG_H
#define VUVM_VMM_VUDEV_CONFIG_H

#include <stdint.h>

#define VUDEV_DEFAULT_QUEUE_SIZE 256
#define VUDEV_CONNECT_TIMEOUT_MS 5000

struct vudev_config {
	char type[16]; /* as given: "blk", "net", ..., or a number */
	uint32_t device_id;
	const char *socket;  /* points into spec */
	const char *tag;     /* fs: tag=, points into spec; NULL: the name */
	char spec[256];	     /* a copy of the argument, cut into tokens */
	unsigned int queues; /* 0: the backend's GET_QUEUE_NUM, else default */
	unsigned int queue_size;
	uint32_t config_size;
	int connect_timeout_ms; /* how long to retry connecting */
	int reply_timeout_ms;	/* bound on every wait for a reply */
	int reconnect_ms; /* -1: a lost backend stops vuvm; else how long to
			     try reconnecting before the device fails */
	uint64_t features_off; /* feature bits hidden from the driver */
};

/*
 * Parses the text after "--device ": TYPE then comma-separated k=v options.
 * Returns 0, or -EINVAL with @why naming the problem.
 */
int vudev_parse(const char *arg, struct vudev_config *cfg, const char **why);

#endif
