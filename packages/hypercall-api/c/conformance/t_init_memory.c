/* rumpuser_init and memory: malloc/free with alignment, anonymous mappings. */
#include "conf.h"

/* main() asked for version 18 first; the layer must have said no. */
static void init_version_mismatch(void)
{
	CHECK(conf_init_mismatch_rv != 0,
	    "rumpuser_init(RUMPUSER_VERSION + 1) returned 0; a mismatched kernel must be refused");
}

static void malloc_free(void)
{
	static const size_t sizes[] = { 1, 64, 4096, 65536, 1 << 20 };
	unsigned i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p;
		void *mem = NULL;
		size_t j;
		int rv = rumpuser_malloc(sizes[i], 0, &mem);

		CHECK(rv == 0 && mem != NULL, "rumpuser_malloc(%zu, 0) returned %d, mem %p",
		    sizes[i], rv, mem);
		p = mem;
		CHECK(((uintptr_t)p & (sizeof(void *) - 1)) == 0,
		    "rumpuser_malloc(%zu, 0) gave %p, not aligned for a pointer", sizes[i], mem);
		for (j = 0; j < sizes[i]; j++)
			p[j] = (unsigned char)(j * 7);
		for (j = 0; j < sizes[i]; j++)
			CHECK(p[j] == (unsigned char)(j * 7), "memory at %p+%zu did not keep its value",
			    mem, j);
		rumpuser_free(mem, sizes[i]);
	}
}

static void malloc_aligned(void)
{
	static const int aligns[] = { 8, 16, 64, 512, 4096, 65536 };
	void *mems[6];
	unsigned i;

	for (i = 0; i < 6; i++) {
		int rv = rumpuser_malloc(100, aligns[i], &mems[i]);
		CHECK(rv == 0, "rumpuser_malloc(100, %d) returned %d", aligns[i], rv);
		CHECK(((uintptr_t)mems[i] & (uintptr_t)(aligns[i] - 1)) == 0,
		    "rumpuser_malloc(100, %d) gave %p, not aligned", aligns[i], mems[i]);
		conf_memset(mems[i], 0xa5, 100);
	}
	/* Distinct live allocations must not overlap. */
	for (i = 0; i < 6; i++) {
		unsigned j;
		for (j = i + 1; j < 6; j++) {
			uintptr_t a = (uintptr_t)mems[i], b = (uintptr_t)mems[j];
			CHECK(a + 100 <= b || b + 100 <= a, "allocations %p and %p overlap",
			    mems[i], mems[j]);
		}
	}
	for (i = 0; i < 6; i++)
		rumpuser_free(mems[i], 100);
}

static void anonmmap_unmap(void)
{
	const size_t size = 256 * 1024;
	unsigned char *p;
	void *mem = NULL;
	size_t i;
	int rv;

	rv = rumpuser_anonmmap(NULL, size, 16, 0, &mem);
	CHECK_RV("rumpuser_anonmmap(NULL, 256 KiB, alignbit 16, 0)", rv, 0);
	CHECK(((uintptr_t)mem & 0xffff) == 0, "rumpuser_anonmmap gave %p, not 64 KiB aligned",
	    mem);
	p = mem;
	for (i = 0; i < size; i += 4096)
		CHECK(p[i] == 0, "anonymous memory at offset %zu is not zero", i);
	for (i = 0; i < size; i += 4096)
		p[i] = (unsigned char)(i >> 12);
	for (i = 0; i < size; i += 4096)
		CHECK(p[i] == (unsigned char)(i >> 12), "anonymous memory at %zu lost a write", i);
	rumpuser_unmap(mem, size);
}

const struct conf_case conf_cases_init_memory[] = {
	{ "init_version_mismatch", init_version_mismatch },
	{ "malloc_free", malloc_free },
	{ "malloc_aligned", malloc_aligned },
	{ "anonmmap_unmap", anonmmap_unmap },
	{ NULL, NULL },
};
