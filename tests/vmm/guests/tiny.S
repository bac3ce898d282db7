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
#else
#error "define one TG_* guest"
#endif
	hlt
	jmp _start

	.section .rodata
msg:	.ascii "hello from a test guest\n"
	.ascii "VUVM-JSON: {\"test\":\"hello\",\"ok\":true}\n"
	.asciz "no newline at the end"
	.section .note.GNU-stack, "", @progbits
