/* Initialisation, parameters, termination, signals and errno for the calling thread. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "posix_int.h"

struct rumpuser_hyperup posix_hyp;

int rumpuser_init(int version, const struct rumpuser_hyperup *hyp)
{
	if (version != RUMPUSER_VERSION) {
		rumpuser_dprintf("rumpuser: the rump kernel wants hypercall interface version %d, "
		    "this librumpuser implements version %d; link a matching librumpuser\n",
		    version, RUMPUSER_VERSION);
		return posix_errtrans(EINVAL);
	}
	posix_hyp = *hyp;
	return 0;
}

static int param_copy(const char *value, void *buf, size_t blen)
{
	size_t len = strlen(value) + 1;

	if (len > blen)
		return posix_errtrans(E2BIG);
	memcpy(buf, value, len);
	return 0;
}

/* The host CPU's frequency in Hz from cpufreq or /proc/cpuinfo; 0 if neither says. */
static unsigned long long host_cpu_hz(void)
{
	unsigned long long khz = 0;
	double mhz = 0;
	char line[256];
	FILE *f;

	f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "r");
	if (f != NULL) {
		if (fscanf(f, "%llu", &khz) != 1)
			khz = 0;
		fclose(f);
		if (khz > 0)
			return khz * 1000;
	}
	f = fopen("/proc/cpuinfo", "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
			break;
	fclose(f);
	return mhz > 0 ? (unsigned long long)(mhz * 1e6) : 0;
}

/*
 * _RUMPUSER_NCPU: $RUMP_NCPU (a number, or "host" for the host's online CPUs), else the
 * host's online CPUs. _RUMPUSER_HOSTNAME: $RUMP_HOSTNAME, else "rump-<pid>.<host name>".
 * _RUMPUSER_CPU_FREQUENCY: the host CPU's in Hz when Linux tells (else ENOENT).
 * Any other name is looked up in the environment.
 */
int rumpuser_getparam(const char *name, void *buf, size_t blen)
{
	char value[300];
	const char *env;

	if (strcmp(name, RUMPUSER_PARAM_NCPU) == 0) {
		env = getenv("RUMP_NCPU");
		if (env != NULL && strcmp(env, "host") != 0)
			return param_copy(env, buf, blen);
		snprintf(value, sizeof(value), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
		return param_copy(value, buf, blen);
	}
	if (strcmp(name, RUMPUSER_PARAM_CPU_FREQUENCY) == 0) {
		unsigned long long hz = host_cpu_hz();
		if (hz == 0)
			return posix_errtrans(ENOENT);
		snprintf(value, sizeof(value), "%llu", hz);
		return param_copy(value, buf, blen);
	}
	if (strcmp(name, RUMPUSER_PARAM_HOSTNAME) == 0) {
		char host[256];
		env = getenv("RUMP_HOSTNAME");
		if (env != NULL)
			return param_copy(env, buf, blen);
		if (gethostname(host, sizeof(host)) != 0)
			strcpy(host, "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(value, sizeof(value), "rump-%d.%s", (int)getpid(), host);
		return param_copy(value, buf, blen);
	}
	env = getenv(name);
	if (env == NULL)
		return posix_errtrans(ENOENT);
	return param_copy(env, buf, blen);
}

void rumpuser_exit(int value)
{
	if (value == RUMPUSER_PANIC)
		abort();
	exit(value);
}

/* Kernel errno values are NetBSD numbers already; the client reads them as such. */
void rumpuser_seterrno(int error)
{
	errno = error;
}

int rumpuser_kill(int64_t pid, int rumpsig)
{
	int sig = posix_sigtrans(rumpsig);

	if (sig == -1)
		return posix_errtrans(EINVAL);
	if (pid == RUMPUSER_PID_SELF || pid == (int64_t)getpid())
		return raise(sig) == 0 ? 0 : posix_errtrans(errno);
	return kill((pid_t)pid, sig) == 0 ? 0 : posix_errtrans(errno);
}
