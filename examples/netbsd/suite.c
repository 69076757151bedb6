/*
 * The NetBSD suite: a real NetBSD rump kernel exercised through its system calls over the
 * target's hypercalls (posix, xen-pv, xen-pvh alike): sysctl, rumpfs and tmpfs file I/O,
 * UDP and TCP over lo0, many threads in processes of their own, timed sleeps. One line per
 * case ("case NAME: PASS|FAIL why") and a closing "Test result:" line.
 */
#include <rumpuser.h>

#include "nbsys.h"

#define NTHREADS 16
#define NSLEEPERS 4

static int failures;

static int report(const char *name, const char *failure)
{
	if (failure)
		rumpuser_dprintf("case %s: FAIL %s (errno %d)\n", name, failure, nb_errno());
	else
		rumpuser_dprintf("case %s: PASS\n", name);
	failures += failure != NULL;
	return failure == NULL;
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void fill(unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed * 31u + i * 7u + (i >> 9));
}

static int filled(const unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != (unsigned char)(seed * 31u + i * 7u + (i >> 9)))
			return 0;
	return 1;
}

static const char *read_string_sysctl(int which, char *buf, size_t cap)
{
	int mib[2] = { NB_CTL_KERN, which };
	size_t len = cap - 1;

	if (nb_sysctl(mib, 2, buf, &len, NULL, 0) != 0)
		return "sysctl read failed";
	buf[len] = '\0';
	return NULL;
}

static void case_sysctl(void)
{
	static const char name[] = "rumpxen-suite";
	int mib[2] = { NB_CTL_KERN, NB_KERN_HOSTNAME };
	char buf[128];
	const char *err;

	err = read_string_sysctl(NB_KERN_OSTYPE, buf, sizeof(buf));
	if (!err && !streq(buf, "NetBSD"))
		err = "kern.ostype is not NetBSD";
	if (!err)
		rumpuser_dprintf("suite: kern.ostype = %s\n", buf);
	if (!err && (err = read_string_sysctl(NB_KERN_OSRELEASE, buf, sizeof(buf))) == NULL) {
		rumpuser_dprintf("suite: kern.osrelease = %s\n", buf);
		if (buf[0] < '1' || buf[0] > '9')
			err = "kern.osrelease does not start with a version number";
	}
	if (!err && nb_sysctl(mib, 2, NULL, NULL, name, sizeof(name)) != 0)
		err = "setting kern.hostname failed";
	if (!err && (err = read_string_sysctl(NB_KERN_HOSTNAME, buf, sizeof(buf))) == NULL && !streq(buf, name))
		err = "kern.hostname does not read back";
	report("sysctl", err);
}

/* Write `len` bytes in chunks of `chunk`, read them back through a new descriptor. */
static const char *file_roundtrip(const char *path, unsigned char *buf, size_t len, size_t chunk, unsigned seed)
{
	int fd = nb_open(path, NB_O_RDWR | NB_O_CREAT | NB_O_TRUNC, 0644);

	if (fd < 0)
		return "create failed";
	fill(buf, len, seed);
	for (size_t off = 0; off < len; off += chunk)
		if (nb_write(fd, buf + off, len - off < chunk ? len - off : chunk) <= 0)
			return "write failed";
	if (nb_fsync(fd) != 0 || nb_lseek(fd, 0, NB_SEEK_END) != (nb_off_t)len || nb_close(fd) != 0)
		return "size after writing is wrong";
	for (size_t i = 0; i < len; i++)
		buf[i] = 0;
	if ((fd = nb_open(path, NB_O_RDONLY, 0)) < 0)
		return "reopen failed";
	for (size_t off = 0; off < len;) {
		nb_ssize_t n = nb_read(fd, buf + off, len - off);
		if (n <= 0)
			return "read failed or ended early";
		off += (size_t)n;
	}
	nb_close(fd);
	return filled(buf, len, seed) ? NULL : "data read back differs";
}

static unsigned char big[1 << 20];

static void case_rumpfs(void)
{
	const char *err = NULL;
	int fd;

	if (nb_mkdir("/rfs", 0755) != 0)
		err = "mkdir /rfs failed";
	if (!err)
		err = file_roundtrip("/rfs/a", big, 100 * 1000, 4096, 1);
	if (!err && nb_open("/rfs/a", NB_O_RDWR | NB_O_CREAT | NB_O_EXCL, 0644) != -1)
		err = "O_EXCL on an existing file succeeded";
	if (!err && nb_errno() != NB_EEXIST)
		err = "O_EXCL on an existing file did not fail with EEXIST";
	if (!err && (nb_unlink("/rfs/a") != 0 || nb_rmdir("/rfs") != 0))
		err = "unlink or rmdir failed";
	if (!err && (fd = nb_open("/rfs/a", NB_O_RDONLY, 0)) != -1)
		err = "a removed file still opens";
	if (!err && nb_errno() != NB_ENOENT)
		err = "opening a removed file did not fail with ENOENT";
	report("rumpfs_io", err);
}

/* The names getdents returns for `dir`, '.' and '..' aside, as a bit set of "f<i>" names. */
static unsigned listed_files(const char *dir)
{
	static char buf[4096];
	unsigned seen = 0;
	int fd = nb_open(dir, NB_O_RDONLY | NB_O_DIRECTORY, 0), n;

	if (fd < 0)
		return ~0u;
	while ((n = nb_getdents(fd, buf, sizeof(buf))) > 0) {
		for (int off = 0; off < n;) {
			const struct nb_dirent *d = (const struct nb_dirent *)(buf + off);
			if (d->d_reclen == 0)
				break;
			if (d->d_name[0] == 'f' && d->d_name[1] >= '0' && d->d_name[1] <= '9' && d->d_name[2] == '\0')
				seen |= 1u << (d->d_name[1] - '0');
			off += d->d_reclen;
		}
	}
	nb_close(fd);
	return seen;
}

static void case_tmpfs(void)
{
	struct nb_tmpfs_args args = { .ta_version = NB_TMPFS_ARGS_VERSION, .ta_root_mode = 01777 };
	char path[] = "/tmp/d/f0";
	const char *err = NULL;

	if ((nb_mkdir("/tmp", 0777) != 0 && nb_errno() != NB_EEXIST) || nb_mount("tmpfs", "/tmp", 0, &args, sizeof(args)) != 0)
		err = "mount tmpfs on /tmp failed";
	if (!err && nb_mkdir("/tmp/d", 0755) != 0)
		err = "mkdir /tmp/d failed";
	for (int i = 0; !err && i < 8; i++) {
		path[8] = (char)('0' + i);
		err = file_roundtrip(path, big, 4096u * (unsigned)(i + 1) + 17u, 1000, (unsigned)i + 10);
	}
	if (!err && listed_files("/tmp/d") != 0xffu)
		err = "getdents does not list f0..f7 exactly";
	if (!err && nb_rename("/tmp/d/f7", "/tmp/moved") != 0)
		err = "rename failed";
	if (!err && (nb_open("/tmp/d/f7", NB_O_RDONLY, 0) != -1 || nb_errno() != NB_ENOENT))
		err = "the old name does not fail with ENOENT after rename";
	if (!err && listed_files("/tmp/d") != 0x7fu)
		err = "getdents still lists a renamed file";
	if (!err)
		err = file_roundtrip("/tmp/big", big, sizeof(big), 65536, 99);
	if (!err && nb_open("/tmp/big/x", NB_O_RDONLY, 0) != -1)
		err = "a path through a regular file opened";
	if (!err && nb_errno() != NB_ENOTDIR)
		err = "a path through a regular file did not fail with ENOTDIR";
	if (!err && nb_unmount("/tmp", 0) != 0)
		err = "unmount /tmp failed";
	if (!err && nb_open("/tmp/big", NB_O_RDONLY, 0) != -1)
		err = "a tmpfs file is still there after unmount";
	report("tmpfs_io", err);
}

static int loopback_socket(int type, struct nb_sockaddr_in *sin)
{
	nb_socklen_t len = sizeof(*sin);
	int s = nb_socket(NB_AF_INET, type, 0);

	*sin = (struct nb_sockaddr_in){ .sin_len = sizeof(*sin), .sin_family = NB_AF_INET, .sin_addr = nb_htonl(NB_INADDR_LOOPBACK) };
	if (s < 0 || nb_bind(s, sin, sizeof(*sin)) != 0 || nb_getsockname(s, sin, &len) != 0)
		return -1;
	return s;
}

static void case_udp(void)
{
	struct nb_sockaddr_in a, b, from;
	unsigned char out[1400], in[1500];
	const char *err = NULL;
	int sa = loopback_socket(NB_SOCK_DGRAM, &a), sb = loopback_socket(NB_SOCK_DGRAM, &b);

	if (sa < 0 || sb < 0)
		err = "cannot bind UDP sockets to 127.0.0.1";
	for (unsigned i = 0; !err && i < 100; i++) {
		size_t len = 1 + (i * 13) % sizeof(out);
		nb_socklen_t flen = sizeof(from);
		fill(out, len, i);
		if (nb_sendto(sa, out, len, 0, &b, sizeof(b)) != (nb_ssize_t)len)
			err = "sendto failed";
		else if (nb_recvfrom(sb, in, sizeof(in), 0, &from, &flen) != (nb_ssize_t)len || !filled(in, len, i))
			err = "datagram arrived changed or with another length";
		else if (from.sin_port != a.sin_port)
			err = "datagram came from the wrong port";
	}
	nb_close(sa);
	nb_close(sb);
	report("udp_lo0", err);
}

struct echo {
	int listener;
	const char *err;
	size_t echoed;
};

/* Accepts one connection and sends back everything it reads until the peer shuts down. */
static void *echo_main(void *arg)
{
	struct echo *e = arg;
	static unsigned char buf[16384];
	nb_ssize_t n;
	int s = nb_accept(e->listener, NULL, NULL);

	if (s < 0) {
		e->err = "accept failed";
		return NULL;
	}
	while ((n = nb_read(s, buf, sizeof(buf))) > 0) {
		for (nb_ssize_t off = 0; off < n;) {
			nb_ssize_t w = nb_write(s, buf + off, (size_t)(n - off));
			if (w <= 0) {
				e->err = "echo write failed";
				nb_close(s);
				return NULL;
			}
			off += w;
		}
		e->echoed += (size_t)n;
	}
	nb_close(s);
	return NULL;
}

static void case_tcp(void)
{
	struct nb_sockaddr_in sin;
	struct echo e = { .listener = loopback_socket(NB_SOCK_STREAM, &sin) };
	static unsigned char out[32768], in[32768];
	const char *err = NULL;
	struct nb_thread thread;
	int started = 0;
	int s = -1;

	if (e.listener < 0 || nb_listen(e.listener, 4) != 0)
		err = "cannot listen on 127.0.0.1";
	if (!err && !(started = nb_thread_start(&thread, echo_main, &e, "echo") == 0))
		err = "cannot start the echo thread";
	if (!err && ((s = nb_socket(NB_AF_INET, NB_SOCK_STREAM, 0)) < 0 || nb_connect(s, &sin, sizeof(sin)) != 0))
		err = "connect to 127.0.0.1 failed";
	/* 1 MiB in 32 KiB rounds, each echoed back before the next. */
	for (unsigned r = 0; !err && r < 32; r++) {
		fill(out, sizeof(out), r);
		if (nb_write(s, out, sizeof(out)) != (nb_ssize_t)sizeof(out)) {
			err = "write failed";
			break;
		}
		for (size_t got = 0; got < sizeof(in);) {
			nb_ssize_t n = nb_read(s, in + got, sizeof(in) - got);
			if (n <= 0) {
				err = "read of the echo failed";
				break;
			}
			got += (size_t)n;
		}
		if (!err && !filled(in, sizeof(in), r))
			err = "echoed bytes differ";
	}
	if (s >= 0)
		nb_shutdown(s, NB_SHUT_WR);
	if (started && !err)
		nb_thread_wait(&thread);
	if (!err && e.err)
		err = e.err;
	if (!err && e.echoed != 32 * sizeof(out))
		err = "the server did not see every byte";
	nb_close(s);
	nb_close(e.listener);
	report("tcp_lo0", err);
}

struct worker {
	unsigned id;
	int pid;
	const char *err;
	unsigned char buf[65536];
};

static struct worker workers[NTHREADS];

/* A process of its own (rfork): its pid, a file on tmpfs, and a loop of system calls. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char path[] = "/work/w00";

	if (rump_pub_lwproc_rfork(NB_RUMP_RFCFDG) != 0) {
		w->err = "rfork failed";
		return NULL;
	}
	w->pid = nb_getpid();
	path[7] = (char)('0' + w->id / 10);
	path[8] = (char)('0' + w->id % 10);
	w->err = file_roundtrip(path, w->buf, sizeof(w->buf), 1024 * (w->id + 1), w->id + 100);
	for (int i = 0; !w->err && i < 200; i++)
		if (nb_getpid() != w->pid)
			w->err = "getpid changed";
	rump_pub_lwproc_releaselwp();
	return NULL;
}

static void case_threads(void)
{
	struct nb_tmpfs_args args = { .ta_version = NB_TMPFS_ARGS_VERSION, .ta_root_mode = 01777 };
	static struct nb_thread threads[NTHREADS];
	const char *err = NULL;
	int n = 0;

	if (nb_mkdir("/work", 0777) != 0 || nb_mount("tmpfs", "/work", 0, &args, sizeof(args)) != 0)
		err = "mount tmpfs on /work failed";
	/* n counts the threads that started: only those are waited for. */
	for (; !err && n < NTHREADS; n++) {
		workers[n].id = (unsigned)n;
		if (nb_thread_start(&threads[n], worker_main, &workers[n], "worker") != 0) {
			err = "thread create failed";
			break;
		}
	}
	for (int i = 0; i < n; i++)
		nb_thread_wait(&threads[i]);
	for (int i = 0; !err && i < n; i++) {
		if (workers[i].err)
			err = workers[i].err;
		else if (workers[i].pid <= 1)
			err = "a worker ran without a process of its own";
		for (int j = 0; !err && j < i; j++)
			if (workers[j].pid == workers[i].pid)
				err = "two workers got the same pid";
	}
	if (!err && listed_files("/work") != 0)
		err = "unexpected names in /work";
	report("threads", err);
}

struct sleeper {
	int ms;
	int rank;
};

static struct sleeper sleepers[NSLEEPERS];
static int woken;

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	struct nb_timespec ts = { .tv_sec = 0, .tv_nsec = s->ms * 1000000L };

	nb_nanosleep(&ts, NULL);
	s->rank = __atomic_add_fetch(&woken, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void case_sleep(void)
{
	struct nb_timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000000L }, wall;
	static struct nb_thread threads[NSLEEPERS];
	const char *err = NULL;
	int64_t t0 = nb_now_ns(), slept;
	int rv;

	if (nb_nanosleep(&ts, NULL) != 0)
		err = "nanosleep failed";
	slept = nb_now_ns() - t0;
	rumpuser_dprintf("suite: nanosleep(100 ms) took %ld ms\n", (long)(slept / 1000000));
	/* The rump kernel's clock advances in ticks (10 ms at hz 100): allow one tick. */
	if (!err && slept < (100 - 10) * 1000000LL)
		err = "nanosleep returned early";
	t0 = nb_now_ns();
	if (!err && (rv = nb_poll(NULL, 0, 150)) != 0)
		err = "poll with no descriptors did not time out";
	slept = nb_now_ns() - t0;
	if (!err && slept < (150 - 10) * 1000000LL)
		err = "poll timed out early";
	if (!err && (nb_clock_gettime(NB_CLOCK_REALTIME, &wall) != 0 || wall.tv_sec < 1600000000))
		err = "the wall clock is not set";
	/* Started longest first, so waking shortest first is the timers' doing. */
	int started = 0;
	for (; !err && started < NSLEEPERS; started++) {
		sleepers[started].ms = 100 * (NSLEEPERS - started);
		if (nb_thread_start(&threads[started], sleeper_main, &sleepers[started], "sleeper") != 0) {
			err = "thread create failed";
			break;
		}
	}
	for (int i = 0; i < started; i++)
		nb_thread_wait(&threads[i]);
	for (int i = 0; !err && i < NSLEEPERS; i++)
		if (sleepers[i].rank != NSLEEPERS - i)
			err = "sleepers woke out of order";
	report("timed_sleep", err);
}

int main(void)
{
	int rv = rump_init();

	if (!report("rump_init", rv == 0 ? NULL : "rump_init failed")) {
		rumpuser_dprintf("Test result: FAILURE\n");
		return 1;
	}
	report("getpid", nb_getpid() > 0 ? NULL : "getpid failed");
	case_sysctl();
	case_rumpfs();
	case_tmpfs();
	case_udp();
	case_tcp();
	case_threads();
	case_sleep();
	rumpuser_dprintf("Test result: %s\n", failures ? "FAILURE" : "SUCCESS");
	return failures ? 1 : 0;
}
