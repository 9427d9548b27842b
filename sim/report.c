/* report.c: the end of a simulator run: metrics by name (what [expect]
 * lines check), the text report for humans, report.json for machines,
 * series.csv, and the determinism digest as the text report's last line.
 * Nothing here reads the wall clock: the report is part of the run's
 * deterministic output. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "core/metrics/counters.h"
#include "core/store/mdr.h"
#include "run_int.h"

struct metric {
	const char *name;
	enum expect_unit unit;
	int64_t v;
};

#define METRICS_MAX (64 + 6 * SCN_CARRIERS_MAX + 48 + 10 * WORLD_ATTACKS_MAX + 128 /* USSD */)

struct metrics {
	struct metric m[METRICS_MAX];
	char names[6 * SCN_CARRIERS_MAX][SCN_NAME_MAX + 24];
	char ctr_names[METRICS_MAX][64]; /* the counter tables' keys, copied */
	uint32_t n, names_n;
};

static void put(struct metrics *ms, const char *name, enum expect_unit unit, int64_t v)
{
	SY_ASSERT(ms->n < METRICS_MAX);
	ms->m[ms->n++] = (struct metric){name, unit, v};
}

/* The counter tables' units as [expect] compares them, and back for JSON. */
static enum expect_unit unit_scn(enum sy_ctr_unit u)
{
	return u == SY_UNIT_NS	    ? EXPECT_UNIT_NS
	       : u == SY_UNIT_PPM   ? EXPECT_UNIT_PPM
	       : u == SY_UNIT_MONEY ? EXPECT_UNIT_MONEY
				    : EXPECT_UNIT_COUNT;
}

static enum sy_ctr_unit unit_ctr(enum expect_unit u)
{
	return u == EXPECT_UNIT_NS	     ? SY_UNIT_NS
	       : u == EXPECT_UNIT_PPM   ? SY_UNIT_PPM
	       : u == EXPECT_UNIT_MONEY ? SY_UNIT_MONEY
				     : SY_UNIT_COUNT;
}

/* A component's counter, from its table (core/metrics/counters.h). */
static void put_ctr(void *arg, const char *key, enum sy_ctr_unit unit, int64_t v)
{
	struct metrics *ms = arg;
	SY_ASSERT(ms->n < METRICS_MAX && strlen(key) < sizeof(ms->ctr_names[0]));
	char *name = ms->ctr_names[ms->n]; /* key lives only during the call */
	memcpy(name, key, strlen(key) + 1);
	put(ms, name, unit_scn(unit), v);
}

/* The fraud evaluator's figures (sim/fraud_eval.c); names copied as the
 * counter tables' are. */
static void put_fraud(void *arg, const char *name, enum expect_unit unit, int64_t v)
{
	put_ctr(arg, name, unit_ctr(unit), v);
}

static const char *dyn_name(struct metrics *ms, const char *carrier, const char *what)
{
	char *p = ms->names[ms->names_n++];
	snprintf(p, sizeof(ms->names[0]), "carrier.%s.%s", carrier, what);
	return p;
}

static int64_t ratio_ppm(uint64_t num, uint64_t den)
{
	return den == 0 ? 0 : (int64_t)(num * 1000000u / den);
}

static void put_hist(struct metrics *ms, const char *const names[6], const struct sy_hist *h)
{
	put(ms, names[0], EXPECT_UNIT_NS, (int64_t)sy_hist_percentile(h, 50));
	put(ms, names[1], EXPECT_UNIT_NS, (int64_t)sy_hist_percentile(h, 90));
	put(ms, names[2], EXPECT_UNIT_NS, (int64_t)sy_hist_percentile(h, 95));
	put(ms, names[3], EXPECT_UNIT_NS, (int64_t)sy_hist_percentile(h, 99));
	put(ms, names[4], EXPECT_UNIT_NS, (int64_t)h->max_ns);
	put(ms, names[5], EXPECT_UNIT_NS, (int64_t)sy_hist_mean(h));
}

static const char *const pdd_names[6] = {"pdd.p50", "pdd.p90", "pdd.p95", "pdd.p99", "pdd.max", "pdd.mean"};
static const char *const setup_names[6] = {"setup.p50", "setup.p90", "setup.p95",
					   "setup.p99", "setup.max", "setup.mean"};
static const char *const cpdd_names[6] = {"caller.pdd.p50", "caller.pdd.p90", "caller.pdd.p95",
					  "caller.pdd.p99", "caller.pdd.max", "caller.pdd.mean"};

/* The voice switch over the whole run (every instance), filled by
 * sim_run_finish() before anything is collected. */
static struct sim_voice_totals totals;

/* cdr.lost is what a reader of the store finds missing: CDRs of calls that
 * ended on a switch (caller and switch saw the end) but are not rows of
 * cdrs.sqlite when the run is over, counted by reading the file back. */
static void collect_cdrs(const struct sim_run *r, struct metrics *ms)
{
	const struct b2bua_stats *b = &totals.b2b;
	uint64_t rows = 0;
	char err[256];
	if (cdr_store_count_rows(sim_world_env(r->sim), r->out_dir, &rows, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "report: %s\n", err); /* counted as lost: nothing proven on disk */
		rows = 0;
	}
	put(ms, "cdr.count", EXPECT_UNIT_COUNT, (int64_t)rows);
	put(ms, "cdr.emitted", EXPECT_UNIT_COUNT, (int64_t)b->cdrs);
	put(ms, "cdr.lost", EXPECT_UNIT_COUNT, (int64_t)(b->cdrs > rows ? b->cdrs - rows : 0));
	/* every attempt that ended must have produced a CDR; the calls a crash
	 * killed did not end on any switch and are counted on their own */
	uint64_t ended = b->attempts - b->active - r->crash.calls_lost;
	put(ms, "cdr.missing", EXPECT_UNIT_COUNT, (int64_t)(ended > b->cdrs ? ended - b->cdrs : 0));
	put(ms, "crash.count", EXPECT_UNIT_COUNT, (int64_t)r->crashes);
	put(ms, "crash.calls_lost", EXPECT_UNIT_COUNT, (int64_t)r->crash.calls_lost);
	put(ms, "crash.cdrs_dropped", EXPECT_UNIT_COUNT, (int64_t)r->crash.cdrs_dropped);
	put(ms, "crash.ledger_ops_dropped", EXPECT_UNIT_COUNT, (int64_t)r->crash.ledger_ops_dropped);
}

/* [replay]: the callers' replays summed (replay.divergent == 0 is the gate). */
static struct replay_stats rp_callers, rp_carriers;

static void collect_replay(const struct sim_run *r, struct metrics *ms)
{
	if (sim_replay_totals(r, &rp_callers, &rp_carriers))
		sy_counters_visit(&replay_counters, &rp_callers, put_ctr, ms);
}

/* [fraud]: the component's counters over every instance (run_fraud.c). */
static struct fraud_stats fraud_tot;
static bool fraud_on;

static void collect_fraud(const struct sim_run *r, struct metrics *ms)
{
	if ((fraud_on = sim_fraud_totals(r, &fraud_tot)))
		sy_counters_visit(&fraud_counters, &fraud_tot, put_ctr, ms);
}

static void text_replay(FILE *f, const struct sim_run *r)
{
	if (r->world->replay_n == 0)
		return;
	const struct replay_stats *s = &rp_callers;
	fprintf(f, "replay    dialogs %" PRIu64 ", completed %" PRIu64 ", matching %" PRIu64 ", divergent %" PRIu64
		   ", failed %" PRIu64 ", gaps clamped %" PRIu64 "\n",
		s->dialogs, s->completed, s->matching, s->divergent, s->failed, s->gaps_clamped);
	if (rp_carriers.dialogs || rp_carriers.unmatched)
		fprintf(f, "          carriers: dialogs %" PRIu64 ", completed %" PRIu64 ", timed out %" PRIu64
			   ", unmatched %" PRIu64 "\n",
			rp_carriers.dialogs, rp_carriers.completed, rp_carriers.failed, rp_carriers.unmatched);
	for (uint32_t i = 0; i < s->div_n; i++)
		fprintf(f, "          diverged: %s (copy %" PRIu64 "): want %s, got %s\n", s->div[i].call_id,
			s->div[i].copy, s->div[i].want, s->div[i].got);
}

static void collect_switch(const struct sim_run *r, struct metrics *ms)
{
	sy_counters_visit(&b2bua_counters, &totals.b2b, put_ctr, ms);
	/* Calls lost for want of capacity (ours or the carriers'), over those
	 * offered: the figure Erlang-B predicts for a trunk (docs/capacity.md). */
	put(ms, "blocking", EXPECT_UNIT_PPM, ratio_ppm(totals.b2b.congestion, totals.b2b.invites));
	collect_cdrs(r, ms);
	sy_counters_visit(&sip_stack_counters, &totals.sip, put_ctr, ms);
	sy_counters_visit(&vswitch_disk_counters, &totals.disk, put_ctr, ms);
	sy_counters_visit(&sip_auth_counters, &totals.auth, put_ctr, ms);
}

static const struct metric *find(const struct metrics *ms, const char *name);
static void fmt_metric(const struct metrics *ms, const char *name, char *buf, size_t n);

/* The end-of-run money audit (sim/audit.h): its result, for the text
 * report's lines naming the offending accounts. */
struct money_audit {
	bool ran;
	enum sy_rc rc;
	char err[320];
	struct audit_result r;
};
static struct money_audit audit; /* one report at a time, as the metrics */

static void put_figure(struct metrics *ms, const char *name, const char *accounts, const struct audit_figure *f)
{
	put(ms, name, EXPECT_UNIT_MONEY, f->micros);
	put(ms, accounts, EXPECT_UNIT_COUNT, f->accounts);
}

/* The audit's figures: from the stores on disk, re-rated; when the stores
 * cannot be read they are missing, so every [expect] on them fails. */
static void collect_audit(const struct sim_run *r, struct metrics *ms)
{
	audit.ran = true;
	audit.rc = sim_audit_money(sim_world_env(r->sim), &r->node->billing, &r->node->ussd, r->out_dir, &audit.r,
				   audit.err, sizeof(audit.err));
	if (audit.rc != SY_OK)
		return;
	const struct audit_result *a = &audit.r;
	put(ms, "billing.conservation_error", EXPECT_UNIT_MONEY, audit_total(a));
	put_figure(ms, "billing.audit.cdr_vs_rerate", "billing.audit.cdr_vs_rerate_accounts", &a->cdr_vs_rerate);
	put_figure(ms, "billing.audit.cdr_vs_ledger", "billing.audit.cdr_vs_ledger_accounts", &a->cdr_vs_ledger);
	put_figure(ms, "billing.audit.ledger_vs_balance", "billing.audit.ledger_vs_balance_accounts",
		   &a->ledger_vs_balance);
	put(ms, "billing.audit.open_reservations", EXPECT_UNIT_COUNT, (int64_t)a->open_resv);
	put(ms, "billing.audit.negative", EXPECT_UNIT_COUNT, a->negative);
	put(ms, "billing.audit.offenders", EXPECT_UNIT_COUNT, a->offenders);
	put(ms, "billing.audit.recovered", EXPECT_UNIT_MONEY, a->recovered);
	put(ms, "billing.audit.cdrs", EXPECT_UNIT_COUNT, (int64_t)a->cdrs);
	put(ms, "billing.audit.cdrs_misrated", EXPECT_UNIT_COUNT, (int64_t)a->cdrs_misrated);
	put(ms, "billing.audit.cdrs_unmatched", EXPECT_UNIT_COUNT, (int64_t)a->cdrs_unmatched);
	put(ms, "billing.audit.charges_without_cdr", EXPECT_UNIT_COUNT, (int64_t)a->charges_without_cdr);
	if (!a->udrs_read)
		return; /* no USSD records: the figures below would only say 0 */
	put(ms, "billing.audit.udrs", EXPECT_UNIT_COUNT, (int64_t)a->udrs);
	put(ms, "billing.audit.udr_charges", EXPECT_UNIT_MONEY, a->udr_micros);
	put(ms, "billing.audit.udrs_misrated", EXPECT_UNIT_COUNT, (int64_t)a->udrs_misrated);
	put(ms, "billing.audit.udrs_unmatched", EXPECT_UNIT_COUNT, (int64_t)a->udrs_unmatched);
}

static void collect_billing(const struct sim_run *r, struct metrics *ms)
{
	const struct callbill *cb = r->sw->bill;
	audit.ran = false;
	if (cb == NULL)
		return;
	/* Flows over the whole run (every instance a crash killed, and this
	 * one); the book and the balances are the live instance's. */
	struct sim_voice_totals vt;
	sim_run__voice_totals(r, &vt);
	const struct callbill_stats st = vt.bill;
	struct bill_book_check bc;
	callbill_book_check(cb, &bc);
	sy_counters_visit(&callbill_counters, &st, put_ctr, ms);
	collect_audit(r, ms);
	put(ms, "billing.book_violations", EXPECT_UNIT_COUNT, bc.violations);
	put(ms, "billing.cutoff_violations", EXPECT_UNIT_COUNT, (int64_t)vt.bill_cutoff_violations);
	put(ms, "billing.cutoff_late_p99", EXPECT_UNIT_NS, (int64_t)sy_hist_percentile(&vt.bill_cutoff_late, 99));
	put(ms, "accounts.negative", EXPECT_UNIT_COUNT, (int64_t)callbill_negative_accounts(cb));
}

static const char *const resp_names[6] = {"submit_resp.p50", "submit_resp.p90", "submit_resp.p95",
					  "submit_resp.p99", "submit_resp.max", "submit_resp.mean"};

/* The SMSC over the whole run: the live instances' counters plus what the
 * instances a crash killed had counted (run_nodes.c). */
static const struct smsc_stats *sms_totals(const struct sim_run *r)
{
	static struct smsc_stats t; /* large; one report at a time */
	struct smsc_node_stats node;
	sim_run__sms_totals(r, &t, &node);
	return &t;
}

static void collect_sms(const struct sim_run *r, struct metrics *ms)
{
	if (r->esme == NULL)
		return;
	const struct esme_stats *e = esme_stats(r->esme);
	uint64_t received = 0, dups = 0, deduped = 0;
	for (uint32_t i = 0; i < SCN_SMPP_CARRIERS_MAX; i++) {
		if (r->sms_peers[i] == NULL)
			continue;
		const struct smsc_peer_stats *p = smsc_peer_stats(r->sms_peers[i]);
		received += p->received;
		dups += p->duplicates;
		deduped += p->deduped;
	}
	uint64_t finals = e->rcpt_delivered + e->rcpt_undeliverable + e->rcpt_expired + e->rcpt_other;
	uint64_t lost = r->world->sms.dlr ? sim_run__sms_unreceipted(r)
					: (e->segs_accepted > received ? e->segs_accepted - received : 0);
	put(ms, "sms.submitted", EXPECT_UNIT_COUNT, (int64_t)e->msgs_submitted);
	put(ms, "sms.segments", EXPECT_UNIT_COUNT, (int64_t)e->segs_submitted);
	put(ms, "sms.accepted", EXPECT_UNIT_COUNT, (int64_t)e->segs_accepted);
	put(ms, "sms.rejected", EXPECT_UNIT_COUNT, (int64_t)e->segs_rejected);
	put(ms, "sms.throttled", EXPECT_UNIT_COUNT, (int64_t)e->throttled);
	put(ms, "sms.skipped", EXPECT_UNIT_COUNT, (int64_t)e->skipped);
	put(ms, "sms.dlr", EXPECT_UNIT_COUNT, (int64_t)finals);
	put(ms, "sms.delivered", EXPECT_UNIT_COUNT, (int64_t)e->rcpt_delivered);
	put(ms, "sms.undeliverable", EXPECT_UNIT_COUNT, (int64_t)e->rcpt_undeliverable);
	put(ms, "sms.expired", EXPECT_UNIT_COUNT, (int64_t)e->rcpt_expired);
	put(ms, "sms.lost", EXPECT_UNIT_COUNT, (int64_t)lost);
	/* delivered twice, counted where it lands: the carrier matches each
	 * delivery by the message itself, not by our key, so a re-send it did
	 * not deduplicate and a message that came back under a new id (an
	 * application resubmitting after a lost submit_sm_resp) both count.
	 * Receipts are at-least-once (SMPP clients match them by id), so those
	 * are counted on their own. */
	put(ms, "sms.duplicate", EXPECT_UNIT_COUNT, (int64_t)dups);
	put(ms, "sms.dlr_duplicate", EXPECT_UNIT_COUNT, (int64_t)e->rcpt_duplicate);
	put(ms, "sms.carrier_received", EXPECT_UNIT_COUNT, (int64_t)received);
	put(ms, "sms.carrier_deduped", EXPECT_UNIT_COUNT, (int64_t)deduped);
	put(ms, "sms.crashes", EXPECT_UNIT_COUNT, (int64_t)r->crashes);
	sy_counters_visit(&smsc_counters, sms_totals(r), put_ctr, ms);
	put_hist(ms, resp_names, &e->submit_resp);
	sim_nodes_metrics(r, put_ctr, ms); /* nodes = N only */
}

/* The disk's section, only when the scenario injects a disk fault or a
 * power loss (so the reports, and golden digests, of the others stay as
 * they were). */
static void collect_disk(const struct sim_run *r, struct metrics *ms)
{
	bool faulted = false;
	for (uint32_t i = 0; i < r->world->fault_n; i++)
		faulted |= r->world->faults[i].kind >= WORLD_FAULT_DISK_SLOW &&
			   r->world->faults[i].kind <= WORLD_FAULT_DISK_FSYNC_FAIL;
	if (!faulted && sim_run__power_losses(r->world) == 0)
		return;
	const struct sim_disk_stats *d = sim_disk_stats(r->sim);
	put(ms, "disk.full_errors", EXPECT_UNIT_COUNT, (int64_t)d->full_errors);
	put(ms, "disk.sync_errors", EXPECT_UNIT_COUNT, (int64_t)d->sync_errors);
	put(ms, "disk.stalls", EXPECT_UNIT_COUNT, (int64_t)d->slow_ops);
	put(ms, "disk.stall", EXPECT_UNIT_NS, (int64_t)d->stall_ns);
	if (r->smsc == NULL)
		return;
	/* mdr.lost: final parts whose mark is durable (the queue row is gone)
	 * but whose MDR is not a row of mdrs.sqlite, read back from disk; the
	 * finals of every instance, those a crash or a power cut killed too
	 * (nodes = N: every instance's folder) */
	uint64_t rows = sim_nodes_mdr_rows(r), finals = sim_run__sms_finals(r);
	put(ms, "mdr.count", EXPECT_UNIT_COUNT, (int64_t)rows);
	put(ms, "mdr.finals", EXPECT_UNIT_COUNT, (int64_t)finals);
	put(ms, "mdr.lost", EXPECT_UNIT_COUNT, (int64_t)(finals > rows ? finals - rows : 0));
}

/* The power cuts' section, only when the scenario schedules one: what the
 * cuts undid on the switch's disk (writes made since their file's last
 * sync). The messages acknowledged that a cut took back are in sms.lost:
 * no receipt ever comes for them. */
static void collect_power(const struct sim_run *r, struct metrics *ms)
{
	if (sim_run__power_losses(r->world) == 0)
		return;
	const struct sim_disk_stats *d = sim_disk_stats(r->sim);
	/* a cut of the switch takes every SMSC instance's host (nodes = N): one cut */
	uint64_t hosts = 0;
	for (uint32_t i = 0; i < r->world->fault_n; i++) {
		const struct world_fault *f = &r->world->faults[i];
		if (f->kind == WORLD_FAULT_NODE_POWER_LOSS && f->carrier <= 0 && f->at_ns <= sim_now(r->sim))
			hosts += SY_MAX(r->sms_n, 1u) - 1;
	}
	put(ms, "power.count", EXPECT_UNIT_COUNT, (int64_t)(d->power_losses - SY_MIN(hosts, d->power_losses)));
	put(ms, "power.undone_writes", EXPECT_UNIT_COUNT, (int64_t)d->power_undone_writes);
	put(ms, "power.undone_bytes", EXPECT_UNIT_COUNT, (int64_t)d->power_undone_bytes);
	put(ms, "power.files_removed", EXPECT_UNIT_COUNT, (int64_t)d->power_files_removed);
	put(ms, "power.sync_full", EXPECT_UNIT_COUNT, r->node->sync_full ? 1 : 0);
}

static void text_power(FILE *f, const struct metrics *ms)
{
	static const char *const names[] = {"power.count", "power.undone_writes", "power.undone_bytes",
					    "power.files_removed"};
	if (find(ms, names[0]) == NULL)
		return;
	char v[4][32];
	for (int i = 0; i < 4; i++)
		fmt_metric(ms, names[i], v[i], sizeof(v[i]));
	fprintf(f, "power     %s cuts (sync = %s): %s unsynced writes (%s bytes) undone, %s files never synced gone\n",
		v[0], find(ms, "power.sync_full")->v ? "full" : "normal", v[1], v[2], v[3]);
}

/* The switch's CPU model (sim/cpu.c): its work, how long work waited for
 * it, and what its full receive buffer dropped. cpu.load is over the whole
 * run, drain included. */
static void collect_cpu(const struct sim_run *r, struct metrics *ms)
{
	const struct sim_cpu_stats *c = sim_node_cpu_stats(r->sw_node);
	uint64_t span = sim_now(r->sim) ? sim_now(r->sim) : 1;
	put(ms, "cpu.rx", EXPECT_UNIT_COUNT, (int64_t)c->rx);
	put(ms, "cpu.tx", EXPECT_UNIT_COUNT, (int64_t)c->tx);
	put(ms, "cpu.timers", EXPECT_UNIT_COUNT, (int64_t)c->timers);
	put(ms, "cpu.busy", EXPECT_UNIT_NS, (int64_t)c->busy_ns);
	put(ms, "cpu.load", EXPECT_UNIT_PPM, (int64_t)(c->busy_ns * 1000000 / span));
	put(ms, "cpu.waited", EXPECT_UNIT_COUNT, (int64_t)c->waited);
	put(ms, "cpu.wait_max", EXPECT_UNIT_NS, (int64_t)c->wait_max_ns);
	put(ms, "cpu.rcvbuf_max", EXPECT_UNIT_COUNT, (int64_t)c->rcvbuf_max);
	put(ms, "cpu.rcvbuf_drops", EXPECT_UNIT_COUNT, (int64_t)c->rcvbuf_drops);
}

static void text_sms(FILE *f, const struct metrics *ms)
{
	static const char *const names[] = {
	    "sms.submitted", "sms.segments",  "sms.accepted", "sms.rejected",  "sms.throttled",
	    "sms.dlr",	     "sms.delivered", "sms.lost",     "sms.duplicate", "sms.carrier_deduped"};
	if (find(ms, names[0]) == NULL)
		return;
	char v[10][32], p[6][32];
	for (int i = 0; i < 10; i++)
		fmt_metric(ms, names[i], v[i], sizeof(v[i]));
	for (int i = 0; i < 6; i++)
		fmt_metric(ms, resp_names[i], p[i], sizeof(p[i]));
	fprintf(f, "sms       submitted %s (%s parts), accepted %s, rejected %s, throttled %s\n", v[0], v[1], v[2],
		v[3], v[4]);
	char dd[32];
	fmt_metric(ms, "sms.dlr_duplicate", dd, sizeof(dd));
	fprintf(f,
		"          receipts %s (%s delivered, %s twice), lost %s, delivered twice %s, re-sends deduplicated by "
		"carriers %s\n",
		v[5], v[6], dd, v[7], v[8], v[9]);
	fprintf(f, "%-10s p50 %s, p90 %s, p95 %s, p99 %s, max %s, mean %s\n", "submit_resp", p[0], p[1], p[2], p[3],
		p[4], p[5]);
}

static void fmt_money(int64_t v, char *buf, size_t n)
{
	expect_fmt_value((struct expect_value){v, EXPECT_UNIT_MONEY}, buf, n);
}

/* An offending account's totals (its UDRs' when the audit read some). */
static void text_audit_row(FILE *f, const struct audit_row *w, bool udrs)
{
	char m[6][40], u[64] = "";
	fmt_money(w->rerated, m[0], sizeof(m[0]));
	fmt_money(w->cdr, m[1], sizeof(m[1]));
	fmt_money(w->ledger, m[2], sizeof(m[2]));
	fmt_money(w->decrease, m[3], sizeof(m[3]));
	fmt_money(w->balance, m[4], sizeof(m[4]));
	fmt_money(w->udr, m[5], sizeof(m[5]));
	if (udrs)
		snprintf(u, sizeof(u), ", UDRs %s", m[5]);
	fprintf(f, "  account %s: re-rated %s, CDRs %s%s, ledger charges %s, balance decrease %s, balance %s, open %u\n",
		w->account, m[0], m[1], u, m[2], m[3], m[4], w->open_resv);
}

/* The audit's line, and one line per offending account it names. */
static void text_audit(FILE *f, const struct metrics *ms)
{
	if (!audit.ran)
		return;
	if (audit.rc != SY_OK) {
		fprintf(f, "audit     FAILED, the stores could not be audited: %s\n", audit.err);
		return;
	}
	const struct audit_result *a = &audit.r;
	char v[3][40];
	fmt_metric(ms, "billing.audit.cdr_vs_rerate", v[0], sizeof(v[0]));
	fmt_metric(ms, "billing.audit.cdr_vs_ledger", v[1], sizeof(v[1]));
	fmt_metric(ms, "billing.audit.ledger_vs_balance", v[2], sizeof(v[2]));
	fprintf(f,
		"audit     %" PRIu64 " CDRs re-rated from disk, %" PRIu64
		" ledger accounts: CDR vs re-rated %s (%u accounts), "
		"CDR vs ledger %s (%u), ledger vs balance %s (%u); open reservations %" PRIu64 ", negative %u\n",
		a->cdrs, a->accounts, v[0], a->cdr_vs_rerate.accounts, v[1], a->cdr_vs_ledger.accounts, v[2],
		a->ledger_vs_balance.accounts, a->open_resv, a->negative);
	fprintf(f,
		"          by call: %" PRIu64 " CDRs cost other than their re-rating, %" PRIu64
		" other than their charge row; %" PRIu64 " charges without a CDR\n",
		a->cdrs_misrated, a->cdrs_unmatched, a->charges_without_cdr);
	if (a->udrs_read) {
		char u[40];
		fmt_money(a->udr_micros, u, sizeof(u));
		fprintf(f,
			"          USSD: %" PRIu64 " UDRs with an account or a charge, charged %s; %" PRIu64
			" charge other than their re-rating, %" PRIu64 " other than their charge row\n",
			a->udrs, u, a->udrs_misrated, a->udrs_unmatched);
	}
	for (uint32_t i = 0; i < a->shown_n; i++)
		text_audit_row(f, &a->shown[i], a->udrs_read);
	if (a->offenders > a->shown_n)
		fprintf(f, "  ... and %u more accounts\n", a->offenders - a->shown_n);
}

static void text_billing(FILE *f, const struct metrics *ms)
{
	static const char *const names[] = {"billing.revenue",	       "billing.cost",
					    "billing.margin",	       "billing.cutoffs",
					    "billing.declined",	       "billing.conservation_error",
					    "billing.cutoff_late_max", "billing.book_violations"};
	if (find(ms, names[0]) == NULL)
		return;
	char v[8][40];
	for (int i = 0; i < 8; i++)
		fmt_metric(ms, names[i], v[i], sizeof(v[i]));
	fprintf(f,
		"billing   revenue %s, carrier cost %s, margin %s; cut off %s (latest %s after the money ran out), "
		"declined %s; conservation error %s; book violations %s\n",
		v[0], v[1], v[2], v[3], v[6], v[4], v[5], v[7]);
	text_audit(f, ms);
}

static void collect_callers(const struct sim_run *r, struct metrics *ms)
{
	if (r->uac == NULL)
		return;
	const struct uac_stats *u = uac_stats(r->uac);
	put(ms, "calls.offered", EXPECT_UNIT_COUNT, (int64_t)u->attempted);
	put(ms, "caller.answered", EXPECT_UNIT_COUNT, (int64_t)u->answered);
	put(ms, "caller.failed", EXPECT_UNIT_COUNT, (int64_t)u->failed);
	put(ms, "caller.timeouts", EXPECT_UNIT_COUNT, (int64_t)u->timeouts);
	put(ms, "caller.completed", EXPECT_UNIT_COUNT, (int64_t)u->completed);
	put(ms, "caller.skipped", EXPECT_UNIT_COUNT, (int64_t)u->skipped);
	put(ms, "caller.retransmits", EXPECT_UNIT_COUNT, (int64_t)u->retransmits);
	put(ms, "caller.asr", EXPECT_UNIT_PPM, ratio_ppm(u->answered, u->attempted));
	put_hist(ms, cpdd_names, &u->pdd);
}

static void collect_carriers(const struct sim_run *r, struct metrics *ms)
{
	for (uint32_t i = 0; i < totals.carrier_n; i++) {
		const struct b2bua_carrier *c = &totals.carriers[i];
		put(ms, dyn_name(ms, c->name, "attempts"), EXPECT_UNIT_COUNT, (int64_t)c->attempts);
		put(ms, dyn_name(ms, c->name, "answered"), EXPECT_UNIT_COUNT, (int64_t)c->answered);
		put(ms, dyn_name(ms, c->name, "failed"), EXPECT_UNIT_COUNT, (int64_t)c->failed);
		put(ms, dyn_name(ms, c->name, "timeouts"), EXPECT_UNIT_COUNT, (int64_t)c->timeouts);
		put(ms, dyn_name(ms, c->name, "asr"), EXPECT_UNIT_PPM, ratio_ppm(c->answered, c->attempts));
	}
}

static bool lookup(void *ctx, const char *name, struct expect_value *out)
{
	const struct metrics *ms = ctx;
	for (uint32_t i = 0; i < ms->n; i++)
		if (strcmp(ms->m[i].name, name) == 0) {
			out->v = ms->m[i].v;
			out->unit = ms->m[i].unit;
			return true;
		}
	return false;
}

static const struct metric *find(const struct metrics *ms, const char *name)
{
	for (uint32_t i = 0; i < ms->n; i++)
		if (strcmp(ms->m[i].name, name) == 0)
			return &ms->m[i];
	return NULL;
}

static void fmt_metric(const struct metrics *ms, const char *name, char *buf, size_t n)
{
	const struct metric *m = find(ms, name);
	if (m == NULL) {
		snprintf(buf, n, "-");
		return;
	}
	expect_fmt_value((struct expect_value){m->v, m->unit}, buf, n);
}

/* ---- text ---- */

static void text_calls(FILE *f, const struct sim_run *r, const struct metrics *ms)
{
	const struct b2bua_stats *b = &totals.b2b;
	char asr[32];
	fmt_metric(ms, "asr", asr, sizeof(asr));
	fprintf(f, "calls     offered %" PRIu64 ", attempted %" PRIu64 ", answered %" PRIu64 " (ASR %s), completed %" PRIu64
		   "\n",
		r->uac ? uac_stats(r->uac)->attempted : 0, b->attempts, b->answered, asr, b->completed);
	fprintf(f,
		"          failed %" PRIu64 ", cancelled %" PRIu64 ", no route %" PRIu64 ", congestion %" PRIu64
		", carrier timeouts %" PRIu64 ", failovers %" PRIu64 ", peak concurrent %" PRIu64 "\n",
		b->failed, b->cancelled, b->no_route, b->congestion, b->timeouts, b->failovers, b->active_peak);
	fprintf(f, "final     ");
	int shown = 0;
	for (int code = 200; code < 700; code++)
		if (b->final_by_code[code] != 0)
			fprintf(f, "%s%d x%u", shown++ ? ", " : "", code, b->final_by_code[code]);
	fprintf(f, "%s\n", shown ? "" : "none");
	const char *const *sets[3] = {pdd_names, setup_names, cpdd_names};
	const char *labels[3] = {"pdd", "setup", "caller pdd"};
	for (int s = 0; s < 3; s++) {
		char v[6][32];
		for (int i = 0; i < 6; i++)
			fmt_metric(ms, sets[s][i], v[i], sizeof(v[i]));
		fprintf(f, "%-11sp50 %s, p90 %s, p95 %s, p99 %s, max %s, mean %s\n", labels[s], v[0], v[1], v[2],
			v[3], v[4], v[5]);
	}
}

static void text_carriers(FILE *f, const struct sim_run *r)
{
	for (uint32_t i = 0; i < totals.carrier_n; i++) {
		const struct b2bua_carrier *c = &totals.carriers[i];
		char asr[32];
		scn_fmt_ppm(ratio_ppm(c->answered, c->attempts), asr, sizeof(asr));
		fprintf(f,
			"carrier   %-12s attempts %" PRIu64 ", answered %" PRIu64 " (ASR %s), failed %" PRIu64
			", timeouts %" PRIu64 "\n",
			c->name, c->attempts, c->answered, asr, c->failed, c->timeouts);
	}
}

/* Every counter of every component, as its table lists it: a counter
 * added to a table shows here with no edit to this file. */
static void text_counters(FILE *f, const struct sim_run *r, bool voice)
{
	static char buf[16384];
	struct sy_ctr_out o = {buf, sizeof(buf), 0, false};
	if (voice) {
		sy_counters_text(&o, "b2bua", &b2bua_counters, &totals.b2b, 110);
		sy_counters_text(&o, "sip", &sip_stack_counters, &totals.sip, 110);
		sy_counters_text(&o, "switch-disk", &vswitch_disk_counters, &totals.disk, 110);
		sy_counters_text(&o, "sip-auth", &sip_auth_counters, &totals.auth, 110);
	}
	if (totals.billed)
		sy_counters_text(&o, "billing", &callbill_counters, &totals.bill, 110);
	if (r->esme != NULL)
		sy_counters_text(&o, "smsc", &smsc_counters, sms_totals(r), 110);
	if (r->world->replay_n > 0)
		sy_counters_text(&o, "replay", &replay_counters, &rp_callers, 110);
	if (fraud_on)
		sy_counters_text(&o, "fraud", &fraud_counters, &fraud_tot, 110);
	sim_ussd_counters_text(r, &o);
	if (o.len > 0)
		fprintf(f, "counters\n%s%s", buf, o.cut ? "  ...\n" : "");
}

static void text_report(FILE *f, const struct sim_run *r, const struct metrics *ms, const struct expect_result *res,
			size_t fails, const char *digest)
{
	const struct sim_stats *st = sim_stats(r->sim);
	const struct sip_stack_stats *ss = &totals.sip;
	char cdr[32], lost[32], clost[32];
	fprintf(f, "switchyard sim %s seed=%" PRIu64 "\n", r->scn->file, r->seed);
	fprintf(f, "virtual   %.3f s (traffic %.3f s), %" PRIu64 " events, %" PRIu64 " datagrams (%" PRIu64
		   " lost in the network)\n",
		(double)sim_now(r->sim) / 1e9, (double)r->traffic_end_ns / 1e9, st->events, st->dgrams_sent,
		st->dgrams_lost + st->dgrams_down);
	bool voice = r->world->voice.present || r->scn->carrier_n > 0;
	if (voice) {
		text_calls(f, r, ms);
		text_carriers(f, r);
	}
	text_billing(f, ms);
	text_sms(f, ms);
	text_power(f, ms);
	sim_attacks_text((struct sim_run *)r, f);
	sim_ussd_text(r, f);
	text_replay(f, r);
	fmt_metric(ms, "cdr.count", cdr, sizeof(cdr));
	fmt_metric(ms, "cdr.lost", lost, sizeof(lost));
	fmt_metric(ms, "crash.calls_lost", clost, sizeof(clost));
	if (voice) {
		fprintf(f, "cdrs      %s in %s/cdrs.sqlite (read back), lost %s\n", cdr, r->out_dir, lost);
		if (r->crashes > 0)
			fprintf(f, "crash     %u, calls in progress lost %s\n", r->crashes, clost);
		fprintf(f, "sip       rx %" PRIu64 ", tx %" PRIu64 ", retransmits %" PRIu64 ", malformed %" PRIu64
			   ", transaction pool full %" PRIu64 "\n",
			ss->rx_msgs, ss->tx_msgs, ss->retransmits_sent, ss->rx_bad_dropped + ss->rx_bad_400,
			ss->txn_full);
	}
	text_counters(f, r, voice);
	if (r->expects->n > 0) {
		fprintf(f, "expect\n");
		for (uint32_t i = 0; i < r->expects->n; i++)
			fprintf(f, "  %s\n", res[i].report);
	}
	fprintf(f, "result    %s (%zu of %u expectations failed)\n", fails ? "FAIL" : "PASS", fails,
		r->expects->n);
	fprintf(f, "digest    sha256:%s\n", digest);
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_money(FILE *f, const char *key, int64_t v)
{
	fprintf(f, ",\"%s\":%s%" PRId64 ".%06" PRId64, key, v < 0 ? "-" : "", (v < 0 ? -v : v) / 1000000,
		(v < 0 ? -v : v) % 1000000);
}

/* The audit's offending accounts (the figures are metrics already). */
static void json_audit(FILE *f)
{
	if (!audit.ran)
		return;
	fprintf(f, ",\"audit\":{\"ok\":%s,\"error\":", audit.rc == SY_OK ? "true" : "false");
	json_str(f, audit.rc == SY_OK ? "" : audit.err);
	fprintf(f, ",\"offenders\":%u,\"shown\":[", audit.rc == SY_OK ? audit.r.offenders : 0);
	for (uint32_t i = 0; audit.rc == SY_OK && i < audit.r.shown_n; i++) {
		const struct audit_row *w = &audit.r.shown[i];
		fprintf(f, "%s{\"account\":", i ? "," : "");
		json_str(f, w->account);
		json_money(f, "rerated", w->rerated);
		json_money(f, "cdr", w->cdr);
		json_money(f, "ledger", w->ledger);
		json_money(f, "decrease", w->decrease);
		json_money(f, "balance", w->balance);
		fprintf(f, ",\"open\":%u}", w->open_resv);
	}
	fprintf(f, "]}");
}

static void json_report(FILE *f, const struct sim_run *r, const struct metrics *ms, const struct expect_result *res,
			size_t fails, const char *digest)
{
	fprintf(f, "{\"scenario\":");
	json_str(f, r->scn->file);
	fprintf(f,
		",\"seed\":%" PRIu64 ",\"epoch_ms\":%" PRIu64 ",\"virtual_s\":%.3f,\"traffic_s\":%.3f,\"events\":%" PRIu64
		",\"metrics\":{",
		r->seed, (uint64_t)(r->scn->run.epoch_ns / SY_NS_PER_MS), (double)sim_now(r->sim) / 1e9,
		(double)r->traffic_end_ns / 1e9, sim_stats(r->sim)->events);
	for (uint32_t i = 0; i < ms->n; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_str(f, ms->m[i].name);
		char v[48];
		struct sy_ctr_out o = {v, sizeof(v), 0, false};
		sy_ctr_json_value(&o, unit_ctr(ms->m[i].unit), ms->m[i].v);
		fprintf(f, ":%s", v);
	}
	fprintf(f, "},\"units\":{\"ppm_metrics\":\"percent\",\"ns_metrics\":\"ms\",\"money\":\"units\"}");
	json_audit(f);
	fprintf(f, ",\"expect\":[");
	for (uint32_t i = 0; i < r->expects->n; i++) {
		fprintf(f, "%s{\"line\":%u,\"text\":", i ? "," : "", res[i].line);
		json_str(f, res[i].text);
		fprintf(f, ",\"pass\":%s,\"report\":", res[i].pass ? "true" : "false");
		json_str(f, res[i].report);
		fprintf(f, "}");
	}
	fprintf(f, "],\"result\":\"%s\",\"failed\":%zu,\"digest\":\"sha256:%s\"}\n", fails ? "FAIL" : "PASS", fails,
		digest);
}

static void write_file(const struct sim_run *r, const char *name, void (*fn)(FILE *, const struct sim_run *,
	const struct metrics *, const struct expect_result *, size_t, const char *),
	const struct metrics *ms, const struct expect_result *res, size_t fails, const char *digest)
{
	char p[SCN_PATH_MAX + 96];
	snprintf(p, sizeof(p), "%s/%s", r->out_dir, name);
	FILE *f = fopen(p, "w");
	if (f == NULL)
		return;
	fn(f, r, ms, res, fails, digest);
	fclose(f);
}

size_t sim_run_finish(struct sim_run *r, FILE *text, const char *json_path)
{
	static struct metrics ms; /* large; one report at a time */
	struct expect_result res[EXPECTS_MAX];
	char digest[65];
	if (r->sw != NULL)
		vswitch_flush(r->sw); /* the end of the run is a clean stop */
	sim_ussd_flush(r);	      /* the audit (collect_billing) reads the UDRs */
	memset(&ms, 0, sizeof(ms));
	sim_run__voice_totals(r, &totals);
	collect_switch(r, &ms);
	collect_callers(r, &ms);
	collect_carriers(r, &ms);
	if (r->sw != NULL) /* down at the end: no billing instance to ask */
		collect_billing(r, &ms);
	collect_sms(r, &ms);
	collect_disk(r, &ms);
	collect_power(r, &ms);
	collect_cpu(r, &ms);
	collect_replay(r, &ms);
	collect_fraud(r, &ms);
	sim_attacks_metrics(r, put_fraud, &ms);
	sim_ussd_metrics(r, put_ctr, &ms);
	size_t fails = expect_eval(r->expects, r->scn->file, lookup, &ms, res);
	sim_digest_hex(r->sim, digest);
	if (text != NULL)
		text_report(text, r, &ms, res, fails, digest);
	write_file(r, "report.txt", text_report, &ms, res, fails, digest);
	write_file(r, "report.json", json_report, &ms, res, fails, digest);
	if (json_path != NULL) {
		FILE *f = fopen(json_path, "w");
		if (f != NULL) {
			json_report(f, r, &ms, res, fails, digest);
			fclose(f);
		}
	}
	char p[SCN_PATH_MAX + 96];
	snprintf(p, sizeof(p), "%s/series.csv", r->out_dir);
	FILE *f = fopen(p, "w");
	if (f != NULL) {
		sim_series_write_csv(&r->series, f);
		fclose(f);
	}
	return fails;
}
