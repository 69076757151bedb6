/*
 * Processes: the image is one program in one domain, so there is nothing to fork, execute
 * or wait for. fork, vfork, execve and posix_spawn fail with ENOSYS; wait finds no child
 * (ECHILD); kill reaches only the program itself (and so behaves as raise).
 */
#include "nblibc.h"

#define NB_ENOSYS 78
#define NB_ECHILD 10
#define NB_ESRCH 3

extern int errno;
extern int getpid(void);
extern int _lwp_kill(int lid, int sig);

static int no_such_call(void)
{
	errno = NB_ENOSYS;
	return -1;
}

/* libc's fork() (pthread_atfork.c) runs the atfork handlers around this. */
int __fork(void)
{
	return no_such_call();
}

int __vfork14(void)
{
	return no_such_call();
}

int execve(const char *path, char *const argv[], char *const envp[])
{
	(void)path;
	(void)argv;
	(void)envp;
	return no_such_call();
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
	return NB_ENOSYS;
}

int wait6(int idtype, unsigned int id, int *status, int options, void *wru, void *info)
{
	(void)idtype;
	(void)id;
	(void)status;
	(void)options;
	(void)wru;
	(void)info;
	errno = NB_ECHILD;
	return -1;
}

int __wait450(int pid, int *status, int options, void *rusage)
{
	(void)pid;
	(void)status;
	(void)options;
	(void)rusage;
	errno = NB_ECHILD;
	return -1;
}

int kill(int pid, int sig)
{
	if (pid != 0 && pid != -1 && pid != getpid()) {
		errno = NB_ESRCH;
		return -1;
	}
	return _lwp_kill(1, sig);
}
