/*
 * The suite's stand-in for a rump kernel: FK_NCPU virtual CPUs handed out by the same
 * upcalls a real kernel gives rumpuser_init, and lwps bound to host threads through
 * rumpuser_curlwpop. It checks the hypercall layer keeps the protocol: a thread releases
 * only a CPU it holds, and takes one only when it holds none.
 */
#include "conf.h"

static struct rumpuser_mtx *cpu_mtx;
static struct rumpuser_cv *cpu_cv;
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

/* The scheduler's own lock: nowrap, as a rump kernel's scheduler uses it. */
static void cpu_take_for(struct lwp *l)
{
	rumpuser_mutex_enter_nowrap(cpu_mtx);
	while (cpus_free == 0)
		rumpuser_cv_wait_nowrap(cpu_cv, cpu_mtx);
	cpus_free--;
	l->on_cpu = 1;
	rumpuser_mutex_exit(cpu_mtx);
}

static void cpu_give_for(struct lwp *l)
{
	rumpuser_mutex_enter_nowrap(cpu_mtx);
	l->on_cpu = 0;
	cpus_free++;
	rumpuser_cv_signal(cpu_cv);
	rumpuser_mutex_exit(cpu_mtx);
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

static void hyp_backend_unschedule(int nlocks, int *countp, void *interlock)
{
	struct lwp *l = current("hyp_backend_unschedule without an lwp");

	(void)nlocks;
	(void)interlock;
	*countp = 0;
	if (l == NULL || l->outside_kernel)
		return;
	if (!l->on_cpu)
		violation("hyp_backend_unschedule by a thread without a CPU");
	l->unschedules++;
	cpu_give_for(l);
}

static void hyp_backend_schedule(int nlocks, void *interlock)
{
	struct lwp *l = current("hyp_backend_schedule without an lwp");

	(void)nlocks;
	(void)interlock;
	if (l == NULL || l->outside_kernel)
		return;
	if (l->on_cpu)
		violation("hyp_backend_schedule by a thread already on a CPU");
	cpu_take_for(l);
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

	rumpuser_mutex_init(&cpu_mtx, 0);
	rumpuser_cv_init(&cpu_cv);
	l = fk_lwp_create();
	rumpuser_curlwpop(RUMPUSER_LWP_SET, l);
	cpu_take_for(l);
}
