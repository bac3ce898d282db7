// SPDX-License-Identifier: MIT
/*
 * The userspace IOAPIC without KVM: its register file as the guest sees it
 * through IOREGSEL/IOWIN, and the MSI route tables it hands its sink (a
 * recorder here, KVM_SET_GSI_ROUTING in vuvm).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "tests/check.h"
#include "vmm/ioapic.h"

struct recorder {
	unsigned int calls;
	int fail; /* next calls return this while nonzero */
	unsigned int nr;
	struct ioapic_route routes[IOAPIC_PINS];
};

static int record(void *ctx, const struct ioapic_route *routes, unsigned int nr)
{
	struct recorder *r = ctx;

	r->calls++;
	if (r->fail)
		return r->fail;
	r->nr = nr;
	memcpy(r->routes, routes, nr * sizeof(routes[0]));
	return 0;
}

static struct recorder rec;
static const struct ioapic_sink sink = { &rec, record };

static void mmio_write(struct ioapic *io, uint64_t off, uint32_t val,
		       unsigned int len)
{
	uint8_t data[8] = { 0 };

	memcpy(data, &val, len < 4 ? len : 4);
	CHECK(ioapic_mmio(io, IOAPIC_BASE + off, data, len, true));
}

static uint32_t mmio_read(struct ioapic *io, uint64_t off, unsigned int len)
{
	uint8_t data[8];
	uint32_t val = 0;

	memset(data, 0xaa, sizeof(data));
	CHECK(ioapic_mmio(io, IOAPIC_BASE + off, data, len, false));
	for (unsigned int i = len; i < sizeof(data); i++)
		CHECK(data[i] == 0xaa); /* nothing past the access */
	memcpy(&val, data, len < 4 ? len : 4);
	return val;
}

static void reg_write(struct ioapic *io, uint32_t reg, uint32_t val)
{
	mmio_write(io, IOAPIC_IOREGSEL, reg, 4);
	mmio_write(io, IOAPIC_IOWIN, val, 4);
}

static uint32_t reg_read(struct ioapic *io, uint32_t reg)
{
	mmio_write(io, IOAPIC_IOREGSEL, reg, 4);
	return mmio_read(io, IOAPIC_IOWIN, 4);
}

/* As guest/arch/x86_64/ioapic.c does: masked, target, then unmasked. */
static void route_pin(struct ioapic *io, unsigned int pin, uint32_t low,
		      uint8_t dest)
{
	reg_write(io, IOAPIC_REG_REDIR + 2 * pin, 1U << 16);
	reg_write(io, IOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)dest << 24);
	reg_write(io, IOAPIC_REG_REDIR + 2 * pin, low);
}

static void fresh(struct ioapic *io)
{
	memset(&rec, 0, sizeof(rec));
	ioapic_init(io, &sink);
}

static void test_reset_state(void)
{
	struct ioapic io;

	fresh(&io);
	CHECK(reg_read(&io, IOAPIC_REG_VER) == 0x00170011);
	CHECK(reg_read(&io, IOAPIC_REG_ID) == 0);
	CHECK(reg_read(&io, IOAPIC_REG_ARB) == 0);
	for (unsigned int pin = 0; pin < IOAPIC_PINS; pin++) {
		CHECK(reg_read(&io, IOAPIC_REG_REDIR + 2 * pin) == 1U << 16);
		CHECK(reg_read(&io, IOAPIC_REG_REDIR + 2 * pin + 1) == 0);
	}
	CHECK(rec.calls == 0);
	ioapic_destroy(&io);
}

static void test_id_and_read_only(void)
{
	struct ioapic io;

	fresh(&io);
	mmio_write(&io, IOAPIC_IOREGSEL, 0x1234, 4);
	CHECK(mmio_read(&io, IOAPIC_IOREGSEL, 4) == 0x34);
	reg_write(&io, IOAPIC_REG_ID, 0xffffffff);
	CHECK(reg_read(&io, IOAPIC_REG_ID) == 0x0f000000);
	CHECK(reg_read(&io, IOAPIC_REG_ARB) == 0x0f000000);
	reg_write(&io, IOAPIC_REG_VER, 0);
	reg_write(&io, IOAPIC_REG_ARB, 0);
	CHECK(reg_read(&io, IOAPIC_REG_VER) == 0x00170011);
	CHECK(reg_read(&io, IOAPIC_REG_ARB) == 0x0f000000);
	/* Delivery status and remote IRR are the IOAPIC's, not the guest's. */
	reg_write(&io, IOAPIC_REG_REDIR, 0xffffffff);
	CHECK(reg_read(&io, IOAPIC_REG_REDIR) == 0x1afff);
	reg_write(&io, IOAPIC_REG_REDIR + 1, 0xffffffff);
	CHECK(reg_read(&io, IOAPIC_REG_REDIR + 1) == 0xff000000);
	CHECK(rec.calls == 0); /* still masked: no route to install */
	ioapic_destroy(&io);
}

static void test_fixed_physical_route(void)
{
	struct ioapic io;

	fresh(&io);
	route_pin(&io, 16, 0x30, 1);
	CHECK(rec.calls == 1); /* the masked steps changed no route */
	CHECK(rec.nr == 1);
	CHECK(rec.routes[0].gsi == 16);
	CHECK(rec.routes[0].address_lo == 0xfee01000);
	CHECK(rec.routes[0].data == 0x30);
	CHECK(reg_read(&io, IOAPIC_REG_REDIR + 32) == 0x30);
	CHECK(reg_read(&io, IOAPIC_REG_REDIR + 33) == 0x01000000);

	/* The same value again changes nothing KVM needs to hear. */
	reg_write(&io, IOAPIC_REG_REDIR + 32, 0x30);
	CHECK(rec.calls == 1);

	/* A second pin: the whole table, in pin order. */
	route_pin(&io, 17, 0x31, 0);
	CHECK(rec.nr == 2);
	CHECK(rec.routes[0].gsi == 16 && rec.routes[1].gsi == 17);
	CHECK(rec.routes[1].address_lo == 0xfee00000);
	CHECK(rec.routes[1].data == 0x31);

	/* Masking removes the route. */
	reg_write(&io, IOAPIC_REG_REDIR + 32, 0x30 | 1U << 16);
	CHECK(rec.nr == 1 && rec.routes[0].gsi == 17);
	reg_write(&io, IOAPIC_REG_REDIR + 34, 0x31 | 1U << 16);
	CHECK(rec.nr == 0);
	ioapic_destroy(&io);
}

static void test_logical_lowest_level(void)
{
	struct ioapic io;

	fresh(&io);
	/* Lowest priority, logical destination 0x0c. */
	route_pin(&io, 3, 0x41 | 1U << 8 | 1U << 11, 0x0c);
	CHECK(rec.nr == 1);
	CHECK(rec.routes[0].address_lo ==
	      (0xfee00000 | 0x0c << 12 | MSI_ADDR_LOGICAL |
	       MSI_ADDR_REDIR_HINT));
	CHECK(rec.routes[0].data == (0x41 | 1U << 8));

	/* Level-triggered, active low: kept in the register, routed edge. */
	reg_write(&io, IOAPIC_REG_REDIR + 6, 0x41 | 1U << 15 | 1U << 13);
	CHECK(reg_read(&io, IOAPIC_REG_REDIR + 6) ==
	      (0x41 | 1U << 15 | 1U << 13));
	CHECK(rec.nr == 1);
	CHECK(rec.routes[0].data == 0x41);
	CHECK(rec.routes[0].address_lo == (0xfee00000 | 0x0c << 12));

	/* Broadcast stays broadcast. */
	reg_write(&io, IOAPIC_REG_REDIR + 7, 0xff000000);
	CHECK(rec.routes[0].address_lo == 0xfeeff000);
	ioapic_destroy(&io);
}

static void test_not_routed(void)
{
	static const uint32_t lows[] = {
		0x30 | 2U << 8, /* SMI */
		0x30 | 4U << 8, /* NMI */
		0x30 | 5U << 8, /* INIT */
		0x30 | 7U << 8, /* ExtINT */
		0x0f,		/* reserved vector */
	};
	struct ioapic io;

	fresh(&io);
	for (unsigned int i = 0; i < sizeof(lows) / sizeof(lows[0]); i++) {
		struct ioapic_route r;

		route_pin(&io, 20, lows[i], 0);
		CHECK(rec.nr == 0);
		CHECK(reg_read(&io, IOAPIC_REG_REDIR + 40) == lows[i]);
		CHECK(ioapic_rte_route(20, lows[i], &r) == -ENOENT);
	}
	ioapic_destroy(&io);
}

static void test_bad_accesses(void)
{
	struct ioapic io;
	uint8_t data[8] = { 0 };

	fresh(&io);
	CHECK(!ioapic_mmio(&io, IOAPIC_BASE - 4, data, 4, false));
	CHECK(!ioapic_mmio(&io, IOAPIC_BASE + IOAPIC_SIZE, data, 4, true));
	/* Wrong sizes: ignored, reads return zeros. */
	mmio_write(&io, IOAPIC_IOREGSEL, IOAPIC_REG_REDIR + 32, 4);
	mmio_write(&io, IOAPIC_IOWIN, 0x30, 1);
	mmio_write(&io, IOAPIC_IOWIN, 0x30, 2);
	mmio_write(&io, IOAPIC_IOWIN, 0x30, 8);
	mmio_write(&io, IOAPIC_IOREGSEL, 0x01, 2);
	CHECK(mmio_read(&io, IOAPIC_IOWIN, 2) == 0);
	CHECK(mmio_read(&io, IOAPIC_IOREGSEL, 8) == 0);
	CHECK(mmio_read(&io, IOAPIC_IOREGSEL, 4) == IOAPIC_REG_REDIR + 32);
	CHECK(mmio_read(&io, IOAPIC_IOWIN, 4) == 1U << 16);
	/* No register at other offsets, EOI (0x40) included: version 0x11. */
	mmio_write(&io, 0x40, 0x30, 4);
	mmio_write(&io, 0x04, 0x30, 4);
	mmio_write(&io, 0xffc, 0x30, 4);
	CHECK(mmio_read(&io, 0x40, 4) == 0);
	CHECK(mmio_read(&io, 0x14, 4) == 0);
	/* Registers past the last pin, and holes below the table. */
	reg_write(&io, IOAPIC_REG_REDIR + 2 * IOAPIC_PINS, 0x30);
	reg_write(&io, 0x03, 0x30);
	reg_write(&io, 0xff, 0x30);
	CHECK(reg_read(&io, IOAPIC_REG_REDIR + 2 * IOAPIC_PINS) == 0);
	CHECK(reg_read(&io, 0x03) == 0);
	CHECK(reg_read(&io, 0xff) == 0);
	CHECK(rec.calls == 0);
	for (unsigned int pin = 0; pin < IOAPIC_PINS; pin++)
		CHECK(reg_read(&io, IOAPIC_REG_REDIR + 2 * pin) == 1U << 16);
	ioapic_destroy(&io);
}

static void test_sink_failure_retried(void)
{
	struct ioapic io;

	fresh(&io);
	rec.fail = -EIO;
	route_pin(&io, 16, 0x30, 0);
	CHECK(rec.calls == 1 && rec.nr == 0);
	/* The same entry again: KVM never got it, so it is sent again. */
	rec.fail = 0;
	reg_write(&io, IOAPIC_REG_REDIR + 32, 0x30);
	CHECK(rec.calls == 2 && rec.nr == 1 && rec.routes[0].gsi == 16);
	ioapic_destroy(&io);
}

struct racer {
	struct ioapic *io;
	unsigned int pin;
};

/* Two vCPUs programming pins at once: IOREGSEL is shared, so writes may
 * land on the other's pin (as on hardware), but the state and the tables
 * the sink receives must stay consistent. */
static void *race(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < 2000; i++)
		reg_write(r->io, IOAPIC_REG_REDIR + 2 * r->pin,
			  (0x40 + r->pin) | (i & 1U) << 16);
	return NULL;
}

static void test_threads(void)
{
	struct ioapic io;
	struct racer r[2] = { { &io, 5 }, { &io, 6 } };
	pthread_t t[2];

	fresh(&io);
	for (int i = 0; i < 2; i++)
		REQUIRE(!pthread_create(&t[i], NULL, race, &r[i]));
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* Whatever the interleaving, the state stays a valid table. */
	CHECK(rec.nr <= 2);
	for (unsigned int i = 0; i < rec.nr; i++)
		CHECK(rec.routes[i].gsi == 5 || rec.routes[i].gsi == 6);
	reg_write(&io, IOAPIC_REG_REDIR + 10, 0x45);
	reg_write(&io, IOAPIC_REG_REDIR + 12, 0x46);
	CHECK(rec.nr == 2 && rec.routes[0].data == 0x45 &&
	      rec.routes[1].data == 0x46);
	ioapic_destroy(&io);
}

int main(void)
{
	test_reset_state();
	test_id_and_read_only();
	test_fixed_physical_route();
	test_logical_lowest_level();
	test_not_routed();
	test_bad_accesses();
	test_sink_failure_retried();
	test_threads();
	return check_exit();
}
