/* NetBSD signal numbers (sys/sys/signal.h) to the host's, for rumpuser_kill(). */
#include <signal.h>

#include "posix_int.h"

static const int netbsd_to_host_signal[] = {
	[1] = SIGHUP, [2] = SIGINT, [3] = SIGQUIT, [4] = SIGILL, [5] = SIGTRAP,
	[6] = SIGABRT, [7] = -1 /* SIGEMT */, [8] = SIGFPE, [9] = SIGKILL, [10] = SIGBUS,
	[11] = SIGSEGV, [12] = SIGSYS, [13] = SIGPIPE, [14] = SIGALRM, [15] = SIGTERM,
	[16] = SIGURG, [17] = SIGSTOP, [18] = SIGTSTP, [19] = SIGCONT, [20] = SIGCHLD,
	[21] = SIGTTIN, [22] = SIGTTOU, [23] = SIGIO, [24] = SIGXCPU, [25] = SIGXFSZ,
	[26] = SIGVTALRM, [27] = SIGPROF, [28] = SIGWINCH, [29] = -1 /* SIGINFO */,
	[30] = SIGUSR1, [31] = SIGUSR2, [32] = SIGPWR,
};

int posix_sigtrans(int netbsd_sig)
{
	if (netbsd_sig == 0)
		return 0;
	if (netbsd_sig < 0 ||
	    (unsigned)netbsd_sig >= sizeof(netbsd_to_host_signal) / sizeof(netbsd_to_host_signal[0]))
		return -1;
	return netbsd_to_host_signal[netbsd_sig];
}
