/* SPDX-License-Identifier: MIT */
/*
 * vuvm-probe: asks a vhost-user backend what it offers and prints it
 * decoded: virtio features, protocol features, queue count, memory slots
 * and the device's config space, as "key: value" lines or one JSON object.
 *
 * It uses only the installed libvuvm-vhost API, so it doubles as the
 * library's example; from outside the tree it builds as
 *
 *	cc vuvm-probe.c $(pkg-config --cflags --libs vuvm-vhost jansson)
 *
 * A backend cannot say what kind of device it is, so --type names it; that
 * picks the names of the device's feature bits and its config layout.
 * The probe sends SET_OWNER, acks only the protocol features it uses (MQ,
 * CONFIG, CONFIGURE_MEM_SLOTS) and starts nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <vhost/frontend.h>
#include <vhost/trace.h>
#include <virtio/virtio_blk.h>
#include <virtio/virtio_config.h>
#include <virtio/virtio_net.h>

#ifndef VUVM_VERSION
#define VUVM_VERSION "unknown"
#endif

#define EXIT_USAGE 2

/* The name of feature bit x, as the specification spells it. */
#define NAME(x) [x] = #x

static const char *const transport_names[64] = {
	NAME(VIRTIO_F_NOTIFY_ON_EMPTY),	  NAME(VHOST_F_LOG_ALL),
	NAME(VIRTIO_F_ANY_LAYOUT),	  NAME(VIRTIO_F_INDIRECT_DESC),
	NAME(VIRTIO_F_EVENT_IDX),	  NAME(VHOST_USER_F_PROTOCOL_FEATURES),
	NAME(VIRTIO_F_VERSION_1),	  NAME(VIRTIO_F_ACCESS_PLATFORM),
	NAME(VIRTIO_F_RING_PACKED),	  NAME(VIRTIO_F_IN_ORDER),
	NAME(VIRTIO_F_ORDER_PLATFORM),	  NAME(VIRTIO_F_SR_IOV),
	NAME(VIRTIO_F_NOTIFICATION_DATA), NAME(VIRTIO_F_NOTIF_CONFIG_DATA),
	NAME(VIRTIO_F_RING_RESET),
};

static const char *const blk_names[64] = {
	NAME(VIRTIO_BLK_F_BARRIER),	 NAME(VIRTIO_BLK_F_SIZE_MAX),
	NAME(VIRTIO_BLK_F_SEG_MAX),	 NAME(VIRTIO_BLK_F_GEOMETRY),
	NAME(VIRTIO_BLK_F_RO),		 NAME(VIRTIO_BLK_F_BLK_SIZE),
	NAME(VIRTIO_BLK_F_SCSI),	 NAME(VIRTIO_BLK_F_FLUSH),
	NAME(VIRTIO_BLK_F_TOPOLOGY),	 NAME(VIRTIO_BLK_F_CONFIG_WCE),
	NAME(VIRTIO_BLK_F_MQ),		 NAME(VIRTIO_BLK_F_DISCARD),
	NAME(VIRTIO_BLK_F_WRITE_ZEROES), NAME(VIRTIO_BLK_F_LIFETIME),
	NAME(VIRTIO_BLK_F_SECURE_ERASE), NAME(VIRTIO_BLK_F_ZONED),
};

static const char *const net_names[64] = {
	NAME(VIRTIO_NET_F_CSUM),
	NAME(VIRTIO_NET_F_GUEST_CSUM),
	NAME(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS),
	NAME(VIRTIO_NET_F_MTU),
	NAME(VIRTIO_NET_F_MAC),
	[6] = "VIRTIO_NET_F_GSO", /* legacy; DPDK still offers it */
	NAME(VIRTIO_NET_F_GUEST_TSO4),
	NAME(VIRTIO_NET_F_GUEST_TSO6),
	NAME(VIRTIO_NET_F_GUEST_ECN),
	NAME(VIRTIO_NET_F_GUEST_UFO),
	NAME(VIRTIO_NET_F_HOST_TSO4),
	NAME(VIRTIO_NET_F_HOST_TSO6),
	NAME(VIRTIO_NET_F_HOST_ECN),
	NAME(VIRTIO_NET_F_HOST_UFO),
	NAME(VIRTIO_NET_F_MRG_RXBUF),
	NAME(VIRTIO_NET_F_STATUS),
	NAME(VIRTIO_NET_F_CTRL_VQ),
	NAME(VIRTIO_NET_F_CTRL_RX),
	NAME(VIRTIO_NET_F_CTRL_VLAN),
	NAME(VIRTIO_NET_F_CTRL_RX_EXTRA),
	NAME(VIRTIO_NET_F_GUEST_ANNOUNCE),
	NAME(VIRTIO_NET_F_MQ),
	NAME(VIRTIO_NET_F_CTRL_MAC_ADDR),
	NAME(VIRTIO_NET_F_VQ_NOTF_COAL),
	NAME(VIRTIO_NET_F_NOTF_COAL),
	NAME(VIRTIO_NET_F_GUEST_USO4),
	NAME(VIRTIO_NET_F_GUEST_USO6),
	NAME(VIRTIO_NET_F_HOST_USO),
	NAME(VIRTIO_NET_F_HASH_REPORT),
	NAME(VIRTIO_NET_F_GUEST_HDRLEN),
	NAME(VIRTIO_NET_F_RSS),
	NAME(VIRTIO_NET_F_RSC_EXT),
	NAME(VIRTIO_NET_F_STANDBY),
	NAME(VIRTIO_NET_F_SPEED_DUPLEX),
};

/* One config space field, valid only when @feature (-1: always) is
 * offered; a 6-byte field is a MAC address. */
struct config_field {
	const char *name;
	unsigned int offset;
	unsigned int width;
	int feature;
};

#define FIELD(type, f, bit)                                        \
	{                                                          \
#f, offsetof(type, f), sizeof(((type *)0)->f), bit \
	}
#define BLK(f, bit) FIELD(struct virtio_blk_config, f, bit)
#define NET(f, bit) FIELD(struct virtio_net_config, f, bit)
#define ALWAYS	    (-1)

static const struct config_field blk_fields[] = {
	BLK(capacity, ALWAYS),
	BLK(size_max, VIRTIO_BLK_F_SIZE_MAX),
	BLK(seg_max, VIRTIO_BLK_F_SEG_MAX),
	BLK(geometry.cylinders, VIRTIO_BLK_F_GEOMETRY),
	BLK(geometry.heads, VIRTIO_BLK_F_GEOMETRY),
	BLK(geometry.sectors, VIRTIO_BLK_F_GEOMETRY),
	BLK(blk_size, VIRTIO_BLK_F_BLK_SIZE),
	BLK(topology.physical_block_exp, VIRTIO_BLK_F_TOPOLOGY),
	BLK(topology.alignment_offset, VIRTIO_BLK_F_TOPOLOGY),
	BLK(topology.min_io_size, VIRTIO_BLK_F_TOPOLOGY),
	BLK(topology.opt_io_size, VIRTIO_BLK_F_TOPOLOGY),
	BLK(writeback, VIRTIO_BLK_F_CONFIG_WCE),
	BLK(num_queues, VIRTIO_BLK_F_MQ),
	BLK(max_discard_sectors, VIRTIO_BLK_F_DISCARD),
	BLK(max_discard_seg, VIRTIO_BLK_F_DISCARD),
	BLK(discard_sector_alignment, VIRTIO_BLK_F_DISCARD),
	BLK(max_write_zeroes_sectors, VIRTIO_BLK_F_WRITE_ZEROES),
	BLK(max_write_zeroes_seg, VIRTIO_BLK_F_WRITE_ZEROES),
	BLK(write_zeroes_may_unmap, VIRTIO_BLK_F_WRITE_ZEROES),
	{ NULL, 0, 0, 0 },
};

static const struct config_field net_fields[] = {
	NET(mac, VIRTIO_NET_F_MAC),
	NET(status, VIRTIO_NET_F_STATUS),
	NET(max_virtqueue_pairs, VIRTIO_NET_F_MQ),
	NET(mtu, VIRTIO_NET_F_MTU),
	NET(speed, VIRTIO_NET_F_SPEED_DUPLEX),
	NET(duplex, VIRTIO_NET_F_SPEED_DUPLEX),
	{ NULL, 0, 0, 0 },
};

/* Config sizes stop where QEMU 7.2's backends stop, since GET_CONFIG past
 * a backend's config space fails (the same sizes vuvm asks for). */
static const struct probe_type {
	const char *name;
	uint32_t config_size;
	const char *const *names;
	const struct config_field *fields;
} probe_types[] = {
	{ "blk", 60, blk_names, blk_fields },
	{ "net", 12, net_names, net_fields },
	{ "rng", 0, NULL, NULL },
};

struct probe_opts {
	const char *socket;
	const struct probe_type *type; /* NULL: not said */
	long config_size;	       /* -1: the type's */
	int timeout_ms;
	int json;
};

static void usage(FILE *out)
{
	fputs("usage: vuvm-probe [--type blk|net|rng] [--config-size N]\n"
	      "         [--timeout SEC] [--json] SOCKET\n"
	      "       vuvm-probe --help | --version\n"
	      "Prints what the vhost-user backend on SOCKET offers:\n"
	      "features, protocol features, queues, memory slots and\n"
	      "config space, decoded.\n\n"
	      "  --type TYPE      device type: feature names and config\n"
	      "                   layout (default none: no config read)\n"
	      "  --config-size N  config bytes to read, 0..256 (default\n"
	      "                   blk 60, net 12, rng 0)\n"
	      "  --timeout SEC    wait up to SEC s for the backend to\n"
	      "                   listen (default 5)\n"
	      "  --json           one JSON object, not key: value lines\n"
	      "  --help           print this help and exit\n"
	      "  --version        print the version and exit\n\n"
	      "Exit status: 0 probed, 1 the backend failed or is not\n"
	      "there, 2 usage error. See vuvm-probe(1).\n",
	      out);
}

/* --- the command line ---------------------------------------------------- */

static int parse_type(const char *name, struct probe_opts *o)
{
	for (size_t i = 0; i < sizeof(probe_types) / sizeof(probe_types[0]);
	     i++) {
		if (strcmp(name, probe_types[i].name) == 0) {
			o->type = &probe_types[i];
			return 0;
		}
	}
	fprintf(stderr, "vuvm-probe: unknown --type '%s'\n", name);
	return -EINVAL;
}

static int parse_number(const char *opt, const char *arg, double max,
			double *value)
{
	char *end;

	errno = 0;
	*value = strtod(arg, &end);
	if (errno || end == arg || *end || !(*value >= 0) || *value > max) {
		fprintf(stderr, "vuvm-probe: %s '%s': not a number 0..%g\n",
			opt, arg, max);
		return -EINVAL;
	}
	return 0;
}

static int parse_one(int o, const char *arg, struct probe_opts *opts)
{
	double v;
	int err;

	switch (o) {
	case 't':
		return parse_type(arg, opts);
	case 'c':
		err = parse_number("--config-size", arg,
				   VHOST_USER_CONFIG_SPACE_MAX, &v);
		opts->config_size = (long)v;
		if (!err && v != (long)v) {
			fprintf(stderr,
				"vuvm-probe: --config-size '%s': "
				"not a whole number\n",
				arg);
			err = -EINVAL;
		}
		return err;
	case 'w':
		err = parse_number("--timeout", arg, 3600, &v);
		opts->timeout_ms = (int)(v * 1000);
		return err;
	case 'j':
		opts->json = 1;
		return 0;
	}
	return -EINVAL;
}

static const struct option long_opts[] = {
	{ "type", required_argument, NULL, 't' },
	{ "config-size", required_argument, NULL, 'c' },
	{ "timeout", required_argument, NULL, 'w' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Returns 0 to probe, 1 when --help or --version answered, or -EINVAL. */
static int parse_args(int argc, char **argv, struct probe_opts *opts)
{
	int o;

	*opts = (struct probe_opts){ .config_size = -1, .timeout_ms = 5000 };
	while ((o = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (o == 'h') {
			usage(stdout);
			return 1;
		}
		if (o == 'V') {
			printf("vuvm-probe %s\n", VUVM_VERSION);
			return 1;
		}
		if (o == '?' || parse_one(o, optarg, opts))
			return -EINVAL;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "vuvm-probe: one SOCKET expected\n");
		return -EINVAL;
	}
	opts->socket = argv[optind];
	if (opts->config_size < 0)
		opts->config_size = opts->type ? opts->type->config_size : 0;
	return 0;
}

/* --- decoding ------------------------------------------------------------- */

static json_t *hex64(uint64_t v)
{
	char buf[19];

	snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
	return json_string(buf);
}

static json_t *feature_names(uint64_t features, const char *const *device)
{
	json_t *names = json_array();
	char buf[16];

	for (unsigned int bit = 0; bit < 64; bit++) {
		const char *name = device ? device[bit] : NULL;

		if (!(features & (1ull << bit)))
			continue;
		if (!name)
			name = transport_names[bit];
		if (!name) {
			snprintf(buf, sizeof(buf), "bit %u", bit);
			name = buf;
		}
		json_array_append_new(names, json_string(name));
	}
	return names;
}

static json_t *protocol_names(uint64_t features)
{
	json_t *names = json_array();
	char buf[64];

	for (unsigned int bit = 0; bit < 64; bit++) {
		const char *name = vhu_protocol_feature_name(bit);

		if (!(features & (1ull << bit)))
			continue;
		if (name)
			snprintf(buf, sizeof(buf), "VHOST_USER_PROTOCOL_F_%s",
				 name);
		else
			snprintf(buf, sizeof(buf), "bit %u", bit);
		json_array_append_new(names, json_string(buf));
	}
	return names;
}

static json_t *field_value(const struct config_field *f, const uint8_t *cfg)
{
	uint64_t v = 0;
	char mac[18];

	if (f->width == VIRTIO_NET_ETH_ALEN) {
		const uint8_t *m = cfg + f->offset;

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 m[0], m[1], m[2], m[3], m[4], m[5]);
		return json_string(mac);
	}
	for (unsigned int i = 0; i < f->width; i++) /* little-endian */
		v |= (uint64_t)cfg[f->offset + i] << (8 * i);
	return json_integer((json_int_t)v);
}

/* The fields that the offered @features make valid and that lie within
 * the @size bytes read. */
static json_t *config_fields(const struct probe_type *type, const uint8_t *cfg,
			     uint32_t size, uint64_t features)
{
	json_t *obj = json_object();

	for (const struct config_field *f = type ? type->fields : NULL;
	     f && f->name; f++) {
		if (f->offset + f->width > size)
			continue;
		if (f->feature >= 0 && !(features & (1ull << f->feature)))
			continue;
		json_object_set_new(obj, f->name, field_value(f, cfg));
	}
	return obj;
}

static json_t *config_hex(const uint8_t *cfg, uint32_t size)
{
	char buf[2 * VHOST_USER_CONFIG_SPACE_MAX + 1];

	for (uint32_t i = 0; i < size; i++)
		snprintf(buf + 2 * i, 3, "%02x", cfg[i]);
	buf[2 * size] = '\0';
	return json_string(buf);
}

/* --- talking to the backend ---------------------------------------------- */

/* What the backend said, gathered before anything is printed. */
struct probe_result {
	uint64_t features;
	uint64_t protocol_features; /* offered */
	uint64_t queues;	    /* 0: no MQ, not asked */
	uint64_t mem_slots;	    /* 0: no CONFIGURE_MEM_SLOTS */
	uint32_t config_size;	    /* read, 0: not read */
	uint8_t config[VHOST_USER_CONFIG_SPACE_MAX];
	int have_protocol;
};

#define PF(name) (1ull << VHOST_USER_PROTOCOL_F_##name)

static int probe_protocol(struct vhu_frontend *fe, struct probe_result *r)
{
	uint64_t want = PF(MQ) | PF(CONFIG) | PF(CONFIGURE_MEM_SLOTS);
	int err;

	err = vhu_get_protocol_features(fe, &r->protocol_features);
	if (!err)
		err = vhu_set_protocol_features(fe,
						r->protocol_features & want);
	if (err)
		return err;
	r->have_protocol = 1;
	if (vhu_has_protocol_feature(fe, VHOST_USER_PROTOCOL_F_MQ))
		err = vhu_get_queue_num(fe, &r->queues);
	if (!err && vhu_has_protocol_feature(
			    fe, VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))
		err = vhu_get_max_mem_slots(fe, &r->mem_slots);
	return err;
}

static int probe_config(struct vhu_frontend *fe, uint32_t size,
			struct probe_result *r)
{
	int err;

	if (!size ||
	    !vhu_has_protocol_feature(fe, VHOST_USER_PROTOCOL_F_CONFIG))
		return 0;
	err = vhu_get_config(fe, 0, size, VHOST_USER_CONFIG_FLAG_WRITABLE,
			     r->config);
	if (!err)
		r->config_size = size;
	return err;
}

static int probe(const struct probe_opts *o, struct probe_result *r)
{
	struct vhu_frontend fe;
	int err;

	err = vhu_connect(&fe, o->socket, o->timeout_ms);
	if (err) {
		fprintf(stderr, "vuvm-probe: %s: %s\n", o->socket,
			vhu_frontend_error(&fe));
		return err;
	}
	err = vhu_set_owner(&fe);
	if (!err)
		err = vhu_get_features(&fe, &r->features);
	if (!err && (r->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
		err = probe_protocol(&fe, r);
	if (!err)
		err = probe_config(&fe, (uint32_t)o->config_size, r);
	if (err)
		fprintf(stderr, "vuvm-probe: %s: %s\n", o->socket,
			vhu_frontend_error(&fe));
	vhu_frontend_close(&fe);
	return err;
}

/* --- the report ----------------------------------------------------------- */

static json_t *report(const struct probe_opts *o, const struct probe_result *r)
{
	const char *const *device = o->type ? o->type->names : NULL;
	json_t *rep = json_object();

	json_object_set_new(rep, "socket", json_string(o->socket));
	json_object_set_new(rep, "type",
			    o->type ? json_string(o->type->name) : json_null());
	json_object_set_new(rep, "features", hex64(r->features));
	json_object_set_new(rep, "feature_names",
			    feature_names(r->features, device));
	json_object_set_new(rep, "protocol_features",
			    r->have_protocol ? hex64(r->protocol_features)
					     : json_null());
	json_object_set_new(rep, "protocol_feature_names",
			    protocol_names(r->protocol_features));
	json_object_set_new(rep, "queues",
			    r->queues ? json_integer(r->queues) : json_null());
	json_object_set_new(rep, "mem_slots",
			    r->mem_slots ? json_integer(r->mem_slots)
					 : json_null());
	json_object_set_new(rep, "config_size", json_integer(r->config_size));
	json_object_set_new(
		rep, "config",
		config_fields(o->type, r->config, r->config_size, r->features));
	json_object_set_new(rep, "config_raw",
			    config_hex(r->config, r->config_size));
	return rep;
}

/* "key: value" lines; nested objects as "config.capacity: 131072", lists
 * space-separated on one line, null as "-". */
static void print_text(const char *prefix, json_t *obj)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		size_t i;
		json_t *e;

		if (json_is_object(v)) {
			char sub[128];

			snprintf(sub, sizeof(sub), "%s%s.", prefix, key);
			print_text(sub, v);
			continue;
		}
		printf("%s%s:", prefix, key);
		if (json_is_array(v)) {
			json_array_foreach(v, i, e)
				printf(" %s", json_string_value(e));
		} else if (json_is_string(v)) {
			const char *str = json_string_value(v);

			printf("%s%s", *str ? " " : "", str);
		} else if (json_is_integer(v)) {
			printf(" %" JSON_INTEGER_FORMAT, json_integer_value(v));
		} else {
			printf(" -");
		}
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	struct probe_opts opts;
	struct probe_result res = { 0 };
	json_t *rep;
	int err;

	err = parse_args(argc, argv, &opts);
	if (err)
		return err > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	if (probe(&opts, &res))
		return EXIT_FAILURE;
	rep = report(&opts, &res);
	if (opts.json) {
		json_dumpf(rep, stdout, JSON_COMPACT);
		printf("\n");
	} else {
		print_text("", rep);
	}
	json_decref(rep);
	return EXIT_SUCCESS;
}
