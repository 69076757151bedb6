/* FIFO wait queues; see mk/waitq.h. */
#include <mk/waitq.h>

void mk_waitq_add(struct mk_waitq *q, struct mk_waiter *w)
{
	w->thread = mk_thread_self();
	w->next = NULL;
	w->woken = false;
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
}

void mk_waitq_remove(struct mk_waitq *q, struct mk_waiter *w)
{
	struct mk_waiter **pp = &q->head, *prev = NULL;
	while (*pp && *pp != w) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = w->next;
	if (q->tail == w)
		q->tail = prev;
}

bool mk_waitq_wake_one(struct mk_waitq *q)
{
	struct mk_waiter *w = q->head;
	if (!w)
		return false;
	q->head = w->next;
	if (!q->head)
		q->tail = NULL;
	w->woken = true;
	mk_thread_wake(w->thread);
	return true;
}

void mk_waitq_wake_all(struct mk_waitq *q)
{
	while (mk_waitq_wake_one(q)) {
	}
}

bool mk_waitq_wait(struct mk_waitq *q, struct mk_waiter *w, uint64_t deadline_ns)
{
	while (!w->woken) {
		if (deadline_ns) {
			if (mk_thread_block_until(deadline_ns) && !w->woken) {
				mk_waitq_remove(q, w);
				return false;
			}
		} else {
			mk_thread_block();
		}
	}
	return true;
}
