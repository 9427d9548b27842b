/* smsc_peer_keys.c: see smsc_peer_keys.h. Compact tables: open addressing,
 * linear probing, doubling at three quarters full; keys are never removed.
 * Other texts: records under a chained hash table. */
#include "smsc_peer_keys.h"

#include <stdlib.h>

#include "core/store/smsq.h"
#include "smsc_peer.h"

#define KV_CAP_FIRST 1024u

static bool kv_init(struct kv_tab *t, uint32_t stride)
{
	*t = (struct kv_tab){calloc(KV_CAP_FIRST, stride), KV_CAP_FIRST - 1, 0, stride};
	return t->e != NULL;
}

static inline uint64_t kv_home(const struct kv_tab *t, uint64_t v)
{
	return ((v ^ (v >> 29)) * 0x9E3779B97F4A7C15ull >> 20) & t->mask;
}

/* Slot i: the value, then its peer_cnt (first member of a peer_val). */
static inline uint64_t *kv_v(const struct kv_tab *t, uint64_t i)
{
	return (uint64_t *)(void *)(t->e + i * t->stride);
}

static inline struct peer_cnt *kv_c(const struct kv_tab *t, uint64_t i)
{
	return (struct peer_cnt *)(void *)(t->e + i * t->stride + sizeof(uint64_t));
}

static struct peer_cnt *kv_find(const struct kv_tab *t, uint64_t v)
{
	for (uint64_t i = kv_home(t, v);; i = (i + 1) & t->mask) {
		if (!kv_c(t, i)->used)
			return NULL;
		if (*kv_v(t, i) == v)
			return kv_c(t, i);
	}
}

/* Doubles the table at three quarters full; false when that fails. */
static bool kv_room(struct kv_tab *t)
{
	if ((t->n + 1) * 4 <= (t->mask + 1) * 3)
		return true;
	struct kv_tab nt = {calloc(2 * (t->mask + 1), t->stride), 2 * t->mask + 1, t->n, t->stride};
	if (nt.e == NULL)
		return false;
	for (uint64_t i = 0; i <= t->mask; i++) {
		if (!kv_c(t, i)->used)
			continue;
		uint64_t j = kv_home(&nt, *kv_v(t, i));
		while (kv_c(&nt, j)->used)
			j = (j + 1) & nt.mask;
		memcpy(kv_v(&nt, j), kv_v(t, i), t->stride);
	}
	free(t->e);
	*t = nt;
	return true;
}

/* Links a new v (not in t), its peer_cnt zero but used; NULL when out of memory. */
static struct peer_cnt *kv_add(struct kv_tab *t, uint64_t v)
{
	if (!kv_room(t))
		return NULL;
	uint64_t i = kv_home(t, v);
	while (kv_c(t, i)->used)
		i = (i + 1) & t->mask;
	memset(kv_v(t, i), 0, t->stride);
	*kv_v(t, i) = v;
	kv_c(t, i)->used = 1;
	t->n++;
	return kv_c(t, i);
}

/* msg_key_of()'s form, "h:" and 16 lowercase hex digits, as its value. */
static bool msg_key_value(struct sy_str k, uint64_t *v)
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

/* The value a key stands for in its compact table, if it has that form. */
static bool key_value(bool msg, struct sy_str key, uint64_t *v)
{
	return msg ? msg_key_value(key, v) : smsq_id_parse(key, v) == SY_OK;
}

struct peer_cnt *peer_keys_find(const struct peer_keys *p, bool msg, struct sy_str key)
{
	uint64_t v;
	if (key_value(msg, key, &v))
		return kv_find(msg ? &p->msgv : &p->keyv, v);
	struct sy_hnode *h = sy_htab_find(msg ? &p->msgt : &p->keyt, key);
	return h == NULL ? NULL : &SY_CONTAINER_OF(h, struct peer_key, h)->val.c;
}

static struct peer_cnt *key_text_add(struct peer_keys *p, struct sy_htab *t, struct sy_str key)
{
	SY_ASSERT(key.len < SMSC_PEER_KEY_CAP);
	char *text = p->keys[p->text].key;
	if (key.len >= PEER_KEY_INLINE) {
		if ((text = malloc(key.len + 1)) == NULL)
			return NULL;
		p->heap++;
	}
	struct peer_key *k = &p->keys[p->text++];
	k->val.c.used = 1;
	k->len = (uint8_t)key.len;
	memcpy(text, key.p, key.len);
	text[key.len] = '\0';
	sy_htab_insert(t, &k->h, (struct sy_str){text, key.len});
	return &k->val.c;
}

bool peer_keys_add(struct peer_keys *p, bool msg, struct sy_str ks, uint64_t up_no)
{
	uint64_t v;
	struct peer_cnt *c = NULL;
	if (p->used < p->keys_max)
		c = key_value(msg, ks, &v) ? kv_add(msg ? &p->msgv : &p->keyv, v)
					   : key_text_add(p, msg ? &p->msgt : &p->keyt, ks);
	if (c == NULL)
		return false;
	p->used++;
	c->count = 1;
	if (!msg)
		peer_keys_val(c)->up_no = up_no;
	return true;
}

enum sy_rc peer_keys_init(struct peer_keys *p, uint32_t keys_max)
{
	memset(p, 0, sizeof(*p));
	p->keys_max = keys_max;
	p->keys = calloc(keys_max, sizeof(*p->keys));
	if (p->keys == NULL || sy_htab_init(&p->keyt, keys_max) != SY_OK || sy_htab_init(&p->msgt, keys_max) != SY_OK ||
	    !kv_init(&p->keyv, sizeof(struct kv_key)) || !kv_init(&p->msgv, sizeof(struct kv_msg)))
		return SY_ERR_NOMEM;
	return SY_OK;
}

void peer_keys_free(struct peer_keys *p)
{
	sy_htab_free(&p->keyt);
	sy_htab_free(&p->msgt);
	free(p->keyv.e);
	free(p->msgv.e);
	for (uint32_t i = 0; p->keys != NULL && p->heap > 0 && i < p->text; i++)
		if (p->keys[i].len >= PEER_KEY_INLINE)
			free((void *)p->keys[i].h.key.p);
	free(p->keys);
	memset(p, 0, sizeof(*p));
}
