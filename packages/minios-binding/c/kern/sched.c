/* Cooperative scheduler; see mk/sched.h. */
#include <mk/arch.h>
#include <mk/crash.h>
#include <mk/evtchn.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include <mk/time.h>

enum thread_state { T_RUNNABLE, T_BLOCKED, T_DEAD };

struct mk_thread {
	char name[32];
	unsigned long sp;
	char *stack;		/* lowest page is the guard */
	size_t stack_pages;
	enum thread_state state;
	uint64_t deadline_ns;	/* 0: no timeout */
	bool timed_out;
	bool joinable;
	struct mk_thread *joiner;
	void *retval;
	bool foreign;		/* stack and TLS block are the creator's (mk_thread_create_on) */
	unsigned long tls_own;	/* thread pointer of the TLS block allocated here, or 0 */
	unsigned long tls_tp;
	unsigned long tls_token;	/* from mk_arch_tls_attach */
	void *cookie;
	struct mk_thread *next;	/* all threads, circular order of creation */
};

extern void mk_context_switch(unsigned long *old_sp, unsigned long new_sp);
extern char mk_thread_trampoline[];
extern char mk_tls_start[], mk_tdata_end[], mk_tls_end[];
extern char mk_tls_align[];

static struct mk_thread *threads;	/* list head */
static struct mk_thread *current;
static struct mk_thread *reap_list;
static unsigned long boot_sp;
static uint64_t switches;
static uint64_t slice_start_ns;	/* 0: not known (the switch did not read the clock) */
static size_t live_threads;
static size_t live_thread_bytes;

/* A thread that keeps running past this at a preemption point lets others run. */
#define SLICE_NS 1000000ULL

struct mk_thread *mk_thread_self(void)
{
	return current;
}

const char *mk_thread_name(struct mk_thread *t)
{
	return t ? t->name : "(boot)";
}

void **mk_thread_cookie(struct mk_thread *t)
{
	return &t->cookie;
}

uint64_t mk_sched_switches(void)
{
	return switches;
}

bool mk_fault_in_guard_page(unsigned long addr)
{
	return mk_fault_guard_owner(addr) != NULL;
}

const char *mk_fault_guard_owner(unsigned long addr)
{
	struct mk_thread *t = threads;
	if (!t)
		return NULL;
	do {
		unsigned long g = (unsigned long)t->stack;
		if (t->stack && addr >= g && addr < g + 4096)
			return t->name;
		t = t->next;
	} while (t != threads);
	return NULL;
}

/* The alignment of a TLS block: the image's TLS alignment, at least 16. */
static unsigned long tls_align(void)
{
	unsigned long align = (unsigned long)mk_tls_align;
	return align < 16 ? 16 : align;
}

/* Bytes of a TLS block: the image's TLS template rounded to its alignment, then the TCB. */
static size_t tls_block_size(void)
{
	return MK_ALIGN_UP((size_t)(mk_tls_end - mk_tls_start), tls_align()) + 64;
}

/* Pages of a thread's stack for stack_size (0: the default), guard page included. */
static size_t stack_pages_for(size_t stack_size)
{
	return (MK_ALIGN_UP(stack_size ? stack_size : MK_THREAD_STACK_DEFAULT, 4096UL) >> 12) + 1;
}

size_t mk_thread_cost(size_t stack_size)
{
	return stack_pages_for(stack_size) * 4096 + mk_malloc_footprint(tls_block_size(), tls_align()) +
		mk_malloc_footprint(sizeof(struct mk_thread), 0);
}

void mk_thread_backtrace(struct mk_thread *t)
{
	if (!t || t == current)
		return;
	/*
	 * mk_context_switch saved the control words, r15, r14, r13, r12, rbx, rbp, then its
	 * return address.
	 */
	const unsigned long *sp = (const unsigned long *)t->sp;
	mk_backtrace(sp[7], sp[6]);
}

void mk_sched_memory(size_t *threads_out, size_t *bytes)
{
	*threads_out = live_threads;
	*bytes = live_thread_bytes;
}

/* Offset of the thread pointer in a TLS block: the template rounded up to its alignment. */
static size_t tls_tp_offset(void)
{
	return MK_ALIGN_UP((size_t)(mk_tls_end - mk_tls_start), tls_align());
}

/* TLS block per x86-64 variant II: data below the thread pointer, fs:0 = tp. */
unsigned long mk_tls_alloc(void)
{
	size_t filesz = (size_t)(mk_tdata_end - mk_tls_start);
	size_t off = tls_tp_offset();
	char *block = mk_malloc(tls_block_size(), tls_align());
	if (!block)
		return 0;
	mk_memcpy(block, mk_tls_start, filesz);
	mk_memset(block + filesz, 0, off - filesz + 64);
	unsigned long tp = (unsigned long)block + off;
	*(unsigned long *)tp = tp;
	return tp;
}

void mk_tls_free(unsigned long tp)
{
	if (tp)
		mk_free((char *)tp - tls_tp_offset());
}

static bool tls_setup(struct mk_thread *t)
{
	t->tls_own = mk_tls_alloc();
	if (!t->tls_own)
		return false;
	t->tls_tp = t->tls_own;
	t->tls_token = mk_arch_tls_attach(t->tls_tp);
	return true;
}

void mk_thread_set_tls(unsigned long tp)
{
	struct mk_thread *t = current;
	mk_arch_tls_detach(t->tls_token);
	t->tls_tp = tp;
	t->tls_token = mk_arch_tls_attach(tp);
	mk_arch_set_tls(tp, t->tls_token);
}

void mk_thread_stack(struct mk_thread *t, void **base, size_t *size)
{
	*base = t->stack ? t->stack + 4096 : NULL;
	*size = t->stack ? (t->stack_pages - 1) * 4096 : 0;
}

/* Canary words just above the guard page catch overflows that stopped short of it. */
#define STACK_CANARY 0x5741524e53544b21UL
#define STACK_CANARY_WORDS 8

static void canary_check(struct mk_thread *t)
{
	if (!t->stack)
		return;
	const unsigned long *c = (const unsigned long *)(t->stack + 4096);
	for (int i = 0; i < STACK_CANARY_WORDS; i++)
		if (c[i] != STACK_CANARY)
			mk_panic("stack overflow in thread '%s': the canary above its guard page "
				"at %p is overwritten", t->name, (void *)(t->stack + 4096));
}

static void thread_free(struct mk_thread *t)
{
	live_threads--;
	mk_arch_tls_detach(t->tls_token);
	if (t->foreign) {
		live_thread_bytes -= mk_malloc_footprint(sizeof(struct mk_thread), 0);
	} else {
		live_thread_bytes -= mk_thread_cost((t->stack_pages - 1) * 4096);
		mk_arch_remap_page((unsigned long)t->stack);
		mk_page_free(t->stack, t->stack_pages);
		mk_tls_free(t->tls_own);
	}
	mk_free(t);
}

/*
 * The first frame for mk_context_switch below top (16-byte aligned): the control words, r15
 * r14 r13 r12 rbx rbp, then the return address; then links t last in the thread list.
 */
static void thread_start(struct mk_thread *t, unsigned long top, mk_thread_fn fn, void *arg)
{
	unsigned long *sp = (unsigned long *)top;
	/* After the final ret the trampoline runs with rsp 16-byte aligned, as a call needs. */
	*--sp = (unsigned long)mk_thread_trampoline;
	*--sp = 0;			/* rbp: ends backtraces */
	*--sp = 0;			/* rbx */
	*--sp = (unsigned long)fn;	/* r12 */
	*--sp = (unsigned long)arg;	/* r13 */
	*--sp = 0;			/* r14 */
	*--sp = 0;			/* r15 */
	/* The ABI's initial control words: x87 0x37f and MXCSR 0x1f80 (all exceptions masked). */
	*--sp = (0x37fUL << 32) | 0x1f80UL;
	t->sp = (unsigned long)sp;
	t->state = T_RUNNABLE;
	live_threads++;
	if (!threads) {
		threads = t;
		t->next = t;
	} else {
		struct mk_thread *last = threads;
		while (last->next != threads)
			last = last->next;
		last->next = t;
		t->next = threads;
	}
}

struct mk_thread *mk_thread_create_on(const char *name, mk_thread_fn fn, void *arg,
	unsigned long stack_top, unsigned long tls_tp)
{
	struct mk_thread *t = mk_zalloc(sizeof(*t), 0);
	if (!t)
		return NULL;
	mk_strlcpy(t->name, name ? name : "thread", sizeof(t->name));
	t->foreign = true;
	t->tls_tp = tls_tp;
	t->tls_token = mk_arch_tls_attach(tls_tp);
	live_thread_bytes += mk_malloc_footprint(sizeof(struct mk_thread), 0);
	thread_start(t, stack_top & ~15UL, fn, arg);
	return t;
}

struct mk_thread *mk_thread_create(const char *name, mk_thread_fn fn, void *arg,
	size_t stack_size, bool joinable)
{
	size_t pages = stack_pages_for(stack_size);
	struct mk_thread *t = mk_zalloc(sizeof(*t), 0);
	if (!t)
		return NULL;
	t->stack = mk_page_alloc(pages, 1);
	if (!t->stack) {
		mk_free(t);
		return NULL;
	}
	t->stack_pages = pages;
	if (!tls_setup(t)) {
		mk_page_free(t->stack, pages);
		mk_free(t);
		return NULL;
	}
	if (mk_arch_unmap_page((unsigned long)t->stack) != 0)
		mk_panic("cannot unmap the stack guard page at %p", t->stack);
	mk_strlcpy(t->name, name ? name : "thread", sizeof(t->name));
	for (int i = 0; i < STACK_CANARY_WORDS; i++)
		((unsigned long *)(t->stack + 4096))[i] = STACK_CANARY;
	t->joinable = joinable;
	live_thread_bytes += mk_thread_cost((pages - 1) * 4096);
	thread_start(t, (unsigned long)(t->stack + pages * 4096), fn, arg);
	return t;
}

static void unlink_thread(struct mk_thread *t)
{
	struct mk_thread *p = threads;
	if (t->next == t) {
		threads = NULL;
		return;
	}
	while (p->next != t)
		p = p->next;
	p->next = t->next;
	if (threads == t)
		threads = t->next;
}

static void reap(void)
{
	while (reap_list && reap_list != current) {
		struct mk_thread *t = reap_list;
		reap_list = t->next;
		thread_free(t);
	}
}

static void switch_to(struct mk_thread *next, uint64_t now)
{
	struct mk_thread *prev = current;
	if (next == prev)
		return;
	if (prev && prev->state != T_DEAD)
		canary_check(prev);
	current = next;
	switches++;
	slice_start_ns = now;
	mk_arch_set_tls(next->tls_tp, next->tls_token);
	mk_context_switch(prev ? &prev->sp : &boot_sp, next->sp);
	reap();
}

/*
 * Picks the next runnable thread after current, waking expired sleepers; idles if none.
 * The clock is read only when a sleeper's deadline may have passed
 * (mk_time_deadline_maybe_due): where Xen emulates rdtsc a read costs as much as a
 * hypercall, and most switches have no sleeper due.
 */
static void schedule(void)
{
	for (;;) {
		mk_evtchn_dispatch();
		struct mk_thread *start = current && current->state != T_DEAD ? current : threads;
		if (!start)
			mk_panic("no threads left to run");
		struct mk_thread *t = start->next, *pick = NULL, *soonest = NULL;
		for (;; t = t->next) {
			if (t->state == T_BLOCKED && t->deadline_ns &&
			    (!soonest || t->deadline_ns < soonest->deadline_ns))
				soonest = t;
			if (!pick && t->state == T_RUNNABLE)
				pick = t;
			if (t == start)
				break;
		}
		uint64_t now = 0;	/* 0: not read */
		if (soonest && mk_time_deadline_maybe_due(soonest->deadline_ns)) {
			now = mk_time_monotonic_ns();
			/* Of several expired sleepers, the earliest deadline goes first. */
			if (soonest->deadline_ns <= now) {
				soonest->state = T_RUNNABLE;
				soonest->timed_out = true;
				soonest->deadline_ns = 0;
				if (!pick || pick == current)
					pick = soonest;
				soonest = NULL;
			}
		}
		if (pick) {
			if (soonest)
				mk_time_arm_for(soonest->deadline_ns);
			switch_to(pick, now);
			return;
		}
		/* Nothing runnable: sleep in Xen until the earliest deadline or any event. */
		if (!now)
			now = mk_time_monotonic_ns();
		mk_time_block_until(soonest ? soonest->deadline_ns : now + 10000000000ULL);
	}
}

void mk_thread_preempt_point(void)
{
	if (!current)
		return;
	uint64_t now = mk_time_monotonic_ns();
	if (!slice_start_ns) {
		/* The switch did not read the clock: the slice starts now. */
		slice_start_ns = now;
	} else if (now - slice_start_ns >= SLICE_NS) {
		slice_start_ns = now;
		schedule();
	}
}

void mk_thread_yield(void)
{
	schedule();
}

void mk_thread_block(void)
{
	current->state = T_BLOCKED;
	current->deadline_ns = 0;
	schedule();
}

bool mk_thread_block_until(uint64_t deadline_ns)
{
	current->timed_out = false;
	current->state = T_BLOCKED;
	current->deadline_ns = deadline_ns ? deadline_ns : 1;
	schedule();
	return current->timed_out;
}

void mk_thread_sleep_until(uint64_t deadline_ns)
{
	while (!mk_thread_block_until(deadline_ns)) {
		/* Woken early by someone else: keep sleeping. */
	}
}

void mk_thread_wake(struct mk_thread *t)
{
	if (t->state == T_BLOCKED) {
		t->state = T_RUNNABLE;
		t->deadline_ns = 0;
	}
}

MK_NORETURN void mk_thread_exit(void *retval)
{
	struct mk_thread *t = current;
	t->retval = retval;
	t->state = T_DEAD;
	if (t->joiner)
		mk_thread_wake(t->joiner);
	if (!t->joinable) {
		unlink_thread(t);
		t->next = reap_list;
		reap_list = t;
	}
	schedule();
	mk_panic("dead thread '%s' was scheduled", t->name);
}

void mk_thread_exit_from_trampoline(void *retval)
{
	mk_thread_exit(retval);
}

void *mk_thread_join(struct mk_thread *t)
{
	if (!t->joinable)
		mk_panic("join of non-joinable thread '%s'", t->name);
	while (t->state != T_DEAD) {
		t->joiner = current;
		mk_thread_block();
	}
	void *rv = t->retval;
	unlink_thread(t);
	t->next = reap_list;
	reap_list = t;
	reap();
	return rv;
}

MK_NORETURN void mk_sched_start(void)
{
	if (!threads)
		mk_panic("mk_sched_start with no threads");
	mk_arch_enter_thread_mode();
	current = NULL;
	struct mk_thread *first = threads;
	current = first;
	switches++;
	mk_arch_set_tls(first->tls_tp, first->tls_token);
	mk_context_switch(&boot_sp, first->sp);
	mk_panic("boot context resumed");
}
