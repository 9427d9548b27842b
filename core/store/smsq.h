/* smsq.h: the SMSC's durable message queue, a store made for it: an
 * append-only log of checksummed records in segment files (smsq_log.h), one
 * record per state change, an index of the live messages in memory, rebuilt
 * by replaying the log at open, and compaction that drops segments whose
 * messages are finished. Writes are group-committed: smsq_put() and
 * smsq_mark() only append to a batch; smsq_commit() writes the batch with
 * one write at the log's tail and then reports every entry through the done
 * callback. The store has no clock and no timer: the owner commits on its
 * own timer (e.g. every 5 ms of env time) and the store commits by itself
 * when a batch fills.
 *
 * Durability. sync_full: one fdatasync per commit, before the callbacks: an
 * acknowledged message survives power loss. Otherwise ("sync = normal") the
 * callbacks run after the write (an acknowledged message survives kill -9)
 * and the batch is synced at the start of the next commit, or by
 * smsq_sync(), which the owner's timer calls one interval later when the
 * queue is idle (smsq_unsynced()): at most one commit interval of
 * acknowledged messages is ever off stable storage.
 *
 * Asynchronous sync_full: when the env has file_sync_start (live: a sync
 * thread; sim: an event after the disk time), a commit writes its batch and
 * hands the fdatasync off; the batch's callbacks run from the loop when it
 * completes (never before: acknowledged = on disk). Meanwhile smsq_commit()
 * leaves the next batch to accumulate (SY_OK) and the completion commits it,
 * so the group grows with the disk's latency. A failed sync keeps the
 * callbacks back and smsq_failing() true; the owner's next smsq_commit()
 * (smsq_unsynced() says one is due) cuts, rewrites and syncs again and
 * returns SY_ERR_IO while that retry runs. smsq_sync() and smsq_close() wait
 * for the sync in flight and commit what waited, syncing in place.
 *
 * Exactly-once protocol (the SMSC must follow it; the store makes it possible):
 *
 * 1. Accept. submit_sm -> the SMSC assigns an id (unique, > smsq_last_id() after
 *    a restart, <= INT64_MAX) and calls smsq_put(state ACCEPTED). It sends
 *    submit_sm_resp only from the done callback (rc SY_OK): an acknowledged
 *    message is in the file. A crash before that loses only unacknowledged
 *    messages, which the ESME resubmits.
 * 2. Send upstream. Before each attempt: smsq_mark(ENROUTE, attempts = n,
 *    carrier): the attempt id. (It keeps attempt counts and backoff across
 *    a restart; safety rests on the key below, so an SMSC short of write
 *    budget may skip it.) Every submit_sm to a carrier carries our id as an
 *    idempotency key in the vendor TLV SMSQ_TLV_IDEMPOTENCY_KEY (decimal
 *    text, smsq_id_fmt()); the 16-bit user_message_reference is too small. The carrier (our
 *    simulated carrier, and any peer that wants exactly-once) keeps the keys it
 *    has accepted and answers a repeated key with the first upstream id
 *    instead of delivering again. The send may go out before the ENROUTE mark
 *    is durable, because a re-send after a crash is harmless with the key.
 * 3. Upstream accepted (submit_sm_resp OK): smsq_mark(ENROUTE, upstream_id).
 *    Upstream final (receipt, or sync success if the carrier sends none):
 *    smsq_mark(DELIVERED / UNDELIVERABLE / EXPIRED / REJECTED, done_ns,
 *    error_code, dlr_pending = registered_delivery asked for one). The DLR
 *    deliver_sm goes to the ESME only from the done callback of that mark, so
 *    a restart never finds a receipt sent for a message it still thinks live.
 *    After deliver_sm_resp: smsq_mark(same final state, dlr_pending = false).
 * 4. Recovery. smsq_recover() lists every ACCEPTED or ENROUTE message. ACCEPTED
 *    and ENROUTE without upstream_id: the upstream result is unknown -> re-send
 *    with the same key (the carrier dedupes). ENROUTE with upstream_id: the
 *    carrier has it -> do not re-send; wait for its receipt until expiry.
 *    smsq_recover_dlr() lists final messages whose receipt may not have
 *    reached the ESME: receipts are at-least-once (ESMEs match receipts by id).
 *
 * The log is a queue, not an archive: a mark to a final state that leaves
 * no receipt owed drops the message from the index (the MDR, mdr.h, is the
 * permanent record) and compaction drops its records later, so memory and
 * disk follow the live messages. smsq_get() of such a message is
 * SY_ERR_NOTFOUND.
 *
 * Not thread-safe; one queue per core instance. */
#ifndef SY_STORE_SMSQ_H
#define SY_STORE_SMSQ_H

#include "core/env.h"

/* Capacities including the terminating NUL (SMPP 3.4 field sizes). */
#define SMSQ_SYSTEM_ID_MAX   16
#define SMSQ_ADDR_MAX	     21
#define SMSQ_CARRIER_MAX     32
#define SMSQ_UPSTREAM_ID_MAX 65
#define SMSQ_BODY_MAX	     65535 /* message_payload's limit; a reassembled text fits */
#define SMSQ_ID_TEXT_MAX     21	   /* decimal uint64 + NUL */

/* SMPP 3.4 reserves 0x1400-0x3FFF for SMSC vendor TLVs; this one carries
 * our message id (decimal text) to upstream carriers for deduplication. */
#define SMSQ_TLV_IDEMPOTENCY_KEY 0x1400

enum smsq_state {
	SMSQ_ACCEPTED = 0, /* stored, not yet handed to a carrier */
	SMSQ_ENROUTE,	   /* sent (or being sent) upstream */
	SMSQ_DELIVERED,	   /* final states from here on */
	SMSQ_UNDELIVERABLE,
	SMSQ_EXPIRED,
	SMSQ_REJECTED,
	SMSQ_STATE_COUNT
};

static inline bool smsq_state_final(enum smsq_state s)
{
	return s >= SMSQ_DELIVERED;
}
/* "ACCEPTED", "ENROUTE", ... ("?" out of range). */
const char *smsq_state_name(enum smsq_state s);

struct smsq_addr {
	uint8_t ton, npi;
	char digits[SMSQ_ADDR_MAX]; /* NUL-terminated */
};

/* One message. Zero-initialise, then fill; strings are NUL-terminated
 * (smsq_set_str() truncates safely). Times are epoch ns from the env. */
struct smsq_msg {
	uint64_t id; /* 1..INT64_MAX */
	char system_id[SMSQ_SYSTEM_ID_MAX];
	struct smsq_addr src, dst;
	uint8_t data_coding, esm_class, registered_delivery;
	uint64_t submit_ns;
	uint64_t expiry_ns; /* validity end; 0: none */
	/* short_message or the reassembled payload. smsq_put() copies it; in a
	 * recover callback it points into a read buffer, valid during the call. */
	const uint8_t *body;
	uint32_t body_len;
	uint16_t seg_ref; /* concatenation: 0/0/0 when not segmented */
	uint8_t seg_total, seg_seq;
	char carrier[SMSQ_CARRIER_MAX]; /* route chosen; "" before routing */
	enum smsq_state state;
	uint32_t attempts;			/* upstream attempts so far (the attempt id) */
	uint64_t next_attempt_ns;		/* retry time; 0: now */
	char upstream_id[SMSQ_UPSTREAM_ID_MAX]; /* carrier's message id; "" unknown */
	bool dlr_pending;			/* a receipt is owed to the ESME */
	uint32_t error_code;			/* final error (network or SMPP status) */
	uint64_t done_ns;			/* final state time; 0 while live */
};

/* Fields smsq_mark() changes besides state; the rest keep their values. */
enum smsq_set {
	SMSQ_SET_ATTEMPTS = 1u << 0,
	SMSQ_SET_NEXT_ATTEMPT = 1u << 1,
	SMSQ_SET_CARRIER = 1u << 2,
	SMSQ_SET_UPSTREAM_ID = 1u << 3,
	SMSQ_SET_DLR_PENDING = 1u << 4,
	SMSQ_SET_ERROR = 1u << 5,
	SMSQ_SET_DONE = 1u << 6,
	SMSQ_SET_ALL = (1u << 7) - 1,
};

struct smsq_update {
	enum smsq_state state;
	uint32_t set; /* SMSQ_SET_* bits */
	uint32_t attempts;
	uint64_t next_attempt_ns;
	char carrier[SMSQ_CARRIER_MAX];
	char upstream_id[SMSQ_UPSTREAM_ID_MAX];
	bool dlr_pending;
	uint32_t error_code;
	uint64_t done_ns;
};

enum smsq_op { SMSQ_OP_PUT = 1, SMSQ_OP_MARK };

/* Called once per smsq_put()/smsq_mark() after the commit that holds it, in
 * the order they were made. rc: SY_OK durable; SY_ERR_STATE a put whose id
 * is already stored (nothing written); SY_ERR_NOTFOUND a mark of an id that
 * is not stored, or is final and the mark names another state (nothing
 * written). The callback may call smsq_put() and smsq_mark() (they join the
 * next batch), not smsq_commit() or smsq_close(). */
typedef void (*smsq_done_fn)(void *arg, enum smsq_op op, uint64_t id, uint64_t token, enum sy_rc rc);

/* Recovery visitor: m (and m->body) valid during the call; a non-SY_OK
 * return stops the walk and is returned by smsq_recover(). */
typedef enum sy_rc (*smsq_visit_fn)(void *arg, const struct smsq_msg *m);

#define SMSQ_BATCH_DEFAULT	 4096
#define SMSQ_BATCH_MAX		 65536
#define SMSQ_BATCH_BYTES_DEFAULT (4u << 20)
#define SMSQ_ERRMSG_MAX		 320
#define SMSQ_SEGMENT_DEFAULT	 (64u << 20)
#define SMSQ_SEGMENT_MIN	 (64u << 10)

struct smsq_opts {
	smsq_done_fn on_done; /* required */
	void *arg;
	/* Optional: asked before every commit (the owner's timer, a full
	 * batch, close). false holds the commit back (batch kept, counted in
	 * held): the SMSC makes its MDRs durable here, because the final marks
	 * in the batch delete the rows those MDRs record. */
	bool (*before_commit)(void *arg);
	uint32_t batch_max;	  /* entries per commit; 0: default; <= SMSQ_BATCH_MAX */
	uint32_t batch_bytes_max; /* body bytes per commit; 0: default; >= SMSQ_BODY_MAX */
	bool sync_full;		  /* fsync per commit: survive power loss, not only a crash */
	uint32_t busy_timeout_ms; /* unused (was sqlite's); kept for callers */
	/* A segment is closed and a new one started past this size; finished
	 * messages leave with whole segments. 0: SMSQ_SEGMENT_DEFAULT;
	 * >= SMSQ_SEGMENT_MIN. */
	uint32_t segment_bytes;
	char *err; /* optional: why smsq_open() failed */
	size_t err_len;
};

struct smsq_stats {
	uint64_t puts, marks; /* entries committed (any rc) */
	uint64_t commits;     /* successful transactions with >= 1 entry */
	uint64_t errors;      /* failed commits (batch kept, retried) */
	uint64_t held;	      /* commits held back by before_commit (batch kept) */
	uint64_t rejected;    /* entries reported with rc != SY_OK */
	uint32_t pending;     /* entries in the batch now */
	uint64_t syncs;	      /* fdatasyncs of the log that succeeded */
	uint64_t bytes;	      /* bytes written to the log (records, headers, copies) */
	uint64_t compactions; /* segments dropped, their live messages copied forward */
	uint64_t copied;      /* messages copied forward by compaction */
	uint64_t truncated;   /* bytes of a torn tail cut at open */
	uint32_t segments;    /* segment files now */
	uint64_t live;	      /* messages in the index (live or receipt owed) */
	uint64_t index_bytes; /* memory of the index (follows live, not its peak) */
};

struct smsq;

/* Opens or creates the queue in the folder path (created if missing; it
 * holds the segments NNNNNNNN.log and "first", the number of the oldest),
 * replaying the log: a torn record at the end of the last segment (a crash
 * during a write) is cut away and logged; a bad record anywhere else fails
 * the open, naming the file and offset. path ":memory:": nothing is written
 * or durable (tests, the SMSC without a store folder). On failure *out is
 * NULL, opts->err says why, rc is SY_ERR_IO / SY_ERR_INVAL / SY_ERR_NOMEM. */
enum sy_rc smsq_open(const struct sy_env *env, const char *path, const struct smsq_opts *opts, struct smsq **out);

/* Appends m (fields and a copy of the body) to the batch; token comes back in
 * the done callback. A full batch is committed first or right after the
 * append, so the callback may run before smsq_put() returns: make the token
 * meaningful before the call. SY_ERR_FULL: the batch is full and its commit
 * failed (or we are inside the callback): NOT accepted, shed load
 * (ESME_RMSGQFUL / ESME_RTHROTTLED). SY_ERR_INVAL: body_len too long. */
enum sy_rc smsq_put(struct smsq *q, const struct smsq_msg *m, uint64_t token);

/* Appends a state change of message id; same batching and rcs as smsq_put. */
enum sy_rc smsq_mark(struct smsq *q, uint64_t id, const struct smsq_update *u, uint64_t token);

/* Writes the batch with one write (and, sync_full, one fdatasync), then
 * reports each entry. An empty batch only syncs what is unsynced. SY_ERR_IO:
 * nothing reported, the batch is kept and the next commit retries it. */
enum sy_rc smsq_commit(struct smsq *q);
/* Without sync_full: bytes are written and acknowledged but not yet synced. */
bool smsq_unsynced(const struct smsq *q);
/* Syncs what smsq_unsynced() says is not; SY_OK when nothing is. After a
 * failed fdatasync the written bytes are not trusted (the kernel may have
 * dropped them): the next sync cuts the file back to what was synced and
 * writes them again from memory first. */
enum sy_rc smsq_sync(struct smsq *q);

/* Visits every ACCEPTED or ENROUTE message in id order. Call before new
 * puts (at start): it reads the file, not the batch. */
enum sy_rc smsq_recover(struct smsq *q, smsq_visit_fn fn, void *arg);
/* Visits every final message with dlr_pending set, in id order. (A put in
 * a final state without dlr_pending stays until a mark of that state.) */
enum sy_rc smsq_recover_dlr(struct smsq *q, smsq_visit_fn fn, void *arg);

/* Reads message id (committed state: the index, the body from the log). body is copied into
 * body_buf (body_cap bytes; longer bodies are SY_ERR_FULL) and out->body
 * points at it. SY_ERR_NOTFOUND when absent. */
enum sy_rc smsq_get(struct smsq *q, uint64_t id, struct smsq_msg *out, uint8_t *body_buf, size_t body_cap);

/* Commits the batch (reporting it) and syncs, then closes. On a failure the
 * batch is lost unreported and the rc says so. q may be NULL. */
enum sy_rc smsq_close(struct smsq *q);
/* Closes WITHOUT committing: the pending entries are dropped unreported, as
 * a crash would drop them. For tests and fault injection. */
void smsq_abandon(struct smsq *q);

/* The largest id ever stored (each segment's header keeps the mark at its
 * creation, since finished messages leave the log), then of every put:
 * restart ids above it. */
uint64_t smsq_last_id(const struct smsq *q);
uint32_t smsq_pending(const struct smsq *q);
/* The last commit failed or was held: the store cannot take more now. */
bool smsq_failing(const struct smsq *q);
const char *smsq_errmsg(const struct smsq *q);
void smsq_stats(const struct smsq *q, struct smsq_stats *out);

/* Decimal text of an id (the SMPP message_id and receipt "id:"); buf holds
 * SMSQ_ID_TEXT_MAX bytes; returns the length. Parse accepts exactly that
 * form (1..INT64_MAX, no sign, no leading zero). */
size_t smsq_id_fmt(uint64_t id, char *buf);
enum sy_rc smsq_id_parse(struct sy_str s, uint64_t *out);

/* Copies s into dst (capacity cap with the NUL), truncating, stopping at an
 * embedded NUL. */
void smsq_set_str(char *dst, size_t cap, struct sy_str s);
#define SMSQ_SET_STR(obj, field, s) smsq_set_str((obj)->field, sizeof((obj)->field), (s))

#endif
