/* db.c: the sqlite3 helper behind every store: WAL open, a fixed cache of
 * prepared statements keyed by SQL text, and explicit transactions so that
 * callers pay one commit (one WAL append) per batch, not per row. */
#include "db.h"

#include "vfs.h"

#include <stdio.h>
#include <stdlib.h>

struct store_db_cached {
	const char *sql; /* the caller's text; compared by pointer, then bytes */
	sqlite3_stmt *st;
};

struct store_db {
	sqlite3 *h;
	/* Checkpoints are ours (wal_autocheckpoint=0): sqlite's automatic one
	 * would report its own failure as the commit's, though the commit is
	 * in the WAL, and the caller would write the batch again. */
	uint32_t wal_frames; /* frames in the WAL since the last checkpoint */
	bool ckpt_failed;    /* the disk failed a checkpoint: no commit until one succeeds */
	uint64_t ckpt_errors;
	struct store_db_cached stmts[STORE_DB_STMT_MAX];
	uint32_t stmt_count;
	char errmsg[STORE_DB_ERRMSG_MAX];
};

enum sy_rc store_db_fail(struct store_db *db, int sqlite_rc, const char *what)
{
	/* Some failures leave "not an error" in the handle's message; the rc's
	 * own text is then more useful. */
	const char *msg = sqlite3_errstr(sqlite_rc);
	if (db->h != NULL && sqlite3_errcode(db->h) != SQLITE_OK)
		msg = sqlite3_errmsg(db->h);
	snprintf(db->errmsg, sizeof db->errmsg, "%s: %s", what, msg);
	return SY_ERR_IO;
}

static void store_db_set_err(char *err, size_t err_len, const char *path, const char *msg)
{
	if (err != NULL && err_len > 0)
		snprintf(err, err_len, "sqlite open %s: %s", path, msg);
}

static int store_db_wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
	((struct store_db *)arg)->wal_frames = (uint32_t)frames;
	return SQLITE_OK;
}

/* Copies the WAL into the database file, which syncs both. A failure means
 * the disk cannot be trusted with what it was given (a failed fsync may
 * have dropped written pages): the store then refuses commits until a
 * checkpoint succeeds again, so nothing is acknowledged on a failing disk.
 * What was committed stays in the WAL. */
static enum sy_rc store_db_checkpoint(struct store_db *db)
{
	int rc = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc != SQLITE_OK) {
		db->ckpt_failed = true;
		db->ckpt_errors++;
		return store_db_fail(db, rc, "checkpoint");
	}
	db->ckpt_failed = false;
	db->wal_frames = 0;
	return SY_OK;
}

/* Before a commit: a store whose last checkpoint failed commits nothing
 * until a checkpoint, retried by each begin (outside any transaction, where
 * sqlite can take one), succeeds. */
static enum sy_rc store_db_writable(struct store_db *db)
{
	if (!db->ckpt_failed)
		return SY_OK;
	static const char lead[] = "the disk failed a checkpoint, commits wait for it: ";
	char why[STORE_DB_ERRMSG_MAX];
	memcpy(why, db->errmsg, sizeof why);
	size_t n = sizeof lead - 1;
	memcpy(db->errmsg, lead, n);
	memcpy(db->errmsg + n, why, sizeof db->errmsg - n - 1);
	db->errmsg[sizeof db->errmsg - 1] = '\0';
	return SY_ERR_IO;
}

static enum sy_rc store_db_setup(struct store_db *db, const struct store_db_opts *opts)
{
	uint32_t busy_ms = opts != NULL && opts->busy_timeout_ms != 0 ? opts->busy_timeout_ms : 5000;
	int rc = sqlite3_busy_timeout(db->h, (int)SY_MIN(busy_ms, (uint32_t)INT32_MAX));
	if (rc != SQLITE_OK)
		return store_db_fail(db, rc, "busy_timeout");
	enum sy_rc r = store_db_exec(db, "PRAGMA journal_mode=WAL");
	if (r != SY_OK || (r = store_db_exec(db, "PRAGMA wal_autocheckpoint=0")) != SY_OK)
		return r;
	sqlite3_wal_hook(db->h, store_db_wal_hook, db);
	bool full = opts != NULL && opts->sync_full;
	return store_db_exec(db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

enum sy_rc store_db_open(const struct sy_env *env, const char *path, const struct store_db_opts *opts,
			 struct store_db **out, char *err, size_t err_len)
{
	SY_ASSERT(env != NULL && path != NULL && out != NULL);
	*out = NULL;
	/* Memory statistics take a global mutex on every sqlite malloc; the
	 * stores never read them. Only possible before sqlite initialises, so
	 * a failure here (another user came first) is harmless. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	struct store_db *db = calloc(1, sizeof *db);
	if (db == NULL) {
		store_db_set_err(err, err_len, path, "out of memory");
		return SY_ERR_NOMEM;
	}
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	enum sy_rc r = store_vfs_open(env, path, flags, &db->h, err, err_len);
	if (r != SY_OK) {
		free(db);
		return r;
	}
	sqlite3_extended_result_codes(db->h, 1);
	if (store_db_setup(db, opts) != SY_OK) {
		store_db_set_err(err, err_len, path, db->errmsg);
		goto out_close;
	}
	*out = db;
	return SY_OK;
out_close:
	store_vfs_close(db->h);
	free(db);
	return SY_ERR_IO;
}

void store_db_close(struct store_db *db)
{
	if (db == NULL)
		return;
	store_db_rollback(db);
	for (uint32_t i = 0; i < db->stmt_count; i++)
		sqlite3_finalize(db->stmts[i].st);
	store_vfs_close(db->h);
	free(db);
}

enum sy_rc store_db_exec(struct store_db *db, const char *sql)
{
	SY_ASSERT(db != NULL && sql != NULL);
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_db_fail(db, rc, sql);
	return SY_OK;
}

enum sy_rc store_db_stmt(struct store_db *db, const char *sql, sqlite3_stmt **out)
{
	SY_ASSERT(db != NULL && sql != NULL && out != NULL);
	for (uint32_t i = 0; i < db->stmt_count; i++) {
		struct store_db_cached *c = &db->stmts[i];
		if (c->sql == sql || strcmp(c->sql, sql) == 0) {
			*out = c->st;
			return SY_OK;
		}
	}
	if (db->stmt_count == STORE_DB_STMT_MAX) {
		snprintf(db->errmsg, sizeof db->errmsg, "statement cache full (%d)", STORE_DB_STMT_MAX);
		return SY_ERR_FULL;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK)
		return store_db_fail(db, rc, "prepare");
	/* The statement keeps its own copy of the text; key the cache on it so
	 * a caller's stack buffer may go away. */
	db->stmts[db->stmt_count++] = (struct store_db_cached){sqlite3_sql(st), st};
	*out = st;
	return SY_OK;
}

static enum sy_rc store_db_step_once(struct store_db *db, const char *sql)
{
	sqlite3_stmt *st;
	enum sy_rc r = store_db_stmt(db, sql, &st);
	if (r != SY_OK)
		return r;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(db, rc, sql);
	return SY_OK;
}

enum sy_rc store_db_begin(struct store_db *db)
{
	SY_ASSERT(!store_db_in_txn(db));
	if (db->ckpt_failed)
		(void)store_db_checkpoint(db); /* commit tells whether the disk is back */
	return store_db_step_once(db, "BEGIN IMMEDIATE");
}

enum sy_rc store_db_commit(struct store_db *db)
{
	SY_ASSERT(store_db_in_txn(db));
	enum sy_rc r = store_db_writable(db);
	if (r == SY_OK)
		r = store_db_step_once(db, "COMMIT");
	if (r == SY_OK && db->wal_frames >= STORE_DB_CHECKPOINT_FRAMES)
		(void)store_db_checkpoint(db); /* the commit stands; the next write waits for the disk */
	return r;
}

uint64_t store_db_checkpoint_errors(const struct store_db *db)
{
	return db->ckpt_errors;
}

void store_db_rollback(struct store_db *db)
{
	/* Statements still mid-step would make ROLLBACK fail; reset them all. */
	if (!store_db_in_txn(db))
		return;
	for (uint32_t i = 0; i < db->stmt_count; i++)
		sqlite3_reset(db->stmts[i].st);
	char keep[STORE_DB_ERRMSG_MAX];
	memcpy(keep, db->errmsg, sizeof keep);
	/* Keep the error that caused the rollback, not the rollback's own. */
	(void)sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	memcpy(db->errmsg, keep, sizeof keep);
}

bool store_db_in_txn(const struct store_db *db)
{
	return sqlite3_get_autocommit(db->h) == 0;
}

const char *store_db_errmsg(const struct store_db *db)
{
	return db->errmsg;
}

sqlite3 *store_db_handle(struct store_db *db)
{
	return db->h;
}
