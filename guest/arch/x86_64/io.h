/* SPDX-License-Identifier: MIT */
/*
 * Port I/O, TSC, MSR and MMIO access.
 *
 * Port I/O: the raw_* instructions work in ring 0 only. We do iretq to ring
 * 3 with IOPL=3, but this software KVM (kvm_pvm) ignores IOPL for ring 3
 * (the ring 3 RFLAGS reads IOPL=0) and delivers #GP for every in/out there,
 * so ring 3 uses outb()/inb()/... below, which go through one sys_call
 * (the marked ud2, cpu.h) each, and console output batches bytes with
 * pio_write().
 * rdmsr/wrmsr are ring 0 only; rdtsc and MMIO work in ring 3.
 */
#ifndef VUVM_GUEST_IO_H
#define VUVM_GUEST_IO_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"

static inline void raw_outb(uint16_t port, uint8_t val)
{
	asm volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline void raw_outl(uint16_t port, uint32_t val)
{
	asm volatile("outl %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t raw_inb(uint16_t port)
{
	uint8_t val;

	asm volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline uint32_t raw_inl(uint16_t port)
{
	uint32_t val;

	asm volatile("inl %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

/* Ring 3 port I/O: one syscall each (see above). */
static inline void outb(uint16_t port, uint8_t val)
{
	sys_call(SYS_PIO_OUT, port | 1 << 16, val, 0);
}

static inline void outl(uint16_t port, uint32_t val)
{
	sys_call(SYS_PIO_OUT, port | 4 << 16, val, 0);
}

static inline uint8_t inb(uint16_t port)
{
	return sys_call(SYS_PIO_IN, port | 1 << 16, 0, 0);
}

static inline uint32_t inl(uint16_t port)
{
	return sys_call(SYS_PIO_IN, port | 4 << 16, 0, 0);
}

/* @len bytes to @port with one syscall and `rep outsb` (one VM exit). */
static inline void pio_write(uint16_t port, const void *buf, size_t len)
{
	sys_call(SYS_PIO_WRITE, port, (long)buf, len);
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
	asm volatile("wrmsr"
		     :
		     : "c"(msr), "a"((uint32_t)val),
		       "d"((uint32_t)(val >> 32)));
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uint64_t addr, uint32_t val)
{
	*(volatile uint32_t *)addr = val;
}

#endif
