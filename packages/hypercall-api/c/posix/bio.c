/*
 * Asynchronous block I/O: rumpuser_bio() queues the request and returns; one worker thread
 * performs the requests in order and calls each biodone with a rump CPU held, as an lwp of
 * its own (rump kernel code runs in the callback).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "posix_int.h"

struct bio_request {
	struct bio_request *next;
	int fd;
	int op;
	void *data;
	size_t dlen;
	int64_t off;
	rump_biodone_fn biodone;
	void *donearg;
};

static pthread_mutex_t bio_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bio_cv = PTHREAD_COND_INITIALIZER;
static struct bio_request *bio_head, **bio_tail = &bio_head;
static int bio_worker_started;

/* Full transfer or an error: short reads at end of file are the only short result. */
static int bio_transfer(const struct bio_request *req, size_t *done)
{
	char *p = req->data;
	size_t left = req->dlen;
	int64_t off = req->off;
	ssize_t n;

	*done = 0;
	while (left > 0) {
		if (req->op & RUMPUSER_BIO_READ)
			n = pread(req->fd, p, left, off);
		else
			n = pwrite(req->fd, p, left, off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0)
			break;
		p += n;
		left -= (size_t)n;
		off += n;
		*done += (size_t)n;
	}
	if ((req->op & RUMPUSER_BIO_WRITE) && (req->op & RUMPUSER_BIO_SYNC) &&
	    fdatasync(req->fd) == -1)
		return errno;
	return 0;
}

static void *bio_worker(void *arg)
{
	struct bio_request *req;
	size_t done;
	int err;

	(void)arg;
	posix_hyp.hyp_schedule();
	posix_hyp.hyp_lwproc_newlwp(0);
	posix_hyp.hyp_unschedule();

	for (;;) {
		pthread_mutex_lock(&bio_lock);
		while (bio_head == NULL)
			pthread_cond_wait(&bio_cv, &bio_lock);
		req = bio_head;
		bio_head = req->next;
		if (bio_head == NULL)
			bio_tail = &bio_head;
		pthread_mutex_unlock(&bio_lock);

		err = bio_transfer(req, &done);
		posix_cpu_retake(0, NULL);
		req->biodone(req->donearg, done, posix_errtrans(err));
		posix_cpu_release(NULL);
		free(req);
	}
	return NULL;
}

void rumpuser_bio(int fd, int op, void *data, size_t dlen, int64_t off,
    rump_biodone_fn biodone, void *donearg)
{
	struct bio_request *req;
	pthread_t worker;
	int rv;

	req = malloc(sizeof(*req));
	if (req == NULL) {
		biodone(donearg, 0, posix_errtrans(ENOMEM));
		return;
	}
	req->next = NULL;
	req->fd = fd;
	req->op = op;
	req->data = data;
	req->dlen = dlen;
	req->off = off;
	req->biodone = biodone;
	req->donearg = donearg;

	pthread_mutex_lock(&bio_lock);
	if (!bio_worker_started) {
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rv = pthread_create(&worker, &attr, bio_worker, NULL);
		pthread_attr_destroy(&attr);
		if (rv != 0) {
			pthread_mutex_unlock(&bio_lock);
			free(req);
			biodone(donearg, 0, posix_errtrans(rv));
			return;
		}
		pthread_setname_np(worker, "rumpuser_bio");
		bio_worker_started = 1;
	}
	*bio_tail = req;
	bio_tail = &req->next;
	pthread_cond_signal(&bio_cv);
	pthread_mutex_unlock(&bio_lock);
}
