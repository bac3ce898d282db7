/* SPDX-License-Identifier: MIT */
/*
 * vcpu.c's exit dispatch, exposed for its unit test
 * (tests/vmm/test_vcpu.c) so that exits can be fed without KVM.
 */
#ifndef VUVM_VMM_VCPU_INTERNAL_H
#define VUVM_VMM_VCPU_INTERNAL_H

#include "vmm/vcpu.h"

/*
 * Handles the exit described by @v->run (@v->run_size bytes, every field
 * untrusted): port I/O and MMIO go to @v->exits; anything the guest cannot
 * continue from is logged and requests a stop through @v->stop. @v->fd
 * is only used to read rip for the log (a test may leave it -1).
 * Returns 0 to run on, or nonzero when the guest cannot continue.
 */
int vcpu_handle_exit(struct vcpu *v);

#endif
