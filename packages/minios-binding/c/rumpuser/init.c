/* Initialisation, parameters, termination, signals and errno on the rumpxen guest. */
#include "xen_int.h"
#include <mk/appcfg.h>
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/control.h>
#include <mk/crash.h>
#include <mk/lib.h>
#include <mk/rumpattach.h>
#include <mk/xenbus.h>

struct rumpuser_hyperup rx_hyp;
static bool rump_attached;

bool mk_rumpuser_attached(void)
{
	return rump_attached;
}

int rumpuser_init(int version, const struct rumpuser_hyperup *hyp)
{
	if (version != RUMPUSER_VERSION) {
		rumpuser_dprintf("rumpuser: the rump kernel wants hypercall interface version %d, "
		    "this guest kernel implements version %d; rebuild the image against a "
		    "matching @rumpxen/minios-binding\n", version, RUMPUSER_VERSION);
		return RUMPXEN_NETBSD_EINVAL;
	}
	rx_hyp = *hyp;
	rump_attached = true;
	mk_oom_set_detail(rx_oom_detail);
	return 0;
}

static int param_copy(const char *value, void *buf, size_t blen)
{
	size_t len = mk_strlen(value) + 1;
	if (len > blen)
		return RUMPXEN_NETBSD_E2BIG;
	mk_memcpy(buf, value, len);
	return 0;
}

/*
 * Parameters come from the domain's config environment (xenstore cfg "env", or leading
 * NAME=VALUE words of the command line). _RUMPUSER_NCPU: $RUMP_NCPU, else 1 (one vcpu).
 * _RUMPUSER_HOSTNAME: $RUMP_HOSTNAME, else "rump-dom<domid>" (domid from xenstore; 0 as
 * the only domain). RUMP_MEMLIMIT: $RUMP_MEMLIMIT, else a limit derived from the memory free
 * when the rump kernel asks (rx_memlimit_param, memory.c).
 */
int rumpuser_getparam(const char *name, void *buf, size_t blen)
{
	const char *env;
	if (mk_strcmp(name, RUMPUSER_PARAM_NCPU) == 0) {
		env = mk_appcfg_getenv("RUMP_NCPU");
		return param_copy(env && mk_strcmp(env, "host") ? env : "1", buf, blen);
	}
	if (mk_strcmp(name, RUMPUSER_PARAM_HOSTNAME) == 0) {
		char value[64];
		env = mk_appcfg_getenv("RUMP_HOSTNAME");
		if (env)
			return param_copy(env, buf, blen);
		int domid = mk_xenbus_available() ? mk_xs_domid() : 0;
		mk_snprintf(value, sizeof(value), "rump-dom%d", domid < 0 ? 0 : domid);
		return param_copy(value, buf, blen);
	}
	if (mk_strcmp(name, "RUMP_MEMLIMIT") == 0)
		return rx_memlimit_param(buf, blen);
	env = mk_appcfg_getenv(name);
	if (!env)
		return RUMPXEN_NETBSD_ENOENT;
	return param_copy(env, buf, blen);
}

/*
 * RUMPUSER_PANIC is a crash with a message (the out-of-memory report when a failed allocation
 * or an "out of memory" panic message caused it); any other value ends the image like main's.
 */
void rumpuser_exit(int value)
{
	if (value == RUMPUSER_PANIC) {
		rx_oom_on_panic();
		mk_panic("rumpuser_exit(RUMPUSER_PANIC): the rump kernel panicked");
	}
	mk_app_exit(value);
}

static int errno_value;

/* The hook netbsd-libc overrides to route errno into its thread's errno. */
__attribute__((weak)) void rumpxen_set_errno(int error)
{
	errno_value = error;
}

void rumpuser_seterrno(int error)
{
	rumpxen_set_errno(error);
}

/*
 * Where the rump kernel's signals to the domain itself go (SIGPIPE from a write to a reset
 * socket, for one). Without a program layer that keeps signal dispositions, the domain ends
 * with a crash, as an uncaught fatal signal would; netbsd-libc overrides this hook and
 * applies the program's sigaction (ignore, handler, or end with 128 + sig).
 */
__attribute__((weak)) int rumpxen_signal_self(int sig)
{
	mk_panic("rumpuser_kill: signal %d sent to the domain itself", sig);
}

/* There are no host processes: signal 0 to ourselves checks existence. */
int rumpuser_kill(int64_t pid, int sig)
{
	if (pid != RUMPUSER_PID_SELF && pid != 1)
		return RUMPXEN_NETBSD_ESRCH;
	if (sig == 0)
		return 0;
	if (sig < 0 || sig > 64)
		return RUMPXEN_NETBSD_EINVAL;
	rumpxen_signal_self(sig);
	return 0;
}
