// SPDX-License-Identifier: MIT
/*
 * The devices (vmm/devices.c) without KVM, against the reference backend
 * running as a real process (vuvm-backend blk): the MMIO windows, the
 * eventfds registered through the signals interface, and the watcher
 * thread: a backend that hangs up without reconnect= requests a stop with
 * VUVM_EXIT_BACKEND; with reconnect=0 the device fails instead
 * (DEVICE_NEEDS_RESET) and the run goes on; the stop eventfd of
 * devices_close() ends a watcher that has nothing to report.
 *
 * Usage: test_devices PATH-TO-vuvm-backend
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/vmm/check.h"
#include "tests/vmm/log_capture.h"
#include "vhost/clock.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_mmio.h"
#include "vmm/control.h"
#include "vmm/devices.h"

extern char **environ;

static const char *backend_bin;
static char sock_path[64];
static struct mem_table mem;
static struct vuvm_config cfg;
static struct devices ds;
static struct vm_stop stop;

/* What devices.c registered through its signals interface. */
static struct {
	int irqfds, ioeventfds; /* assigned minus removed */
	uint32_t last_gsi;
} sig;

static int fake_ioeventfd(void *ctx, uint64_t addr, uint32_t len,
			  uint32_t datamatch, int fd, bool assign)
{
	CHECK(ctx == &sig && fd >= 0);
	sig.ioeventfds += assign ? 1 : -1;
	return 0;
}

static int fake_irqfd(void *ctx, uint32_t gsi, int fd, bool assign)
{
	CHECK(ctx == &sig && fd >= 0);
	sig.irqfds += assign ? 1 : -1;
	sig.last_gsi = gsi;
	return 0;
}

static const struct mmio_signals signals = { &sig, fake_ioeventfd, fake_irqfd };

static pid_t backend_start(void)
{
	char *argv[] = { (char *)backend_bin,
			 "blk",
			 "--socket-path",
			 sock_path,
			 "--size",
			 "1M",
			 NULL };
	pid_t pid;

	unlink(sock_path);
	if (posix_spawn(&pid, backend_bin, NULL, NULL, argv, environ))
		return -1;
	return pid;
}

static void backend_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(sock_path);
}

/* Opens one blk device with @opts (",k=v..." or ""): 0 or -errno. */
static int open_blk(const char *opts)
{
	char spec[160];
	const char *why = "";

	snprintf(spec, sizeof(spec), "blk,socket=%s,connect-timeout=5%s",
		 sock_path, opts);
	memset(&cfg, 0, sizeof(cfg));
	memset(&ds, 0, sizeof(ds));
	memset(&sig, 0, sizeof(sig));
	CHECK(vudev_parse(spec, &cfg.devices[0], &why) == 0);
	cfg.nr_devices = 1;
	vm_stop_init(&stop);
	return devices_open(&ds, &cfg, &mem, &signals, &stop);
}

static uint32_t mmio_read32(uint64_t addr, bool *handled)
{
	uint32_t v = 0;

	*handled = devices_mmio(&ds, addr, (uint8_t *)&v, 4, false);
	return v;
}

static void test_no_devices(void)
{
	bool handled;

	memset(&cfg, 0, sizeof(cfg));
	memset(&ds, 0, sizeof(ds));
	vm_stop_init(&stop);
	CHECK(devices_open(&ds, &cfg, &mem, &signals, &stop) == 0);
	CHECK(ds.nr == 0);
	CHECK(devices_watch(&ds) == 0 && !ds.watching);
	mmio_read32(DEVICES_MMIO_BASE, &handled);
	CHECK(!handled);
	CHECK(!devices_close(&ds));
	CHECK(!vm_stop_requested(&stop));
	vm_stop_destroy(&stop);
}

/* The window of device 0 and nothing around it. */
static void check_windows(void)
{
	uint64_t base = DEVICES_MMIO_BASE;
	bool handled;

	CHECK(mmio_read32(base + VIRTIO_MMIO_MAGIC_VALUE, &handled) ==
	      VIRTIO_MMIO_MAGIC);
	CHECK(handled);
	CHECK(mmio_read32(base + VIRTIO_MMIO_DEVICE_ID, &handled) ==
	      VIRTIO_ID_BLOCK);
	CHECK(handled);
	mmio_read32(base - 4, &handled);
	CHECK(!handled);
	mmio_read32(base + VIRTIO_MMIO_WINDOW_SIZE - 2, &handled);
	CHECK(!handled);
	mmio_read32(base + DEVICES_MMIO_STRIDE, &handled);
	CHECK(!handled);
	mmio_read32(0, &handled);
	CHECK(!handled);
}

/* A healthy backend: the watcher reports nothing and ends on request. */
static void test_watch_and_close(void)
{
	pid_t pid = backend_start();
	struct control ctl;
	char line[] = "status", out[1024];

	CHECK(open_blk("") == 0);
	CHECK(ds.nr == 1 && ds.dev[0].vu_open && ds.dev[0].mmio_open);
	/* the config interrupt, and a kick and a call per queue (one) */
	CHECK(sig.irqfds == 2 && sig.ioeventfds == 1);
	CHECK(sig.last_gsi == DEVICES_GSI_BASE);
	CHECK(ds.dt[0].base == DEVICES_MMIO_BASE);
	CHECK(ds.dt[0].gsi == DEVICES_GSI_BASE);
	check_windows();
	CHECK(devices_watch(&ds) == 0 && ds.watching);

	/* the control socket's view of it */
	CHECK(control_open(&ctl, NULL, &ds, &stop) == 0);
	CHECK(control_exec(&ctl, line, out, sizeof(out)));
	CHECK(strncmp(out, "blk0 ", 5) == 0);
	CHECK(strstr(out, "\nok: 1 device\n") != NULL);
	control_close(&ctl);

	CHECK(vm_stop_wait(&stop, 0.2) == -ETIMEDOUT);
	CHECK(!devices_close(&ds));
	CHECK(sig.irqfds == 0 && sig.ioeventfds == 0);
	CHECK(!vm_stop_requested(&stop));
	vm_stop_destroy(&stop);
	backend_kill(pid);
}

/* Without reconnect=, a hang-up ends the run with VUVM_EXIT_BACKEND. */
static void test_hang_up_stops(void)
{
	pid_t pid = backend_start();
	struct log_capture cap;
	const char *log;

	CHECK(open_blk("") == 0);
	CHECK(devices_watch(&ds) == 0);
	log_capture_start(&cap);
	backend_kill(pid);
	CHECK(vm_stop_wait(&stop, 10) == 0);
	CHECK(devices_close(&ds));
	log = log_capture_end(&cap);
	CHECK(vm_stop_status(&stop) == VUVM_EXIT_BACKEND);
	CHECK(strstr(log, "blk0: the vhost-user backend closed the "
			  "connection") != NULL);
	vm_stop_destroy(&stop);
}

/* reconnect=0: the device fails at once, the run goes on. */
static void test_hang_up_fails_device(void)
{
	pid_t pid = backend_start();
	uint64_t status_reg = DEVICES_MMIO_BASE + VIRTIO_MMIO_STATUS;
	long long deadline;
	uint32_t status = 0;
	bool handled;

	CHECK(open_blk(",reconnect=0") == 0);
	CHECK(devices_watch(&ds) == 0);
	CHECK(!(mmio_read32(status_reg, &handled) &
		VIRTIO_CONFIG_S_NEEDS_RESET));
	backend_kill(pid);
	deadline = now_ms() + 10000;
	while (!(status & VIRTIO_CONFIG_S_NEEDS_RESET) && now_ms() < deadline) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		status = mmio_read32(status_reg, &handled);
	}
	CHECK(status & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(!vm_stop_requested(&stop));
	CHECK(!devices_close(&ds));
	CHECK(!vm_stop_requested(&stop));
	vm_stop_destroy(&stop);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-vuvm-backend\n", argv[0]);
		return 2;
	}
	backend_bin = argv[1];
	snprintf(sock_path, sizeof(sock_path), "/tmp/vuvm-devices-%d.sock",
		 getpid());
	signal(SIGPIPE, SIG_IGN); /* as vuvm's main() does */
	CHECK(mem_alloc(&mem, 4 << 20, false) == 0);
	test_no_devices();
	test_watch_and_close();
	test_hang_up_stops();
	test_hang_up_fails_device();
	mem_free(&mem);
	return check_exit();
}
