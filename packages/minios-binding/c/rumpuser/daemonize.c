/*
 * Daemonizing on the rumpxen guest. A DomU has no controlling terminal and no parent process
 * waiting for it, so there is nothing to detach: librump's rump_daemonize_begin/done (which a
 * server calls around rump_init) both succeed. An error given to done is the server's failure
 * to start; it goes to the console, since no parent exists to receive it.
 */
#include "xen_int.h"

int rumpuser_daemonize_begin(void)
{
	return 0;
}

int rumpuser_daemonize_done(int error)
{
	if (error)
		rumpuser_dprintf("rumpuser: the rump kernel reports error %d while daemonizing\n", error);
	return 0;
}
