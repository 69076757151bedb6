/*
 * Toolstack control for a DomU. A kernel thread watches xenstore control/shutdown (the node
 * libxl and the Node API write to ask a guest to stop): "poweroff" and "halt" end the domain
 * with reason poweroff, "reboot" with reason reboot. The guest acknowledges a request as Xen
 * guests do, by writing the node back to the empty string, and prints a line before it acts.
 * "suspend" is not supported (no suspend/resume): it is acknowledged, reported and ignored,
 * as is any unknown request. The node's value comes from another domain: it is copied,
 * bounded and compared against the known words only.
 */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/control.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include <mk/time.h>
#include <mk/xenbus.h>

#define SHUTDOWN_NODE "control/shutdown"
#define SHUTDOWN_TOKEN "mk:control-shutdown"
/* Longer values are not a request we know. */
#define MAX_REQUEST 16

static bool control_running;

static bool is_domu_with_xenstore(void)
{
	return !mk_boot.is_dom0 && mk_xenbus_available();
}

/* Handles the current value of control/shutdown; returns only if the guest goes on running. */
static void handle_request(void)
{
	char *raw;
	size_t len;
	if (mk_xs_read(0, SHUTDOWN_NODE, &raw, &len) != 0)
		return; /* not there (yet): nothing asked */
	char req[MAX_REQUEST + 1];
	bool too_long = len > MAX_REQUEST;
	mk_strlcpy(req, raw, sizeof(req));
	mk_free(raw);
	if (req[0] == 0)
		return; /* empty: nothing asked, or our own acknowledgement */
	for (char *c = req; *c; c++) {
		if (*c < 0x20 || *c > 0x7e)
			*c = '?'; /* printable only on our console */
	}
	unsigned reason;
	if (too_long)
		reason = ~0u;
	else if (mk_strcmp(req, "poweroff") == 0 || mk_strcmp(req, "halt") == 0)
		reason = XEN_SHUTDOWN_poweroff;
	else if (mk_strcmp(req, "reboot") == 0)
		reason = XEN_SHUTDOWN_reboot;
	else
		reason = ~0u;
	/* Acknowledge: the toolstack sees the request was taken. */
	int rc = mk_xs_write(0, SHUTDOWN_NODE, "");
	if (rc != 0)
		mk_printk("rumpxen: cannot acknowledge %s (error %d)\n", SHUTDOWN_NODE, rc);
	if (reason == ~0u) {
		mk_printk("rumpxen: ignoring shutdown request '%s'%s: only poweroff, halt and reboot are supported\n",
			req, too_long ? "..." : "");
		return;
	}
	mk_printk("rumpxen: shutdown requested by the toolstack: %s\n", req);
	mk_shutdown(reason);
}

static void *control_thread(void *unused)
{
	(void)unused;
	char path[64];
	int rc;
	/* Each event means "look at the node" (the registration's was taken in mk_control_start). */
	while ((rc = mk_xs_kernel_watch_wait(SHUTDOWN_TOKEN, path, sizeof(path), 0)) == 0)
		handle_request();
	mk_printk("rumpxen: xenstore failed (error %d): shutdown requests are ignored from now on\n", rc);
	return NULL;
}

void mk_control_start(void)
{
	if (control_running || !is_domu_with_xenstore())
		return;
	/*
	 * The watch is registered, its first event taken and a request made before boot handled
	 * here, in the caller's thread; then the control thread starts and runs (yield) until it
	 * blocks on the ring. From then on it runs only when xenstore has something for it, never
	 * in between the application's own work (segment state and timing stay the app's).
	 */
	int rc = mk_xs_watch(SHUTDOWN_NODE, SHUTDOWN_TOKEN);
	if (rc != 0) {
		mk_printk("rumpxen: cannot watch %s (error %d): shutdown requests are ignored\n", SHUTDOWN_NODE, rc);
		return;
	}
	char path[64];
	rc = mk_xs_kernel_watch_wait(SHUTDOWN_TOKEN, path, sizeof(path), mk_time_monotonic_ns() + 5000000000ULL);
	if (rc == 0)
		handle_request();
	if (!mk_thread_create("control", control_thread, NULL, MK_THREAD_STACK_DEFAULT, false)) {
		mk_printk("rumpxen: out of memory for the control thread: shutdown requests are ignored\n");
		return;
	}
	control_running = true;
	mk_thread_yield();
}

MK_NORETURN void mk_app_exit(int status)
{
	mk_printk("rumpxen: exit %d\n", status);
	if (is_domu_with_xenstore()) {
		char num[16];
		mk_snprintf(num, sizeof(num), "%d", status);
		int rc = mk_xs_write(0, MK_EXIT_STATUS_NODE, num);
		if (rc != 0)
			mk_printk("rumpxen: cannot write %s (error %d); the console line above has the status\n",
				MK_EXIT_STATUS_NODE, rc);
	}
	mk_shutdown(status == 0 ? XEN_SHUTDOWN_poweroff : XEN_SHUTDOWN_crash);
}
