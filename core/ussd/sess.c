/* sess.c: the gateway's session table: slots from a pool that grows in
 * slabs up to sessions_max, an index from (link, msisdn, reference) to the
 * slot (chained through the slots, a bucket array that doubles with the
 * sessions, hashed with a seed peers cannot know), the timeout queue (one
 * list in begin order: every session has the same timeout, so the oldest is
 * always the next to expire and one env timer serves them all), session
 * ids, and the chunks holding HTTP services' inputs. */
#include "core/ussd/sess.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS_MIN 1024u
#define ID_BITS	    52
#define ID_HALF	    (ID_BITS / 2)
#define ID_MASK	    ((1ull << ID_HALF) - 1)

_Static_assert(sizeof(struct ussd_sess) <= 96, "a session stays within 96 bytes");
_Static_assert(sizeof(struct ussd_chunk) == 64, "a chunk is 64 bytes");

enum sy_rc ussd__sess_init(struct ussd *u)
{
	uint32_t max = u->cfg->sessions_max;
	/* chunks only for HTTP sessions' inputs: a few each at most */
	uint64_t chunks = SY_MIN((uint64_t)max * 4, (uint64_t)UINT32_MAX - 1);
	if (sy_pool_init(&u->pool, sizeof(struct ussd_sess), max) != SY_OK ||
	    sy_pool_init(&u->chunks, sizeof(struct ussd_chunk), (uint32_t)chunks) != SY_OK)
		return SY_ERR_NOMEM;
	u->bucket_n = BUCKETS_MIN;
	if ((u->buckets = calloc(u->bucket_n, sizeof(*u->buckets))) == NULL)
		return SY_ERR_NOMEM;
	u->hash_seed = sy_env_random_u64(u->env);
	for (int i = 0; i < 4; i++)
		u->id_key[i] = sy_env_random_u64(u->env);
	u->id_next = sy_env_random_u64(u->env) & ((1ull << ID_BITS) - 1);
	u->bytes_fixed = sizeof(*u) + (uint64_t)(u->pool.slab_n + u->chunks.slab_n) * sizeof(uint8_t *);
	return SY_OK;
}

void ussd__sess_free(struct ussd *u)
{
	sy_env_timer_cancel(u->env, u->q_timer);
	u->q_timer = 0;
	sy_pool_free(&u->pool);
	sy_pool_free(&u->chunks);
	free(u->buckets);
	u->buckets = NULL;
}

/* A 4-round Feistel permutation of 52 bits keyed from the env's random
 * stream: consecutive counters give ids that are unique (a permutation)
 * and that an HTTP application seeing some cannot extrapolate. */
uint64_t ussd__sess_id(struct ussd *u)
{
	for (;;) {
		uint64_t x = u->id_next++ & ((1ull << ID_BITS) - 1);
		uint64_t l = x >> ID_HALF, r = x & ID_MASK;
		for (int i = 0; i < 4; i++) {
			uint64_t f = sy_hash64(&r, sizeof(r), u->id_key[i]) & ID_MASK;
			uint64_t t = l ^ f;
			l = r;
			r = t;
		}
		uint64_t id = l << ID_HALF | r;
		if (id != 0)
			return id;
	}
}

struct ussd_sess *ussd__sess_at(const struct ussd *u, uint32_t idx)
{
	return sy_pool_at(&u->pool, idx);
}

uint32_t ussd__sess_idx(const struct ussd *u, const struct ussd_sess *s)
{
	SY_ASSERT(ussd__sess_at(u, s->self) == s);
	return s->self;
}

static uint64_t key_hash(const struct ussd *u, uint16_t li, const char *msisdn, uint16_t ref)
{
	char k[4 + USSD_MSISDN_MAX];
	size_t n = strnlen(msisdn, USSD_MSISDN_MAX - 1);
	memcpy(k, &li, 2);
	memcpy(k + 2, &ref, 2);
	memcpy(k + 4, msisdn, n);
	return sy_hash64(k, 4 + n, u->hash_seed);
}

static uint32_t *bucket_of(const struct ussd *u, uint16_t li, const char *msisdn, uint16_t ref)
{
	return &u->buckets[key_hash(u, li, msisdn, ref) & (u->bucket_n - 1)];
}

struct ussd_sess *ussd__sess_find(const struct ussd *u, uint16_t li, const char *msisdn, uint16_t ref)
{
	for (uint32_t i = *bucket_of(u, li, msisdn, ref); i != 0;) {
		struct ussd_sess *s = ussd__sess_at(u, i - 1);
		if (s->link == li && s->ref == ref && strcmp(s->msisdn, msisdn) == 0)
			return s;
		i = s->hnext;
	}
	return NULL;
}

/* Doubles the buckets when the sessions outnumber them (chains stay ~1
 * long); on no memory the old array stays, longer chains but correct. */
static void index_grow(struct ussd *u)
{
	uint32_t n = u->bucket_n * 2;
	uint32_t *b = calloc(n, sizeof(*b));
	if (b == NULL)
		return;
	uint32_t *old = u->buckets, old_n = u->bucket_n;
	u->buckets = b;
	u->bucket_n = n;
	for (uint32_t k = 0; k < old_n; k++) {
		for (uint32_t i = old[k]; i != 0;) {
			struct ussd_sess *s = ussd__sess_at(u, i - 1);
			uint32_t next = s->hnext;
			uint32_t *head = bucket_of(u, s->link, s->msisdn, s->ref);
			s->hnext = *head;
			*head = i;
			i = next;
		}
	}
	free(old);
}

static struct ussd_sess *slot_take(struct ussd *u, uint32_t *idx)
{
	if (u->free_head != 0) {
		*idx = u->free_head - 1;
		struct ussd_sess *s = ussd__sess_at(u, *idx);
		u->free_head = s->hnext;
		return s;
	}
	return sy_pool_grow(&u->pool, idx);
}

struct ussd_sess *ussd__sess_new(struct ussd *u, uint16_t li, const char *msisdn, uint16_t ref)
{
	if (u->st.active >= u->cfg->sessions_max)
		return NULL;
	uint32_t idx;
	struct ussd_sess *s = slot_take(u, &idx);
	if (s == NULL)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->self = idx;
	s->link = li;
	s->ref = ref;
	snprintf(s->msisdn, sizeof(s->msisdn), "%s", msisdn);
	s->begin_ns = sy_env_now_ns(u->env);
	s->begin_wall_ns = sy_env_wall_ns(u->env);
	if (u->st.active + 1 > u->bucket_n)
		index_grow(u);
	uint32_t *head = bucket_of(u, li, s->msisdn, ref);
	s->hnext = *head;
	*head = idx + 1;
	s->qprev = u->q_tail;
	if (u->q_tail != 0)
		ussd__sess_at(u, u->q_tail - 1)->qnext = idx + 1;
	else
		u->q_head = idx + 1;
	u->q_tail = idx + 1;
	u->st.active++;
	if (u->q_head == idx + 1)
		ussd__sess_arm(u);
	return s;
}

static void index_unlink(struct ussd *u, struct ussd_sess *s, uint32_t idx1)
{
	uint32_t *p = bucket_of(u, s->link, s->msisdn, s->ref);
	while (*p != idx1) {
		SY_ASSERT(*p != 0);
		p = &ussd__sess_at(u, *p - 1)->hnext;
	}
	*p = s->hnext;
}

static struct ussd_chunk *chunk_take(struct ussd *u, uint32_t *idx1)
{
	uint32_t idx;
	struct ussd_chunk *c;
	if (u->chunk_free != 0) {
		idx = u->chunk_free - 1;
		c = sy_pool_at(&u->chunks, idx);
		u->chunk_free = c->next;
	} else if ((c = sy_pool_grow(&u->chunks, &idx)) == NULL) {
		return NULL;
	}
	c->next = 0;
	*idx1 = idx + 1;
	return c;
}

static void chunks_put(struct ussd *u, uint32_t first)
{
	while (first != 0) {
		struct ussd_chunk *c = sy_pool_at(&u->chunks, first - 1);
		uint32_t next = c->next;
		c->next = u->chunk_free;
		u->chunk_free = first;
		first = next;
	}
}

/* Makes room for n more bytes at the end of s's chain: all or nothing. */
static bool chunks_reserve(struct ussd *u, struct ussd_sess *s, size_t n)
{
	size_t have = ((size_t)s->in_len + USSD_CHUNK_BYTES - 1) / USSD_CHUNK_BYTES;
	size_t need = ((size_t)s->in_len + n + USSD_CHUNK_BYTES - 1) / USSD_CHUNK_BYTES;
	uint32_t first = 0, *link = &first;
	for (size_t i = have; i < need; i++) {
		struct ussd_chunk *c = chunk_take(u, link);
		if (c == NULL) {
			chunks_put(u, first);
			return false;
		}
		link = &c->next;
	}
	link = &s->chunks;
	while (*link != 0)
		link = &((struct ussd_chunk *)sy_pool_at(&u->chunks, *link - 1))->next;
	*link = first;
	return true;
}

enum sy_rc ussd__sess_input_add(struct ussd *u, struct ussd_sess *s, struct sy_str input)
{
	size_t sep = s->in_len > 0 ? 1 : 0, n = sep + input.len;
	if (s->in_len + n > USSD_INPUTS_MAX || !chunks_reserve(u, s, n))
		return SY_ERR_FULL;
	struct ussd_chunk *c = NULL;
	size_t at = 0; /* c is chunk number at of the chain */
	for (size_t i = 0, off = s->in_len; i < n; i++, off++) {
		if (c == NULL) {
			c = sy_pool_at(&u->chunks, s->chunks - 1);
			at = 0;
		}
		for (; at < off / USSD_CHUNK_BYTES; at++)
			c = sy_pool_at(&u->chunks, c->next - 1);
		c->b[off % USSD_CHUNK_BYTES] = i < sep ? '*' : input.p[i - sep];
	}
	s->in_len = (uint16_t)(s->in_len + n);
	return SY_OK;
}

void ussd__sess_del(struct ussd *u, struct ussd_sess *s)
{
	uint32_t idx1 = ussd__sess_idx(u, s) + 1;
	index_unlink(u, s, idx1);
	bool was_head = u->q_head == idx1;
	if (s->qprev != 0)
		ussd__sess_at(u, s->qprev - 1)->qnext = s->qnext;
	else
		u->q_head = s->qnext;
	if (s->qnext != 0)
		ussd__sess_at(u, s->qnext - 1)->qprev = s->qprev;
	else
		u->q_tail = s->qprev;
	chunks_put(u, s->chunks);
	s->chunks = 0;
	s->in_len = 0;
	s->state = USSD_ST_DONE;
	s->id = 0;
	s->hnext = u->free_head;
	u->free_head = idx1;
	SY_ASSERT(u->st.active > 0);
	u->st.active--;
	if (was_head)
		ussd__sess_arm(u);
}

uint64_t ussd__sess_token(const struct ussd *u, const struct ussd_sess *s)
{
	return (s->id & 0xffffffffull) << 32 | ussd__sess_idx(u, s);
}

struct ussd_sess *ussd__sess_by_token(const struct ussd *u, uint64_t token)
{
	uint32_t idx = (uint32_t)token;
	if (idx >= sy_pool_used(&u->pool))
		return NULL;
	struct ussd_sess *s = ussd__sess_at(u, idx);
	if (s->id == 0 || (s->id & 0xffffffffull) != token >> 32)
		return NULL;
	return s;
}

size_t ussd__sess_inputs(const struct ussd *u, const struct ussd_sess *s, char *buf, size_t cap)
{
	SY_ASSERT(cap > s->in_len);
	size_t n = 0;
	for (uint32_t i = s->chunks; i != 0 && n < s->in_len;) {
		const struct ussd_chunk *c = sy_pool_at(&u->chunks, i - 1);
		size_t k = SY_MIN((size_t)USSD_CHUNK_BYTES, (size_t)s->in_len - n);
		memcpy(buf + n, c->b, k);
		n += k;
		i = c->next;
	}
	buf[n] = '\0';
	return n;
}

struct ussd_sess *ussd__sess_oldest(const struct ussd *u)
{
	return u->q_head != 0 ? ussd__sess_at(u, u->q_head - 1) : NULL;
}

struct ussd_sess *ussd__sess_newer(const struct ussd *u, const struct ussd_sess *s)
{
	return s->qnext != 0 ? ussd__sess_at(u, s->qnext - 1) : NULL;
}

uint64_t ussd__sess_bytes(const struct ussd *u)
{
	return u->pool.slab_bytes + u->chunks.slab_bytes + (uint64_t)u->bucket_n * sizeof(*u->buckets);
}

void ussd__sess_arm(struct ussd *u)
{
	if (u->q_hold)
		return;
	const struct ussd_sess *s = ussd__sess_oldest(u);
	if (s == NULL) {
		sy_env_timer_cancel(u->env, u->q_timer);
		u->q_timer = 0;
		return;
	}
	uint64_t at = s->begin_ns + u->cfg->session_timeout_ns;
	if (u->q_timer != 0 && u->q_timer_at == at)
		return;
	sy_env_timer_cancel(u->env, u->q_timer);
	uint64_t now = sy_env_now_ns(u->env);
	u->q_timer_at = at;
	u->q_timer = sy_env_timer_start(u->env, at > now ? at - now : 0, ussd__timeouts, u);
}
