/* SPDX-License-Identifier: MIT */
/*
 * The scenarios of vuvm-check's catalogue that the guest runs, one
 * function each (check.c dispatches on scenario=NAME). Each gets the
 * workload's parameters and returns the exit status.
 */
#ifndef VUVM_GUEST_WORKLOADS_CHECK_SCENARIOS_H
#define VUVM_GUEST_WORKLOADS_CHECK_SCENARIOS_H

#include <stdbool.h>

int check_blk_layout(const char *args);
int check_blk_mixed(const char *args);
int check_blk_requests(const char *args);
int check_blk_notify(const char *args);
int check_blk_notify_flags(const char *args);
int check_blk_queue_sizes(const char *args);
int check_blk_wrap(const char *args);
int check_blk_device(const char *args);
int check_blk_mq(const char *args);
int check_blk_features(const char *args);
int check_rng_layout(const char *args);
int check_rng_mixed(const char *args);
int check_rng_requests(const char *args);
int check_rng_wrap(const char *args);
int check_net_layout(const char *args);
int check_net_mixed(const char *args);
int check_net_traffic(const char *args);
int check_net_wrap(const char *args);
int check_net_mrg(const char *args);
int check_net_mq(const char *args);
int check_vu_mem_regions(const char *args);
int check_vu_reset(const char *args);
int check_vu_stop(const char *args);
int check_vu_mem_max(const char *args);
int check_vu_mem_hotplug(const char *args);
int check_fs_layout(const char *args);
int check_fs_requests(const char *args);
int check_fs_mq(const char *args);
int check_blk_packed(const char *args);
int check_blk_packed_sizes(const char *args);
int check_blk_packed_notify(const char *args);
int check_blk_in_order_packed(const char *args);
int check_blk_packed_wrap(const char *args);
int check_blk_in_order_split(const char *args);
int check_vu_reconnect(const char *args);

struct check_acc;
struct vio_dev;

/*
 * For the notification checks (check_blk.c, check_packed.c): records in
 * @a whether @dev's interrupt came within CHECK_IRQ_WAIT_MS (@want: one is
 * owed) or stayed away for CHECK_IRQ_QUIET_MS (none is owed), after @what.
 */
#define CHECK_IRQ_WAIT_MS  500
#define CHECK_IRQ_QUIET_MS 100
/* Between two spurious kicks (blk and rng checks), so that each reaches
 * the device alone. */
#define CHECK_SPURIOUS_GAP_NS 30000000ull
void check_expect_irq(struct vio_dev *dev, struct check_acc *a, bool want,
		      const char *what);

#endif
