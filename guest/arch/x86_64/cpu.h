/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU state and the ring 0 part of the guest.
 *
 * Every CPU runs the same short ring-0 prologue (cpu_enter in entry.S): own
 * GDT and TSS, the shared IDT, SSE on, syscall MSRs, FS and GS bases pointing
 * at its struct cpu, then iretq to ring 3 with IF=0 (and IOPL=3, which this
 * KVM ignores: ring 3 reaches ports only through sys_call). Ring 0 is
 * emulated instruction by instruction on the software KVM we run on, so
 * everything that can be done in ring 3 is: the BSP fills the IDT and each
 * AP's struct cpu from ring 3, since the identity map is user-accessible.
 *
 * Ring 3 comes back to ring 0 only through sys_call below, a marked ud2
 * whose #UD the trap handler turns into a call (the syscall instruction
 * does not reach our ring 0 on kvm_pvm; see entry.S). An interrupt taken in
 * ring 3 triple-faults this KVM, so ring 3 always runs with IF=0.
 */
#ifndef VUVM_GUEST_CPU_H
#define VUVM_GUEST_CPU_H

#define GUEST_MAX_CPUS 32

/* Selectors; the order is what syscall/sysret need (see STAR). */
#define SEL_KERNEL_CS 0x08
#define SEL_KERNEL_DS 0x10
#define SEL_USER_CS32 0x18
#define SEL_USER_DS   0x20
#define SEL_USER_CS   0x28
#define SEL_TSS	      0x30
#define GDT_ENTRIES   8

/* Offsets into struct cpu used by assembly. */
#define CPU_SELF   0x00
#define CPU_KSTACK 0x08
#define CPU_USTACK 0x18
#define CPU_CANARY 0x28 /* %fs:0x28, where hosted code expects it */
#define CPU_GDTR   0x36 /* lgdt operand: 16-bit limit, then 64-bit base */

/*
 * sys_call numbers (rdi); arguments in rsi, rdx, rcx; result in rax. Ports
 * are "port | size << 16", size 1, 2 or 4.
 */
#define SYS_PING      0 /* returns a0 + 1: proves the round trip */
#define SYS_WAIT_IRQ  1 /* sti; hlt; cli: sleeps until an interrupt */
#define SYS_SHUTDOWN  2 /* triple fault on purpose: the last resort exit */
#define SYS_PIO_OUT   3 /* out a1 to port a0 */
#define SYS_PIO_IN    4 /* returns in from port a0 */
#define SYS_PIO_WRITE 5 /* rep outsb: a2 bytes at a1 to port a0 */

/* sys_call is "ud2; nopl 0x56(%rax)": the nopl's bytes are the marker. */
#define SYS_CALL_MARKER 0x56401f0f
#define SYS_CALL_LEN	6

/* Interrupt vectors the guest owns (all stubs cover 0..IDT_VECTORS-1). */
#define IDT_VECTORS   64
#define VEC_FIRST_IRQ 32
#define VEC_TIMER     0x3d
#define VEC_WAKE      0x3e
#define VEC_SPURIOUS  0x3f

#ifndef __ASSEMBLER__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

struct cpu {
	struct cpu *self;    /* %gs:0 reads this CPU's struct cpu */
	uint64_t kstack_top; /* TSS rsp0: traps from ring 3 land here */
	uint64_t reserved;
	uint64_t ustack_top; /* first ring 3 stack */
	uint32_t index;	     /* 0 for the BSP, then in FDT order */
	uint32_t apic_id;
	uint64_t canary;
	uint16_t gdtr_pad[3];
	uint16_t gdtr_limit; /* pad puts the base on an 8-byte boundary */
	uint64_t gdtr_base;
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));

	/* Written in ring 0 by the interrupt handler. */
	volatile uint64_t irq_count;
	volatile uint32_t last_vector;

	/* Work slot of a parked AP (see smp.h). */
	long (*volatile work_fn)(void *arg);
	void *volatile work_arg;
	volatile long work_result;
	volatile uint32_t work_done;
	volatile uint32_t online;
};
_Static_assert(__builtin_offsetof(struct cpu, kstack_top) == CPU_KSTACK, "");
_Static_assert(__builtin_offsetof(struct cpu, ustack_top) == CPU_USTACK, "");
_Static_assert(__builtin_offsetof(struct cpu, canary) == CPU_CANARY, "");
_Static_assert(__builtin_offsetof(struct cpu, gdtr_limit) == CPU_GDTR, "");

extern struct cpu cpus[GUEST_MAX_CPUS];
/* Indexed by LAPIC ID: how a starting AP finds its struct cpu. */
extern struct cpu *cpu_by_apic[256];
/* Guest-physical address of the FDT, saved by _start. */
extern uint64_t boot_fdt;

/*
 * Fills @c for CPU number @index: stacks, GDT, TSS, canary. Plain memory
 * writes, so the BSP runs it in ring 0 for itself and in ring 3 for APs.
 */
void cpu_prepare(struct cpu *c, uint32_t index);

/* This CPU's struct cpu, through GS (valid in ring 0 and ring 3). */
static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	asm volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

/* Ring 3 → ring 0 call (entry.S). Returns the syscall's result. */
long sys_call(long nr, long a0, long a1, long a2);

/* Fills the shared IDT from ring 3 (idt.c); the BSP does it once. */
void idt_init(void);

/* Ring 3 entry of every CPU (main.c / smp.c). Never return. */
void bsp_main(struct cpu *c) __attribute__((noreturn));
void ap_main(struct cpu *c) __attribute__((noreturn));

/* Registers pushed by the interrupt stubs, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Ring 0 handlers called from entry.S. */
void exception_handler(struct trap_frame *f) __attribute__((noreturn));
void irq_handler(uint64_t vector);
long syscall_dispatch(long nr, long a0, long a1, long a2);

/* Ports the ring-0 crash path may use; 0 until the FDT has been read. */
extern uint16_t crash_serial_port;
extern uint16_t crash_exit_port;

#endif /* __ASSEMBLER__ */
#endif
