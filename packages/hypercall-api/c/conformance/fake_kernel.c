/*
 * The suite's stand-in for a rump kernel: FK_NCPU virtual CPUs handed out by the same
 * upcalls a real kernel gives rumpuser_init, and lwps bound to host threads through
 * rumpuser_curlwpop. It checks the hypercall layer keeps the protocol: a thread releases
 * only a CPU it holds, and takes one only when it holds none.
 *
 * The scheduler lock (cpu_mtx) is what a rump kernel's per-CPU scheduler lock is: a
 * RUMPUSER_MTX_SPIN mutex without RUMPUSER_MTX_KMUTEX, entered only with the nowrap calls,
 * and usable as the interlock of a condition variable wait (fk_schedlock_cv_wait). With it
 * as interlock, the backend upcalls own the lock on the kernel's side of the wait: unschedule
 * takes it before the CPU goes and returns with it held (the wait then releases it), and
 * schedule is entered with it held (the hypercall layer retook it after the wait) and
 * releases it once the CPU is taken.
 */
#include "conf.h"

static struct rumpuser_mtx *cpu_mtx;
static struct rumpuser_cv *cpu_cv;
/*
 * The lwp whose kernel section (below) holds cpu_mtx, written only by that holder; NULL
 * while the lock is free or held by the hypercall layer (inside an interlocked wait).
 */
static struct lwp *sched_holder;
static int cpus_free = FK_NCPU;
static int next_lwp_id = 1;
static int violations;
static const char *last_violation = "none";
static int newlwp_calls;

static void violation(const char *what)
{
	__atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
	last_violation = what;
}

int fk_violations(void)
{
	return __atomic_load_n(&violations, __ATOMIC_SEQ_CST);
}

const char *fk_last_violation(void)
{
	return last_violation;
}

int fk_newlwp_calls(void)
{
	return __atomic_load_n(&newlwp_calls, __ATOMIC_SEQ_CST);
}

struct lwp *fk_lwp_create(void)
{
	void *mem = NULL;
	struct lwp *l;

	if (rumpuser_malloc(sizeof(*l), 0, &mem) != 0) {
		conf_line("conformance: out of memory creating an lwp");
		rumpuser_exit(RUMPUSER_PANIC);
	}
	l = mem;
	l->magic = FK_LWP_MAGIC;
	l->id = __atomic_fetch_add(&next_lwp_id, 1, __ATOMIC_SEQ_CST);
	l->on_cpu = 0;
	l->unschedules = 0;
	l->implicit = 0;
	l->outside_kernel = 0;
	rumpuser_curlwpop(RUMPUSER_LWP_CREATE, l);
	return l;
}

void fk_lwp_destroy(struct lwp *l)
{
	rumpuser_curlwpop(RUMPUSER_LWP_DESTROY, l);
	l->magic = 0;
	rumpuser_free(l, sizeof(*l));
}

static struct lwp *current(const char *who)
{
	struct lwp *l = rumpuser_curlwp();

	if (l == NULL || l->magic != FK_LWP_MAGIC) {
		violation(who);
		return NULL;
	}
	return l;
}

/* A kernel section on the scheduler lock for l: nowrap, as a rump kernel's scheduler. */
static void sched_lock(struct lwp *l)
{
	rumpuser_mutex_enter_nowrap(cpu_mtx);
	__atomic_store_n(&sched_holder, l, __ATOMIC_SEQ_CST);
}

static void sched_unlock(void)
{
	__atomic_store_n(&sched_holder, NULL, __ATOMIC_SEQ_CST);
	rumpuser_mutex_exit(cpu_mtx);
}

/* With the scheduler lock held by l's section: wait for a free CPU and take it. */
static void cpu_take_locked(struct lwp *l)
{
	while (cpus_free == 0) {
		/* The wait releases the lock: l's section does not hold it meanwhile. */
		__atomic_store_n(&sched_holder, NULL, __ATOMIC_SEQ_CST);
		rumpuser_cv_wait_nowrap(cpu_cv, cpu_mtx);
		__atomic_store_n(&sched_holder, l, __ATOMIC_SEQ_CST);
	}
	cpus_free--;
	l->on_cpu = 1;
}

/* With the scheduler lock held: l's CPU becomes free for whoever waits for one. */
static void cpu_give_locked(struct lwp *l)
{
	l->on_cpu = 0;
	cpus_free++;
	rumpuser_cv_signal(cpu_cv);
}

static void cpu_take_for(struct lwp *l)
{
	sched_lock(l);
	cpu_take_locked(l);
	sched_unlock();
}

static void cpu_give_for(struct lwp *l)
{
	sched_lock(l);
	cpu_give_locked(l);
	sched_unlock();
}

/*
 * hyp_backend_schedule with the scheduler lock as interlock: the caller must hold it. If it
 * does not, record that and take the lock the ordinary way, so the kernel never releases a
 * lock it was not handed. A free lock is certain proof; a lock held by another lwp's kernel
 * section is caught once that section has recorded itself in sched_holder (a broken layer can
 * slip through in the instant between). Returns with the lock held by l's section.
 */
static void sched_interlock_claim(struct lwp *l)
{
	struct lwp *holder;

	if (rumpuser_mutex_tryenter(cpu_mtx) == 0) {
		violation("hyp_backend_schedule: its interlock, the scheduler lock, was free, "
		    "not held by the caller");
		__atomic_store_n(&sched_holder, l, __ATOMIC_SEQ_CST);
		return;
	}
	holder = __atomic_load_n(&sched_holder, __ATOMIC_SEQ_CST);
	if (holder != NULL) {
		violation("hyp_backend_schedule: its interlock, the scheduler lock, was held by "
		    "another lwp, not the caller");
		sched_lock(l);
		return;
	}
	__atomic_store_n(&sched_holder, l, __ATOMIC_SEQ_CST);
}

void fk_cpu_take(void)
{
	struct lwp *l = current("fk_cpu_take without an lwp");
	if (l != NULL)
		cpu_take_for(l);
}

void fk_cpu_give(void)
{
	struct lwp *l = current("fk_cpu_give without an lwp");
	if (l != NULL)
		cpu_give_for(l);
}

/* A host thread entering the kernel; one without an lwp gets a temporary one. */
static void hyp_schedule(void)
{
	struct lwp *l = rumpuser_curlwp();

	if (l == NULL) {
		l = fk_lwp_create();
		l->implicit = 1;
		rumpuser_curlwpop(RUMPUSER_LWP_SET, l);
	}
	if (l->on_cpu)
		violation("hyp_schedule by a thread already on a CPU");
	cpu_take_for(l);
}

static void hyp_unschedule(void)
{
	struct lwp *l = current("hyp_unschedule without an lwp");

	if (l == NULL)
		return;
	if (!l->on_cpu)
		violation("hyp_unschedule by a thread without a CPU");
	cpu_give_for(l);
	if (l->implicit) {
		rumpuser_curlwpop(RUMPUSER_LWP_CLEAR, l);
		fk_lwp_destroy(l);
	}
}

/*
 * With the scheduler lock as interlock, the lock is taken before the CPU is given (nobody
 * can be scheduled onto the CPU before the caller sleeps) and handed to the caller held,
 * whatever else is wrong, so the hypercall layer's release of it stays balanced.
 */
static void hyp_backend_unschedule(int nlocks, int *countp, void *interlock)
{
	struct lwp *l = current("hyp_backend_unschedule without an lwp");
	int interlocked = interlock != NULL && interlock == cpu_mtx;

	(void)nlocks;
	*countp = 0;
	if (interlocked)
		sched_lock(l);
	if (l != NULL && !l->outside_kernel) {
		if (!l->on_cpu)
			violation("hyp_backend_unschedule by a thread without a CPU");
		l->unschedules++;
		if (interlocked)
			cpu_give_locked(l);
		else
			cpu_give_for(l);
	}
	if (interlocked)
		__atomic_store_n(&sched_holder, NULL, __ATOMIC_SEQ_CST);
}

/* With the scheduler lock as interlock, entered holding it; it is released here. */
static void hyp_backend_schedule(int nlocks, void *interlock)
{
	struct lwp *l = current("hyp_backend_schedule without an lwp");
	int interlocked = interlock != NULL && interlock == cpu_mtx;

	(void)nlocks;
	if (interlocked)
		sched_interlock_claim(l);
	if (l != NULL && !l->outside_kernel) {
		if (l->on_cpu)
			violation("hyp_backend_schedule by a thread already on a CPU");
		if (interlocked)
			cpu_take_locked(l);
		else
			cpu_take_for(l);
	}
	if (interlocked)
		sched_unlock();
}

/* The calling thread (on a CPU) continues as l, which inherits the CPU. */
static void hyp_lwproc_switch(struct lwp *l)
{
	struct lwp *old = current("hyp_lwproc_switch without an lwp");

	if (old == NULL)
		return;
	l->on_cpu = old->on_cpu;
	old->on_cpu = 0;
	rumpuser_curlwpop(RUMPUSER_LWP_CLEAR, old);
	rumpuser_curlwpop(RUMPUSER_LWP_SET, l);
	if (old->implicit)
		fk_lwp_destroy(old);
}

/* Give up the current lwp; the thread continues on a temporary one until it unschedules. */
static void hyp_lwproc_release(void)
{
	struct lwp *old = current("hyp_lwproc_release without an lwp");
	struct lwp *tmp;

	if (old == NULL)
		return;
	tmp = fk_lwp_create();
	tmp->implicit = 1;
	hyp_lwproc_switch(tmp);
	fk_lwp_destroy(old);
}

static int hyp_lwproc_newlwp(pid_t pid)
{
	struct lwp *l;

	(void)pid;
	__atomic_add_fetch(&newlwp_calls, 1, __ATOMIC_SEQ_CST);
	l = fk_lwp_create();
	hyp_lwproc_switch(l);
	return 0;
}

static int hyp_lwproc_rfork(void *priv, int flags, const char *comm)
{
	(void)priv;
	(void)flags;
	(void)comm;
	violation("hyp_lwproc_rfork: no hypercall should fork a process here");
	return RUMPXEN_NETBSD_ENOSYS;
}

static struct lwp *hyp_lwproc_curlwp(void)
{
	return rumpuser_curlwp();
}

static int hyp_syscall(int num, void *arg, long *retval)
{
	(void)num;
	(void)arg;
	(void)retval;
	violation("hyp_syscall: no hypercall should make a system call here");
	return RUMPXEN_NETBSD_ENOSYS;
}

static void hyp_lwpexit(void)
{
}

static void hyp_execnotify(const char *comm)
{
	(void)comm;
}

static pid_t hyp_getpid(void)
{
	return 1;
}

const struct rumpuser_hyperup fk_hyperup = {
	.hyp_schedule = hyp_schedule,
	.hyp_unschedule = hyp_unschedule,
	.hyp_backend_unschedule = hyp_backend_unschedule,
	.hyp_backend_schedule = hyp_backend_schedule,
	.hyp_lwproc_switch = hyp_lwproc_switch,
	.hyp_lwproc_release = hyp_lwproc_release,
	.hyp_lwproc_rfork = hyp_lwproc_rfork,
	.hyp_lwproc_newlwp = hyp_lwproc_newlwp,
	.hyp_lwproc_curlwp = hyp_lwproc_curlwp,
	.hyp_syscall = hyp_syscall,
	.hyp_lwpexit = hyp_lwpexit,
	.hyp_execnotify = hyp_execnotify,
	.hyp_getpid = hyp_getpid,
};

void fk_boot(void)
{
	struct lwp *l;

	rumpuser_mutex_init(&cpu_mtx, RUMPUSER_MTX_SPIN);
	rumpuser_cv_init(&cpu_cv);
	l = fk_lwp_create();
	rumpuser_curlwpop(RUMPUSER_LWP_SET, l);
	cpu_take_for(l);
}

void fk_schedlock_cv_wait(struct rumpuser_cv *cv)
{
	rumpuser_cv_wait(cv, cpu_mtx);
}

int fk_schedlock_cv_timedwait(struct rumpuser_cv *cv, int64_t sec, int64_t nsec)
{
	return rumpuser_cv_timedwait(cv, cpu_mtx, sec, nsec);
}

/*
 * Tries without blocking, holding the CPU: a lock the caller itself leaked would deadlock a
 * blocking enter. No kernel section keeps the lock for long, so one still held after
 * timeout_ns was leaked by a hypercall; it is then released (unless a kernel section claims
 * it), so the run goes on and reports the case instead of deadlocking in the next one.
 */
int fk_schedlock_takeable(int64_t timeout_ns)
{
	int64_t deadline = conf_now_ns() + timeout_ns;

	do {
		if (rumpuser_mutex_tryenter(cpu_mtx) == 0) {
			rumpuser_mutex_exit(cpu_mtx);
			return 1;
		}
		conf_spin_ns(MS);
	} while (conf_now_ns() < deadline);
	if (__atomic_load_n(&sched_holder, __ATOMIC_SEQ_CST) == NULL)
		rumpuser_mutex_exit(cpu_mtx);
	return 0;
}
