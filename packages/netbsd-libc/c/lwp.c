/*
 * NetBSD's lwp calls, as libpthread makes them, on the guest kernel's threads: an lwp is a
 * guest kernel thread (<mk/sched.h>) that runs on the stack and with the TLS block that
 * libpthread gives _lwp_create, and that is bound to its own lwp of the program's process in
 * the rump kernel (rump_pub_lwproc_newlwp), released again when it exits. The scheduler is
 * cooperative on one vcpu: an lwp runs until it parks, sleeps, yields or makes a system call
 * that blocks, so at most one lwp runs at a time and every other one is off-cpu.
 *
 * Parking: _lwp_unpark sets the target's "unparked" flag and wakes it if it is parked; a park
 * that finds the flag already set returns EALREADY at once, as NetBSD's does. Timed parks
 * sleep until a deadline on the guest's monotonic clock, converted from the program's clock.
 */
#include <mk/console.h>
#include <mk/crash.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include <mk/time.h>

#include "nblibc.h"

/* NetBSD's ABI (x86-64): sys/ucontext.h, machine/mcontext.h, sys/lwpctl.h, errno.h, time.h. */
#define NB_UC_CPU 0x00000004
#define NB_UC_TLSBASE 0x00080000
#define NB_REG_RDI 0
#define NB_REG_RIP 21
#define NB_REG_URSP 24
#define NB_LWP_SUSPENDED 0x00000080
#define NB_LWPCTL_FEATURE_CURCPU 1
#define NB_LWPCTL_FEATURE_PCTR 2
#define NB_LWPCTL_CPU_NONE (-1)
#define NB_LWPCTL_CPU_EXITED (-2)
#define NB_TIMER_ABSTIME 1
#define NB_CLOCK_REALTIME 0
#define NB_CLOCK_MONOTONIC 3
#define NB_NSIG 64
/* What _lwp_unpark_all takes at most in one call (NetBSD's kernel answers 1024 too). */
#define UNPARK_MAX 1024

struct nb_ucontext {
	unsigned int uc_flags;
	void *uc_link;
	unsigned int uc_sigmask[4];
	struct {
		void *ss_sp;
		size_t ss_size;
		int ss_flags;
	} uc_stack;
	unsigned long gregs[26];
	unsigned long mc_tlsbase;
};

_Static_assert(__builtin_offsetof(struct nb_ucontext, gregs) == 56, "NetBSD amd64 uc_mcontext");
_Static_assert(__builtin_offsetof(struct nb_ucontext, mc_tlsbase) == 264, "NetBSD amd64 _mc_tlsbase");

struct nb_timespec {
	long long tv_sec;
	long tv_nsec;
};

/* lwpctl_t first (what _lwp_ctl hands out); blocks are kept on a free list, never freed. */
struct lwpctl_block {
	int curcpu;
	int pctr;
	struct lwpctl_block *next_free;
};

struct nb_lwp {
	int lid;
	struct mk_thread *thread;
	struct lwpctl_block *ctl;
	bool parked;		/* blocked in _lwp_park */
	bool unparked;		/* an unpark came: the current or next park returns */
	bool interrupted;	/* _lwp_wakeup: the park returns EINTR */
	bool suspended;		/* created with LWP_SUSPENDED or _lwp_suspend'ed, until continued */
	bool stopped;		/* blocked until continued */
	bool rump_bound;	/* has an lwp of its own in the rump kernel */
	void (*start)(void *);
	void *arg;
	char name[32];
	struct nb_lwp *next;
};

extern int getpid(void);
extern int __clock_gettime50(int clock_id, struct nb_timespec *ts);
extern int rump_pub_lwproc_newlwp(int pid);
extern void rump_pub_lwproc_releaselwp(void);
extern long write(int fd, const void *buf, size_t nbyte);

static struct nb_lwp main_lwp = { .lid = 1, .name = "main" };
static struct nb_lwp *lwps = &main_lwp;	/* the live ones */
static size_t live_lwps = 1;
static int next_lid = 2;
static int program_pid = 1;
static struct lwpctl_block *free_ctls;
static unsigned long main_tls;		/* the guest kernel's TLS block of the first thread */
static __thread struct nb_lwp *self;

static struct nb_lwp *me(void)
{
	return self != NULL ? self : &main_lwp;
}

static int fail(int error)
{
	*__errno() = error;
	return -1;
}

static struct nb_lwp *find(int lid)
{
	for (struct nb_lwp *l = lwps; l != NULL; l = l->next)
		if (l->lid == lid)
			return l;
	return NULL;
}

static struct lwpctl_block *ctl_alloc(void)
{
	struct lwpctl_block *c = free_ctls;
	if (c != NULL)
		free_ctls = c->next_free;
	else if ((c = mk_malloc(sizeof(*c), 0)) == NULL)
		return NULL;
	/* Off-cpu: libpthread spins on a mutex only while its owner is on a cpu. */
	c->curcpu = NB_LWPCTL_CPU_NONE;
	c->pctr = 0;
	c->next_free = NULL;
	return c;
}

static void bind_to_rump(struct nb_lwp *l)
{
	int error = rump_pub_lwproc_newlwp(program_pid);
	if (error != 0) {
		mk_printk("netbsd-libc: lwp %d: no lwp of process %d in the rump kernel (error %d)\n",
			l->lid, program_pid, error);
		_exit(127);
	}
	l->rump_bound = true;
}

void nblibc_lwp_init(void)
{
	self = &main_lwp;
	main_lwp.thread = mk_thread_self();
	main_tls = (unsigned long)_lwp_getprivate();
	main_lwp.ctl = ctl_alloc();
	if (main_lwp.ctl == NULL)
		mk_out_of_memory("the first lwp's lwpctl");
	program_pid = getpid();
	bind_to_rump(&main_lwp);
}

static void *lwp_start(void *arg)
{
	struct nb_lwp *l = arg;
	self = l;
	bind_to_rump(l);
	while (l->suspended) {
		l->stopped = true;
		mk_thread_block();
		l->stopped = false;
	}
	l->start(l->arg);
	_lwp_exit();
}

/*
 * Starts uc's function (%rip) with its argument (%rdi) on its stack (below %rsp, where
 * _lwp_makecontext left _lwp_exit as the return address: the start routine here calls
 * _lwp_exit itself when the function returns) and with its TLS base as the fs base.
 */
int _lwp_create(const struct nb_ucontext *uc, unsigned long flags, int *new_lid)
{
	if (!(uc->uc_flags & NB_UC_CPU) || !(uc->uc_flags & NB_UC_TLSBASE) || uc->mc_tlsbase == 0)
		return fail(RUMPXEN_NETBSD_EINVAL);
	struct nb_lwp *l = mk_zalloc(sizeof(*l), 0);
	if (l == NULL)
		return fail(RUMPXEN_NETBSD_ENOMEM);
	l->ctl = ctl_alloc();
	if (l->ctl == NULL) {
		mk_free(l);
		return fail(RUMPXEN_NETBSD_ENOMEM);
	}
	l->lid = next_lid++;
	l->start = (void (*)(void *))uc->gregs[NB_REG_RIP];
	l->arg = (void *)uc->gregs[NB_REG_RDI];
	l->suspended = (flags & NB_LWP_SUSPENDED) != 0;
	char name[32];
	mk_snprintf(name, sizeof(name), "lwp%d", l->lid);
	l->thread = mk_thread_create_on(name, lwp_start, l, uc->gregs[NB_REG_URSP], uc->mc_tlsbase);
	if (l->thread == NULL) {
		l->ctl->next_free = free_ctls;
		free_ctls = l->ctl;
		mk_free(l);
		return fail(RUMPXEN_NETBSD_ENOMEM);
	}
	l->next = lwps;
	lwps = l;
	live_lwps++;
	if (new_lid != NULL)
		*new_lid = l->lid;
	return 0;
}

/*
 * The lwp ends: its rump kernel lwp is released, its lwpctl says EXITED (libpthread then
 * reuses its stack) and the guest thread exits; nothing blocks between the last two, so no
 * other lwp runs on the stack's behalf before the switch away from it. The last lwp of the
 * program ends it with status 0, as NetBSD's kernel ends a process whose last lwp exits.
 */
void _lwp_exit(void)
{
	struct nb_lwp *l = me();
	if (l->rump_bound) {
		rump_pub_lwproc_releaselwp();
		l->rump_bound = false;
	}
	if (live_lwps == 1)
		_exit(0);
	for (struct nb_lwp **link = &lwps; *link != NULL; link = &(*link)->next) {
		if (*link == l) {
			*link = l->next;
			break;
		}
	}
	live_lwps--;
	l->ctl->curcpu = NB_LWPCTL_CPU_EXITED;
	l->ctl->next_free = free_ctls;
	free_ctls = l->ctl;
	if (l != &main_lwp)
		mk_free(l);
	self = NULL;
	mk_thread_exit(NULL);
}

int _lwp_self(void)
{
	return me()->lid;
}

/* The program's clock (the rump kernel's) now, as nanoseconds. */
static long long program_clock_ns(int clock_id)
{
	struct nb_timespec now;
	if (__clock_gettime50(clock_id, &now) != 0)
		return -1;
	return now.tv_sec * 1000000000LL + now.tv_nsec;
}

int ___lwp_park60(int clock_id, int flags, struct nb_timespec *ts, int unpark, const void *hint,
	const void *unparkhint)
{
	(void)hint;
	if (unpark != 0)
		(void)_lwp_unpark(unpark, unparkhint);
	struct nb_lwp *l = me();
	if (l->unparked) {
		l->unparked = false;
		return fail(RUMPXEN_NETBSD_EALREADY);
	}
	uint64_t deadline = 0;
	if (ts != NULL) {
		if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L || ts->tv_sec < 0)
			return fail(RUMPXEN_NETBSD_EINVAL);
		long long wait = ts->tv_sec * 1000000000LL + ts->tv_nsec;
		if (flags & NB_TIMER_ABSTIME) {
			if (clock_id != NB_CLOCK_REALTIME && clock_id != NB_CLOCK_MONOTONIC)
				return fail(RUMPXEN_NETBSD_EINVAL);
			long long now = program_clock_ns(clock_id);
			if (now < 0)
				return fail(RUMPXEN_NETBSD_EINVAL);
			wait -= now;
		}
		if (wait <= 0)
			return fail(RUMPXEN_NETBSD_ETIMEDOUT);
		deadline = mk_time_monotonic_ns() + (uint64_t)wait;
	}
	int error = 0;
	l->parked = true;
	for (;;) {
		bool expired = false;
		if (deadline != 0)
			expired = mk_thread_block_until(deadline);
		else
			mk_thread_block();
		if (l->unparked) {
			l->unparked = false;
			break;
		}
		if (l->interrupted) {
			l->interrupted = false;
			error = RUMPXEN_NETBSD_EINTR;
			break;
		}
		if (expired) {
			error = RUMPXEN_NETBSD_ETIMEDOUT;
			break;
		}
	}
	l->parked = false;
	return error != 0 ? fail(error) : 0;
}

int _lwp_unpark(int lid, const void *hint)
{
	(void)hint;
	struct nb_lwp *l = find(lid);
	if (l == NULL)
		return fail(RUMPXEN_NETBSD_ESRCH);
	l->unparked = true;
	if (l->parked)
		mk_thread_wake(l->thread);
	return 0;
}

long _lwp_unpark_all(const int *targets, size_t ntargets, const void *hint)
{
	if (targets == NULL)
		return UNPARK_MAX;
	if (ntargets > UNPARK_MAX)
		return fail(RUMPXEN_NETBSD_EINVAL);
	for (size_t i = 0; i < ntargets; i++)
		(void)_lwp_unpark(targets[i], hint);
	return 0;
}

/* Interrupts a park (it returns EINTR); EBUSY when the lwp is not parked. */
int _lwp_wakeup(int lid)
{
	struct nb_lwp *l = find(lid);
	if (l == NULL)
		return fail(RUMPXEN_NETBSD_ESRCH);
	if (!l->parked)
		return fail(RUMPXEN_NETBSD_EBUSY);
	l->interrupted = true;
	mk_thread_wake(l->thread);
	return 0;
}

int _lwp_ctl(int features, void **address)
{
	if ((features & ~(NB_LWPCTL_FEATURE_CURCPU | NB_LWPCTL_FEATURE_PCTR)) != 0)
		return fail(RUMPXEN_NETBSD_EINVAL);
	struct nb_lwp *l = me();
	if (l->ctl == NULL && (l->ctl = ctl_alloc()) == NULL)
		return fail(RUMPXEN_NETBSD_ENOMEM);
	*address = l->ctl;
	return 0;
}

int _lwp_setname(int lid, const char *name)
{
	struct nb_lwp *l = lid == 0 ? me() : find(lid);
	if (l == NULL)
		return fail(RUMPXEN_NETBSD_ESRCH);
	mk_strlcpy(l->name, name != NULL ? name : "", sizeof(l->name));
	return 0;
}

int _lwp_getname(int lid, char *name, size_t len)
{
	struct nb_lwp *l = lid == 0 ? me() : find(lid);
	if (l == NULL)
		return fail(RUMPXEN_NETBSD_ESRCH);
	if (len > 0)
		mk_strlcpy(name, l->name, len);
	return 0;
}

/*
 * A signal to one lwp: 0 asks whether it exists (libpthread's test before reusing a dead
 * thread's stack); a real one is taken by the calling lwp when it names itself. Another lwp
 * cannot be interrupted asynchronously on this scheduler: ENOTSUP.
 */
int _lwp_kill(int lid, int sig)
{
	struct nb_lwp *l = find(lid);
	if (l == NULL)
		return fail(RUMPXEN_NETBSD_ESRCH);
	if (sig < 0 || sig > NB_NSIG)
		return fail(RUMPXEN_NETBSD_EINVAL);
	if (sig == 0)
		return 0;
	if (l != me())
		return fail(RUMPXEN_NETBSD_ENOTSUP);
	return nblibc_signal_self(sig);
}

/* Only the calling lwp can stop itself (see _lwp_kill); _lwp_continue restarts any. */
int _lwp_suspend(int lid)
{
	struct nb_lwp *l = find(lid);
	if (l == NULL)
		return fail(RUMPXEN_NETBSD_ESRCH);
	if (l != me())
		return fail(RUMPXEN_NETBSD_ENOTSUP);
	l->suspended = true;
	while (l->suspended) {
		l->stopped = true;
		mk_thread_block();
		l->stopped = false;
	}
	return 0;
}

int _lwp_continue(int lid)
{
	struct nb_lwp *l = find(lid);
	if (l == NULL)
		return fail(RUMPXEN_NETBSD_ESRCH);
	l->suspended = false;
	if (l->stopped)
		mk_thread_wake(l->thread);
	return 0;
}

/* sched_yield lets the other runnable threads run (the rump kernel's would not switch). */
int sched_yield(void)
{
	mk_thread_yield();
	return 0;
}

int _sys_sched_yield(void) __attribute__((alias("sched_yield")));

/* The thread pointer: fs:0 holds it (TLS variant II's tcb_self). */
void *_lwp_getprivate(void)
{
	void *tp;
	__asm__("movq %%fs:0, %0" : "=r"(tp));
	return tp;
}

int _lwp_setprivate(void *tp)
{
	mk_thread_set_tls((unsigned long)tp);
	return 0;
}

/*
 * TLS blocks for new threads (libc's own versions are weak): the guest kernel's layout, the
 * same as the first thread's, whose block the guest kernel owns.
 */
void *_rtld_tls_allocate(void)
{
	unsigned long tp = mk_tls_alloc();
	if (tp == 0) {
		static const char msg[] = "netbsd-libc: out of memory for a thread's TLS block\n";
		write(2, msg, sizeof(msg) - 1);
		_exit(127);
	}
	return (void *)tp;
}

void _rtld_tls_free(void *tcb)
{
	if ((unsigned long)tcb != main_tls)
		mk_tls_free((unsigned long)tcb);
}

/*
 * libc's _lwp_makecontext is built with getcontext, which the RUMPRUN build leaves out: this
 * one fills what _lwp_create reads (and NetBSD's fills): %rip, %rdi, the stack with _lwp_exit
 * as the return address, the TLS base.
 */
void _lwp_makecontext(struct nb_ucontext *uc, void (*start)(void *), void *arg, void *tls,
	char *stack_base, size_t stack_size)
{
	uc->uc_flags |= NB_UC_CPU | NB_UC_TLSBASE;
	uc->uc_link = NULL;
	uc->uc_stack.ss_sp = stack_base;
	uc->uc_stack.ss_size = stack_size;
	uc->uc_stack.ss_flags = 0;
	unsigned long *sp = (unsigned long *)(((unsigned long)stack_base + stack_size) & ~15UL);
	*--sp = (unsigned long)_lwp_exit;
	uc->gregs[NB_REG_RIP] = (unsigned long)start;
	uc->gregs[NB_REG_RDI] = (unsigned long)arg;
	uc->gregs[NB_REG_URSP] = (unsigned long)sp;
	uc->mc_tlsbase = (unsigned long)tls;
}

/*
 * Scheduling parameters: the guest's scheduler has one class (round robin without
 * priorities), which NetBSD calls SCHED_OTHER; other policies are refused (EINVAL), as are
 * cpu sets (one vcpu: ENOSYS). Priority protection (PTHREAD_PRIO_PROTECT mutexes) has no
 * priority to raise and succeeds.
 */
#define NB_SCHED_NONE (-1)
#define NB_SCHED_OTHER 0

struct nb_sched_param {
	int sched_priority;
};

int _sched_getparam(int pid, int lid, int *policy, struct nb_sched_param *param)
{
	(void)pid;
	if (lid != 0 && find(lid) == NULL)
		return fail(RUMPXEN_NETBSD_ESRCH);
	if (policy != NULL)
		*policy = NB_SCHED_OTHER;
	if (param != NULL)
		param->sched_priority = 0;
	return 0;
}

int _sched_setparam(int pid, int lid, int policy, const struct nb_sched_param *param)
{
	(void)pid;
	(void)param;
	if (lid != 0 && find(lid) == NULL)
		return fail(RUMPXEN_NETBSD_ESRCH);
	if (policy != NB_SCHED_OTHER && policy != NB_SCHED_NONE)
		return fail(RUMPXEN_NETBSD_EINVAL);
	return 0;
}

int _sched_getaffinity(int pid, int lid, size_t size, void *cpuset)
{
	(void)pid;
	(void)lid;
	(void)size;
	(void)cpuset;
	return fail(RUMPXEN_NETBSD_ENOSYS);
}

int _sched_setaffinity(int pid, int lid, size_t size, const void *cpuset)
{
	(void)pid;
	(void)lid;
	(void)size;
	(void)cpuset;
	return fail(RUMPXEN_NETBSD_ENOSYS);
}

int _sched_protect(int priority)
{
	(void)priority;
	return 0;
}
