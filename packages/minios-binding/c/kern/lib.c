/* String helpers and a small vsnprintf; see mk/lib.h. */
#include <mk/lib.h>

void *mk_memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *mk_memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else if (d > s) {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *mk_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int mk_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t mk_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t mk_strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int mk_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int mk_strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

size_t mk_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = mk_strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		mk_memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

char *mk_strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

unsigned long mk_strtoul(const char *s, const char **end, int base)
{
	unsigned long v = 0;
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	}
	if (base == 0)
		base = 10;
	for (;; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (d >= base)
			break;
		v = v * (unsigned long)base + (unsigned long)d;
	}
	if (end)
		*end = s;
	return v;
}

struct fmt_out {
	char *buf;
	size_t size;
	size_t len;
};

static void fmt_putc(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void fmt_num(struct fmt_out *o, unsigned long v, int base, bool neg, int width,
	bool zero, bool left, bool upper, bool alt)
{
	char tmp[24];
	int n = 0;
	if (alt && base == 16)
		width -= 2;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	do {
		tmp[n++] = digits[v % (unsigned)base];
		v /= (unsigned)base;
	} while (v);
	int len = n + (neg ? 1 : 0);
	if (!left && !zero)
		for (; width > len; width--)
			fmt_putc(o, ' ');
	if (neg)
		fmt_putc(o, '-');
	if (alt && base == 16) {
		fmt_putc(o, '0');
		fmt_putc(o, 'x');
	}
	if (!left && zero)
		for (; width > len; width--)
			fmt_putc(o, '0');
	while (n)
		fmt_putc(o, tmp[--n]);
	if (left)
		for (; width > len; width--)
			fmt_putc(o, ' ');
}

int mk_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, size, 0 };
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			fmt_putc(&o, *fmt);
			continue;
		}
		fmt++;
		bool zero = false, left = false, alt = false;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '#')
				alt = true;
			else if (*fmt == '-')
				left = true;
			else
				break;
		}
		int width = 0;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		int prec = -1;
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				prec = prec * 10 + (*fmt++ - '0');
		}
		int lng = 0;
		while (*fmt == 'l' || *fmt == 'z' || *fmt == 'j' || *fmt == 't') {
			lng = 1;
			fmt++;
		}
		while (*fmt == 'h')
			fmt++;
		switch (*fmt) {
		case 'd':
		case 'i': {
			long v = lng ? va_arg(ap, long) : va_arg(ap, int);
			bool neg = v < 0;
			fmt_num(&o, neg ? -(unsigned long)v : (unsigned long)v, 10, neg, width, zero,
				left, false, false);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			unsigned long v = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			int base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
			fmt_num(&o, v, base, false, width, zero, left, *fmt == 'X', alt);
			break;
		}
		case 'p':
			fmt_num(&o, (unsigned long)va_arg(ap, void *), 16, false, width, zero, left,
				false, true);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			size_t n = prec >= 0 ? mk_strnlen(s, (size_t)prec) : mk_strlen(s);
			if (!left)
				for (; width > (int)n; width--)
					fmt_putc(&o, ' ');
			for (size_t i = 0; i < n; i++)
				fmt_putc(&o, s[i]);
			if (left)
				for (; width > (int)n; width--)
					fmt_putc(&o, ' ');
			break;
		}
		case 'c':
			fmt_putc(&o, (char)va_arg(ap, int));
			break;
		case '%':
			fmt_putc(&o, '%');
			break;
		case 0:
			fmt--;
			break;
		default:
			fmt_putc(&o, '%');
			fmt_putc(&o, *fmt);
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int mk_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = mk_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * The compiler may emit calls to these four for struct copies and large initialisers.
 * They are weak so that a rump kernel's libc (RUMP_KERNEL_IS_LIBC) wins when present.
 */
__attribute__((weak)) void *memcpy(void *dst, const void *src, size_t n)
{
	return mk_memcpy(dst, src, n);
}
__attribute__((weak)) void *memmove(void *dst, const void *src, size_t n)
{
	return mk_memmove(dst, src, n);
}
__attribute__((weak)) void *memset(void *dst, int c, size_t n)
{
	return mk_memset(dst, c, n);
}
__attribute__((weak)) int memcmp(const void *a, const void *b, size_t n)
{
	return mk_memcmp(a, b, n);
}
