/*
 * Kernel and ramdisk images kept in memory across creates, so that a create of an image
 * already seen costs one stat() instead of opening, mapping and reading the file (and
 * gunzipping it).  Entries are keyed by path and the file's identity (device, inode, size,
 * mtime, ctime): replacing or rewriting the file makes a new entry.  Bounded in count and
 * bytes (least recently used first out); entries are reference counted, so an eviction
 * never frees bytes a build is still reading.  libxenguest takes the bytes through
 * xc_dom_kernel_mem / xc_dom_module_mem and parses them itself on each create.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxc_internal.h"
#include <xenguest.h>

#define CACHE_MAX_ENTRIES 8
#define CACHE_MAX_BYTES (96u << 20)   /* all entries together */
#define CACHE_MAX_IMAGE (32u << 20)   /* one image, gunzipped; larger ones are read per create */

struct rxc_image {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    int gunzip;          /* kernels are kept gunzipped; ramdisks as they are */
    void *data;
    size_t len;
    int refs;            /* the cache's own reference counts as one while listed */
    int listed;
    unsigned long used;  /* LRU clock */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static rxc_image *entries[CACHE_MAX_ENTRIES];
static unsigned long clock_now;

static int same_file(const rxc_image *e, const char *path, int gunzip, const struct stat *st)
{
    return e->gunzip == gunzip && strcmp(e->path, path) == 0 && e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static void release(rxc_image *e)
{
    if (--e->refs == 0) {
        free(e->data);
        free(e->path);
        free(e);
    }
}

/* Reads the whole file; 0, or an errno.  *changed when its identity moved while reading. */
static int read_file(const char *path, const struct stat *st, void **data, int *changed)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    size_t n = (size_t)st->st_size;
    char *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return ENOMEM;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    struct stat after;
    int e = fstat(fd, &after) ? errno : 0;
    close(fd);
    *changed = e == 0 && (got != n || after.st_size != st->st_size || after.st_ino != st->st_ino ||
                          after.st_mtim.tv_sec != st->st_mtim.tv_sec || after.st_mtim.tv_nsec != st->st_mtim.tv_nsec);
    if (e || *changed) {
        free(buf);
        return e;
    }
    *data = buf;
    return 0;
}

int rxc_image_get(xc_interface *xch, const char *path, int gunzip, rxc_image **img, int *hit)
{
    *img = NULL;
    *hit = 0;
    struct stat st;
    /* Anything wrong with the file is for the builder to report, as it always did. */
    if (stat(path, &st))
        return 0;
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > CACHE_MAX_IMAGE)
        return 0; /* not cacheable: the builder reads the file itself */

    pthread_mutex_lock(&lock);
    for (int i = 0; i < CACHE_MAX_ENTRIES; i++) {
        rxc_image *e = entries[i];
        if (e && same_file(e, path, gunzip, &st)) {
            e->refs++;
            e->used = ++clock_now;
            pthread_mutex_unlock(&lock);
            *img = e;
            *hit = 1;
            return 0;
        }
    }
    pthread_mutex_unlock(&lock);

    /* A miss: read outside the lock (two creates of one new image may both read it; the
     * second to finish replaces nothing and just uses its own copy once). */
    void *raw = NULL;
    int changed = 0;
    if (read_file(path, &st, &raw, &changed) || changed)
        return 0; /* unreadable, or being rewritten: let the builder read it */
    void *data = raw;
    size_t len = (size_t)st.st_size;
    size_t unzipped = gunzip ? xc_dom_check_gzip(xch, raw, len) : 0;
    if (unzipped) {
        /* Undo gzip once here, not in every create. */
        if (unzipped > CACHE_MAX_IMAGE) {
            free(raw);
            return 0;
        }
        data = malloc(unzipped);
        if (!data || xc_dom_do_gunzip(xch, raw, len, data, unzipped)) {
            free(data);
            free(raw);
            return 0; /* the builder will report it from the file */
        }
        free(raw);
        len = unzipped;
    }
    rxc_image *n = calloc(1, sizeof *n);
    char *p = strdup(path);
    if (!n || !p) {
        free(n);
        free(p);
        free(data);
        return 0;
    }
    n->path = p;
    n->dev = st.st_dev;
    n->ino = st.st_ino;
    n->size = st.st_size;
    n->mtime = st.st_mtim;
    n->ctime = st.st_ctim;
    n->gunzip = gunzip;
    n->data = data;
    n->len = len;
    n->refs = 1; /* the caller's */

    pthread_mutex_lock(&lock);
    /* Drop stale entries of this path, then make room: by count, then by bytes. */
    size_t total = len;
    for (int i = 0; i < CACHE_MAX_ENTRIES; i++) {
        if (entries[i] && entries[i]->gunzip == gunzip && strcmp(entries[i]->path, path) == 0) {
            entries[i]->listed = 0;
            release(entries[i]);
            entries[i] = NULL;
        } else if (entries[i]) {
            total += entries[i]->len;
        }
    }
    for (;;) {
        int free_slot = -1, oldest = -1;
        for (int i = 0; i < CACHE_MAX_ENTRIES; i++) {
            if (!entries[i])
                free_slot = free_slot < 0 ? i : free_slot;
            else if (oldest < 0 || entries[i]->used < entries[oldest]->used)
                oldest = i;
        }
        if (free_slot >= 0 && total <= CACHE_MAX_BYTES) {
            n->refs++;
            n->listed = 1;
            n->used = ++clock_now;
            entries[free_slot] = n;
            break;
        }
        if (oldest < 0)
            break; /* bigger than the whole cache: used once, not kept */
        total -= entries[oldest]->len;
        entries[oldest]->listed = 0;
        release(entries[oldest]);
        entries[oldest] = NULL;
    }
    pthread_mutex_unlock(&lock);
    *img = n;
    return 0;
}

const void *rxc_image_data(const rxc_image *img, size_t *size)
{
    *size = img->len;
    return img->data;
}

void rxc_image_put(rxc_image *img)
{
    if (!img)
        return;
    pthread_mutex_lock(&lock);
    release(img);
    pthread_mutex_unlock(&lock);
}
