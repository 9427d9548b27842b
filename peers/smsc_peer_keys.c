/* smsc_peer_keys.c: see smsc_peer_keys.h. Compact tables: open addressing,
 * linear probing, doubling at three quarters full; keys are never removed.
 * Other texts: records under a chained hash table. */
#include "smsc_peer_keys.h"

#include <stdlib.h>

#include "core/store/smsq.h"
#include "smsc_peer.h"

#define KV_CAP_FIRST 1024u

static bool kv_init(struct kv_tab *t, uint32_t words)
{
	*t = (struct kv_tab){calloc(KV_CAP_FIRST, words * sizeof(uint64_t)), KV_CAP_FIRST - 1, 0, words};
	return t->e != NULL;
}

static inline uint64_t kv_home(const struct kv_tab *t, uint64_t v)
{
	return ((v ^ (v >> 29)) * 0x9E3779B97F4A7C15ull >> 20) & t->mask;
}

/* The slot of v (nonzero), NULL when v is not in t. */
static uint64_t *kv_find(const struct kv_tab *t, uint64_t v)
{
	for (uint64_t i = kv_home(t, v);; i = (i + 1) & t->mask) {
		uint64_t *s = t->e + i * t->words;
		if (*s == v)
			return s;
		if (*s == 0)
			return NULL;
	}
}

static uint64_t *kv_place(struct kv_tab *t, uint64_t v)
{
	uint64_t i = kv_home(t, v);
	while (t->e[i * t->words] != 0)
		i = (i + 1) & t->mask;
	return t->e + i * t->words;
}

/* Doubles the table at three quarters full; false when that fails. */
static bool kv_room(struct kv_tab *t)
{
	if ((t->n + 1) * 4 <= (t->mask + 1) * 3)
		return true;
	struct kv_tab nt = {calloc(2 * (t->mask + 1), t->words * sizeof(uint64_t)), 2 * t->mask + 1, t->n, t->words};
	if (nt.e == NULL)
		return false;
	for (uint64_t i = 0; i <= t->mask; i++) {
		const uint64_t *s = t->e + i * t->words;
		if (*s != 0)
			memcpy(kv_place(&nt, *s), s, t->words * sizeof(uint64_t));
	}
	free(t->e);
	*t = nt;
	return true;
}

/* Links a new v (nonzero, not in t), what goes with it zero; NULL when out of memory. */
static uint64_t *kv_add(struct kv_tab *t, uint64_t v)
{
	if (!kv_room(t))
		return NULL;
	uint64_t *s = kv_place(t, v);
	*s = v;
	t->n++;
	return s;
}

/* One more time for v (nonzero) in a count table c: a key not in c came once. */
static void count_again(struct kv_tab *c, uint64_t v)
{
	uint64_t *s = kv_find(c, v);
	if (s == NULL && (s = kv_add(c, v)) != NULL)
		s[1] = 1;
	if (s != NULL && s[1] < UINT32_MAX)
		s[1]++;
}

static uint32_t count_of(const struct kv_tab *c, uint64_t v)
{
	const uint64_t *s = kv_find(c, v);
	return s == NULL ? 1 : (uint32_t)s[1];
}

/* ---- messages ---- */

void peer_keys_prefetch(const struct peer_keys *p, uint64_t id, const struct peer_kref *r)
{
	__builtin_prefetch(p->msgv.e + kv_home(&p->msgv, id) * p->msgv.words);
	if (r != NULL && r->v != 0)
		__builtin_prefetch(p->keyv.e + kv_home(&p->keyv, r->v) * p->keyv.words);
}

bool peer_keys_msg_seen(const struct peer_keys *p, uint64_t id)
{
	return id == 0 ? p->zero : kv_find(&p->msgv, id) != NULL;
}

bool peer_keys_msg_add(struct peer_keys *p, uint64_t id)
{
	if (p->used >= p->keys_max)
		return false;
	if (id == 0) {
		p->zero = true;
		p->zero_count = 1;
	} else if (kv_add(&p->msgv, id) == NULL) {
		return false;
	}
	p->used++;
	return true;
}

void peer_keys_msg_again(struct peer_keys *p, uint64_t id)
{
	if (id == 0)
		p->zero_count += p->zero_count < UINT32_MAX;
	else
		count_again(&p->msgc, id);
}

/* ---- key TLVs ---- */

struct peer_kref peer_keys_kref(struct sy_str text)
{
	struct peer_kref r = {text, 0};
	uint64_t v;
	if (smsq_id_parse(text, &v) == SY_OK && v != 0)
		r.v = v;
	return r;
}

static struct peer_key *key_rec(const struct peer_keys *p, struct sy_str text)
{
	struct sy_hnode *h = sy_htab_find(&p->keyt, text);
	return h == NULL ? NULL : SY_CONTAINER_OF(h, struct peer_key, h);
}

bool peer_keys_key_seen(const struct peer_keys *p, const struct peer_kref *r, uint64_t *up_no)
{
	if (r->v != 0) {
		const uint64_t *s = kv_find(&p->keyv, r->v);
		if (s != NULL)
			*up_no = s[1];
		return s != NULL;
	}
	const struct peer_key *k = key_rec(p, r->text);
	if (k != NULL)
		*up_no = k->up_no;
	return k != NULL;
}

static bool key_text_add(struct peer_keys *p, struct sy_str key, uint64_t up_no)
{
	SY_ASSERT(key.len < SMSC_PEER_KEY_CAP);
	char *text = p->keys[p->text].key;
	if (key.len >= PEER_KEY_INLINE) {
		if ((text = malloc(key.len + 1)) == NULL)
			return false;
		p->heap++;
	}
	struct peer_key *k = &p->keys[p->text++];
	k->up_no = up_no;
	k->count = 1;
	k->len = (uint8_t)key.len;
	memcpy(text, key.p, key.len);
	text[key.len] = '\0';
	sy_htab_insert(&p->keyt, &k->h, (struct sy_str){text, key.len});
	return true;
}

bool peer_keys_key_add(struct peer_keys *p, const struct peer_kref *r, uint64_t up_no)
{
	if (p->used >= p->keys_max)
		return false;
	if (r->v != 0) {
		uint64_t *s = kv_add(&p->keyv, r->v);
		if (s == NULL)
			return false;
		s[1] = up_no;
	} else if (!key_text_add(p, r->text, up_no)) {
		return false;
	}
	p->used++;
	return true;
}

void peer_keys_key_again(struct peer_keys *p, const struct peer_kref *r)
{
	if (r->v != 0) {
		count_again(&p->keyc, r->v);
		return;
	}
	struct peer_key *k = key_rec(p, r->text);
	if (k != NULL && k->count < UINT32_MAX)
		k->count++;
}

/* ---- counts ---- */

/* "h:" and 16 lowercase hex digits (smsc_peer.c's form of a message identity) as its value. */
static bool msg_id_value(struct sy_str k, uint64_t *v)
{
	if (k.len != 18 || k.p[0] != 'h' || k.p[1] != ':')
		return false;
	uint64_t x = 0;
	for (size_t i = 2; i < 18; i++) {
		char c = k.p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return false;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return true;
}

uint32_t peer_keys_count(const struct peer_keys *p, bool msg, struct sy_str key)
{
	uint64_t v;
	if (msg) {
		if (!msg_id_value(key, &v) || !peer_keys_msg_seen(p, v))
			return 0;
		return v == 0 ? p->zero_count : count_of(&p->msgc, v);
	}
	struct peer_kref r = peer_keys_kref(key);
	if (!peer_keys_key_seen(p, &r, &v))
		return 0;
	return r.v != 0 ? count_of(&p->keyc, r.v) : key_rec(p, key)->count;
}

enum sy_rc peer_keys_init(struct peer_keys *p, uint32_t keys_max)
{
	memset(p, 0, sizeof(*p));
	p->keys_max = keys_max;
	p->keys = calloc(keys_max, sizeof(*p->keys));
	if (p->keys == NULL || sy_htab_init(&p->keyt, keys_max) != SY_OK || !kv_init(&p->keyv, 2) ||
	    !kv_init(&p->msgv, 1) || !kv_init(&p->keyc, 2) || !kv_init(&p->msgc, 2))
		return SY_ERR_NOMEM;
	return SY_OK;
}

void peer_keys_free(struct peer_keys *p)
{
	sy_htab_free(&p->keyt);
	free(p->keyv.e);
	free(p->msgv.e);
	free(p->keyc.e);
	free(p->msgc.e);
	for (uint32_t i = 0; p->keys != NULL && p->heap > 0 && i < p->text; i++)
		if (p->keys[i].len >= PEER_KEY_INLINE)
			free((void *)p->keys[i].h.key.p);
	free(p->keys);
	memset(p, 0, sizeof(*p));
}
