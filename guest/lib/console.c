// SPDX-License-Identifier: MIT
/*
 * printf to the 16550 UART and exit through the exit port. vuvm's UART is
 * always ready to transmit, so we write THR without polling LSR. Ring 3
 * cannot do port I/O here (see io.h), so output is collected in a buffer
 * and written with one syscall per buffer; a lock keeps lines from
 * different CPUs whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "lib/console.h"

static uint16_t serial_port;
static uint16_t exit_port;
static volatile int console_lock;

/* Bytes waiting for flush(); used under the lock only. */
static char out_buf[256];
static size_t out_len;

void console_init(uint16_t serial, uint16_t exit_io)
{
	serial_port = serial;
	exit_port = exit_io;
	crash_serial_port = serial;
	crash_exit_port = exit_io;
}

static void lock(void)
{
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

static void unlock(void)
{
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

static void flush(void)
{
	if (serial_port && out_len)
		pio_write(serial_port, out_buf, out_len);
	out_len = 0;
}

static void serial_put(void *ctx, char c)
{
	out_buf[out_len++] = c;
	if (out_len == sizeof(out_buf))
		flush();
}

void console_write(const char *s, size_t len)
{
	lock();
	while (len--)
		serial_put(NULL, *s++);
	flush();
	unlock();
}

int vprintf(const char *fmt, va_list ap)
{
	int n;

	lock();
	n = vformat(serial_put, NULL, fmt, ap);
	flush();
	unlock();
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	lock();
	while (*s)
		serial_put(NULL, *s++);
	serial_put(NULL, '\n');
	flush();
	unlock();
	return 0;
}

void exit(int status)
{
	if (exit_port)
		outl(exit_port, status);
	/* vuvm stops at the exit port write; reaching here means no port. */
	sys_call(SYS_SHUTDOWN, 0, 0, 0);
	for (;;)
		cpu_relax();
}
