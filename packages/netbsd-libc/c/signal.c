/*
 * Signals, as far as a single program without processes has them: handlers and the mask are
 * remembered (sigaction and sigprocmask answer as NetBSD's do), and a signal a thread sends
 * itself (raise, abort) runs its handler, is ignored, or, by default, ends the domain with
 * status 128 + the signal number, as a shell reports a program killed by it.
 */
#include <mk/console.h>
#include <mk/lib.h>

#include "nblibc.h"

#define NB_NSIG 64
#define NB_SIG_BLOCK 1
#define NB_SIG_UNBLOCK 2
#define NB_SIG_SETMASK 3
#define NB_SIGKILL 9
#define NB_SIGSTOP 17


/* NetBSD's sigset_t and struct sigaction (sys/sigtypes.h, sys/signal.h). */
typedef struct {
	unsigned int bits[4];
} nb_sigset_t;

struct nb_sigaction {
	void (*handler)(int);
	nb_sigset_t mask;
	int flags;
};

#define NB_SIG_DFL ((void (*)(int))0)
#define NB_SIG_IGN ((void (*)(int))1)

static struct nb_sigaction actions[NB_NSIG + 1];
static nb_sigset_t blocked;

int __sigaction14(int sig, const struct nb_sigaction *act, struct nb_sigaction *oact)
{
	if (sig <= 0 || sig > NB_NSIG || (act != NULL && (sig == NB_SIGKILL || sig == NB_SIGSTOP))) {
		*__errno() = RUMPXEN_NETBSD_EINVAL;
		return -1;
	}
	if (oact != NULL)
		*oact = actions[sig];
	if (act != NULL)
		actions[sig] = *act;
	return 0;
}

int _sys___sigprocmask14(int how, const nb_sigset_t *set, nb_sigset_t *oset)
{
	nb_sigset_t old = blocked;
	if (set != NULL) {
		for (int i = 0; i < 4; i++) {
			switch (how) {
			case NB_SIG_BLOCK:
				blocked.bits[i] |= set->bits[i];
				break;
			case NB_SIG_UNBLOCK:
				blocked.bits[i] &= ~set->bits[i];
				break;
			case NB_SIG_SETMASK:
				blocked.bits[i] = set->bits[i];
				break;
			default:
				*__errno() = RUMPXEN_NETBSD_EINVAL;
				return -1;
			}
		}
	}
	if (oset != NULL)
		*oset = old;
	return 0;
}

int nblibc_signal_self(int sig)
{
	if (sig <= 0 || sig > NB_NSIG) {
		*__errno() = RUMPXEN_NETBSD_EINVAL;
		return -1;
	}
	void (*handler)(int) = actions[sig].handler;
	if (handler == NB_SIG_IGN)
		return 0;
	if (handler != NB_SIG_DFL) {
		handler(sig);
		return 0;
	}
	mk_printk("netbsd-libc: the program got signal %d, which ends it\n", sig);
	_exit(128 + sig);
}
/*
 * The guest kernel's hook for the rump kernel's signals to the program (rumpuser_kill), e.g.
 * SIGPIPE on a write to a reset socket: the program's disposition applies, as for raise.
 */
int rumpxen_signal_self(int sig)
{
	return nblibc_signal_self(sig);
}

/* libpthread's __sigprocmask14 (pthread_sigmask) calls _sys___sigprocmask14; without it this one is sigprocmask's. */
int __sigprocmask14(int how, const nb_sigset_t *set, nb_sigset_t *oset)
	__attribute__((weak, alias("_sys___sigprocmask14")));
