// SPDX-License-Identifier: MIT
/*
 * 8250 UART: registers first, then the line buffer that turns THR bytes
 * into whole lines of console (or JSON) output.
 */
#define pr_fmt(fmt) "serial: " fmt
#include "vmm/serial.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vhost/log.h"

enum {
	UART_RBR_THR = 0,
	UART_IER = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define UART_LCR_DLAB	     0x80
#define UART_IIR_NO_INT	     0x01
#define UART_LSR_THRE	     0x20
#define UART_LSR_TEMT	     0x40
#define UART_MSR_CTS_DSR_DCD 0xb0

void serial_init(struct serial *s, int out_fd, bool json)
{
	memset(s, 0, offsetof(struct serial, line));
	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = out_fd;
	s->json = json;
}

static void serial_write_all(struct serial *s, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(s->out_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* console gone: the guest still runs */
		buf += n;
		len -= (size_t)n;
	}
}

/* Writes out the buffered line, or in JSON mode only its JSON object. */
static void serial_emit(struct serial *s)
{
	const size_t plen = sizeof(SERIAL_JSON_PREFIX) - 1;

	if (!s->json) {
		serial_write_all(s, s->line, s->len);
	} else if (!s->overlong && s->len >= plen &&
		   !memcmp(s->line, SERIAL_JSON_PREFIX, plen)) {
		serial_write_all(s, s->line + plen, s->len - plen);
	}
	s->len = 0;
}

static void serial_putc(struct serial *s, char c)
{
	s->line[s->len++] = c;
	if (c == '\n') {
		serial_emit(s);
		s->overlong = false;
	} else if (s->len == sizeof(s->line)) {
		if (s->json && !s->overlong)
			pr_warn("console line over %d bytes dropped in --json "
				"mode",
				SERIAL_LINE_MAX);
		serial_emit(s);
		s->overlong = true;
	}
}

static uint8_t serial_read(struct serial *s, unsigned int offset)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_RBR_THR:
		return dlab ? s->dll : 0;
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR_FCR:
		return UART_IIR_NO_INT;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR:
		return UART_MSR_CTS_DSR_DCD;
	default:
		return s->scr;
	}
}

static void serial_write(struct serial *s, unsigned int offset, uint8_t val)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (offset) {
	case UART_RBR_THR:
		if (dlab)
			s->dll = val;
		else
			serial_putc(s, (char)val);
		break;
	case UART_IER:
		if (dlab)
			s->dlm = val;
		else
			s->ier = val & 0x0f;
		break;
	case UART_LCR:
		s->lcr = val;
		break;
	case UART_MCR:
		s->mcr = val & 0x1f;
		break;
	case UART_SCR:
		s->scr = val;
		break;
	default: /* FCR, LSR, MSR: nothing to keep */
		break;
	}
}

void serial_access(struct serial *s, unsigned int offset, bool is_write,
		   uint8_t *data)
{
	pthread_mutex_lock(&s->lock);
	if (is_write)
		serial_write(s, offset, *data);
	else
		*data = serial_read(s, offset);
	pthread_mutex_unlock(&s->lock);
}

void serial_flush(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->len && !s->json)
		serial_emit(s);
	s->len = 0;
	pthread_mutex_unlock(&s->lock);
}

void serial_destroy(struct serial *s)
{
	pthread_mutex_destroy(&s->lock);
}
