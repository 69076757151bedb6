/*
 * DomU services: xenstore (read, write, ls, watch, transactions) in the domain's writable
 * "data" folder, and the app config: argv and env as the kernel loaded them.
 */
#include <mk/appcfg.h>
#include <mk/console.h>
#include <mk/lib.h>
#include <mk/mm.h>
#include <mk/time.h>
#include <mk/xen.h>
#include <mk/xenbus.h>

#include "case.h"

static bool read_is(mk_xs_tx_t tx, const char *path, const char *want)
{
	char *v;
	size_t len;
	if (mk_xs_read(tx, path, &v, &len))
		return false;
	bool ok = !mk_strcmp(v, want) && len == mk_strlen(want);
	mk_free(v);
	return ok;
}

static bool case_read_write(void)
{
	int domid = mk_xs_domid();
	CHECK(domid > 0, "domid from xenstore is %d", domid);
	char *name;
	CHECK(mk_xs_read(0, "name", &name, NULL) == 0, "cannot read our name");
	mk_printk("xstest: domid %d, name %s\n", domid, name);
	mk_free(name);
	CHECK(mk_xs_write(0, "data/rumpxen-test/a", "alpha") == 0, "write data/rumpxen-test/a");
	CHECK(read_is(0, "data/rumpxen-test/a", "alpha"), "read back of a");
	char *v;
	CHECK(mk_xs_read(0, "data/rumpxen-test/missing", &v, NULL) == XEN_ENOENT,
		"reading a missing key is not ENOENT");
	CHECK(mk_xs_write(0, "/local/domain/0/rumpxen-forbidden", "x") == 13,
		"writing dom0's folder is not EACCES");
	return true;
}

static bool case_ls(void)
{
	CHECK(mk_xs_write(0, "data/rumpxen-test/b", "beta") == 0, "write b");
	char *names;
	unsigned count;
	CHECK(mk_xs_ls(0, "data/rumpxen-test", &names, &count) == 0, "ls failed");
	bool a = false, b = false;
	const char *p = names;
	for (unsigned i = 0; i < count; i++, p += mk_strlen(p) + 1) {
		a |= !mk_strcmp(p, "a");
		b |= !mk_strcmp(p, "b");
	}
	mk_free(names);
	CHECK(count == 2 && a && b, "ls listed %u entries (a %d, b %d)", count, a, b);
	return true;
}

static bool case_watch(void)
{
	char path[128], token[32];
	CHECK(mk_xs_watch("data/rumpxen-test/w", "tok1") == 0, "watch failed");
	/* A new watch fires once at once, for the current state. */
	CHECK(mk_xs_watch_wait(path, sizeof(path), token, sizeof(token),
		mk_time_monotonic_ns() + 5000000000ULL) == 0, "no initial watch event");
	CHECK(!mk_strcmp(token, "tok1"), "initial event token %s", token);
	CHECK(mk_xs_write(0, "data/rumpxen-test/w", "1") == 0, "write w");
	CHECK(mk_xs_watch_wait(path, sizeof(path), token, sizeof(token),
		mk_time_monotonic_ns() + 5000000000ULL) == 0, "no event after a write");
	CHECK(!mk_strcmp(token, "tok1"), "event token %s", token);
	CHECK(mk_strlen(path) > 2 && !mk_strcmp(path + mk_strlen(path) - 2, "/w"),
		"event path %s", path);
	CHECK(mk_xs_unwatch("data/rumpxen-test/w", "tok1") == 0, "unwatch failed");
	return true;
}

static bool case_transaction(void)
{
	mk_xs_tx_t tx;
	CHECK(mk_xs_tx_start(&tx) == 0, "transaction start");
	CHECK(mk_xs_write(tx, "data/rumpxen-test/t1", "one") == 0, "write in tx");
	CHECK(mk_xs_write(tx, "data/rumpxen-test/t2", "two") == 0, "write in tx");
	CHECK(read_is(tx, "data/rumpxen-test/t1", "one"), "read inside the tx");
	char *v;
	CHECK(mk_xs_read(0, "data/rumpxen-test/t1", &v, NULL) == XEN_ENOENT,
		"an uncommitted write is visible outside the transaction");
	int rc = mk_xs_tx_end(tx, true);
	CHECK(rc == 0, "commit returned %d", rc);
	CHECK(read_is(0, "data/rumpxen-test/t1", "one") && read_is(0, "data/rumpxen-test/t2", "two"),
		"committed values not there");
	CHECK(mk_xs_tx_start(&tx) == 0, "second transaction");
	CHECK(mk_xs_write(tx, "data/rumpxen-test/t3", "three") == 0, "write in tx 2");
	CHECK(mk_xs_tx_end(tx, false) == 0, "abort");
	CHECK(mk_xs_read(0, "data/rumpxen-test/t3", &v, NULL) == XEN_ENOENT,
		"an aborted write became visible");
	CHECK(mk_xs_rm(0, "data/rumpxen-test") == 0, "rm of the test folder");
	return true;
}

int main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		mk_printk("xstest: argv[%d] = %s\n", i, argv[i]);
	const char *greeting = mk_appcfg_getenv("GREETING");
	mk_printk("xstest: GREETING = %s\n", greeting ? greeting : "(unset)");
	/* 100 lines of 100 bytes: five times the console ring, so writers wait for xenconsoled. */
	for (int i = 0; i < 100; i++)
		mk_printk("burst %02d %s\n", i,
			"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abc");
	case_run("xs_read_write", case_read_write);
	case_run("xs_ls", case_ls);
	case_run("xs_watch", case_watch);
	case_run("xs_transaction", case_transaction);
	return case_finish();
}
