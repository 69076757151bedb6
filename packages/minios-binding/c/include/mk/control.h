/*
 * The guest's side of the toolstack's control protocol: shutdown requests through xenstore
 * control/shutdown, and the application's exit status for the toolstack.
 */
#ifndef MK_CONTROL_H
#define MK_CONTROL_H
#include <mk/types.h>

/* Where a DomU writes its exit status (relative to its xenstore home; "data" is guest-writable). */
#define MK_EXIT_STATUS_NODE "data/rumpxen/exit-status"

/*
 * Starts the thread that watches control/shutdown (DomU with xenstore only) and acts on
 * poweroff, halt and reboot requests. Call once, after mk_xenbus_init.
 */
void mk_control_start(void);

/*
 * Ends the image with an exit status: prints "rumpxen: exit N", writes N to
 * MK_EXIT_STATUS_NODE (DomU), shuts down with reason poweroff (0) or crash (anything else).
 */
MK_NORETURN void mk_app_exit(int status);

#endif
