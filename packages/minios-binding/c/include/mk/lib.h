/*
 * Small string and formatting helpers of the guest kernel. All names carry the mk_ prefix:
 * a rump kernel built with RUMP_KERNEL_IS_LIBC defines the POSIX names itself.
 */
#ifndef MK_LIB_H
#define MK_LIB_H
#include <mk/types.h>

void *mk_memcpy(void *dst, const void *src, size_t n);
void *mk_memmove(void *dst, const void *src, size_t n);
void *mk_memset(void *dst, int c, size_t n);
int mk_memcmp(const void *a, const void *b, size_t n);
size_t mk_strlen(const char *s);
/* Length of s, but never reads past max bytes (for untrusted buffers). */
size_t mk_strnlen(const char *s, size_t max);
int mk_strcmp(const char *a, const char *b);
int mk_strncmp(const char *a, const char *b, size_t n);
/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t mk_strlcpy(char *dst, const char *src, size_t size);
char *mk_strchr(const char *s, int c);
/* Parses an unsigned decimal or 0x-hex number; *end (if set) gets the first unparsed byte. */
unsigned long mk_strtoul(const char *s, const char **end, int base);

/* printf subset: %d %i %u %x %X %p %s %c %% with l/ll/z, width, 0 and - flags. */
int mk_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int mk_snprintf(char *buf, size_t size, const char *fmt, ...) MK_PRINTF(3, 4);

#endif
