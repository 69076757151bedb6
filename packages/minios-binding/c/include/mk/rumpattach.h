/*
 * What the rumpuser layer of this guest kernel tells the code beside it (device support such
 * as @rumpxen/pci-passthrough): whether a rump kernel has attached.
 */
#ifndef MK_RUMPATTACH_H
#define MK_RUMPATTACH_H

#include <mk/types.h>

/*
 * True once rumpuser_init has accepted a rump kernel's upcall table: from then on, code that
 * calls into the rump kernel from a thread of its own must take the rump CPU first.
 */
bool mk_rumpuser_attached(void);

#endif
