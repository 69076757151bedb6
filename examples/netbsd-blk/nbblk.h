/*
 * What blk.c needs of NetBSD beyond ../netbsd/nbsys.h: etfs (a host file or a Xen vbd as a
 * device node in the rump kernel's file system), FFS mount arguments, mount flags and the
 * errors the program expects. Values as NetBSD defines them (rump/rump.h,
 * ufs/ufs/ufsmount.h, sys/fstypes.h, sys/errno.h).
 */
#ifndef RUMPXEN_EXAMPLE_NBBLK_H
#define RUMPXEN_EXAMPLE_NBBLK_H

#include "../netbsd/nbsys.h"

/* enum rump_etfs_type */
enum nb_etfs_type { NB_ETFS_REG, NB_ETFS_BLK, NB_ETFS_CHR, NB_ETFS_DIR, NB_ETFS_DIR_SUBDIRS };
/* The key is the node's path in the rump kernel; hostpath what rumpuser_open gets. */
int rump_pub_etfs_register(const char *key, const char *hostpath, enum nb_etfs_type ftype);

/* ufs/ufs/ufsmount.h */
struct nb_ufs_args {
	char *fspec;
};

enum {
	NB_MNT_RDONLY = 0x1,
	NB_EACCES = 13, NB_EROFS = 30,
};

#endif
