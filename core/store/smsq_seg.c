/* smsq_seg.c: the SMS queue's segment files: syncing the head (and
 * repairing it after a failed write or fdatasync), starting segments,
 * reading a message back, compaction, and replay at open. */
#include <stdio.h>
#include <stdlib.h>

#include "smsq_int.h"

#define SMSQ_SEGS_SOFT 8
/* ---- files ---- */

struct smsq_seg *smsq__head(struct smsq *q)
{
	SY_ASSERT(q->seg_n > 0);
	return &q->segs[q->seg_n - 1];
}

static void smsq_seg_path(const struct smsq *q, uint32_t no, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%08u.log", q->dir, no);
}

enum sy_rc smsq__file_err(struct smsq *q, enum sy_rc rc, uint32_t no, const char *what)
{
	char path[sizeof q->dir + 16];
	smsq_seg_path(q, no, path, sizeof path);
	smsq__err(q, "sms queue: %s: %s: %s%s", path, what, rc == SY_ERR_FULL ? "disk full: " : "",
		  sy_env_file_err(rc));
	return SY_ERR_IO;
}

/* Makes the head durable up to what was written. After a failed write or
 * fdatasync the kernel may have dropped the pages it was given (and marked
 * them clean), so the tail past the last good sync is cut and written again
 * from memory (ubuf) before syncing. */
enum sy_rc smsq__head_repair(struct smsq *q, bool *repaired)
{
	struct smsq_seg *h = smsq__head(q);
	*repaired = false;
	if (!q->broken)
		return SY_OK;
	enum sy_rc rc = sy_env_file_truncate(q->env, h->f, q->synced_off);
	if (rc == SY_OK && q->ubuf.len > 0)
		rc = sy_env_file_write(q->env, h->f, q->synced_off, q->ubuf.p, q->ubuf.len);
	if (rc != SY_OK)
		return smsq__file_err(q, rc, h->no, "rewrite after a failure");
	h->size = q->synced_off + q->ubuf.len;
	q->st.bytes += q->ubuf.len;
	q->broken = false;
	*repaired = true;
	return SY_OK;
}

void smsq__head_synced(struct smsq *q)
{
	q->st.syncs++;
	q->synced_off = smsq__head(q)->size;
	q->ubuf.len = 0;
}

enum sy_rc smsq__head_sync(struct smsq *q)
{
	struct smsq_seg *h = smsq__head(q);
	bool repaired;
	enum sy_rc rc = smsq__head_repair(q, &repaired);
	if (rc != SY_OK)
		return rc;
	if (h->size == q->synced_off && !repaired)
		return SY_OK;
	rc = sy_env_file_sync(q->env, h->f);
	if (rc != SY_OK) {
		q->broken = true;
		return smsq__file_err(q, rc, h->no, "fdatasync");
	}
	smsq__head_synced(q);
	return SY_OK;
}

static enum sy_rc smsq_write_first(struct smsq *q, uint32_t first)
{
	uint8_t b[16] = {0};
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(first >> (8 * i));
	uint32_t crc = smsq_crc32c(0, b, 4);
	for (int i = 0; i < 4; i++)
		b[4 + i] = (uint8_t)(crc >> (8 * i));
	memcpy(b + 8, "SYSMSQF\n", 8);
	enum sy_rc rc = sy_env_file_write(q->env, q->first_f, 0, b, sizeof b);
	if (rc == SY_OK)
		rc = sy_env_file_sync(q->env, q->first_f);
	if (rc != SY_OK)
		return smsq__err(q, "sms queue: %s/first: %s", q->dir, sy_env_file_err(rc));
	q->st.syncs++;
	return SY_OK;
}

static enum sy_rc smsq_seg_add(struct smsq *q, uint32_t no, struct sy_file *f, uint64_t size)
{
	if (q->seg_n == q->seg_cap) {
		uint32_t cap = q->seg_cap != 0 ? q->seg_cap * 2 : 8;
		struct smsq_seg *s = realloc(q->segs, cap * sizeof *s);
		if (s == NULL) {
			sy_env_file_close(q->env, f);
			return SY_ERR_NOMEM;
		}
		q->segs = s;
		q->seg_cap = cap;
	}
	q->segs[q->seg_n++] = (struct smsq_seg){.no = no, .f = f, .size = size};
	q->st.segments = q->seg_n;
	return SY_OK;
}

/* Starts segment no as the new head (the old head is synced): its header
 * carries the id high-water mark, so ids stay above it when every record
 * that named a larger id has been compacted away. */
static enum sy_rc smsq_seg_create(struct smsq *q, uint32_t no)
{
	SY_ASSERT(q->seg_n == 0 || (smsq__head(q)->size == q->synced_off && !q->broken));
	char path[sizeof q->dir + 16];
	smsq_seg_path(q, no, path, sizeof path);
	struct sy_file *f;
	enum sy_rc rc = sy_env_file_open(q->env, path, SY_FILE_READ | SY_FILE_WRITE | SY_FILE_CREATE, &f);
	if (rc != SY_OK)
		return smsq__file_err(q, rc, no, "create");
	uint8_t hdr[SMSQ_LOG_HDR_LEN];
	smsq_log_hdr_encode(&(struct smsq_seg_hdr){.version = SMSQ_LOG_VERSION, .seg_no = no, .last_id = q->hwm}, hdr);
	rc = sy_env_file_truncate(q->env, f, 0);
	if (rc == SY_OK)
		rc = sy_env_file_write(q->env, f, 0, hdr, sizeof hdr);
	if (rc == SY_OK)
		rc = sy_env_file_sync(q->env, f);
	if (rc != SY_OK) {
		/* Gone, so the next try starts it afresh and a replay after a
		 * crash never takes the old head for a segment in the middle. */
		sy_env_file_close(q->env, f);
		(void)sy_env_file_unlink(q->env, path);
		return smsq__file_err(q, rc, no, "write the segment header");
	}
	q->st.syncs++;
	q->st.bytes += sizeof hdr;
	if ((rc = smsq_seg_add(q, no, f, sizeof hdr)) != SY_OK)
		return smsq__err(q, "sms queue: out of memory"), rc;
	q->synced_off = sizeof hdr;
	q->ubuf.len = 0;
	return SY_OK;
}

/* Reads l's record and fills m with it and l's current state; m->body
 * points into buf (SMSQ_LOG_REC_MAX bytes) or the in-memory copy. */
enum sy_rc smsq__load(struct smsq *q, const struct smsq_live *l, uint8_t *buf, struct smsq_msg *m)
{
	const uint8_t *p = l->rec;
	if (!q->mem) {
		size_t got = 0;
		enum sy_rc rc = sy_env_file_read(q->env, smsq__seg_of(q, l->seg)->f, l->off, buf, l->rec_len, &got);
		if (rc != SY_OK || got != l->rec_len)
			return smsq__file_err(q, rc != SY_OK ? rc : SY_ERR_IO, l->seg, "read a message");
		p = buf;
	}
	struct smsq_rec rec;
	if (smsq_log_decode(p, p + l->rec_len, &rec) != SY_OK || rec.id != l->id || rec.type == SMSQ_REC_MARK) {
		smsq__err(q, "sms queue: %s/%08u.log: the record of message %llu at offset %llu is unreadable", q->dir,
			  l->seg, (unsigned long long)l->id, (unsigned long long)l->off);
		return SY_ERR_IO;
	}
	*m = rec.m;
	struct smsq_update all = l->cur;
	all.set = SMSQ_SET_ALL;
	smsq_log_apply(m, &all);
	return SY_OK;
}

static bool smsq_in_seg(const struct smsq_live *l, uint32_t seg)
{
	return l->seg == seg;
}

/* Copies the live messages of the oldest segment to the head as COPY
 * records with their current state, syncs the head (whatever the sync
 * mode: the old records are about to go), moves "first" past the oldest
 * and unlinks it. */
static enum sy_rc smsq_compact(struct smsq *q)
{
	struct smsq_seg *old = &q->segs[0], *h = smsq__head(q);
	SY_ASSERT(q->seg_n >= 2 && h->size == q->synced_off && !q->broken);
	uint64_t *ids;
	uint32_t n;
	enum sy_rc rc = smsq__collect(q, smsq_in_seg, old->no, &ids, &n);
	if (rc != SY_OK)
		return rc;
	uint32_t *lens = malloc(((size_t)n + 1) * sizeof *lens);
	if (lens == NULL)
		rc = smsq__err(q, "sms queue: out of memory");
	q->wbuf.len = 0;
	for (uint32_t i = 0; i < n && rc == SY_OK; i++) {
		struct smsq_msg m;
		const struct smsq_live *l = smsq__find(q, ids[i]);
		if ((rc = smsq__load(q, l, q->rbuf, &m)) != SY_OK)
			break;
		if (!smsq__buf_reserve(&q->wbuf, smsq_log_put_size(&m))) {
			rc = smsq__err(q, "sms queue: out of memory");
			break;
		}
		lens[i] = (uint32_t)smsq_log_put_encode(SMSQ_REC_COPY, &m, m.body, q->wbuf.p + q->wbuf.len);
		q->wbuf.len += lens[i];
	}
	uint64_t base = h->size;
	if (rc == SY_OK && q->wbuf.len > 0) {
		rc = sy_env_file_write(q->env, h->f, base, q->wbuf.p, q->wbuf.len);
		if (rc == SY_OK) {
			h->size += q->wbuf.len;
			q->st.bytes += q->wbuf.len;
		} else {
			q->broken = true;
			rc = smsq__file_err(q, rc, h->no, "write");
		}
		if (rc == SY_OK && (rc = smsq__head_sync(q)) != SY_OK)
			h->size = q->synced_off; /* ubuf is empty: the repair cuts the copies */
	}
	if (rc == SY_OK)
		rc = smsq_write_first(q, old->no + 1);
	if (rc != SY_OK) {
		free(lens);
		free(ids);
		return rc;
	}
	/* Durable at the head now: move the index to the copies. */
	uint64_t off = base;
	for (uint32_t i = 0; i < n; i++) {
		struct smsq_live *l = smsq__find(q, ids[i]), nl = *l;
		nl.seg = h->no, nl.off = off, nl.rec_len = lens[i];
		smsq__replace(q, l, &nl);
		off += lens[i];
	}
	free(lens);
	free(ids);
	q->wbuf.len = 0;
	char path[sizeof q->dir + 16];
	smsq_seg_path(q, old->no, path, sizeof path);
	SY_ASSERT(old->live == 0);
	sy_env_file_close(q->env, old->f);
	(void)sy_env_file_unlink(q->env, path); /* a leftover is unlinked at the next open */
	memmove(&q->segs[0], &q->segs[1], (q->seg_n - 1) * sizeof q->segs[0]);
	q->seg_n--;
	q->st.segments = q->seg_n;
	q->st.compactions++;
	q->st.copied += n;
	return SY_OK;
}

/* Before a batch: the previous one synced (sync = normal), a new segment
 * past the size limit, and the oldest segment dropped once a whole segment
 * has been written after it (time for its messages to finish) and at most
 * half of it is still live: copying that forward costs at most what it
 * frees, and messages that stay live for long (retries, a backlog) are
 * copied once per pass, not once per commit. Past SMSQ_SEGS_SOFT segments
 * the oldest goes whatever it holds, so the disk stays bounded by the live
 * messages plus that many segments. */
enum sy_rc smsq__prepare(struct smsq *q)
{
	if (q->mem)
		return SY_OK;
	enum sy_rc rc = smsq__head_sync(q);
	if (rc == SY_OK && smsq__head(q)->size >= q->seg_max)
		rc = smsq_seg_create(q, smsq__head(q)->no + 1);
	if (rc == SY_OK && q->seg_n >= 3) {
		const struct smsq_seg *o = &q->segs[0];
		if (o->live_bytes * 2 <= o->size || q->seg_n > SMSQ_SEGS_SOFT)
			rc = smsq_compact(q);
	}
	return rc;
}

/* ---- opening: replay ---- */

/* Replays one record: the index as the commit that wrote it left it. A
 * PUT or COPY replaces what is there (a COPY carries the current state; a
 * crash during compaction leaves both). A mark of an id not in the index
 * is of a message finished and compacted away: nothing to do. */
static enum sy_rc smsq_replay_rec(struct smsq *q, const struct smsq_rec *r, uint32_t seg, uint64_t off)
{
	struct smsq_live *l = smsq__find(q, r->id);
	if (r->type == SMSQ_REC_MARK) {
		if (l == NULL)
			return SY_OK;
		smsq__cur_apply(&l->cur, &r->u);
		if (smsq__cur_gone(&l->cur))
			smsq__remove(q, r->id);
		return SY_OK;
	}
	q->hwm = SY_MAX(q->hwm, r->id);
	struct smsq_live nl = {.id = r->id, .off = off, .seg = seg, .rec_len = r->len};
	smsq__cur_from_msg(&nl.cur, &r->m);
	if (l != NULL) {
		smsq__replace(q, l, &nl);
		return SY_OK;
	}
	if (smsq__reserve(q) != SY_OK)
		return smsq__err(q, "sms queue: out of memory replaying the log"), SY_ERR_NOMEM;
	smsq__insert(q, &nl);
	return SY_OK;
}

/* A record that does not decode at off: at the end of the last segment it
 * is a write a crash tore (cut it); anywhere else the log is corrupt. */
static enum sy_rc smsq_bad_rec(struct smsq *q, struct smsq_seg *g, uint64_t off, bool last)
{
	char path[sizeof q->dir + 16];
	smsq_seg_path(q, g->no, path, sizeof path);
	if (!last) {
		smsq__err(q, "sms queue: %s: bad record at offset %llu of %llu, not at the log's end: corrupt", path,
			  (unsigned long long)off, (unsigned long long)g->size);
		return SY_ERR_IO;
	}
	enum sy_rc rc = sy_env_file_truncate(q->env, g->f, off);
	if (rc == SY_OK)
		rc = sy_env_file_sync(q->env, g->f);
	if (rc != SY_OK)
		return smsq__file_err(q, rc, g->no, "cut the torn tail");
	SY_LOG(q->env, SY_LOG_WARN,
	       "sms queue: %s: torn tail of %llu bytes at offset %llu cut (a crash during a write)", path,
	       (unsigned long long)(g->size - off), (unsigned long long)off);
	q->st.truncated += g->size - off;
	g->size = off;
	return SY_OK;
}

static enum sy_rc smsq_replay_records(struct smsq *q, struct smsq_seg *g, bool last, uint8_t *buf, size_t cap)
{
	uint64_t off = SMSQ_LOG_HDR_LEN;
	while (off < g->size) {
		size_t want = (size_t)SY_MIN((uint64_t)cap, g->size - off), got = 0;
		enum sy_rc rc = sy_env_file_read(q->env, g->f, off, buf, want, &got);
		if (rc != SY_OK || got != want)
			return smsq__file_err(q, rc != SY_OK ? rc : SY_ERR_IO, g->no, "read");
		const uint8_t *p = buf, *end = buf + got;
		struct smsq_rec rec;
		while ((rc = smsq_log_decode(p, end, &rec)) == SY_OK) {
			if ((rc = smsq_replay_rec(q, &rec, g->no, off + (uint64_t)(p - buf))) != SY_OK)
				return rc;
			p += rec.len;
		}
		if (rc == SY_AGAIN && (p == end || (p != buf && off + got < g->size))) {
			off += (uint64_t)(p - buf); /* the rest of a record comes with the next read */
			continue;
		}
		return smsq_bad_rec(q, g, off + (uint64_t)(p - buf), last);
	}
	return SY_OK;
}

static enum sy_rc smsq_replay_seg(struct smsq *q, uint32_t no, bool last, uint8_t *buf, size_t cap)
{
	char path[sizeof q->dir + 16];
	smsq_seg_path(q, no, path, sizeof path);
	struct sy_file *f;
	uint64_t size = 0;
	enum sy_rc rc = sy_env_file_open(q->env, path, SY_FILE_READ | SY_FILE_WRITE, &f);
	if (rc != SY_OK)
		return smsq__file_err(q, rc, no, "open");
	if ((rc = sy_env_file_size(q->env, f, &size)) != SY_OK) {
		sy_env_file_close(q->env, f);
		return smsq__file_err(q, rc, no, "size");
	}
	if ((rc = smsq_seg_add(q, no, f, size)) != SY_OK)
		return smsq__err(q, "sms queue: out of memory"), rc;
	struct smsq_seg *g = smsq__head(q);
	struct smsq_seg_hdr h;
	size_t got = 0;
	rc = sy_env_file_read(q->env, f, 0, buf, SMSQ_LOG_HDR_LEN, &got);
	if (rc != SY_OK)
		return smsq__file_err(q, rc, no, "read");
	rc = smsq_log_hdr_decode(buf, buf + got, &h);
	if (rc != SY_OK || h.seg_no != no) {
		if (last && size <= SMSQ_LOG_HDR_LEN) { /* created, then the crash: start it again */
			q->seg_n--;
			sy_env_file_close(q->env, f);
			SY_LOG(q->env, SY_LOG_WARN, "sms queue: %s: torn segment header rewritten", path);
			return smsq_seg_create(q, no);
		}
		smsq__err(q, "sms queue: %s: not a segment %u of this format (bad header)", path, no);
		return SY_ERR_IO;
	}
	q->hwm = SY_MAX(q->hwm, h.last_id);
	if ((rc = smsq_replay_records(q, g, last, buf, cap)) != SY_OK)
		return rc;
	q->synced_off = g->size; /* what replay read is the head's synced part */
	return SY_OK;
}

static bool smsq_seg_exists(const struct smsq *q, uint32_t no)
{
	char path[sizeof q->dir + 16];
	smsq_seg_path(q, no, path, sizeof path);
	return sy_env_file_exists(q->env, path);
}

/* "first" names the oldest segment; it moves forward (synced) before a
 * compacted segment is unlinked, so a crash between the two leaves an
 * older file behind: removed here. */
static enum sy_rc smsq_read_first(struct smsq *q, uint32_t *first)
{
	uint8_t b[16];
	size_t got = 0;
	enum sy_rc rc = sy_env_file_read(q->env, q->first_f, 0, b, sizeof b, &got);
	if (rc != SY_OK)
		return smsq__err(q, "sms queue: %s/first: %s", q->dir, sy_env_file_err(rc));
	uint32_t v = 0, crc = 0;
	for (int i = 0; i < 4; i++) {
		v |= (uint32_t)b[i] << (8 * i);
		crc |= (uint32_t)b[4 + i] << (8 * i);
	}
	if (got != sizeof b || crc != smsq_crc32c(0, b, 4) || memcmp(b + 8, "SYSMSQF\n", 8) != 0 || v == 0)
		return smsq__err(q, "sms queue: %s/first: corrupt (not written by this store?)", q->dir);
	*first = v;
	for (uint32_t no = v - 1; no > 0 && smsq_seg_exists(q, no); no--) {
		char path[sizeof q->dir + 16];
		smsq_seg_path(q, no, path, sizeof path);
		(void)sy_env_file_unlink(q->env, path);
	}
	return SY_OK;
}

enum sy_rc smsq__open_log(struct smsq *q)
{
	enum sy_rc rc = sy_env_dir_make(q->env, q->dir);
	if (rc != SY_OK)
		return smsq__err(q, "sms queue: cannot create the folder %s: %s", q->dir, sy_env_file_err(rc));
	char path[sizeof q->dir + 16];
	snprintf(path, sizeof path, "%s/first", q->dir);
	rc = sy_env_file_open(q->env, path, SY_FILE_READ | SY_FILE_WRITE | SY_FILE_CREATE, &q->first_f);
	uint64_t size = 0;
	if (rc == SY_OK)
		rc = sy_env_file_size(q->env, q->first_f, &size);
	if (rc != SY_OK)
		return smsq__err(q, "sms queue: %s: %s", path, sy_env_file_err(rc));
	uint32_t first = 1;
	if (size == 0)
		rc = smsq_write_first(q, first); /* a new store */
	else
		rc = smsq_read_first(q, &first);
	if (rc != SY_OK)
		return rc;
	size_t cap = 4u << 20;
	uint8_t *buf = malloc(cap);
	if (buf == NULL)
		return smsq__err(q, "sms queue: out of memory"), SY_ERR_NOMEM;
	bool next = smsq_seg_exists(q, first);
	for (uint32_t no = first; next && rc == SY_OK; no++) {
		next = smsq_seg_exists(q, no + 1);
		rc = smsq_replay_seg(q, no, !next, buf, cap);
	}
	free(buf);
	if (rc == SY_OK && q->seg_n == 0)
		rc = smsq_seg_create(q, first);
	if (rc != SY_OK)
		return rc;
	q->synced_off = smsq__head(q)->size;
	q->last_id = q->hwm;
	return SY_OK;
}
