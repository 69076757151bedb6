/*
 * A test suite of NetBSD's libc in a rumpxen DomU, written as a program for NetBSD: stdio,
 * open(2) and its flags, directories and stat on tmpfs and on the rump kernel's root file
 * system, sockets over lo0 (select, poll, kqueue), setjmp, getaddrinfo/getnameinfo, libm,
 * errno values and fork. Built with rumpxen-cc.
 *
 * usage: suite             run every check: one line each, "check NAME: ok DETAIL" or
 *                          "check NAME: FAILED WHY", then "suite: N passed, M failed";
 *                          exit status 0 when all passed, else 1
 *        suite exit N      exit(N) after flushing a line without a newline
 *        suite return N    return N from main
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/mount.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <fs/tmpfs/tmpfs_args.h>
#include <ufs/ufs/ufsmount.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

static int passed, failed;

/* One line per check; `why` is NULL when it passed, `detail` says what was seen. */
static void report(const char *name, const char *why, const char *fmt, ...)
{
	char detail[200] = "";
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (why == NULL) {
		passed++;
		printf("check %s: ok%s%s\n", name, detail[0] ? " " : "", detail);
	} else {
		failed++;
		printf("check %s: FAILED %s%s%s\n", name, why, detail[0] ? " " : "", detail);
	}
}

/* The first failed condition of a check becomes its reason. */
#define EXPECT(cond, why) do { if (!(cond) && err == NULL) err = (why); } while (0)

/* --- stdio */

static const char *fmt_is(const char *want, const char *fmt, ...)
{
	static char got[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	return strcmp(got, want) == 0 ? NULL : got;
}

static void check_printf_float(void)
{
	/* volatile: the values reach printf at run time, not as constants folded by gcc. */
	volatile double pi = 3.14159265358979, big = 12345.678, tiny = 0.0001, tinier = 0.00001;
	volatile double half = 0.5, one_half = 1.5, two_half = 2.5, x2675 = 2.675, one = 1.0, ff = 255.0;
	volatile double inf = INFINITY, nan_ = NAN;
	const struct { const char *want, *fmt; double v; } cases[] = {
		{ "3.141593", "%f", pi },
		{ "1.234568e+04", "%e", big },
		{ "12345.7", "%g", big },
		{ "0.0001", "%g", tiny },
		{ "1e-05", "%g", tinier },
		{ "0x1p+0", "%a", one },
		{ "0x1p-1", "%a", half },
		{ "0x1.fep+7", "%a", ff },
		{ "0", "%.0f", half },          /* ties to even */
		{ "2", "%.0f", one_half },
		{ "2", "%.0f", two_half },
		{ "2.67", "%.2f", x2675 },      /* 2.675 is 2.67499999... in binary */
		{ "  3.14", "%6.2f", pi },
		{ "+3.1416e+00", "%+.4e", pi },
		{ "inf", "%f", inf },
		{ "-INF", "%F", -inf },
		{ "nan", "%f", nan_ },
		{ "NAN", "%E", nan_ },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = fmt_is(cases[i].want, cases[i].fmt, cases[i].v);
		if (got != NULL) {
			report("printf_float", "wrong output", "%s of case %zu gave \"%s\", want \"%s\"", cases[i].fmt, i, got, cases[i].want);
			return;
		}
	}
	report("printf_float", NULL, "%zu formats (%%f %%e %%g %%a, rounding, inf, nan)", sizeof(cases) / sizeof(cases[0]));
}

static void check_wide(void)
{
	const char *err = NULL;
	wchar_t w[32];
	int n = swprintf(w, 32, L"%ls-%d-%c", L"wide", 42, 'z');
	EXPECT(n == 9, "swprintf's count is not 9");
	EXPECT(wcscmp(w, L"wide-42-z") == 0, "swprintf wrote the wrong string");
	EXPECT(wcslen(w) == 9, "wcslen is not 9");
	char narrow[32];
	snprintf(narrow, sizeof(narrow), "[%ls|%5ls|%lc]", L"abc", L"de", (wint_t)L'Q');
	EXPECT(strcmp(narrow, "[abc|   de|Q]") == 0, "%ls/%lc in snprintf");
	wchar_t small[4];
	EXPECT(swprintf(small, 4, L"%ls", L"toolong") < 0, "swprintf past its size did not fail");
	report("wide_formats", err, "\"%s\"", narrow);
}

static void check_snprintf(void)
{
	const char *err = NULL;
	char buf[5];
	int n = snprintf(buf, sizeof(buf), "%s", "abcdefgh");
	EXPECT(n == 8, "the return value is not the full length");
	EXPECT(strcmp(buf, "abcd") == 0, "not truncated to size-1 with a NUL");
	EXPECT(snprintf(NULL, 0, "%d", 123456) == 6, "snprintf(NULL, 0) does not count");
	report("snprintf_truncation", err, "returned %d, wrote \"%s\"", n, buf);
}

static void check_sscanf(void)
{
	const char *err = NULL;
	int i = 0;
	unsigned x = 0;
	double d = 0;
	char word[16] = "";
	int n = sscanf("42 3.5 word 0x1f rest", "%d %lf %15s %x", &i, &d, word, &x);
	EXPECT(n == 4, "did not convert 4 fields");
	EXPECT(i == 42 && d == 3.5 && strcmp(word, "word") == 0 && x == 0x1f, "wrong values");
	int a = 0, b = 0;
	EXPECT(sscanf("7:", "%d:%d", &a, &b) == 1 && a == 7, "a partial match");
	EXPECT(sscanf("", "%d", &a) == EOF, "empty input is not EOF");
	report("sscanf", err, "%d fields: %d %.1f %s %#x", n, i, d, word, x);
}

static void check_stdio_file(const char *dir)
{
	const char *err = NULL;
	char path[128], line[64] = "";
	snprintf(path, sizeof(path), "%s/stdio.txt", dir);
	FILE *f = fopen(path, "w+");
	EXPECT(f != NULL, "fopen w+");
	if (f != NULL) {
		EXPECT(fprintf(f, "first %d\nsecond %s\n", 1, "two") == 19, "fprintf's count");
		EXPECT(fseek(f, 0, SEEK_SET) == 0, "fseek to 0");
		EXPECT(fgets(line, sizeof(line), f) != NULL && strcmp(line, "first 1\n") == 0, "first line");
		EXPECT(fseek(f, -4, SEEK_END) == 0 && ftell(f) == 15, "fseek from the end");
		EXPECT(fgets(line, sizeof(line), f) != NULL && strcmp(line, "two\n") == 0, "line after fseek");
		EXPECT(fgets(line, sizeof(line), f) == NULL && feof(f), "EOF after the last line");
		EXPECT(fclose(f) == 0, "fclose");
	}
	struct stat st;
	EXPECT(stat(path, &st) == 0 && st.st_size == 19, "the file's size is not 19");
	f = fopen(path, "a");
	EXPECT(f != NULL && fputs("third\n", f) >= 0 && fclose(f) == 0, "append with fopen a");
	EXPECT(stat(path, &st) == 0 && st.st_size == 25, "the size after the append is not 25");
	report("stdio_file", err, "%s", path);
}

/* --- files and directories: run on tmpfs (/tmp) and on the root file system */

static void check_open_flags(const char *fs, const char *dir)
{
	char name[48], path[128], link[128], sub[128];
	const char *err = NULL;
	snprintf(name, sizeof(name), "open_flags_%s", fs);
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(link, sizeof(link), "%s/l", dir);
	snprintf(sub, sizeof(sub), "%s/f/x", dir);

	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0640);
	EXPECT(fd >= 0, "O_CREAT|O_EXCL of a new file");
	EXPECT(write(fd, "0123456789", 10) == 10 && close(fd) == 0, "write 10 bytes");
	errno = 0;
	EXPECT(open(path, O_CREAT | O_EXCL | O_WRONLY, 0640) == -1 && errno == EEXIST, "O_EXCL of an existing file is not EEXIST");

	fd = open(path, O_WRONLY | O_APPEND);
	EXPECT(fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 && write(fd, "ab", 2) == 2, "O_APPEND write");
	struct stat st;
	EXPECT(fstat(fd, &st) == 0 && st.st_size == 12, "O_APPEND did not write at the end");
	close(fd);

	fd = open(path, O_RDWR | O_TRUNC);
	EXPECT(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC did not empty the file");
	close(fd);

	errno = 0;
	EXPECT(open(path, O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR, "O_DIRECTORY on a file is not ENOTDIR");
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	EXPECT(fd >= 0, "O_DIRECTORY on a directory");
	if (fd >= 0)
		close(fd);

	EXPECT(symlink("f", link) == 0, "symlink");
	errno = 0;
	EXPECT(open(link, O_RDONLY | O_NOFOLLOW) == -1 && (errno == EFTYPE || errno == ELOOP), "O_NOFOLLOW on a symlink is not EFTYPE/ELOOP");
	int nofollow_errno = errno;
	fd = open(link, O_RDONLY);
	EXPECT(fd >= 0, "open through the symlink");
	if (fd >= 0)
		close(fd);
	EXPECT(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "lstat does not see a symlink");
	EXPECT(stat(link, &st) == 0 && S_ISREG(st.st_mode), "stat does not follow the symlink");

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	EXPECT(fd >= 0, "open O_NONBLOCK|O_CLOEXEC");
	EXPECT((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0, "F_GETFL lacks O_NONBLOCK");
	EXPECT((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "F_GETFD lacks FD_CLOEXEC");
	close(fd);
	fd = open(path, O_RDONLY);
	EXPECT((fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0, "FD_CLOEXEC without O_CLOEXEC");
	close(fd);

	errno = 0;
	EXPECT(open(sub, O_RDONLY) == -1 && errno == ENOTDIR, "a path through a file is not ENOTDIR");
	EXPECT(unlink(link) == 0 && unlink(path) == 0, "unlink");
	errno = 0;
	EXPECT(open(path, O_RDONLY) == -1 && errno == ENOENT, "the unlinked file is still there");
	report(name, err, "on %s (O_NOFOLLOW: errno %d)", dir, nofollow_errno);
}

/*
 * `rumpfs`: the rump kernel's root file system, which lists no . and .. entries, gives a
 * directory and the files in it different st_dev and has no rename (EOPNOTSUPP); tmpfs does
 * all three as a disk file system would.
 */
static void check_dirs_stat(const char *fs, const char *dir, int rumpfs)
{
	char name[48], d[128], p[128], q[128];
	const char *err = NULL;
	snprintf(name, sizeof(name), "dirs_stat_%s", fs);
	snprintf(d, sizeof(d), "%s/d", dir);
	EXPECT(mkdir(d, 0750) == 0, "mkdir");
	errno = 0;
	EXPECT(mkdir(d, 0750) == -1 && errno == EEXIST, "mkdir of an existing directory is not EEXIST");
	const char *names[] = { "alpha", "beta", "gamma" };
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", d, names[i]);
		int fd = open(p, O_CREAT | O_WRONLY, 0600);
		EXPECT(fd >= 0 && write(fd, "xyz", (size_t)i + 1) == i + 1 && close(fd) == 0, "create a file");
	}
	DIR *dp = opendir(d);
	int seen = 0, dots = 0;
	EXPECT(dp != NULL, "opendir");
	if (dp != NULL) {
		struct dirent *de;
		while ((de = readdir(dp)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				dots++;
			for (int i = 0; i < 3; i++)
				if (strcmp(de->d_name, names[i]) == 0)
					seen |= 1 << i;
		}
		closedir(dp);
	}
	EXPECT(seen == 7, "readdir did not list the three files");
	EXPECT(dots == (rumpfs ? 0 : 2), "readdir's . and .. entries");

	struct stat st;
	snprintf(p, sizeof(p), "%s/gamma", d);
	EXPECT(stat(p, &st) == 0, "stat");
	EXPECT(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600 && st.st_size == 3 && st.st_nlink == 1, "stat's mode, size or nlink");
	EXPECT(st.st_ino != 0 && st.st_mtime > 0, "stat's inode or mtime");
	struct stat ds;
	EXPECT(stat(d, &ds) == 0 && S_ISDIR(ds.st_mode) && (ds.st_mode & 07777) == 0750, "the directory's mode");
	EXPECT(rumpfs || ds.st_dev == st.st_dev, "st_dev differs within a directory");

	snprintf(q, sizeof(q), "%s/renamed", d);
	struct stat rs;
	errno = 0;
	int renamed = rename(p, q);
	int rename_errno = errno;
	if (rumpfs) {
		/* rumpfs has no rename: the call must fail cleanly and leave the file. */
		EXPECT(renamed == -1 && rename_errno == EOPNOTSUPP, "rename on rumpfs is not EOPNOTSUPP");
		EXPECT(stat(p, &rs) == 0 && rs.st_ino == st.st_ino, "the file is gone after a failed rename");
		snprintf(q, sizeof(q), "%s", p);
	} else {
		EXPECT(renamed == 0, "rename");
		EXPECT(stat(q, &rs) == 0 && rs.st_ino == st.st_ino, "rename changed the inode");
		errno = 0;
		EXPECT(stat(p, &rs) == -1 && errno == ENOENT, "the old name still exists");
	}

	errno = 0;
	EXPECT(rmdir(d) == -1 && errno == ENOTEMPTY, "rmdir of a full directory is not ENOTEMPTY");
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", d, names[i]);
		EXPECT(unlink(p) == 0, "unlink");
	}
	EXPECT(unlink(q) == 0, "unlink the renamed file");
	EXPECT(rmdir(d) == 0, "rmdir");
	errno = 0;
	EXPECT(stat(d, &rs) == -1 && errno == ENOENT, "the directory is still there");
	report(name, err, "mode %o size %lld, readdir: files %#x, dot entries %d, rename: %d errno %d", (unsigned)(st.st_mode & 07777), (long long)st.st_size, seen, dots, renamed, rename_errno);
}

static int mount_tmpfs(void)
{
	struct tmpfs_args args;
	memset(&args, 0, sizeof(args));
	args.ta_version = TMPFS_ARGS_VERSION;
	args.ta_root_mode = 01777;
	if (mkdir("/tmp", 0777) == -1 && errno != EEXIST)
		return -1;
	return mount(MOUNT_TMPFS, "/tmp", 0, &args, sizeof(args));
}

static void check_errno(void)
{
	const char *err = NULL;
	char buf[4];
	errno = 0;
	EXPECT(open("/no/such/file", O_RDONLY) == -1 && errno == ENOENT, "open of a missing file is not ENOENT");
	errno = 0;
	EXPECT(read(1234, buf, 1) == -1 && errno == EBADF, "read of a closed fd is not EBADF");
	errno = 0;
	EXPECT(close(-1) == -1 && errno == EBADF, "close(-1) is not EBADF");
	int fd = open("/tmp/errno", O_CREAT | O_RDWR, 0600);
	errno = 0;
	EXPECT(lseek(fd, 0, 12345) == -1 && errno == EINVAL, "lseek's bad whence is not EINVAL");
	errno = 0;
	EXPECT(open("/tmp/errno", O_CREAT | O_EXCL | O_RDWR, 0600) == -1 && errno == EEXIST, "not EEXIST");
	errno = 0;
	EXPECT(mkdir("/tmp/errno/sub", 0700) == -1 && errno == ENOTDIR, "mkdir under a file is not ENOTDIR");
	errno = 0;
	EXPECT(open("/tmp", O_WRONLY) == -1 && errno == EISDIR, "writing a directory is not EISDIR");
	close(fd);
	unlink("/tmp/errno");
	EXPECT(ENOENT == 2 && EBADF == 9 && EINVAL == 22 && EEXIST == 17 && ENOTDIR == 20 && EISDIR == 21, "NetBSD's errno numbers");
	EXPECT(strcmp(strerror(ENOENT), "No such file or directory") == 0, "strerror(ENOENT)");
	EXPECT(strcmp(strerror(EISDIR), "Is a directory") == 0, "strerror(EISDIR)");
	EXPECT(strncmp(strerror(9999), "Unknown error", 13) == 0, "strerror of an unknown number");
	/* strerror may answer in one static buffer: one call per line. */
	report("errno", err, "EISDIR=\"%s\"", strerror(EISDIR));
}

static void check_fork(void)
{
	const char *err = NULL;
	errno = 0;
	pid_t pid = fork();
	int e = errno;
	EXPECT(pid == -1, "fork did not fail");
	EXPECT(e == ENOSYS && e == 78, "fork's errno is not ENOSYS (78)");
	report("fork_enosys", err, "fork: %d, errno %d (%s)", (int)pid, e, strerror(e));
}

/* --- sockets over lo0 */

static int tcp_listener(struct sockaddr_in *sin)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t len = sizeof(*sin);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_len = sizeof(*sin);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)sin, sizeof(*sin)) != 0 || listen(s, 4) != 0 ||
	    getsockname(s, (struct sockaddr *)sin, &len) != 0)
		return -1;
	return s;
}

static void check_tcp(void)
{
	const char *err = NULL;
	struct sockaddr_in sin;
	char buf[16] = "";
	int ls = tcp_listener(&sin);
	EXPECT(ls >= 0, "listen on 127.0.0.1");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(c >= 0 && connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0, "connect over lo0");

	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(ls, &rd);
	struct timeval tv = { 5, 0 };
	EXPECT(select(ls + 1, &rd, NULL, NULL, &tv) == 1 && FD_ISSET(ls, &rd), "select: the listener is not readable");
	int a = accept(ls, NULL, NULL);
	EXPECT(a >= 0, "accept");

	/* A non-blocking receive with nothing queued. */
	EXPECT(fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK) == 0, "F_SETFL O_NONBLOCK");
	errno = 0;
	EXPECT(recv(a, buf, sizeof(buf), 0) == -1 && errno == EAGAIN, "an empty non-blocking recv is not EAGAIN");

	EXPECT(send(c, "ping", 4, 0) == 4, "send ping");
	struct pollfd pfd = { .fd = a, .events = POLLIN };
	EXPECT(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN), "poll: the accepted socket is not readable");
	EXPECT(recv(a, buf, sizeof(buf), 0) == 4 && memcmp(buf, "ping", 4) == 0, "recv ping");

	int kq = kqueue();
	struct kevent ev, got;
	EV_SET(&ev, c, EVFILT_READ, EV_ADD, 0, 0, 0);
	EXPECT(kq >= 0 && kevent(kq, &ev, 1, NULL, 0, NULL) == 0, "kqueue/kevent EV_ADD");
	struct timespec zero = { 0, 0 }, five = { 5, 0 };
	EXPECT(kevent(kq, NULL, 0, &got, 1, &zero) == 0, "kevent reports data before any was sent");
	EXPECT(send(a, "pong!", 5, 0) == 5, "send pong");
	EXPECT(kevent(kq, NULL, 0, &got, 1, &five) == 1 && (int)got.ident == c && got.filter == EVFILT_READ && got.data == 5, "kevent: no EVFILT_READ with 5 bytes");
	EXPECT(recv(c, buf, sizeof(buf), 0) == 5 && memcmp(buf, "pong!", 5) == 0, "recv pong");

	close(c);
	pfd.events = POLLIN;
	EXPECT(poll(&pfd, 1, 5000) == 1 && recv(a, buf, sizeof(buf), 0) == 0, "EOF after the peer closed");
	close(kq);
	close(a);
	close(ls);
	report("tcp_lo0", err, "port %u: select, poll, kqueue", (unsigned)ntohs(sin.sin_port));
}

static void check_udp(void)
{
	const char *err = NULL;
	struct sockaddr_in a, b, from;
	socklen_t len = sizeof(a);
	char buf[64] = "";
	int sa = socket(AF_INET, SOCK_DGRAM, 0), sb = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_len = sizeof(a);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	b = a;
	EXPECT(sa >= 0 && sb >= 0, "socket");
	EXPECT(bind(sa, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(sa, (struct sockaddr *)&a, &len) == 0, "bind a");
	len = sizeof(b);
	EXPECT(bind(sb, (struct sockaddr *)&b, sizeof(b)) == 0 && getsockname(sb, (struct sockaddr *)&b, &len) == 0, "bind b");
	EXPECT(sendto(sa, "datagram", 8, 0, (struct sockaddr *)&b, sizeof(b)) == 8, "sendto");
	struct pollfd pfd = { .fd = sb, .events = POLLIN };
	EXPECT(poll(&pfd, 1, 5000) == 1, "poll: no datagram");
	len = sizeof(from);
	EXPECT(recvfrom(sb, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) == 8 && memcmp(buf, "datagram", 8) == 0, "recvfrom");
	EXPECT(from.sin_port == a.sin_port && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK), "the sender's address");
	close(sa);
	close(sb);
	report("udp_lo0", err, "%u -> %u", (unsigned)ntohs(a.sin_port), (unsigned)ntohs(b.sin_port));
}

/*
 * SIGPIPE: a send on a connection the peer has closed raises it in the kernel (through the
 * rumpuser_kill hypercall); the program's disposition applies: a handler runs, SIG_IGN ignores
 * it, and either way the send fails with EPIPE and the program goes on.
 */
static volatile int sigpipes;

static void on_sigpipe(int sig)
{
	if (sig == SIGPIPE)
		sigpipes++;
}

static int broken_pipe_send(int c)
{
	/* The first send after the peer's close may still be taken (and answered with a reset). */
	for (int i = 0; i < 10; i++) {
		if (send(c, "x", 1, 0) < 0)
			return errno;
		usleep(20000);
	}
	return 0;
}

static void check_sigpipe(void)
{
	const char *err = NULL;
	struct sockaddr_in sin;
	int ls = tcp_listener(&sin);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	EXPECT(ls >= 0 && c >= 0 && connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0, "connect over lo0");
	int a = accept(ls, NULL, NULL);
	EXPECT(a >= 0, "accept");
	close(a);
	EXPECT(signal(SIGPIPE, on_sigpipe) != SIG_ERR, "signal(SIGPIPE, handler)");
	int e1 = broken_pipe_send(c);
	EXPECT(e1 == EPIPE, "a send to the closed peer did not fail with EPIPE");
	EXPECT(sigpipes >= 1, "the SIGPIPE handler did not run");
	int caught = sigpipes;
	EXPECT(signal(SIGPIPE, SIG_IGN) == on_sigpipe, "signal(SIGPIPE, SIG_IGN)");
	int e2 = broken_pipe_send(c);
	EXPECT(e2 == EPIPE && sigpipes == caught, "with SIG_IGN: no EPIPE, or the handler ran");
	signal(SIGPIPE, SIG_DFL);
	close(c);
	close(ls);
	report("sigpipe", err, "handler ran %d time(s), then ignored; errno %d, %d", caught, e1, e2);
}

/* --- setjmp */

static jmp_buf jb;
static sigjmp_buf sjb;
static volatile int depth;

static void dive(int n);
/* Called through a pointer gcc cannot see through: each level is a real frame to unwind. */
static void (*volatile dive_next)(int) = dive;

static void dive(int n)
{
	depth = n;
	if (n >= 5)
		longjmp(jb, n * 10);
	dive_next(n + 1);
}

static void check_setjmp(void)
{
	const char *volatile err = NULL;
	volatile int rounds = 0;
	int v = setjmp(jb);
	if (v == 0) {
		dive(0);
		err = "longjmp did not jump";
	} else if (v == 50) {
		rounds++;
		if (rounds == 1)
			longjmp(jb, 0);
	}
	/* longjmp(jb, 0) makes setjmp return 1. */
	EXPECT(rounds == 1 && v == 1 && depth == 5, "setjmp's values after longjmp(…, 50) and longjmp(…, 0)");

	sigset_t set, now;
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (sigsetjmp(sjb, 1) == 0) {
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		siglongjmp(sjb, 7);
	}
	sigprocmask(SIG_SETMASK, NULL, &now);
	EXPECT(!sigismember(&now, SIGUSR1), "siglongjmp did not restore the signal mask");
	report("setjmp", err, "longjmp from depth %d", depth);
}

/* --- name resolution */

static void check_getaddrinfo(void)
{
	const char *err = NULL;
	int fd = open("/etc/hosts", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	static const char hosts[] = "127.0.0.1 localhost\n10.9.8.7 suitehost.example suitehost\n";
	EXPECT(fd >= 0 && write(fd, hosts, sizeof(hosts) - 1) == (ssize_t)sizeof(hosts) - 1 && close(fd) == 0, "writing /etc/hosts");

	struct addrinfo hints, *res = NULL;
	char addr[64] = "", host[128] = "", serv[32] = "";
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	int rv = getaddrinfo("suitehost", "80", &hints, &res);
	EXPECT(rv == 0 && res != NULL, gai_strerror(rv));
	if (rv == 0 && res != NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		EXPECT(strcmp(addr, "10.9.8.7") == 0 && ntohs(sin->sin_port) == 80, "suitehost is not 10.9.8.7:80");
		rv = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof(host), serv, sizeof(serv), NI_NUMERICSERV);
		EXPECT(rv == 0 && strcmp(host, "suitehost.example") == 0 && strcmp(serv, "80") == 0, "getnameinfo of 10.9.8.7:80");
		freeaddrinfo(res);
	}
	res = NULL;
	hints.ai_flags = AI_NUMERICHOST;
	rv = getaddrinfo("192.0.2.33", NULL, &hints, &res);
	EXPECT(rv == 0 && res != NULL && ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr == inet_addr("192.0.2.33"), "a numeric address");
	if (rv == 0 && res != NULL) {
		char num[64] = "";
		EXPECT(getnameinfo(res->ai_addr, res->ai_addrlen, num, sizeof(num), NULL, 0, NI_NUMERICHOST) == 0 && strcmp(num, "192.0.2.33") == 0, "getnameinfo NI_NUMERICHOST");
		freeaddrinfo(res);
	}
	res = NULL;
	EXPECT(getaddrinfo("localhost", NULL, &hints, &res) != 0, "AI_NUMERICHOST accepted a name");
	hints.ai_flags = 0;
	res = NULL;
	rv = getaddrinfo("localhost", NULL, &hints, &res);
	EXPECT(rv == 0 && res != NULL && ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK), "localhost is not 127.0.0.1");
	if (rv == 0 && res != NULL)
		freeaddrinfo(res);
	report("getaddrinfo", err, "suitehost=%s name=%s serv=%s", addr, host, serv);
}

/* --- libm */

static void check_libm(void)
{
	/* Inputs through volatile, so libm computes them, not gcc's constant folding. */
	volatile double one = 1.0, ten = 10.0, two = 2.0, half = 0.5, m1 = -1.0, a = 10.5, three = 3.0;
	const double tolerance = 1e-14; /* relative: about 45 ulp at most */
	const struct { const char *what; double got, want; } cases[] = {
		{ "sin(1)", sin(one), 0.8414709848078965 },
		{ "cos(1)", cos(one), 0.5403023058681398 },
		{ "exp(1)", exp(one), 2.718281828459045 },
		{ "log(10)", log(ten), 2.302585092994046 },
		{ "pow(2,0.5)", pow(two, half), 1.4142135623730951 },
		{ "sqrt(2)", sqrt(two), 1.4142135623730951 },
		{ "atan2(1,-1)", atan2(one, m1), 2.356194490192345 },
		{ "lgamma(10)", lgamma(ten), 12.801827480081469 },
		{ "fmod(10.5,3)", fmod(a, three), 1.5 },
		{ "pow(10,-2)", pow(ten, -two), 0.01 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double d = fabs(cases[i].got - cases[i].want) / fabs(cases[i].want);
		if (!(d <= tolerance)) {
			report("libm", "outside the tolerance", "%s = %.17g, want %.17g (relative error %.3g > %g)", cases[i].what, cases[i].got, cases[i].want, d, tolerance);
			return;
		}
	}
	if (!isnan(sqrt(m1)) || !isinf(log(0.0 * one)) || fmod(a, three) != 1.5) {
		report("libm", "special values", "sqrt(-1), log(0) or exact fmod");
		return;
	}
	report("libm", NULL, "%zu functions within %g relative", sizeof(cases) / sizeof(cases[0]), tolerance);
}

/* The rump kernel's etfs (rump/rump.h): a host path (here a Xen vbd) as a device node. */
int rump_pub_etfs_register(const char *key, const char *hostpath, int type);
#define SUITE_ETFS_BLK 1 /* RUMP_ETFS_BLK */

/*
 * `ffs DISK`: the file checks on FFS, read-write, on the domain's vbd DISK (an empty FFS from
 * `image-linker mkfs`): mounted on /ffs, checked, then unmounted (which writes it back).
 */
static int run_ffs(const char *disk)
{
	int rv = rump_pub_etfs_register(disk, disk, SUITE_ETFS_BLK);
	struct ufs_args args = { .fspec = (char *)(uintptr_t)disk };
	if (rv != 0)
		report("mount_ffs", "etfs registration of the vbd failed", "%s: error %d", disk, rv);
	else if (mkdir("/ffs", 0755) != 0 || mount(MOUNT_FFS, "/ffs", 0, &args, sizeof(args)) != 0)
		report("mount_ffs", "mkdir or mount(MOUNT_FFS, /ffs) failed", "errno %d (%s)", errno, strerror(errno));
	else
		report("mount_ffs", NULL, "%s on /ffs, read-write", disk);
	if (failed == 0) {
		check_stdio_file("/ffs");
		check_open_flags("ffs", "/ffs");
		check_dirs_stat("ffs", "/ffs", 0);
		if (unmount("/ffs", 0) != 0)
			report("unmount_ffs", "unmount(/ffs) failed", "errno %d (%s)", errno, strerror(errno));
		else
			report("unmount_ffs", NULL, "/ffs");
	}
	printf("suite: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}

static int run_suite(void)
{
	check_printf_float();
	check_wide();
	check_snprintf();
	check_sscanf();
	int tmpfs = mount_tmpfs();
	if (tmpfs != 0)
		report("mount_tmpfs", "mount(MOUNT_TMPFS, /tmp) failed", "errno %d (%s)", errno, strerror(errno));
	else
		report("mount_tmpfs", NULL, "/tmp");
	check_stdio_file("/tmp");
	check_open_flags("tmpfs", "/tmp");
	check_dirs_stat("tmpfs", "/tmp", 0);
	if (mkdir("/rootfs", 0755) != 0)
		report("mkdir_rootfs", "mkdir /rootfs on the root file system failed", "errno %d", errno);
	check_open_flags("rootfs", "/rootfs");
	check_dirs_stat("rootfs", "/rootfs", 1);
	check_errno();
	check_tcp();
	check_udp();
	check_sigpipe();
	check_setjmp();
	if (mkdir("/etc", 0755) != 0 && errno != EEXIST)
		report("mkdir_etc", "mkdir /etc failed", "errno %d", errno);
	check_getaddrinfo();
	check_libm();
	check_fork();
	printf("suite: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exit") == 0) {
		printf("exiting with %d", atoi(argv[2]));
		exit(atoi(argv[2]));
	}
	if (argc == 3 && strcmp(argv[1], "return") == 0) {
		printf("returning %d from main\n", atoi(argv[2]));
		return atoi(argv[2]);
	}
	if (argc == 3 && strcmp(argv[1], "ffs") == 0)
		return run_ffs(argv[2]);
	if (argc > 1) {
		fprintf(stderr, "usage: %s [exit N | return N | ffs DISK]\n", getprogname());
		return 2;
	}
	return run_suite();
}
