/*
 * Wait queues: FIFO lists of blocked threads. A waiter lives on the waiting thread's stack.
 */
#ifndef MK_WAITQ_H
#define MK_WAITQ_H
#include <mk/sched.h>

struct mk_waiter {
	struct mk_thread *thread;
	struct mk_waiter *next;
	bool woken;
};

struct mk_waitq {
	struct mk_waiter *head, *tail;
};

void mk_waitq_add(struct mk_waitq *q, struct mk_waiter *w);
/* Removes w if still queued (after a timeout). */
void mk_waitq_remove(struct mk_waitq *q, struct mk_waiter *w);
/* Wakes the oldest waiter; returns false if there was none. */
bool mk_waitq_wake_one(struct mk_waitq *q);
void mk_waitq_wake_all(struct mk_waitq *q);
/* Blocks until w is woken or deadline (0 = none) passes; true if woken. Dequeues w. */
bool mk_waitq_wait(struct mk_waitq *q, struct mk_waiter *w, uint64_t deadline_ns);

#endif
