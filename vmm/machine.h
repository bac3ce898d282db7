/* SPDX-License-Identifier: MIT */
/*
 * The machine: one run of a guest, from opening /dev/kvm to the exit
 * status. Its state is machine.c's alone; the modules it drives get the
 * small interfaces they need (stop.h, struct vcpu_exits, mmio_signals,
 * ioapic_sink), so only main.c calls in here.
 */
#ifndef VUVM_VMM_MACHINE_H
#define VUVM_VMM_MACHINE_H

#include "vmm/config.h"

/*
 * Boots the guest described by @cfg and waits until it reports, fails or
 * times out. Returns the process exit status (the guest's, or VUVM_EXIT_*).
 */
int machine_run(const struct vuvm_config *cfg);

#endif
