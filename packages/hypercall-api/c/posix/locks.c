/*
 * Mutexes, reader/writer locks and condition variables.
 *
 * The rule every blocking path follows: try without blocking first; if that fails, give the
 * rump CPU back, block on the host, then take a CPU again. Spin mutexes (RUMPUSER_MTX_SPIN)
 * and the *_nowrap calls are the exception: a spin mutex is held only briefly and its holder
 * never blocks while holding it, so waiting without releasing the CPU cannot deadlock; and
 * the nowrap callers are the kernel's scheduler itself, which may hold no CPU to release.
 *
 * After a condition variable wait the caller gets both the mutex and a CPU back, and the
 * order depends on the mutex, as the rump kernel expects:
 *  - SPIN and KMUTEX (a kernel spin mutex): the CPU first, then the mutex. Its other users
 *    spin for it holding a CPU, so holding it while waiting for a CPU could deadlock.
 *  - every other mutex, plain SPIN included: the mutex first, then hyp_backend_schedule with
 *    it as the interlock. The kernel's scheduler passes its own per-CPU lock (SPIN, not
 *    KMUTEX) as the interlock of a wait: hyp_backend_unschedule takes that lock before
 *    giving the CPU away (the caller does not hold it on entry), and hyp_backend_schedule
 *    must be entered holding it and releases it. Taking the CPU first would have the
 *    scheduler release a lock nobody holds, and the lock taken afterwards would never be
 *    released: the next scheduling call deadlocks.
 *
 * Mutexes and condition variables sit directly on Linux futexes: the uncontended paths
 * are one atomic instruction each (glibc's pthread_mutex_trylock, which a try-then-block
 * enter needs, is markedly slower than its lock), and a signal with nobody waiting makes
 * no system call. A signal or broadcast made while the waiters' mutex is held is delivered
 * by that mutex's unlock (cv_defer): a waiter cannot go on before it has the mutex anyway.
 * Reader/writer locks are rarer and use pthreads.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "posix_int.h"

/* Mutex word: 0 free, 1 held, 2 held and someone may sleep on it. */
enum { MTX_FREE = 0, MTX_HELD = 1, MTX_CONTENDED = 2 };

struct rumpuser_mtx {
	int word;
	int flags;
	struct lwp *owner; /* tracked for every mutex; read only for RUMPUSER_MTX_KMUTEX */
	uintptr_t deferred; /* a condition variable wake held for the unlock (see cv_defer) */
};

struct rumpuser_rw {
	pthread_mutex_t lock;
	pthread_cond_t readers_cv;
	pthread_cond_t writers_cv;
	int readers;         /* shared holders */
	int writers_waiting; /* waiting writers; new readers queue behind them */
	int write_held;
	struct lwp *writer;
};

/* Waiters sleep on `seq`; every signal or broadcast bumps it. */
struct rumpuser_cv {
	unsigned seq;
	int waiters;
	struct rumpuser_mtx *interlock; /* its waiters' mutex: NULL, one, or CV_MIXED */
};

/* A cv whose current waiters came with different mutexes: its wakes are never deferred. */
#define CV_MIXED ((struct rumpuser_mtx *)1)

static int futex_wait(int *addr, int expected, const struct timespec *abs_monotonic)
{
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline. */
	if (syscall(SYS_futex, addr, FUTEX_WAIT_BITSET_PRIVATE, expected, abs_monotonic, NULL,
	    FUTEX_BITSET_MATCH_ANY) == -1)
		return errno;
	return 0;
}

static void futex_wake(int *addr, int n)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* Other threads read the owner (rumpuser_mutex_owner) while it changes. */
static inline void mtx_set_owner(struct rumpuser_mtx *mtx, struct lwp *l)
{
	__atomic_store_n(&mtx->owner, l, __ATOMIC_RELAXED);
}

static inline int mtx_try(struct rumpuser_mtx *mtx)
{
	int expected = MTX_FREE;
	return __atomic_compare_exchange_n(&mtx->word, &expected, MTX_HELD, 0, __ATOMIC_ACQUIRE,
	    __ATOMIC_RELAXED);
}

/*
 * Block until the mutex is ours; marks it contended, since we may have slept. No spinning
 * first: on hosts with few cores the holder is often not running, and sleeping wins.
 */
static void mtx_lock_slow(struct rumpuser_mtx *mtx)
{
	while (__atomic_exchange_n(&mtx->word, MTX_CONTENDED, __ATOMIC_ACQUIRE) != MTX_FREE)
		futex_wait(&mtx->word, MTX_CONTENDED, NULL);
}

/*
 * Take the mutex back after a wait: the plain way when it is free, so its next unlock makes
 * no wake-up call (the slow path marks it contended, and an unlock then always calls the
 * futex, whether or not anyone sleeps).
 */
static inline void mtx_relock(struct rumpuser_mtx *mtx)
{
	if (!mtx_try(mtx))
		mtx_lock_slow(mtx);
}

/* A deferred wake: the cv's address, bit 0 set for a broadcast. */
static void cv_deliver(uintptr_t d)
{
	struct rumpuser_cv *cv = (struct rumpuser_cv *)(d & ~(uintptr_t)1);
	futex_wake((int *)&cv->seq, (d & 1) ? INT_MAX : 1);
}

static inline void mtx_unlock(struct rumpuser_mtx *mtx)
{
	if (__atomic_exchange_n(&mtx->word, MTX_FREE, __ATOMIC_SEQ_CST) == MTX_CONTENDED)
		futex_wake(&mtx->word, 1);
	if (__atomic_load_n(&mtx->deferred, __ATOMIC_SEQ_CST) != 0) {
		uintptr_t d = __atomic_exchange_n(&mtx->deferred, 0, __ATOMIC_SEQ_CST);
		if (d != 0)
			cv_deliver(d);
	}
}

static void *posix_alloc_or_die(size_t len, const char *what)
{
	void *p = malloc(len);
	if (p == NULL) {
		/* The interface has no error return for *_init: the kernel cannot go on. */
		rumpuser_dprintf("rumpuser: out of host memory allocating a %s\n", what);
		abort();
	}
	return p;
}

void rumpuser_mutex_init(struct rumpuser_mtx **mtxp, int flags)
{
	struct rumpuser_mtx *mtx = posix_alloc_or_die(sizeof(*mtx), "mutex");

	mtx->word = MTX_FREE;
	mtx->flags = flags;
	mtx->deferred = 0;
	mtx_set_owner(mtx, NULL);
	*mtxp = mtx;
}

void rumpuser_mutex_enter_nowrap(struct rumpuser_mtx *mtx)
{
	if (!mtx_try(mtx))
		mtx_lock_slow(mtx);
	mtx_set_owner(mtx, posix_curlwp);
}

void rumpuser_mutex_enter(struct rumpuser_mtx *mtx)
{
	if (!mtx_try(mtx)) {
		if (mtx->flags & RUMPUSER_MTX_SPIN) {
			mtx_lock_slow(mtx);
		} else {
			int nlocks = posix_cpu_release(NULL);
			mtx_lock_slow(mtx);
			posix_cpu_retake(nlocks, NULL);
		}
	}
	mtx_set_owner(mtx, posix_curlwp);
}

int rumpuser_mutex_tryenter(struct rumpuser_mtx *mtx)
{
	if (!mtx_try(mtx))
		return posix_errtrans(EBUSY);
	mtx_set_owner(mtx, posix_curlwp);
	return 0;
}

void rumpuser_mutex_exit(struct rumpuser_mtx *mtx)
{
	mtx_set_owner(mtx, NULL);
	mtx_unlock(mtx);
}

void rumpuser_mutex_destroy(struct rumpuser_mtx *mtx)
{
	free(mtx);
}

void rumpuser_mutex_owner(struct rumpuser_mtx *mtx, struct lwp **lp)
{
	*lp = __atomic_load_n(&mtx->owner, __ATOMIC_RELAXED);
}

void rumpuser_rw_init(struct rumpuser_rw **rwp)
{
	struct rumpuser_rw *rw = posix_alloc_or_die(sizeof(*rw), "rw lock");

	pthread_mutex_init(&rw->lock, NULL);
	pthread_cond_init(&rw->readers_cv, NULL);
	pthread_cond_init(&rw->writers_cv, NULL);
	rw->readers = 0;
	rw->writers_waiting = 0;
	rw->write_held = 0;
	rw->writer = NULL;
	*rwp = rw;
}

/* With rw->lock held: take the lock as `enum_rumprwlock` asks if it is free for that. */
static int rw_take_locked(struct rumpuser_rw *rw, int enum_rumprwlock)
{
	if (enum_rumprwlock == RUMPUSER_RW_WRITER) {
		if (rw->write_held || rw->readers > 0)
			return 0;
		rw->write_held = 1;
		rw->writer = posix_curlwp;
		return 1;
	}
	/* Readers wait behind a waiting writer so writers cannot starve. */
	if (rw->write_held || rw->writers_waiting > 0)
		return 0;
	rw->readers++;
	return 1;
}

int rumpuser_rw_tryenter(int enum_rumprwlock, struct rumpuser_rw *rw)
{
	int taken;

	pthread_mutex_lock(&rw->lock);
	taken = rw_take_locked(rw, enum_rumprwlock);
	pthread_mutex_unlock(&rw->lock);
	return taken ? 0 : posix_errtrans(EBUSY);
}

void rumpuser_rw_enter(int enum_rumprwlock, struct rumpuser_rw *rw)
{
	int nlocks;

	if (rumpuser_rw_tryenter(enum_rumprwlock, rw) == 0)
		return;
	nlocks = posix_cpu_release(NULL);
	pthread_mutex_lock(&rw->lock);
	if (enum_rumprwlock == RUMPUSER_RW_WRITER) {
		rw->writers_waiting++;
		while (rw->write_held || rw->readers > 0)
			pthread_cond_wait(&rw->writers_cv, &rw->lock);
		rw->writers_waiting--;
	} else {
		while (rw->write_held || rw->writers_waiting > 0)
			pthread_cond_wait(&rw->readers_cv, &rw->lock);
	}
	rw_take_locked(rw, enum_rumprwlock);
	pthread_mutex_unlock(&rw->lock);
	posix_cpu_retake(nlocks, NULL);
}

int rumpuser_rw_tryupgrade(struct rumpuser_rw *rw)
{
	int upgraded = 0;

	pthread_mutex_lock(&rw->lock);
	if (!rw->write_held && rw->readers == 1) {
		rw->readers = 0;
		rw->write_held = 1;
		rw->writer = posix_curlwp;
		upgraded = 1;
	}
	pthread_mutex_unlock(&rw->lock);
	return upgraded ? 0 : posix_errtrans(EBUSY);
}

/* Atomic: no writer can get in between the write hold and the read hold. */
void rumpuser_rw_downgrade(struct rumpuser_rw *rw)
{
	pthread_mutex_lock(&rw->lock);
	rw->write_held = 0;
	rw->writer = NULL;
	rw->readers = 1;
	if (rw->writers_waiting == 0)
		pthread_cond_broadcast(&rw->readers_cv);
	pthread_mutex_unlock(&rw->lock);
}

void rumpuser_rw_exit(struct rumpuser_rw *rw)
{
	pthread_mutex_lock(&rw->lock);
	if (rw->write_held) {
		rw->write_held = 0;
		rw->writer = NULL;
	} else {
		rw->readers--;
	}
	if (rw->writers_waiting > 0) {
		if (rw->readers == 0)
			pthread_cond_signal(&rw->writers_cv);
	} else {
		pthread_cond_broadcast(&rw->readers_cv);
	}
	pthread_mutex_unlock(&rw->lock);
}

void rumpuser_rw_destroy(struct rumpuser_rw *rw)
{
	pthread_cond_destroy(&rw->readers_cv);
	pthread_cond_destroy(&rw->writers_cv);
	pthread_mutex_destroy(&rw->lock);
	free(rw);
}

/* Writer: held by the calling lwp. Reader: held shared by anyone (NetBSD's rw_read_held). */
void rumpuser_rw_held(int enum_rumprwlock, struct rumpuser_rw *rw, int *rv)
{
	pthread_mutex_lock(&rw->lock);
	if (enum_rumprwlock == RUMPUSER_RW_WRITER)
		*rv = rw->write_held && rw->writer == posix_curlwp;
	else
		*rv = rw->readers > 0;
	pthread_mutex_unlock(&rw->lock);
}

void rumpuser_cv_init(struct rumpuser_cv **cvp)
{
	struct rumpuser_cv *cv = posix_alloc_or_die(sizeof(*cv), "condition variable");

	cv->seq = 0;
	cv->waiters = 0;
	cv->interlock = NULL;
	*cvp = cv;
}

void rumpuser_cv_destroy(struct rumpuser_cv *cv)
{
	free(cv);
}

/*
 * Take mtx back after a wait, with a rump CPU, in the order the header comment gives: CPU
 * first only for a kernel spin mutex (SPIN and KMUTEX), mutex first for every other one. The
 * owner is set before the CPU is retaken: when mtx is the scheduler's lock, the schedule
 * upcall releases it, and the owner must not outlive the hold.
 */
static void cv_rejoin(struct rumpuser_mtx *mtx, int nlocks)
{
	if ((mtx->flags & (RUMPUSER_MTX_SPIN | RUMPUSER_MTX_KMUTEX)) ==
	    (RUMPUSER_MTX_SPIN | RUMPUSER_MTX_KMUTEX)) {
		posix_cpu_retake(nlocks, mtx);
		mtx_relock(mtx);
		mtx_set_owner(mtx, posix_curlwp);
	} else {
		mtx_relock(mtx);
		mtx_set_owner(mtx, posix_curlwp);
		posix_cpu_retake(nlocks, mtx);
	}
}

/*
 * Records the waiter's mutex: the first one the cv ever waits with, or CV_MIXED for good once
 * another one comes (never reset, so while the cv has waiters a recorded mutex is the one
 * every one of them holds again when it wakes: alive, and the one its wake must wait for).
 */
static void cv_note_interlock(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx)
{
	struct rumpuser_mtx *cur = __atomic_load_n(&cv->interlock, __ATOMIC_RELAXED);

	while (cur != mtx && cur != CV_MIXED &&
	    !__atomic_compare_exchange_n(&cv->interlock, &cur, cur == NULL ? mtx : CV_MIXED, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/*
 * The common wait: announce ourselves, note the sequence, drop the mutex, sleep while the
 * sequence is unchanged. A signal between the unlock and the sleep changes the sequence,
 * so the futex does not sleep and the wakeup is not lost. Returns the futex result.
 * The CPU goes before the mutex: when mtx is the scheduler's lock, the unschedule upcall is
 * what takes it, and the unlock here ends that hold.
 */
static int cv_sleep(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx, int release_cpu,
    int *nlocks, const struct timespec *deadline)
{
	unsigned seq;
	int rv;

	cv_note_interlock(cv, mtx);
	__atomic_add_fetch(&cv->waiters, 1, __ATOMIC_SEQ_CST);
	seq = __atomic_load_n(&cv->seq, __ATOMIC_SEQ_CST);
	if (release_cpu)
		*nlocks = posix_cpu_release(mtx);
	mtx_set_owner(mtx, NULL);
	mtx_unlock(mtx);
	rv = futex_wait((int *)&cv->seq, (int)seq, deadline);
	__atomic_sub_fetch(&cv->waiters, 1, __ATOMIC_SEQ_CST);
	return rv;
}

void rumpuser_cv_wait(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx)
{
	int nlocks = 0;

	cv_sleep(cv, mtx, 1, &nlocks, NULL);
	cv_rejoin(mtx, nlocks);
}

void rumpuser_cv_wait_nowrap(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx)
{
	cv_sleep(cv, mtx, 0, NULL, NULL);
	mtx_relock(mtx);
	mtx_set_owner(mtx, posix_curlwp);
}

int rumpuser_cv_timedwait(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx,
    int64_t sec, int64_t nsec)
{
	struct timespec deadline;
	int nlocks = 0, rv;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += sec + nsec / 1000000000;
	deadline.tv_nsec += nsec % 1000000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	rv = cv_sleep(cv, mtx, 1, &nlocks, &deadline);
	cv_rejoin(mtx, nlocks);
	return rv == ETIMEDOUT ? posix_errtrans(ETIMEDOUT) : 0;
}

/*
 * Hold a wake of cv for the unlock of its waiters' mutex while that mutex is held: a woken
 * waiter needs the mutex before it can go on, so waking it now only makes it run, find the
 * mutex taken and sleep again (on one CPU it preempts the signaller to do so). Returns 0 when
 * the wake must be done now: the mutex is free, or its slot holds another cv's wake.
 */
static int cv_defer(struct rumpuser_cv *cv, int all)
{
	struct rumpuser_mtx *mtx = __atomic_load_n(&cv->interlock, __ATOMIC_RELAXED);
	uintptr_t want = (uintptr_t)cv | (uintptr_t)all, cur = 0;

	if (mtx == NULL || mtx == CV_MIXED ||
	    __atomic_load_n(&mtx->word, __ATOMIC_SEQ_CST) == MTX_FREE)
		return 0;
	while (!__atomic_compare_exchange_n(&mtx->deferred, &cur, want | (cur & 1), 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		if ((cur & ~(uintptr_t)1) != (uintptr_t)cv)
			return 0;
		/* This cv's wake is already held: two wakes become a broadcast. */
		want = (uintptr_t)cv | 1;
	}
	/*
	 * The unlock stores FREE and then reads the slot; this stored the slot and now reads the
	 * word. One of the two sees the other's store: if the mutex went free meanwhile, deliver
	 * here unless the unlock took the wake first.
	 */
	if (__atomic_load_n(&mtx->word, __ATOMIC_SEQ_CST) == MTX_FREE) {
		uintptr_t d = __atomic_exchange_n(&mtx->deferred, 0, __ATOMIC_SEQ_CST);
		if (d != 0)
			cv_deliver(d);
	}
	return 1;
}

void rumpuser_cv_signal(struct rumpuser_cv *cv)
{
	__atomic_add_fetch(&cv->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&cv->waiters, __ATOMIC_SEQ_CST) > 0 && !cv_defer(cv, 0))
		futex_wake((int *)&cv->seq, 1);
}

void rumpuser_cv_broadcast(struct rumpuser_cv *cv)
{
	__atomic_add_fetch(&cv->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&cv->waiters, __ATOMIC_SEQ_CST) > 0 && !cv_defer(cv, 1))
		futex_wake((int *)&cv->seq, INT_MAX);
}

void rumpuser_cv_has_waiters(struct rumpuser_cv *cv, int *waiters)
{
	*waiters = __atomic_load_n(&cv->waiters, __ATOMIC_SEQ_CST);
}
