/* route.c: the digit trie and the carrier table (route.h). Nodes live in one
 * array indexed by uint32 so a table of millions of prefixes is a handful of
 * reallocs, not millions of mallocs, and copies or frees in one step. */
#include "core/route/route.h"

#include <stdlib.h>

#define TRIE_CAP_MIN 64u

static void node_clear(struct route_node *n)
{
	memset(n->child, 0, sizeof(n->child));
	n->value = ROUTE_NONE;
}

enum sy_rc route_trie_init(struct route_trie *t, uint32_t cap_hint)
{
	memset(t, 0, sizeof(*t));
	uint32_t cap = SY_MAX(cap_hint, TRIE_CAP_MIN);
	t->nodes = malloc((size_t)cap * sizeof(*t->nodes));
	if (t->nodes == NULL)
		return SY_ERR_NOMEM;
	t->node_cap = cap;
	t->node_n = 1;
	node_clear(&t->nodes[0]);
	return SY_OK;
}

void route_trie_free(struct route_trie *t)
{
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

static enum sy_rc trie_grow(struct route_trie *t)
{
	if (t->node_cap >= UINT32_MAX / 2)
		return SY_ERR_FULL;
	uint32_t cap = t->node_cap * 2;
	struct route_node *n = realloc(t->nodes, (size_t)cap * sizeof(*n));
	if (n == NULL)
		return SY_ERR_NOMEM;
	t->nodes = n;
	t->node_cap = cap;
	return SY_OK;
}

/* Strips a leading '+'; the rest must be digits, at most ROUTE_DIGITS_MAX. */
static bool prefix_ok(struct sy_str *p)
{
	if (p->len > 0 && p->p[0] == '+') {
		p->p++;
		p->len--;
	}
	if (p->len > ROUTE_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < p->len; i++)
		if (p->p[i] < '0' || p->p[i] > '9')
			return false;
	return true;
}

/* Walks to the node for prefix, creating nodes on the way. */
static enum sy_rc trie_node_for(struct route_trie *t, struct sy_str prefix, uint32_t *out)
{
	uint32_t cur = 0;
	for (size_t i = 0; i < prefix.len; i++) {
		unsigned d = (unsigned)(prefix.p[i] - '0');
		if (t->nodes[cur].child[d] == 0) {
			if (t->node_n == t->node_cap) {
				enum sy_rc rc = trie_grow(t);
				if (rc != SY_OK)
					return rc;
			}
			node_clear(&t->nodes[t->node_n]);
			t->nodes[cur].child[d] = t->node_n++;
		}
		cur = t->nodes[cur].child[d];
	}
	*out = cur;
	return SY_OK;
}

enum sy_rc route_add(struct route_trie *t, struct sy_str prefix, uint32_t value)
{
	SY_ASSERT(t->nodes != NULL);
	if (value == ROUTE_NONE || !prefix_ok(&prefix))
		return SY_ERR_INVAL;
	uint32_t node;
	enum sy_rc rc = trie_node_for(t, prefix, &node);
	if (rc != SY_OK)
		return rc;
	if (t->nodes[node].value == ROUTE_NONE)
		t->prefix_n++;
	t->nodes[node].value = value;
	return SY_OK;
}

bool route_lookup(const struct route_trie *t, struct sy_str number, uint32_t *out_value, size_t *out_len)
{
	size_t i = 0, best_len = 0;
	uint32_t cur = 0, best = t->nodes[0].value;
	if (number.len > 0 && number.p[0] == '+')
		i = 1;
	for (size_t depth = 1; i < number.len; i++, depth++) {
		char c = number.p[i];
		if (c < '0' || c > '9')
			break;
		cur = t->nodes[cur].child[c - '0'];
		if (cur == 0)
			break;
		if (t->nodes[cur].value != ROUTE_NONE) {
			best = t->nodes[cur].value;
			best_len = depth;
		}
	}
	if (best == ROUTE_NONE)
		return false;
	if (out_value)
		*out_value = best;
	if (out_len)
		*out_len = best_len;
	return true;
}

enum sy_rc route_table_init(struct route_table *rt, uint32_t cap_hint)
{
	memset(rt, 0, sizeof(*rt));
	return route_trie_init(&rt->trie, cap_hint);
}

void route_table_free(struct route_table *rt)
{
	route_trie_free(&rt->trie);
	free(rt->sets);
	memset(rt, 0, sizeof(*rt));
}

/* The set for a prefix, created empty if the prefix has none yet. */
static enum sy_rc table_set_for(struct route_table *rt, struct sy_str prefix, struct route_set **out)
{
	uint32_t node;
	if (!prefix_ok(&prefix))
		return SY_ERR_INVAL;
	enum sy_rc rc = trie_node_for(&rt->trie, prefix, &node);
	if (rc != SY_OK)
		return rc;
	struct route_node *n = &rt->trie.nodes[node];
	if (n->value == ROUTE_NONE) {
		if (rt->set_n == rt->set_cap) {
			uint32_t cap = rt->set_cap ? rt->set_cap * 2 : 16;
			struct route_set *s = realloc(rt->sets, (size_t)cap * sizeof(*s));
			if (s == NULL)
				return SY_ERR_NOMEM;
			rt->sets = s;
			rt->set_cap = cap;
		}
		memset(&rt->sets[rt->set_n], 0, sizeof(rt->sets[0]));
		n->value = rt->set_n++;
		rt->trie.prefix_n++;
	}
	*out = &rt->sets[n->value];
	return SY_OK;
}

enum sy_rc route_table_add(struct route_table *rt, struct sy_str prefix, uint16_t carrier_id, int32_t priority)
{
	struct route_set *s;
	enum sy_rc rc = table_set_for(rt, prefix, &s);
	if (rc != SY_OK)
		return rc;
	for (size_t i = 0; i < s->n; i++)
		if (s->carrier[i] == carrier_id)
			return SY_ERR_INVAL;
	if (s->n == ROUTE_SET_MAX)
		return SY_ERR_FULL;
	/* After every entry of equal or lower priority: stable, so ties keep
	 * declaration order. */
	size_t at = s->n;
	while (at > 0 && s->priority[at - 1] > priority) {
		s->carrier[at] = s->carrier[at - 1];
		s->priority[at] = s->priority[at - 1];
		at--;
	}
	s->carrier[at] = carrier_id;
	s->priority[at] = priority;
	s->n++;
	return SY_OK;
}

size_t route_lookup_carriers(const struct route_table *rt, struct sy_str number, uint16_t *out_ids, size_t max)
{
	uint32_t set;
	if (!route_lookup(&rt->trie, number, &set, NULL))
		return 0;
	SY_ASSERT(set < rt->set_n);
	const struct route_set *s = &rt->sets[set];
	size_t n = SY_MIN((size_t)s->n, max);
	for (size_t i = 0; i < n; i++)
		out_ids[i] = s->carrier[i];
	return n;
}
