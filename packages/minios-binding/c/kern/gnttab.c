/* Grant table v1; see mk/gnttab.h. Frames come from GNTTABOP_setup_table (PV) or are
 * placed in the physmap with XENMAPSPACE_grant_table (PVH), by the arch layer. */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/crash.h>
#include <mk/gnttab.h>
#include <mk/hypercall.h>
#include <mk/lib.h>
#include <mk/mm.h>

#define GNTTABOP_copy 5
#define GNTTABOP_query_size 6
#define GTF_permit_access 1u
#define GTF_readonly (1u << 2)
#define GTF_reading (1u << 3)
#define GTF_writing (1u << 4)
#define GNTCOPY_source_gref 1u
#define NR_RESERVED 8 /* refs 0..7 are for the toolstack (console, xenstore) */
#define MAX_FRAMES 4

struct grant_entry_v1 {
	uint16_t flags;
	uint16_t domid;
	uint32_t frame;
};

struct gnttab_query_size {
	uint16_t dom;
	uint32_t nr_frames;
	uint32_t max_nr_frames;
	int16_t status;
};

struct gnttab_copy_ptr {
	union {
		uint32_t ref;
		unsigned long gmfn;
	} u;
	uint16_t domid;
	uint16_t offset;
};
struct gnttab_copy {
	struct gnttab_copy_ptr source, dest;
	uint16_t len;
	uint16_t flags;
	int16_t status;
};

static struct grant_entry_v1 *table;
static unsigned nr_entries;
static uint32_t *free_list; /* free_list[i]: next free ref after i; 0 ends it */
static uint32_t free_head;

/* Maps nr grant table frames at va; returns 0 or a Xen error (arch: PV or PVH way). */
int mk_arch_gnttab_map(void *va, unsigned nr);

void mk_gnttab_init(void)
{
	struct gnttab_query_size q = { .dom = XEN_DOMID_SELF };
	if (mk_hc_grant_table_op(GNTTABOP_query_size, &q, 1) || q.status) {
		mk_printk("rumpxen: grant tables unavailable (query_size status %d)\n", q.status);
		return;
	}
	unsigned nr = q.nr_frames ? q.nr_frames : 1;
	if (nr > MAX_FRAMES)
		nr = MAX_FRAMES;
	void *va = (void *)mk_arch_mapping_area_start;
	mk_arch_mapping_area_start += MAX_FRAMES * 4096UL;
	int rc = mk_arch_gnttab_map(va, nr);
	if (rc) {
		mk_printk("rumpxen: grant tables unavailable (mapping %u frames: error %d)\n", nr, rc);
		return;
	}
	table = va;
	nr_entries = nr * 4096 / sizeof(struct grant_entry_v1);
	free_list = mk_zalloc(nr_entries * sizeof(uint32_t), 0);
	if (!free_list)
		mk_out_of_memory("the grant table's free list (%zu bytes)",
			(size_t)nr_entries * sizeof(uint32_t));
	for (unsigned i = NR_RESERVED; i + 1 < nr_entries; i++)
		free_list[i] = i + 1;
	free_head = NR_RESERVED;
}

unsigned mk_gnttab_nr_entries(void)
{
	return nr_entries;
}

long mk_gnttab_grant_access(uint16_t domid, void *va, bool readonly)
{
	if (!table || !free_head)
		return -1;
	uint32_t ref = free_head;
	free_head = free_list[ref];
	table[ref].frame = (uint32_t)mk_arch_pfn_to_mfn((unsigned long)va >> 12);
	table[ref].domid = domid;
	mk_wmb();
	MK_WRITE_ONCE(table[ref].flags, (uint16_t)(GTF_permit_access |
		(readonly ? GTF_readonly : 0)));
	return ref;
}

bool mk_gnttab_end_access(mk_grant_ref_t ref)
{
	if (ref < NR_RESERVED || ref >= nr_entries)
		mk_panic("mk_gnttab_end_access: grant ref %u out of range", ref);
	uint16_t flags = MK_READ_ONCE(table[ref].flags);
	do {
		if (flags & (GTF_reading | GTF_writing))
			return false;
	} while (!__atomic_compare_exchange_n(&table[ref].flags, &flags, 0, false,
		__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	free_list[ref] = free_head;
	free_head = ref;
	return true;
}

int mk_gnttab_copy_from(uint16_t domid, mk_grant_ref_t ref, unsigned offset, void *dst,
	unsigned len)
{
	struct gnttab_copy c = {
		.source = { .u.ref = ref, .domid = domid, .offset = (uint16_t)offset },
		.dest = { .u.gmfn = mk_arch_pfn_to_mfn((unsigned long)dst >> 12),
			.domid = XEN_DOMID_SELF, .offset = (uint16_t)((unsigned long)dst & 4095) },
		.len = (uint16_t)len,
		.flags = GNTCOPY_source_gref,
	};
	long rc = mk_hc_grant_table_op(GNTTABOP_copy, &c, 1);
	return rc ? (int)rc : c.status;
}
