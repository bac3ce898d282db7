/* SPDX-License-Identifier: MIT */
/*
 * The guest console: an 8250/16550 UART at I/O port 0x3f8 without
 * interrupts. Bytes written to THR go to vuvm's output one line at a time;
 * LSR always reads "transmitter empty". In JSON mode only lines starting
 * with SERIAL_JSON_PREFIX are written, without the prefix.
 */
#ifndef VUVM_VMM_SERIAL_H
#define VUVM_VMM_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERIAL_PORT	   0x3f8
#define SERIAL_NR_PORTS	   8
#define SERIAL_JSON_PREFIX "VUVM-JSON: "
#define SERIAL_LINE_MAX	   4096

struct serial {
	pthread_mutex_t lock;
	int out_fd;
	bool json;
	bool overlong; /* the current line already overflowed the buffer */
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	size_t len;
	char line[SERIAL_LINE_MAX];
};

/* Prepares @s to write to @out_fd; @json selects JSON-only output. */
void serial_init(struct serial *s, int out_fd, bool json);

/*
 * Emulates a one-byte access to register @offset (0..7) from any vCPU
 * thread: a write consumes *@data, a read fills it.
 */
void serial_access(struct serial *s, unsigned int offset, bool is_write,
		   uint8_t *data);

/* Writes out a pending partial line; call once the guest has stopped. */
void serial_flush(struct serial *s);

/* Releases @s. */
void serial_destroy(struct serial *s);

#endif
