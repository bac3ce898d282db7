/* SPDX-License-Identifier: MIT */
/*
 * Force-included into the host build of the guest's libc pieces: gives each
 * guest libc function a guest_ name, so that the host test links them next
 * to the host's C library (and its sanitizers) without a clash.
 */
#ifndef VUVM_TESTS_GUEST_NAMES_H
#define VUVM_TESTS_GUEST_NAMES_H

#define memcpy	  guest_memcpy
#define memmove	  guest_memmove
#define memset	  guest_memset
#define memcmp	  guest_memcmp
#define memchr	  guest_memchr
#define strlen	  guest_strlen
#define strnlen	  guest_strnlen
#define strcmp	  guest_strcmp
#define strncmp	  guest_strncmp
#define strchr	  guest_strchr
#define strrchr	  guest_strrchr
#define strlcpy	  guest_strlcpy
#define strtoul	  guest_strtoul
#define strtoull  guest_strtoull
#define strtol	  guest_strtol
#define vsnprintf guest_vsnprintf
#define snprintf  guest_snprintf
#define vprintf	  guest_vprintf
#define printf	  guest_printf
#define puts	  guest_puts
#define exit	  guest_exit

#endif
