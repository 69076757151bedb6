/*
 * netbsd-sqlite: SQLite's amalgamation, unmodified, run by this small driver. It opens a
 * database file (on NetBSD: on a tmpfs it mounts at /tmp; elsewhere: in the directory given
 * as argv[1]), runs the first part of script.sql (transactions, a rollback, indexes, joins,
 * aggregates), closes the file, opens it again and runs the second part, which checks that
 * the data persisted. Every row is printed as "value|value|..."; the output is the same on
 * every system that runs the same SQLite, so a DomU's console is compared with a host run.
 * Exit status 0 when every statement succeeded, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __NetBSD__
#include <sys/mount.h>
#include <fs/tmpfs/tmpfs_args.h>
#endif

/* Both staged by prepare.mjs: SQLite's header, and script.sql as a C string. */
#include "build/sqlite3.h"
#include "build/script.h"

#define DB_NAME "shop.db"
#define REOPEN_MARK "\n-- reopen\n"

static void fail(const char *what, const char *why)
{
	printf("netbsd-sqlite: %s: %s\n", what, why);
	exit(1);
}

#ifdef __NetBSD__
/* A tmpfs on /tmp, as a NetBSD system has one; the database lives there. */
static void mount_tmp(void)
{
	struct tmpfs_args args;

	memset(&args, 0, sizeof(args));
	args.ta_version = TMPFS_ARGS_VERSION;
	args.ta_root_mode = 01777;
	if (mkdir("/tmp", 0777) != 0 && errno != EEXIST)
		fail("mkdir /tmp", strerror(errno));
	if (mount(MOUNT_TMPFS, "/tmp", 0, &args, sizeof(args)) != 0)
		fail("mount tmpfs on /tmp", strerror(errno));
	printf("tmpfs mounted on /tmp\n");
}
#endif

static void print_row(sqlite3_stmt *stmt)
{
	int n = sqlite3_column_count(stmt);

	for (int i = 0; i < n; i++) {
		const unsigned char *text = sqlite3_column_text(stmt, i);

		printf("%s%s", i ? "|" : "", text ? (const char *)text : "NULL");
	}
	printf("\n");
}

/* Runs every statement of sql[0..len), printing their rows; ends the program on an error. */
static void run_sql(sqlite3 *db, const char *sql, size_t len)
{
	const char *end = sql + len;

	while (sql < end) {
		sqlite3_stmt *stmt = NULL;
		const char *tail = NULL;
		int rc = sqlite3_prepare_v2(db, sql, (int)(end - sql), &stmt, &tail);

		if (rc != SQLITE_OK) {
			printf("netbsd-sqlite: in \"%.60s\"\n", sql);
			fail("prepare", sqlite3_errmsg(db));
		}
		if (stmt == NULL) /* only comments or white space were left */
			break;
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			print_row(stmt);
		if (rc != SQLITE_DONE) {
			printf("netbsd-sqlite: in \"%s\"\n", sqlite3_sql(stmt));
			fail("step", sqlite3_errmsg(db));
		}
		if (sqlite3_finalize(stmt) != SQLITE_OK)
			fail("finalize", sqlite3_errmsg(db));
		sql = tail;
	}
}

static sqlite3 *open_db(const char *path, int flags)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK)
		fail(path, db ? sqlite3_errmsg(db) : "out of memory");
	return db;
}

static void close_db(sqlite3 *db)
{
	if (sqlite3_close(db) != SQLITE_OK)
		fail("close", sqlite3_errmsg(db));
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	const char *script = netbsd_sqlite_script;
	const char *mark = strstr(script, REOPEN_MARK);
	char path[512], journal[520];
	struct stat st;
	sqlite3 *db;

	if (mark == NULL)
		fail("script.sql", "has no line \"-- reopen\"");
#ifdef __NetBSD__
	if (argc <= 1)
		mount_tmp();
#endif
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, DB_NAME) >= sizeof(path))
		fail(dir, "directory name too long");
	snprintf(journal, sizeof(journal), "%s-journal", path);
	if (unlink(path) != 0 && errno != ENOENT)
		fail(path, strerror(errno));
	printf("sqlite %s\n", sqlite3_libversion());

	db = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	run_sql(db, script, (size_t)(mark - script));
	close_db(db);

	/* The file is all there is now: its size, and no journal left behind. */
	if (stat(path, &st) != 0)
		fail(path, strerror(errno));
	printf("closed: %s is %lld bytes\n", DB_NAME, (long long)st.st_size);
	if (stat(journal, &st) == 0 || errno != ENOENT)
		fail(journal, "is still there after the last commit");
	printf("closed: no journal\n");

	db = open_db(path, SQLITE_OPEN_READWRITE);
	mark += strlen(REOPEN_MARK);
	run_sql(db, mark, strlen(mark));
	close_db(db);
	printf("done\n");
	return 0;
}
