/*
 * Fatal errors: a readable report on the console, then shutdown with reason crash.
 */
#ifndef MK_CRASH_H
#define MK_CRASH_H
#include <mk/types.h>

/* Registers as saved by mk_trap_common (entry.S), lowest address first. */
struct mk_trap_frame {
	unsigned long r15, r14, r13, r12, r11, r10, r9, r8;
	unsigned long rbp, rdi, rsi, rdx, rcx, rbx, rax;
	unsigned long vector, error_code;
	unsigned long rip, cs, rflags, rsp, ss;
};

/* Prints "rumpxen: panic: <message>", a backtrace from the caller, and crashes. */
MK_NORETURN void mk_panic(const char *fmt, ...) MK_PRINTF(1, 2);
/*
 * Ends the guest because memory ran out where going on is impossible (an allocation that may
 * not fail, or an allocator that would wait forever): prints "rumpxen: out of memory: <message>"
 * with the guest's total and free memory on the same line, a line on where the memory went
 * (boot data, threads and their stacks, whatever the hook from mk_oom_set_detail adds), a
 * backtrace from the caller, and shuts down with reason crash.
 */
MK_NORETURN void mk_out_of_memory(const char *fmt, ...) MK_PRINTF(1, 2);
/* Registers a function that prints more "rumpxen: memory: ..." lines in mk_out_of_memory. */
void mk_oom_set_detail(void (*detail)(void));
/* Prints a frame-pointer backtrace starting at rbp, with symbol names if available. */
void mk_backtrace(unsigned long rip, unsigned long rbp);
/* Looks up the function containing addr; returns its name and sets *offset, or NULL. */
const char *mk_symbol_lookup(unsigned long addr, unsigned long *offset);
/* The image's ELF symbol table as Xen loaded it (Elf64_Sym array + strings); false if none. */
bool mk_symbol_table(void **sym, uint64_t *symsize, char **str, uint64_t *strsize);
void mk_trap_handle(struct mk_trap_frame *f);
/* Prints "rumpxen: crash: <message>", f's registers and a backtrace from it, and crashes. */
MK_NORETURN void mk_crash_frame(const struct mk_trap_frame *f, const char *fmt, ...)
	MK_PRINTF(2, 3);
/* Installs the exception handlers (arch). */
void mk_arch_traps_init(void);

#endif
