/*
 * Crash reports: trap decoding, registers, faulting address, frame-pointer backtrace with
 * names from the image's symbol table section (.mk_symtab, added at link time when the
 * image is linked with symbols), then shutdown with reason crash.
 */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/crash.h>
#include <mk/hypercall.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/sched.h>

static const char *const trap_names[] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 FPU error", "alignment check", "machine check",
	"SIMD FP exception", "virtualization", "control protection",
};

static int crashing;
static MK_NORETURN void report_frame(const struct mk_trap_frame *f);

/*
 * Symbols come from the image's own ELF symbol table, which Xen's loader places right after
 * the loaded image when the XEN_ELFNOTE_BSD_SYMTAB note is present: a 32-bit size, then an
 * ELF header whose three section headers locate the symtab and strtab (offsets relative to
 * that header). A stripped image has none; the backtrace then shows addresses only.
 */
struct elf64_ehdr {
	unsigned char ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_shdr {
	uint32_t name, type;
	uint64_t flags, addr, offset, size;
	uint32_t link, info;
	uint64_t addralign, entsize;
};
struct elf64_sym {
	uint32_t name;
	uint8_t info, other;
	uint16_t shndx;
	uint64_t value, size;
};

extern char mk_image_load_end[];
static const struct elf64_sym *symtab;
static size_t symtab_count;
static const char *strtab;
static size_t strtab_size;
static bool symtab_probed;

static void symtab_probe(void)
{
	symtab_probed = true;
	unsigned long base = MK_ALIGN_UP((unsigned long)mk_image_load_end, 8UL);
	uint32_t size = *(const uint32_t *)base;
	const char *eh_base = (const char *)base + 4;
	const struct elf64_ehdr *eh = (const void *)eh_base;
	if (size < sizeof(*eh) || size > (64UL << 20) || mk_memcmp(eh->ident, "\x7f" "ELF", 4) ||
			eh->shnum != 3 || eh->shentsize != sizeof(struct elf64_shdr) ||
			eh->shoff + 3 * sizeof(struct elf64_shdr) > size)
		return;
	const struct elf64_shdr *sh = (const void *)(eh_base + eh->shoff);
	if (sh[1].type != 2 || sh[1].entsize != sizeof(struct elf64_sym) || sh[2].type != 3 ||
			sh[1].offset + sh[1].size > size || sh[2].offset + sh[2].size > size)
		return;
	symtab = (const void *)(eh_base + sh[1].offset);
	symtab_count = sh[1].size / sizeof(struct elf64_sym);
	strtab = eh_base + sh[2].offset;
	strtab_size = sh[2].size;
}

bool mk_symbol_table(void **sym, uint64_t *symsize, char **str, uint64_t *strsize)
{
	if (!symtab_probed)
		symtab_probe();
	if (!symtab)
		return false;
	*sym = (void *)symtab;
	*symsize = symtab_count * sizeof(struct elf64_sym);
	*str = (char *)strtab;
	*strsize = strtab_size;
	return true;
}

const char *mk_symbol_lookup(unsigned long addr, unsigned long *offset)
{
	if (!symtab_probed)
		symtab_probe();
	const struct elf64_sym *best = NULL;
	for (size_t i = 0; i < symtab_count; i++) {
		const struct elf64_sym *s = &symtab[i];
		if ((s->info & 0xf) != 2 /* STT_FUNC */ || s->value > addr)
			continue;
		if (s->size && addr >= s->value + s->size)
			continue;
		if (!best || s->value > best->value)
			best = s;
	}
	if (!best || best->name >= strtab_size)
		return NULL;
	*offset = addr - best->value;
	return strtab + best->name;
}

MK_NORETURN void mk_shutdown(unsigned reason)
{
	mk_console_flush();
	struct xen_sched_shutdown sd = { reason };
	for (;;)
		mk_hc_sched_op(XEN_SCHEDOP_shutdown, &sd);
}

static void print_location(unsigned long addr)
{
	unsigned long off;
	const char *name = mk_symbol_lookup(addr, &off);
	if (name)
		mk_printk(" %#018lx %s+%#lx\n", addr, name, off);
	else
		mk_printk(" %#018lx ?\n", addr);
}

static bool frame_readable(unsigned long rbp)
{
	/* Only RAM mapped at virtual == pseudo-physical; page 0 is a guard. */
	return rbp >= 4096 && (rbp & 7) == 0 && (rbp >> 12) + 1 < mk_boot.nr_pages;
}

void mk_backtrace(unsigned long rip, unsigned long rbp)
{
	mk_printk("rumpxen: backtrace:\n");
	if (rip)
		print_location(rip);
	for (int depth = 0; depth < 32 && frame_readable(rbp); depth++) {
		const unsigned long *fp = (const unsigned long *)rbp;
		unsigned long ret = fp[1];
		if (ret < 4096)
			break;
		print_location(ret - 1);
		if (fp[0] <= rbp)
			break; /* stacks grow down: a caller's frame is always higher */
		rbp = fp[0];
	}
	if (!symtab)
		mk_printk("rumpxen: (no symbol table: the image is stripped, so no names)\n");
}

void mk_trap_handle(struct mk_trap_frame *f)
{
	if (crashing++)
		mk_shutdown(XEN_SHUTDOWN_crash);
	unsigned long v = f->vector;
	mk_printk("\nrumpxen: crash: trap %lu (%s), error code %#lx\n", v,
		v < MK_ARRAY_SIZE(trap_names) ? trap_names[v] : "?", f->error_code);
	if (v == 14) {
		unsigned long cr2 = mk_arch_fault_address();
		mk_printk("rumpxen: fault address %#lx (%s %s, %s)%s\n", cr2,
			f->error_code & 2 ? "write" : "read",
			f->error_code & 16 ? "fetch" : "access",
			f->error_code & 1 ? "protection" : "not present",
			(cr2 < 4096) ? " NULL dereference" : "");
		if (mk_fault_in_guard_page(cr2))
			mk_printk("rumpxen: stack overflow: fault in the guard page of thread '%s'\n",
				mk_fault_guard_owner(cr2));
	}
	report_frame(f);
}

/* Registers, backtrace, then shutdown with reason crash. */
static MK_NORETURN void report_frame(const struct mk_trap_frame *f)
{
	mk_printk("rumpxen: rip %#018lx cs %#lx rflags %#lx rsp %#018lx ss %#lx\n", f->rip,
		f->cs & 0xffff, f->rflags, f->rsp, f->ss & 0xffff);
	mk_printk("rumpxen: rax %#018lx rbx %#018lx rcx %#018lx rdx %#018lx\n", f->rax, f->rbx,
		f->rcx, f->rdx);
	mk_printk("rumpxen: rsi %#018lx rdi %#018lx rbp %#018lx r8  %#018lx\n", f->rsi, f->rdi,
		f->rbp, f->r8);
	mk_printk("rumpxen: r9  %#018lx r10 %#018lx r11 %#018lx r12 %#018lx\n", f->r9, f->r10,
		f->r11, f->r12);
	mk_printk("rumpxen: r13 %#018lx r14 %#018lx r15 %#018lx\n", f->r13, f->r14, f->r15);
	mk_backtrace(f->rip, f->rbp);
	mk_printk("rumpxen: shutting down with reason crash\n");
	mk_shutdown(XEN_SHUTDOWN_crash);
}

MK_NORETURN void mk_crash_frame(const struct mk_trap_frame *f, const char *fmt, ...)
{
	if (crashing++)
		mk_shutdown(XEN_SHUTDOWN_crash);
	va_list ap;
	va_start(ap, fmt);
	mk_printk("\nrumpxen: crash: ");
	mk_vprintk(fmt, ap);
	mk_printk("\n");
	va_end(ap);
	report_frame(f);
}

MK_NORETURN void mk_panic(const char *fmt, ...)
{
	if (crashing++)
		mk_shutdown(XEN_SHUTDOWN_crash);
	va_list ap;
	va_start(ap, fmt);
	mk_printk("\nrumpxen: panic: ");
	mk_vprintk(fmt, ap);
	mk_printk("\n");
	va_end(ap);
	/* From mk_panic's own frame: the first line is its caller. */
	mk_backtrace(0, (unsigned long)__builtin_frame_address(0));
	mk_printk("rumpxen: shutting down with reason crash\n");
	mk_shutdown(XEN_SHUTDOWN_crash);
}

static void (*oom_detail)(void);

void mk_oom_set_detail(void (*detail)(void))
{
	oom_detail = detail;
}

MK_NORETURN void mk_out_of_memory(const char *fmt, ...)
{
	if (crashing++)
		mk_shutdown(XEN_SHUTDOWN_crash);
	va_list ap;
	va_start(ap, fmt);
	mk_printk("\nrumpxen: out of memory: ");
	mk_vprintk(fmt, ap);
	va_end(ap);
	mk_printk("; the guest has %zu KiB, %zu KiB free (largest free block %zu KiB, "
		"least free since boot %zu KiB)\n", mk_mm_total_pages() * 4, mk_mm_free_pages() * 4,
		mk_mm_largest_free_run() * 4, mk_mm_low_water_pages() * 4);
	size_t nthreads, stack_bytes;
	mk_sched_memory(&nthreads, &stack_bytes);
	mk_printk("rumpxen: memory: %zu KiB image and boot data, %zu threads holding %zu KiB "
		"(stacks with guard pages, TLS)\n", mk_mm_boot_pages() * 4, nthreads,
		stack_bytes >> 10);
	if (oom_detail)
		oom_detail();
	mk_printk("rumpxen: found out in thread '%s'\n", mk_thread_name(mk_thread_self()));
	mk_backtrace(0, (unsigned long)__builtin_frame_address(0));
	mk_printk("rumpxen: shutting down with reason crash\n");
	mk_shutdown(XEN_SHUTDOWN_crash);
}
