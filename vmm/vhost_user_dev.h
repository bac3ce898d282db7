/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user device: a virtio device whose queues an external backend
 * serves. Generic over the device type (virtio device ID, queue count and
 * size from the command line, config space from GET_CONFIG), like Cloud
 * Hypervisor's generic vhost-user device.
 *
 * At open it connects and negotiates (features, protocol features, queue
 * count, backend channel, config). On the driver's DRIVER_OK it sends the
 * start sequence of docs/vhost-user.md (SET_FEATURES, SET_MEM_TABLE from
 * the region table, per queue SET_VRING_NUM/BASE/ADDR/CALL/KICK, then
 * SET_VRING_ENABLE), with ring addresses translated from guest-physical to
 * vuvm's own addresses. On reset it stops every started ring
 * (SET_VRING_ENABLE 0, GET_VRING_BASE) and sends RESET_DEVICE when
 * negotiated. The kick and call fds come from the transport, so the data
 * path never enters vuvm. The one queue vuvm serves itself is a net
 * control queue the backend cannot see (see local_ctrl_wanted()).
 */
#ifndef VUVM_VMM_VHOST_USER_DEV_H
#define VUVM_VMM_VHOST_USER_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/frontend.h"
#include "vmm/memory.h"
#include "vmm/vdev.h"

#define VUDEV_DEFAULT_QUEUE_SIZE 256
#define VUDEV_CONNECT_TIMEOUT_MS 5000

/* What one --device TYPE,socket=PATH[,queues=N][,queue-size=N]
 * [,config-size=N][,connect-timeout=SEC][,reply-timeout=SEC]
 * [,reconnect=SEC] asks for. */
struct vudev_config {
	char type[16]; /* as given: "blk", "net", ..., or a number */
	uint32_t device_id;
	const char *socket;  /* points into spec */
	char spec[256];	     /* a copy of the argument, cut into tokens */
	unsigned int queues; /* 0: the backend's GET_QUEUE_NUM, else default */
	unsigned int queue_size;
	uint32_t config_size;
	int connect_timeout_ms; /* how long to retry connecting */
	int reply_timeout_ms;	/* bound on every wait for a reply */
	int reconnect_ms; /* -1: a lost backend stops vuvm; else how long to
			     try reconnecting before the device fails */
};

struct vudev {
	struct vdev vdev; /* what the transport sees */
	struct vhu_frontend fe;
	/* The vCPU threads (through the transport), the watcher (backend
	 * channel, reconnects) and the control socket all talk on fe: one
	 * at a time. Lock order: the transport's lock, then this one. */
	pthread_mutex_t lock;
	const struct mem_table *mem;
	const struct vudev_config *cfg; /* outlives the device */
	char name[24];
	bool trace;
	/* Cached config space (GET_CONFIG), read by vCPUs under
	 * config_lock alone, so they never wait on a backend for it. */
	pthread_mutex_t config_lock;
	uint8_t config[256];
	bool config_changed; /* by the last read_config() */
	bool have_config;    /* the backend serves config (CONFIG feature) */
	bool config_write_failed; /* logged once */
	int chan_fd;		  /* vuvm's end of the backend channel, or -1 */
	int err_fd; /* SET_VRING_ERR of every ring: a broken ring */
	/*
	 * States (see vhost_user_dev.c): connected (fe talks to a backend),
	 * failed (the backend is gone for good), active (the driver set
	 * DRIVER_OK: queues[] and guest_features are what it set up),
	 * suspended (by the control socket). The first nr_started queues
	 * are started on the backend; base[i] is where queue i (re)starts.
	 */
	bool connected, failed, active, suspended;
	uint64_t guest_features;
	unsigned int nr_active; /* queues[] the backend serves */
	unsigned int nr_started;
	struct vdev_queue queues[VDEV_MAX_QUEUES];
	uint16_t base[VDEV_MAX_QUEUES];
	uint16_t used_at_suspend[VDEV_MAX_QUEUES];
	unsigned int ctrl_pairs; /* VQ_PAIRS_SET, 0: all pairs */
	/* INFLIGHT_SHMFD: the backend's region, kept across reconnects and
	 * dropped when the driver resets the device. */
	int inflight_fd;
	struct vhu_inflight inflight;
	unsigned int reconnects;
	/*
	 * net: the control queue vuvm serves itself (see local_ctrl_wanted()
	 * in vhost_user_dev.c): its index, the running thread, a stop
	 * eventfd, and dups of its kick and call fds.
	 */
	bool local_ctrl;
	unsigned int ctrl_index;
	bool ctrl_running;
	pthread_t ctrl_thread;
	int ctrl_stop_fd, ctrl_kick_fd, ctrl_call_fd;
	struct vdev_queue ctrl_q;
	uint64_t ctrl_features;
};

/*
 * Parses the text after "--device ": TYPE then comma-separated k=v options.
 * Returns 0, or -EINVAL with @why naming the problem.
 */
int vudev_parse(const char *arg, struct vudev_config *cfg, const char **why);

/*
 * Connects to @cfg->socket (retrying until @timeout_ms), negotiates and
 * reads the config space; @mem is the guest RAM the device will hand to the
 * backend and must outlive the device. @index names the device in logs;
 * @trace logs every message from the first on (--trace vhost).
 * Returns 0 or -errno with the reason logged, nothing left open.
 */
int vudev_open(struct vudev *d, const struct vudev_config *cfg,
	       const struct mem_table *mem, unsigned int index, int timeout_ms,
	       bool trace);

/* Closes the connection and the backend channel. */
void vudev_close(struct vudev *d);

/*
 * Handles one message on the backend channel (call when d->chan_fd is
 * readable); safe against the transport's concurrent calls. Returns 1 when the
 * backend says the config changed (the cache is then refreshed and the caller
 * raises the interrupt), 0 for any other message, or -errno when the channel
 * failed or sent garbage.
 */
int vudev_handle_channel(struct vudev *d);

/*
 * The backend signalled d->err_fd (SET_VRING_ERR: it stopped serving a
 * ring the driver broke). Returns 1 after logging it (the caller sets
 * DEVICE_NEEDS_RESET), 0 when the eventfd was not signalled.
 */
int vudev_ring_error(struct vudev *d);

/*
 * Reconnecting (devices.c drives it when cfg->reconnect_ms >= 0).
 * vudev_lost: the connection is gone (hang-up or a broken reply stream):
 * close it and remember where each started ring got to, from the used
 * index in guest memory since the backend can no longer be asked.
 * vudev_reconnect: one attempt, with every reply awaited at most
 * min(reply-timeout, @budget_ms), to connect, replay the handshake and, when
 * the driver had started the device and it is not suspended, the start
 * sequence with the kept inflight region and the remembered bases; then
 * every ring is kicked and its interrupt raised once, so neither side
 * waits for a notification the old backend swallowed. Returns 1 when the
 * new backend's config space differs (raise a config interrupt), 0, or
 * -errno with the reason in @why.
 * vudev_give_up: the backend is gone for good; the device refuses to
 * start from now on (the caller sets DEVICE_NEEDS_RESET).
 */
void vudev_lost(struct vudev *d);
int vudev_reconnect(struct vudev *d, int budget_ms, char *why, size_t len);
void vudev_give_up(struct vudev *d);

/*
 * Control operations (the control socket, vmm/control.c). Each returns 0
 * or -errno and writes one line for the user into @msg: what was done, or
 * why it was not. All are safe against the transport and the watcher.
 *
 * vudev_suspend stops every started ring (SET_VRING_ENABLE 0,
 * GET_VRING_BASE): afterwards the backend does not touch guest memory or
 * raise interrupts. vudev_resume starts them again where they stopped and
 * reports whether the backend moved a used index while suspended.
 * vudev_save_state / vudev_load_state move the backend's device state
 * (SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE) to / from @fd, a file the
 * caller opened; the device must be suspended (or not started).
 * vudev_describe writes one line: name, connection, state, per-ring
 * indices.
 */
int vudev_suspend(struct vudev *d, char *msg, size_t len);
int vudev_resume(struct vudev *d, char *msg, size_t len);
int vudev_save_state(struct vudev *d, int fd, char *msg, size_t len);
int vudev_load_state(struct vudev *d, int fd, char *msg, size_t len);
void vudev_describe(struct vudev *d, char *buf, size_t len);

#endif
