// SPDX-License-Identifier: MIT
/*
 * --device TYPE,socket=PATH[,k=v...]: the type table that gives each known
 * TYPE its device ID, queue count and config size, one parser per option,
 * and vudev_parse() that cuts the text and fills struct vudev_config.
 */
#include "vmm/vudev_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhost/frontend.h"
#include "vmm/vdev.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_fs.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_ring.h"

struct vudev_type {
	const char *name;
	uint32_t device_id;
	unsigned int queues;
	uint32_t config_size; /* what the backend is asked for */
};

/* Config sizes stop before fields that backends in the wild (QEMU 7.2)
 * do not have yet, since GET_CONFIG beyond a backend's size fails. */
static const struct vudev_type vudev_types[] = {
	{ "net", VIRTIO_ID_NET, 2, 12 },
	{ "blk", VIRTIO_ID_BLOCK, 1, 60 },
	{ "console", VIRTIO_ID_CONSOLE, 2, 12 },
	{ "rng", VIRTIO_ID_RNG, 1, 0 },
	{ "vsock", VIRTIO_ID_VSOCK, 3, 8 },
	{ "fs", VIRTIO_ID_FS, 2, 40 },
};

static int type_lookup(const char *name, struct vudev_config *cfg)
{
	char *end;
	unsigned long id;

	for (size_t i = 0; i < sizeof(vudev_types) / sizeof(vudev_types[0]);
	     i++) {
		const struct vudev_type *t = &vudev_types[i];

		if (strcmp(name, t->name) == 0) {
			cfg->device_id = t->device_id;
			cfg->queues = t->queues;
			cfg->config_size = t->config_size;
			return 0;
		}
	}
	errno = 0;
	id = strtoul(name, &end, 0);
	if (errno || end == name || *end || id == 0 || id > 0xffff)
		return -EINVAL;
	cfg->device_id = (uint32_t)id;
	cfg->queues = 1;
	cfg->config_size = 0;
	return 0;
}

static int parse_uint(const char *val, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(val, &end, 0);
	return (errno || end == val || *end || *out > max || val[0] == '-')
		       ? -EINVAL
		       : 0;
}

/* Seconds (fractions allowed) in [@min, 3600] to milliseconds. */
static int parse_seconds(const char *val, double min, int *ms)
{
	char *end;
	double s = strtod(val, &end);

	if (end == val || *end || !(s >= min && s <= 3600))
		return -EINVAL;
	*ms = (int)(s * 1000);
	return 0;
}

/* Feature knobs: "on" leaves the backend's offer as it is, "off" hides
 * the feature from the driver. */
static const struct {
	const char *name;
	unsigned int bit;
} vudev_feature_knobs[] = {
	{ "ring-packed", VIRTIO_F_RING_PACKED },
	{ "in-order", VIRTIO_F_IN_ORDER },
};

static int parse_feature_knob(const char *opt, const char *val,
			      struct vudev_config *cfg, const char **why)
{
	for (size_t i = 0;
	     i < sizeof(vudev_feature_knobs) / sizeof(vudev_feature_knobs[0]);
	     i++) {
		uint64_t bit = VIRTIO_BIT(vudev_feature_knobs[i].bit);

		if (strcmp(opt, vudev_feature_knobs[i].name))
			continue;
		*why = "ring-packed and in-order must be on or off";
		if (strcmp(val, "on") == 0)
			cfg->features_off &= ~bit;
		else if (strcmp(val, "off") == 0)
			cfg->features_off |= bit;
		else
			return -EINVAL;
		return 0;
	}
	return 1;
}

static int parse_option(char *opt, struct vudev_config *cfg, const char **why)
{
	int err;

	char *val = strchr(opt, '=');
	unsigned long n;

	if (!val) {
		*why = "options are key=value";
		return -EINVAL;
	}
	*val++ = '\0';
	if (strcmp(opt, "socket") == 0 && *val) {
		cfg->socket = val;
		return 0;
	}
	if (strcmp(opt, "tag") == 0) {
		*why = "tag must be 1..36 bytes";
		if (!*val || strlen(val) > VIRTIO_FS_TAG_SIZE)
			return -EINVAL;
		cfg->tag = val;
		return 0;
	}
	if (strcmp(opt, "queues") == 0) {
		*why = "queues must be 1..64";
		if (parse_uint(val, VDEV_MAX_QUEUES, &n) || !n)
			return -EINVAL;
		cfg->queues = (unsigned int)n;
		return 0;
	}
	if (strcmp(opt, "queue-size") == 0) {
		*why = "queue-size must be a power of two, 1..32768";
		if (parse_uint(val, 32768, &n) || !virtq_size_valid(n))
			return -EINVAL;
		cfg->queue_size = (unsigned int)n;
		return 0;
	}
	if (strcmp(opt, "config-size") == 0) {
		*why = "config-size must be 0..256";
		if (parse_uint(val, 256, &n))
			return -EINVAL;
		cfg->config_size = (uint32_t)n;
		return 0;
	}
	if (strcmp(opt, "connect-timeout") == 0) {
		*why = "connect-timeout must be 0..3600 seconds";
		return parse_seconds(val, 0, &cfg->connect_timeout_ms);
	}
	if (strcmp(opt, "reply-timeout") == 0) {
		*why = "reply-timeout must be 0.01..3600 seconds";
		return parse_seconds(val, 0.01, &cfg->reply_timeout_ms);
	}
	if (strcmp(opt, "reconnect") == 0) {
		*why = "reconnect must be 0..3600 seconds";
		return parse_seconds(val, 0, &cfg->reconnect_ms);
	}
	err = parse_feature_knob(opt, val, cfg, why);
	if (err <= 0)
		return err;
	*why = "unknown option (known: socket, queues, queue-size, "
	       "config-size, connect-timeout, reply-timeout, reconnect, "
	       "ring-packed, in-order, tag)";
	return -EINVAL;
}

int vudev_parse(const char *arg, struct vudev_config *cfg, const char **why)
{
	char *save = NULL, *tok;

	memset(cfg, 0, sizeof(*cfg));
	cfg->queue_size = VUDEV_DEFAULT_QUEUE_SIZE;
	cfg->connect_timeout_ms = VUDEV_CONNECT_TIMEOUT_MS;
	cfg->reply_timeout_ms = VHU_DEFAULT_TIMEOUT_MS;
	cfg->reconnect_ms = -1;
	if (strlen(arg) >= sizeof(cfg->spec)) {
		*why = "too long";
		return -EINVAL;
	}
	strcpy(cfg->spec, arg);
	tok = strtok_r(cfg->spec, ",", &save);
	if (!tok || strlen(tok) >= sizeof(cfg->type) || type_lookup(tok, cfg)) {
		*why = "TYPE must be net, blk, console, rng, vsock, fs or a "
		       "virtio device ID";
		return -EINVAL;
	}
	snprintf(cfg->type, sizeof(cfg->type), "%s", tok);
	while ((tok = strtok_r(NULL, ",", &save)))
		if (parse_option(tok, cfg, why))
			return -EINVAL;
	if (!cfg->socket) {
		*why = "socket=PATH is required";
		return -EINVAL;
	}
	if (cfg->tag && cfg->device_id != VIRTIO_ID_FS) {
		*why = "tag= is for fs devices only";
		return -EINVAL;
	}
	return 0;
}