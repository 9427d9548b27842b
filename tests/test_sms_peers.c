/* test_sms_peers.c: the simulated SMS peers on the simulator: an ESME
 * population bound straight to a simulated carrier SMSC (two nodes, 1 ms
 * links). Throughput, concatenation, reject and undeliverable shares,
 * throttling, a link drop, lost-receipt accounting, idempotency keys, and the
 * same seed giving the same numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/smpp/session.h"
#include "peers/esme.h"
#include "peers/esme_int.h"
#include "peers/smsc_peer.h"
#include "sim/net.h"
#include "sim/sim.h"

#define EPOCH_NS  1700000000000000000ull /* Nov 2023: receipt dates stay in 20YY */
#define SMSC_ADDR sy_addr_v4(10, 0, 0, 2, 2775)

struct world {
	struct sim *sim;
	struct sim_node *na, *nb;
	struct esme *esme;
	struct smsc_peer *peer;
};

static struct esme_cfg esme_cfg_base(void)
{
	struct esme_cfg c = {
	    .system_id = "acme",
	    .password = "secret",
	    .target = SMSC_ADDR,
	    .binds = 2,
	    .window = 10,
	    .tps_milli = 100 * 1000,
	    .dest_n = 2,
	    .text_len_min = 10,
	    .text_len_max = 60,
	    .ucs2_ppm = 200000,
	    .registered_delivery = true,
	    .validity_s = 3600,
	    .max_msgs = 1000,
	    .throttle_backoff_ns = 100 * SY_NS_PER_MS,
	};
	c.dest[0] = (struct esme_dest){"4477XXXXXXXX", 3};
	c.dest[1] = (struct esme_dest){"1NXXNXXXXXX", 1};
	return c;
}

static struct smsc_peer_cfg peer_cfg_base(void)
{
	struct smsc_peer_cfg c = {
	    .system_id = "acme",
	    .password = "secret",
	    .listen = SMSC_ADDR,
	    .dlr_delay = {SY_DIST_UNIFORM, 200 * SY_NS_PER_MS, 2 * SY_NS_PER_S, 0.0},
	};
	return c;
}

static void world_make(struct world *w, uint64_t seed, const struct esme_cfg *ec, const struct smsc_peer_cfg *pc)
{
	memset(w, 0, sizeof(*w));
	w->sim = sim_create(seed, EPOCH_NS);
	assert_non_null(w->sim);
	w->na = sim_node_add(w->sim, "esme", "10.0.0.1");
	w->nb = sim_node_add(w->sim, "smsc", "10.0.0.2");
	assert_non_null(w->na);
	assert_non_null(w->nb);
	assert_int_equal(smsc_peer_create(sim_node_env(w->nb), pc, &w->peer), SY_OK);
	assert_int_equal(esme_create(sim_node_env(w->na), ec, &w->esme), SY_OK);
}

static void world_free(struct world *w)
{
	esme_destroy(w->esme);
	smsc_peer_destroy(w->peer);
	sim_destroy(w->sim);
}

/* The default configs; the smsc node is always 10.0.0.2. */
static void world_default(struct world *w, uint64_t seed, struct esme_cfg *ec, struct smsc_peer_cfg *pc)
{
	(void)w;
	(void)seed;
	*ec = esme_cfg_base();
	*pc = peer_cfg_base();
}

static void run_s(struct world *w, uint64_t s)
{
	sim_run_until(w->sim, s * SY_NS_PER_S);
}

/* Invariants every run must keep, whatever the faults. */
static void check_invariants(struct world *w)
{
	const struct esme_stats *st = esme_stats(w->esme);
	assert_true(st->arrivals >= st->skipped + st->msgs_submitted);
	assert_true(st->msgs_accepted + st->msgs_failed <= st->msgs_submitted);
	assert_true(st->segs_accepted <= smsc_peer_stats(w->peer)->accepted);
	assert_int_equal(st->rcpt_unknown, 0);
	assert_int_equal(st->rcpt_bad, 0);
	assert_int_equal(st->submit_resp.count,
			 st->segs_accepted + st->segs_rejected - st->throttle_gave_up + st->throttled);
}

/* ---- 1,000 messages, all accepted and delivered ---- */

static void test_basic_1000(void **state)
{
	(void)state;
	struct world w;
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(&w, 7, &ec, &pc);
	char *keys = NULL;
	size_t keys_len = 0;
	pc.keys_out = open_memstream(&keys, &keys_len);
	assert_non_null(pc.keys_out);
	world_make(&w, 7, &ec, &pc);
	esme_start(w.esme);
	run_s(&w, 30);
	const struct esme_stats *st = esme_stats(w.esme);
	const struct smsc_peer_stats *ps = smsc_peer_stats(w.peer);
	/* every message's key is found again (its table grew on the way) */
	fclose(pc.keys_out);
	uint32_t lines = 0;
	for (char *l = keys, *nl; l != NULL && *l != '\0'; l = nl + 1, lines++) {
		nl = strchr(l, '\n');
		assert_non_null(nl);
		assert_true(nl - l == 20 && memcmp(l, "- h:", 4) == 0);
		assert_int_equal(smsc_peer_key_count(w.peer, (struct sy_str){l + 2, 18}), 1);
	}
	assert_int_equal(lines, 1000);
	free(keys);
	assert_int_equal(esme_bound(w.esme), 2);
	assert_int_equal(st->arrivals, 1000);
	assert_int_equal(st->skipped, 0);
	assert_int_equal(st->msgs_submitted, 1000);
	assert_int_equal(st->msgs_accepted, 1000);
	assert_int_equal(st->msgs_multipart, 0);
	assert_int_equal(st->segs_submitted, 1000);
	assert_int_equal(st->segs_accepted, 1000);
	assert_int_equal(st->segs_rejected, 0);
	assert_int_equal(st->receipts, 1000);
	assert_int_equal(st->rcpt_delivered, 1000);
	assert_int_equal(st->rcpt_duplicate, 0);
	assert_int_equal(esme_each_unreceipted(w.esme, NULL, NULL), 0);
	assert_int_equal(esme_in_flight(w.esme), 0);
	assert_int_equal(st->submit_resp.count, 1000);
	/* Two 1 ms hops: every submit_sm_resp takes 2 ms in this world. */
	assert_true(st->submit_resp.min_ns >= 2 * SY_NS_PER_MS);
	assert_true(sy_hist_percentile(&st->submit_resp, 99.0) <= 3 * SY_NS_PER_MS);
	assert_int_equal(st->receipt.count, 1000);
	assert_true(st->receipt.min_ns >= 200 * SY_NS_PER_MS);
	assert_int_equal(ps->received, 1000);
	assert_int_equal(ps->accepted, 1000);
	assert_int_equal(ps->duplicates, 0);
	assert_int_equal(ps->dlr_acked, 1000);
	assert_int_equal(smsc_peer_dlr_pending(w.peer), 0);
	check_invariants(&w);
	world_free(&w);
}

/* ---- ids longer than a segment record holds inline ---- */

/* A segment keeps the switch's id inline up to ESME_ID_INLINE - 1
 * characters and on the heap beyond (to SMPP_MESSAGE_ID_MAX): the text
 * comes back whole either way, and a heap copy is freed when the record
 * takes another id or is cleared (ASan sees a leak). */
static void test_long_ids(void **state)
{
	(void)state;
	struct world w;
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(&w, 3, &ec, &pc);
	world_make(&w, 3, &ec, &pc);
	struct esme_seg g;
	memset(&g, 0, sizeof(g));
	char id[SMPP_MESSAGE_ID_MAX + 1];
	for (size_t n = 0; n <= SMPP_MESSAGE_ID_MAX; n++) {
		for (size_t i = 0; i < n; i++)
			id[i] = (char)('a' + (i + n) % 26);
		id[n] = '\0';
		esme__seg_id_set(w.esme, &g, (struct sy_str){id, n});
		assert_string_equal(esme__seg_id(&g), id);
		assert_int_equal(g.id_heap, n >= ESME_ID_INLINE);
		assert_int_equal(w.esme->ids_heap, n >= ESME_ID_INLINE ? 1 : 0);
	}
	esme__seg_id_clear(w.esme, &g);
	assert_string_equal(esme__seg_id(&g), "");
	assert_int_equal(w.esme->ids_heap, 0);
	esme__seg_id_set(w.esme, &g, SY_STR("0123456789012345678901234567890123456789"));
	assert_int_equal(w.esme->ids_heap, 1);
	esme__seg_id_clear(w.esme, &g); /* g is not one of the esme's records */
	assert_int_equal(w.esme->ids_heap, 0);
	world_free(&w);
}

/* ---- registered_delivery off: no receipts asked, none sent ---- */

static void test_no_receipts(void **state)
{
	(void)state;
	struct world w;
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(&w, 8, &ec, &pc);
	ec.registered_delivery = false;
	ec.max_msgs = 300;
	world_make(&w, 8, &ec, &pc);
	esme_start(w.esme);
	run_s(&w, 20);
	const struct esme_stats *st = esme_stats(w.esme);
	const struct smsc_peer_stats *ps = smsc_peer_stats(w.peer);
	assert_int_equal(st->msgs_accepted, 300);
	assert_int_equal(st->receipts, 0);
	assert_int_equal(esme_each_unreceipted(w.esme, NULL, NULL), 0);
	assert_int_equal(ps->received, 300);
	assert_int_equal(ps->dlr_sent, 0);
	assert_int_equal(smsc_peer_dlr_pending(w.peer), 0);
	world_free(&w);
}

/* ---- long messages ---- */

struct long_case {
	const char *name;
	uint32_t ucs2_ppm;
	uint32_t len;
	uint32_t gsm_parts, ucs2_parts;
};

static const struct long_case long_cases[] = {
    {"gsm 300", 0, 300, 2, 5},	      /* 300 septets: 2 x 153 */
    {"ucs2 300", 1000000, 300, 2, 5}, /* 300 units: 5 x 67 */
    {"mixed 300", 300000, 300, 2, 5}, {"gsm 160 fits one", 0, 160, 1, 3}, {"gsm 161 needs two", 0, 161, 2, 3},
};

static void test_long_messages(void **state)
{
	(void)state;
	for (size_t i = 0; i < SY_ARRAY_LEN(long_cases); i++) {
		const struct long_case *lc = &long_cases[i];
		struct world w;
		struct esme_cfg ec;
		struct smsc_peer_cfg pc;
		world_default(&w, 11, &ec, &pc);
		ec.max_msgs = 200;
		ec.ucs2_ppm = lc->ucs2_ppm;
		ec.text_len_min = ec.text_len_max = lc->len;
		world_make(&w, 11, &ec, &pc);
		esme_start(w.esme);
		run_s(&w, 20);
		const struct esme_stats *st = esme_stats(w.esme);
		const struct smsc_peer_stats *ps = smsc_peer_stats(w.peer);
		printf("  %s: segs %llu\n", lc->name, (unsigned long long)st->segs_accepted);
		assert_int_equal(st->msgs_accepted, 200);
		assert_int_equal(st->msgs_multipart, lc->gsm_parts > 1 ? 200 : 0);
		/* segs = 200 * gsm_parts + ucs2 messages * (ucs2_parts - gsm_parts) */
		uint64_t extra = st->segs_accepted - 200ull * lc->gsm_parts;
		assert_true(st->segs_accepted >= 200ull * lc->gsm_parts);
		assert_int_equal(extra % (lc->ucs2_parts - lc->gsm_parts), 0);
		uint64_t ucs2_msgs = extra / (lc->ucs2_parts - lc->gsm_parts);
		if (lc->ucs2_ppm == 0)
			assert_int_equal(ucs2_msgs, 0);
		else if (lc->ucs2_ppm == 1000000)
			assert_int_equal(ucs2_msgs, 200);
		else
			assert_true(ucs2_msgs > 30 && ucs2_msgs < 90);
		assert_int_equal(st->segs_submitted, st->segs_accepted);
		assert_int_equal(ps->accepted, st->segs_accepted);
		assert_int_equal(ps->duplicates, 0);
		assert_int_equal(st->rcpt_delivered, st->segs_accepted);
		assert_int_equal(esme_each_unreceipted(w.esme, NULL, NULL), 0);
		world_free(&w);
	}
}

/* ---- reject and undeliverable shares ---- */

struct share_result {
	uint64_t rejected, accepted, undeliv, delivered;
};

static struct share_result run_shares(uint64_t seed)
{
	struct world w;
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(&w, seed, &ec, &pc);
	pc.reject_ppm = 100000;
	pc.undeliv_ppm = 200000;
	world_make(&w, seed, &ec, &pc);
	esme_start(w.esme);
	run_s(&w, 30);
	const struct esme_stats *st = esme_stats(w.esme);
	const struct smsc_peer_stats *ps = smsc_peer_stats(w.peer);
	struct share_result r = {st->segs_rejected, st->segs_accepted, st->rcpt_undeliverable, st->rcpt_delivered};
	assert_int_equal(st->segs_rejected + st->segs_accepted, 1000);
	assert_int_equal(st->rejected_by_status[ESME_RSYSERR], st->segs_rejected);
	assert_int_equal(st->msgs_failed, st->segs_rejected);
	assert_int_equal(ps->rejected, st->segs_rejected);
	assert_int_equal(st->rcpt_delivered + st->rcpt_undeliverable, st->segs_accepted);
	assert_int_equal(ps->dlr_undeliv, st->rcpt_undeliverable);
	check_invariants(&w);
	world_free(&w);
	return r;
}

static void test_reject_share(void **state)
{
	(void)state;
	struct share_result a = run_shares(21), b = run_shares(21), c = run_shares(22);
	printf("  seed 21: rejected %llu undeliv %llu; seed 22: rejected %llu\n", (unsigned long long)a.rejected,
	       (unsigned long long)a.undeliv, (unsigned long long)c.rejected);
	assert_true(a.rejected > 70 && a.rejected < 130); /* ~10% */
	assert_true(a.undeliv > 130 && a.undeliv < 230);  /* ~20% of ~900 */
	assert_memory_equal(&a, &b, sizeof(a));		  /* exact for the seed */
	assert_true(a.rejected != c.rejected || a.undeliv != c.undeliv);
}

/* ---- throttling ---- */

static void test_throttle(void **state)
{
	(void)state;
	struct world w;
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(&w, 5, &ec, &pc);
	ec.max_msgs = 400;
	ec.queue_max = 2000;
	pc.tps = 50;
	pc.tps_burst = 10;
	world_make(&w, 5, &ec, &pc);
	esme_start(w.esme);
	run_s(&w, 40);
	const struct esme_stats *st = esme_stats(w.esme);
	const struct smsc_peer_stats *ps = smsc_peer_stats(w.peer);
	printf("  throttled %llu resubmitted %llu\n", (unsigned long long)st->throttled,
	       (unsigned long long)st->segs_resubmitted);
	assert_true(st->throttled > 100);
	assert_int_equal(st->throttled, ps->throttled);
	printf("  accepted %llu gave up %llu in flight %llu\n", (unsigned long long)st->msgs_accepted,
	       (unsigned long long)st->throttle_gave_up, (unsigned long long)esme_in_flight(w.esme));
	assert_int_equal(st->segs_resubmitted, st->throttled);
	assert_int_equal(st->throttle_gave_up, 0);
	assert_int_equal(st->skipped, 0);
	assert_int_equal(st->msgs_accepted, 400);
	assert_int_equal(st->segs_rejected, 0);
	assert_int_equal(ps->accepted, 400);
	assert_int_equal(st->rcpt_delivered, 400);
	check_invariants(&w);
	world_free(&w);
}

/* ---- link drop ---- */

struct drop_ctx {
	struct world *w;
	uint32_t closed;
};

static void drop_fire(void *arg)
{
	struct drop_ctx *d = arg;
	d->closed += smsc_peer_drop_links(d->w->peer);
}

static void run_drop(uint64_t seed, struct esme_stats *out, struct smsc_peer_stats *pout)
{
	struct world w;
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(&w, seed, &ec, &pc);
	pc.reject_ppm = 50000;
	world_make(&w, seed, &ec, &pc);
	/* 50 ms links keep submits and receipts in flight when the links drop. */
	struct sim_link_cfg lc = sim_link_cfg_default();
	lc.latency = sy_dist_fixed(50 * SY_NS_PER_MS);
	sim_net_set_default(w.sim, &lc);
	struct drop_ctx d = {&w, 0};
	sim_at(w.sim, 4 * SY_NS_PER_S, drop_fire, &d);
	sim_at(w.sim, 6500 * SY_NS_PER_MS, drop_fire, &d);
	esme_start(w.esme);
	run_s(&w, 40);
	const struct esme_stats *st = esme_stats(w.esme);
	const struct smsc_peer_stats *ps = smsc_peer_stats(w.peer);
	assert_int_equal(d.closed, 4);
	assert_int_equal(ps->link_drops, 4);
	assert_int_equal(st->session_drops, 4);
	assert_int_equal(st->rebinds, 4);
	assert_int_equal(esme_bound(w.esme), 2);
	assert_int_equal(st->arrivals, 1000);
	assert_int_equal(st->msgs_accepted + st->msgs_failed + st->skipped, 1000);
	assert_int_equal(st->segs_accepted + st->segs_rejected, st->msgs_accepted + st->msgs_failed);
	assert_int_equal(st->resp_timeouts, 0);
	/* Every accepted part gets its receipt: the peer re-sends those cut off. */
	assert_int_equal(st->rcpt_delivered, st->segs_accepted);
	assert_int_equal(esme_each_unreceipted(w.esme, NULL, NULL), 0);
	assert_int_equal(smsc_peer_dlr_pending(w.peer), 0);
	/* Submits cut off in flight never reached the peer (it answers at once,
	 * before its FIN): sent again, and no duplicate at the carrier. */
	assert_true(st->requeued_closed > 0);
	assert_int_equal(st->segs_resubmitted, st->requeued_closed);
	assert_int_equal(ps->duplicates, 0);
	assert_int_equal(ps->received, st->segs_accepted);
	/* Receipts whose deliver_sm_resp was cut off come again: at least once. */
	assert_true(st->rcpt_duplicate > 0 && st->rcpt_duplicate <= ps->dlr_retries);
	check_invariants(&w);
	memcpy(out, st, sizeof(*out));
	memcpy(pout, ps, sizeof(*pout));
	world_free(&w);
}

static void test_link_drop(void **state)
{
	(void)state;
	struct esme_stats *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct smsc_peer_stats pa, pb;
	run_drop(31, a, &pa);
	printf("  skipped %llu requeued %llu dup receipts %llu dlr retries %llu\n", (unsigned long long)a->skipped,
	       (unsigned long long)a->requeued_closed, (unsigned long long)a->rcpt_duplicate,
	       (unsigned long long)pa.dlr_retries);
	/* Same seed twice: identical numbers, histograms included. */
	run_drop(31, b, &pb);
	assert_memory_equal(a, b, sizeof(*a));
	assert_memory_equal(&pa, &pb, sizeof(pa));
	run_drop(32, b, &pb);
	assert_true(memcmp(a, b, sizeof(*a)) != 0);
	free(a);
	free(b);
}

/* ---- receipts that never come: 'lost' accounting ---- */

struct lost_ctx {
	uint64_t n, bad;
};

static void lost_cb(void *arg, struct sy_str id, uint64_t msg_no, uint32_t part)
{
	struct lost_ctx *c = arg;
	c->n++;
	if (id.len < 9 || memcmp(id.p, "carrier-", 8) != 0 || msg_no == 0 || part != 1)
		c->bad++;
}

static void test_lost_receipts(void **state)
{
	(void)state;
	struct world w;
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(&w, 9, &ec, &pc);
	ec.max_msgs = 300;
	pc.dlr_delay = (struct sy_dist){SY_DIST_UNIFORM, 1 * SY_NS_PER_S, 100 * SY_NS_PER_S, 0.0};
	world_make(&w, 9, &ec, &pc);
	esme_start(w.esme);
	run_s(&w, 20);
	const struct esme_stats *st = esme_stats(w.esme);
	struct lost_ctx c = {0};
	uint64_t n = esme_each_unreceipted(w.esme, lost_cb, &c);
	assert_int_equal(st->segs_accepted, 300);
	assert_true(st->rcpt_delivered > 0 && st->rcpt_delivered < 300);
	assert_int_equal(n, 300 - st->rcpt_delivered);
	assert_int_equal(c.n, n);
	assert_int_equal(c.bad, 0);
	assert_int_equal(smsc_peer_dlr_pending(w.peer), n);
	world_free(&w);
}

/* ---- wrong password: bounded rebinds, arrivals skipped ---- */

static void test_bad_password(void **state)
{
	(void)state;
	struct world w;
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(&w, 3, &ec, &pc);
	ec.password = "wrong";
	ec.binds = 1;
	ec.queue_max = 50;
	ec.max_msgs = 200;
	ec.rebind_tries_max = 3;
	ec.rebind_min_ns = 100 * SY_NS_PER_MS;
	world_make(&w, 3, &ec, &pc);
	esme_start(w.esme);
	run_s(&w, 30);
	const struct esme_stats *st = esme_stats(w.esme);
	assert_int_equal(st->binds_ok, 0);
	assert_int_equal(st->bind_failures, 4); /* the first try and 3 more */
	assert_int_equal(st->binds_given_up, 1);
	assert_int_equal(smsc_peer_stats(w.peer)->binds_refused, 4);
	assert_int_equal(st->arrivals, 200);
	assert_int_equal(st->msgs_submitted, 0);
	assert_int_equal(st->skipped, 200 - (50 + 10));
	assert_int_equal(esme_in_flight(w.esme), 60);
	world_free(&w);
}

/* ---- an account group: bind i binds as member i mod members ---- */

/* Six binds over a group of four: binds 0..5 bind as acme-0, acme-1,
 * acme-2, acme-3, acme-0, acme-1. The carrier knows acme-1 only, so
 * exactly binds 1 and 5 get through (the others are refused until they
 * give up); the messages go over those two, and their receipts come back
 * on them. */
static void test_group_members(void **state)
{
	(void)state;
	struct world w;
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(&w, 11, &ec, &pc);
	ec.members = 4;
	ec.binds = 6;
	ec.rebind_tries_max = 2;
	ec.rebind_min_ns = 100 * SY_NS_PER_MS;
	pc.system_id = "acme-1";
	world_make(&w, 11, &ec, &pc);
	static const char *want[] = {"acme-0", "acme-1", "acme-2", "acme-3", "acme-0", "acme-1"};
	for (uint32_t i = 0; i < 6; i++)
		assert_string_equal(w.esme->binds[i].system_id, want[i]);
	esme_start(w.esme);
	run_s(&w, 30);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(w.esme->binds[i].bound, i == 1 || i == 5);
	const struct esme_stats *st = esme_stats(w.esme);
	const struct smsc_peer_stats *ps = smsc_peer_stats(w.peer);
	assert_int_equal(esme_bound(w.esme), 2);
	assert_int_equal(ps->binds_ok, 2);
	assert_int_equal(ps->binds_refused, 4 * 3); /* four binds: a first try and two more each */
	assert_int_equal(st->binds_given_up, 4);
	assert_int_equal(st->msgs_accepted, 1000);
	assert_int_equal(st->skipped, 0);
	assert_int_equal(st->receipts, st->segs_accepted);
	assert_int_equal(esme_each_unreceipted(w.esme, NULL, NULL), 0);
	check_invariants(&w);
	world_free(&w);
	/* members 0 and 1 are one account: every bind as the system_id */
	for (uint32_t m = 0; m <= 1; m++) {
		world_default(&w, 11, &ec, &pc);
		ec.members = m;
		world_make(&w, 11, &ec, &pc);
		assert_string_equal(w.esme->binds[0].system_id, "acme");
		assert_string_equal(w.esme->binds[1].system_id, "acme");
		world_free(&w);
	}
}

/* ---- bad configs ---- */

static void test_bad_cfg(void **state)
{
	(void)state;
	struct world w;
	struct esme_cfg base;
	struct smsc_peer_cfg pbase;
	world_default(&w, 1, &base, &pbase);
	struct sim *sim = sim_create(1, EPOCH_NS);
	struct sim_node *n = sim_node_add(sim, "n", "10.0.0.2");
	struct sy_env *env = sim_node_env(n);
	struct esme_cfg ec[8];
	for (size_t i = 0; i < SY_ARRAY_LEN(ec); i++)
		ec[i] = base;
	ec[0].system_id = NULL;
	ec[1].tps_milli = 0;
	ec[2].dest_n = 0;
	ec[3].text_len_max = ESME_TEXT_CHARS_MAX + 1;
	ec[4].password = "123456789";
	ec[5].binds = ESME_BINDS_MAX + 1;
	ec[6].dest[1].pattern = "123456789012345678901";
	ec[7].system_id = "abcdefghijklm", ec[7].members = 11; /* its last member: abcdefghijklm-10, 16 chars */
	for (size_t i = 0; i < SY_ARRAY_LEN(ec); i++) {
		struct esme *e = NULL;
		assert_int_equal(esme_create(env, &ec[i], &e), SY_ERR_INVAL);
	}
	struct esme *e = NULL; /* abcdefghijklm-9 is 15 */
	ec[7].members = 10;
	assert_int_equal(esme_create(env, &ec[7], &e), SY_OK);
	esme_destroy(e);
	struct smsc_peer_cfg pc[3] = {pbase, pbase, pbase};
	pc[0].system_id = NULL;
	pc[1].reject_ppm = 1000001;
	pc[2].system_id = "0123456789abcdef";
	for (size_t i = 0; i < SY_ARRAY_LEN(pc); i++) {
		struct smsc_peer *p = NULL;
		assert_int_equal(smsc_peer_create(env, &pc[i], &p), SY_ERR_INVAL);
	}
	sim_destroy(sim);
}

/* ---- idempotency keys: the switch's TLV ---- */

struct keyc {
	struct smpp_session *s;
	bool bound;
	uint32_t resps;
	uint32_t status[4];
	char ids[4][SMPP_MESSAGE_ID_MAX + 1];
};

static void kc_bound(void *arg, struct smpp_session *s, uint32_t status)
{
	((struct keyc *)arg)->bound = status == ESME_ROK;
}

static void kc_resp(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
		    const struct smpp_pdu *resp)
{
	struct keyc *k = arg;
	assert_int_equal(how, SMPP_REQ_RESP);
	assert_true(tag < 4);
	k->status[tag] = resp->command_status;
	memcpy(k->ids[tag], resp->message_id.p, resp->message_id.len);
	k->ids[tag][resp->message_id.len] = '\0';
	k->resps++;
}

static void kc_req(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	(void)smpp_session_respond(s, req->sequence_number, ESME_ROK, SY_STR(""));
}

static const struct smpp_sess_ops kc_ops = {.on_bound = kc_bound, .on_response = kc_resp, .on_request = kc_req};

static void kc_submit(struct keyc *k, uint64_t tag, const char *key, const char *text)
{
	struct smpp_pdu p;
	smpp_pdu_init(&p, SMPP_SUBMIT_SM, 0);
	p.src = (struct smpp_addr){1, 1, SY_STR("15550001")};
	p.dst = (struct smpp_addr){1, 1, SY_STR("4477000001")};
	p.short_message = sy_str_from(text);
	p.registered_delivery = SMPP_REGDLV_SMSC_ALWAYS;
	if (key != NULL) {
		p.tlv.unknown_n = 1;
		p.tlv.unknown[0] = (struct smpp_tlv_raw){SMSC_PEER_TAG_KEY, sy_str_from(key)};
	}
	assert_int_equal(smpp_session_send(k->s, &p, tag, NULL), SY_OK);
}

/* A bound client on a peer made from pc (keys_out set), for the key tests. */
struct keyw {
	struct world w;
	struct keyc k;
	struct smpp_pool *pool;
	char *buf;
	size_t buf_len;
	FILE *f;
};

static void keyw_start(struct keyw *x, bool no_dedupe)
{
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(&x->w, 4, &ec, &pc);
	x->f = open_memstream(&x->buf, &x->buf_len);
	assert_non_null(x->f);
	pc.keys_out = x->f;
	pc.no_dedupe = no_dedupe;
	x->w.sim = sim_create(4, EPOCH_NS);
	x->w.na = sim_node_add(x->w.sim, "client", "10.0.0.1");
	x->w.nb = sim_node_add(x->w.sim, "smsc", "10.0.0.2");
	assert_int_equal(smsc_peer_create(sim_node_env(x->w.nb), &pc, &x->w.peer), SY_OK);
	struct smpp_pool_cfg cc = {.env = sim_node_env(x->w.na), .ops = &kc_ops, .arg = &x->k};
	assert_int_equal(smpp_pool_create(&cc, &x->pool), SY_OK);
	struct smpp_bind_params bp = {.type = SMPP_BIND_TRX, .system_id = SY_STR("acme"), .password = SY_STR("secret")};
	assert_int_equal(smpp_session_connect(x->pool, &pc.listen, &bp, &x->k.s), SY_OK);
	sim_run_until(x->w.sim, 100 * SY_NS_PER_MS);
	assert_true(x->k.bound);
}

static void keyw_end(struct keyw *x)
{
	free(x->buf);
	smpp_pool_destroy(x->pool);
	smsc_peer_destroy(x->w.peer);
	sim_destroy(x->w.sim);
}

/* What the report's sms.duplicate used to be: key repeats the carrier did
 * not deduplicate. */
static uint64_t old_duplicate(const struct smsc_peer_stats *ps)
{
	return ps->key_repeats - ps->deduped;
}

static void test_idempotency_keys(void **state)
{
	(void)state;
	struct keyw x = {0};
	keyw_start(&x, false);
	kc_submit(&x.k, 0, "1001", "hello");
	kc_submit(&x.k, 1, "1001", "hello"); /* the switch re-sends after a crash */
	/* the same message under a new key: an application resubmitted it
	 * after losing its submit_sm_resp, and the switch gave it a new id */
	kc_submit(&x.k, 2, "1002", "hello");
	kc_submit(&x.k, 3, NULL, "no key");
	sim_run_until(x.w.sim, 5 * SY_NS_PER_S);
	assert_int_equal(x.k.resps, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(x.k.status[i], ESME_ROK);
	assert_string_equal(x.k.ids[0], x.k.ids[1]); /* the first id again */
	assert_string_not_equal(x.k.ids[0], x.k.ids[2]);
	const struct smsc_peer_stats *ps = smsc_peer_stats(x.w.peer);
	assert_int_equal(ps->submits, 4);
	assert_int_equal(ps->accepted, 3);
	assert_int_equal(ps->received, 2);
	assert_int_equal(ps->deduped, 1);
	assert_int_equal(ps->duplicates, 1);	/* "hello" landed twice */
	assert_int_equal(old_duplicate(ps), 0); /* and the old count did not see it */
	assert_int_equal(ps->dlr_acked, 3);	/* no second receipt for the re-send */
	assert_int_equal(smsc_peer_key_count(x.w.peer, SY_STR("1001")), 2);
	assert_int_equal(smsc_peer_key_count(x.w.peer, SY_STR("1002")), 1);
	assert_int_equal(smsc_peer_key_count(x.w.peer, SY_STR("1003")), 0);
	fclose(x.f);
	/* "KEY MSG", "KEY MSG dup", "KEY MSG again", "- MSG" */
	char hello[32], other[32];
	assert_int_equal(sscanf(x.buf, "1001 %19s\n", hello), 1);
	assert_int_equal(smsc_peer_key_count(x.w.peer, sy_str_from(hello)), 2);
	const char *last = strstr(x.buf, "\n- ");
	assert_non_null(last);
	assert_int_equal(sscanf(last, "\n- %19s", other), 1);
	char want[256];
	snprintf(want, sizeof(want), "1001 %s\n1001 %s dup\n1002 %s again\n- %s\n", hello, hello, hello, other);
	assert_string_equal(x.buf, want);
	assert_string_not_equal(hello, other);
	keyw_end(&x);
}

/* Keys in every form the peer keeps: decimal ids (compact), other texts
 * inline (under 15 characters) or on the heap (up to 30; ASan sees a leak
 * at teardown): a re-send under a long key is still recognised, and a
 * lookup finds each key in its own form only. */
static void test_long_keys(void **state)
{
	(void)state;
	struct keyw x = {0};
	keyw_start(&x, false);
	const char *k30 = "k-0123456789abcdefghijklmnopqr", *big = "9223372036854775808";
	assert_int_equal(strlen(k30), 30);
	kc_submit(&x.k, 0, k30, "one");
	kc_submit(&x.k, 1, "0123", "two"); /* not canonical decimal: a text key */
	kc_submit(&x.k, 2, big, "three");  /* over INT64_MAX: a text key */
	kc_submit(&x.k, 3, k30, "one");	   /* a re-send */
	sim_run_until(x.w.sim, 5 * SY_NS_PER_S);
	assert_int_equal(x.k.resps, 4);
	assert_string_equal(x.k.ids[0], x.k.ids[3]);
	const struct smsc_peer_stats *ps = smsc_peer_stats(x.w.peer);
	assert_int_equal(ps->accepted, 3);
	assert_int_equal(ps->deduped, 1);
	assert_int_equal(smsc_peer_key_count(x.w.peer, sy_str_from(k30)), 2);
	assert_int_equal(smsc_peer_key_count(x.w.peer, SY_STR("0123")), 1);
	assert_int_equal(smsc_peer_key_count(x.w.peer, sy_str_from(big)), 1);
	assert_int_equal(smsc_peer_key_count(x.w.peer, SY_STR("123")), 0);
	assert_int_equal(smsc_peer_key_count(x.w.peer, SY_STR("0124")), 0);
	assert_int_equal(smsc_peer_key_count(x.w.peer, SY_STR("k-0123456789abcdefghijklmnopq")), 0);
	fclose(x.f);
	keyw_end(&x);
}

static void test_no_dedupe_counts_resends(void **state)
{
	(void)state;
	struct keyw x = {0};
	keyw_start(&x, true);
	kc_submit(&x.k, 0, "1001", "hello");
	kc_submit(&x.k, 1, "1001", "hello");
	kc_submit(&x.k, 2, "1002", "bonjour");
	sim_run_until(x.w.sim, 5 * SY_NS_PER_S);
	assert_int_equal(x.k.resps, 3);
	assert_string_not_equal(x.k.ids[0], x.k.ids[1]); /* a new id: delivered again */
	const struct smsc_peer_stats *ps = smsc_peer_stats(x.w.peer);
	assert_int_equal(ps->accepted, 3);
	assert_int_equal(ps->received, 2);
	assert_int_equal(ps->duplicates, 1);
	assert_int_equal(ps->deduped, 0);
	assert_int_equal(ps->dlr_acked, 3); /* a receipt for each delivery */
	fclose(x.f);
	keyw_end(&x);
}

/* ---- the carrier's receipt wheel, the applications' arrival ticks ---- */

/* Receipts wait under the 1 ms tick their delay ends in: a fixed delay
 * beyond the wheel's 8.192 s (the far list) comes back after exactly that
 * delay, the two 1 ms hops and at most one tick of rounding; delays spread
 * over 0..20 s (both sides of the wheel's end) all come back in range. */
static void receipts_for(uint64_t seed, struct sy_dist delay, uint64_t run, struct world *w)
{
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(w, seed, &ec, &pc);
	ec.max_msgs = 500;
	pc.dlr_delay = delay;
	world_make(w, seed, &ec, &pc);
	esme_start(w->esme);
	run_s(w, run);
	const struct esme_stats *st = esme_stats(w->esme);
	assert_int_equal(st->segs_accepted, 500);
	assert_int_equal(st->rcpt_delivered, 500);
	assert_int_equal(st->rcpt_duplicate, 0);
	assert_int_equal(esme_each_unreceipted(w->esme, NULL, NULL), 0);
	assert_int_equal(smsc_peer_dlr_pending(w->peer), 0);
	check_invariants(w);
}

static void test_receipt_wheel(void **state)
{
	(void)state;
	struct world w;
	receipts_for(41, sy_dist_fixed(9 * SY_NS_PER_S), 30, &w);
	const struct esme_stats *st = esme_stats(w.esme);
	assert_true(st->receipt.min_ns >= 9 * SY_NS_PER_S + 2 * SY_NS_PER_MS);
	assert_true(st->receipt.max_ns <= 9 * SY_NS_PER_S + 4 * SY_NS_PER_MS);
	world_free(&w);
	receipts_for(42, (struct sy_dist){SY_DIST_UNIFORM, 0, 20 * SY_NS_PER_S, 0.0}, 40, &w);
	st = esme_stats(w.esme);
	assert_true(st->receipt.min_ns >= 2 * SY_NS_PER_MS);
	assert_true(st->receipt.max_ns <= 20 * SY_NS_PER_S + 4 * SY_NS_PER_MS);
	assert_true(st->receipt.max_ns >= 15 * SY_NS_PER_S); /* some went through the far list */
	world_free(&w);
}

/* Arrivals are made in 1 ms passes: every one drawn is made (about 10 a
 * pass at 10,000/s), at the rate asked, with one timer a pass. */
static void test_arrival_ticks(void **state)
{
	(void)state;
	struct world w;
	struct esme_cfg ec;
	struct smsc_peer_cfg pc;
	world_default(&w, 43, &ec, &pc);
	ec.tps_milli = 10000 * 1000;
	ec.max_msgs = 0;
	ec.stop_ns = 2 * SY_NS_PER_S;
	ec.window = 100;
	ec.queue_max = 20000;
	ec.seg_max = 1 << 20;
	ec.registered_delivery = false;
	world_make(&w, 43, &ec, &pc);
	esme_start(w.esme);
	uint64_t events = sim_run_until(w.sim, 4 * SY_NS_PER_S);
	const struct esme_stats *st = esme_stats(w.esme);
	printf("  arrivals %llu in 2 s at 10,000/s, %llu events\n", (unsigned long long)st->arrivals,
	       (unsigned long long)events);
	assert_true(st->arrivals > 19400 && st->arrivals < 20600); /* Poisson: sd ~141 */
	assert_int_equal(st->skipped, 0);
	assert_int_equal(st->msgs_accepted, st->arrivals);
	assert_int_equal(esme_in_flight(w.esme), 0);
	/* a submit_sm and its resp are an event each; a timer per arrival
	 * would add a third (60,269 events), a timer per tick ~2,000 */
	assert_true(events < st->arrivals * 5 / 2);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_1000),
	    cmocka_unit_test(test_long_ids),
	    cmocka_unit_test(test_no_receipts),
	    cmocka_unit_test(test_long_messages),
	    cmocka_unit_test(test_reject_share),
	    cmocka_unit_test(test_throttle),
	    cmocka_unit_test(test_link_drop),
	    cmocka_unit_test(test_lost_receipts),
	    cmocka_unit_test(test_bad_password),
	    cmocka_unit_test(test_group_members),
	    cmocka_unit_test(test_bad_cfg),
	    cmocka_unit_test(test_idempotency_keys),
	    cmocka_unit_test(test_long_keys),
	    cmocka_unit_test(test_no_dedupe_counts_resends),
	    cmocka_unit_test(test_receipt_wheel),
	    cmocka_unit_test(test_arrival_ticks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
