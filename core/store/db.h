/* db.h: a thin sqlite3 helper shared by the stores (CDRs, balances, SMS
 * queue): open in WAL mode with synchronous=NORMAL and a busy timeout, a small
 * cache of prepared statements, and begin/commit so callers batch many rows
 * into one transaction. Errors keep the sqlite message for the operator. */
#ifndef SY_STORE_DB_H
#define SY_STORE_DB_H

#include <sqlite3.h>

#include "core/env.h"

#define STORE_DB_STMT_MAX	   32  /* prepared statements cached per handle */
#define STORE_DB_ERRMSG_MAX	   256 /* bytes kept of the last error message */
#define STORE_DB_CHECKPOINT_FRAMES 256 /* WAL frames (pages) between checkpoints */

struct store_db;

struct store_db_opts {
	uint32_t busy_timeout_ms; /* 0: 5000 ms */
	/* synchronous=FULL: fsync on every commit, durable across power loss.
	 * The default (NORMAL) in WAL survives a process crash; a power loss can
	 * roll back the last commits, never corrupt the file. */
	bool sync_full;
};

/* Opens (creating if needed) the database at path through env's files
 * (vfs.h). opts may be NULL. On failure *out is NULL, err (if not NULL)
 * holds a message, and the rc is SY_ERR_IO (or SY_ERR_NOMEM). */
enum sy_rc store_db_open(const struct sy_env *env, const char *path, const struct store_db_opts *opts,
			 struct store_db **out, char *err, size_t err_len);
/* Rolls back an open transaction, finalizes cached statements and closes. */
void store_db_close(struct store_db *db);

/* Runs one or more SQL statements that return no rows we need (DDL, PRAGMA). */
enum sy_rc store_db_exec(struct store_db *db, const char *sql);

/* A cached prepared statement for sql (compiled on first use, keyed by the
 * text). The caller binds, steps and must sqlite3_reset() it after use; the
 * handle stays owned by db. SY_ERR_FULL when the cache is at its bound. */
enum sy_rc store_db_stmt(struct store_db *db, const char *sql, sqlite3_stmt **out);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Begin takes the write lock up front so
 * a batch never fails half-way on a lock upgrade. Rollback is a no-op outside
 * a transaction, so error paths can call it unconditionally. */
enum sy_rc store_db_begin(struct store_db *db);
enum sy_rc store_db_commit(struct store_db *db);
void store_db_rollback(struct store_db *db);
bool store_db_in_txn(const struct store_db *db);
/* Checkpoints (WAL into the file, synced) are taken after a commit every
 * STORE_DB_CHECKPOINT_FRAMES pages. One that fails (a full disk, a failed
 * fsync) does not fail its commit, which is in the WAL; but later commits
 * fail (SY_ERR_IO) until a retried checkpoint succeeds. */
uint64_t store_db_checkpoint_errors(const struct store_db *db);

/* Records a failure of the sqlite call that returned sqlite_rc: the message
 * becomes "what: <sqlite message>". Returns SY_ERR_IO for `return` chaining. */
enum sy_rc store_db_fail(struct store_db *db, int sqlite_rc, const char *what);

/* The last error message ("" when none). Valid until the next call on db. */
const char *store_db_errmsg(const struct store_db *db);
/* The raw handle, for queries the helper does not wrap. */
sqlite3 *store_db_handle(struct store_db *db);

#endif
