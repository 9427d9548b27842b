/* smsq_int.h: the SMS queue's insides, shared by smsq.c (the API, the
 * batch and the commit), smsq_index.c (the index of live messages) and
 * smsq_seg.c (the segment files: sync, compaction, replay). */
#ifndef SY_STORE_SMSQ_INT_H
#define SY_STORE_SMSQ_INT_H

#include "core/pool.h"
#include "smsq.h"
#include "smsq_log.h"
/* One pending put or mark. The body of a put lives in the batch arena. */
struct smsq_entry {
	uint8_t op;
	uint8_t rc; /* enum sy_rc, set by the commit */
	uint32_t body_off;
	uint64_t id;
	uint64_t token;
	union {
		struct smsq_msg m;
		struct smsq_update u;
	};
};

/* What the callbacks need, copied out so the batch is free for entries the
 * callbacks add. */
struct smsq_report {
	uint64_t id, token;
	uint8_t op, rc;
};

/* A message in the index: where its PUT (or COPY) record is, and its
 * current state (every field a mark can change; cur.set is unused). */
struct smsq_live {
	uint64_t id;
	uint64_t off;	  /* of the record in segment seg */
	uint32_t seg;	  /* segment number */
	uint32_t rec_len; /* of the record */
	uint8_t *rec;	  /* in-memory mode: a copy of the record */
	struct smsq_update cur;
};

/* Undo of one index change, replayed backwards when a commit fails. */
enum { SMSQ_UNDO_CREATED = 1, SMSQ_UNDO_CHANGED, SMSQ_UNDO_REMOVED };
struct smsq_undo {
	uint8_t kind;
	struct smsq_live old; /* CREATED: old.id only */
};

/* A slot of the index's table: 8 bytes, eight to a cache line. The id's
 * low 32 bits pick the home and tell most ids apart at the slot; a match
 * is confirmed against the entry's full id. */
struct smsq_slot {
	uint32_t idx1; /* entry number + 1; 0: empty */
	uint32_t idlo; /* the id's low 32 bits */
};

struct smsq_seg {
	uint32_t no;
	struct sy_file *f;
	uint64_t size;	     /* bytes written (the head: including unsynced) */
	uint64_t live;	     /* index entries whose record is here */
	uint64_t live_bytes; /* their record bytes */
};

/* A growable byte buffer. */
struct smsq_buf {
	uint8_t *p;
	size_t len, cap;
};

struct smsq {
	const struct sy_env *env;
	bool mem; /* ":memory:": no files */
	char dir[SMSQ_ERRMSG_MAX / 2];
	smsq_done_fn on_done;
	void *arg;
	bool (*before_commit)(void *arg);
	bool sync_full;
	bool failing; /* the last commit did not happen */
	/* Asynchronous group commit (sync_full with an env that syncs off the
	 * loop): a written batch's reports wait in report[0, held_n) until its
	 * fdatasync completes; meanwhile the next batch accumulates. */
	bool async;	  /* sync_full and the env has file_sync_start */
	bool inflight;	  /* a sync of the head is running */
	bool waiting;	  /* inside smsq_sync(): the completion does not commit */
	bool draining;	  /* commits sync before they return (smsq_sync, close) */
	uint32_t held_n;  /* reports written, not yet durable */
	uint64_t sync_to; /* the head's size when the sync in flight started */
	uint32_t batch_max, bytes_max;
	uint32_t count, bytes_used;
	struct sy_pool batch; /* entries 0..count-1; grown to the largest batch yet */
	uint8_t *arena;
	struct smsq_report *report;
	bool reporting; /* inside the done callbacks */
	uint64_t last_id;
	uint64_t hwm; /* the largest id committed */

	/* The index: entries in a growable array, a free list, and an
	 * open-addressing table of entry numbers + 1 (0: empty slot). */
	struct smsq_live *ent;
	uint32_t ent_n, ent_cap;
	uint32_t *free_ent;
	uint32_t free_n;
	struct smsq_slot *slot;
	uint32_t slot_mask, slot_bits, live_n;

	/* The log: segments[0] is the oldest, segments[seg_n - 1] the head. */
	struct smsq_seg *segs;
	uint32_t seg_n, seg_cap;
	uint64_t seg_max;
	struct sy_file *first_f; /* "first": the oldest segment's number */
	uint64_t synced_off;	 /* of the head: bytes known durable */
	bool broken;		 /* a write or sync failed: the head's tail is untrusted */
	struct smsq_buf wbuf;	 /* the commit being written */
	struct smsq_buf ubuf;	 /* written to the head, not yet synced: [synced_off, size) */
	struct smsq_undo *undo;
	uint32_t undo_n, undo_cap;
	uint8_t *rbuf; /* one record, for smsq_get() */

	struct smsq_stats st;
	char errmsg[SMSQ_ERRMSG_MAX];
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
enum sy_rc
smsq__err(struct smsq *q, const char *fmt, ...);
bool smsq__buf_reserve(struct smsq_buf *b, size_t more);

/* The index (smsq_index.c). */
enum sy_rc smsq__grow_slots(struct smsq *q);
/* Gives memory back once the live messages are far fewer than the peak. */
void smsq__shrink(struct smsq *q);
uint64_t smsq__index_bytes(const struct smsq *q);
struct smsq_live *smsq__find(const struct smsq *q, uint64_t id);
/* Hints for a batch walked in order (no effect on results). */
void smsq__prefetch_slot(const struct smsq *q, uint64_t id);
void smsq__prefetch_ent(const struct smsq *q, uint64_t id);
/* Room for one more entry; then smsq__insert() cannot fail. */
enum sy_rc smsq__reserve(struct smsq *q);
void smsq__insert(struct smsq *q, const struct smsq_live *l);
void smsq__remove(struct smsq *q, uint64_t id);
void smsq__replace(struct smsq *q, struct smsq_live *at, const struct smsq_live *l);
void smsq__cur_from_msg(struct smsq_update *c, const struct smsq_msg *m);
void smsq__cur_apply(struct smsq_update *c, const struct smsq_update *u);
bool smsq__cur_gone(const struct smsq_update *c);
/* The ids of the entries match() accepts, sorted; *out malloc'd. */
enum sy_rc smsq__collect(struct smsq *q, bool (*match)(const struct smsq_live *, uint32_t), uint32_t arg,
			 uint64_t **out, uint32_t *n);

/* The segment files (smsq_seg.c). */
struct smsq_seg *smsq__seg_of(struct smsq *q, uint32_t no);
struct smsq_seg *smsq__head(struct smsq *q);
/* Sets errmsg to what failed on segment no; SY_ERR_IO. */
enum sy_rc smsq__file_err(struct smsq *q, enum sy_rc rc, uint32_t no, const char *what);
enum sy_rc smsq__head_sync(struct smsq *q);
/* After a failed write or sync: cuts the head back to synced_off and writes
 * ubuf again (*repaired: it did, so a sync is due even with nothing new). */
enum sy_rc smsq__head_repair(struct smsq *q, bool *repaired);
/* A sync of the head succeeded: what was written is durable. */
void smsq__head_synced(struct smsq *q);
enum sy_rc smsq__load(struct smsq *q, const struct smsq_live *l, uint8_t *buf, struct smsq_msg *m);
enum sy_rc smsq__prepare(struct smsq *q);
enum sy_rc smsq__open_log(struct smsq *q);

#endif
