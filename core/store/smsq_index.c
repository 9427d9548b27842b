/* smsq_index.c: the SMS queue's index of live messages: id -> where the
 * message's record is and its current state, in an open-addressing table
 * (linear probing, backward-shift deletion) over a growable entry array,
 * with per-segment counts of what each segment still holds live. */
#include <stdlib.h>

#include "smsq_int.h"

/* ---- the index ---- */

/* Ids come in runs (the SMSC counts up), so eight consecutive ids share a
 * 64-byte line of slots; the runs are spread by Fibonacci hashing, which
 * keeps ids taken in strides (several SMSCs sharing a range) apart too.
 * Only the id's low 32 bits count: the home is known from the slot alone
 * (a rehash and the backward shift read no entry). */
static uint32_t smsq_hash(const struct smsq *q, uint32_t idlo)
{
	uint64_t g = (((uint64_t)idlo >> 3) * 0x9E3779B97F4A7C15ull) >> (64 - (q->slot_bits - 3));
	return (uint32_t)((g << 3) | (idlo & 7));
}

/* The slot holding id, or the empty slot where it would go. An entry is
 * read only when its slot's low 32 bits match. */
static uint32_t smsq_slot_of(const struct smsq *q, uint64_t id)
{
	uint32_t lo = (uint32_t)id;
	uint32_t i = smsq_hash(q, lo);
	for (;; i = (i + 1) & q->slot_mask) {
		struct smsq_slot s = q->slot[i];
		if (s.idx1 == 0 || (s.idlo == lo && q->ent[s.idx1 - 1].id == id))
			return i;
	}
}

/* A commit applies its batch in order; fetching an entry's home slot a few
 * entries ahead, and the entry its slot names two ahead, overlaps the
 * cache misses of ~300K live ids instead of paying them one by one. Only
 * a hint: a stale slot costs a wasted fetch, never a wrong answer. */
void smsq__prefetch_slot(const struct smsq *q, uint64_t id)
{
	__builtin_prefetch(&q->slot[smsq_hash(q, (uint32_t)id)]);
}

void smsq__prefetch_ent(const struct smsq *q, uint64_t id)
{
	struct smsq_slot s = q->slot[smsq_hash(q, (uint32_t)id)];
	if (s.idx1 != 0)
		__builtin_prefetch(&q->ent[s.idx1 - 1]);
}

struct smsq_live *smsq__find(const struct smsq *q, uint64_t id)
{
	uint32_t s = q->slot[smsq_slot_of(q, id)].idx1;
	return s != 0 ? &q->ent[s - 1] : NULL;
}

struct smsq_seg *smsq__seg_of(struct smsq *q, uint32_t no)
{
	SY_ASSERT(q->seg_n > 0 && no >= q->segs[0].no && no - q->segs[0].no < q->seg_n);
	return &q->segs[no - q->segs[0].no];
}

static void smsq_count(struct smsq *q, const struct smsq_live *l, int dir)
{
	if (q->mem)
		return;
	struct smsq_seg *g = smsq__seg_of(q, l->seg);
	g->live += (uint64_t)(int64_t)dir;
	g->live_bytes += (uint64_t)((int64_t)dir * l->rec_len);
}

/* A table of n slots holding the live entries, numbered as renumber says
 * (NULL: as they are). */
static enum sy_rc smsq_rehash(struct smsq *q, uint32_t n, const uint32_t *renumber)
{
	struct smsq_slot *old = q->slot;
	uint32_t old_n = q->slot != NULL ? q->slot_mask + 1 : 0;
	q->slot = calloc(n, sizeof *q->slot);
	if (q->slot == NULL) {
		q->slot = old;
		return SY_ERR_NOMEM;
	}
	q->slot_mask = n - 1;
	q->slot_bits = (uint32_t)__builtin_ctz(n);
	for (uint32_t i = 0; i < old_n; i++) {
		if (old[i].idx1 == 0)
			continue;
		struct smsq_slot sl = old[i];
		if (renumber != NULL)
			sl.idx1 = renumber[sl.idx1 - 1] + 1;
		uint32_t j = smsq_hash(q, sl.idlo); /* ids are unique: the first empty slot */
		while (q->slot[j].idx1 != 0)
			j = (j + 1) & q->slot_mask;
		q->slot[j] = sl;
	}
	free(old);
	return SY_OK;
}

enum sy_rc smsq__grow_slots(struct smsq *q)
{
	return smsq_rehash(q, q->slot != NULL ? (q->slot_mask + 1) * 2 : 1024, NULL);
}

/* After a peak (a backlog drained) the arrays go back to a size that
 * follows the live messages: entries packed into an array a quarter the
 * size, the table rehashed to keep its load under a half. Nothing changes
 * when memory is short. */
void smsq__shrink(struct smsq *q)
{
	if (q->ent_cap <= 4096 || (uint64_t)q->live_n * 8 > q->ent_cap)
		return;
	uint32_t cap = q->ent_cap / 4, n = q->slot_mask + 1;
	while (n > 1024 && (uint64_t)(q->live_n + 1) * 4 <= n)
		n /= 2;
	struct smsq_live *e = malloc((size_t)cap * sizeof *e);
	uint32_t *f = malloc((size_t)cap * sizeof *f), *renumber = malloc((size_t)q->ent_n * sizeof *renumber);
	uint32_t k = 0;
	for (uint32_t i = 0; e != NULL && renumber != NULL && i <= q->slot_mask; i++) {
		if (q->slot[i].idx1 == 0)
			continue;
		renumber[q->slot[i].idx1 - 1] = k;
		e[k++] = q->ent[q->slot[i].idx1 - 1];
	}
	if (e == NULL || f == NULL || renumber == NULL || smsq_rehash(q, n, renumber) != SY_OK) {
		free(e);
		free(f);
		free(renumber);
		return;
	}
	SY_ASSERT(k == q->live_n && k <= cap);
	free(renumber);
	free(q->ent);
	free(q->free_ent);
	q->ent = e;
	q->free_ent = f;
	q->ent_cap = cap;
	q->ent_n = k;
	q->free_n = 0;
}

uint64_t smsq__index_bytes(const struct smsq *q)
{
	return (uint64_t)q->ent_cap * (sizeof *q->ent + sizeof *q->free_ent) +
	       (q->slot != NULL ? (uint64_t)(q->slot_mask + 1) * sizeof *q->slot : 0);
}

/* A free entry number, growing the array (and the table at half load). */
enum sy_rc smsq__reserve(struct smsq *q)
{
	if ((q->live_n + 1) * 2 > q->slot_mask + 1 && smsq__grow_slots(q) != SY_OK)
		return SY_ERR_NOMEM;
	if (q->free_n > 0 || q->ent_n < q->ent_cap)
		return SY_OK;
	uint32_t cap = q->ent_cap != 0 ? q->ent_cap * 2 : 1024;
	struct smsq_live *e = realloc(q->ent, (size_t)cap * sizeof *e);
	if (e == NULL)
		return SY_ERR_NOMEM;
	q->ent = e;
	uint32_t *f = realloc(q->free_ent, (size_t)cap * sizeof *f);
	if (f == NULL)
		return SY_ERR_NOMEM;
	q->free_ent = f;
	q->ent_cap = cap;
	return SY_OK;
}

/* Inserts l (its id absent); smsq__reserve() made room. */
void smsq__insert(struct smsq *q, const struct smsq_live *l)
{
	uint32_t idx = q->free_n > 0 ? q->free_ent[--q->free_n] : q->ent_n++;
	SY_ASSERT(idx < q->ent_cap);
	q->ent[idx] = *l;
	uint32_t s = smsq_slot_of(q, l->id);
	SY_ASSERT(q->slot[s].idx1 == 0);
	q->slot[s] = (struct smsq_slot){.idx1 = idx + 1, .idlo = (uint32_t)l->id};
	q->live_n++;
	smsq_count(q, l, +1);
}

/* Removes id (present) with a backward shift, so probes need no tombstones. */
void smsq__remove(struct smsq *q, uint64_t id)
{
	uint32_t i = smsq_slot_of(q, id);
	SY_ASSERT(q->slot[i].idx1 != 0);
	uint32_t idx = q->slot[i].idx1 - 1;
	smsq_count(q, &q->ent[idx], -1);
	q->free_ent[q->free_n++] = idx;
	q->live_n--;
	for (uint32_t j = (i + 1) & q->slot_mask; q->slot[j].idx1 != 0; j = (j + 1) & q->slot_mask) {
		uint32_t h = smsq_hash(q, q->slot[j].idlo);
		/* Move j back into the hole at i unless its home lies in (i, j]. */
		if (((j - h) & q->slot_mask) >= ((j - i) & q->slot_mask)) {
			q->slot[i] = q->slot[j];
			i = j;
		}
	}
	q->slot[i] = (struct smsq_slot){0};
}

/* Replaces the entry of l->id (present) by l. */
void smsq__replace(struct smsq *q, struct smsq_live *at, const struct smsq_live *l)
{
	smsq_count(q, at, -1);
	*at = *l;
	smsq_count(q, at, +1);
}

void smsq__cur_from_msg(struct smsq_update *c, const struct smsq_msg *m)
{
	memset(c, 0, sizeof *c);
	c->state = m->state;
	c->attempts = m->attempts;
	c->next_attempt_ns = m->next_attempt_ns;
	memcpy(c->carrier, m->carrier, sizeof c->carrier);
	memcpy(c->upstream_id, m->upstream_id, sizeof c->upstream_id);
	c->carrier[sizeof c->carrier - 1] = c->upstream_id[sizeof c->upstream_id - 1] = '\0';
	c->dlr_pending = m->dlr_pending;
	c->error_code = m->error_code;
	c->done_ns = m->done_ns;
}

/* The mark's rule: a final mark that leaves no receipt owed drops it. */
bool smsq__cur_gone(const struct smsq_update *c)
{
	return smsq_state_final(c->state) && !c->dlr_pending;
}

void smsq__cur_apply(struct smsq_update *c, const struct smsq_update *u)
{
	c->state = u->state;
	if (u->set & SMSQ_SET_ATTEMPTS)
		c->attempts = u->attempts;
	if (u->set & SMSQ_SET_NEXT_ATTEMPT)
		c->next_attempt_ns = u->next_attempt_ns;
	if (u->set & SMSQ_SET_CARRIER)
		smsq_set_str(c->carrier, sizeof c->carrier,
			     (struct sy_str){u->carrier, strnlen(u->carrier, sizeof u->carrier)});
	if (u->set & SMSQ_SET_UPSTREAM_ID)
		smsq_set_str(c->upstream_id, sizeof c->upstream_id,
			     (struct sy_str){u->upstream_id, strnlen(u->upstream_id, sizeof u->upstream_id)});
	if (u->set & SMSQ_SET_DLR_PENDING)
		c->dlr_pending = u->dlr_pending;
	if (u->set & SMSQ_SET_ERROR)
		c->error_code = u->error_code;
	if (u->set & SMSQ_SET_DONE)
		c->done_ns = u->done_ns;
}

static int smsq_cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The ids of the index entries that match, sorted; *out malloc'd. */
enum sy_rc smsq__collect(struct smsq *q, bool (*match)(const struct smsq_live *, uint32_t), uint32_t arg,
			 uint64_t **out, uint32_t *n)
{
	*n = 0;
	*out = malloc(((size_t)q->live_n + 1) * sizeof **out);
	if (*out == NULL)
		return smsq__err(q, "sms queue: out of memory"), SY_ERR_NOMEM;
	for (uint32_t i = 0; q->slot != NULL && i <= q->slot_mask; i++)
		if (q->slot[i].idx1 != 0 && match(&q->ent[q->slot[i].idx1 - 1], arg))
			(*out)[(*n)++] = q->ent[q->slot[i].idx1 - 1].id;
	qsort(*out, *n, sizeof **out, smsq_cmp_id);
	return SY_OK;
}
