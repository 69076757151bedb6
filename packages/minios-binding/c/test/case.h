/*
 * The kernel test programs' case harness: @rumpxen/protocol's rumpxen/case.h (the one case
 * protocol and runner of every guest test program) over the guest kernel's formatter and
 * console. A case is a bool function that uses CHECK; case_run() prints `case NAME: PASS` or
 * `case NAME: FAIL why` and case_finish() prints XTF's result line and gives main's return
 * value (0, or 5 for FAILURE).
 */
#ifndef MK_TEST_CASE_H
#define MK_TEST_CASE_H

#include <mk/console.h>
#include <mk/lib.h>
#include <mk/types.h>

#define CASE_VSNPRINTF mk_vsnprintf
#define CASE_PUTLINE(text) mk_printk("%s\n", (text))
#include <rumpxen/case.h>

#endif
