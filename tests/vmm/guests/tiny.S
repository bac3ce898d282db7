/* SPDX-License-Identifier: MIT */
/*
 * Tiny test guests for vuvm's own tests, one per TG_* macro. Each is a few
 * instructions at the ELF entry, in long mode at ring 0 as docs/guest.md
 * promises; none depends on the tiny guest in guest/.
 */
#define SERIAL 0x3f8
#define EXIT_PORT 0xf4

	.code64
	.text
	.globl _start
_start:
#if defined(TG_HELLO)
	/* Console text, a JSON line, and an unterminated last line. */
	lea msg(%rip), %rsi
	mov $SERIAL, %dx
1:	lodsb
	test %al, %al
	jz 2f
	out %al, %dx
	jmp 1b
2:	mov $42, %eax
	out %eax, $EXIT_PORT
#elif defined(TG_STATUS)
	/* Only the low byte of the status is the exit code. */
	mov $0x1234, %eax
	out %eax, $EXIT_PORT
#elif defined(TG_ENTRY)
	/* Exits 0 only if the entry state matches docs/guest.md. */
	mov $1, %eax
	cmp $0x10000, %rdi
	jne 9f
	cmpl $0xedfe0dd0, (%rdi) /* FDT magic, big-endian */
	jne 9f
	cmp $0x80000, %rsp
	jne 9f
	test %rsi, %rsi
	jnz 9f
	mov %cr3, %rbx
	cmp $0x2000, %rbx
	jne 9f
	mov %cs, %bx
	cmp $0x08, %bx
	jne 9f
	mov %ss, %bx
	cmp $0x10, %bx
	jne 9f
	pushf
	pop %rbx
	test $0x200, %rbx /* interrupts off */
	jnz 9f
	/* The identity map reaches the last byte below 4 GiB. */
	mov $0x2000, %rbx
	mov (%rbx), %rcx
	test $4, %rcx /* U/S */
	jz 9f
	xor %eax, %eax
9:	out %eax, $EXIT_PORT
#elif defined(TG_PORTS)
	/* An unhandled port reads all-ones; the UART's LSR reads 0x60. */
	in $0x61, %al
	cmp $0xff, %al
	jne 8f
	out %al, $0x80
	mov $SERIAL + 5, %dx
	in %dx, %al
	and $0x60, %al
	cmp $0x60, %al
	jne 8f
	mov $0, %eax
	out %eax, $EXIT_PORT
8:	mov $1, %eax
	out %eax, $EXIT_PORT
#elif defined(TG_TRIPLE)
	/* No IDT: #UD becomes a triple fault. */
	ud2
#elif defined(TG_SPIN)
1:	jmp 1b
#elif defined(TG_MMIO)
	/* Inside the MMIO hole, no device there. */
	movl $0xd0000000, %ebx
	mov (%rbx), %eax
#elif defined(TG_IRQ)
	/*
	 * An interrupt through vuvm's IOAPIC: route pin 16 to vector 0x30 on
	 * LAPIC 0, report "ready" on port 0x80 (the test then writes the
	 * irqfd on GSI 16), and wait with sti; hlt. The handler exits 0;
	 * waking without it exits 3, a wrong IOAPIC version 2.
	 */
	lea irq_handler(%rip), %rax
	lea idt + 0x30 * 16(%rip), %rdi
	mov %ax, (%rdi)
	movw $0x08, 2(%rdi)		/* kernel code selector */
	movw $0x8e00, 4(%rdi)		/* present, DPL 0, interrupt gate */
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	lidt idtr(%rip)
	mov $0xfee00000, %ebx		/* LAPIC */
	movl $0x1ff, 0xf0(%rbx)		/* SVR: enabled, spurious 0xff */
	mov $0xfec00000, %ecx		/* IOAPIC */
	movl $1, (%rcx)			/* IOREGSEL = version */
	mov 0x10(%rcx), %eax
	cmp $0x00170011, %eax
	mov $2, %eax
	jne 9f
	movl $0x10 + 2 * 16 + 1, (%rcx)	/* pin 16, high: LAPIC 0 */
	movl $0, 0x10(%rcx)
	movl $0x10 + 2 * 16, (%rcx)	/* pin 16, low: vector 0x30, unmasked */
	movl $0x30, 0x10(%rcx)
	out %al, $0x80
	sti
	hlt
	cli
	mov $3, %eax
9:	out %eax, $EXIT_PORT
	jmp 9b
irq_handler:
	movl $0, 0xb0(%rbx)		/* LAPIC EOI */
	xor %eax, %eax
	out %eax, $EXIT_PORT
	jmp irq_handler
#else
#error "define one TG_* guest"
#endif
	hlt
	jmp _start

#ifdef TG_IRQ
	.data
	.balign 16
idt:	.fill 0x31 * 16, 1, 0
idtr:	.word 0x31 * 16 - 1
	.quad idt
#endif

	.section .rodata
msg:	.ascii "hello from a test guest\n"
	.ascii "VUVM-JSON: {\"test\":\"hello\",\"ok\":true}\n"
	.asciz "no newline at the end"
	.section .note.GNU-stack, "", @progbits
