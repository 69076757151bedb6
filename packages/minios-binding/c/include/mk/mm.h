/*
 * Physical pages (all RAM is mapped at virtual == pseudo-physical) and the kernel heap.
 * Allocation failure returns NULL; nothing here panics on exhaustion.
 */
#ifndef MK_MM_H
#define MK_MM_H
#include <mk/types.h>

void mk_mm_init(void);
/* npages contiguous pages aligned to align_pages (a power of two), or NULL. */
void *mk_page_alloc(size_t npages, size_t align_pages);
void mk_page_free(void *va, size_t npages);
/* Heap: size bytes aligned to align (power of two, 0 = 16); NULL when out of memory. */
void *mk_malloc(size_t size, size_t align);
void *mk_zalloc(size_t size, size_t align);
void mk_free(void *p);
size_t mk_mm_free_pages(void);
size_t mk_mm_total_pages(void);

#endif
