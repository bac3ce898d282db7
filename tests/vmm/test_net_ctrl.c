// SPDX-License-Identifier: MIT
/*
 * The net control queue vuvm serves itself (vmm/net_ctrl.c), driven the
 * way a guest driver drives it: commands written into guest memory, a
 * chain made available, a kick on the eventfd, then the ack byte and the
 * used entry read back after the call eventfd fires. What is checked:
 * when a device gets the queue; VQ_PAIRS_SET's accepted and refused
 * values and what reaches the device; every other command (MAC, RX mode,
 * announce, short or split commands) answered as it must be; a chain
 * without room for the ack; rings outside RAM; the thread's fds closed at
 * stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tests/check.h"
#include "virtio/virtio_config.h"
#include "virtio/virtio_ids.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_ring.h"
#include "virtio/virtio_ring_packed.h"
#include "vmm/net_ctrl.h"

#define QSIZE	  16
#define RING_GPA  0x100000ull /* desc; avail +0x1000, used +0x2000 */
#define CMD_GPA	  0x110000ull
#define ACK_GPA	  0x110100ull
#define ACK_UNSET 0xee

static struct mem_table mem;

/* What the device was asked to do through set_pairs. */
struct pairs_rec {
	unsigned int calls;
	unsigned int last;
	int result; /* what set_pairs answers */
};

static int record_pairs(void *opaque, unsigned int pairs)
{
	struct pairs_rec *r = opaque;

	__atomic_store_n(&r->last, pairs, __ATOMIC_RELEASE);
	__atomic_add_fetch(&r->calls, 1, __ATOMIC_ACQ_REL);
	return r->result;
}

static void *gpa(uint64_t addr, uint64_t len)
{
	return mem_gpa_to_host(&mem, addr, len);
}

/* The driver's side of the ring: where the next chain goes. */
struct driver {
	struct vdev_queue q;
	uint16_t avail_idx;
	uint16_t next_desc;
};

static void driver_init(struct driver *drv, unsigned int index)
{
	memset(gpa(RING_GPA, 0x3000), 0, 0x3000);
	*drv = (struct driver){
		.q = { .index = index,
		       .size = QSIZE,
		       .desc_gpa = RING_GPA,
		       .driver_gpa = RING_GPA + 0x1000,
		       .device_gpa = RING_GPA + 0x2000,
		       .kick_fd = eventfd(0, EFD_CLOEXEC),
		       .call_fd = eventfd(0, EFD_CLOEXEC) },
	};
}

static void driver_close(struct driver *drv)
{
	close(drv->q.kick_fd);
	close(drv->q.call_fd);
}

static void add_desc(struct driver *drv, uint64_t addr, uint32_t len,
		     uint16_t flags)
{
	struct virtq_desc *desc = gpa(RING_GPA, virtq_desc_size(QSIZE));
	uint16_t i = drv->next_desc++ % QSIZE;

	desc[i] = (struct virtq_desc){ addr, len, flags,
				       (uint16_t)((i + 1) % QSIZE) };
}

/* Makes the chain starting at @head available and kicks. */
static void make_available(struct driver *drv, uint16_t head)
{
	struct virtq_avail *avail = gpa(drv->q.driver_gpa, 4 + 2 * QSIZE);
	uint64_t one = 1;

	avail->ring[drv->avail_idx % QSIZE] = head;
	drv->avail_idx++;
	__atomic_store_n(&avail->idx, drv->avail_idx, __ATOMIC_RELEASE);
	CHECK(write(drv->q.kick_fd, &one, sizeof(one)) == sizeof(one));
}

/* Waits (2 s at most) for the call eventfd and the used entry of @head;
 * returns its length, or -1 when none came. */
static int wait_used(struct driver *drv, uint16_t head)
{
	struct virtq_used *used = gpa(drv->q.device_gpa, 4 + 8 * QSIZE);
	struct pollfd p = { drv->q.call_fd, POLLIN, 0 };
	uint64_t n;

	if (poll(&p, 1, 2000) != 1 ||
	    read(drv->q.call_fd, &n, sizeof(n)) != sizeof(n))
		return -1;
	if (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) != drv->avail_idx)
		return -1;
	if (used->ring[(drv->avail_idx - 1) % QSIZE].id != head)
		return -1;
	return (int)used->ring[(drv->avail_idx - 1) % QSIZE].len;
}

/* Sends @cmd (@len bytes, split after @split when nonzero) with a one-byte
 * ack; returns the ack, or -1 when no used entry of length 1 came. */
static int send_split(struct driver *drv, const uint8_t *cmd, uint32_t len,
		      uint32_t split)
{
	uint8_t *ack = gpa(ACK_GPA, 1);
	uint16_t head = drv->next_desc % QSIZE;

	memcpy(gpa(CMD_GPA, len), cmd, len);
	*ack = ACK_UNSET;
	if (split) {
		add_desc(drv, CMD_GPA, split, VIRTQ_DESC_F_NEXT);
		add_desc(drv, CMD_GPA + split, len - split, VIRTQ_DESC_F_NEXT);
	} else {
		add_desc(drv, CMD_GPA, len, VIRTQ_DESC_F_NEXT);
	}
	add_desc(drv, ACK_GPA, 1, VIRTQ_DESC_F_WRITE);
	make_available(drv, head);
	return wait_used(drv, head) == 1 ? *ack : -1;
}

static int send_cmd(struct driver *drv, const uint8_t *cmd, uint32_t len)
{
	return send_split(drv, cmd, len, 0);
}

/* Whether @fd is closed. */
static bool closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

static void test_wanted(void)
{
	uint64_t ctrl = VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ);

	CHECK(netctrl_wanted(VIRTIO_ID_NET, ctrl, 4));
	CHECK(netctrl_wanted(VIRTIO_ID_NET, ctrl, 2));
	CHECK(!netctrl_wanted(VIRTIO_ID_NET, ctrl, 5));	  /* backend's */
	CHECK(!netctrl_wanted(VIRTIO_ID_NET, 0, 4));	  /* no CTRL_VQ */
	CHECK(!netctrl_wanted(VIRTIO_ID_BLOCK, ctrl, 4)); /* not net */
	CHECK(!netctrl_wanted(VIRTIO_ID_NET, ctrl, VDEV_MAX_QUEUES));
}

/* Two pairs: the control queue is queue 4. */
static void test_pairs(void)
{
	struct pairs_rec rec = { 0 };
	struct driver drv;
	struct netctrl c;
	int fds[3];

	driver_init(&drv, 4);
	netctrl_init(&c, "net0", &mem, 4, record_pairs, &rec);
	CHECK(netctrl_start(&c, &drv.q, VIRTIO_BIT(VIRTIO_F_VERSION_1)) == 0);
	CHECK(c.running);
	CHECK(netctrl_start(&c, &drv.q, 0) == -EBUSY);

	CHECK(send_cmd(&drv, (uint8_t[]){ 4, 0, 1, 0 }, 4) == VIRTIO_NET_OK);
	CHECK(rec.calls == 1 && rec.last == 1);
	CHECK(send_cmd(&drv, (uint8_t[]){ 4, 0, 2, 0 }, 4) == VIRTIO_NET_OK);
	CHECK(rec.calls == 2 && rec.last == 2);
	/* 0 and more than the pairs there are: refused, never applied */
	CHECK(send_cmd(&drv, (uint8_t[]){ 4, 0, 0, 0 }, 4) == VIRTIO_NET_ERR);
	CHECK(send_cmd(&drv, (uint8_t[]){ 4, 0, 3, 0 }, 4) == VIRTIO_NET_ERR);
	CHECK(send_cmd(&drv, (uint8_t[]){ 4, 0, 1, 1 }, 4) == VIRTIO_NET_ERR);
	CHECK(send_cmd(&drv, (uint8_t[]){ 4, 0, 1 }, 3) == VIRTIO_NET_ERR);
	CHECK(rec.calls == 2);
	/* a command split over two readable descriptors is gathered */
	CHECK(send_split(&drv, (uint8_t[]){ 4, 0, 1, 0 }, 4, 2) ==
	      VIRTIO_NET_OK);
	CHECK(rec.calls == 3 && rec.last == 1);
	/* the device could not apply it: ERR */
	rec.result = -EIO;
	CHECK(send_cmd(&drv, (uint8_t[]){ 4, 0, 2, 0 }, 4) == VIRTIO_NET_ERR);
	CHECK(rec.calls == 4 && rec.last == 2);

	/* the thread's own fds: dups, closed at stop; the queue's stay */
	fds[0] = c.kick_fd;
	fds[1] = c.call_fd;
	fds[2] = c.stop_fd;
	CHECK(fds[0] != drv.q.kick_fd && fds[1] != drv.q.call_fd);
	netctrl_stop(&c);
	CHECK(!c.running);
	CHECK(closed(fds[0]) && closed(fds[1]) && closed(fds[2]));
	CHECK(!closed(drv.q.kick_fd) && !closed(drv.q.call_fd));
	netctrl_stop(&c); /* twice: nothing */
	driver_close(&drv);
}

/* Every command but VQ_PAIRS_SET is ERR, whatever its class. */
static void test_other_commands(void)
{
	struct pairs_rec rec = { 0 };
	struct driver drv;
	struct netctrl c;
	uint8_t mac_set[] = { VIRTIO_NET_CTRL_MAC,
			      VIRTIO_NET_CTRL_MAC_ADDR_SET,
			      0x52,
			      0x54,
			      0,
			      1,
			      2,
			      3 };
	uint8_t promisc[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
			      1 };
	uint8_t allmulti[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI,
			       0 };
	uint8_t announce[] = { VIRTIO_NET_CTRL_ANNOUNCE,
			       VIRTIO_NET_CTRL_ANNOUNCE_ACK };
	uint8_t rss[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, 1,
			  0 };

	driver_init(&drv, 2);
	netctrl_init(&c, "net1", &mem, 2, record_pairs, &rec);
	CHECK(netctrl_start(&c, &drv.q, 0) == 0);
	CHECK(send_cmd(&drv, mac_set, sizeof(mac_set)) == VIRTIO_NET_ERR);
	CHECK(send_cmd(&drv, promisc, sizeof(promisc)) == VIRTIO_NET_ERR);
	CHECK(send_cmd(&drv, allmulti, sizeof(allmulti)) == VIRTIO_NET_ERR);
	CHECK(send_cmd(&drv, announce, sizeof(announce)) == VIRTIO_NET_ERR);
	CHECK(send_cmd(&drv, rss, sizeof(rss)) == VIRTIO_NET_ERR);
	/* one pair: 2 is beyond it, 1 is fine */
	CHECK(send_cmd(&drv, (uint8_t[]){ 4, 0, 2, 0 }, 4) == VIRTIO_NET_ERR);
	CHECK(send_cmd(&drv, (uint8_t[]){ 4, 0, 1, 0 }, 4) == VIRTIO_NET_OK);
	CHECK(rec.calls == 1 && rec.last == 1);

	/* no writable byte for the ack: used with length 0, nothing
	 * written; the queue goes on serving */
	{
		uint16_t head = drv.next_desc % QSIZE;

		memcpy(gpa(CMD_GPA, 4), (uint8_t[]){ 4, 0, 1, 0 }, 4);
		add_desc(&drv, CMD_GPA, 4, 0);
		make_available(&drv, head);
		CHECK(wait_used(&drv, head) == 0);
		CHECK(rec.calls == 2);
	}
	CHECK(send_cmd(&drv, promisc, sizeof(promisc)) == VIRTIO_NET_ERR);
	netctrl_stop(&c);
	driver_close(&drv);
}

/* A packed control queue (RING_PACKED acked): the command in a chain of
 * packed descriptors, the ack and a used descriptor with the used wrap
 * counter, over more than one lap of the ring. Also: a device area that
 * leaves RAM is refused with the packed sizes (4 bytes). */
static void test_packed(void)
{
	struct virtq_packed_desc *ring =
		gpa(RING_GPA, virtq_packed_desc_size(QSIZE));
	uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		     VIRTIO_BIT(VIRTIO_F_RING_PACKED);
	struct pairs_rec rec = { 0 };
	uint16_t slot = 0;
	bool wrap = true;
	struct driver drv;
	struct netctrl c;

	driver_init(&drv, 4);
	netctrl_init(&c, "net0", &mem, 4, record_pairs, &rec);
	CHECK(netctrl_start(&c, &drv.q, f) == 0);
	for (unsigned int i = 0; i < 20; i++) {
		uint16_t avail = wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
		uint16_t used =
			wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
		uint16_t next = (uint16_t)((slot + 1) % QSIZE);
		uint8_t *ack = gpa(ACK_GPA, 1);
		struct pollfd p = { drv.q.call_fd, POLLIN, 0 };
		uint64_t one = 1, n;

		memcpy(gpa(CMD_GPA, 4), (uint8_t[]){ 4, 0, 1 + i % 2, 0 }, 4);
		*ack = ACK_UNSET;
		ring[next] = (struct virtq_packed_desc){
			ACK_GPA, 1, 7,
			(uint16_t)(VIRTQ_DESC_F_WRITE |
				   (next < slot ? avail ^ 0x8080 : avail))
		};
		ring[slot] = (struct virtq_packed_desc){ CMD_GPA, 4, 7, 0 };
		__atomic_store_n(&ring[slot].flags,
				 (uint16_t)(VIRTQ_DESC_F_NEXT | avail),
				 __ATOMIC_RELEASE);
		CHECK(write(drv.q.kick_fd, &one, sizeof(one)) == sizeof(one));
		CHECK(poll(&p, 1, 2000) == 1 &&
		      read(drv.q.call_fd, &n, sizeof(n)) == sizeof(n));
		CHECK_EQ(__atomic_load_n(&ring[slot].flags, __ATOMIC_ACQUIRE) &
				 (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED),
			 used);
		CHECK_EQ(ring[slot].id, 7);
		CHECK_EQ(ring[slot].len, 1);
		CHECK_MSG(*ack == VIRTIO_NET_OK, "command %u: ack %u", i, *ack);
		CHECK_EQ(rec.last, 1 + i % 2);
		slot = (uint16_t)(slot + 2);
		if (slot >= QSIZE) {
			slot = (uint16_t)(slot - QSIZE);
			wrap = !wrap;
		}
	}
	CHECK_EQ(rec.calls, 20);
	netctrl_stop(&c);
	driver_close(&drv);

	driver_init(&drv, 4);
	drv.q.device_gpa = mem.regions[0].size - 4; /* 4 bytes: in RAM */
	netctrl_init(&c, "net0", &mem, 4, record_pairs, &rec);
	CHECK(netctrl_start(&c, &drv.q, f) == 0);
	netctrl_stop(&c);
	CHECK(netctrl_start(&c, &drv.q, VIRTIO_BIT(VIRTIO_F_VERSION_1)) ==
	      -EFAULT); /* a split used ring would leave RAM */
	driver_close(&drv);
}

static void test_outside_ram(void)
{
	struct pairs_rec rec = { 0 };
	struct driver drv;
	struct netctrl c;

	driver_init(&drv, 4);
	drv.q.device_gpa = mem.regions[0].size - 8; /* used ring leaves RAM */
	netctrl_init(&c, "net0", &mem, 4, record_pairs, &rec);
	CHECK(netctrl_start(&c, &drv.q, 0) == -EFAULT);
	CHECK(!c.running);
	netctrl_stop(&c);
	driver_close(&drv);
}

int main(void)
{
	CHECK(mem_alloc(&mem, 4 << 20, false) == 0);
	test_wanted();
	test_pairs();
	test_other_commands();
	test_outside_ram();
	test_packed();
	mem_free(&mem);
	return check_exit();
}
