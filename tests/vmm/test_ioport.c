// SPDX-License-Identifier: MIT
/*
 * The port I/O bus (vmm/ioport.c) without KVM: the exit port's status,
 * the UART's ports reaching a real struct serial whose output is a pipe,
 * unhandled ports (all-ones, logged once per port), and the replay of a
 * fake coalesced ring in a malloc'd page, in order, with bad entries
 * bounded.
 */
#define _GNU_SOURCE /* pipe2 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/vmm/check.h"
#include "tests/vmm/log_capture.h"
#include "vmm/fdt.h"
#include "vmm/ioport.h"

#define PAGE 4096

static struct vm_stop stop;
static struct serial serial;
static struct ioport io;
static int out[2]; /* the console: what serial writes, the test reads */

static void setup(void)
{
	CHECK(pipe2(out, O_NONBLOCK) == 0);
	vm_stop_init(&stop);
	serial_init(&serial, out[1], false);
	ioport_init(&io, &serial, &stop);
}

static void teardown(void)
{
	ioport_destroy(&io);
	serial_destroy(&serial);
	vm_stop_destroy(&stop);
	close(out[0]);
	close(out[1]);
}

/* What the console printed so far. */
static const char *console(void)
{
	static char buf[256];
	ssize_t n = read(out[0], buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void out_bytes(uint16_t port, const char *bytes, unsigned int size)
{
	uint8_t data[8];

	memcpy(data, bytes, size);
	ioport_access(&io, 1, port, true, data, size);
}

/* Writes of 1, 2 and 4 bytes: the status is the low byte of the value. */
static void test_exit_port(void)
{
	static const struct {
		const char *bytes;
		unsigned int size;
		int status;
	} writes[] = {
		{ "\x2a", 1, 42 },
		{ "\x34\x12", 2, 0x34 },
		{ "\x00\x01", 2, 0 },
		{ "\x52\x01\x00\x00", 4, 0x52 },
		{ "\xff\xff\xff\xff", 4, 0xff },
	};
	uint8_t data[4] = { 0 };

	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		setup();
		out_bytes(DT_EXIT_PORT, writes[i].bytes, writes[i].size);
		CHECK(vm_stop_requested(&stop));
		CHECK(vm_stop_status(&stop) == writes[i].status);
		teardown();
	}
	/* reading the exit port is an unhandled read, not an exit */
	setup();
	ioport_access(&io, 0, DT_EXIT_PORT, false, data, 4);
	CHECK(!vm_stop_requested(&stop));
	CHECK(memcmp(data, "\xff\xff\xff\xff", 4) == 0);
	teardown();
}

static void test_serial(void)
{
	uint8_t data[2] = { 0 };

	setup();
	out_bytes(SERIAL_PORT, "h", 1);
	out_bytes(SERIAL_PORT, "i", 1);
	CHECK(strcmp(console(), "") == 0); /* a line at a time */
	out_bytes(SERIAL_PORT, "\n", 1);
	CHECK(strcmp(console(), "hi\n") == 0);

	/* the scratch register, written and read back through its port */
	out_bytes(SERIAL_PORT + 7, "\x5c", 1);
	ioport_access(&io, 0, SERIAL_PORT + 7, false, data, 1);
	CHECK(data[0] == 0x5c);
	/* a 2-byte write at the last register wraps to THR */
	out_bytes(SERIAL_PORT + 7, "\x77x", 2);
	ioport_access(&io, 0, SERIAL_PORT + 7, false, data, 1);
	CHECK(data[0] == 0x77);
	out_bytes(SERIAL_PORT, "\n", 1);
	CHECK(strcmp(console(), "x\n") == 0);
	/* a wide read from IIR reaches LCR */
	out_bytes(SERIAL_PORT + 3, "\x03", 1);
	ioport_access(&io, 0, SERIAL_PORT + 2, false, data, 2);
	CHECK(data[0] == 0x01 && data[1] == 0x03);
	ioport_access(&io, 0, SERIAL_PORT + 5, false, data, 1);
	CHECK(data[0] == 0x60);
	CHECK(!vm_stop_requested(&stop));
	teardown();
}

static void test_unhandled(void)
{
	struct log_capture cap;
	uint8_t data[4];
	const char *log;

	setup();
	log_capture_start(&cap);
	for (int i = 0; i < 3; i++) {
		memset(data, 0, sizeof(data));
		ioport_access(&io, 2, 0x61, false, data, 4);
		CHECK(memcmp(data, "\xff\xff\xff\xff", 4) == 0);
	}
	memset(data, 0x12, sizeof(data));
	ioport_access(&io, 2, 0x80, true, data, 1);
	ioport_access(&io, 2, 0x80, true, data, 1);
	ioport_access(&io, 0, 0xffff, false, data, 1);
	log = log_capture_end(&cap);
	CHECK(log_count(log, "port 0x61") == 1);
	CHECK(strstr(log, "vcpu 2: unhandled 4-byte read of port 0x61 "
			  "(reads all-ones)") != NULL);
	CHECK(log_count(log, "port 0x80") == 1);
	CHECK(strstr(log, "1-byte write of port 0x80 (ignored)") != NULL);
	CHECK(log_count(log, "port 0xffff") == 1);
	CHECK(data[0] == 0xff && data[1] == 0x12); /* only the size read */
	CHECK(!vm_stop_requested(&stop));
	CHECK(strcmp(console(), "") == 0);
	teardown();
}

/* --- The coalesced ring --------------------------------------------------- */

static struct kvm_coalesced_mmio_ring *ring;
static uint32_t ring_max;

static void put(uint32_t slot, uint16_t port, const char *bytes, uint32_t len)
{
	struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[slot];

	memset(e, 0, sizeof(*e));
	e->phys_addr = port;
	e->len = len;
	e->pio = 1;
	memcpy(e->data, bytes, len < 8 ? len : 8);
}

static void new_ring(uint32_t first)
{
	memset(ring, 0, PAGE);
	ring->first = ring->last = first;
	ioport_use_ring(&io, ring, PAGE);
}

/* Queues @text one byte per entry from ring->last on, wrapping. */
static void queue(const char *text)
{
	for (; *text; text++) {
		put(ring->last, SERIAL_PORT, text, 1);
		ring->last = (ring->last + 1) % ring_max;
	}
}

static void test_ring(void)
{
	ring = aligned_alloc(PAGE, PAGE);
	CHECK(ring != NULL);
	if (!ring)
		return;
	ring_max = (PAGE - sizeof(*ring)) / sizeof(ring->coalesced_mmio[0]);
	setup();
	ioport_drain(&io); /* no ring yet: nothing to do */

	new_ring(0);
	queue("abc\n");
	ioport_drain(&io);
	CHECK(strcmp(console(), "abc\n") == 0);
	CHECK(ring->first == 4 && ring->last == 4);
	ioport_drain(&io); /* empty */
	CHECK(ring->first == 4);

	/* in order across the end of the ring */
	new_ring(ring_max - 2);
	queue("wrap\n");
	CHECK(ring->last == 3);
	ioport_drain(&io);
	CHECK(strcmp(console(), "wrap\n") == 0 && ring->first == 3);

	/* an entry too long for any port stops the replay there */
	new_ring(10);
	queue("ok");
	put(ring->last, SERIAL_PORT, "12345678", 9);
	ring->last++;
	queue("no\n");
	ioport_drain(&io);
	CHECK(ring->first == 12);
	out_bytes(SERIAL_PORT, "\n", 1);
	CHECK(strcmp(console(), "ok\n") == 0);

	/* indices outside the ring: nothing is read */
	new_ring(ring_max);
	ring->last = 0;
	put(0, SERIAL_PORT, "z", 1);
	ioport_drain(&io);
	CHECK(ring->first == ring_max);
	new_ring(0xfffffff0);
	ring->last = 0;
	ioport_drain(&io);
	CHECK(ring->first == 0xfffffff0);
	serial_flush(&serial);
	CHECK(strcmp(console(), "") == 0);

	/* entries go through the bus: the exit port works from the ring */
	new_ring(0);
	put(0, DT_EXIT_PORT, "\x07", 1);
	ring->last = 1;
	ioport_drain(&io);
	CHECK(vm_stop_requested(&stop) && vm_stop_status(&stop) == 7);
	teardown();
	free(ring);
}

int main(void)
{
	test_exit_port();
	test_serial();
	test_unhandled();
	test_ring();
	return check_exit();
}
