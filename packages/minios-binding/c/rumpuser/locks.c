/*
 * Mutexes, reader/writer locks and condition variables on the cooperative scheduler.
 * One vcpu and no preemption: a lock's state only changes while its holder runs, so plain
 * fields need no atomics; waiting is a wait queue. As on posix, a contended path first gives
 * the rump CPU back and retakes it after; spin mutexes and the *_nowrap calls never do.
 */
#include "xen_int.h"
#include <mk/crash.h>
#include <mk/mm.h>
#include <mk/time.h>
#include <mk/waitq.h>

struct rumpuser_mtx {
	struct mk_thread *holder;
	struct lwp *owner;
	int flags;
	struct mk_waitq waiters;
};

struct rumpuser_rw {
	int readers;
	int writers_waiting;
	bool write_held;
	struct lwp *writer;
	struct mk_waitq readers_q;
	struct mk_waitq writers_q;
};

struct rumpuser_cv {
	struct mk_waitq q;
	int waiters;
};

/* The lock calls cannot fail: without memory for the object the guest ends with the report. */
static void *alloc_or_die(size_t len, const char *what)
{
	void *p = mk_zalloc(len, 0);
	if (!p)
		mk_out_of_memory("rumpuser: a %s (%zu bytes), which cannot fail", what, len);
	return p;
}

void rumpuser_mutex_init(struct rumpuser_mtx **mtxp, int flags)
{
	struct rumpuser_mtx *m = alloc_or_die(sizeof(*m), "mutex");
	m->flags = flags;
	*mtxp = m;
}

static void mutex_wait_free(struct rumpuser_mtx *m)
{
	while (m->holder) {
		struct mk_waiter w;
		mk_waitq_add(&m->waiters, &w);
		mk_waitq_wait(&m->waiters, &w, 0);
	}
}

void rumpuser_mutex_enter_nowrap(struct rumpuser_mtx *m)
{
	if (m->holder == mk_thread_self())
		mk_panic("rumpuser_mutex_enter: mutex %p already held by this thread", (void *)m);
	mutex_wait_free(m);
	m->holder = mk_thread_self();
	m->owner = rx_curlwp();
}

void rumpuser_mutex_enter(struct rumpuser_mtx *m)
{
	if ((m->flags & RUMPUSER_MTX_SPIN) || !m->holder) {
		rumpuser_mutex_enter_nowrap(m);
		return;
	}
	int nlocks = rx_cpu_release(NULL);
	mutex_wait_free(m);
	m->holder = mk_thread_self();
	rx_cpu_retake(nlocks, NULL);
	m->owner = rx_curlwp();
}

int rumpuser_mutex_tryenter(struct rumpuser_mtx *m)
{
	if (m->holder)
		return RUMPXEN_NETBSD_EBUSY;
	m->holder = mk_thread_self();
	m->owner = rx_curlwp();
	return 0;
}

void rumpuser_mutex_exit(struct rumpuser_mtx *m)
{
	m->owner = NULL;
	m->holder = NULL;
	mk_waitq_wake_one(&m->waiters);
}

void rumpuser_mutex_destroy(struct rumpuser_mtx *m)
{
	mk_free(m);
}

void rumpuser_mutex_owner(struct rumpuser_mtx *m, struct lwp **lp)
{
	*lp = m->owner;
}

void rumpuser_rw_init(struct rumpuser_rw **rwp)
{
	*rwp = alloc_or_die(sizeof(struct rumpuser_rw), "rw lock");
}

static bool rw_take(struct rumpuser_rw *rw, int lk)
{
	if (lk == RUMPUSER_RW_WRITER) {
		if (rw->write_held || rw->readers > 0)
			return false;
		rw->write_held = true;
		rw->writer = rx_curlwp();
		return true;
	}
	/* Readers wait behind a waiting writer so writers cannot starve. */
	if (rw->write_held || rw->writers_waiting > 0)
		return false;
	rw->readers++;
	return true;
}

int rumpuser_rw_tryenter(int lk, struct rumpuser_rw *rw)
{
	return rw_take(rw, lk) ? 0 : RUMPXEN_NETBSD_EBUSY;
}

void rumpuser_rw_enter(int lk, struct rumpuser_rw *rw)
{
	if (rw_take(rw, lk))
		return;
	int nlocks = rx_cpu_release(NULL);
	if (lk == RUMPUSER_RW_WRITER) {
		rw->writers_waiting++;
		while (rw->write_held || rw->readers > 0) {
			struct mk_waiter w;
			mk_waitq_add(&rw->writers_q, &w);
			mk_waitq_wait(&rw->writers_q, &w, 0);
		}
		rw->writers_waiting--;
	} else {
		while (rw->write_held || rw->writers_waiting > 0) {
			struct mk_waiter w;
			mk_waitq_add(&rw->readers_q, &w);
			mk_waitq_wait(&rw->readers_q, &w, 0);
		}
	}
	rw_take(rw, lk);
	rx_cpu_retake(nlocks, NULL);
	if (lk == RUMPUSER_RW_WRITER)
		rw->writer = rx_curlwp();
}

int rumpuser_rw_tryupgrade(struct rumpuser_rw *rw)
{
	if (rw->write_held || rw->readers != 1)
		return RUMPXEN_NETBSD_EBUSY;
	rw->readers = 0;
	rw->write_held = true;
	rw->writer = rx_curlwp();
	return 0;
}

void rumpuser_rw_downgrade(struct rumpuser_rw *rw)
{
	rw->write_held = false;
	rw->writer = NULL;
	rw->readers = 1;
	if (rw->writers_waiting == 0)
		mk_waitq_wake_all(&rw->readers_q);
}

void rumpuser_rw_exit(struct rumpuser_rw *rw)
{
	if (rw->write_held) {
		rw->write_held = false;
		rw->writer = NULL;
	} else {
		rw->readers--;
	}
	if (rw->writers_waiting > 0) {
		if (rw->readers == 0)
			mk_waitq_wake_one(&rw->writers_q);
	} else {
		mk_waitq_wake_all(&rw->readers_q);
	}
}

void rumpuser_rw_destroy(struct rumpuser_rw *rw)
{
	mk_free(rw);
}

void rumpuser_rw_held(int lk, struct rumpuser_rw *rw, int *rv)
{
	if (lk == RUMPUSER_RW_WRITER)
		*rv = rw->write_held && rw->writer == rx_curlwp();
	else
		*rv = rw->readers > 0;
}

void rumpuser_cv_init(struct rumpuser_cv **cvp)
{
	*cvp = alloc_or_die(sizeof(struct rumpuser_cv), "condition variable");
}

void rumpuser_cv_destroy(struct rumpuser_cv *cv)
{
	mk_free(cv);
}

/* Releases m for the wait (the waiter is already queued, so no wakeup is lost). */
static void mutex_release_for_wait(struct rumpuser_mtx *m)
{
	m->owner = NULL;
	m->holder = NULL;
	mk_waitq_wake_one(&m->waiters);
}

/*
 * After the wait: take a rump CPU back and the mutex. A spin kmutex must not be held while
 * waiting for a CPU (its users spin holding one), so get the CPU first; other mutexes are
 * retaken first, as their contenders give the CPU back before blocking on them.
 */
static void cv_rejoin(struct rumpuser_mtx *m, int nlocks)
{
	if ((m->flags & (RUMPUSER_MTX_SPIN | RUMPUSER_MTX_KMUTEX)) ==
	    (RUMPUSER_MTX_SPIN | RUMPUSER_MTX_KMUTEX)) {
		rx_cpu_retake(nlocks, m);
		rumpuser_mutex_enter_nowrap(m);
	} else {
		mutex_wait_free(m);
		m->holder = mk_thread_self();
		rx_cpu_retake(nlocks, m);
		m->owner = rx_curlwp();
	}
}

static bool cv_wait_common(struct rumpuser_cv *cv, struct rumpuser_mtx *m, uint64_t deadline,
    bool wrap)
{
	struct mk_waiter w;
	int nlocks = 0;
	cv->waiters++;
	rx_oom_cv_wait_begin(cv);
	mk_waitq_add(&cv->q, &w);
	if (wrap)
		nlocks = rx_cpu_release(m);
	mutex_release_for_wait(m);
	bool woken = mk_waitq_wait(&cv->q, &w, deadline);
	if (wrap) {
		cv_rejoin(m, nlocks);
	} else {
		mutex_wait_free(m);
		m->holder = mk_thread_self();
		m->owner = rx_curlwp();
	}
	cv->waiters--;
	rx_oom_cv_wait_end();
	return woken;
}

void rumpuser_cv_wait(struct rumpuser_cv *cv, struct rumpuser_mtx *m)
{
	cv_wait_common(cv, m, 0, true);
}

void rumpuser_cv_wait_nowrap(struct rumpuser_cv *cv, struct rumpuser_mtx *m)
{
	cv_wait_common(cv, m, 0, false);
}

int rumpuser_cv_timedwait(struct rumpuser_cv *cv, struct rumpuser_mtx *m, int64_t sec,
    int64_t nsec)
{
	uint64_t deadline = mk_time_monotonic_ns() + (uint64_t)sec * 1000000000ULL +
		(uint64_t)nsec;
	return cv_wait_common(cv, m, deadline ? deadline : 1, true) ? 0 :
		RUMPXEN_NETBSD_ETIMEDOUT;
}

void rumpuser_cv_signal(struct rumpuser_cv *cv)
{
	mk_waitq_wake_one(&cv->q);
}

void rumpuser_cv_broadcast(struct rumpuser_cv *cv)
{
	mk_waitq_wake_all(&cv->q);
}

void rumpuser_cv_has_waiters(struct rumpuser_cv *cv, int *waiters)
{
	*waiters = cv->waiters;
}
