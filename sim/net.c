/* net.c: per-link network model; see net.h. Links live in a per-source row
 * indexed by destination node, so finding one costs two array reads. */
#include "sim/net.h"

#include <stdio.h>
#include <stdlib.h>

#include "sim/sim.h"

struct net_row {
	struct sim_link **to;
	uint32_t n;
};

struct sim_net {
	uint64_t seed;
	struct sim_link_cfg def;
	struct net_row *rows;
	uint32_t nrows;
};

struct sim_link_cfg sim_link_cfg_default(void)
{
	struct sim_link_cfg c;
	memset(&c, 0, sizeof(c));
	c.latency = sy_dist_fixed(SY_NS_PER_MS);
	return c;
}

struct sim_net *sim_net__create(uint64_t seed, const struct sim_link_cfg *def)
{
	struct sim_net *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->seed = seed;
	n->def = *def;
	return n;
}

void sim_net__destroy(struct sim_net *n)
{
	if (n == NULL)
		return;
	for (uint32_t i = 0; i < n->nrows; i++) {
		for (uint32_t j = 0; j < n->rows[i].n; j++)
			free(n->rows[i].to[j]);
		free(n->rows[i].to);
	}
	free(n->rows);
	free(n);
}

static bool net_grow(void **arr, uint32_t *n, uint32_t want, size_t elem)
{
	if (want <= *n)
		return true;
	uint32_t nn = *n ? *n : 8;
	while (nn < want)
		nn *= 2;
	void *p = realloc(*arr, elem * nn);
	if (p == NULL)
		return false;
	memset((char *)p + elem * *n, 0, elem * (nn - *n));
	*arr = p;
	*n = nn;
	return true;
}

struct sim_link *sim_net__get(struct sim_net *n, uint32_t from_idx, uint32_t to_idx, const char *from_name,
			      const char *to_name)
{
	if (from_idx < n->nrows && to_idx < n->rows[from_idx].n && n->rows[from_idx].to[to_idx] != NULL)
		return n->rows[from_idx].to[to_idx];
	SY_ASSERT(net_grow((void **)&n->rows, &n->nrows, from_idx + 1, sizeof(*n->rows)));
	struct net_row *row = &n->rows[from_idx];
	SY_ASSERT(net_grow((void **)&row->to, &row->n, to_idx + 1, sizeof(*row->to)));
	struct sim_link *l = calloc(1, sizeof(*l));
	SY_ASSERT(l != NULL);
	l->cfg = n->def;
	snprintf(l->name, sizeof(l->name), "%s>%s", from_name, to_name);
	/* The stream depends only on (seed, link name): adding links shifts nothing. */
	sy_rng_init_split(&l->rng, n->seed, l->name, 0);
	row->to[to_idx] = l;
	return l;
}

void sim_net_set_default(struct sim *sim, const struct sim_link_cfg *cfg)
{
	struct sim_net *n = sim_net_of(sim);
	n->def = *cfg;
	for (uint32_t i = 0; i < n->nrows; i++)
		for (uint32_t j = 0; j < n->rows[i].n; j++)
			if (n->rows[i].to[j] != NULL && !n->rows[i].to[j]->custom)
				n->rows[i].to[j]->cfg = *cfg;
}

struct sim_link *sim_net_link(struct sim *sim, struct sim_node *from, struct sim_node *to)
{
	return sim_net__get(sim_net_of(sim), sim_node_index(from), sim_node_index(to), sim_node_name(from),
			    sim_node_name(to));
}

void sim_net_link_set(struct sim_link *l, const struct sim_link_cfg *cfg)
{
	l->cfg = *cfg;
	l->custom = true;
}

void sim_net_set_down(struct sim_link *l, bool down)
{
	l->down = down;
}

static void net_down_fn(void *arg)
{
	sim_net_set_down(arg, true);
}

static void net_up_fn(void *arg)
{
	sim_net_set_down(arg, false);
}

void sim_net_down_between(struct sim *sim, struct sim_node *a, struct sim_node *b, bool both_ways, uint64_t from_ns,
			  uint64_t until_ns)
{
	SY_ASSERT(from_ns <= until_ns);
	for (int dir = 0; dir < (both_ways ? 2 : 1); dir++) {
		struct sim_link *l = dir == 0 ? sim_net_link(sim, a, b) : sim_net_link(sim, b, a);
		SY_ASSERT(sim_at(sim, from_ns, net_down_fn, l) != 0);
		SY_ASSERT(sim_at(sim, until_ns, net_up_fn, l) != 0);
	}
}

uint64_t sim_net__delay(struct sim_link *l)
{
	uint64_t d = sy_dist_sample(&l->cfg.latency, &l->rng);
	if (l->cfg.jitter_sd_ns > 0) {
		double j = sy_rng_normal(&l->rng, 0.0, (double)l->cfg.jitter_sd_ns);
		if (j < 0 && (double)d < -j)
			d = 0;
		else
			d = (uint64_t)((double)d + j);
	}
	return d;
}

static uint64_t net_arrival(struct sim_link *l, uint64_t depart_ns)
{
	uint64_t at = depart_ns + sim_net__delay(l);
	if (!l->cfg.reorder) {
		if (at < l->last_arrival_ns)
			at = l->last_arrival_ns;
		l->last_arrival_ns = at;
	}
	return at;
}

enum sim_tx sim_net__dgram(struct sim_link *l, uint64_t now_ns, size_t len, uint64_t at_ns[2], int *copies)
{
	l->stats.sent++;
	if (l->down) {
		l->stats.dropped_down++;
		return SIM_TX_DOWN;
	}
	if (l->cfg.loss_ppm > 0 && sy_rng_chance_ppm(&l->rng, l->cfg.loss_ppm)) {
		l->stats.lost++;
		return SIM_TX_LOST;
	}
	uint64_t depart = now_ns;
	if (l->cfg.bandwidth_Bps > 0) {
		/* Serialisation: the packet leaves when the wire is free and takes len/B seconds. */
		uint64_t start = SY_MAX(now_ns, l->busy_until_ns);
		unsigned __int128 tx = (unsigned __int128)len * SY_NS_PER_S / l->cfg.bandwidth_Bps;
		l->busy_until_ns = start + (uint64_t)tx;
		depart = l->busy_until_ns;
	}
	at_ns[0] = net_arrival(l, depart);
	*copies = 1;
	if (l->cfg.dup_ppm > 0 && sy_rng_chance_ppm(&l->rng, l->cfg.dup_ppm)) {
		at_ns[1] = net_arrival(l, depart);
		*copies = 2;
		l->stats.duplicated++;
	}
	l->stats.delivered_scheduled += (uint64_t)*copies;
	return SIM_TX_OK;
}
