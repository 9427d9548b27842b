/* serve_nodes.h: [node] nodes = N in serve: the SMSC as N instances, one
 * per core (docs/operations.md, "One SMSC per core"). Instance 1 runs on
 * serve's own loop beside the voice switch, USSD and the HTTP API, and
 * owns the SMPP listener; instances 2..N each run on a thread of their own
 * with their own loop, store folder (OUT/nodeK) and carrier binds. */
#ifndef SY_SERVE_NODES_H
#define SY_SERVE_NODES_H

#include "core/live/live.h"
#include "core/smpp/smsc.h"

struct serve_nodes;

/* Starts instances 2..n on their threads (each recovers its own queue
 * before it takes work), then instance 1 on main's loop from cfg (its env
 * must be main's own, not a capture tap over it: streams move between the
 * loops). *smsc1 is instance 1, for the caller to flush and destroy as it
 * would a lone SMSC. -1 with the reason in err. */
int serve_nodes_start(struct sy_live *main, const struct smsc_cfg *cfg, uint32_t n, const char *out,
		      enum sy_log_level level, struct serve_nodes **c, struct smsc **smsc1, char *err, size_t errlen);
/* Stops instances 2..n (each flushes its store first) and joins their
 * threads; instance 1 is the caller's. -1 when a flush failed. */
int serve_nodes_stop(struct serve_nodes *c);
/* After serve_nodes_stop and after instance 1 is destroyed. NULL is fine. */
void serve_nodes_destroy(struct serve_nodes *c);

/* /metrics: every instance's counters summed (api_cfg.sms_stats); the
 * others' are copies at most SERVE_NODES_SNAP_NS old. */
#define SERVE_NODES_SNAP_NS (250 * SY_NS_PER_MS)
const struct smsc_stats *serve_nodes_stats(void *c);
/* Summed by the last serve_nodes_stats(): the instances' cluster counters
 * (smsc_node_counters: handovers, forwarded receipts) and the cluster's
 * own (serve_nodes_counters: instances, what was lost between them). */
const struct smsc_node_stats *serve_nodes_node_stats(struct serve_nodes *c);
extern const struct sy_counter_table serve_nodes_counters;
const void *serve_nodes_counters_of(struct serve_nodes *c);

#endif
