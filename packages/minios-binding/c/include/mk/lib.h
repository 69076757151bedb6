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

/*
 * The kernel's number parsers for untrusted text. Inline, so the protocol checks built as
 * plain host C too (blkring.c, netring.c) use them without a kernel symbol.
 */
enum mk_decimal { MK_DECIMAL_OK, MK_DECIMAL_NOT_DECIMAL, MK_DECIMAL_TOO_BIG };

/*
 * s[0..len) as an unsigned decimal of 1-20 digits, nothing else (no sign, space or 0x).
 * MK_DECIMAL_OK and *out set, or NOT_DECIMAL, or TOO_BIG (beyond max or 2^64-1).
 */
static inline enum mk_decimal mk_parse_decimal(const char *s, size_t len, uint64_t max,
	uint64_t *out)
{
	if (len == 0 || len > 20)
		return MK_DECIMAL_NOT_DECIMAL;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9)
			return MK_DECIMAL_NOT_DECIMAL;
		if (v > (~0ULL - d) / 10)
			return MK_DECIMAL_TOO_BIG;
		v = v * 10 + d;
	}
	if (v > max)
		return MK_DECIMAL_TOO_BIG;
	*out = v;
	return MK_DECIMAL_OK;
}

/* The value of hex digit c (either case), or -1. */
static inline int mk_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
