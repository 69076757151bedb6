/*
 * Formatting, case outcomes, time and thread helpers of the conformance suite. The running
 * case's outcome is rumpxen/case.h's state, kept in this file for the whole suite.
 */
#include "conf.h"

static int self_reported;

size_t conf_strlen(const char *s)
{
	size_t n = 0;
	while (s[n] != '\0')
		n++;
	return n;
}

int conf_strcmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

void conf_memset(void *p, int c, size_t n)
{
	volatile unsigned char *b = p;
	while (n-- > 0)
		*b++ = (unsigned char)c;
}

int conf_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n > 0; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

struct outbuf {
	char *p;
	size_t size, len;
};

static void out_char(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->p[o->len] = c;
	o->len++;
}

static void out_unsigned(struct outbuf *o, unsigned long long v, unsigned base, int neg)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	if (neg)
		out_char(o, '-');
	while (n > 0)
		out_char(o, digits[--n]);
}

int conf_format(char *buf, size_t size, const char *fmt, __builtin_va_list ap)
{
	struct outbuf o = { buf, size, 0 };

	for (; *fmt != '\0'; fmt++) {
		int longs = 0, size_t_arg = 0;
		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		if (*fmt == 'z') {
			size_t_arg = 1;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			long long v = longs >= 2 ? __builtin_va_arg(ap, long long)
			    : longs == 1 || size_t_arg ? __builtin_va_arg(ap, long)
			    : __builtin_va_arg(ap, int);
			out_unsigned(&o, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v,
			    10, v < 0);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = longs >= 2 ? __builtin_va_arg(ap, unsigned long long)
			    : longs == 1 || size_t_arg ? __builtin_va_arg(ap, unsigned long)
			    : __builtin_va_arg(ap, unsigned int);
			out_unsigned(&o, v, *fmt == 'x' ? 16 : 10, 0);
			break;
		}
		case 'p':
			out_char(&o, '0');
			out_char(&o, 'x');
			out_unsigned(&o, (uintptr_t)__builtin_va_arg(ap, void *), 16, 0);
			break;
		case 's': {
			const char *s = __builtin_va_arg(ap, const char *);
			if (s == NULL)
				s = "(null)";
			while (*s != '\0')
				out_char(&o, *s++);
			break;
		}
		case 'c':
			out_char(&o, (char)__builtin_va_arg(ap, int));
			break;
		case '%':
			out_char(&o, '%');
			break;
		default:
			out_char(&o, '?');
			break;
		}
	}
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int conf_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	__builtin_va_list ap;
	int n;

	__builtin_va_start(ap, fmt);
	n = conf_format(buf, size, fmt, ap);
	__builtin_va_end(ap);
	return n;
}

void conf_line(const char *text)
{
	rumpuser_dprintf("%s\n", text);
}

void conf_fail(const char *fmt, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	case_vclaim(CASE_FAIL, fmt, ap);
	__builtin_va_end(ap);
}

void conf_skip(const char *fmt, ...)
{
	__builtin_va_list ap;
	__builtin_va_start(ap, fmt);
	case_vclaim(CASE_SKIP, fmt, ap);
	__builtin_va_end(ap);
}

int conf_stopped(void)
{
	return case_stopped();
}

/* Used by main(): start a case, and read its outcome. */
void conf_case_begin(void)
{
	self_reported = 0;
	case_begin();
}

/* The running case printed its own PASS line; main() prints one only if it fails. */
void conf_case_self_reported(void)
{
	self_reported = 1;
}

int conf_case_was_self_reported(void)
{
	return self_reported;
}

enum case_outcome conf_case_end(const char **why)
{
	return case_end(why);
}

int64_t conf_now_ns(void)
{
	int64_t sec = 0;
	long nsec = 0;

	rumpuser_clock_gettime(RUMPUSER_CLOCK_ABSMONO, &sec, &nsec);
	return sec * 1000000000LL + nsec;
}

void conf_spin_ns(int64_t ns)
{
	int64_t end = conf_now_ns() + ns;
	while (conf_now_ns() < end)
		;
}

void conf_sleep_ms(int64_t ms)
{
	rumpuser_clock_sleep(RUMPUSER_CLOCK_RELWALL, ms / 1000, (long)(ms % 1000) * MS);
}

static void *thread_trampoline(void *arg)
{
	struct conf_thread *t = arg;

	rumpuser_curlwpop(RUMPUSER_LWP_SET, t->lwp);
	fk_cpu_take();
	t->fn(t->arg);
	fk_cpu_give();
	rumpuser_curlwpop(RUMPUSER_LWP_CLEAR, t->lwp);
	if (t->use_thread_exit)
		rumpuser_thread_exit();
	return t;
}

int conf_thread_start(struct conf_thread *t, const char *name, void (*fn)(void *), void *arg)
{
	int rv;

	t->fn = fn;
	t->arg = arg;
	t->lwp = fk_lwp_create();
	t->cookie = NULL;
	rv = rumpuser_thread_create(thread_trampoline, t, name, 1, 0, -1, &t->cookie);
	if (rv != 0)
		fk_lwp_destroy(t->lwp);
	return rv;
}

int conf_thread_join(struct conf_thread *t)
{
	int rv = rumpuser_thread_join(t->cookie);
	if (rv == 0)
		fk_lwp_destroy(t->lwp);
	return rv;
}
