/*
 * Mutexes, reader/writer locks and condition variables over pthreads.
 *
 * The rule every blocking path follows: try without blocking first; if that fails, give the
 * rump CPU back, block on the host primitive, then take a CPU again. A spin mutex is the
 * exception: it is only ever held by a thread that holds a rump CPU, so waiting for it
 * without releasing the CPU cannot deadlock, and releasing would be wrong.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "posix_int.h"

struct rumpuser_mtx {
	pthread_mutex_t host;
	struct lwp *owner; /* tracked for every mutex; read only for RUMPUSER_MTX_KMUTEX */
	int flags;
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

struct rumpuser_cv {
	pthread_cond_t host;
	int waiters; /* changed only with the interlock held */
};

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

	pthread_mutex_init(&mtx->host, NULL);
	mtx->owner = NULL;
	mtx->flags = flags;
	*mtxp = mtx;
}

void rumpuser_mutex_enter_nowrap(struct rumpuser_mtx *mtx)
{
	pthread_mutex_lock(&mtx->host);
	mtx->owner = posix_curlwp;
}

void rumpuser_mutex_enter(struct rumpuser_mtx *mtx)
{
	if (mtx->flags & RUMPUSER_MTX_SPIN) {
		rumpuser_mutex_enter_nowrap(mtx);
		return;
	}
	if (pthread_mutex_trylock(&mtx->host) != 0) {
		int nlocks = posix_cpu_release(NULL);
		pthread_mutex_lock(&mtx->host);
		posix_cpu_retake(nlocks, NULL);
	}
	mtx->owner = posix_curlwp;
}

int rumpuser_mutex_tryenter(struct rumpuser_mtx *mtx)
{
	int rv = pthread_mutex_trylock(&mtx->host);
	if (rv != 0)
		return posix_errtrans(rv);
	mtx->owner = posix_curlwp;
	return 0;
}

void rumpuser_mutex_exit(struct rumpuser_mtx *mtx)
{
	mtx->owner = NULL;
	pthread_mutex_unlock(&mtx->host);
}

void rumpuser_mutex_destroy(struct rumpuser_mtx *mtx)
{
	pthread_mutex_destroy(&mtx->host);
	free(mtx);
}

void rumpuser_mutex_owner(struct rumpuser_mtx *mtx, struct lwp **lp)
{
	*lp = mtx->owner;
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
	pthread_condattr_t attr;

	/* Timed waits are relative; measure them on a clock that does not jump. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cv->host, &attr);
	pthread_condattr_destroy(&attr);
	cv->waiters = 0;
	*cvp = cv;
}

void rumpuser_cv_destroy(struct rumpuser_cv *cv)
{
	pthread_cond_destroy(&cv->host);
	free(cv);
}

/*
 * After the host wait returned with mtx locked again: take a rump CPU back. A spin mutex
 * must not be held while waiting for a CPU (its other users spin holding a CPU), so drop
 * it, get the CPU, then retake it without releasing the CPU. Other mutexes are safe to
 * hold while waiting: their contenders release the CPU before blocking on them.
 */
static void cv_rejoin(struct rumpuser_mtx *mtx, int nlocks)
{
	if ((mtx->flags & (RUMPUSER_MTX_SPIN | RUMPUSER_MTX_KMUTEX)) ==
	    (RUMPUSER_MTX_SPIN | RUMPUSER_MTX_KMUTEX)) {
		pthread_mutex_unlock(&mtx->host);
		posix_cpu_retake(nlocks, mtx);
		rumpuser_mutex_enter_nowrap(mtx);
	} else {
		mtx->owner = posix_curlwp;
		posix_cpu_retake(nlocks, mtx);
	}
}

void rumpuser_cv_wait(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx)
{
	int nlocks;

	cv->waiters++;
	nlocks = posix_cpu_release(mtx);
	mtx->owner = NULL;
	pthread_cond_wait(&cv->host, &mtx->host);
	cv_rejoin(mtx, nlocks);
	cv->waiters--;
}

void rumpuser_cv_wait_nowrap(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx)
{
	cv->waiters++;
	mtx->owner = NULL;
	pthread_cond_wait(&cv->host, &mtx->host);
	mtx->owner = posix_curlwp;
	cv->waiters--;
}

int rumpuser_cv_timedwait(struct rumpuser_cv *cv, struct rumpuser_mtx *mtx,
    int64_t sec, int64_t nsec)
{
	struct timespec deadline;
	int nlocks, rv;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += sec + nsec / 1000000000;
	deadline.tv_nsec += nsec % 1000000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	cv->waiters++;
	nlocks = posix_cpu_release(mtx);
	mtx->owner = NULL;
	rv = pthread_cond_timedwait(&cv->host, &mtx->host, &deadline);
	cv_rejoin(mtx, nlocks);
	cv->waiters--;
	return rv == ETIMEDOUT ? posix_errtrans(ETIMEDOUT) : 0;
}

void rumpuser_cv_signal(struct rumpuser_cv *cv)
{
	pthread_cond_signal(&cv->host);
}

void rumpuser_cv_broadcast(struct rumpuser_cv *cv)
{
	pthread_cond_broadcast(&cv->host);
}

void rumpuser_cv_has_waiters(struct rumpuser_cv *cv, int *waiters)
{
	*waiters = cv->waiters;
}
