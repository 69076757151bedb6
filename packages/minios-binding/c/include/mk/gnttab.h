/*
 * Grant tables (v1): this domain grants other domains access to its pages. Entries are
 * written with the frame and domain first and the flags last, so the other side never
 * sees a half-written grant.
 */
#ifndef MK_GNTTAB_H
#define MK_GNTTAB_H
#include <mk/types.h>

typedef uint32_t mk_grant_ref_t;

void mk_gnttab_init(void);
/* Grants domid access to the page at va (RAM); returns the ref, or -1 when none is free. */
long mk_gnttab_grant_access(uint16_t domid, void *va, bool readonly);
/* Revokes a grant; false (grant kept) while the other side still has it mapped. */
bool mk_gnttab_end_access(mk_grant_ref_t ref);
/* Copies len bytes from a grant (of domid, or ourselves) into our page at dst (hypercall). */
int mk_gnttab_copy_from(uint16_t domid, mk_grant_ref_t ref, unsigned offset, void *dst,
	unsigned len);
unsigned mk_gnttab_nr_entries(void);

#endif
