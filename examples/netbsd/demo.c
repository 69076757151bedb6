/*
 * The seed's first result: a NetBSD rump kernel booted in a Xen domain. It prints the
 * kernel's banner (RUMP_VERBOSE=1 in the manifest), asks the kernel what it is, writes a
 * file on tmpfs and reads it back, and makes a TCP connection over lo0.
 */
#include <rumpuser.h>

#include "nbsys.h"

static int failures;

static void check(const char *name, int ok, const char *detail)
{
	rumpuser_dprintf("case %s: %s%s%s\n", name, ok ? "PASS" : "FAIL", ok ? "" : " ", ok ? "" : detail);
	if (!ok)
		failures++;
}

static int same(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static void show_sysctl(const char *label, int which)
{
	int mib[2] = { NB_CTL_KERN, which };
	char buf[128];
	size_t len = sizeof(buf) - 1;

	if (nb_sysctl(mib, 2, buf, &len, NULL, 0) != 0) {
		rumpuser_dprintf("netbsd: %s: sysctl failed, errno %d\n", label, nb_errno());
		failures++;
		return;
	}
	buf[len] = '\0';
	rumpuser_dprintf("netbsd: %s = %s\n", label, buf);
}

static void file_roundtrip(void)
{
	static const char text[] = "written by NetBSD's tmpfs inside a Xen domain";
	struct nb_tmpfs_args args = { .ta_version = NB_TMPFS_ARGS_VERSION, .ta_root_mode = 01777 };
	char back[sizeof(text)];
	int fd;

	if ((nb_mkdir("/tmp", 0777) != 0 && nb_errno() != NB_EEXIST) || nb_mount("tmpfs", "/tmp", 0, &args, sizeof(args)) != 0) {
		rumpuser_dprintf("netbsd: mkdir or mount of tmpfs on /tmp: errno %d\n", nb_errno());
		check("file", 0, "cannot mount tmpfs on /tmp");
		return;
	}
	fd = nb_open("/tmp/hello.txt", NB_O_RDWR | NB_O_CREAT | NB_O_TRUNC, 0644);
	if (fd < 0 || nb_write(fd, text, sizeof(text)) != (nb_ssize_t)sizeof(text) ||
	    nb_lseek(fd, 0, NB_SEEK_SET) != 0 || nb_read(fd, back, sizeof(back)) != (nb_ssize_t)sizeof(back)) {
		check("file", 0, "write or read back failed");
		return;
	}
	nb_close(fd);
	rumpuser_dprintf("netbsd: /tmp/hello.txt reads back \"%s\"\n", back);
	check("file", same(text, back, sizeof(text)), "read back differs");
}

static void tcp_over_lo0(void)
{
	struct nb_sockaddr_in sin = { .sin_len = sizeof(sin), .sin_family = NB_AF_INET, .sin_addr = nb_htonl(NB_INADDR_LOOPBACK) };
	nb_socklen_t slen = sizeof(sin);
	static const char msg[] = "ping over lo0";
	char got[sizeof(msg)];
	int ls, cs, as;

	ls = nb_socket(NB_AF_INET, NB_SOCK_STREAM, 0);
	if (ls < 0 || nb_bind(ls, &sin, sizeof(sin)) != 0 || nb_listen(ls, 1) != 0 || nb_getsockname(ls, &sin, &slen) != 0) {
		check("tcp", 0, "cannot listen on 127.0.0.1");
		return;
	}
	cs = nb_socket(NB_AF_INET, NB_SOCK_STREAM, 0);
	if (cs < 0 || nb_connect(cs, &sin, sizeof(sin)) != 0 || (as = nb_accept(ls, NULL, NULL)) < 0) {
		check("tcp", 0, "cannot connect over lo0");
		return;
	}
	if (nb_write(cs, msg, sizeof(msg)) != (nb_ssize_t)sizeof(msg) || nb_read(as, got, sizeof(got)) != (nb_ssize_t)sizeof(got)) {
		check("tcp", 0, "send or receive failed");
		return;
	}
	rumpuser_dprintf("netbsd: TCP 127.0.0.1:%u carried \"%s\"\n", nb_htons(sin.sin_port), got);
	check("tcp", same(msg, got, sizeof(msg)), "received bytes differ");
	nb_close(as);
	nb_close(cs);
	nb_close(ls);
}

int main(void)
{
	int rv = rump_init();

	if (rv != 0) {
		rumpuser_dprintf("netbsd: rump_init failed: %d\nTest result: FAILURE\n", rv);
		return 1;
	}
	show_sysctl("kern.ostype", NB_KERN_OSTYPE);
	show_sysctl("kern.osrelease", NB_KERN_OSRELEASE);
	file_roundtrip();
	tcp_over_lo0();
	rumpuser_dprintf("Test result: %s\n", failures ? "FAILURE" : "SUCCESS");
	return failures ? 1 : 0;
}
