/*
 * Kernel memory from the guest kernel's heap and page allocator, the rump kernel's memory
 * limit (RUMP_MEMLIMIT), and the decision that memory has run out for good.
 *
 * How a NetBSD rump kernel (sys/rump/librump/rumpkern/vm.c) uses these calls: most of its
 * memory goes through rump_hypermalloc, which counts bytes against RUMP_MEMLIMIT before it
 * calls rumpuser_malloc. At the limit a caller that may fail gets NULL; a caller that may
 * sleep waits in uvm_wait for the pagedaemon, which wakes at 90% of the limit. Without a
 * limit nothing is counted and the pagedaemon never frees anything: a failed rumpuser_malloc
 * for a caller that may sleep is retried at once, for ever. Some memory is never counted: the
 * threads' stacks (rumpuser_thread_create), locks, and uvm_km_alloc, which calls
 * rumpuser_malloc directly. So the guest answers a limit that leaves room for those (see
 * rx_memlimit_param), and ends with an out-of-memory report (mk_out_of_memory) when memory
 * cannot come back: a failed allocation retried over and over with nothing big enough
 * succeeding in between, the pagedaemon reporting again and again that it found nothing to
 * free for a waiting allocation, or a rump kernel panic right after an allocation failed.
 */
#include "xen_int.h"
#include <mk/appcfg.h>
#include <mk/console.h>
#include <mk/crash.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/sched.h>
#include <mk/time.h>

/* Bytes the rump kernel holds through rumpuser_malloc and rumpuser_anonmmap, and the most. */
static size_t held_bytes, held_peak;
/* What rumpuser_getparam("RUMP_MEMLIMIT") answered (from the environment or derived), or "". */
static char memlimit_answer[32];
static const char *memlimit_origin = "";

/*
 * A streak of failed allocations: it starts with a failure and ends when an allocation at
 * least as large as the smallest failed one succeeds (then memory is there again for the
 * smallest waiter). Smaller successes do not end it: a waiter for N bytes gains nothing.
 */
static struct {
	unsigned count;
	size_t min_len;
	const char *what;	/* the latest failure */
	size_t len;
	uint64_t first_ns, last_ns;
} streak;

/* An allocator that keeps failing this often over this long is looping for memory that will not come. */
#define OOM_STREAK_FAILURES 16
#define OOM_STREAK_NS 500000000ULL
/* A rump kernel panic this soon after a failed allocation is taken as caused by it. */
#define OOM_PANIC_WINDOW_NS 1000000000ULL
/* The pagedaemon waiting this long anywhere but in its idle wait is waiting for ever. */
#define OOM_PAGEDAEMON_WAIT_NS 3000000000ULL
/* The pagedaemon's "nothing to free" report this many times in a row, each within the window of the last. */
#define OOM_PAGEDAEMON_REPORTS 2
#define OOM_PAGEDAEMON_WINDOW_NS 5000000000ULL

/*
 * Records a failed allocation of len bytes (what: the hypercall or object). Ends the guest
 * with the out-of-memory report when the streak has OOM_STREAK_FAILURES failures spanning
 * OOM_STREAK_NS: a rump kernel caller that may sleep retries at once, so its loop reaches
 * that within a fraction of a second, while a caller that gives up (ENOMEM to the
 * application) does not retry on its own.
 */
void rx_alloc_failed(const char *what, size_t len)
{
	uint64_t now = mk_time_monotonic_ns();
	if (streak.count == 0) {
		streak.first_ns = now;
		streak.min_len = len;
	} else if (len < streak.min_len) {
		streak.min_len = len;
	}
	streak.count++;
	streak.what = what;
	streak.len = len;
	streak.last_ns = now;
	if (streak.count >= OOM_STREAK_FAILURES && now - streak.first_ns >= OOM_STREAK_NS)
		mk_out_of_memory("%s of %zu bytes failed %u times in %lu ms with nothing as large "
			"freed in between: the rump kernel is waiting for memory that will not come",
			what, len, streak.count, (unsigned long)((now - streak.first_ns) / 1000000));
}

/* Records a successful allocation of len bytes: ends a streak it could have satisfied. */
void rx_alloc_succeeded(size_t len)
{
	if (streak.count && len >= streak.min_len)
		streak.count = 0;
}

/*
 * len bytes aligned to alignment (0 or a power of two) from the heap: 0 and *memp, or ENOMEM
 * (EINVAL for a bad alignment) with *memp NULL. Failures and successes feed the streak.
 */
int rumpuser_malloc(size_t len, int alignment, void **memp)
{
	/* vm.c's rump_hypermalloc returns its pointer after an error from a caller that may not sleep. */
	*memp = NULL;
	if (alignment < 0 || (alignment & (alignment - 1)) != 0)
		return RUMPXEN_NETBSD_EINVAL;
	void *p = mk_malloc(len ? len : 1, (size_t)alignment);
	if (!p) {
		rx_alloc_failed("rumpuser_malloc", len);
		return RUMPXEN_NETBSD_ENOMEM;
	}
	rx_alloc_succeeded(len);
	held_bytes += len;
	if (held_bytes > held_peak)
		held_peak = held_bytes;
	*memp = p;
	return 0;
}

/* Gives back a block of rumpuser_malloc; len is what was asked for (kept for the figures). */
void rumpuser_free(void *mem, size_t len)
{
	held_bytes -= len < held_bytes ? len : held_bytes;
	mk_free(mem);
}

/*
 * size bytes of zeroed whole pages aligned to 2^alignbit: 0 and *memp, or ENOMEM/EINVAL with
 * *memp NULL. All RAM is mapped read-write-execute already: prefaddr and exec need nothing.
 */
int rumpuser_anonmmap(void *prefaddr, size_t size, int alignbit, int exec, void **memp)
{
	(void)prefaddr;
	(void)exec;
	*memp = NULL;
	if (size == 0 || alignbit < 0 || alignbit >= 40)
		return RUMPXEN_NETBSD_EINVAL;
	size_t bytes = MK_ALIGN_UP(size, 4096UL);
	size_t align_pages = alignbit > 12 ? (size_t)1 << (alignbit - 12) : 1;
	void *p = mk_page_alloc(bytes >> 12, align_pages);
	if (!p) {
		rx_alloc_failed("rumpuser_anonmmap", size);
		return RUMPXEN_NETBSD_ENOMEM;
	}
	rx_alloc_succeeded(size);
	held_bytes += bytes;
	if (held_bytes > held_peak)
		held_peak = held_bytes;
	/* Anonymous memory reads as zero, as a fresh mapping does on posix. */
	mk_memset(p, 0, bytes);
	*memp = p;
	return 0;
}

/* Gives back the pages of rumpuser_anonmmap(len). */
void rumpuser_unmap(void *addr, size_t len)
{
	size_t bytes = MK_ALIGN_UP(len, 4096UL);
	held_bytes -= bytes < held_bytes ? bytes : held_bytes;
	mk_page_free(addr, bytes >> 12);
}

/*
 * RUMP_MEMLIMIT when the environment sets none. NetBSD reads it once, in uvm_init at the
 * start of rump_init, as a decimal byte count (an optional k/m/g suffix scales it), keeps
 * 2 * MAXPHYS (128 KiB) of it for the pagedaemon, and counts against it only what goes
 * through rump_hypermalloc. The answer is the pages free at that moment (the image, boot
 * data, the allocator's maps and the main thread are gone already) less what the rump
 * kernel will take outside its count:
 *  - its threads: rump_init of the base kernel with vfs, net, netinet and tmpfs starts 15
 *    (measured: softint and clock threads, pagedaemon, vdrain, vrele, cachegc, ioflush,
 *    rt_timer, ipflow, aiodoned, vmem_rehash, ...), each costing its stack, guard page, TLS
 *    block and record (mk_thread_cost: 68 KiB with RX_THREAD_STACK); 16 are reserved;
 *  - locks (rumpuser_*_init: heap objects of 32-64 bytes, about 20 KiB after the demo's
 *    rump_init), uvm_km_alloc's uncounted rumpuser_malloc calls, the heap's rounding (whole
 *    pages above 2 KiB: rumpfs asks for file-sized blocks) and the application's own threads
 *    and allocations: an eighth of what is left, at least RX_MEMLIMIT_SLACK_MIN.
 * So the rump kernel's pagedaemon reclaims caches before the guest's pages run out, and an
 * allocation past the limit fails (ENOMEM/ENOSPC) or waits where NetBSD decides, instead of
 * the guest running dry under it. Less than RX_MEMLIMIT_MIN left: the guest cannot hold a
 * rump kernel, and ends with the out-of-memory report here. Measured: rump_init of the base
 * kernel alone takes 406 KiB besides its threads, with vfs 1021 KiB, with vfs, net, netinet
 * and tmpfs 1336 KiB, which needs a limit between 800 KiB (rump_init waits for memory) and
 * 1000 KiB (it completes). A limit too small for rump_init must not be handed out: rump_init
 * then waits in uvm_wait half way, and NetBSD's callouts run over half-initialised state (a
 * NULL mutex in ip_reass_slowtimo was seen) before the pagedaemon can report anything.
 */
#define RX_MEMLIMIT_THREADS 16
#define RX_MEMLIMIT_SLACK_MIN (256 * 1024UL)
#define RX_MEMLIMIT_MIN (1024 * 1024UL)

/* Copies the answer for RUMP_MEMLIMIT into buf: 0, or E2BIG when blen is too small. */
int rx_memlimit_param(void *buf, size_t blen)
{
	const char *env = mk_appcfg_getenv("RUMP_MEMLIMIT");
	if (env) {
		mk_strlcpy(memlimit_answer, env, sizeof(memlimit_answer));
		memlimit_origin = "from the environment";
	} else {
		size_t free_bytes = mk_mm_free_pages() * 4096;
		size_t threads = RX_MEMLIMIT_THREADS * mk_thread_cost(RX_THREAD_STACK);
		size_t rest = free_bytes > threads ? free_bytes - threads : 0;
		size_t slack = rest / 8 > RX_MEMLIMIT_SLACK_MIN ? rest / 8 : RX_MEMLIMIT_SLACK_MIN;
		size_t limit = rest > slack ? MK_ALIGN_DOWN(rest - slack, 4096UL) : 0;
		mk_snprintf(memlimit_answer, sizeof(memlimit_answer), "%zu", limit);
		memlimit_origin = "derived from the guest's memory";
		if (limit < RX_MEMLIMIT_MIN)
			mk_out_of_memory("a rump kernel needs more than %lu KiB besides %zu KiB for its "
				"threads and %zu KiB of guest reserve, but only %zu KiB are free when it "
				"starts", RX_MEMLIMIT_MIN >> 10, threads >> 10, slack >> 10,
				free_bytes >> 10);
		if (mk_appcfg_getenv("RUMP_VERBOSE"))
			mk_printk("rumpxen: RUMP_MEMLIMIT=%zu (%zu KiB): %zu KiB free, %zu KiB kept for "
				"%d threads, %zu KiB for the guest\n", limit, limit >> 10,
				free_bytes >> 10, threads >> 10, RX_MEMLIMIT_THREADS, slack >> 10);
	}
	size_t len = mk_strlen(memlimit_answer) + 1;
	if (len > blen)
		return RUMPXEN_NETBSD_E2BIG;
	mk_memcpy(buf, memlimit_answer, len);
	return 0;
}

/*
 * NetBSD's pagedaemon prints "pagedaemoness: failed to reclaim memory ... sleeping
 * (deadlock?)" when an allocation waits for memory (uvm_wait), the limit is reached, and it
 * freed nothing at all: no page, no pool page, nothing being paged out. It then sleeps a
 * second and tries again, for ever. OOM_PAGEDAEMON_REPORTS such reports in a row (each
 * within OOM_PAGEDAEMON_WINDOW_NS of the last, so the same wait) mean that for a whole
 * second every other thread ran and none gave memory back: the waiter will wait for ever.
 */
void rx_oom_pagedaemon_stuck(void)
{
	static unsigned reports;
	static uint64_t last_ns;
	uint64_t now = mk_time_monotonic_ns();
	if (reports && now - last_ns > OOM_PAGEDAEMON_WINDOW_NS)
		reports = 0;
	reports++;
	last_ns = now;
	if (reports >= OOM_PAGEDAEMON_REPORTS)
		mk_out_of_memory("the rump kernel is at its memory limit (RUMP_MEMLIMIT %s) and its "
			"pagedaemon found nothing to free %u times in a row for an allocation that "
			"waits", memlimit_answer[0] ? memlimit_answer : "unset", reports);
}

/*
 * The pagedaemon's own waits. NetBSD names its thread "pdaemon" (rump.c) and starts its loop
 * (uvm_pageout, vm.c) with a condition-variable wait for work: the first wait of that thread
 * is its idle wait. Any other wait happens in the middle of a pass, while it frees memory for
 * threads that wait for it; the one that lasts is uvm_wait, when the pagedaemon needs memory
 * itself (uvm_pagermapin's kmem_alloc to write out pages of a file) beyond its reserve.
 * Nothing wakes it then but itself: every thread that needs memory waits for ever, silently.
 */
static struct mk_thread *pagedaemon;
static const void *pagedaemon_idle_cv;
static uint64_t pagedaemon_wait_ns;	/* 0: not waiting in the middle of a pass */

/* Notes a new rump kernel thread: the one named "pdaemon" is the pagedaemon. */
void rx_oom_thread_created(struct mk_thread *t, const char *name)
{
	if (name && mk_strcmp(name, "pdaemon") == 0)
		pagedaemon = t;
}

/* A thread starts waiting on cv: for the pagedaemon, its first cv is its idle wait. */
void rx_oom_cv_wait_begin(const void *cv)
{
	if (!pagedaemon || mk_thread_self() != pagedaemon)
		return;
	if (!pagedaemon_idle_cv)
		pagedaemon_idle_cv = cv;
	else if (cv != pagedaemon_idle_cv)
		pagedaemon_wait_ns = mk_time_monotonic_ns();
}

/* A thread's condition-variable wait ended. */
void rx_oom_cv_wait_end(void)
{
	if (pagedaemon && mk_thread_self() == pagedaemon)
		pagedaemon_wait_ns = 0;
}

/*
 * Called on every tick of the rump kernel's clock thread (rumpuser_clock_sleep, 100 times a
 * second): ends the guest when the pagedaemon has been waiting in the middle of a pass for
 * OOM_PAGEDAEMON_WAIT_NS.
 */
void rx_oom_watch(void)
{
	if (!pagedaemon_wait_ns)
		return;
	uint64_t waited = mk_time_monotonic_ns() - pagedaemon_wait_ns;
	if (waited >= OOM_PAGEDAEMON_WAIT_NS)
		mk_out_of_memory("the rump kernel's pagedaemon has waited %lu ms for memory in the "
			"middle of freeing memory (RUMP_MEMLIMIT %s): every allocation that waits "
			"now waits for ever", (unsigned long)(waited / 1000000),
			memlimit_answer[0] ? memlimit_answer : "unset");
}

static char panic_line[160];

/* Keeps the rump kernel's latest "panic: ..." console line for rx_oom_on_panic. */
void rx_oom_note_panic_line(const char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= sizeof(panic_line))
		len = sizeof(panic_line) - 1;
	mk_memcpy(panic_line, line, len);
	panic_line[len] = 0;
}

/* Whether word occurs in the string s. */
static bool mentions(const char *s, const char *word)
{
	size_t n = mk_strlen(word);
	for (; *s; s++)
		if (mk_strncmp(s, word, n) == 0)
			return true;
	return false;
}

/*
 * Called when the rump kernel panics (rumpuser_exit(RUMPUSER_PANIC)): if an allocation failed
 * within OOM_PANIC_WINDOW_NS with no adequate success since (uvm_km_alloc panics at once when
 * rumpuser_malloc fails; lwp creation when a thread cannot be made), or the panic message says
 * "out of memory" (the pagedaemon itself out of memory), the report is the out-of-memory one.
 * Otherwise it returns and the caller reports the panic.
 */
void rx_oom_on_panic(void)
{
	uint64_t now = mk_time_monotonic_ns();
	const char *msg = panic_line[0] ? panic_line : "no panic message seen";
	if (streak.count && now - streak.last_ns <= OOM_PANIC_WINDOW_NS)
		mk_out_of_memory("%s of %zu bytes failed and the rump kernel panicked (%s)",
			streak.what, streak.len, msg);
	if (mentions(panic_line, "out of memory"))
		mk_out_of_memory("the rump kernel panicked (%s)", msg);
}

/* The rump kernel's part of the out-of-memory report (mk_oom_set_detail). */
void rx_oom_detail(void)
{
	mk_printk("rumpxen: memory: the rump kernel holds %zu KiB through rumpuser_malloc and "
		"anonmmap (at most %zu KiB), RUMP_MEMLIMIT %s%s%s\n", held_bytes >> 10,
		held_peak >> 10, memlimit_answer[0] ? memlimit_answer : "not asked for",
		memlimit_origin[0] ? " " : "", memlimit_origin);
	if (streak.count)
		mk_printk("rumpxen: memory: the latest failed allocation: %s of %zu bytes, %lu ms ago "
			"(%u failed since one as large as the smallest of them succeeded)\n",
			streak.what, streak.len,
			(unsigned long)((mk_time_monotonic_ns() - streak.last_ns) / 1000000),
			streak.count);
	if (pagedaemon && pagedaemon != mk_thread_self()) {
		mk_printk("rumpxen: memory: the pagedaemon is %s; it stopped in:\n",
			pagedaemon_wait_ns ? "waiting in the middle of a pass" : "idle or freeing");
		mk_thread_backtrace(pagedaemon);
	}
}
