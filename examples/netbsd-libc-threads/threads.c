/*
 * NetBSD's libpthread, unchanged, on the guest kernel's threads: one line per check
 * ("ok NAME: what was seen" or "FAIL NAME: what was wrong"), then "threads: N passed, M failed".
 *
 * usage: threads M K ITEMS
 *   M threads increment one counter K times each under a mutex; a producer hands ITEMS
 *   numbers to a consumer through a 4-slot queue with condition variables.
 *
 * The last check is the end: main calls pthread_exit with a value, and the last other thread
 * joins main, gets that value, prints the summary and ends the program: with pthread_exit
 * (so the process ends as its last thread exits: status 0) when every check passed, else
 * with exit(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <fenv.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

static void check(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;
	printf("%s %s: ", ok ? "ok" : "FAIL", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		passed++;
	else
		failed++;
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *must_join(pthread_t t)
{
	void *rv = NULL;
	int error = pthread_join(t, &rv);
	if (error != 0) {
		printf("FAIL pthread_join: %s\n", strerror(error));
		exit(1);
	}
	return rv;
}

static pthread_t must_create(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int error = pthread_create(&t, NULL, fn, arg);
	if (error != 0) {
		printf("FAIL pthread_create: %s\n", strerror(error));
		exit(1);
	}
	return t;
}

/* Mutex: the counter's increments are split by a yield, so a thread loses the cpu holding it. */
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static int increments;
static int contended;

static void *count_up(void *arg)
{
	(void)arg;
	for (int i = 0; i < increments; i++) {
		if (pthread_mutex_trylock(&counter_lock) != 0) {
			__atomic_add_fetch(&contended, 1, __ATOMIC_RELAXED);
			pthread_mutex_lock(&counter_lock);
		}
		long seen = counter;
		if (i % 7 == 0)
			sched_yield();
		counter = seen + 1;
		pthread_mutex_unlock(&counter_lock);
		if (i % 5 == 0)
			sched_yield();
	}
	return NULL;
}

static void check_mutex(int nthreads)
{
	pthread_t t[64];
	for (int i = 0; i < nthreads; i++)
		t[i] = must_create(count_up, NULL);
	for (int i = 0; i < nthreads; i++)
		must_join(t[i]);
	long want = (long)nthreads * increments;
	check(counter == want && contended > 0, "mutex", "%d threads x %d = %ld%s", nthreads,
		increments, counter, contended > 0 ? "" : " (never contended)");
}

/* Condition variables: a producer and a consumer around a 4-slot queue. */
#define SLOTS 4
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static int queue[SLOTS], queue_head, queue_len;
static int items;
static int producer_waits;

static void *produce(void *arg)
{
	(void)arg;
	for (int v = 1; v <= items; v++) {
		pthread_mutex_lock(&queue_lock);
		while (queue_len == SLOTS) {
			producer_waits++;
			pthread_cond_wait(&not_full, &queue_lock);
		}
		queue[(queue_head + queue_len) % SLOTS] = v;
		queue_len++;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&queue_lock);
	}
	return NULL;
}

static void *consume(void *arg)
{
	(void)arg;
	long sum = 0;
	int in_order = 1;
	for (int n = 1; n <= items; n++) {
		pthread_mutex_lock(&queue_lock);
		while (queue_len == 0)
			pthread_cond_wait(&not_empty, &queue_lock);
		int v = queue[queue_head];
		queue_head = (queue_head + 1) % SLOTS;
		queue_len--;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&queue_lock);
		in_order &= v == n;
		sum += v;
	}
	return in_order ? (void *)(intptr_t)sum : NULL;
}

static void check_cond(void)
{
	pthread_t c = must_create(consume, NULL);
	pthread_t p = must_create(produce, NULL);
	must_join(p);
	long sum = (long)(intptr_t)must_join(c);
	long want = (long)items * (items + 1) / 2;
	check(sum == want && producer_waits > 0, "cond", "%d items through %d slots, sum %ld%s",
		items, SLOTS, sum, producer_waits > 0 ? "" : " (producer never waited)");
}

/* A timed wait that nobody signals ends with ETIMEDOUT, not before its time. */
static void check_timedwait(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 100 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	long long t0 = now_ns();
	pthread_mutex_lock(&m);
	int error = pthread_cond_timedwait(&c, &m, &until);
	pthread_mutex_unlock(&m);
	long long ms = (now_ns() - t0) / 1000000;
	check(error == ETIMEDOUT && ms >= 90, "timedwait", "100 ms: %s%s", strerror(error),
		ms >= 90 ? "" : " too early");
}

/* 64 threads, each joined with its own result. */
static void *square(void *arg)
{
	intptr_t i = (intptr_t)arg;
	return (void *)(i * i + 1);
}

static void check_many(void)
{
	pthread_t t[64];
	for (intptr_t i = 0; i < 64; i++)
		t[i] = must_create(square, (void *)i);
	int right = 0;
	for (intptr_t i = 0; i < 64; i++)
		right += (intptr_t)must_join(t[i]) == i * i + 1;
	check(right == 64, "join", "64 threads, %d results right", right);
}

/* __thread: the template's initial value in every thread, then each its own copy. */
static __thread int tls_value = 7;
static __thread char tls_bytes[100];
static void *tls_addr[16];

static void *tls_worker(void *arg)
{
	intptr_t id = (intptr_t)arg;
	int fresh = tls_value == 7 && tls_bytes[99] == 0;
	tls_value = (int)id * 10;
	tls_bytes[99] = (char)id;
	tls_addr[id] = &tls_value;
	sched_yield();
	usleep(1000);
	return (void *)(intptr_t)(fresh && tls_value == id * 10 && tls_bytes[99] == (char)id);
}

static void check_tls(void)
{
	pthread_t t[16];
	tls_value = -1;
	for (intptr_t i = 0; i < 16; i++)
		t[i] = must_create(tls_worker, (void *)i);
	int right = 0;
	for (int i = 0; i < 16; i++)
		right += must_join(t[i]) != NULL;
	int distinct = 1;
	for (int i = 0; i < 16; i++)
		for (int j = i + 1; j < 16; j++)
			distinct &= tls_addr[i] != tls_addr[j] && tls_addr[i] != (void *)&tls_value;
	check(right == 16 && distinct && tls_value == -1, "tls",
		"16 threads kept their own __thread values: %d, addresses %s, main's %d", right,
		distinct ? "distinct" : "shared", tls_value);
}

/* pthread_self in a thread equals the handle its creator got, and differs from main's. */
static pthread_t seen_self;

static void *record_self(void *arg)
{
	(void)arg;
	seen_self = pthread_self();
	return NULL;
}

static void check_self(void)
{
	pthread_t t = must_create(record_self, NULL);
	must_join(t);
	int same = pthread_equal(seen_self, t) != 0;
	int differs = pthread_equal(seen_self, pthread_self()) == 0;
	check(same && differs, "self", "pthread_self %s the created handle, %s main's",
		same ? "equals" : "differs from", differs ? "differs from" : "equals");
}

/* errno: two threads fail different calls, yield to each other, and read their own. */
static pthread_barrier_t errno_barrier;

static void *errno_ebadf(void *arg)
{
	(void)arg;
	close(-1);
	pthread_barrier_wait(&errno_barrier);
	sched_yield();
	pthread_barrier_wait(&errno_barrier);
	return (void *)(intptr_t)errno;
}

static void *errno_enoent(void *arg)
{
	(void)arg;
	open("/no/such/file", O_RDONLY);
	pthread_barrier_wait(&errno_barrier);
	sched_yield();
	pthread_barrier_wait(&errno_barrier);
	return (void *)(intptr_t)errno;
}

static void check_errno(void)
{
	pthread_barrier_init(&errno_barrier, NULL, 2);
	errno = 0;
	pthread_t a = must_create(errno_ebadf, NULL);
	pthread_t b = must_create(errno_enoent, NULL);
	int ea = (int)(intptr_t)must_join(a);
	int eb = (int)(intptr_t)must_join(b);
	int em = errno;
	/* strerror's buffer is shared: one message per call. */
	char a_text[64], b_text[64];
	strlcpy(a_text, strerror(ea), sizeof(a_text));
	strlcpy(b_text, strerror(eb), sizeof(b_text));
	check(ea == EBADF && eb == ENOENT && em == 0, "errno", "thread a %d (%s), thread b %d (%s), main %d",
		ea, a_text, eb, b_text, em);
}

/* Thread-specific data: each value's destructor runs when its thread exits. */
static pthread_key_t key;
static int destructed;
static long destructed_sum;

static void destroy_value(void *v)
{
	destructed++;
	destructed_sum += *(int *)v;
	free(v);
}

static void *keep_value(void *arg)
{
	int *v = malloc(sizeof(*v));
	*v = (int)(intptr_t)arg;
	pthread_setspecific(key, v);
	sched_yield();
	return (void *)(intptr_t)(pthread_getspecific(key) == v);
}

static void check_keys(void)
{
	pthread_key_create(&key, destroy_value);
	pthread_t t[8];
	for (intptr_t i = 0; i < 8; i++)
		t[i] = must_create(keep_value, (void *)(i + 1));
	int own = 0;
	for (int i = 0; i < 8; i++)
		own += must_join(t[i]) != NULL;
	check(own == 8 && destructed == 8 && destructed_sum == 36 && pthread_getspecific(key) == NULL,
		"keys", "8 threads, own values %d, destructors run %d (sum %ld)", own, destructed,
		destructed_sum);
}

/* System calls in a thread while main makes its own: a file each on the rump kernel's /tmp. */
static int writer_pid;

static void *write_file(void *arg)
{
	const char *path = arg;
	writer_pid = getpid();
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return NULL;
	char line[32];
	for (int i = 0; i < 200; i++) {
		int n = snprintf(line, sizeof(line), "line %d\n", i);
		if (write(fd, line, n) != n)
			return NULL;
	}
	close(fd);
	return (void *)1;
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void check_syscalls(void)
{
	if (mkdir("/tmp", 0777) != 0 && errno != EEXIST)
		printf("mkdir /tmp: %s\n", strerror(errno));
	pthread_t t = must_create(write_file, "/tmp/from-thread");
	int pids = 0, main_pid = getpid();
	int fd = open("/tmp/from-main", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (int i = 0; i < 200 && fd >= 0; i++) {
		pids += getpid() == main_pid;
		write(fd, "0123456789\n", 11);
		if (i % 10 == 0)
			sched_yield();
	}
	close(fd);
	int wrote = must_join(t) != NULL;
	/* "line 0\n".."line 9\n" 7 bytes, 10..99 8, 100..199 9. */
	long want = 10 * 7 + 90 * 8 + 100 * 9;
	long got = file_size("/tmp/from-thread"), main_got = file_size("/tmp/from-main");
	check(wrote && got == want && main_got == 2200 && pids == 200 && writer_pid == main_pid,
		"syscalls", "thread wrote %ld bytes, main %ld, getpid %d in both", got, main_got,
		writer_pid);
}

/* Sleeps in threads overlap: four threads sleep 300 ms at once. */
static void *nap(void *arg)
{
	long ms = (long)(intptr_t)arg;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	long long t0 = now_ns();
	int r = nanosleep(&ts, NULL);
	return (void *)(intptr_t)(r == 0 ? (now_ns() - t0) / 1000000 : -1);
}

static void *nap_one_second(void *arg)
{
	(void)arg;
	long long t0 = now_ns();
	unsigned left = sleep(1);
	return (void *)(intptr_t)(left == 0 ? (now_ns() - t0) / 1000000 : -1);
}

static void check_sleep(void)
{
	long long t0 = now_ns();
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		t[i] = must_create(nap, (void *)(intptr_t)300);
	long shortest = 1L << 30;
	for (int i = 0; i < 4; i++) {
		long ms = (long)(intptr_t)must_join(t[i]);
		if (ms < shortest)
			shortest = ms;
	}
	long total = (long)((now_ns() - t0) / 1000000);
	long one = (long)(intptr_t)must_join(must_create(nap_one_second, NULL));
	/* One after the other they would take 1200 ms. */
	check(shortest >= 300 && total < 1200 && one >= 1000, "sleep",
		"4 threads x nanosleep 300 ms overlapped (%s), sleep(1) in a thread %s",
		total < 1200 ? "under 1200 ms" : "not", one >= 1000 ? "at least 1 s" : "too short");
}

/*
 * The floating-point environment is per thread: one thread rounds down, yields to another
 * that rounds to nearest, and each still rounds its own way (x87 and SSE control words are
 * switched with the thread).
 */
static pthread_barrier_t fenv_barrier;

static void *round_with(void *arg)
{
	int mode = (int)(intptr_t)arg;
	fesetround(mode);
	pthread_barrier_wait(&fenv_barrier);
	sched_yield();
	pthread_barrier_wait(&fenv_barrier);
	volatile double half = 1.5;
	return (void *)(intptr_t)(fegetround() == mode ? (int)nearbyint(half) : -1);
}

static void check_fenv(void)
{
	pthread_barrier_init(&fenv_barrier, NULL, 2);
	pthread_t down = must_create(round_with, (void *)(intptr_t)FE_DOWNWARD);
	pthread_t near = must_create(round_with, (void *)(intptr_t)FE_TONEAREST);
	int d = (int)(intptr_t)must_join(down), n = (int)(intptr_t)must_join(near);
	int main_mode = fegetround();
	check(d == 1 && n == 2 && main_mode == FE_TONEAREST, "fenv",
		"nearbyint(1.5) rounding down %d, to nearest %d, main %s", d, n,
		main_mode == FE_TONEAREST ? "to nearest" : "changed");
}

/*
 * Cancellation: a thread waiting on a condition variable that nobody signals is cancelled
 * (its park is interrupted), its cleanup handler runs with the mutex retaken, and its join
 * gives PTHREAD_CANCELED.
 */
static pthread_mutex_t cancel_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int cancel_waiting, cleanup_ran, cleanup_had_lock;

static void cancel_cleanup(void *arg)
{
	(void)arg;
	cleanup_ran = 1;
	cleanup_had_lock = pthread_mutex_trylock(&cancel_lock) != 0;
	pthread_mutex_unlock(&cancel_lock);
}

static void *wait_forever(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cancel_lock);
	pthread_cleanup_push(cancel_cleanup, NULL);
	cancel_waiting = 1;
	for (;;)
		pthread_cond_wait(&never, &cancel_lock);
	pthread_cleanup_pop(1);
	return NULL;
}

static void check_cancel(void)
{
	pthread_t t = must_create(wait_forever, NULL);
	while (!cancel_waiting)
		sched_yield();
	usleep(10000);
	int error = pthread_cancel(t);
	void *rv = must_join(t);
	check(error == 0 && rv == PTHREAD_CANCELED && cleanup_ran && cleanup_had_lock, "cancel",
		"a thread in pthread_cond_wait: %s, cleanup %s%s", rv == PTHREAD_CANCELED ?
		"PTHREAD_CANCELED" : "not cancelled", cleanup_ran ? "ran" : "did not run",
		cleanup_had_lock ? " holding the mutex" : "");
}

/* Figure, not a check: creating and joining a thread, averaged. */
static void *nothing(void *arg)
{
	return arg;
}

static void measure_create(void)
{
	const int n = 1000;
	long long t0 = now_ns();
	for (int i = 0; i < n; i++)
		must_join(must_create(nothing, NULL));
	printf("info create+join: %lld us per thread\n", (now_ns() - t0) / n / 1000);
}

/* The end: main's pthread_exit value reaches the last thread, which ends the program. */
static pthread_t main_thread;

static void *last_thread(void *arg)
{
	(void)arg;
	void *main_value = NULL;
	int error = pthread_join(main_thread, &main_value);
	check(error == 0 && main_value == (void *)0x5a, "pthread_exit", "main exited with %p%s",
		main_value, error == 0 ? "" : ", join failed");
	printf("threads: %d passed, %d failed\n", passed, failed);
	fflush(stdout);
	if (failed != 0)
		exit(1);
	pthread_exit(NULL);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s M K ITEMS\n", getprogname());
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int nthreads = atoi(argv[1]);
	increments = atoi(argv[2]);
	items = atoi(argv[3]);
	if (nthreads < 1 || nthreads > 64 || increments < 1 || items < 1) {
		fprintf(stderr, "%s: M must be 1..64, K and ITEMS at least 1\n", getprogname());
		return 2;
	}
	check_mutex(nthreads);
	check_cond();
	check_timedwait();
	check_many();
	check_tls();
	check_self();
	check_errno();
	check_keys();
	check_syscalls();
	check_sleep();
	check_cancel();
	check_fenv();
	measure_create();
	main_thread = pthread_self();
	must_create(last_thread, NULL);
	pthread_exit((void *)0x5a);
}
