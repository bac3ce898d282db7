/* SPDX-License-Identifier: MIT */
/*
 * The AP trampoline: a STARTUP IPI with vector 0x08 starts an AP here, at
 * 0x8000, in real mode with CS = 0x0800 and every other segment base 0. It
 * goes to protected mode and on to long mode with the BSP's CR3 and EFER
 * (saved by _start), finds its struct cpu by LAPIC ID and joins the common
 * prologue, cpu_enter. guest.ld makes this section its own PT_LOAD.
 */
#include "arch/x86_64/cpu.h"

#define LAPIC_ID_REG 0xfee00020
#define MSR_EFER 0xc0000080
#define CR0_PE 0x1
#define CR0_MP 0x2
#define CR0_ET 0x10
#define CR0_NE 0x20
#define CR0_WP 0x10000
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define CR4_OSFXSR 0x200
#define CR4_OSXMMEXCPT 0x400
#define EFER_LME 0x100

#define TR_CS32 0x08
#define TR_DS 0x10
#define TR_CS64 0x18

	.section .trampoline, "awx"
	.code16
	.globl ap_trampoline
ap_trampoline:
	cli
	cld
	xor %ax, %ax
	mov %ax, %ds
	lgdtl tramp_gdtr
	mov %cr0, %eax
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl $TR_CS32, $tramp32

	.code32
tramp32:
	mov $TR_DS, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr4, %eax
	or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov %eax, %cr4
	mov tramp_cr3, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or tramp_efer, %eax
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE), %eax
	mov %eax, %cr0
	ljmpl $TR_CS64, $tramp64

	.code64
tramp64:
	/* Above 2 GiB: an absolute disp32 would be sign-extended. */
	movabs $LAPIC_ID_REG, %rax
	mov (%rax), %eax
	shr $24, %eax
	mov cpu_by_apic(, %rax, 8), %rdi
	test %rdi, %rdi
	jz tramp_lost
	movabs $cpu_enter, %rax
	jmp *%rax
	/* Nobody prepared a struct cpu for this LAPIC ID: stay out of the way. */
tramp_lost:
	hlt
	jmp tramp_lost

	.align 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 32-bit code */
	.quad 0x00cf92000000ffff	/* data */
	.quad 0x00af9a000000ffff	/* 64-bit code */
tramp_gdt_end:
tramp_gdtr:
	.word tramp_gdt_end - tramp_gdt - 1
	.long tramp_gdt
	.globl tramp_cr3, tramp_efer
tramp_cr3:
	.long 0
tramp_efer:
	.long 0

	.section .note.GNU-stack, "", @progbits
