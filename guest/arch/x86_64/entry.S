/* SPDX-License-Identifier: MIT */
/*
 * Ring 0 entry points: the BSP's _start, cpu_enter (the prologue every CPU
 * runs before dropping to ring 3), the ring 3 → ring 0 call and the
 * interrupt stubs. Everything here is emulated on our software KVM: keep it short.
 */
#include "arch/x86_64/cpu.h"

#define MSR_EFER 0xc0000080
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

#define CR0_MP 0x2
#define CR0_EM 0x4
#define CR0_NE 0x20
#define CR4_OSFXSR 0x200
#define CR4_OSXMMEXCPT 0x400

/*
 * IF=0 (see cpu.h); bit 1 is fixed. IOPL=3 is asked for but does nothing
 * here: kvm_pvm runs ring 3 with IOPL=0 whatever we set, so ring 3 does
 * port I/O through sys_call (io.h). Harmless where it is honoured.
 */
#define USER_RFLAGS 0x3002

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	mov %rdi, boot_fdt(%rip)
	lea cpu0_boot_stack_top(%rip), %rsp
	/* The AP trampoline repeats what vuvm set up for us. */
	mov %cr3, %rax
	mov %eax, tramp_cr3
	mov $MSR_EFER, %ecx
	rdmsr
	mov %eax, tramp_efer
	lea cpus(%rip), %rdi
	xor %esi, %esi
	call cpu_prepare
	lea cpus(%rip), %rdi
	jmp cpu_enter

/*
 * cpu_enter(struct cpu *c): rdi = this CPU's prepared struct cpu. Loads its
 * GDT, TSS, the IDT, FS and GS bases, then iretq to ring3_entry with rdi
 * intact.
 */
	.text
	.globl cpu_enter
cpu_enter:
	mov CPU_KSTACK(%rdi), %rsp
	mov %cr0, %rax
	and $~CR0_EM, %rax
	or $(CR0_MP | CR0_NE), %rax
	mov %rax, %cr0
	mov %cr4, %rax
	or $(CR4_OSFXSR | CR4_OSXMMEXCPT), %rax
	mov %rax, %cr4

	lgdt CPU_GDTR(%rdi)
	pushq $SEL_KERNEL_CS
	lea 1f(%rip), %rax
	pushq %rax
	lretq
1:	mov $SEL_KERNEL_DS, %eax
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov $SEL_TSS, %eax
	ltr %ax
	lidt idt_desc(%rip)

	mov %rdi, %r8
	/* FS for the stack canary of hosted code, GS for this_cpu(). */
	mov %r8, %rax
	mov %r8, %rdx
	shr $32, %rdx
	mov $MSR_FS_BASE, %ecx
	wrmsr
	mov $MSR_GS_BASE, %ecx
	wrmsr
	mov $MSR_KERNEL_GS_BASE, %ecx
	wrmsr
	mov %r8, %rdi

	pushq $(SEL_USER_DS | 3)
	pushq CPU_USTACK(%rdi)
	pushq $USER_RFLAGS
	pushq $(SEL_USER_CS | 3)
	lea ring3_entry(%rip), %rax
	pushq %rax
	iretq

ring3_entry:
	xor %ebp, %ebp
	cmpl $0, 0x20(%rdi)	/* struct cpu.index */
	jne 2f
	call bsp_main
2:	call ap_main
3:	jmp 3b

/*
 * long sys_call(long nr, long a0, long a1, long a2): the way from ring 3 to
 * ring 0. Not the syscall instruction: on kvm_pvm, syscall from ring 3
 * enters PVM's native supervisor mode (underlying CPL 3, no port I/O, no
 * sysret) instead of our ring 0. An exception, though, is delivered through
 * our IDT into the emulated ring 0, so a marked ud2 is the call: the #UD
 * path (ud_entry below) recognises "ud2; nopl 0x56(%rax)", calls
 * syscall_dispatch with the caller's rdi, rsi, rdx, rcx, and resumes after
 * the marker with the result in rax.
 */
	.globl sys_call
sys_call:
	ud2
	.long SYS_CALL_MARKER
	ret

/*
 * Interrupt stubs, 16 bytes apart so that idt.c finds stub v at
 * isr_stubs + 16 * v. Every instruction here costs about a microsecond in
 * the emulator, so there are three lean paths rather than one general one:
 * sys_call (#UD at the marker), exceptions (full frame, then the crash
 * report), interrupts (caller-saved registers only).
 */
	.align 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept IDT_VECTORS
	.align 16
	.if vec == 6
	jmp ud_entry
	.elseif vec >= VEC_FIRST_IRQ
	pushq $vec
	jmp irq_common
	.else
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp exception_common
	.endif
	.set vec, vec + 1
	.endr

/*
 * sys_call lands here: it is a function call, so only callee-saved
 * registers must survive, and syscall_dispatch (C) keeps those. Its
 * arguments are already where the C ABI wants them (rdi, rsi, rdx, rcx).
 */
ud_entry:
	mov (%rsp), %rax
	cmpl $SYS_CALL_MARKER, 2(%rax)
	jne 1f
	addq $SYS_CALL_LEN, (%rsp)
	sub $8, %rsp
	call syscall_dispatch
	add $8, %rsp
	iretq
1:	pushq $0
	pushq $6
	jmp exception_common

irq_common:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	mov 72(%rsp), %rdi
	sub $8, %rsp
	call irq_handler
	add $8, %rsp
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	add $8, %rsp
	iretq

/* Exceptions end the guest: a full frame for the report, no way back. */
exception_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call exception_handler
2:	hlt
	jmp 2b

	.data
	.align 16
	.globl idt_desc
idt_desc:
	.word IDT_VECTORS * 16 - 1
	.quad idt

	.bss
	.align 16
	.globl boot_fdt
boot_fdt:
	.quad 0
	.align 4096
	.globl idt
idt:
	.skip IDT_VECTORS * 16
	/* Only until cpu_prepare has chosen CPU 0's stacks. */
	.skip 1024
cpu0_boot_stack_top:

	.section .note.GNU-stack, "", @progbits
