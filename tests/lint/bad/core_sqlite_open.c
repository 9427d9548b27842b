// lint-path: core/store/x.c
/* A store opening a database itself would bypass the env VFS: the
 * simulator's disk faults would never reach it. */
#include <sqlite3.h>

int x_open(const char *path, sqlite3 **db)
{
	return sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE, NULL);
}
