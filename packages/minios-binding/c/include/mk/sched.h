/*
 * Cooperative threads on one vcpu. A thread runs until it blocks, sleeps, yields or exits;
 * when nothing is runnable the vcpu blocks in Xen until the next deadline or event.
 * Each thread has its own stack with an unmapped guard page below it, and its own TLS
 * block (the image's .tdata/.tbss) with the thread pointer in the fs base.
 */
#ifndef MK_SCHED_H
#define MK_SCHED_H
#include <mk/types.h>

struct mk_thread;
typedef void *(*mk_thread_fn)(void *arg);

#define MK_THREAD_STACK_DEFAULT (64 * 1024)

/* Creates a runnable thread; NULL when out of memory. Joinable threads must be joined. */
struct mk_thread *mk_thread_create(const char *name, mk_thread_fn fn, void *arg,
	size_t stack_size, bool joinable);
/*
 * Creates a runnable thread that runs fn(arg) on a stack and with a thread pointer (fs base)
 * that the caller owns: stack_top is the address just above the stack (rounded down to 16
 * bytes here), tls_tp a TLS block's thread pointer (mk_tls_alloc's, or laid out the same
 * way). The thread is not joinable; when it exits only its record is freed, after the switch
 * away from its stack, which the caller may then reuse. NULL when out of memory.
 */
struct mk_thread *mk_thread_create_on(const char *name, mk_thread_fn fn, void *arg,
	unsigned long stack_top, unsigned long tls_tp);
MK_NORETURN void mk_thread_exit(void *retval);
/* Waits for a joinable thread to exit, frees it and returns its exit value. */
void *mk_thread_join(struct mk_thread *t);
struct mk_thread *mk_thread_self(void);
const char *mk_thread_name(struct mk_thread *t);
/* Per-thread slot for the layer above (rumpuser keeps the current lwp there). */
void **mk_thread_cookie(struct mk_thread *t);
void mk_thread_yield(void);
/* Moves the calling thread's thread pointer (fs base) to tp; its own TLS block stays its. */
void mk_thread_set_tls(unsigned long tp);
/*
 * A TLS block from the image's PT_TLS template, laid out as x86-64 TLS variant II: the
 * template below the thread pointer, a 64-byte TCB from it whose first word points to itself
 * (NetBSD's and the ELF ABI's tcb_self), the rest of the TCB zeroed. mk_tls_alloc returns the
 * thread pointer (0 when out of memory); mk_tls_free takes it back.
 */
unsigned long mk_tls_alloc(void);
void mk_tls_free(unsigned long tp);
/* The stack thread t was created with: lowest usable byte and size (0, 0 for mk_thread_create_on's). */
void mk_thread_stack(struct mk_thread *t, void **base, size_t *size);
/*
 * Called from hypercalls a thread may poll in a loop (clock reads): after a 1 ms slice the
 * caller yields, so busy-waiting on another thread's progress works as it does on a
 * preemptive host. Never blocks.
 */
void mk_thread_preempt_point(void);
/* Sleeps until woken by mk_thread_wake. */
void mk_thread_block(void);
/* Sleeps until woken or deadline (monotonic ns); returns true if the deadline passed. */
bool mk_thread_block_until(uint64_t deadline_ns);
void mk_thread_sleep_until(uint64_t deadline_ns);
/* Makes a blocked thread runnable (no effect on a runnable one). */
void mk_thread_wake(struct mk_thread *t);
/* Starts scheduling with the threads created so far; never returns. */
MK_NORETURN void mk_sched_start(void);
/* Name of the thread whose stack guard page contains addr, or NULL. */
const char *mk_fault_guard_owner(unsigned long addr);
bool mk_fault_in_guard_page(unsigned long addr);
/*
 * Threads alive (not yet freed) and the bytes they hold: stack pages with the guard page,
 * TLS block and thread record, as the page allocator and heap hand them out.
 */
void mk_sched_memory(size_t *threads, size_t *bytes);
/* What one more thread with this stack size costs, in the same terms. */
size_t mk_thread_cost(size_t stack_size);
/*
 * Prints where thread t (not the caller) stopped: the backtrace from the context it saved
 * when it last switched away (mk_backtrace). Nothing for the calling thread.
 */
void mk_thread_backtrace(struct mk_thread *t);
/* Counters for the bench. */
uint64_t mk_sched_switches(void);

#endif
