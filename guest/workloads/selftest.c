// SPDX-License-Identifier: MIT
/*
 * selftest: the guest checks itself: string functions, printf formatting,
 * k=v parsing, the FDT helpers, the syscall round trip, `sti; hlt` woken by
 * the LAPIC timer, work on every AP, the TSC. verbose=1 also prints each
 * printf case.
 */
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/apic.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/smp.h"
#include "lib/devtree.h"
#include "lib/kv.h"
#include "lib/report.h"
#include "lib/time.h"
#include "workloads/workloads.h"

static bool verbose;

static void test_string(void)
{
	char buf[16] = "abcdefgh", *end;

	report_prefix_push("string");
	memmove(buf + 2, buf, 6);
	report(!memcmp(buf, "ababcdef", 8), "memmove forward overlap");
	memmove(buf, buf + 2, 6);
	report(!memcmp(buf, "abcdefef", 8), "memmove backward overlap");
	memset(buf, 'x', 3);
	report(!memcmp(buf, "xxxdefef", 8), "memset");
	report(memcmp("ab", "ac", 2) < 0 && memcmp("b", "a", 1) > 0,
	       "memcmp order");
	report(strlen("hello") == 5 && strnlen("hello", 3) == 3, "strlen");
	report(!strcmp("a", "a") && strcmp("a", "b") < 0 &&
		       strncmp("abc", "abd", 2) == 0,
	       "strcmp, strncmp");
	strlcpy(buf, "a/b/c", sizeof(buf));
	report(strrchr(buf, '/') == buf + 3 && strchr(buf, '/') == buf + 1 &&
		       memchr(buf, 'c', 5) == buf + 4 && !strchr(buf, 'z'),
	       "strchr, strrchr, memchr");
	report(strlcpy(buf, "0123456789abcdefXYZ", 8) == 19 &&
		       !strcmp(buf, "0123456"),
	       "strlcpy truncates");
	report(strtoul("0x1F", &end, 0) == 31 && !*end &&
		       strtoul("755", NULL, 8) == 493 &&
		       strtoul("12abc", &end, 10) == 12 && *end == 'a',
	       "strtoul");
	report_prefix_pop();
}

struct fmt_case {
	const char *want;
	const char *got;
};

static int fmt_fail;
static char fmt_buf[8][64];

#define FMT(i, ...) snprintf(fmt_buf[i], sizeof(fmt_buf[i]), __VA_ARGS__)

static void fmt_check(const char *want, const char *got)
{
	if (strcmp(want, got)) {
		fmt_fail++;
		printf("  printf mismatch: want '%s', got '%s'\n", want, got);
	} else if (verbose) {
		printf("  printf ok: '%s'\n", got);
	}
}

static void test_printf(void)
{
	char small[6];
	int n;

	report_prefix_push("printf");
	FMT(0, "%d %i %u", -42, 7, 4000000000u);
	fmt_check("-42 7 4000000000", fmt_buf[0]);
	FMT(1, "%x %X %lx %llu", 0xbeefu, 0xbeefu, 0x123456789abUL,
	    18446744073709551615ULL);
	fmt_check("beef BEEF 123456789ab 18446744073709551615", fmt_buf[1]);
	FMT(2, "[%5d][%-5d][%05d][%08lx]", 42, 42, -42, 0xabcUL);
	fmt_check("[   42][42   ][-0042][00000abc]", fmt_buf[2]);
	FMT(3, "%s|%10s|%-4s|%.2s|%c", "hi", "right", "l", "cut", 'Z');
	fmt_check("hi|     right|l   |cu|Z", fmt_buf[3]);
	FMT(4, "%p %zu %#x %%", (void *)0x1000, (size_t)12345, 255);
	fmt_check("0x1000 12345 0xff %", fmt_buf[4]);
	FMT(5, "%lld %hhu %hd %*d", -9223372036854775807LL - 1,
	    (unsigned char)200, (short)-5, 4, 7);
	fmt_check("-9223372036854775808 200 -5    7", fmt_buf[5]);
	n = snprintf(small, sizeof(small), "%s", "truncated");
	fmt_check("trunc", small);
	report(fmt_fail == 0 && n == 9, "snprintf formats (%d mismatches)",
	       fmt_fail);
	report_prefix_pop();
}

static void test_kv(void)
{
	static const char *const known[] = { "a", "size", "flag", NULL };
	const char *args = "a=1,size=4K,flag,bad=x";
	uint64_t v = 0;
	char val[8];
	bool b = false;
	size_t len = 0;
	const char *unk;

	report_prefix_push("kv");
	report(kv_get(args, "a", val, sizeof(val)) == 1 && !strcmp(val, "1"),
	       "kv_get");
	report(kv_get(args, "missing", val, sizeof(val)) == -1,
	       "kv_get absent key");
	report(kv_get_u64(args, "size", 0, &v) == 0 && v == 4096,
	       "kv_get_u64 with suffix");
	report(kv_get_u64(args, "bad", 5, &v) == -2 && v == 5,
	       "kv_get_u64 rejects a non-number");
	report(kv_get_bool(args, "flag", false, &b) == 0 && b,
	       "kv_get_bool bare key");
	unk = kv_unknown(args, known, &len);
	report(unk && len == 3 && !strncmp(unk, "bad", 3), "kv_unknown");
	report_prefix_pop();
}

static void test_fdt(void)
{
	struct dt_range r[4];
	uint32_t ids[GUEST_MAX_CPUS];
	uint16_t port = 0;
	const char *name = dt_chosen("vuvm,test");

	report_prefix_push("fdt");
	report(fdt_check_header(dt_fdt()) == 0, "header (libfdt)");
	report(dt_memory(r, 4) >= 1 && r[0].size > 0, "memory range");
	report(dt_cpus(ids, GUEST_MAX_CPUS) >= 1, "cpus");
	report(dt_io_port("ns16550a", &port) == 0 && port, "serial port");
	report(dt_io_port("no,such-device", &port) == -FDT_ERR_NOTFOUND,
	       "absent device is -FDT_ERR_NOTFOUND");
	report(name && !strcmp(name, "selftest"), "chosen vuvm,test");
	report(dt_chosen("vuvm,test-args") != NULL, "chosen vuvm,test-args");
	report_prefix_pop();
}

static void test_cpu(void)
{
	uint64_t canary, t0, t1;
	volatile double x = 1.5;
	long r = 0;
	int i;

	report_prefix_push("cpu");
	asm volatile("mov %%fs:0x28, %0" : "=r"(canary));
	report(canary == this_cpu()->canary && canary != 0,
	       "stack canary at %%fs:0x28");
	report(x * 2 == 3.0, "SSE in ring 3");
	t0 = rdtsc();
	for (i = 0; i < 100; i++)
		r += sys_call(SYS_PING, i, 0, 0) == i + 1;
	t1 = rdtsc();
	report(r == 100, "syscall round trip");
	report_info("syscall round trip: %llu ns",
		    (unsigned long long)tsc_to_ns(t1 - t0) / 100);
	report_prefix_pop();
}

/* One-shot LAPIC timer, then sleep in ring 0 until it fires. */
static void test_hlt(void)
{
	struct cpu *c = this_cpu();
	uint64_t t0, t1, before = c->irq_count;
	long woke;

	report_prefix_push("sti-hlt");
	lapic_enable();
	mmio_write32(LAPIC_BASE + LAPIC_TIMER_DIV, 0xb); /* divide by 1 */
	mmio_write32(LAPIC_BASE + LAPIC_LVT_TIMER, VEC_TIMER);
	t0 = rdtsc();
	mmio_write32(LAPIC_BASE + LAPIC_TIMER_INIT, 100000);
	woke = sys_call(SYS_WAIT_IRQ, 0, 0, 0);
	t1 = rdtsc();
	mmio_write32(LAPIC_BASE + LAPIC_LVT_TIMER, LVT_MASKED);
	report(woke >= 1 && c->irq_count > before &&
		       c->last_vector == VEC_TIMER,
	       "LAPIC timer wakes sti;hlt (vector %#x)", c->last_vector);
	report_info("armed to woken: %llu us",
		    (unsigned long long)tsc_to_ns(t1 - t0) / 1000);
	report_prefix_pop();
}

static long ap_work(void *arg)
{
	return (long)this_cpu()->index * 1000 + (long)(uintptr_t)arg;
}

static void test_smp(void)
{
	int i, online = smp_boot(200000), listed = smp_cpus_listed();
	uint64_t t0;
	long res;

	report_prefix_push("smp");
	/* CPUs beyond GUEST_MAX_CPUS are left in reset on purpose. */
	report(online == (listed < GUEST_MAX_CPUS ? listed : GUEST_MAX_CPUS),
	       "%d of %d CPUs checked in", online, listed);
	for (i = 1; i < online; i++) {
		t0 = rdtsc();
		res = -1;
		report(smp_call(i, ap_work, (void *)7, 100000, &res) == 0 &&
			       res == i * 1000 + 7,
		       "CPU %d runs work from its slot", i);
		report_info("CPU %d woken and done in %llu us", i,
			    (unsigned long long)tsc_to_ns(rdtsc() - t0) / 1000);
	}
	report_prefix_pop();
}

static void test_tsc(void)
{
	uint64_t prev = rdtsc(), now, t0;
	bool mono = true;
	int i;

	report_prefix_push("tsc");
	for (i = 0; i < 10000; i++) {
		now = rdtsc();
		mono &= now >= prev;
		prev = now;
	}
	report(mono, "rdtsc never goes back");
	if (!time_calibrated()) {
		report_skip("udelay (no vuvm,tsc-khz)");
	} else {
		t0 = time_ns();
		udelay(1000);
		now = time_ns() - t0;
		report(now >= 1000000 && now < 50000000,
		       "udelay(1000) takes 1 ms (%llu ns)",
		       (unsigned long long)now);
	}
	report_prefix_pop();
}

int selftest_main(const char *args)
{
	kv_get_bool(args, "verbose", false, &verbose);
	report_prefix_push("selftest");
	test_string();
	test_printf();
	test_kv();
	test_fdt();
	test_cpu();
	test_tsc();
	test_hlt();
	test_smp();
	report_prefix_pop();
	return report_summary();
}
