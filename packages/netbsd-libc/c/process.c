/*
 * Processes: the image is one program in one domain, so there is nothing to fork, execute
 * or wait for. fork, vfork, execve and posix_spawn fail with ENOSYS; wait finds no child
 * (ECHILD); kill reaches only the program itself (and so behaves as raise).
 */
#include <mk/console.h>

#include "nblibc.h"


extern int getpid(void);

/*
 * Says on the console why it fails: a program that forks usually has a fallback, or an
 * error message of its own that names only ENOSYS.
 */
static int no_such_call(const char *name)
{
	mk_printk("netbsd-libc: %s: no processes in a rumpxen domain (one program, no fork or exec), "
	    "so it fails with ENOSYS\n", name);
	*__errno() = RUMPXEN_NETBSD_ENOSYS;
	return -1;
}

/* libc's fork() (pthread_atfork.c) runs the atfork handlers around this. */
int __fork(void)
{
	return no_such_call("fork");
}

int __vfork14(void)
{
	return no_such_call("vfork");
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	(void)path;
	(void)argv;
	(void)envp;
	return no_such_call("execve");
}

/* posix_spawn returns its error instead of setting errno. */
int posix_spawn(int *pid, const char *path, const void *file_actions, const void *attr,
	char *const argv[], char *const envp[])
{
	(void)pid;
	(void)path;
	(void)file_actions;
	(void)attr;
	(void)argv;
	(void)envp;
	mk_printk("netbsd-libc: posix_spawn: no processes in a rumpxen domain, so it returns ENOSYS\n");
	return RUMPXEN_NETBSD_ENOSYS;
}

int wait6(int idtype, unsigned int id, int *status, int options, void *wru, void *info)
{
	(void)idtype;
	(void)id;
	(void)status;
	(void)options;
	(void)wru;
	(void)info;
	*__errno() = RUMPXEN_NETBSD_ECHILD;
	return -1;
}

int _sys___wait450(int pid, int *status, int options, void *rusage)
{
	(void)pid;
	(void)status;
	(void)options;
	(void)rusage;
	*__errno() = RUMPXEN_NETBSD_ECHILD;
	return -1;
}

int kill(int pid, int sig)
{
	if (pid != 0 && pid != -1 && pid != getpid()) {
		*__errno() = RUMPXEN_NETBSD_ESRCH;
		return -1;
	}
	if (sig == 0)
		return 0;
	/* A signal to the process: the calling thread takes it. */
	return nblibc_signal_self(sig);
}
/* libpthread's __wait450 (a cancellation point) calls _sys___wait450; without it this one is wait4's. */
int __wait450(int pid, int *status, int options, void *rusage)
	__attribute__((weak, alias("_sys___wait450")));
