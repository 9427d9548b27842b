/* limit.c: per-source rate, connection and backoff limits in a fixed
 * table (limit.h). Open addressing: a source lives in one of WINDOW slots
 * from its hash, and is never moved, so a lookup scans those slots only. */
#include "core/sec/limit.h"

#include <stdlib.h>
#include <string.h>

#define WINDOW 8u
#define MILLI  1000u

struct ent {
	uint8_t ip[16];
	uint8_t family; /* 0: free */
	uint8_t pad;
	uint16_t conns;
	uint32_t fails;
	uint32_t tokens_m; /* tokens x 1000 */
	uint32_t pad2;
	uint64_t last_ns;
	uint64_t block_until_ns;
};

struct sy_srclimit {
	struct sy_srclimit_cfg cfg;
	uint32_t mask;
	struct ent *t;
	struct sy_srclimit_stats st;
};

enum sy_rc sy_srclimit_create(const struct sy_srclimit_cfg *cfg, struct sy_srclimit **out)
{
	struct sy_srclimit *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return SY_ERR_NOMEM;
	l->cfg = *cfg;
	if (l->cfg.burst == 0)
		l->cfg.burst = l->cfg.rate;
	if (l->cfg.burst > UINT32_MAX / MILLI)
		l->cfg.burst = UINT32_MAX / MILLI;
	uint32_t n = 64;
	while (n < (cfg->slots ? cfg->slots : 65536u) && n < (1u << 26))
		n <<= 1;
	l->mask = n - 1;
	l->t = calloc(n, sizeof(*l->t));
	if (l->t == NULL) {
		free(l);
		return SY_ERR_NOMEM;
	}
	*out = l;
	return SY_OK;
}

void sy_srclimit_destroy(struct sy_srclimit *l)
{
	if (l == NULL)
		return;
	free(l->t);
	free(l);
}

static size_t iplen(const struct sy_addr *a)
{
	return a->family == SY_AF_INET6 ? 16 : 4;
}

static bool same(const struct ent *e, const struct sy_addr *a)
{
	return e->family == a->family && memcmp(e->ip, a->ip, iplen(a)) == 0;
}

static bool pinned(const struct ent *e, uint64_t now_ns)
{
	return e->conns > 0 || e->block_until_ns > now_ns;
}

/* The source's entry, or a new one (reusing the stalest unpinned slot of
 * its window), or NULL when every slot of the window is pinned. */
static struct ent *find(struct sy_srclimit *l, const struct sy_addr *a, uint64_t now_ns, bool add)
{
	uint32_t h = (uint32_t)sy_hash64(a->ip, iplen(a), l->cfg.seed ^ a->family);
	struct ent *pick = NULL;
	for (uint32_t i = 0; i < WINDOW; i++) {
		struct ent *e = &l->t[(h + i) & l->mask];
		if (e->family != 0 && same(e, a))
			return e;
		if (!add || (e->family != 0 && pinned(e, now_ns)))
			continue;
		if (pick == NULL || (pick->family != 0 && (e->family == 0 || e->last_ns < pick->last_ns)))
			pick = e;
	}
	if (pick == NULL)
		return NULL;
	if (pick->family != 0)
		l->st.evicted++;
	else
		l->st.tracked++;
	*pick = (struct ent){.family = a->family, .tokens_m = l->cfg.burst * MILLI, .last_ns = now_ns};
	memcpy(pick->ip, a->ip, iplen(a));
	return pick;
}

static void refill(const struct sy_srclimit *l, struct ent *e, uint64_t now_ns)
{
	if (now_ns <= e->last_ns)
		return;
	uint64_t add = (now_ns - e->last_ns) * l->cfg.rate / (SY_NS_PER_S / MILLI);
	uint64_t cap = (uint64_t)l->cfg.burst * MILLI;
	uint64_t t = e->tokens_m + add;
	e->tokens_m = (uint32_t)(t > cap ? cap : t);
	e->last_ns = now_ns;
}

enum sy_src_verdict sy_srclimit_hit(struct sy_srclimit *l, const struct sy_addr *from, uint64_t now_ns)
{
	struct ent *e = find(l, from, now_ns, true);
	if (e == NULL) {
		l->st.dropped++;
		return SY_SRC_FULL;
	}
	if (e->block_until_ns > now_ns) {
		/* last_ns stays: the bucket refills over the block, so a source
		 * is served again when its block ends (Kamailio's pike), not
		 * blocked anew by its first request for an empty bucket. */
		l->st.dropped++;
		return SY_SRC_BLOCKED;
	}
	if (l->cfg.rate == 0) {
		e->last_ns = now_ns;
		return SY_SRC_OK;
	}
	refill(l, e, now_ns);
	if (e->tokens_m >= MILLI) {
		e->tokens_m -= MILLI;
		return SY_SRC_OK;
	}
	e->block_until_ns = now_ns + l->cfg.block_ns;
	l->st.limited++;
	l->st.dropped++;
	return SY_SRC_LIMITED;
}

bool sy_srclimit_blocked(struct sy_srclimit *l, const struct sy_addr *from, uint64_t now_ns)
{
	struct ent *e = find(l, from, now_ns, false);
	return e != NULL && e->block_until_ns > now_ns;
}

bool sy_srclimit_conn_open(struct sy_srclimit *l, const struct sy_addr *from, uint64_t now_ns)
{
	struct ent *e = find(l, from, now_ns, true);
	if (e == NULL || (l->cfg.conns > 0 && e->conns >= l->cfg.conns) || e->conns == UINT16_MAX) {
		l->st.conns_refused++;
		return false;
	}
	e->conns++;
	e->last_ns = now_ns > e->last_ns ? now_ns : e->last_ns;
	return true;
}

void sy_srclimit_conn_close(struct sy_srclimit *l, const struct sy_addr *from)
{
	struct ent *e = find(l, from, 0, false);
	SY_ASSERT(e != NULL && e->conns > 0); /* pinned while it holds one */
	e->conns--;
}

uint32_t sy_srclimit_fail(struct sy_srclimit *l, const struct sy_addr *from, uint64_t now_ns, uint64_t base_ns,
			  uint64_t max_ns)
{
	struct ent *e = find(l, from, now_ns, true);
	if (e == NULL)
		return UINT32_MAX;
	if (e->fails < UINT32_MAX)
		e->fails++;
	uint64_t d = base_ns;
	for (uint32_t i = 1; i < e->fails && d < max_ns; i++)
		d <<= 1;
	e->block_until_ns = now_ns + (d < max_ns ? d : max_ns);
	return e->fails;
}

void sy_srclimit_success(struct sy_srclimit *l, const struct sy_addr *from)
{
	struct ent *e = find(l, from, 0, false);
	if (e != NULL)
		e->fails = 0;
}

const struct sy_srclimit_stats *sy_srclimit_stats(const struct sy_srclimit *l)
{
	return &l->st;
}

void sy_bind_guard_defaults(struct sy_bind_guard *g)
{
	if (g->bind_timeout_ns == 0)
		g->bind_timeout_ns = 5 * SY_NS_PER_S;
	if (g->conns_per_source == 0)
		g->conns_per_source = 16;
	if (g->bind_fails_max == 0)
		g->bind_fails_max = 3;
	if (g->fail_backoff_ns == 0)
		g->fail_backoff_ns = SY_NS_PER_S;
	if (g->fail_backoff_max_ns == 0)
		g->fail_backoff_max_ns = 300 * SY_NS_PER_S;
	if (g->fail_backoff_max_ns < g->fail_backoff_ns)
		g->fail_backoff_max_ns = g->fail_backoff_ns;
}
