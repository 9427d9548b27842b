/* run_int.h: the state of a simulator run, shared by run.c (building and
 * stepping the world) and report.c (the end-of-run report). */
#ifndef SIM_RUN_INT_H
#define SIM_RUN_INT_H

#include "core/conf/node.h"
#include "core/metrics/counters.h"
#include "core/pcap/tap.h"
#include "core/sip/switch.h"
#include "core/smpp/smsc.h"
#include "digest.h"
#include "fraud_sim.h"
#include "peers/uac.h"
#include "peers/esme.h"
#include "peers/scn_peers.h"
#include "peers/smsc_peer.h"
#include "peers/uas.h"
#include "peers/replay.h"
#include "run.h"
#include "series.h"
#include "sim.h"

#define SIP_PORT 5060
#define SMPP_PORT 2775
#define TICK_NS SY_NS_PER_S
#define HANGUP_GRACE_NS (40 * SY_NS_PER_S) /* after the forced hangup: BYEs finish */

enum sim_run_col { COL_OFFERED, COL_ATTEMPTS, COL_ANSWERED, COL_FAILED, COL_COMPLETED, COL_ACTIVE, COL_CDRS, COL_N };

/* The voice switch's counters over the whole run: every instance a crash
 * killed plus the live one. Gauges (active, txn_active) are the live
 * instance's; the calls a crash killed are in sim_run.crash.calls_lost. */
struct sim_voice_totals {
	struct b2bua_stats b2b;
	struct sip_stack_stats sip;
	struct sip_auth_stats auth; /* trunks, digest, registrar */
	struct b2bua_carrier carriers[SCN_CARRIERS_MAX];
	uint32_t carrier_n;
	uint64_t cdrs_emitted; /* CDRs the switches produced (caller and switch saw the end) */
	struct vswitch_disk_stats disk; /* the CDR buffer (disk faults) */
	/* Billing in the call path, when the switch bills (summed like the rest) */
	bool billed;
	struct callbill_stats bill;
	uint64_t bill_cutoff_violations;
	struct sy_hist bill_cutoff_late;
};

struct sim_run {
	const struct scn *scn;	   /* world->scn */
	const struct world *world;
	const struct expect_set *expects;
	struct node_cfg *node; /* the switch's and the SMSC's configs */
	struct sim *sim;
	uint64_t seed;
	char out_dir[SCN_PATH_MAX + 64];
	struct sim_node *sw_node, *callers_node, *carrier_nodes[SCN_CARRIERS_MAX];
	struct vswitch *sw;
	struct vswitch_cfg sw_cfg; /* to build it again after a crash */
	struct pcap_node_tap sw_tap; /* the switch's traffic to --pcap (and HEP); no sink, no tap */
	struct sy_addr sw_carrier_addrs[SCN_CARRIERS_MAX];
	struct uac *uac;
	struct uas *uas[SCN_CARRIERS_MAX];
	struct uac_dest dests[WORLD_DESTS_MAX];
	struct sim_series series;
	int cols[COL_N];
	uint64_t last[COL_N];
	uint64_t traffic_end_ns, drain_end_ns, hard_end_ns;
	bool hung_up, done;
	uint32_t calls_max;
	/* SMS: the SMSC on the switch node, carriers' SMSCs, the applications */
	struct smsc *smsc;
	struct smsc_carrier_cfg sms_carriers[SCN_SMPP_CARRIERS_MAX]; /* addresses of the sim hosts */
	struct sim_node *sms_nodes[SCN_SMPP_CARRIERS_MAX], *apps_node;
	struct smsc_peer *sms_peers[SCN_SMPP_CARRIERS_MAX];
	struct esme *esme;
	char esme_patterns[WORLD_DESTS_MAX][WORLD_PATTERN_MAX];
	uint64_t sms_traffic_end_ns;
	uint32_t crashes;
	int64_t sms_revenue_before; /* of SMSC instances lost in crashes */
	uint64_t sms_retries_before, sms_recovered_before, sms_resent_before, sms_commits_before;
	uint64_t sms_finals_before; /* final parts (delivered, undeliverable, expired, rejected) */
	/* [node] nodes = N (run_nodes.c): instances 2..N of the SMSC, each on
	 * its own host "switch-K" ([k-1]; [0] is r->smsc on sw_node, unused
	 * here); NULL while their host is down. */
	uint32_t sms_n;
	struct sim_node *smsc_nodes[SCN_NODES_MAX];
	struct smsc *smsc_more[SCN_NODES_MAX];
	char sms_dirs[SCN_NODES_MAX][SCN_PATH_MAX + 80]; /* their store folders (smsc_cfg.store_dir) */
	struct smsc_node_stats nodes_before;  /* of instances a crash took */
	uint64_t receipts_fwd_lost;	      /* forwarded to an instance that was down */
	/* Voice switch instances lost in crashes: their counters, and what
	 * each crash took (summed). r->sw is NULL while the node is down. */
	struct sim_voice_totals dead;
	struct vswitch_crash crash;
	/* [replay] (replay.c): the captures' flows, the callers' replays on
	 * their own host, the carriers answering from a capture */
	struct pcap_flows *rp_flows[WORLD_REPLAYS_MAX];
	struct replay_uac *rp_uac[WORLD_REPLAYS_MAX];
	struct replay_esme *rp_esme[WORLD_REPLAYS_MAX];
	struct replay_uas *rp_uas[SCN_CARRIERS_MAX];
	struct sim_node *rp_node;
	/* [attack] sections and the evaluator (fraud_sim.c); NULL without */
	struct fraud_sim *fsim;
	bool fraud_off; /* sim_run_opts.fraud_off */
	enum sy_log_level log_level;
	/* [fraud] (run_fraud.c): the node's component, NULL when off or the
	 * node is down; the instances a crash took; the observers, set before
	 * the switch is built (the evaluator's seam) */
	struct fraud *fraud;
	struct fraud_stats fraud_dead;
	fraud_event_fn fraud_on_decision, fraud_on_alert;
	void *fraud_on_decision_arg; /* for both */
	/* [ussd], [traffic ussd], [ussd-app] (run_ussd.c); NULL without */
	struct sim_ussd *ussd;
};

uint64_t sim_run__counter(const struct sim_run *r, int col);
/* dead + the live switch (when up). */
void sim_run__voice_totals(const struct sim_run *r, struct sim_voice_totals *out);
/* Adds one switch instance's counters into t (sums; gauges taken from it). */
void sim_run__voice_add(struct sim_voice_totals *t, const struct vswitch *v);
/* Messages accepted by the switch whose receipt never reached the app. */
uint64_t sim_run__sms_unreceipted(const struct sim_run *r);

/* run_nodes.c: [node] nodes = N, the SMSC instances 2..N */
enum sy_rc sim_nodes_add(struct sim_run *r, char *err, size_t errlen); /* hosts, links, instances */
void sim_nodes_link_apps(struct sim_run *r, struct sim_node *apps, const struct world_link *l);
/* The SMSC config of instance k (0: the switch's, on env). */
void sim_nodes_smsc_cfg(struct sim_run *r, uint32_t k, const struct sy_env *env, struct smsc_cfg *c);
/* Every instance's counters summed (the live ones' and what the dead had
 * counted, as r->sms_*_before keep them); node: the cluster's. */
void sim_run__sms_totals(const struct sim_run *r, struct smsc_stats *t, struct smsc_node_stats *node);
/* The final parts of every live instance. */
uint64_t sim_run__sms_finals(const struct sim_run *r);
/* Adds a dying instance's counters to r's *_before fields. */
void sim_run__sms_dead(struct sim_run *r, struct smsc *s);
void sim_nodes_destroy(struct sim_run *r);
/* The report's sms.nodes, sms.binds_handed, sms.receipts_forwarded ...
 * (nothing with one instance: its report stays as it was). */
void sim_nodes_metrics(const struct sim_run *r, sy_ctr_visit_fn put, void *arg);
/* Rows of every instance's mdrs.sqlite, read back from disk. */
uint64_t sim_nodes_mdr_rows(const struct sim_run *r);
uint32_t sim_run__power_losses(const struct world *w); /* power-loss faults scheduled */
void sim_run__link_both(struct sim *sim, struct sim_node *a, struct sim_node *b, const struct world_link *l);

/* run_fraud.c */
enum sy_rc sim_fraud_start(struct sim_run *r, char *err, size_t errlen);
void sim_fraud_crash(struct sim_run *r);
/* Counters over every instance; false when [fraud] is off. */
bool sim_fraud_totals(const struct sim_run *r, struct fraud_stats *out);
void sim_fraud_destroy(struct sim_run *r);

/* run_ussd.c: the gateway on the switch node, the operator's USSD node
 * and its handsets, the simulated applications; the report's USSD part */
enum sy_rc sim_ussd_create(struct sim_run *r, char *err, size_t errlen);
void sim_ussd_start(struct sim_run *r);
bool sim_ussd_idle(const struct sim_run *r);
void sim_ussd_hangup(struct sim_run *r);
void sim_ussd_crash(struct sim_run *r);
void sim_ussd_restart(struct sim_run *r);
void sim_ussd_destroy(struct sim_run *r);
/* Writes the gateway's UDR batch now: the money audit reads them. */
void sim_ussd_flush(struct sim_run *r);
void sim_ussd_metrics(struct sim_run *r, sy_ctr_visit_fn put, void *arg);
void sim_ussd_text(const struct sim_run *r, FILE *f);
void sim_ussd_counters_text(const struct sim_run *r, struct sy_ctr_out *o);

/* replay.c */
enum sy_rc sim_replay_load(struct sim_run *r, char *err, size_t errlen);
int sim_replay_carrier(const struct sim_run *r, uint32_t i);
enum sy_rc sim_replay_uas(struct sim_run *r, uint32_t i, int k, struct sy_addr local);
enum sy_rc sim_replay_callers(struct sim_run *r, char *err, size_t errlen);
void sim_replay_start(struct sim_run *r);
bool sim_replay_idle(const struct sim_run *r);
bool sim_replay_totals(const struct sim_run *r, struct replay_stats *callers, struct replay_stats *carriers);
void sim_replay_destroy(struct sim_run *r);

#endif
