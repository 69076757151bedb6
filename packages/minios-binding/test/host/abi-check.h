/*
 * Assertions that one of our protocol headers matches Xen's own (test/<dir>/<abi>-abi.c):
 * each fails the compile with a message naming our field, type or constant.
 */
#ifndef RUMPXEN_TEST_ABI_CHECK_H
#define RUMPXEN_TEST_ABI_CHECK_H
#include <stddef.h>

/* `struct ours` has `field` at the offset Xen's `struct theirs` has it. */
#define SAME_OFFSET(ours, theirs, field) \
	_Static_assert(offsetof(struct ours, field) == offsetof(struct theirs, field), \
		#ours "." #field " is not where Xen puts it")
/* Type `ours` is the size of Xen's `theirs`. */
#define SAME_SIZE(ours, theirs) \
	_Static_assert(sizeof(ours) == sizeof(theirs), #ours " is not the size of " #theirs)
/* Constant `ours` has Xen's value `theirs`. */
#define SAME_VALUE(ours, theirs) \
	_Static_assert((long)(ours) == (long)(theirs), #ours " != " #theirs)

#endif
