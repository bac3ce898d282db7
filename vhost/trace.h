/* SPDX-License-Identifier: MIT */
/*
 * Human-readable vhost-user messages, for `--trace vhost` and test failures:
 * one-line renderings of whole messages in either direction, on the main
 * socket or on the backend channel. Names and payload layouts come from the
 * request table (requests.h).
 *
 * A rendered line looks like
 *
 *	SET_VRING_ADDR flags=v1|need_reply size=40 {index=0 flags=0x0
 *	desc=0x7f0000000000 used=0x7f0000002000 avail=0x7f0000001000
 *	log=0x0} fds=0
 *
 * (on one line). Nothing here trusts the message: unknown requests, unknown
 * flag bits and payload sizes that do not fit the request are rendered as
 * such ("UNKNOWN(99)", "v1|0x30", "{bad size 3: 01 02 03}").
 */
#ifndef VUVM_VHOST_TRACE_H
#define VUVM_VHOST_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/msg.h"
#include "vhost/requests.h" /* the names: vhu_request_name() and co. */

/*
 * Renders @msg as one line into @buf, always NUL-terminated and cut at @len
 * bytes. @backend_channel selects the backend → frontend request names and
 * payloads. Returns the number of characters written (without the NUL).
 */
size_t vhu_trace_format(char *buf, size_t len, const struct vhu_msg *msg,
			bool backend_channel);

/*
 * vhu_trace_format() for a connection that acked VIRTIO_F_RING_PACKED when
 * @packed: SET_VRING_ADDR names its addresses desc, driver (the driver
 * event suppression area) and device (the device's), and SET_VRING_BASE
 * and GET_VRING_BASE's reply add the 32-bit position decoded, e.g.
 * "index=0 num=2147516416 (avail=0 wrap=1 used=0 wrap=1)".
 */
size_t vhu_trace_format_ring(char *buf, size_t len, const struct vhu_msg *msg,
			     bool backend_channel, bool packed);

#endif
