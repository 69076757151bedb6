/*
 * Freestanding base types for the rumpxen guest kernel. No libc header is used anywhere in
 * the guest; every name here is either a compiler builtin or prefixed.
 */
#ifndef MK_TYPES_H
#define MK_TYPES_H

typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long int64_t;
typedef unsigned long uint64_t;
typedef unsigned long uintptr_t;
typedef long intptr_t;
typedef unsigned long size_t;
typedef long ssize_t;

typedef _Bool bool;
#define true 1
#define false 0
#ifndef NULL
#define NULL ((void *)0)
#endif

typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_end(ap) __builtin_va_end(ap)
#define va_copy(d, s) __builtin_va_copy(d, s)

#ifndef offsetof
#define offsetof(t, m) __builtin_offsetof(t, m)
#endif
#define MK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MK_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define MK_ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define MK_NORETURN __attribute__((noreturn))
#define MK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MK_UNUSED __attribute__((unused))

#define MK_PAGE_SHIFT 12
#define MK_PAGE_SIZE (1UL << MK_PAGE_SHIFT)

#define mk_barrier() __asm__ __volatile__("" ::: "memory")
#define mk_mb() __asm__ __volatile__("mfence" ::: "memory")
#define mk_rmb() __asm__ __volatile__("lfence" ::: "memory")
#define mk_wmb() __asm__ __volatile__("sfence" ::: "memory")
#define MK_READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define MK_WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif
