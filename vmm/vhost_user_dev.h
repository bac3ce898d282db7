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
 * control queue the backend cannot see (net_ctrl.h). What one --device
 * asks for is struct vudev_config (vudev_config.h).
 */
#ifndef VUVM_VMM_VHOST_USER_DEV_H
#define VUVM_VMM_VHOST_USER_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/frontend.h"
#include "vmm/memory.h"
#include "vmm/net_ctrl.h"
#include "vmm/vdev.h"
#include "vmm/vudev_config.h"

/*
 * The device's state is three things, each moved by its own party at its
 * own time; while the device is open they combine freely, except that
 * nothing runs on a FAILED link (docs/reliability.md, "The states of a
 * device", has the table with what vudev_describe() prints for each):
 *
 * 1. The link, the backend connection (enum vudev_link). It moves only as
 *    this table says; vudev_set_link() logs and refuses any other move:
 *
 *	CLOSED     not open, or closed: no backend to talk to
 *	CONNECTED  fe talks to a backend that completed the handshake
 *	LOST       the connection is gone (hang-up or a broken reply stream)
 *		   and reconnect= is set: attempts are being made
 *	FAILED     gone for good (reconnect= ran out): activate refuses
 *
 *	CLOSED    -> CONNECTED  vudev_open()
 *	CONNECTED -> LOST       vudev_lost()
 *	LOST      -> CONNECTED  vudev_reconnect(), an attempt that succeeded
 *	LOST      -> FAILED     vudev_give_up()
 *	any       -> CLOSED     vudev_close()
 *
 * 2. active, the driver's: set by the transport's activate (DRIVER_OK;
 *    queues[] and guest_features then hold what the driver set up),
 *    cleared by its reset. It does not depend on the link: a driver may
 *    start or reset the device while the backend is away (the rings start
 *    when it is back), and a device stays active when its backend fails,
 *    until the driver resets it. Activating an active device is refused.
 *
 * 3. suspended, the operator's (the control socket): set by
 *    vudev_suspend(), cleared by vudev_resume() (which sets it again when
 *    the restart fails). It survives the driver's reset and a lost
 *    backend, and may precede DRIVER_OK (the device then starts on
 *    resume).
 *
 * Folding 2 and 3 into the link enum would give 13 states with every link
 * move repeated four times; they stay flags, each with one setter and one
 * clearer. What follows from the three: the rings run on the backend
 * (nr_started > 0) only when CONNECTED, active and not suspended.
 */
/*
 * How a device changes the guest's memory map, for the check port's
 * memory steps (the machine's KVM): @set gives memory slot @slot the
 * range @r, or deletes the slot when @r is NULL; 0 or -errno.
 */
struct vudev_memslots {
	void *ctx;
	int (*set)(void *ctx, unsigned int slot, const struct mem_region *r);
};

/* Memory the check port adds (VUDEV_STEP_MEM_*): up to VUDEV_MAX_HOT
 * ranges of VUDEV_HOT_SIZE per device, device i's k-th at
 * MEM_HOT_START + (i * VUDEV_MAX_HOT + k) * VUDEV_HOT_SIZE in KVM slot
 * MEM_MAX_REGIONS + i * VUDEV_MAX_HOT + k. */
#define VUDEV_MAX_HOT  32
#define VUDEV_HOT_SIZE (1ULL << 20)

enum vudev_link {
	VUDEV_CLOSED,
	VUDEV_CONNECTED,
	VUDEV_LOST,
	VUDEV_FAILED,
};

struct vudev {
	struct vdev vdev; /* what the transport sees */
	struct vhu_frontend fe;
	/* The vCPU threads (through the transport), the watcher (backend
	 * channel, reconnects), the control socket and the net control
	 * queue's thread all talk on fe: one at a time. Lock order: the
	 * transport's lock, then this one. */
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
	/* The state (above). The first nr_started queues are started on
	 * the backend; base[i] is where queue i (re)starts. */
	enum vudev_link link;
	bool active;
	bool suspended;
	uint64_t guest_features;
	unsigned int nr_active; /* queues[] the backend serves */
	unsigned int nr_started;
	struct vdev_queue queues[VDEV_MAX_QUEUES];
	uint32_t base[VDEV_MAX_QUEUES]; /* packed: the 32-bit position */
	uint16_t used_at_suspend[VDEV_MAX_QUEUES];
	/* The check port's steps (vhost_user_step.c): the raw
	 * GET_VRING_BASE answers of the last stop, the used index right
	 * after each, and whether starts send the kick fd first. */
	uint32_t step_base[VDEV_MAX_QUEUES];
	uint16_t step_used[VDEV_MAX_QUEUES];
	bool kick_first;
	/* INFLIGHT_SHMFD: the backend's region, kept across reconnects and
	 * dropped when the driver resets the device. */
	int inflight_fd;
	struct vhu_inflight inflight;
	unsigned int reconnects;
	/* net: the control queue vuvm serves itself (net_ctrl.h), the last
	 * queue when local_ctrl; net_pairs is its VQ_PAIRS_SET, 0: all. */
	bool local_ctrl;
	struct netctrl ctrl;
	unsigned int net_pairs;
	/* The check port's memory steps (vhost_user_step.c): hot[k] is
	 * present when its host is set; every start sends each present one
	 * with ADD_MEM_REG right after SET_MEM_TABLE (so a reconnected or
	 * resumed backend gets it too). memslots is NULL without
	 * --check-port: no memory steps. */
	unsigned int index; /* in --device order */
	const struct vudev_memslots *memslots;
	struct mem_region hot[VUDEV_MAX_HOT];
};

/* Whether the backend is connected now (the watcher asks, unlocked). */
static inline bool vudev_is_connected(const struct vudev *d)
{
	return __atomic_load_n(&d->link, __ATOMIC_ACQUIRE) == VUDEV_CONNECTED;
}

/*
 * Connects to @cfg->socket (retrying until @timeout_ms), negotiates and
 * reads the config space; @mem is the guest RAM the device will hand to the
 * backend and must outlive the device. @index names the device in logs;
 * @trace logs every message from the first on (--trace vhost).
 * Returns 0 (CLOSED -> CONNECTED, idle) or -errno with the reason logged,
 * nothing left open.
 */
int vudev_open(struct vudev *d, const struct vudev_config *cfg,
	       const struct mem_table *mem, unsigned int index, int timeout_ms,
	       bool trace);

/* Stops the net control queue, closes the connection and the backend
 * channel: any state -> CLOSED. */
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
 * CONNECTED -> LOST (nothing in any other state). Closes it and remembers where
 * each started ring got to, from the used index in guest memory since the
 * backend can no longer be asked. vudev_reconnect: LOST -> CONNECTED, or stays
 * LOST when the attempt fails
 * (-EINVAL in any other state). One attempt, with every reply awaited at
 * most
 * min(reply-timeout, @budget_ms), to connect, replay the handshake and, when
 * the driver had started the device and it is not suspended, the start
 * sequence with the kept inflight region and the remembered bases; then
 * every ring is kicked and its interrupt raised once, so neither side
 * waits for a notification the old backend swallowed. Returns 1 when the
 * new backend's config space differs (raise a config interrupt), 0, or
 * -errno with the reason in @why.
 * vudev_give_up: LOST -> FAILED, the backend is gone for good; the device
 * refuses to start from now on (the caller sets DEVICE_NEEDS_RESET).
 */
void vudev_lost(struct vudev *d);
int vudev_reconnect(struct vudev *d, int budget_ms, char *why, size_t len);
void vudev_give_up(struct vudev *d);

/*
 * Control operations (the control socket, vmm/control.c). Each returns 0
 * or -errno and writes one line for the user into @msg: what was done, or
 * why it was not. All are safe against the transport and the watcher.
 *
 * vudev_suspend (-EALREADY when suspended; sets suspended) stops every
 * started ring (SET_VRING_ENABLE 0,
 * GET_VRING_BASE): afterwards the backend does not touch guest memory or
 * raise interrupts. vudev_resume (-EINVAL when not suspended; clears
 * suspended, or sets it again when the restart fails) starts them again
 * where they stopped and reports whether the backend moved a used index
 * while suspended.
 * vudev_save_state / vudev_load_state move the backend's device state
 * (SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE) to / from @fd, a file the
 * caller opened; the device must be suspended (or not started).
 * vudev_describe writes one line: "NAME LINK RINGS reconnects=N" then
 * " qI=avail:A,used:U" per ring the driver set up. LINK is connected,
 * reconnecting (LOST), failed or closed; RINGS is suspended, running
 * (started on the backend), waiting (active, not started: the backend
 * is away) or idle.
 */
int vudev_suspend(struct vudev *d, char *msg, size_t len);

/*
 * Steps of the vhost-user protocol a guest asks for through the check
 * port (--check-port, docs/cli.md), each with the lock held:
 * STOP: SET_VRING_ENABLE 0 and GET_VRING_BASE on every started ring, the
 *   device suspended (no drain, no repair of a wrong base); 0 or -errno.
 * START (@arg bit 0: SET_VRING_KICK before SET_VRING_CALL): the start
 *   sequence from the bases STOP got, then every ring kicked; 0 or -errno.
 * BASE / USED: queue @arg's raw GET_VRING_BASE answer at the last STOP
 *   (0xffffffff when it failed), and its used index right after it.
 * ENABLE / DISABLE: SET_VRING_ENABLE 1 / 0 on started queue @arg alone.
 * ORDER: @arg 1: every later start sends SET_VRING_KICK before
 *   SET_VRING_CALL (the driver's DRIVER_OK too); 0: the usual order.
 * QUEUE_NUM: what the backend answered to GET_QUEUE_NUM at the last
 *   connection, or -ENOTSUP when it was not asked (no MQ protocol
 *   feature).
 * MEM_SLOTS: what the backend answered to GET_MAX_MEM_SLOTS at the last
 *   connection; -ENOTSUP without CONFIGURE_MEM_SLOTS.
 * MEM_ADD: a fresh memfd of VUDEV_HOT_SIZE as hot range @arg (0 to
 *   VUDEV_MAX_HOT - 1, not present), given to the guest (a KVM memory
 *   slot) and to the backend (ADD_MEM_REG); its guest-physical address
 *   in MiB, or -errno with nothing added.
 * MEM_REMOVE: REM_MEM_REG of hot range @arg, then its slot deleted and
 *   its memfd closed; 0 or -errno (a refused REM_MEM_REG keeps it).
 * MEM_REPLACE: hot range @arg moved to a fresh memfd with its content:
 *   REM_MEM_REG, the KVM slot switched to the new memory, ADD_MEM_REG of
 *   it; the old memfd is closed (a backend that kept it mapped uses
 *   memory the guest no longer sees). 0 or -errno.
 * The MEM_ steps need CONFIGURE_MEM_SLOTS (-ENOTSUP), --check-port and a
 *   connected backend (-EINVAL).
 * -EINVAL when the step is impossible in the device's state.
 */
enum vudev_step {
	VUDEV_STEP_STOP = 1,
	VUDEV_STEP_START = 2,
	VUDEV_STEP_BASE = 3,
	VUDEV_STEP_USED = 4,
	VUDEV_STEP_ENABLE = 5,
	VUDEV_STEP_DISABLE = 6,
	VUDEV_STEP_ORDER = 7,
	VUDEV_STEP_QUEUE_NUM = 8,
	VUDEV_STEP_MEM_SLOTS = 16,
	VUDEV_STEP_MEM_ADD = 17,
	VUDEV_STEP_MEM_REMOVE = 18,
	VUDEV_STEP_MEM_REPLACE = 19,
};
int64_t vudev_step(struct vudev *d, enum vudev_step op, unsigned int arg);
int vudev_resume(struct vudev *d, char *msg, size_t len);
int vudev_save_state(struct vudev *d, int fd, char *msg, size_t len);
int vudev_load_state(struct vudev *d, int fd, char *msg, size_t len);
void vudev_describe(struct vudev *d, char *buf, size_t len);

#endif
