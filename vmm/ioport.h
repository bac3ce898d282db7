/* SPDX-License-Identifier: MIT */
/*
 * The guest's I/O port space: the UART at 0x3f8, the exit port at 0xf4,
 * and everything else reading all-ones and ignoring writes (PC guests
 * probe ports), logged once per port.
 */
#ifndef VUVM_VMM_IOPORT_H
#define VUVM_VMM_IOPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/machine.h"

/*
 * Emulates one @size-byte access to @port by vCPU @cpu: a write consumes
 * @data, a read fills it. A write to the exit port stops the machine.
 */
void ioport_access(struct machine *m, unsigned int cpu, uint16_t port,
		   bool is_write, uint8_t *data, unsigned int size);

#endif
