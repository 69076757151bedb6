/*
 * pcifront when pciback does not answer (DomU with edu passed through). After one normal
 * config read the test closes the frontend's event channel, so pciback never hears of the
 * next op: that op must fail after the 10 s timeout, the next one must be refused at once
 * without touching the op page (pciback may still own it), and once the active flag clears
 * (set here as a late pciback would) ops are sent again.
 */
#include <mk/arch.h>
#include <mk/console.h>
#include <mk/evtchn.h>
#include <mk/lib.h>
#include <mk/sched.h>
#include <mk/time.h>
#include <mk/xen.h>
#include <pcix/pcix.h>
#include <pcix/xenpci.h>

struct pcix_xen_pci_sharedinfo *pcix_front_test_page(uint32_t *port);

static bool contains(const char *s, const char *w)
{
	size_t n = mk_strlen(w);
	for (; *s; s++)
		if (!mk_strncmp(s, w, n))
			return true;
	return false;
}

static int failures;
static void verdict(const char *name, bool ok, const char *msg)
{
	if (ok)
		mk_printk("case %s: PASS\n", name);
	else
		mk_printk("case %s: FAIL %s\n", name, msg);
	failures += !ok;
}

int main(void)
{
	int err = pcix_init();
	if (err) {
		mk_printk("case front_read: FAIL pcix_init: %s\n", pcix_last_error());
		mk_printk("Test result: FAILURE\n");
		return 5;
	}
	uint32_t v = 0;
	err = pcix_conf_read(0, 0, 0, 0, &v);
	verdict("front_read", err == 0 && v == 0x11e81234, pcix_last_error());

	/*
	 * Let pciback finish with that op first. Linux's xen-pciback clears the page's active flag,
	 * then looks at it once more before it stops ("another request in between"): an op
	 * started in that window is taken without any event, which the closed channel below would
	 * not stop. Seen once in CI: the unanswered op was answered after 4 ms.
	 */
	mk_thread_block_until(mk_time_monotonic_ns() + 200000000ULL);

	uint32_t port;
	struct pcix_xen_pci_sharedinfo *sh = pcix_front_test_page(&port);
	long rc = mk_evtchn_close(port);
	mk_printk("pcistuck: closed pcifront's event channel %u (%ld)\n", port, rc);

	uint64_t t0 = mk_time_monotonic_ns();
	err = pcix_conf_read(0, 0, 0, 0, &v);
	uint64_t ms = (mk_time_monotonic_ns() - t0) / 1000000;
	mk_printk("pcistuck: unanswered op failed after %lu ms: %s\n", (unsigned long)ms,
		pcix_last_error());
	verdict("op_timeout", err == XEN_EIO && ms >= 10000 && contains(pcix_last_error(),
		"pciback did not answer pcifront op 0 (conf_read) within 10 s"), pcix_last_error());

	t0 = mk_time_monotonic_ns();
	err = pcix_conf_read(0, 0, 0, 8, &v);
	ms = (mk_time_monotonic_ns() - t0) / 1000000;
	mk_printk("pcistuck: op while pciback owns the page failed after %lu ms: %s\n",
		(unsigned long)ms, pcix_last_error());
	bool untouched = MK_READ_ONCE(sh->op.offset) == 0 && (MK_READ_ONCE(sh->flags) & 1);
	verdict("refused_while_owned", err == XEN_EIO && ms < 1000 && untouched &&
		contains(pcix_last_error(), "out of service: pciback did not answer op 0 (conf_read)"),
		untouched ? pcix_last_error() : "the op page was written while pciback owned it");

	/* A late answer: pciback clears the active flag, the page is the frontend's again. */
	__atomic_and_fetch(&sh->flags, ~1u, __ATOMIC_SEQ_CST);
	err = pcix_conf_read(0, 0, 0, 8, &v);
	verdict("sent_after_clear", err == XEN_EIO && MK_READ_ONCE(sh->op.offset) == 8 &&
		contains(pcix_last_error(), "within 10 s"), pcix_last_error());

	mk_printk("Test result: %s\n", failures ? "FAILURE" : "SUCCESS");
	return failures ? 5 : 0;
}
