/* Host (Linux) errno to NetBSD numbering, from the table generated out of the interface data. */
#include "posix_int.h"
#include "rumpxen/errno_linux_to_netbsd.h"

int posix_errtrans(int host_errno)
{
	return rumpxen_errno_linux_to_netbsd(host_errno);
}
