/* net.h: the simulator's network model. A link is a directed pair of nodes
 * with a latency distribution, normal jitter, loss, duplication, optional
 * reordering and bandwidth, and a down/up switch. Links not configured
 * follow the world's default. Each link draws from its own sy_rng stream
 * split by the link's name ("A>B"), so adding a link never shifts another. */
#ifndef SIM_NET_H
#define SIM_NET_H

#include "core/dist.h"

struct sim;
struct sim_node;

struct sim_link_cfg {
	struct sy_dist latency;	 /* one-way propagation delay */
	uint64_t jitter_sd_ns;	 /* normal(0, sd) added to each packet; 0 = none */
	uint32_t loss_ppm;	 /* datagrams lost per million */
	uint32_t dup_ppm;	 /* datagrams duplicated per million */
	bool reorder;		 /* false: a datagram never overtakes an earlier one */
	uint64_t bandwidth_Bps;	 /* bytes per second serialisation; 0 = unlimited */
};

/* The default for every new world: 1 ms fixed, no loss, in order. */
struct sim_link_cfg sim_link_cfg_default(void);

struct sim_link_stats {
	uint64_t sent, delivered_scheduled, lost, dropped_down, duplicated;
};

struct sim_link {
	struct sim_link_cfg cfg;
	bool custom;		   /* false: follows the world default */
	bool down;
	struct sy_rng rng;
	uint64_t busy_until_ns;	   /* bandwidth: when the wire is free */
	uint64_t last_arrival_ns;  /* datagram order when reorder is off */
	struct sim_link_stats stats;
	char name[80];
};

struct sim_net;

/* The default for all links that have not been given their own config. */
void sim_net_set_default(struct sim *sim, const struct sim_link_cfg *cfg);
/* The directed link from -> to (created on first use). Never NULL. */
struct sim_link *sim_net_link(struct sim *sim, struct sim_node *from, struct sim_node *to);
/* Gives one link its own config (it stops following the default). */
void sim_net_link_set(struct sim_link *l, const struct sim_link_cfg *cfg);
void sim_net_set_down(struct sim_link *l, bool down);
/* Schedules down at from_ns and up again at until_ns (both directions when both_ways). */
void sim_net_down_between(struct sim *sim, struct sim_node *a, struct sim_node *b, bool both_ways, uint64_t from_ns,
			  uint64_t until_ns);

/* Internal, used by sim.c. */
enum sim_tx { SIM_TX_OK = 0, SIM_TX_LOST, SIM_TX_DOWN };
struct sim_net *sim_net__create(uint64_t seed, const struct sim_link_cfg *def);
void sim_net__destroy(struct sim_net *n);
struct sim_link *sim_net__get(struct sim_net *n, uint32_t from_idx, uint32_t to_idx, const char *from_name,
			      const char *to_name);
/* Decides one datagram's fate; on SIM_TX_OK fills at_ns[0..*copies-1]. */
enum sim_tx sim_net__dgram(struct sim_link *l, uint64_t now_ns, size_t len, uint64_t at_ns[2], int *copies);
/* One latency sample (latency + jitter), >= 0. */
uint64_t sim_net__delay(struct sim_link *l);

#endif
