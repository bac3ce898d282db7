// SPDX-License-Identifier: MIT
/*
 * Ring 0 C code: per-CPU preparation, the trap handler and the syscall
 * dispatcher. Compiled without SSE (see CMakeLists.txt) because ring 0 runs
 * in the software KVM's emulator; kept loop-free where it can be.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/io.h"

/* Small enough that the image fits vuvm's smallest RAM (2 MiB) with
 * GUEST_MAX_CPUS CPUs; ring 0 paths are shallow. */
#define KSTACK_SIZE 4096
#define USTACK_SIZE 16384
#define IST_SIZE    4096

struct cpu cpus[GUEST_MAX_CPUS] __attribute__((aligned(64)));
struct cpu *cpu_by_apic[256];
uint16_t crash_serial_port;
uint16_t crash_exit_port;

static uint8_t kstacks[GUEST_MAX_CPUS][KSTACK_SIZE]
	__attribute__((aligned(16)));
static uint8_t ustacks[GUEST_MAX_CPUS][USTACK_SIZE]
	__attribute__((aligned(16)));
static uint8_t iststacks[GUEST_MAX_CPUS][IST_SIZE] __attribute__((aligned(16)));

static uint64_t tss_desc_low(uint64_t base, uint32_t limit)
{
	return (limit & 0xffffULL) | ((base & 0xffffffULL) << 16) |
	       (0x89ULL << 40) | (((uint64_t)limit >> 16 & 0xf) << 48) |
	       ((base >> 24 & 0xff) << 56);
}

void cpu_prepare(struct cpu *c, uint32_t index)
{
	uint64_t tss = (uint64_t)&c->tss;

	c->self = c;
	c->index = index;
	c->kstack_top = (uint64_t)&kstacks[index][KSTACK_SIZE];
	c->ustack_top = (uint64_t)&ustacks[index][USTACK_SIZE];
	/* Hosted code (libfdt) checks %fs:0x28; any value will do. */
	c->canary = (rdtsc() * 0x9e3779b97f4a7c15ULL) & ~0xffULL;

	c->gdt[0] = 0;
	c->gdt[SEL_KERNEL_CS / 8] = 0x00af9a000000ffffULL;
	c->gdt[SEL_KERNEL_DS / 8] = 0x00cf92000000ffffULL;
	c->gdt[SEL_USER_CS32 / 8] = 0x00cffa000000ffffULL;
	c->gdt[SEL_USER_DS / 8] = 0x00cff2000000ffffULL;
	c->gdt[SEL_USER_CS / 8] = 0x00affa000000ffffULL;
	c->gdt[SEL_TSS / 8] = tss_desc_low(tss, sizeof(c->tss) - 1);
	c->gdt[SEL_TSS / 8 + 1] = tss >> 32;
	c->gdtr_limit = sizeof(c->gdt) - 1;
	c->gdtr_base = (uint64_t)c->gdt;

	c->tss.rsp[0] = c->kstack_top;
	/* #DF, NMI and #MC get a stack of their own (see idt.c). */
	c->tss.ist[0] = (uint64_t)&iststacks[index][IST_SIZE];
	c->tss.iomap_base = sizeof(c->tss);
}

/* The crash path prints without printf: as little ring 0 code as we can. */
static void r0_puts(const char *s)
{
	if (!crash_serial_port)
		return;
	while (*s)
		raw_outb(crash_serial_port, *s++);
}

static void r0_puthex(const char *name, uint64_t v)
{
	char buf[20];
	int i;

	r0_puts(name);
	buf[0] = '0';
	buf[1] = 'x';
	for (i = 0; i < 16; i++)
		buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
	buf[18] = 0;
	r0_puts(buf);
}

static void triple_fault(void) __attribute__((noreturn));
static void triple_fault(void)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) none;

	asm volatile("lidt %0; ud2" : : "m"(none));
	__builtin_unreachable();
}

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

void exception_handler(struct trap_frame *f)
{
	uint64_t cr2;

	asm volatile("mov %%cr2, %0" : "=r"(cr2));
	r0_puts("\nEXCEPTION: ");
	r0_puts(exception_names[f->vector & 31]);
	r0_puthex(" vector ", f->vector);
	r0_puthex(" error ", f->error_code);
	r0_puthex(" rip ", f->rip);
	r0_puthex(" cs ", f->cs);
	r0_puthex(" rflags ", f->rflags);
	r0_puthex(" rsp ", f->rsp);
	r0_puthex(" cr2 ", cr2);
	r0_puthex(" cpu ", this_cpu()->index);
	r0_puts("\n");
	if (crash_exit_port)
		raw_outl(crash_exit_port, 1);
	triple_fault();
}

void irq_handler(uint64_t vector)
{
	struct cpu *c = this_cpu();

	c->irq_count++;
	c->last_vector = vector;
	if (vector != VEC_SPURIOUS)
		mmio_write32(LAPIC_BASE + LAPIC_EOI, 0);
}

static long pio_out(long port, long val)
{
	switch (port >> 16) {
	case 1:
		raw_outb(port, val);
		return 0;
	case 2:
		asm volatile("outw %w0, %w1" : : "a"(val), "Nd"(port));
		return 0;
	case 4:
		raw_outl(port, val);
		return 0;
	}
	return -1;
}

static long pio_in(long port)
{
	uint16_t w;

	switch (port >> 16) {
	case 1:
		return raw_inb(port);
	case 2:
		asm volatile("inw %w1, %w0" : "=a"(w) : "Nd"(port));
		return w;
	case 4:
		return raw_inl(port);
	}
	return -1;
}

long syscall_dispatch(long nr, long a0, long a1, long a2)
{
	struct cpu *c = this_cpu();
	uint64_t before;

	switch (nr) {
	case SYS_PING:
		return a0 + 1;
	case SYS_WAIT_IRQ:
		before = c->irq_count;
		asm volatile("sti; hlt; cli" ::: "memory");
		return c->irq_count - before;
	case SYS_SHUTDOWN:
		triple_fault();
	case SYS_PIO_OUT:
		return pio_out(a0, a1);
	case SYS_PIO_IN:
		return pio_in(a0);
	case SYS_PIO_WRITE:
		asm volatile("rep outsb"
			     : "+S"(a1), "+c"(a2)
			     : "d"((uint16_t)a0)
			     : "memory");
		return 0;
	}
	return -1;
}
