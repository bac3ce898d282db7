/* SPDX-License-Identifier: MIT */
/*
 * The machine's virtio devices: one vhost-user device behind one
 * virtio-mmio window and GSI each, in the order of --device.
 *
 * Device i has its window at DEVICES_MMIO_BASE + i * DEVICES_MMIO_STRIDE
 * and interrupt DEVICES_GSI_BASE + i (IOAPIC pins 16..23, which no legacy
 * PC device uses). A watcher thread follows every backend: a message on
 * the backend channel (CONFIG_CHANGE_MSG) becomes a config interrupt, and
 * a backend whose connection is lost (it closed the socket, or its replies
 * broke the stream) either requests a stop with VUVM_EXIT_BACKEND
 * (stop.h),
 * because a guest waiting on it would otherwise hang, or, with
 * reconnect=SEC, gets a reconnector thread: the guest keeps running while
 * vuvm reconnects with a back-off from 50 ms to 1 s, and when SEC passes
 * without success the device is set to DEVICE_NEEDS_RESET.
 */
#ifndef VUVM_VMM_DEVICES_H
#define VUVM_VMM_DEVICES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/config.h"
#include "vmm/fdt.h"
#include "vmm/memory.h"
#include "vmm/stop.h"
#include "vmm/vhost_user_dev.h"
#include "vmm/virtio_mmio.h"

#define DEVICES_MMIO_BASE   0xd0000000ULL
#define DEVICES_MMIO_STRIDE 0x1000ULL
#define DEVICES_GSI_BASE    16

struct device {
	struct vudev vu;
	struct mmio_dev mmio;
	bool vu_open;
	bool mmio_open;
	/* The reconnector: started and joined by the watcher. */
	bool reconnecting;
	bool reconnect_done; /* set by the reconnector as it ends */
	pthread_t reconnector;
	struct devices *ds;
};

struct devices {
	unsigned int nr;
	struct device dev[VUVM_MAX_DEVICES];
	struct mmio_signals signals; /* KVM's ioeventfds and irqfds */
	struct vm_stop *stop;
	struct dt_virtio_mmio dt[VUVM_MAX_DEVICES];
	int stop_fd; /* eventfd that ends the watcher and reconnectors */
	int wake_fd; /* eventfd: a reconnector ended */
	pthread_t watcher;
	bool watching;
};

/*
 * Connects every --device of @cfg, negotiates, and creates its transport
 * and eventfds, registered through @signals (copied). The devices hand
 * @mem (guest RAM) to their backends; a lost backend without reconnect=
 * requests a stop on @stop. @cfg, @mem and @stop outlive @ds. Returns 0
 * or -errno (logged), with whatever was set up left for devices_close().
 */
int devices_open(struct devices *ds, const struct vuvm_config *cfg,
		 const struct mem_table *mem,
		 const struct mmio_signals *signals, struct vm_stop *stop);

/* Lets every device change the guest's memory map through @ms (which
 * outlives them): the check port's memory steps. */
void devices_set_memslots(struct devices *ds, const struct vudev_memslots *ms);

/* Starts the thread that watches every backend; 0 or -errno. */
int devices_watch(struct devices *ds);

/*
 * Emulates a guest MMIO access at @addr if it falls in a device window.
 * Returns false when no device owns @addr.
 */
bool devices_mmio(struct devices *ds, uint64_t addr, uint8_t *data,
		  unsigned int len, bool is_write);

/*
 * Stops the watcher, resets every device and closes its connection.
 * Returns true when a backend without reconnect= was lost (it hung up or
 * broke the reply stream) at any time: vuvm then exits VUVM_EXIT_BACKEND
 * whatever the guest said, since what the guest saw was the backend's
 * failure.
 */
bool devices_close(struct devices *ds);

#endif
