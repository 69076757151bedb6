/*
 * NetBSD's disk stack over a Xen vbd (blkfront under rumpuser_open/bio), or over a host file
 * on posix: the vbd becomes a device node through etfs (rump_pub_etfs_register, whose host
 * path is what rumpuser_open gets: "/dev/xvda" on Xen, the image's path on posix), then
 *
 *   blk raw HOSTPATH SIZE     raw access through the character device /dev/rxvda: the last
 *                             512-byte sector of a SIZE-byte disk and the first get a marker
 *                             (the sector's number in its last 8 bytes), written and read back
 *   blk ffs-write HOSTPATH    mounts the FFS on it read-write at /mnt, writes a file, a
 *                             directory tree of 20 files and a 2 MiB file, unmounts
 *   blk ffs-verify HOSTPATH   mounts it read-only and checks every byte ffs-write wrote
 *   blk ffs-readonly HOSTPATH on a read-only disk: the device refuses O_RDWR, a read-write
 *                             mount fails, a read-only mount works and refuses writes (EROFS)
 *
 * One `case NAME: PASS|FAIL why` line per step, then `Test result: SUCCESS|FAILURE`.
 */
#include <rumpuser.h>

#include "nbblk.h"

#define NFILES 20
#define BIG (2 * 1024 * 1024)

static char buf[64 * 1024];


static int text_len(const char *s)
{
	int n = 0;
	while (s[n])
		n++;
	return n;
}

static int same(const void *a, const void *b, long n)
{
	const unsigned char *x = a, *y = b;
	for (long i = 0; i < n; i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

/* Byte i of file k. */
static unsigned char pattern(int k, long i)
{
	return (unsigned char)(i * 7 + k * 13 + (i >> 9));
}

static void fill(int k, long off, char *p, long n)
{
	for (long i = 0; i < n; i++)
		p[i] = (char)pattern(k, off + i);
}

static void file_name(char *out, int k)
{
	const char *pre = "/mnt/tree/sub/f";
	int n = 0;
	while (pre[n]) {
		out[n] = pre[n];
		n++;
	}
	out[n++] = (char)('0' + k / 10);
	out[n++] = (char)('0' + k % 10);
	out[n] = '\0';
}

static const char HELLO[] = "written by NetBSD's FFS in a Xen DomU through blkfront\n";

/* Writes n bytes of pattern k to a new file. */
static int write_file(const char *path, int k, long n)
{
	int fd = nb_open(path, NB_O_WRONLY | NB_O_CREAT | NB_O_TRUNC, 0644);
	if (fd < 0)
		return 0;
	for (long off = 0; off < n; off += (long)sizeof(buf)) {
		long chunk = n - off < (long)sizeof(buf) ? n - off : (long)sizeof(buf);
		fill(k, off, buf, chunk);
		if (nb_write(fd, buf, (size_t)chunk) != chunk)
			return 0;
	}
	return nb_fsync(fd) == 0 && nb_close(fd) == 0;
}

/* Reads a file back: exactly n bytes of pattern k. */
static int check_file(const char *path, int k, long n)
{
	int fd = nb_open(path, NB_O_RDONLY, 0);
	if (fd < 0)
		return 0;
	long off = 0;
	for (;;) {
		nb_ssize_t got = nb_read(fd, buf, sizeof(buf));
		if (got < 0)
			return 0;
		if (got == 0)
			break;
		for (long i = 0; i < got; i++)
			if ((unsigned char)buf[i] != pattern(k, off + i))
				return 0;
		off += got;
	}
	nb_close(fd);
	return off == n;
}

static long file_size(int k)
{
	return 1000 + k * 317L;
}

static int do_mount(const char *dev, int flags)
{
	struct nb_ufs_args args = { .fspec = (char *)dev };
	return nb_mount("ffs", "/mnt", flags, &args, sizeof(args));
}

static int attach(const char *key, const char *hostpath, enum nb_etfs_type type)
{
	int rv = rump_pub_etfs_register(key, hostpath, type);
	if (rv != 0) {
		rumpuser_dprintf("blk: etfs %s -> %s: error %d\n", key, hostpath, rv);
		nb_report("etfs_register", 0, "rump_pub_etfs_register failed", rv);
		return 0;
	}
	nb_report("etfs_register", 1, "", 0);
	return 1;
}

static int ffs_write(const char *hostpath)
{
	char name[32];
	if (!attach("/dev/xvda", hostpath, NB_ETFS_BLK))
		return 0;
	NB_CASE("mount_rw", (nb_mkdir("/mnt", 0755) == 0 || nb_errno() == NB_EEXIST) &&
		do_mount("/dev/xvda", 0) == 0, "mount of the FFS on /dev/xvda read-write failed");
	nb_report("mount_rw", 1, "", 0);
	int fd = nb_open("/mnt/hello.txt", NB_O_WRONLY | NB_O_CREAT | NB_O_TRUNC, 0644);
	NB_CASE("write_files", fd >= 0 && nb_write(fd, HELLO, sizeof(HELLO) - 1) == (nb_ssize_t)sizeof(HELLO) - 1 &&
		nb_close(fd) == 0, "hello.txt");
	NB_CASE("write_files", nb_mkdir("/mnt/tree", 0755) == 0 && nb_mkdir("/mnt/tree/sub", 0755) == 0,
		"mkdir /mnt/tree/sub");
	for (int k = 0; k < NFILES; k++) {
		file_name(name, k);
		NB_CASE("write_files", write_file(name, k, file_size(k)), "a file in /mnt/tree/sub");
	}
	NB_CASE("write_files", write_file("/mnt/tree/big.bin", 99, BIG), "/mnt/tree/big.bin");
	nb_report("write_files", 1, "", 0);
	NB_CASE("unmount", nb_unmount("/mnt", 0) == 0, "unmount of /mnt");
	nb_report("unmount", 1, "", 0);
	return 1;
}

static int ffs_verify(const char *hostpath)
{
	char name[32];
	if (!attach("/dev/xvda", hostpath, NB_ETFS_BLK))
		return 0;
	NB_CASE("mount_ro", (nb_mkdir("/mnt", 0755) == 0 || nb_errno() == NB_EEXIST) &&
		do_mount("/dev/xvda", NB_MNT_RDONLY) == 0, "read-only mount of the FFS failed");
	nb_report("mount_ro", 1, "", 0);
	int fd = nb_open("/mnt/hello.txt", NB_O_RDONLY, 0);
	nb_ssize_t n = fd >= 0 ? nb_read(fd, buf, sizeof(buf)) : -1;
	NB_CASE("read_files", n == (nb_ssize_t)sizeof(HELLO) - 1 && same(buf, HELLO, n), "hello.txt differs");
	nb_close(fd);
	for (int k = 0; k < NFILES; k++) {
		file_name(name, k);
		NB_CASE("read_files", check_file(name, k, file_size(k)), "a file in /mnt/tree/sub differs");
	}
	NB_CASE("read_files", check_file("/mnt/tree/big.bin", 99, BIG), "/mnt/tree/big.bin differs");
	nb_report("read_files", 1, "", 0);
	/* The directory lists the 20 files (and . and ..). */
	fd = nb_open("/mnt/tree/sub", NB_O_RDONLY | NB_O_DIRECTORY, 0);
	int entries = 0;
	for (;;) {
		int got = fd >= 0 ? nb_getdents(fd, buf, sizeof(buf)) : -1;
		if (got <= 0)
			break;
		for (int at = 0; at < got;) {
			struct nb_dirent *d = (struct nb_dirent *)(buf + at);
			entries++;
			at += d->d_reclen;
		}
	}
	nb_close(fd);
	NB_CASE("list_dir", entries == NFILES + 2, "/mnt/tree/sub does not list 22 entries");
	nb_report("list_dir", 1, "", 0);
	rumpuser_dprintf("blk: /mnt/tree/sub lists %d entries, /mnt/tree/big.bin has %d bytes\n",
		entries, BIG);
	NB_CASE("unmount", nb_unmount("/mnt", 0) == 0, "unmount of /mnt");
	nb_report("unmount", 1, "", 0);
	return 1;
}

static int ffs_readonly(const char *hostpath)
{
	if (!attach("/dev/xvda", hostpath, NB_ETFS_BLK))
		return 0;
	int fd = nb_open("/dev/xvda", NB_O_RDWR, 0);
	int err = nb_errno();
	rumpuser_dprintf("blk: open(/dev/xvda, O_RDWR) on the read-only disk: %d, errno %d\n", fd, err);
	NB_CASE("device_refuses_rdwr", fd < 0 && err == NB_EACCES, "the read-only device opened O_RDWR");
	nb_report("device_refuses_rdwr", 1, "", 0);
	nb_mkdir("/mnt", 0755);
	int rv = do_mount("/dev/xvda", 0);
	err = nb_errno();
	rumpuser_dprintf("blk: read-write mount of the read-only disk: %d, errno %d\n", rv, err);
	NB_CASE("mount_rw_refused", rv != 0, "a read-only disk mounted read-write");
	nb_report("mount_rw_refused", 1, "", 0);
	NB_CASE("mount_ro", do_mount("/dev/xvda", NB_MNT_RDONLY) == 0, "read-only mount failed");
	nb_report("mount_ro", 1, "", 0);
	fd = nb_open("/mnt/hello.txt", NB_O_RDONLY, 0);
	nb_ssize_t n = fd >= 0 ? nb_read(fd, buf, sizeof(buf)) : -1;
	nb_close(fd);
	NB_CASE("read_file", n == (nb_ssize_t)sizeof(HELLO) - 1 && same(buf, HELLO, n), "hello.txt");
	nb_report("read_file", 1, "", 0);
	fd = nb_open("/mnt/hello.txt", NB_O_WRONLY, 0);
	err = nb_errno();
	NB_CASE("write_erofs", fd < 0 && err == NB_EROFS, "opening a file for writing did not fail with EROFS");
	NB_CASE("write_erofs", nb_mkdir("/mnt/new", 0755) != 0 && nb_errno() == NB_EROFS,
		"mkdir did not fail with EROFS");
	NB_CASE("write_erofs", nb_open("/mnt/new.txt", NB_O_WRONLY | NB_O_CREAT, 0644) < 0 &&
		nb_errno() == NB_EROFS, "creating a file did not fail with EROFS");
	nb_report("write_erofs", 1, "", 0);
	NB_CASE("unmount", nb_unmount("/mnt", 0) == 0, "unmount of /mnt");
	nb_report("unmount", 1, "", 0);
	return 1;
}

/* One marked sector through the raw device: written, then read back. */
static int raw_sector(int fd, const char *name, uint64_t sector, const char *what)
{
	char *s = buf, *r = buf + 512;
	int n = text_len(what);
	for (int i = 0; i < 512; i++)
		s[i] = i < n ? what[i] : 0;
	for (int i = 0; i < 8; i++)
		s[504 + i] = (char)(sector >> (8 * i));
	nb_off_t at = (nb_off_t)(sector * 512);
	NB_CASE(name, nb_lseek(fd, at, NB_SEEK_SET) == at && nb_write(fd, s, 512) == 512,
		"write of the sector failed");
	NB_CASE(name, nb_fsync(fd) == 0, "fsync failed");
	NB_CASE(name, nb_lseek(fd, at, NB_SEEK_SET) == at && nb_read(fd, r, 512) == 512,
		"read of the sector failed");
	NB_CASE(name, same(s, r, 512), "the sector reads back differently");
	nb_report(name, 1, "", 0);
	return 1;
}

static int raw(const char *hostpath, uint64_t size)
{
	if (!attach("/dev/rxvda", hostpath, NB_ETFS_CHR))
		return 0;
	int fd = nb_open("/dev/rxvda", NB_O_RDWR, 0);
	NB_CASE("raw_open", fd >= 0, "open of /dev/rxvda failed");
	nb_report("raw_open", 1, "", 0);
	rumpuser_dprintf("blk: /dev/rxvda: %lu bytes, last sector %lu\n", (unsigned long)size,
		(unsigned long)(size / 512 - 1));
	raw_sector(fd, "raw_last_sector", size / 512 - 1, "rumpxen netbsd-blk: the last sector, written by NetBSD");
	raw_sector(fd, "raw_first_sector", 0, "rumpxen netbsd-blk: the first sector, written by NetBSD");
	nb_close(fd);
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *hostpath = argc > 2 ? argv[2] : "/dev/xvda";
	int rv = rump_init();
	if (rv != 0) {
		rumpuser_dprintf("blk: rump_init failed: %d\nTest result: FAILURE\n", rv);
		return 1;
	}
	if (nb_streq(mode, "raw") && argc > 3)
		raw(hostpath, nb_parse_u64(argv[3]));
	else if (nb_streq(mode, "ffs-write"))
		ffs_write(hostpath);
	else if (nb_streq(mode, "ffs-verify"))
		ffs_verify(hostpath);
	else if (nb_streq(mode, "ffs-readonly"))
		ffs_readonly(hostpath);
	else {
		rumpuser_dprintf("blk: unknown mode \"%s\" (raw HOSTPATH SIZE, ffs-write, ffs-verify, "
		    "ffs-readonly HOSTPATH)\n", mode);
		nb_failures++;
	}
	rumpuser_dprintf("Test result: %s\n", nb_failures ? "FAILURE" : "SUCCESS");
	return nb_failures ? 1 : 0;
}
