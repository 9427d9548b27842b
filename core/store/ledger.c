/* ledger.c: the billing ledger on sqlite: schema, the journal writer behind
 * struct bill_journal (one small handler per operation, all inside the open
 * batch transaction), and crash recovery. */
#include "ledger.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"

/* Journal ops beyond enum bill_op, written only by the ledger. */
enum { LEDGER_OP_DUP = 64, LEDGER_OP_RECOVER = 65 };

#define LEDGER_SCHEMA_VERSION 1

static const char ledger_schema[] =
    "CREATE TABLE IF NOT EXISTS accounts ("
    " name TEXT PRIMARY KEY, currency TEXT NOT NULL, kind INTEGER NOT NULL,"
    " balance INTEGER NOT NULL, credit_limit INTEGER NOT NULL, suspended INTEGER NOT NULL,"
    " initial INTEGER NOT NULL, charged INTEGER NOT NULL, credited INTEGER NOT NULL);"
    /* Rows exist only while a reservation is open; used is the checkpoint. */
    "CREATE TABLE IF NOT EXISTS reservations ("
    " call_id TEXT PRIMARY KEY, account TEXT NOT NULL, held INTEGER NOT NULL, used INTEGER NOT NULL);"
    /* One row per call ever charged: the key that makes commits idempotent. */
    "CREATE TABLE IF NOT EXISTS charges ("
    " call_id TEXT PRIMARY KEY, account TEXT NOT NULL, amount INTEGER NOT NULL) WITHOUT ROWID;"
    /* op: enum bill_op, 64 = duplicate commit ignored, 65 = charged by recovery. */
    "CREATE TABLE IF NOT EXISTS journal ("
    " seq INTEGER PRIMARY KEY, op INTEGER NOT NULL, account TEXT NOT NULL, call_id TEXT NOT NULL,"
    " amount INTEGER NOT NULL, held INTEGER NOT NULL, used INTEGER NOT NULL);";

/* An operation of the open batch, kept until the batch is durable: a disk
 * that refuses the commit rolls the transaction back, and the next attempt
 * replays the batch from here. */
struct ledger_kept {
	struct bill_journal_rec r;
	char account[BILL_NAME_MAX];
	char call_id[BILL_CALLID_MAX];
};

struct ledger {
	struct store_db *db;
	uint32_t batch_max;
	struct ledger_kept *kept; /* batch_max entries; st.pending of them in use */
	bool crashed;		  /* ledger_crash_at(): the process is gone, nothing more is written */
	struct ledger *next_open;
	struct ledger_stats st;
	char errmsg[LEDGER_ERRMSG_MAX];
	char path[PATH_MAX]; /* as opened: what ledger_crash_at() matches */
};

/* The ledgers open on this thread, so a simulated crash can reach the one a
 * dead node's billing holds without that owner's cooperation (a kill -9
 * does not ask). One core instance per thread: no lock. */
static _Thread_local struct ledger *ledgers_open;

static void ledger_unlist(struct ledger *l)
{
	for (struct ledger **p = &ledgers_open; *p != NULL; p = &(*p)->next_open)
		if (*p == l) {
			*p = l->next_open;
			return;
		}
}

/* One bound value: text or integer. */
struct ledger_val {
	bool text;
	struct sy_str s;
	int64_t i;
};
#define LV_T(x) ((struct ledger_val){.text = true, .s = (x)})
#define LV_I(x) ((struct ledger_val){.i = (x)})
#define LEDGER_EXEC(l, sql, changes, ...)                                                                              \
	ledger_exec((l), (sql), (const struct ledger_val[]){__VA_ARGS__},                                              \
		    (int)(sizeof((const struct ledger_val[]){__VA_ARGS__}) / sizeof(struct ledger_val)), (changes))

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static enum sy_rc
ledger_err(struct ledger *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->errmsg, sizeof l->errmsg, fmt, ap);
	va_end(ap);
	return SY_ERR_IO;
}

static int ledger_bind(sqlite3_stmt *st, const struct ledger_val *v, int n)
{
	int rc = SQLITE_OK;
	for (int i = 0; i < n && rc == SQLITE_OK; i++) {
		if (v[i].text)
			rc = sqlite3_bind_text(st, i + 1, v[i].s.p != NULL ? v[i].s.p : "", (int)v[i].s.len,
					       SQLITE_STATIC);
		else
			rc = sqlite3_bind_int64(st, i + 1, v[i].i);
	}
	return rc;
}

/* Runs one write statement; *changes (if not NULL) gets the rows it touched. */
static enum sy_rc ledger_exec(struct ledger *l, const char *sql, const struct ledger_val *v, int n, int *changes)
{
	sqlite3_stmt *st;
	if (store_db_stmt(l->db, sql, &st) != SY_OK)
		return ledger_err(l, "ledger: %s", store_db_errmsg(l->db));
	int rc = ledger_bind(st, v, n);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		store_db_fail(l->db, rc, sql);
		return ledger_err(l, "ledger: %s", store_db_errmsg(l->db));
	}
	if (changes != NULL)
		*changes = sqlite3_changes(store_db_handle(l->db));
	return SY_OK;
}

static enum sy_rc ledger_setup(struct ledger *l, const char *path)
{
	sqlite3_stmt *st;
	if (store_db_stmt(l->db, "PRAGMA user_version", &st) != SY_OK)
		return ledger_err(l, "ledger: %s", store_db_errmsg(l->db));
	int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	if (version < 0 || version > LEDGER_SCHEMA_VERSION)
		return ledger_err(l, "ledger: %s has schema version %d, this build knows %d", path, version,
				  LEDGER_SCHEMA_VERSION);
	if (store_db_exec(l->db, ledger_schema) != SY_OK ||
	    (version == 0 && store_db_exec(l->db, "PRAGMA user_version=1") != SY_OK))
		return ledger_err(l, "ledger: %s: %s", path, store_db_errmsg(l->db));
	return SY_OK;
}

enum sy_rc ledger_open(const struct sy_env *env, const char *path, const struct ledger_opts *opts, struct ledger **out,
		       char *err, size_t err_len)
{
	SY_ASSERT(env != NULL && path != NULL && out != NULL);
	*out = NULL;
	static const struct ledger_opts defaults;
	const struct ledger_opts *o = opts != NULL ? opts : &defaults;
	if (strlen(path) >= PATH_MAX) {
		if (err != NULL && err_len > 0)
			snprintf(err, err_len, "ledger: path too long");
		return SY_ERR_INVAL;
	}
	struct ledger *l = calloc(1, sizeof *l);
	if (l == NULL)
		return SY_ERR_NOMEM;
	l->batch_max = o->batch_max != 0 ? o->batch_max : LEDGER_BATCH_DEFAULT;
	l->kept = calloc(l->batch_max, sizeof *l->kept);
	if (l->kept == NULL) {
		free(l);
		return SY_ERR_NOMEM;
	}
	struct store_db_opts dbo = {.sync_full = o->sync_full, .busy_timeout_ms = o->busy_timeout_ms};
	char dberr[STORE_DB_ERRMSG_MAX + 64];
	enum sy_rc r = store_db_open(env, path, &dbo, &l->db, dberr, sizeof dberr);
	if (r != SY_OK)
		ledger_err(l, "ledger: %s", dberr);
	else
		r = ledger_setup(l, path);
	if (r != SY_OK) {
		if (err != NULL && err_len > 0)
			snprintf(err, err_len, "%s", l->errmsg);
		store_db_close(l->db);
		free(l->kept);
		free(l);
		return r;
	}
	snprintf(l->path, sizeof l->path, "%s", path);
	l->next_open = ledgers_open;
	ledgers_open = l;
	*out = l;
	return SY_OK;
}

uint64_t ledger_crash_at(const char *path)
{
	uint64_t dropped = 0;
	for (struct ledger *l = ledgers_open; l != NULL; l = l->next_open) {
		if (l->crashed || strcmp(l->path, path) != 0)
			continue;
		store_db_rollback(l->db); /* the open batch never reached the WAL */
		dropped += l->st.pending;
		l->st.ops -= l->st.pending;
		l->st.pending = 0;
		l->crashed = true;
	}
	return dropped;
}

/* Rolls the transaction back after a failed statement or commit: it may
 * hold half an operation, and a half-applied charge is worse than none. The
 * operations accepted before stay kept (struct ledger_kept) and are replayed
 * by the next write or commit; the failing one is refused. */
static enum sy_rc ledger_abort_batch(struct ledger *l)
{
	store_db_rollback(l->db);
	l->st.errors++;
	return SY_ERR_IO;
}

static enum sy_rc ledger_apply(struct ledger *l, const struct bill_journal_rec *r);
static enum sy_rc ledger_log(struct ledger *l, int op, const struct bill_journal_rec *r);

/* Opens the batch's transaction and replays the kept operations into it. */
static enum sy_rc ledger_begin(struct ledger *l)
{
	if (store_db_begin(l->db) != SY_OK) {
		l->st.errors++;
		return ledger_err(l, "ledger: begin: %s", store_db_errmsg(l->db));
	}
	for (uint64_t i = 0; i < l->st.pending; i++) {
		const struct bill_journal_rec *r = &l->kept[i].r;
		enum sy_rc rc = ledger_apply(l, r);
		if ((rc != SY_OK && rc != SY_DECLINED) ||
		    ledger_log(l, rc == SY_DECLINED ? LEDGER_OP_DUP : (int)r->op, r) != SY_OK) {
			ledger_err(l, "ledger: replay: %s", store_db_errmsg(l->db));
			return ledger_abort_batch(l);
		}
		l->st.replayed++;
	}
	return SY_OK;
}

static void ledger_keep(struct ledger *l, const struct bill_journal_rec *r)
{
	SY_ASSERT(l->st.pending < l->batch_max);
	struct ledger_kept *k = &l->kept[l->st.pending];
	k->r = *r;
	size_t an = SY_MIN(r->account.len, sizeof k->account - 1), cn = SY_MIN(r->call_id.len, sizeof k->call_id - 1);
	if (an > 0)
		memcpy(k->account, r->account.p, an);
	if (cn > 0)
		memcpy(k->call_id, r->call_id.p, cn);
	k->r.account = (struct sy_str){k->account, an};
	k->r.call_id = (struct sy_str){k->call_id, cn};
}

enum sy_rc ledger_commit(struct ledger *l)
{
	SY_ASSERT(l != NULL);
	if (l->crashed || l->st.pending == 0)
		return SY_OK;
	if (!store_db_in_txn(l->db) && ledger_begin(l) != SY_OK)
		return SY_ERR_IO; /* a batch kept from a failed commit; the disk still fails */
	if (store_db_commit(l->db) != SY_OK) {
		/* Only the disk said no: the batch is kept and replayed by the
		 * next attempt, so a full or failing disk delays it, never loses it. */
		ledger_err(l, "ledger: commit: %s", store_db_errmsg(l->db));
		return ledger_abort_batch(l);
	}
	l->st.batches++;
	l->st.pending = 0;
	return SY_OK;
}

static enum sy_rc ledger_put_account(struct ledger *l, const struct bill_account_def *d)
{
	int ch = 0;
	bool rs = d->restore;
	enum sy_rc r = LEDGER_EXEC(l,
				   "INSERT OR IGNORE INTO accounts (name,currency,kind,balance,credit_limit,suspended,"
				   "initial,charged,credited) VALUES (?,?,?,?,?,?,?,?,?)",
				   &ch, LV_T(d->name), LV_T(d->currency), LV_I(d->kind), LV_I(d->balance_micros),
				   LV_I(d->credit_limit_micros), LV_I(d->suspended),
				   LV_I(rs ? d->initial_micros : d->balance_micros), LV_I(rs ? d->charged_micros : 0),
				   LV_I(rs ? d->credited_micros : 0));
	if (r == SY_OK && ch == 0)
		return SY_ERR_STATE;
	return r;
}

/* Charges a call once: the charges row is the idempotency key, and the
 * balance moves only when that row is new. SY_DECLINED: already charged. */
static enum sy_rc ledger_charge(struct ledger *l, struct sy_str account, struct sy_str call_id, int64_t amount)
{
	int ch = 0;
	enum sy_rc r = LEDGER_EXEC(l, "INSERT OR IGNORE INTO charges (call_id,account,amount) VALUES (?,?,?)", &ch,
				   LV_T(call_id), LV_T(account), LV_I(amount));
	if (r != SY_OK)
		return r;
	if (ch == 0) {
		l->st.dup_commits++;
		return SY_DECLINED;
	}
	return LEDGER_EXEC(l, "UPDATE accounts SET balance=balance-?1, charged=charged+?1 WHERE name=?2", NULL,
			   LV_I(amount), LV_T(account));
}

static enum sy_rc ledger_apply(struct ledger *l, const struct bill_journal_rec *r)
{
	int ch = 0;
	enum sy_rc rc;
	switch (r->op) {
	case BILL_OP_ACCOUNT:
		return ledger_put_account(l, r->def);
	case BILL_OP_OPEN:
		rc = LEDGER_EXEC(l, "INSERT OR IGNORE INTO reservations (call_id,account,held,used) VALUES (?,?,?,?)",
				 &ch, LV_T(r->call_id), LV_T(r->account), LV_I(r->held_micros), LV_I(r->used_micros));
		return rc == SY_OK && ch == 0 ? SY_ERR_STATE : rc;
	case BILL_OP_EXTEND:
	case BILL_OP_CHECKPOINT:
		return LEDGER_EXEC(l, "UPDATE reservations SET held=?, used=? WHERE call_id=?", NULL,
				   LV_I(r->held_micros), LV_I(r->used_micros), LV_T(r->call_id));
	case BILL_OP_COMMIT:
		rc = ledger_charge(l, r->account, r->call_id, r->amount_micros);
		if (rc != SY_OK && rc != SY_DECLINED)
			return rc;
		enum sy_rc rd = LEDGER_EXEC(l, "DELETE FROM reservations WHERE call_id=?", NULL, LV_T(r->call_id));
		return rd != SY_OK ? rd : rc;
	case BILL_OP_RELEASE:
		return LEDGER_EXEC(l, "DELETE FROM reservations WHERE call_id=?", NULL, LV_T(r->call_id));
	case BILL_OP_TOPUP:
		return LEDGER_EXEC(l, "UPDATE accounts SET balance=balance+?1, credited=credited+?1 WHERE name=?2",
				   NULL, LV_I(r->amount_micros), LV_T(r->account));
	case BILL_OP_SUSPEND:
		return LEDGER_EXEC(l, "UPDATE accounts SET suspended=? WHERE name=?", NULL, LV_I(r->amount_micros),
				   LV_T(r->account));
	default:
		SY_ASSERT(!"unknown bill op");
		return SY_ERR_INVAL;
	}
}

static enum sy_rc ledger_log(struct ledger *l, int op, const struct bill_journal_rec *r)
{
	return LEDGER_EXEC(l, "INSERT INTO journal (op,account,call_id,amount,held,used) VALUES (?,?,?,?,?,?)", NULL,
			   LV_I(op), LV_T(r->account), LV_T(r->call_id), LV_I(r->amount_micros), LV_I(r->held_micros),
			   LV_I(r->used_micros));
}

/* The bill_journal write(): apply, log, count; commit a full batch. */
static enum sy_rc ledger_write(void *arg, const struct bill_journal_rec *r)
{
	struct ledger *l = arg;
	if (l->crashed)
		return ledger_err(l, "ledger: %s: the node crashed", l->path);
	if (l->st.pending >= l->batch_max && ledger_commit(l) != SY_OK) {
		l->st.refused++; /* the disk has not taken the kept batch: no room for more */
		return ledger_err(l, "ledger: %u operations wait for the disk: %s", l->batch_max, l->errmsg);
	}
	if (!store_db_in_txn(l->db) && ledger_begin(l) != SY_OK)
		return SY_ERR_IO;
	enum sy_rc rc = ledger_apply(l, r);
	if (rc == SY_ERR_STATE) /* refused before anything was written */
		return rc;
	if (rc != SY_OK && rc != SY_DECLINED)
		return ledger_abort_batch(l);
	if (ledger_log(l, rc == SY_DECLINED ? LEDGER_OP_DUP : (int)r->op, r) != SY_OK)
		return ledger_abort_batch(l);
	ledger_keep(l, r);
	l->st.ops++;
	l->st.pending++;
	if (l->st.pending >= l->batch_max)
		(void)ledger_commit(l); /* counted in errors; the op itself was accepted */
	return rc;
}

struct bill_journal ledger_journal(struct ledger *l)
{
	return (struct bill_journal){.write = ledger_write, .arg = l};
}

static size_t ledger_col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const void *p = sqlite3_column_blob(st, i);
	size_t n = SY_MIN((size_t)sqlite3_column_bytes(st, i), cap - 1);
	if (n > 0)
		memcpy(dst, p, n);
	dst[n] = '\0';
	return n;
}

/* Closes the oldest open reservation in the file: charged for its
 * checkpoint (once per call id), the rest released. SY_AGAIN: none left. */
static enum sy_rc ledger_reconcile_one(struct ledger *l, struct ledger_recovery *rec)
{
	sqlite3_stmt *st;
	if (store_db_stmt(l->db, "SELECT call_id,account,held,used FROM reservations ORDER BY rowid LIMIT 1", &st) !=
	    SY_OK)
		return ledger_err(l, "ledger: %s", store_db_errmsg(l->db));
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return SY_AGAIN;
		store_db_fail(l->db, rc, "select reservations");
		return ledger_err(l, "ledger: %s", store_db_errmsg(l->db));
	}
	/* Copied out: the row's memory goes with the reset. The book wrote
	 * both within its bounds; a longer value would be a foreign edit and
	 * is cut rather than overflowed. */
	char call_id[BILL_CALLID_MAX], account[BILL_NAME_MAX];
	size_t cl = ledger_col_copy(st, 0, call_id, sizeof call_id);
	size_t al = ledger_col_copy(st, 1, account, sizeof account);
	int64_t held = sqlite3_column_int64(st, 2), used = sqlite3_column_int64(st, 3);
	sqlite3_reset(st);
	struct bill_journal_rec r = {.account = {account, al},
				     .call_id = {call_id, cl},
				     .held_micros = held,
				     .used_micros = used,
				     .amount_micros = SY_MAX(0, SY_MIN(used, held))};
	enum sy_rc c = ledger_charge(l, r.account, r.call_id, r.amount_micros);
	if (c != SY_OK && c != SY_DECLINED)
		return c;
	if (c == SY_OK) {
		rec->resv_charged += r.amount_micros > 0;
		rec->charged_micros += r.amount_micros;
		rec->released_micros += held - r.amount_micros;
	} else {
		rec->released_micros += held;
		r.amount_micros = 0;
	}
	rec->resv_reconciled++;
	if (LEDGER_EXEC(l, "DELETE FROM reservations WHERE call_id=?", NULL, LV_T(r.call_id)) != SY_OK)
		return SY_ERR_IO;
	return ledger_log(l, c == SY_OK ? LEDGER_OP_RECOVER : LEDGER_OP_DUP, &r);
}

static enum sy_rc ledger_reconcile(struct ledger *l, struct ledger_recovery *rec)
{
	if (store_db_begin(l->db) != SY_OK)
		return ledger_err(l, "ledger: begin: %s", store_db_errmsg(l->db));
	enum sy_rc r;
	while ((r = ledger_reconcile_one(l, rec)) == SY_OK)
		;
	if (r != SY_AGAIN) {
		store_db_rollback(l->db);
		l->st.errors++;
		return r;
	}
	if (store_db_commit(l->db) != SY_OK) {
		store_db_rollback(l->db);
		l->st.errors++;
		return ledger_err(l, "ledger: commit: %s", store_db_errmsg(l->db));
	}
	return SY_OK;
}

static struct sy_str ledger_col_str(sqlite3_stmt *st, int i)
{
	return (struct sy_str){(const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i)};
}

/* One accounts row into the book; the book checks the totals add up. */
static enum sy_rc ledger_load_row(struct ledger *l, sqlite3_stmt *st, struct bill_book *b)
{
	struct bill_account_def d = {
	    .name = ledger_col_str(st, 0),
	    .currency = ledger_col_str(st, 1),
	    .kind = (enum bill_kind)sqlite3_column_int(st, 2),
	    .balance_micros = sqlite3_column_int64(st, 3),
	    .credit_limit_micros = sqlite3_column_int64(st, 4),
	    .suspended = sqlite3_column_int(st, 5) != 0,
	    .restore = true,
	    .initial_micros = sqlite3_column_int64(st, 6),
	    .charged_micros = sqlite3_column_int64(st, 7),
	    .credited_micros = sqlite3_column_int64(st, 8),
	};
	enum sy_rc r = bill_account_add(b, &d);
	if (r != SY_OK)
		return ledger_err(l, "ledger: account '%.*s' cannot be loaded: %s", (int)SY_MIN(d.name.len, 64),
				  d.name.p != NULL ? d.name.p : "", sy_rc_str(r));
	return SY_OK;
}

static enum sy_rc ledger_load(struct ledger *l, struct bill_book *b, struct ledger_recovery *rec)
{
	sqlite3_stmt *st;
	if (store_db_stmt(l->db,
			  "SELECT name,currency,kind,balance,credit_limit,suspended,initial,charged,credited "
			  "FROM accounts ORDER BY rowid",
			  &st) != SY_OK)
		return ledger_err(l, "ledger: %s", store_db_errmsg(l->db));
	int rc;
	enum sy_rc r = SY_OK;
	while (r == SY_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = ledger_load_row(l, st, b);
		rec->accounts += r == SY_OK;
	}
	if (r == SY_OK && rc != SQLITE_DONE) {
		store_db_fail(l->db, rc, "select accounts");
		r = ledger_err(l, "ledger: %s", store_db_errmsg(l->db));
	}
	sqlite3_reset(st);
	return r;
}

enum sy_rc ledger_recover(struct ledger *l, struct bill_book *b, struct ledger_recovery *out)
{
	SY_ASSERT(l != NULL && b != NULL);
	SY_ASSERT(bill_account_count(b) == 0);
	struct ledger_recovery rec = {0};
	if (store_db_in_txn(l->db))
		return ledger_err(l, "ledger: recover with a batch open");
	bill_book_set_journal(b, NULL);
	enum sy_rc r = ledger_reconcile(l, &rec);
	if (r == SY_OK)
		r = ledger_load(l, b, &rec);
	if (r == SY_OK) {
		struct bill_journal j = ledger_journal(l);
		bill_book_set_journal(b, &j);
	}
	if (out != NULL)
		*out = rec;
	return r;
}

enum sy_rc ledger_close(struct ledger *l)
{
	if (l == NULL)
		return SY_OK;
	enum sy_rc r = ledger_commit(l);
	ledger_unlist(l);
	store_db_close(l->db);
	free(l->kept);
	free(l);
	return r;
}

void ledger_abandon(struct ledger *l)
{
	if (l == NULL)
		return;
	ledger_unlist(l);
	store_db_close(l->db); /* rolls the open batch back, as a crash would */
	free(l->kept);
	free(l);
}

const char *ledger_errmsg(const struct ledger *l)
{
	return l->errmsg;
}

void ledger_stats(const struct ledger *l, struct ledger_stats *out)
{
	*out = l->st;
}

bool ledger_charged(struct ledger *l, struct sy_str call_id, int64_t *amount_micros)
{
	sqlite3_stmt *st;
	if (store_db_stmt(l->db, "SELECT amount FROM charges WHERE call_id=?", &st) != SY_OK)
		return false;
	bool found = false;
	if (ledger_bind(st, &LV_T(call_id), 1) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		found = true;
		if (amount_micros != NULL)
			*amount_micros = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return found;
}
