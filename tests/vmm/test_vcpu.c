// SPDX-License-Identifier: MIT
/*
 * The vCPU's exit dispatch (vcpu_handle_exit(), vmm/vcpu_internal.h)
 * without KVM: a fake kvm_run in a malloc'd buffer is filled as KVM would
 * fill it for each exit reason, and a recorder stands in for the port I/O
 * and MMIO handlers. Asserts which handler was called with what, what it
 * answered back into kvm_run, and which stop status (if any) was asked.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/vmm/check.h"
#include "tests/vmm/log_capture.h"
#include "vmm/config.h"
#include "vmm/vcpu_internal.h"

#define RUN_SIZE  (3 * 4096)
#define PIO_DATA  4096 /* where KVM puts port I/O data: the second page */
#define MAX_CALLS 16

struct call {
	unsigned int cpu;
	uint64_t addr; /* port or guest-physical address */
	bool is_write;
	unsigned int size;
	uint8_t data[8];
};

static struct recorder {
	unsigned int nr_pio, nr_mmio, nr_drain;
	struct call pio[MAX_CALLS], mmio[MAX_CALLS];
	bool mmio_handled; /* what the MMIO handler answers */
} rec;

static void record(struct call *c, unsigned int cpu, uint64_t addr,
		   bool is_write, const uint8_t *data, unsigned int size)
{
	*c = (struct call){ cpu, addr, is_write, size, { 0 } };
	memcpy(c->data, data, size < 8 ? size : 8);
}

/* Reads answer 0xa0 + call number in every byte. */
static void fake_pio(void *ctx, unsigned int cpu, uint16_t port, bool is_write,
		     uint8_t *data, unsigned int size)
{
	CHECK(ctx == &rec);
	if (!is_write)
		memset(data, 0xa0 + (int)rec.nr_pio, size);
	if (rec.nr_pio < MAX_CALLS)
		record(&rec.pio[rec.nr_pio], cpu, port, is_write, data, size);
	rec.nr_pio++;
}

static bool fake_mmio(void *ctx, uint64_t addr, uint8_t *data, unsigned int len,
		      bool is_write)
{
	CHECK(ctx == &rec);
	if (!is_write && rec.mmio_handled)
		memset(data, 0x5a, len);
	if (rec.nr_mmio < MAX_CALLS)
		record(&rec.mmio[rec.nr_mmio], 0, addr, is_write, data, len);
	rec.nr_mmio++;
	return rec.mmio_handled;
}

static void fake_drain(void *ctx)
{
	rec.nr_drain++;
}

static const struct vcpu_exits exits = { &rec, fake_pio, fake_mmio,
					 fake_drain };

static struct kvm_run *run;
static struct vm_stop stop;
static struct vcpu vcpu;

/* A fresh vCPU 3 with an empty kvm_run of @reason and no stop asked. */
static struct kvm_run *new_exit(uint32_t reason)
{
	memset(run, 0, RUN_SIZE);
	memset(&rec, 0, sizeof(rec));
	vm_stop_destroy(&stop);
	vm_stop_init(&stop);
	vcpu = (struct vcpu){ .exits = &exits,
			      .stop = &stop,
			      .id = 3,
			      .fd = -1,
			      .run = run,
			      .run_size = RUN_SIZE };
	run->exit_reason = reason;
	return run;
}

static void set_io(uint8_t direction, uint16_t port, uint8_t size,
		   uint32_t count, uint64_t offset)
{
	run->io.direction = direction;
	run->io.port = port;
	run->io.size = size;
	run->io.count = count;
	run->io.data_offset = offset;
}

static void test_io_out(void)
{
	uint8_t *data = (uint8_t *)new_exit(KVM_EXIT_IO) + PIO_DATA;

	/* rep outsb of "abc": one call per byte, in order */
	set_io(KVM_EXIT_IO_OUT, 0x3f8, 1, 3, PIO_DATA);
	memcpy(data, "abc", 3);
	CHECK(vcpu_handle_exit(&vcpu) == 0);
	CHECK(rec.nr_pio == 3 && rec.nr_mmio == 0);
	for (unsigned int i = 0; i < 3 && i < rec.nr_pio; i++) {
		CHECK(rec.pio[i].cpu == 3 && rec.pio[i].addr == 0x3f8);
		CHECK(rec.pio[i].is_write && rec.pio[i].size == 1);
		CHECK(rec.pio[i].data[0] == (uint8_t) "abc"[i]);
	}
	CHECK(!vm_stop_requested(&stop));

	/* a 4-byte out: one call with all four bytes */
	new_exit(KVM_EXIT_IO);
	set_io(KVM_EXIT_IO_OUT, 0xf4, 4, 1, PIO_DATA);
	memcpy(data, "\x34\x12\x00\x00", 4);
	CHECK(vcpu_handle_exit(&vcpu) == 0);
	CHECK(rec.nr_pio == 1 && rec.pio[0].size == 4);
	CHECK(memcmp(rec.pio[0].data, "\x34\x12\x00\x00", 4) == 0);
}

static void test_io_in(void)
{
	uint8_t *data = (uint8_t *)new_exit(KVM_EXIT_IO) + PIO_DATA + 8;

	/* rep insw, 2 words: the handler's answers land in kvm_run */
	set_io(KVM_EXIT_IO_IN, 0x61, 2, 2, PIO_DATA + 8);
	CHECK(vcpu_handle_exit(&vcpu) == 0);
	CHECK(rec.nr_pio == 2 && !rec.pio[0].is_write && !rec.pio[1].is_write);
	CHECK(rec.pio[0].addr == 0x61 && rec.pio[1].size == 2);
	CHECK(memcmp(data, "\xa0\xa0\xa1\xa1", 4) == 0);
	CHECK(data[4] == 0 && data[-1] == 0);
	CHECK(!vm_stop_requested(&stop));
}

/* Data outside kvm_run: a crash, and no handler sees a byte of it. */
static void test_io_bad_offset(void)
{
	static const struct {
		uint8_t size;
		uint32_t count;
		uint64_t offset;
	} bad[] = {
		{ 1, 1, RUN_SIZE + 1 }, { 1, 1, ~0ULL },
		{ 4, 2, RUN_SIZE - 4 }, { 1, 0xffffffff, PIO_DATA },
		{ 4, 0x40000001, 0 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		new_exit(KVM_EXIT_IO);
		set_io(KVM_EXIT_IO_OUT, 0x3f8, bad[i].size, bad[i].count,
		       bad[i].offset);
		CHECK(vcpu_handle_exit(&vcpu) != 0);
		CHECK(rec.nr_pio == 0);
		CHECK(vm_stop_requested(&stop));
		CHECK(vm_stop_status(&stop) == VUVM_EXIT_CRASH);
	}
	/* the last bytes of kvm_run are still fine */
	new_exit(KVM_EXIT_IO);
	set_io(KVM_EXIT_IO_OUT, 0x3f8, 4, 1, RUN_SIZE - 4);
	CHECK(vcpu_handle_exit(&vcpu) == 0 && rec.nr_pio == 1);
}

static void test_mmio(void)
{
	struct kvm_run *r = new_exit(KVM_EXIT_MMIO);

	r->mmio.phys_addr = 0xd0000070;
	r->mmio.len = 4;
	r->mmio.is_write = 1;
	memcpy(r->mmio.data, "\x0f\0\0\0", 4);
	rec.mmio_handled = true;
	CHECK(vcpu_handle_exit(&vcpu) == 0);
	CHECK(rec.nr_mmio == 1 && rec.nr_pio == 0);
	CHECK(rec.mmio[0].addr == 0xd0000070 && rec.mmio[0].is_write);
	CHECK(rec.mmio[0].size == 4 && rec.mmio[0].data[0] == 0x0f);
	CHECK(!vm_stop_requested(&stop));

	/* a read: the handler's answer is left in kvm_run for KVM */
	r = new_exit(KVM_EXIT_MMIO);
	r->mmio.phys_addr = 0xfec00010;
	r->mmio.len = 2;
	rec.mmio_handled = true;
	CHECK(vcpu_handle_exit(&vcpu) == 0);
	CHECK(!rec.mmio[0].is_write && rec.mmio[0].size == 2);
	CHECK(r->mmio.data[0] == 0x5a && r->mmio.data[1] == 0x5a);
	CHECK(r->mmio.data[2] == 0);

	/* nobody there: a bad access, not a crash */
	r = new_exit(KVM_EXIT_MMIO);
	r->mmio.phys_addr = 0xd0000000;
	r->mmio.len = 4;
	CHECK(vcpu_handle_exit(&vcpu) != 0);
	CHECK(rec.nr_mmio == 1);
	CHECK(vm_stop_status(&stop) == VUVM_EXIT_BAD_ACCESS);
}

/* @reason ends the guest with a crash whose log line names @what. */
static void check_crash(uint32_t reason, const char *what)
{
	struct log_capture cap;
	const char *log;

	log_capture_start(&cap);
	CHECK(vcpu_handle_exit(&vcpu) != 0);
	log = log_capture_end(&cap);
	CHECK(vm_stop_requested(&stop));
	CHECK(vm_stop_status(&stop) == VUVM_EXIT_CRASH);
	CHECK(rec.nr_pio == 0 && rec.nr_mmio == 0);
	CHECK(strstr(log, "vcpu 3: guest crashed: ") != NULL);
	if (!strstr(log, what)) {
		fprintf(stderr, "exit %u: no '%s' in the log\n", reason, what);
		CHECK(strstr(log, what) != NULL);
	}
}

static void test_fatal_exits(void)
{
	struct kvm_run *r;

	new_exit(KVM_EXIT_SHUTDOWN);
	check_crash(KVM_EXIT_SHUTDOWN, "triple fault (KVM_EXIT_SHUTDOWN)");
	new_exit(KVM_EXIT_HLT);
	check_crash(KVM_EXIT_HLT, "halted without reporting");
	r = new_exit(KVM_EXIT_INTERNAL_ERROR);
	r->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	check_crash(KVM_EXIT_INTERNAL_ERROR, "instruction emulation failed");
	r = new_exit(KVM_EXIT_INTERNAL_ERROR);
	r->internal.suberror = 7;
	check_crash(KVM_EXIT_INTERNAL_ERROR, "internal error, suberror 7");
	r = new_exit(KVM_EXIT_FAIL_ENTRY);
	r->fail_entry.hardware_entry_failure_reason = 0x21;
	check_crash(KVM_EXIT_FAIL_ENTRY, "VM entry failed (reason 0x21)");
	r = new_exit(KVM_EXIT_SYSTEM_EVENT);
	r->system_event.type = KVM_SYSTEM_EVENT_RESET;
	check_crash(KVM_EXIT_SYSTEM_EVENT, "system event 2");
	new_exit(KVM_EXIT_DEBUG);
	check_crash(KVM_EXIT_DEBUG, "unexpected KVM exit reason 4");
	new_exit(0xdeadbeef);
	check_crash(0xdeadbeef, "unexpected KVM exit reason 3735928559");
}

static void test_harmless_exits(void)
{
	new_exit(KVM_EXIT_IOAPIC_EOI);
	CHECK(vcpu_handle_exit(&vcpu) == 0);
	CHECK(!vm_stop_requested(&stop));
	CHECK(rec.nr_pio == 0 && rec.nr_mmio == 0);
}

/* A later request does not replace the first one's status. */
static void test_first_stop_wins(void)
{
	new_exit(KVM_EXIT_IO);
	vm_stop_request(&stop, 7);
	set_io(KVM_EXIT_IO_OUT, 0x3f8, 1, 1, RUN_SIZE + 1);
	CHECK(vcpu_handle_exit(&vcpu) != 0);
	CHECK(vm_stop_status(&stop) == 7);
}

int main(void)
{
	run = calloc(1, RUN_SIZE);
	CHECK(run != NULL);
	if (!run)
		return check_exit();
	vm_stop_init(&stop);
	test_io_out();
	test_io_in();
	test_io_bad_offset();
	test_mmio();
	test_fatal_exits();
	test_harmless_exits();
	test_first_stop_wins();
	vm_stop_destroy(&stop);
	free(run);
	return check_exit();
}
