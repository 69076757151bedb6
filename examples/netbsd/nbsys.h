/*
 * The part of NetBSD's system call ABI (x86-64) that these examples use, for programs that
 * call a rump kernel directly with no C library: types and constants as NetBSD defines
 * them, and the rump kernel's entry points by their link names (rump___sysimpl_*, which
 * NetBSD's <rump/rump_syscalls.h> reaches through __RENAME). Written here from the ABI.
 */
#ifndef RUMPXEN_EXAMPLE_NBSYS_H
#define RUMPXEN_EXAMPLE_NBSYS_H

#include <stddef.h>
#include <stdint.h>

typedef long nb_ssize_t;
typedef int64_t nb_off_t;
typedef uint32_t nb_mode_t;
typedef uint32_t nb_socklen_t;

struct nb_timespec {
	int64_t tv_sec;
	long tv_nsec;
};

struct nb_sockaddr_in {
	uint8_t sin_len;
	uint8_t sin_family;
	uint16_t sin_port;     /* network byte order */
	uint32_t sin_addr;     /* network byte order */
	uint8_t sin_zero[8];
};

struct nb_pollfd {
	int fd;
	short events;
	short revents;
};

/* fs/tmpfs/tmpfs_args.h */
struct nb_tmpfs_args {
	int ta_version;
	uint64_t ta_nodes_max;
	int64_t ta_size_max;
	uint32_t ta_root_uid;
	uint32_t ta_root_gid;
	uint32_t ta_root_mode;
};

/* struct dirent as getdents(2) returns it */
struct nb_dirent {
	uint64_t d_fileno;
	uint16_t d_reclen;
	uint16_t d_namlen;
	uint8_t d_type;
	char d_name[512];
};

enum {
	NB_O_RDONLY = 0x0, NB_O_WRONLY = 0x1, NB_O_RDWR = 0x2, NB_O_APPEND = 0x8,
	NB_O_CREAT = 0x200, NB_O_TRUNC = 0x400, NB_O_EXCL = 0x800, NB_O_DIRECTORY = 0x200000,
	NB_SEEK_SET = 0, NB_SEEK_END = 2,
	NB_AF_INET = 2, NB_SOCK_STREAM = 1, NB_SOCK_DGRAM = 2, NB_SOCK_RAW = 3,
	NB_IPPROTO_ICMP = 1, NB_ICMP_ECHO = 8, NB_ICMP_ECHOREPLY = 0,
	NB_SHUT_WR = 1,
	NB_POLLIN = 0x1,
	NB_CTL_KERN = 1, NB_KERN_OSTYPE = 1, NB_KERN_OSRELEASE = 2, NB_KERN_VERSION = 4,
	NB_KERN_HOSTNAME = 10,
	NB_CLOCK_REALTIME = 0, NB_CLOCK_MONOTONIC = 3,
	NB_TMPFS_ARGS_VERSION = 1,
	NB_EEXIST = 17, NB_ENOENT = 2, NB_ENOTDIR = 20, NB_ECONNREFUSED = 61, NB_EBADF = 9,
};

#define NB_INADDR_LOOPBACK 0x7f000001u

static inline uint16_t nb_htons(uint16_t v)
{
	return (uint16_t)((v << 8) | (v >> 8));
}

static inline uint32_t nb_htonl(uint32_t v)
{
	return __builtin_bswap32(v);
}

#define NB_SYSCALL(name) __asm__("rump___sysimpl_" name)

/* The rump kernel's own entry points (NetBSD <rump/rump.h>). */
int rump_init(void);
int rump_pub_lwproc_rfork(int flags);
void rump_pub_lwproc_releaselwp(void);
#define NB_RUMP_RFCFDG 0x02

/* System calls: -1 and errno on failure, as in NetBSD's libc. */
int nb_sysctl(const int *name, unsigned namelen, void *old, size_t *oldlenp, const void *new_, size_t newlen) NB_SYSCALL("__sysctl");
int nb_getpid(void) NB_SYSCALL("getpid");
int nb_open(const char *path, int flags, nb_mode_t mode) NB_SYSCALL("open");
int nb_close(int fd) NB_SYSCALL("close");
nb_ssize_t nb_read(int fd, void *buf, size_t len) NB_SYSCALL("read");
nb_ssize_t nb_write(int fd, const void *buf, size_t len) NB_SYSCALL("write");
nb_off_t nb_lseek(int fd, nb_off_t off, int whence) NB_SYSCALL("lseek");
int nb_fsync(int fd) NB_SYSCALL("fsync");
int nb_mkdir(const char *path, nb_mode_t mode) NB_SYSCALL("mkdir");
int nb_rmdir(const char *path) NB_SYSCALL("rmdir");
int nb_unlink(const char *path) NB_SYSCALL("unlink");
int nb_rename(const char *from, const char *to) NB_SYSCALL("rename");
int nb_getdents(int fd, char *buf, size_t len) NB_SYSCALL("getdents30");
int nb_mount(const char *type, const char *path, int flags, void *data, size_t len) NB_SYSCALL("mount50");
int nb_unmount(const char *path, int flags) NB_SYSCALL("unmount");
int nb_socket(int domain, int type, int protocol) NB_SYSCALL("socket30");
int nb_bind(int fd, const void *addr, nb_socklen_t len) NB_SYSCALL("bind");
int nb_listen(int fd, int backlog) NB_SYSCALL("listen");
int nb_accept(int fd, void *addr, nb_socklen_t *len) NB_SYSCALL("accept");
int nb_connect(int fd, const void *addr, nb_socklen_t len) NB_SYSCALL("connect");
int nb_getsockname(int fd, void *addr, nb_socklen_t *len) NB_SYSCALL("getsockname");
int nb_shutdown(int fd, int how) NB_SYSCALL("shutdown");
nb_ssize_t nb_sendto(int fd, const void *buf, size_t len, int flags, const void *to, nb_socklen_t tolen) NB_SYSCALL("sendto");
nb_ssize_t nb_recvfrom(int fd, void *buf, size_t len, int flags, void *from, nb_socklen_t *fromlen) NB_SYSCALL("recvfrom");
int nb_poll(struct nb_pollfd *fds, unsigned nfds, int timeout_ms) NB_SYSCALL("poll");
int nb_nanosleep(const struct nb_timespec *req, struct nb_timespec *rem) NB_SYSCALL("nanosleep50");
int nb_clock_gettime(int clock, struct nb_timespec *ts) NB_SYSCALL("clock_gettime50");

/*
 * errno of the last failed call: a rump kernel reports it through rumpuser_seterrno, which
 * sets the C library's errno on posix (glibc's __errno_location) and calls
 * rumpxen_set_errno on Xen, defined by nbsys.c.
 */
int nb_errno(void);

/* Monotonic nanoseconds from the rump kernel's clock. */
int64_t nb_now_ns(void);
/*
 * The platform's monotonic clock in ns (rumpuser_clock_gettime: Xen's system time since boot
 * on Xen, CLOCK_MONOTONIC on posix); -1 when it cannot be read. Timed loops use it rather than
 * nb_now_ns: the rump kernel's own clock counts hardclock ticks (10 ms at hz=100), and on Xen
 * its clock thread does not run while a loop keeps the only CPU busy (threads yield only when
 * they block), so it would read the same value before and after the loop. Before rump_init
 * returns it is also the only clock there is.
 */
int64_t nb_platform_ns(void);

/*
 * Application threads until a C library provides pthreads: a host thread from the
 * platform (rumpuser_thread_create; it enters the rump kernel through its system calls),
 * and a wait that sleeps in the kernel (nanosleep), not in rumpuser_thread_join, which
 * only the kernel may call (it hands back a rump CPU the application does not hold).
 */
struct nb_thread {
	void *(*fn)(void *);
	void *arg;
	volatile int done;
};
/*
 * Case lines for test programs: "case NAME: PASS" or "case NAME: FAIL why (errno N)";
 * nb_failures counts the failed ones. NB_CASE fails the case and returns 0 from the
 * calling function when cond is false.
 */
extern int nb_failures;
void nb_report(const char *name, int ok, const char *why, int err);
#define NB_CASE(name, cond, why) do { \
	if (!(cond)) { nb_report(name, 0, why, nb_errno()); return 0; } \
} while (0)

/* 1 when the two strings are equal. */
int nb_streq(const char *a, const char *b);
/* The decimal number at the start of s (0 when there is none). */
uint64_t nb_parse_u64(const char *s);
/* A dotted quad in network byte order; 0 when malformed. */
uint32_t nb_parse_ipv4(const char *s);
/* The Internet checksum (RFC 1071) of len bytes, ready to store big-endian. */
uint16_t nb_inet_cksum(const uint8_t *p, size_t len);
/*
 * ICMP echo to peer (network byte order) over a raw socket: a request a second, up to tries,
 * until want replies have come, each from peer with this ident and its request's sequence
 * number and payload (every request has bytes of its own). Returns the replies counted
 * (0..want), -1 when no raw socket could be made. A request that cannot be sent is not an
 * error: only replies count (a device may drop frames). With log, each reply is printed as
 * "LOG: echo reply from the peer, seq N, T us".
 */
int nb_ping(uint32_t peer, uint16_t ident, int tries, int want, const char *log);

int nb_thread_start(struct nb_thread *t, void *(*fn)(void *), void *arg, const char *name);
void nb_thread_wait(struct nb_thread *t);

#endif
