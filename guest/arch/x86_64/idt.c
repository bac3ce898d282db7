// SPDX-License-Identifier: MIT
/*
 * The shared IDT, filled by the BSP in ring 3 right after its first iretq
 * (the identity map is user-writable), so that ring 0 never loops over it.
 * Until then an exception triple-faults, which vuvm reports as a crash.
 */
#include "arch/x86_64/cpu.h"

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type; /* present, DPL 0, 64-bit interrupt gate */
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

extern struct idt_gate idt[IDT_VECTORS];
extern const char isr_stubs[];

void idt_init(void)
{
	unsigned int v;

	for (v = 0; v < IDT_VECTORS; v++) {
		uint64_t stub = (uint64_t)&isr_stubs[16 * v];
		struct idt_gate *g = &idt[v];

		g->offset_low = stub & 0xffff;
		g->selector = SEL_KERNEL_CS;
		/* #DF, NMI and #MC may come on a broken stack. */
		g->ist = (v == 2 || v == 8 || v == 18) ? 1 : 0;
		g->type = 0x8e;
		g->offset_mid = (stub >> 16) & 0xffff;
		g->offset_high = stub >> 32;
		g->reserved = 0;
	}
	asm volatile("" ::: "memory");
}
