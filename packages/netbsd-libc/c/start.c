/*
 * Start-up under NetBSD's libc in a rumpxen guest: what NetBSD's crt0 does for a static
 * program, and the rump kernel's boot. The guest kernel calls main(argc, argv, envp) in the
 * first thread with argv and env from the domain's config (its TLS block already set up from
 * the image's PT_TLS); an image linked with libc is linked with `--wrap=main`, so that call
 * lands here first: libc's globals are set, the rump kernel is booted (its fds 0, 1 and 2 are
 * the console), the first thread made lwp 1 with an lwp of its own in the program's process
 * (lwp.c), RLIMIT_STACK set to the first thread's stack size (libpthread's default for new
 * threads' stacks), libc initialised (_libc_init, as crt0 calls it in a static program) and the
 * image's constructors run, then the program's main runs and its return value goes to exit(),
 * which runs the atexit handlers and destructors, flushes stdio and ends the domain.
 *
 * Only freestanding headers and the guest kernel's are included: the few libc and rump kernel
 * entry points used here are declared by hand with NetBSD's signatures.
 */
#include <mk/console.h>
#include <mk/sched.h>

#include "nblibc.h"

/* What NetBSD's crt0 defines for libc. */
char **environ;
const char *__progname = "";

extern int __real_main(int argc, char **argv, char **envp);
extern void exit(int status) __attribute__((noreturn));
extern int atexit(void (*fn)(void));
extern void _libc_init(void);
extern int rump_init(void);

/* NetBSD's struct rlimit, RLIMIT_STACK and Aux64Info with the AT_* tags used here. */
struct nb_rlimit {
	unsigned long long cur;
	unsigned long long max;
};
#define NB_RLIMIT_STACK 3
extern int getrlimit(int resource, struct nb_rlimit *rl);
extern int setrlimit(int resource, const struct nb_rlimit *rl);

struct nb_auxinfo {
	unsigned int type;
	unsigned long value;
};
#define NB_AT_NULL 0
#define NB_AT_PAGESZ 6
#define NB_AT_STACKBASE 13

/*
 * The auxiliary vector a NetBSD kernel would give: libpthread reads the first thread's stack
 * from it (AT_STACKBASE, its top). libc's own _dlauxinfo (weak) would find none here.
 */
static struct nb_auxinfo auxinfo[] = {
	{ NB_AT_PAGESZ, 4096 },
	{ NB_AT_STACKBASE, 0 },
	{ NB_AT_NULL, 0 },
};

void *_dlauxinfo(void)
{
	return auxinfo;
}

/* The first thread's stack as its top for AT_STACKBASE and its size as RLIMIT_STACK. */
static void describe_first_stack(void)
{
	void *base;
	size_t size;
	mk_thread_stack(mk_thread_self(), &base, &size);
	auxinfo[1].value = (unsigned long)base + size;
	struct nb_rlimit rl;
	if (getrlimit(NB_RLIMIT_STACK, &rl) != 0)
		return;
	rl.cur = size;
	if (rl.max < rl.cur)
		rl.max = rl.cur;
	if (setrlimit(NB_RLIMIT_STACK, &rl) != 0)
		mk_printk("netbsd-libc: setrlimit(RLIMIT_STACK, %zu) failed\n", size);
}

/* The image's constructors and destructors (the target's linker script gathers them). */
typedef void (*init_fn)(void);
extern init_fn __init_array_start[] __attribute__((weak));
extern init_fn __init_array_end[] __attribute__((weak));
extern init_fn __fini_array_start[] __attribute__((weak));
extern init_fn __fini_array_end[] __attribute__((weak));

static void run_destructors(void)
{
	for (init_fn *f = __fini_array_end; f > __fini_array_start; f--)
		f[-1]();
}

/*
 * libc calls this from _libc_init to set up the initial thread's TLS block. The guest kernel
 * has done that for every thread already (a block from the image's PT_TLS, the thread pointer
 * in the fs base, as the x86-64 TLS variant II that NetBSD uses lays it out).
 */
void __libc_static_tls_setup(void)
{
}

static const char *last_component(const char *path)
{
	const char *name = path;
	for (const char *p = path; *p != '\0'; p++)
		if (*p == '/')
			name = p + 1;
	return name;
}

int __wrap_main(int argc, char **argv, char **envp)
{
	static char *no_env[1];

	environ = envp != NULL ? envp : no_env;
	if (argc > 0 && argv[0] != NULL)
		__progname = last_component(argv[0]);

	/* The kernel first: libc's initialisation already makes system calls (sysctl). */
	int error = rump_init();
	if (error != 0) {
		mk_printk("netbsd-libc: rump_init failed with error %d\n", error);
		_exit(127);
	}

	nblibc_lwp_init();
	describe_first_stack();
	nblibc_clock_link();
	_libc_init();
	for (init_fn *f = __init_array_start; f < __init_array_end; f++)
		(*f)();
	atexit(run_destructors);
	exit(__real_main(argc, argv, environ));
}
