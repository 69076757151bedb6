/*
 * Files and block I/O on the file named by the RUMPXEN_CONFORMANCE_FILE parameter: an
 * existing file (or disk) of exactly CONF_FILE_SIZE bytes the suite may overwrite. Cases
 * skip when the parameter is absent or the target cannot open host files (ENXIO).
 */
#include "conf.h"

#define CONF_FILE_PARAM "RUMPXEN_CONFORMANCE_FILE"
#define CONF_FILE_SIZE (64 * 1024)
#define BLOCK 4096

static char path[256];

/* Fills path, or skips the case and returns 0. */
static int file_path(void)
{
	int rv = rumpuser_getparam(CONF_FILE_PARAM, path, sizeof(path));

	if (rv != 0) {
		conf_skip("parameter " CONF_FILE_PARAM " is not set (error %d): no file to test on",
		    rv);
		return 0;
	}
	return 1;
}

/* Opens path, or skips (ENXIO: no host files on this target) / fails, returning -1. */
static int open_file(int flags)
{
	int fd = -1, rv;

	if (!file_path())
		return -1;
	rv = rumpuser_open(path, flags, &fd);
	if (rv == RUMPXEN_NETBSD_ENXIO) {
		conf_skip("rumpuser_open(\"%s\") returned ENXIO: this target has no host files", path);
		return -1;
	}
	if (rv != 0) {
		conf_fail("rumpuser_open(\"%s\", 0x%x) returned %d", path, (unsigned)flags, rv);
		return -1;
	}
	return fd;
}

static void file_getfileinfo(void)
{
	uint64_t size = 0;
	int type = -1, rv;

	if (!file_path())
		return;
	rv = rumpuser_getfileinfo(path, &size, &type);
	if (rv == RUMPXEN_NETBSD_ENXIO) {
		conf_skip("rumpuser_getfileinfo returned ENXIO: this target has no host files");
		return;
	}
	CHECK_RV("rumpuser_getfileinfo", rv, 0);
	CHECK(type == RUMPUSER_FT_REG || type == RUMPUSER_FT_BLK,
	    "\"%s\" has type %d, expected RUMPUSER_FT_REG or _BLK", path, type);
	CHECK(size == CONF_FILE_SIZE, "\"%s\" has size %llu, expected %d", path,
	    (unsigned long long)size, CONF_FILE_SIZE);
	rv = rumpuser_getfileinfo(path, NULL, NULL);
	CHECK_RV("rumpuser_getfileinfo with NULL outputs", rv, 0);
}

static void file_open_errors(void)
{
	char absent[300];
	int fd = -1, rv;

	if (!file_path())
		return;
	conf_snprintf(absent, sizeof(absent), "%s.absent", path);
	rv = rumpuser_open(absent, RUMPUSER_OPEN_RDONLY, &fd);
	if (rv == RUMPXEN_NETBSD_ENXIO) {
		conf_skip("rumpuser_open returned ENXIO: this target has no host files");
		return;
	}
	CHECK_RV("rumpuser_open of a missing file", rv, RUMPXEN_NETBSD_ENOENT);
	rv = rumpuser_open(path, RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_CREATE | RUMPUSER_OPEN_EXCL, &fd);
	CHECK_RV("rumpuser_open(CREATE | EXCL) of an existing file", rv, RUMPXEN_NETBSD_EEXIST);
	rv = rumpuser_getfileinfo(absent, NULL, NULL);
	CHECK_RV("rumpuser_getfileinfo of a missing file", rv, RUMPXEN_NETBSD_ENOENT);
}

struct bio_wait {
	struct rumpuser_mtx *mtx;
	struct rumpuser_cv *cv;
	int done;
	size_t bytes;
	int error;
	struct lwp *lwp;      /* curlwp in the callback */
	int had_cpu;          /* the callback ran holding a rump CPU */
};

static void biodone(void *arg, size_t bytes, int error)
{
	struct bio_wait *w = arg;
	struct lwp *l = rumpuser_curlwp();

	rumpuser_mutex_enter(w->mtx);
	w->bytes = bytes;
	w->error = error;
	w->lwp = l;
	w->had_cpu = l != NULL && l->magic == FK_LWP_MAGIC && l->on_cpu;
	w->done = 1;
	rumpuser_cv_broadcast(w->cv);
	rumpuser_mutex_exit(w->mtx);
}

/* Wait for completion; returns 0 on timeout. */
static int bio_wait_done(struct bio_wait *w)
{
	int64_t deadline = conf_now_ns() + CONF_SLACK_NS;

	rumpuser_mutex_enter(w->mtx);
	while (!w->done && conf_now_ns() < deadline)
		rumpuser_cv_timedwait(w->cv, w->mtx, 0, 100 * MS);
	rumpuser_mutex_exit(w->mtx);
	return w->done;
}

static void bio_init(struct bio_wait *w)
{
	rumpuser_mutex_init(&w->mtx, RUMPUSER_MTX_KMUTEX);
	rumpuser_cv_init(&w->cv);
	w->done = 0;
	w->bytes = 0;
	w->error = -1;
	w->lwp = NULL;
	w->had_cpu = 0;
}

static void bio_fini(struct bio_wait *w)
{
	rumpuser_cv_destroy(w->cv);
	rumpuser_mutex_destroy(w->mtx);
}

static void bio_write_read(void)
{
	static unsigned char out[2][BLOCK], in[2][BLOCK];
	struct bio_wait w[2];
	struct lwp *me = rumpuser_curlwp();
	int fd, i, k, rv;

	fd = open_file(RUMPUSER_OPEN_RDWR | RUMPUSER_OPEN_BIO);
	if (fd < 0)
		return;
	for (k = 0; k < 2; k++)
		for (i = 0; i < BLOCK; i++)
			out[k][i] = (unsigned char)(i * 13 + k * 101 + 1);

	/* Two writes in flight at once, at different offsets, the second synchronous. */
	for (k = 0; k < 2; k++)
		bio_init(&w[k]);
	rumpuser_bio(fd, RUMPUSER_BIO_WRITE, out[0], BLOCK, 2 * BLOCK, biodone, &w[0]);
	rumpuser_bio(fd, RUMPUSER_BIO_WRITE | RUMPUSER_BIO_SYNC, out[1], BLOCK, 5 * BLOCK,
	    biodone, &w[1]);
	for (k = 0; k < 2; k++) {
		CHECK(bio_wait_done(&w[k]), "write %d never completed", k);
		CHECK(w[k].error == 0, "write %d completed with error %d", k, w[k].error);
		CHECK(w[k].bytes == BLOCK, "write %d moved %zu bytes, expected %d", k, w[k].bytes,
		    BLOCK);
		CHECK(w[k].lwp != me, "biodone ran on the issuing thread's lwp, not asynchronously");
		CHECK(w[k].had_cpu, "biodone was called without a rump CPU (curlwp %p)", w[k].lwp);
		bio_fini(&w[k]);
	}

	for (k = 0; k < 2; k++) {
		bio_init(&w[k]);
		conf_memset(in[k], 0, BLOCK);
		rumpuser_bio(fd, RUMPUSER_BIO_READ, in[k], BLOCK, (k == 0 ? 2 : 5) * BLOCK, biodone,
		    &w[k]);
	}
	for (k = 0; k < 2; k++) {
		CHECK(bio_wait_done(&w[k]), "read %d never completed", k);
		CHECK(w[k].error == 0 && w[k].bytes == BLOCK, "read %d: error %d, %zu bytes", k,
		    w[k].error, w[k].bytes);
		CHECK(conf_memcmp(in[k], out[k], BLOCK) == 0, "block %d read back differs", k);
		bio_fini(&w[k]);
	}
	rv = rumpuser_close(fd);
	CHECK_RV("rumpuser_close", rv, 0);
}

/* Reading past the end completes with a short count, not an error. */
static void bio_read_past_end(void)
{
	static unsigned char buf[2 * BLOCK];
	struct bio_wait w;
	int fd;

	fd = open_file(RUMPUSER_OPEN_RDONLY | RUMPUSER_OPEN_BIO);
	if (fd < 0)
		return;
	bio_init(&w);
	rumpuser_bio(fd, RUMPUSER_BIO_READ, buf, 2 * BLOCK, CONF_FILE_SIZE - BLOCK, biodone, &w);
	CHECK(bio_wait_done(&w), "the read never completed");
	bio_fini(&w);
	rumpuser_close(fd);
	CHECK(w.error == 0 && w.bytes == BLOCK,
	    "a read of 8 KiB at 4 KiB before the end gave error %d, %zu bytes (expected 0, 4096)",
	    w.error, w.bytes);
}

static int optional_missing(int rv, const char *call)
{
	if (rv == RUMPXEN_NETBSD_ENOSYS || rv == RUMPXEN_NETBSD_EOPNOTSUPP) {
		conf_skip("%s is optional and this target does not provide it (%d)", call, rv);
		return 1;
	}
	return 0;
}

static void iovwrite_iovread(void)
{
	static char a[100], b[300], r1[50], r2[250], r3[100];
	struct rumpuser_iovec wv[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct rumpuser_iovec rv3[3] = { { r1, sizeof(r1) }, { r2, sizeof(r2) }, { r3, sizeof(r3) } };
	size_t n = 0;
	int fd, i, rv;
	REQUIRE_OPTIONAL(rumpuser_iovread);
	REQUIRE_OPTIONAL(rumpuser_iovwrite);

	fd = open_file(RUMPUSER_OPEN_RDWR);
	if (fd < 0)
		return;
	for (i = 0; i < (int)sizeof(a); i++)
		a[i] = (char)('a' + i % 26);
	for (i = 0; i < (int)sizeof(b); i++)
		b[i] = (char)('A' + i % 26);
	rv = rumpuser_iovwrite(fd, wv, 2, 8 * BLOCK + 3, &n);
	if (optional_missing(rv, "rumpuser_iovwrite")) {
		rumpuser_close(fd);
		return;
	}
	CHECK_RV("rumpuser_iovwrite", rv, 0);
	CHECK(n == 400, "rumpuser_iovwrite wrote %zu bytes, expected 400", n);
	rv = rumpuser_iovread(fd, rv3, 3, 8 * BLOCK + 3, &n);
	CHECK_RV("rumpuser_iovread", rv, 0);
	CHECK(n == 400, "rumpuser_iovread read %zu bytes, expected 400", n);
	CHECK(conf_memcmp(r1, a, 50) == 0 && conf_memcmp(r2, a + 50, 50) == 0 &&
	    conf_memcmp(r2 + 50, b, 200) == 0 && conf_memcmp(r3, b + 200, 100) == 0,
	    "scattered read-back differs from the gathered write");
	rv = rumpuser_close(fd);
	CHECK_RV("rumpuser_close", rv, 0);
}

static void syncfd_flags(void)
{
	int fd, rv;
	REQUIRE_OPTIONAL(rumpuser_syncfd);

	fd = open_file(RUMPUSER_OPEN_RDWR);
	if (fd < 0)
		return;
	rv = rumpuser_syncfd(fd, RUMPUSER_SYNCFD_WRITE | RUMPUSER_SYNCFD_SYNC, 0, 0);
	if (optional_missing(rv, "rumpuser_syncfd")) {
		rumpuser_close(fd);
		return;
	}
	CHECK_RV("rumpuser_syncfd(WRITE | SYNC)", rv, 0);
	rv = rumpuser_syncfd(fd, RUMPUSER_SYNCFD_WRITE | RUMPUSER_SYNCFD_BARRIER, 0, BLOCK);
	CHECK(rv == 0 || rv == RUMPXEN_NETBSD_EOPNOTSUPP,
	    "rumpuser_syncfd(WRITE | BARRIER) returned %d, expected 0 or EOPNOTSUPP", rv);
	rv = rumpuser_close(fd);
	CHECK_RV("rumpuser_close", rv, 0);
	rv = rumpuser_close(fd);
	CHECK_RV("rumpuser_close of a closed descriptor", rv, RUMPXEN_NETBSD_EBADF);
}

const struct conf_case conf_cases_files[] = {
	{ "file_getfileinfo", file_getfileinfo },
	{ "file_open_errors", file_open_errors },
	{ "bio_write_read", bio_write_read },
	{ "bio_read_past_end", bio_read_past_end },
	{ "iovwrite_iovread", iovwrite_iovread },
	{ "syncfd_flags", syncfd_flags },
	{ NULL, NULL },
};
