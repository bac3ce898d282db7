/* SPDX-License-Identifier: MIT */
/*
 * The serial console and the exit port, both found in the FDT.
 *
 * console_init: remembers the UART's and the exit port's I/O ports (0 means
 * absent: output is dropped, exit() triple-faults). Also hands them to the
 * ring-0 crash path.
 * console_write: raw bytes to the UART, under the console lock.
 * Formatted output is printf (stdio.h); exit is in stdlib.h.
 */
#ifndef VUVM_GUEST_CONSOLE_H
#define VUVM_GUEST_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

void console_init(uint16_t serial_port, uint16_t exit_port);
void console_write(const char *s, size_t len);

#endif
