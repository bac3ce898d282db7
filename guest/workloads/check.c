// SPDX-License-Identifier: MIT
/*
 * check: the guest half of vuvm-check. vuvm-check runs one scenario of
 * guest/check/catalogue.def per vuvm run, as "check,scenario=NAME"; this
 * entry finds the scenario's code and runs it, and the scenario prints one
 * verdict per check of the catalogue it owns (check/check.h).
 *
 * Parameters: scenario=NAME (required), ring=split|packed and
 * in_order=0|1 (read by the packed-ring scenarios), stall=SEC (how long a
 * request may take, default 5). Scenarios poll for completions.
 */
#include <stdio.h>
#include <string.h>

#include "check/check.h"
#include "lib/kv.h"
#include "lib/report.h"
#include "workloads/check_scenarios.h"
#include "workloads/virtio_common.h"
#include "workloads/workloads.h"

static const struct {
	const char *name;
	int (*run)(const char *args);
} scenario_code[] = {
	{ "blk-layout", check_blk_layout },
	{ "blk-mixed-chain", check_blk_mixed },
	{ "blk-requests", check_blk_requests },
	{ "blk-notify", check_blk_notify },
	{ "blk-notify-flags", check_blk_notify_flags },
	{ "blk-queue-sizes", check_blk_queue_sizes },
	{ "blk-wrap", check_blk_wrap },
	{ "blk-device", check_blk_device },
	{ "blk-mq", check_blk_mq },
	{ "blk-features", check_blk_features },
	{ "rng-layout", check_rng_layout },
	{ "rng-mixed-chain", check_rng_mixed },
	{ "rng-requests", check_rng_requests },
	{ "rng-wrap", check_rng_wrap },
	{ "net-layout", check_net_layout },
	{ "net-mixed-chain", check_net_mixed },
	{ "net-traffic", check_net_traffic },
	{ "net-wrap", check_net_wrap },
	{ "net-mrg", check_net_mrg },
	{ "net-mq", check_net_mq },
	{ "vu-mem-regions", check_vu_mem_regions },
	{ "vu-reset", check_vu_reset },
	{ "vu-stop", check_vu_stop },
	{ "vu-mem-max", check_vu_mem_max },
	{ "vu-mem-hotplug", check_vu_mem_hotplug },
	{ "fs-layout", check_fs_layout },
	{ "fs-requests", check_fs_requests },
	{ "fs-mq", check_fs_mq },
	{ "blk-packed", check_blk_packed },
	{ "blk-packed-sizes", check_blk_packed_sizes },
	{ "blk-packed-notify", check_blk_packed_notify },
	{ "blk-in-order-packed", check_blk_in_order_packed },
	{ "blk-packed-wrap", check_blk_packed_wrap },
	{ "blk-in-order-split", check_blk_in_order_split },
};

int check_main(const char *args)
{
	char name[32];

	if (kv_get(args, "scenario", name, sizeof(name)) <= 0) {
		printf("ERROR: check needs scenario=NAME (vuvm-check "
		       "--list)\n");
		return WORKLOAD_BAD_REQUEST;
	}
	for (size_t i = 0; i < sizeof(scenario_code) / sizeof(scenario_code[0]);
	     i++)
		if (!strcmp(name, scenario_code[i].name))
			return scenario_code[i].run(args);
	printf("ERROR: check: no scenario '%s'\n", name);
	return WORKLOAD_BAD_REQUEST;
}

void check_expect_irq(struct vio_dev *dev, struct check_acc *a, bool want,
		      const char *what)
{
	bool got = vw_irq_within(dev,
				 want ? CHECK_IRQ_WAIT_MS : CHECK_IRQ_QUIET_MS);

	if (want)
		check_expect(a, got, "an interrupt",
			     "none within %u ms after %s", CHECK_IRQ_WAIT_MS,
			     what);
	else
		check_expect(a, !got, "no interrupt",
			     "one within %u ms after %s", CHECK_IRQ_QUIET_MS,
			     what);
}
