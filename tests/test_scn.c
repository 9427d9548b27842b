/* test_scn.c: the scenario parser (every section and key of a full file, a
 * table of bad inputs with their exact messages), its extensions (the
 * simulated world of peers/world.h, the simulator's [expect]), the node's
 * component configs (core/conf/node.h) and [expect] evaluation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/conf/node.h"
#include "peers/scn_peers.h"
#include "sim/run.h"

/* As `switchyard sim` reads a file: the node, the world, [expect]. */
static struct sim_scenario *parse_ok(const char *text)
{
	struct sim_scenario *s = NULL;
	char err[SCN_ERR_MAX] = "";
	enum sy_rc rc = sim_scenario_parse_string(text, "t.scn", &s, err, sizeof(err));
	if (rc != SY_OK)
		fail_msg("unexpected error: %s", err);
	assert_non_null(s);
	return s;
}

static void check_run_node(const struct scn *s)
{
	assert_int_equal(s->run.duration_ns, 90 * SY_NS_PER_S);
	assert_int_equal(s->run.seed, 42);
	assert_int_equal(s->run.drain_ns, 30 * SY_NS_PER_S);
	assert_int_equal(s->run.epoch_ns, 1772368200ull * SY_NS_PER_S); /* 2026-03-01T12:30:00Z */
	assert_int_equal(s->run.calls_max, 50000);
	assert_int_equal(s->run.txn_max, 0);
	assert_int_equal(s->run.t1_ns, 250 * SY_NS_PER_MS);
	assert_string_equal(s->node.sip, "127.0.0.1:5080");
	assert_int_equal(s->node.sip_addr.port, 5080);
	assert_string_equal(s->node.out, "out/cdr");
	assert_string_equal(s->node.name, "edge1");
}

static void check_carriers(const struct scn *s, const struct world *w)
{
	assert_int_equal(s->carrier_n, 2);
	assert_int_equal(w->carrier_n, 2);
	const struct scn_carrier *c = &s->carriers[0];
	const struct world_carrier *b = &w->carriers[0];
	assert_string_equal(c->name, "tier1");
	assert_int_equal(c->line, 16);
	assert_int_equal(c->prefix_n, 3);
	assert_string_equal(c->prefixes[0], "1");
	assert_string_equal(c->prefixes[1], "44");
	assert_string_equal(c->prefixes[2], "49");
	assert_string_equal(c->address, "10.0.0.2:5060");
	assert_int_equal(c->addr.ip[3], 2);
	assert_int_equal(c->capacity, 2000);
	assert_int_equal(c->priority, 1);
	assert_int_equal(b->answer_ppm, 700000);
	assert_int_equal(b->ring.kind, SY_DIST_UNIFORM);
	assert_int_equal(b->ring.a_ns, 2 * SY_NS_PER_S);
	assert_int_equal(b->ring.b_ns, 6 * SY_NS_PER_S);
	assert_int_equal(b->reject_n, 2);
	assert_int_equal(b->reject[0].code, 486);
	assert_int_equal(b->reject[0].ppm, 600000);
	assert_int_equal(b->reject[1].code, 503);
	assert_int_equal(b->reject[1].ppm, 400000);
	assert_true(b->link.set);
	assert_int_equal(b->link.latency.kind, SY_DIST_FIXED);
	assert_int_equal(b->link.latency.a_ns, 20 * SY_NS_PER_MS);
	assert_int_equal(b->link.jitter_ns, 5 * SY_NS_PER_MS);
	assert_int_equal(b->link.loss_ppm, 1000);
	assert_int_equal(c->rate_micro_per_min, 10000);
	assert_int_equal(b->noanswer_ns, 30 * SY_NS_PER_S);
	c = &s->carriers[1];
	b = &w->carriers[1];
	assert_string_equal(c->name, "backup");
	assert_int_equal(c->capacity, 500);
	assert_int_equal(c->priority, 0);
	assert_int_equal(b->answer_ppm, 995000);
	assert_int_equal(b->ring.a_ns, 0);
	assert_int_equal(b->reject_n, 1);
	assert_int_equal(b->reject[0].code, 503);
	assert_int_equal(b->reject[0].ppm, SCN_PPM);
	assert_false(b->link.set);
	assert_string_equal(c->address, "");
	assert_int_equal(scn_carrier_find(s, "backup"), 1);
	assert_int_equal(scn_carrier_find(s, "nope"), -1);
}

static void check_traffic_faults(const struct world *s)
{
	const struct world_traffic_voice *v = &s->voice;
	assert_true(v->present);
	assert_int_equal(v->cps_milli, 500);
	assert_int_equal(v->to_n, 2);
	assert_string_equal(v->to[0].pattern, "+1XXXXXXXXXX");
	assert_int_equal(v->to[0].weight_ppm, 700000);
	assert_string_equal(v->to[1].pattern, "+44XXXXXXXXXX");
	assert_int_equal(v->to[1].weight_ppm, 300000);
	assert_string_equal(v->from, "+1555XXXXXXX");
	assert_int_equal(v->hold.kind, SY_DIST_EXP);
	assert_int_equal(v->hold.a_ns, 90 * SY_NS_PER_S);
	assert_int_equal(v->link.latency.kind, SY_DIST_NORMAL);
	assert_int_equal(v->link.latency.b_ns, 5 * SY_NS_PER_MS);
	assert_int_equal(v->link.loss_ppm, 10000);
	assert_int_equal(v->start_ns, 5 * SY_NS_PER_S);
	assert_int_equal(v->duration_ns, 60 * SY_NS_PER_S);
	assert_int_equal(v->calls_max, 1000);
	assert_int_equal(s->fault_n, 1);
	assert_int_equal(s->faults[0].kind, WORLD_FAULT_CARRIER_DOWN);
	assert_int_equal(s->faults[0].at_ns, 30 * SY_NS_PER_S);
	assert_int_equal(s->faults[0].duration_ns, 10 * SY_NS_PER_S);
	assert_int_equal(s->faults[0].carrier, 0);
	assert_int_equal(s->faults[0].target_line, 45);
}

static void check_expects(const struct expect_set *s)
{
	static const struct {
		const char *metric;
		enum expect_op op;
		int64_t value;
		enum expect_unit unit;
	} want[] = {
		{"asr", EXPECT_OP_GE, 650000, EXPECT_UNIT_PPM},
		{"pdd.p99", EXPECT_OP_LE, 200 * (int64_t)SY_NS_PER_MS, EXPECT_UNIT_NS},
		{"cdr.lost", EXPECT_OP_EQ, 0, EXPECT_UNIT_COUNT},
		{"calls.completed", EXPECT_OP_GT, 1000, EXPECT_UNIT_COUNT},
		{"pdd.p50", EXPECT_OP_LT, 1500 * (int64_t)SY_NS_PER_MS, EXPECT_UNIT_NS},
	};
	assert_int_equal(s->n, SY_ARRAY_LEN(want));
	for (size_t i = 0; i < SY_ARRAY_LEN(want); i++) {
		assert_string_equal(s->items[i].metric, want[i].metric);
		assert_int_equal(s->items[i].op, want[i].op);
		assert_int_equal(s->items[i].value, want[i].value);
		assert_int_equal(s->items[i].unit, want[i].unit);
		assert_int_equal(s->items[i].line, 48 + i);
	}
	assert_string_equal(s->items[3].text, "calls.completed>1000");
}

static void test_full_file(void **state)
{
	struct sim_scenario *sc = NULL;
	char err[SCN_ERR_MAX] = "";
	enum sy_rc rc = sim_scenario_parse_file("tests/data/scn/full.scn", &sc, err, sizeof(err));
	if (rc != SY_OK)
		fail_msg("%s", err);
	const struct scn *s = sc->world->scn;
	assert_string_equal(s->file, "tests/data/scn/full.scn");
	check_run_node(s);
	check_carriers(s, sc->world);
	check_traffic_faults(sc->world);
	check_expects(&sc->expects);
	const struct fraud_cfg *fr = &s->fraud;
	assert_true(fr->on && fr->monitor);
	assert_int_equal(fr->accounts_max, 1000);
	assert_int_equal(fr->wangiri.flood.action, FRAUD_FLAG);
	assert_int_equal(fr->rules[0].calls.action, FRAUD_THROTTLE);
	assert_int_equal(fr->rules[0].spend.max, 50000000);
	assert_int_equal(fr->account_n, 1);
	assert_string_equal(fr->accounts[0].own[1], "+4421");
	sim_scenario_free(sc);
}

/* An empty file (or only comments) is valid: every default. */
static void test_defaults(void **state)
{
	static const char *texts[] = {"", "# nothing\n\n   # at all\n", "\r\n"};
	for (size_t i = 0; i < SY_ARRAY_LEN(texts); i++) {
		struct sim_scenario *sc = parse_ok(texts[i]);
		const struct scn *s = sc->world->scn;
		const struct world *w = sc->world;
		assert_int_equal(s->run.duration_ns, 60 * SY_NS_PER_S);
		assert_int_equal(s->run.seed, 1);
		assert_int_equal(s->run.drain_ns, 120 * SY_NS_PER_S);
		assert_int_equal(s->run.epoch_ns, 1767225600ull * SY_NS_PER_S);
		assert_int_equal(s->run.t1_ns, 500 * SY_NS_PER_MS);
		assert_string_equal(s->node.sip, "127.0.0.1:5060");
		assert_int_equal(s->carrier_n + w->fault_n + sc->expects.n, 0);
		assert_false(w->voice.present);
		assert_string_equal(w->voice.from, "+1555XXXXXXX");
		sim_scenario_free(sc);
	}
}

/* A simulated SMPP carrier deduplicates on our key TLV unless told not to. */
static void test_smpp_carrier_dedup(void **state)
{
	(void)state;
	struct sim_scenario *sc =
		parse_ok("[smpp-carrier a]\nprefixes = 1\n\n[smpp-carrier b]\nprefixes = 2\ndedup = no\n");
	assert_int_equal(sc->world->scn->smpp_carrier_n, 2);
	assert_true(sc->world->smpp_carriers[0].dedup);
	assert_false(sc->world->smpp_carriers[1].dedup);
	sim_scenario_free(sc);
}

static void test_equal_weights(void **state)
{
	struct sim_scenario *sc = parse_ok("[traffic voice]\ncps=10\nto = +1XXX 44XX 49XX\n");
	const struct world_traffic_voice *v = &sc->world->voice;
	assert_int_equal(v->to_n, 3);
	assert_int_equal(v->to[0].weight_ppm, 333334);
	assert_int_equal(v->to[1].weight_ppm, 333333);
	assert_int_equal(v->cps_milli, 10000);
	sim_scenario_free(sc);
	sc = parse_ok("[expect]\npdd.p99 <= 0\nasr != 0\n");
	assert_int_equal(sc->expects.items[0].unit, EXPECT_UNIT_NS); /* a bare 0 takes the metric's unit */
	assert_int_equal(sc->expects.items[1].unit, EXPECT_UNIT_PPM);
	sim_scenario_free(sc);
}

/* A disk fault's start and length: an `at =` line or inline, as the issue
 * and docs/scenarios.md write them; no `for`: to the end of the run. */
static void test_disk_fault_forms(void **state)
{
	static const struct {
		const char *text;
		enum world_fault_kind kind;
		uint64_t at_s, for_s, latency_ms;
	} cases[] = {
	    {"[fault]\ndisk = slow 50ms at 20s\n", WORLD_FAULT_DISK_SLOW, 20, 0, 50},
	    {"[fault]\ndisk = full at 30s for 10s\n", WORLD_FAULT_DISK_FULL, 30, 10, 0},
	    {"[fault]\ndisk = fsync-fail at 40s\n", WORLD_FAULT_DISK_FSYNC_FAIL, 40, 0, 0},
	    {"[fault]\nat = 5s\ndisk = full 10s\n", WORLD_FAULT_DISK_FULL, 5, 10, 0},
	    {"[fault]\ndisk = full for 3s at 4s\n", WORLD_FAULT_DISK_FULL, 4, 3, 0},
	    {"[fault]\nat = 20s\nnode = switch crash 3s\n", WORLD_FAULT_NODE_CRASH, 20, 3, 0},
	    {"[fault]\nnode = switch crash 3s at 20s\n", WORLD_FAULT_NODE_CRASH, 20, 3, 0},
	    {"[fault]\nnode = switch power-loss 2s at 5s\n", WORLD_FAULT_NODE_POWER_LOSS, 5, 2, 0},
	    {"[fault]\nat = 7s\nnode = switch power-loss 1s\n", WORLD_FAULT_NODE_POWER_LOSS, 7, 1, 0},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct sim_scenario *sc = parse_ok(cases[i].text);
		const struct world_fault *f = &sc->world->faults[0];
		assert_int_equal(sc->world->fault_n, 1);
		assert_int_equal(f->kind, cases[i].kind);
		assert_int_equal(f->at_ns, cases[i].at_s * SY_NS_PER_S);
		assert_int_equal(f->duration_ns, cases[i].for_s * SY_NS_PER_S);
		assert_int_equal(f->latency_ns, cases[i].latency_ms * SY_NS_PER_MS);
		sim_scenario_free(sc);
	}
}

static const struct {
	const char *text, *err;
} bad_cases[] = {
	{"[run]\nduration = 60s\n[bogus]\n", "x.scn:3: unknown section [bogus]"},
	{"[traffic fax]\n", "x.scn:1: unknown section [traffic fax]"},
	{"[traffic sms]\n", "x.scn:1: [traffic sms] needs 'account'"},
	{"[traffic sms]\naccount = app\ntps = 10\nto = +1XXX\n", "x.scn:2: [traffic sms] names unknown account 'app'"},
	{"[account app]\npassword = pw\n[traffic sms]\naccount = app\ntps = 10\nto = +1XXX\n",
	 "x.scn:4: [traffic sms] account 'app' has no smpp = yes"},
	{"[account a]\nbalance = 1.0.0 USD\n", "x.scn:2: bad amount '1.0.0 USD' for 'balance'"},
	{"[smpp-carrier a]\nprefixes = 1\ndedup = maybe\n", "x.scn:3: bad value 'maybe' for 'dedup' (on or off)"},
	{"[account a]\ntype = gift\n", "x.scn:2: bad type 'gift' for 'type' (prepaid or postpaid)"},
	{"[account a]\ncount = 10\n", "x.scn:1: [account a] with count needs 'callers' (the number prefix)"},
	{"[account a]\ntariff = t9\n", "x.scn:1: [account a] names unknown tariff 't9'"},
	{"[node]\n\n[account a]\nsmpp = yes\n", "x.scn:3: [account a] smpp = yes needs a non-empty password"},
	{"[account a]\nsmpp = yes\npassword = toolongpw\n",
	 "x.scn:1: [account a] password is longer than SMPP's 8 characters"},
	{"[account a]\nsmpp = yes\npassword = $pbkdf2-sha256$10$00$00\n",
	 "x.scn:1: [account a] password: pbkdf2-sha256: iterations must be 1000..10000000"},
	{"[account a]\nsmpp = maybe\n", "x.scn:2: bad value 'maybe' for 'smpp' (on or off)"},
	{"[account abcdefghijklm]\ncount = 11\nsmpp = yes\npassword = pw\n",
	 "x.scn:1: [account abcdefghijklm] member abcdefghijklm-10 is longer than SMPP's 15-character system_id"},
	{"[account a]\nsmpp = yes\npassword = pw\n[account b]\ncount = 256\nsmpp = yes\npassword = pw\n",
	 "x.scn:4: [account b]: over 256 SMPP accounts (each member of a group counts)"},
	{"[node]\nsmpp_fail_backoff = 5m..1s\n",
	 "x.scn:2: bad range MIN..MAX of durations (1s..5m) '5m..1s' for 'smpp_fail_backoff'"},
	{"[smpp-carrier s]\nprefixes = 1\nbinds = 0\n", "x.scn:1: [smpp-carrier s] binds must be 1..64"},
	{"[smpp-carrier s]\nprefixes = 1\ndelivery = 90% after 2s\n",
	 "x.scn:3: expected 'delivery = PERCENT delay DISTRIBUTION', got '90% after 2s'"},
	{"[fault]\nat = 1s\nsmpp-carrier = s drop 5s\n", "x.scn:3: [fault] names unknown smpp-carrier 's'"},
	{"[fault]\nat = 1s\nnode = db crash 5s\n", "x.scn:3: [fault] names unknown node 'db' (the switch is 'switch')"},
	{"[expect]\nbilling.revenue >= 10%\n",
	 "x.scn:2: unit mismatch: 'billing.revenue' is an amount, '10%' is a percentage"},
	{"[carrier]\n", "x.scn:1: section [carrier] needs a name"},
	{"[run\n", "x.scn:1: bad section header '[run'"},
	{"[run]\n[run]\n", "x.scn:2: duplicate section [run]"},
	{"duration = 1s\n", "x.scn:1: 'duration = 1s' outside any section"},
	{"\n[traffic voice]\ncps = 5\ncpss = 5\n", "x.scn:4: unknown key 'cpss' in [traffic voice]"},
	{"[traffic voice]\ncps = 1\nto = +1X\n\n\n\nhold = 10x\n", "x.scn:7: bad duration '10x' for 'hold'"},
	{"[run]\nduration 60s\n", "x.scn:2: expected 'key = value', got 'duration 60s'"},
	{"[run]\nseed = 1\nseed = 2\n", "x.scn:3: duplicate key 'seed' in [run]"},
	{"[run]\nseed =\n", "x.scn:2: empty value for 'seed'"},
	{"[run]\nseed = -1\n", "x.scn:2: bad number '-1' for 'seed'"},
	{"[run]\nduration = 0s\n", "x.scn:2: bad duration '0s' for 'duration'"},
	{"[run]\nepoch = 2026-02-30T00:00:00Z\n",
	 "x.scn:2: bad UTC timestamp '2026-02-30T00:00:00Z' for 'epoch'"},
	{"[node]\nsip = nowhere:99999\n", "x.scn:2: bad address 'nowhere:99999' for 'sip'"},
	{"[carrier a]\nprefixes = 1\nanswer = 70 ring 2s\n", "x.scn:3: bad percentage '70' for 'answer'"},
	{"[carrier a]\nprefixes = 1\nanswer = 170%\n", "x.scn:3: bad percentage '170%' for 'answer'"},
	{"[carrier a]\nprefixes = 1\nanswer = 70% rung 2s\n",
	 "x.scn:3: expected 'answer = PERCENT ring DISTRIBUTION', got '70% rung 2s'"},
	{"[carrier a]\nprefixes = 1\nlink = loss 0.1\n", "x.scn:3: bad percentage '0.1' for 'link'"},
	{"[carrier a]\nprefixes = 1\nlink = latency 20ms speed 5\n",
	 "x.scn:3: bad latency '20ms speed 5' for 'link'"},
	{"[carrier a]\nprefixes = 1\nlink = speed 5\n",
	 "x.scn:3: unknown link setting 'speed' for 'link' (use latency, jitter, loss)"},
	{"[carrier a]\nprefixes = 1\nreject = 486 60% 503 30%\n", "x.scn:3: shares for 'reject' sum to 90%, not 100%"},
	{"[carrier a]\nprefixes = 1\nreject = 200\n", "x.scn:3: bad status '200' for 'reject'"},
	{"[carrier a]\nprefixes = 1\nrate = 0.0000001/min\n", "x.scn:3: bad rate '0.0000001/min' for 'rate'"},
	{"[carrier a]\nprefixes = 1\ncapacity = 20 lines\n", "x.scn:3: bad capacity '20 lines' for 'capacity'"},
	{"[carrier a]\nprefixes = 1 4a\n", "x.scn:2: bad prefix '4a' for 'prefixes'"},
	{"[carrier a]\ncapacity = 1\n", "x.scn:1: [carrier a] needs 'prefixes'"},
	{"[carrier a]\nprefixes = 1\n[carrier a]\nprefixes = 2\n", "x.scn:3: duplicate section [carrier a]"},
	{"[traffic voice]\ncps = 1\nto = +1XX 70% +44XX 20%\n", "x.scn:3: weights for 'to' sum to 90%, not 100%"},
	{"[traffic voice]\ncps = 1\nto = +1XX 70% +44XX\n",
	 "x.scn:3: weights for 'to' must be given for every pattern or for none"},
	{"[traffic voice]\ncps = 1\nto = 30% +1XX\n", "x.scn:3: bad weight '30%' for 'to'"},
	{"[traffic voice]\ncps = 1\nto = +1Y\n", "x.scn:3: bad number pattern '+1Y' for 'to'"},
	{"[traffic voice]\ncps = 0\n", "x.scn:2: bad rate '0' for 'cps'"},
	{"[traffic voice]\ncps = 1\n", "x.scn:1: [traffic voice] needs 'to'"},
	{"[carrier tier1]\nprefixes = 1\n[fault]\nat = 3s\n\n\n\n\ncarrier = tier9 down 10s\n",
	 "x.scn:9: [fault] names unknown carrier 'tier9'"},
	{"[fault]\nat = 3s\n", "x.scn:1: [fault] says no fault (e.g. carrier = NAME down 10s)"},
	{"[fault]\ncarrier = a up\n", "x.scn:2: expected 'carrier = NAME down DURATION', got 'a up'"},
	{"[fault]\nat = 1s\nnode = db power-loss 5s\n", "x.scn:3: [fault] names unknown node 'db' (the switch is 'switch')"},
	{"[fault]\nat = 1s\nnode = switch-2 crash 5s\n", "x.scn:3: [fault] names unknown node 'switch-2' (the switch is 'switch')"},
	{"[node]\nnodes = 3\n[fault]\nat = 1s\nnode = switch-4 crash 5s\n",
	 "x.scn:5: [fault] names unknown node 'switch-4' (the switch is 'switch', its other SMSC instances 'switch-2' to 'switch-3')"},
	{"[node]\nnodes = 0\n", "x.scn:2: bad number of SMSC instances (1 to 16) '0' for 'nodes'"},
	{"[node]\nnodes = 17\n", "x.scn:2: bad number of SMSC instances (1 to 16) '17' for 'nodes'"},
	{"[fault]\nnode = switch power-loss\n",
	 "x.scn:2: expected 'node = NAME crash|power-loss DURATION [at TIME]', got 'switch power-loss'"},
	{"[fault]\nnode = switch brownout 5s at 1s\n",
	 "x.scn:2: expected 'node = NAME crash|power-loss DURATION [at TIME]', got 'switch brownout 5s at 1s'"},
	{"[fault]\nnode = switch power-loss 5s for 1s\n",
	 "x.scn:2: expected 'node = NAME crash|power-loss DURATION [at TIME]', got 'switch power-loss 5s for 1s'"},
	{"[fault]\nnode = switch power-loss 5s at 1s 2s\n",
	 "x.scn:2: expected 'node = NAME crash|power-loss DURATION [at TIME]', got 'switch power-loss 5s at 1s 2s'"},
	{"[fault]\nnode = switch power-loss 5s at\n", "x.scn:2: 'at' needs a duration after it"},
	{"[fault]\nat = 2s\nnode = switch power-loss 5s at 1s\n", "x.scn:3: 'at' given twice"},
	{"[fault]\nnode = switch power-loss 5s\n",
	 "x.scn:1: [fault] needs 'at' (when it starts: 'at = 20s', or 'disk = full at 20s')"},
	{"[node]\nsync = fast\n", "x.scn:2: bad sync mode (full or normal) 'fast' for 'sync'"},
	{"[node]\nsync =\n", "x.scn:2: empty value for 'sync'"},
	{"[node]\nsync = full\nsync = normal\n", "x.scn:3: duplicate key 'sync' in [node]"},
	{"[fault]\ndisk = full for 10s\n", "x.scn:1: [fault] needs 'at' (when it starts: 'at = 20s', or 'disk = full at 20s')"},
	{"[fault]\nat = 5s\ndisk = full at 6s\n", "x.scn:3: 'at' given twice"},
	{"[fault]\ndisk = full at 5s for 0s\n", "x.scn:2: 'for' needs a duration after it (above 0)"},
	{"[fault]\ndisk = slow at 5s\n", "x.scn:2: expected 'disk = slow LATENCY', 'full' or 'fsync-fail', then optional "
					 "'at TIME' and 'for DURATION', got 'slow at 5s'"},
	{"[expect]\nasr => 65%\n", "x.scn:2: bad operator '=>' in 'asr => 65%' (use >= <= == != > <)"},
	{"[expect]\nasr = 65%\n", "x.scn:2: bad operator '=' in 'asr = 65%' (use >= <= == != > <)"},
	{"[expect]\nasr <= 200ms\n", "x.scn:2: unit mismatch: 'asr' is a percentage, '200ms' is a duration"},
	{"[expect]\npdd.p99 <= 5\n", "x.scn:2: unit mismatch: 'pdd.p99' is a duration, '5' is a count"},
	{"[expect]\nasr >= 65x\n", "x.scn:2: bad value '65x' in 'asr >= 65x'"},
	{"[expect]\nasr\n", "x.scn:2: expected 'METRIC OP VALUE', got 'asr'"},
	{"[trunk t]\naddress = 10.0.0.0/33\n",
	 "x.scn:2: bad address or network (10.0.2.1, 192.0.2.0/24, 10.1.1.1:5070, [2001:db8::]/32) '10.0.0.0/33' for "
	 "'address'"},
	{"[trunk t]\naccount = a\n", "x.scn:1: [trunk t] needs 'address'"},
	{"[trunk t]\naddress = 10.0.0.1\naccount = nobody\n", "x.scn:1: [trunk t] names unknown account 'nobody'"},
	{"[user u]\npassword = md5:abc\n", "x.scn:1: [user u] password: md5: takes 32 hex digits, sha256: 64"},
	{"[node]\nauth_unknown = maybe\n", "x.scn:2: bad value 'maybe' for 'auth_unknown' (reject or challenge)"},
	{"[node]\nauth_algorithms = MD5 MD5\n", "x.scn:2: 'auth_algorithms' lists an algorithm twice"},
	{"[run]\nseed = 1\0\n", NULL}, /* NUL: see test_nul_byte */
};

static void test_bad_inputs(void **state)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(bad_cases); i++) {
		if (bad_cases[i].err == NULL)
			continue;
		struct sim_scenario *s = (struct sim_scenario *)1;
		char err[SCN_ERR_MAX] = "";
		enum sy_rc rc = sim_scenario_parse_string(bad_cases[i].text, "x.scn", &s, err, sizeof(err));
		if (rc != SY_ERR_PARSE || strcmp(err, bad_cases[i].err) != 0)
			fail_msg("case %zu: rc %d, got \"%s\", want \"%s\"", i, rc, err, bad_cases[i].err);
		assert_null(s);
	}
}

static void test_nul_byte(void **state)
{
	static const char text[] = "[run]\nseed = 1\0\n";
	struct scn *s;
	char err[SCN_ERR_MAX];
	assert_int_equal(scn_parse_buf(text, sizeof(text) - 1, "n.scn", &s, err, sizeof(err)), SY_ERR_PARSE);
	assert_string_equal(err, "n.scn:2: NUL byte in the file");
	assert_int_equal(scn_parse_file("tests/data/scn/does-not-exist.scn", &s, err, sizeof(err)), SY_ERR_IO);
	assert_non_null(strstr(err, "does-not-exist.scn: cannot open"));
}

/* Every prefix of a valid file parses or fails cleanly (no crash, no leak). */
static void test_truncations(void **state)
{
	FILE *f = fopen("tests/data/scn/full.scn", "rb");
	assert_non_null(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	static char cut[8192 + 1];
	for (size_t len = 0; len <= n; len++) {
		struct sim_scenario *s = NULL;
		char err[SCN_ERR_MAX] = "";
		memcpy(cut, buf, len);
		cut[len] = '\0';
		enum sy_rc rc = sim_scenario_parse_string(cut, "cut.scn", &s, err, sizeof(err));
		assert_true(rc == SY_OK ? s != NULL : s == NULL && strncmp(err, "cut.scn:", 8) == 0);
		sim_scenario_free(s);
	}
}

struct fake_metric {
	const char *name;
	struct expect_value v;
};

static bool fake_lookup(void *ctx, const char *metric, struct expect_value *out)
{
	for (const struct fake_metric *m = ctx; m->name; m++)
		if (strcmp(m->name, metric) == 0) {
			*out = m->v;
			return true;
		}
	return false;
}

static void test_expect_eval(void **state)
{
	struct sim_scenario *s = parse_ok("[expect]\nasr >= 65%\npdd.p99 <= 200ms\ncdr.lost == 0\n"
					  "fraud.recall >= 95%\nspeed >= 2\npdd.p50 == 0\n");
	static const struct fake_metric metrics[] = {
		{"asr", {701200, EXPECT_UNIT_PPM}},
		{"pdd.p99", {231400000, EXPECT_UNIT_NS}},
		{"cdr.lost", {0, EXPECT_UNIT_COUNT}},
		{"speed", {15, EXPECT_UNIT_PPM}},
		{"pdd.p50", {0, EXPECT_UNIT_NS}},
		{NULL, {0, 0}},
	};
	static const struct {
		bool pass;
		const char *report;
	} want[] = {
		{true, "PASS asr >= 65% (actual 70.12%)"},
		{false, "FAIL pdd.p99 <= 200ms (actual 231.4ms)"},
		{true, "PASS cdr.lost == 0 (actual 0)"},
		{false, "FAIL fraud.recall >= 95% (t.scn:5: unknown metric 'fraud.recall')"},
		{false, "FAIL speed >= 2 (t.scn:6: unit mismatch: 'speed' is a percentage, actual 0.0015%)"},
		{true, "PASS pdd.p50 == 0s (actual 0s)"},
	};
	struct expect_result res[EXPECTS_MAX];
	assert_int_equal(expect_eval(&s->expects, "t.scn", fake_lookup, (void *)metrics, res), 3);
	for (size_t i = 0; i < SY_ARRAY_LEN(want); i++) {
		assert_int_equal(res[i].pass, want[i].pass);
		assert_int_equal(res[i].line, i + 2);
		assert_string_equal(res[i].report, want[i].report);
	}
	assert_false(res[3].found);
	assert_false(res[4].unit_ok);
	assert_string_equal(res[1].text, "pdd.p99 <= 200ms");
	sim_scenario_free(s);
}

static void test_fmt_values(void **state)
{
	static const struct {
		struct expect_value v;
		const char *s;
	} cases[] = {
		{{1500000000, EXPECT_UNIT_NS}, "1.5s"}, {{999, EXPECT_UNIT_NS}, "999ns"},   {{1000, EXPECT_UNIT_NS}, "1us"},
		{{1234567, EXPECT_UNIT_NS}, "1.234ms"}, {{1000000, EXPECT_UNIT_PPM}, "100%"}, {{1, EXPECT_UNIT_PPM}, "0.0001%"},
		{{-42, EXPECT_UNIT_COUNT}, "-42"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		char buf[64];
		expect_fmt_value(cases[i].v, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
	}
}

/* core/conf alone knows the node's sections only: the world's sections and
 * keys, and [expect], exist through their extensions. */
static void test_extensions(void **state)
{
	static const struct {
		const char *text, *err;
	} node_only[] = {
		{"[traffic voice]\ncps = 1\nto = +1X\n", "n.scn:1: unknown section [traffic voice]"},
		{"[carrier a]\nprefixes = 1\nanswer = 50%\n", "n.scn:3: unknown key 'answer' in [carrier a]"},
		{"[smpp-carrier a]\nprefixes = 1\ndedup = no\n", "n.scn:3: unknown key 'dedup' in [smpp-carrier a]"},
		{"[fault]\nat = 1s\n", "n.scn:1: unknown section [fault]"},
		{"[expect]\nasr >= 1%\n", "n.scn:1: unknown section [expect]"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(node_only); i++) {
		struct scn *s = NULL;
		char err[SCN_ERR_MAX] = "";
		assert_int_equal(scn_parse_string(node_only[i].text, "n.scn", &s, err, sizeof(err)), SY_ERR_PARSE);
		assert_string_equal(err, node_only[i].err);
	}
	/* The live tools read the world and skip [expect]; a world key given
	 * twice is still a duplicate, node and world keys share one section. */
	static const char text[] = "[carrier a]\nprefixes = 1\nanswer = 50%\n[expect]\nnot even = an expectation\n";
	struct world *w = NULL;
	char err[SCN_ERR_MAX] = "";
	assert_int_equal(world_parse_buf(text, sizeof(text) - 1, "w.scn", NULL, 0, &w, err, sizeof(err)), SY_OK);
	assert_int_equal(w->carriers[0].answer_ppm, 500000);
	assert_string_equal(w->scn->carriers[0].prefixes[0], "1");
	world_free(w);
	static const char dup[] = "[carrier a]\nanswer = 50%\nprefixes = 1\nanswer = 60%\n";
	assert_int_equal(world_parse_buf(dup, sizeof(dup) - 1, "w.scn", NULL, 0, &w, err, sizeof(err)), SY_ERR_PARSE);
	assert_string_equal(err, "w.scn:4: duplicate key 'answer' in [carrier a]");
	assert_null(w);
}

/* [model]: the calibrated CPU costs by default, 'cpu = off', partial
 * overrides, and bad values refused with file:line. */
static void test_model(void **state)
{
	struct world *w = NULL;
	char err[SCN_ERR_MAX] = "";
	static const char none[] = "[run]\nduration = 1s\n";
	assert_int_equal(world_parse_buf(none, sizeof(none) - 1, "m.scn", NULL, 0, &w, err, sizeof(err)), SY_OK);
	assert_int_equal(w->model.rx_ns, WORLD_CPU_RX_NS);
	assert_int_equal(w->model.tx_ns, WORLD_CPU_TX_NS);
	assert_int_equal(w->model.timer_ns, WORLD_CPU_TIMER_NS);
	assert_int_equal(w->model.rcvbuf_bytes, WORLD_RCVBUF_BYTES);
	world_free(w);
	static const char some[] = "[model]\ncpu = tx 7us rx 20us\nrcvbuf = 1000\n";
	assert_int_equal(world_parse_buf(some, sizeof(some) - 1, "m.scn", NULL, 0, &w, err, sizeof(err)), SY_OK);
	assert_int_equal(w->model.rx_ns, 20 * SY_NS_PER_US);
	assert_int_equal(w->model.tx_ns, 7 * SY_NS_PER_US);
	assert_int_equal(w->model.timer_ns, WORLD_CPU_TIMER_NS);
	assert_int_equal(w->model.rcvbuf_bytes, 1000);
	assert_int_equal(w->model.share_ppm, 1000000); /* all of a core unless said */
	assert_int_equal(world_model_cost(&w->model, 20 * SY_NS_PER_US), 20 * SY_NS_PER_US);
	world_free(w);
	/* half a core: every cost doubles; a third: rounded up to the ns */
	static const char half[] = "[model]\ncpu = rx 8us tx 5us timer 1us\nshare = 50%\n";
	assert_int_equal(world_parse_buf(half, sizeof(half) - 1, "m.scn", NULL, 0, &w, err, sizeof(err)), SY_OK);
	assert_int_equal(w->model.share_ppm, 500000);
	assert_int_equal(world_model_cost(&w->model, w->model.rx_ns), 16 * SY_NS_PER_US);
	assert_int_equal(world_model_cost(&w->model, w->model.timer_ns), 2 * SY_NS_PER_US);
	w->model.share_ppm = 333333;
	assert_int_equal(world_model_cost(&w->model, 1000), 3001);
	world_free(w);
	static const char off[] = "[model]\ncpu = off\n";
	assert_int_equal(world_parse_buf(off, sizeof(off) - 1, "m.scn", NULL, 0, &w, err, sizeof(err)), SY_OK);
	assert_int_equal(w->model.rx_ns + w->model.tx_ns + w->model.timer_ns, 0);
	world_free(w);
	static const struct {
		const char *text, *err;
	} bad[] = {
	    {"[model]\ncpu = fast\n", "m.scn:2: expected 'cpu = off' or 'cpu = rx 8us tx 5us timer 1us', got 'fast'"},
	    {"[model]\ncpu = rx\n", "m.scn:2: expected 'cpu = off' or 'cpu = rx 8us tx 5us timer 1us', got 'rx'"},
	    {"[model]\ncpu = rx 2s\n", "m.scn:2: bad cost (a duration up to 1s, e.g. 8us) '2s' for 'cpu'"},
	    {"\n[model]\ncpu =\n", "m.scn:3: empty value for 'cpu'"},
	    {"[model]\nrcvbuf = lots\n", NULL},
	    {"[model]\nshare = 0.5%\n", "m.scn:2: bad share of a core (1% to 100%, e.g. 50%) '0.5%' for 'share'"},
	    {"[model]\nshare = 120%\n", "m.scn:2: bad share of a core (1% to 100%, e.g. 50%) '120%' for 'share'"},
	    {"[model]\n\nshare = half\n", "m.scn:3: bad share of a core (1% to 100%, e.g. 50%) 'half' for 'share'"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++) {
		assert_int_equal(world_parse_buf(bad[i].text, strlen(bad[i].text), "m.scn", NULL, 0, &w, err, sizeof(err)),
				 SY_ERR_PARSE);
		if (bad[i].err != NULL)
			assert_string_equal(err, bad[i].err);
	}
}

/* The engine's contract for an extension, on a made-up one: a section of
 * its own, a required key added to a node section (reported at the
 * section's header), its finish check after the whole file, and the
 * node's errors still first. */
struct probe {
	uint32_t level, opened;
	char tag[8];
	uint64_t extra_ns;
};

static void *probe_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct probe *p = arg;
	p->opened++;
	return p;
}

static enum sy_rc probe_finish(struct scn_pctx *c, const struct scn *s, void *arg)
{
	struct probe *p = arg;
	if (p->level > 9)
		return scn_fail_at(c, 1, "[probe] level %u is over 9", p->level);
	return SY_OK;
}

static const struct scn_key_def probe_keys[] = {
	{"level", scn_key_u32, offsetof(struct probe, level), 0, false},
	{"tag", scn_key_str, offsetof(struct probe, tag), sizeof(((struct probe *)0)->tag), false},
};
static const struct scn_key_def probe_node_keys[] = {
	{"extra", scn_key_duration, offsetof(struct probe, extra_ns), 0, true},
};
static const struct scn_sec_def probe_sec = {"probe", NULL, probe_keys, 2, probe_begin, NULL, NULL, false};
static const struct scn_ext_keys probe_more = {"node", probe_node_keys, 1, probe_begin};

static enum sy_rc probe_parse(const char *text, struct probe *p, char *err, char *name)
{
	struct scn_ext e = {&probe_sec, 1, &probe_more, 1, probe_finish, p};
	const struct scn_ext *exts[] = {&e};
	struct scn *s = NULL;
	memset(p, 0, sizeof(*p));
	enum sy_rc rc = scn_parse_buf_ext(text, strlen(text), "p.scn", exts, 1, &s, err, SCN_ERR_MAX);
	assert_true(rc == SY_OK ? s != NULL : s == NULL);
	if (s != NULL)
		snprintf(name, SCN_NAME_MAX, "%s", s->node.name);
	scn_free(s);
	return rc;
}

static void test_extension_contract(void **state)
{
	struct probe p;
	char err[SCN_ERR_MAX] = "", name[SCN_NAME_MAX] = "";
	assert_int_equal(probe_parse("[node]\nname = n1\nextra = 2s\n[probe]\nlevel = 3\ntag = abc\n", &p, err, name),
			 SY_OK);
	assert_string_equal(name, "n1"); /* the node's own key beside the extension's */
	assert_int_equal(p.level, 3);
	assert_string_equal(p.tag, "abc");
	assert_int_equal(p.extra_ns, 2 * SY_NS_PER_S);
	assert_int_equal(p.opened, 2); /* [node] for its extra key, [probe] */
	static const struct {
		const char *text, *err;
	} bad[] = {
		{"[node]\nname = n1\n", "p.scn:1: [node] needs 'extra'"},
		{"[node]\nextra = 1s\nextra = 2s\n", "p.scn:3: duplicate key 'extra' in [node]"},
		{"[node]\nextra = 1s\n[probe]\n[probe]\n", "p.scn:4: duplicate section [probe]"},
		{"[node]\nextra = 1s\n[probe]\ntag = too-long\n", "p.scn:4: value too long for 'tag' (max 7)"},
		{"[node]\nextra = 1s\n[probe]\nlevel = 12\n", "p.scn:1: [probe] level 12 is over 9"},
		/* the node's own cross-check runs after the extension's */
		{"[node]\nextra = 1s\n[probe]\nlevel = 12\n[account a]\ntariff = t\n", "p.scn:1: [probe] level 12 is over 9"},
		{"[node]\nextra = 1s\n[account a]\ntariff = t\n", "p.scn:3: [account a] names unknown tariff 't'"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++) {
		assert_int_equal(probe_parse(bad[i].text, &p, err, name), SY_ERR_PARSE);
		assert_string_equal(err, bad[i].err);
	}
}

/* The HTTP API's keys: tokens clear or $sha256$ (never PBKDF2), only on
 * single accounts; /metrics guarded by default exactly when a
 * metrics_token is set; the limits and their defaults. */
static void test_http_keys(void **state)
{
	char err[SCN_ERR_MAX] = "";
	struct sim_scenario *sc = parse_ok("[account a]\ntoken = tk\n[account b]\n");
	struct node_cfg *n = conf_node_new(sc->world->scn);
	const struct scn_node *nd = &sc->world->scn->node;
	assert_int_equal(n->api_account_n, 1);
	assert_string_equal(n->api_accounts[0].name, "a");
	assert_true(sy_secret_check(&n->api_accounts[0].token, "tk", 2));
	assert_false(n->metrics_auth);
	assert_int_equal(nd->http_timeout_ns, 10 * SY_NS_PER_S);
	assert_int_equal(nd->http_max_header, 8192);
	assert_int_equal(nd->http_max_body, 65536);
	assert_int_equal(nd->http_max_conns, 512);
	assert_int_equal(nd->http_conns_per_source, 32);
	free(n);
	sim_scenario_free(sc);
	sc = parse_ok("[node]\nmetrics_token = $sha256$5d0316ea078469e8dddfb1706702bf96a45346b2cd124a887f7ea7152f99382f\n"
		      "http_timeout = 3s\nhttp_max_header = 4096\nhttp_max_body = 1024\nhttp_max_conns = 9\n"
		      "http_conns_per_source = 2\n");
	n = conf_node_new(sc->world->scn);
	nd = &sc->world->scn->node;
	assert_true(n->metrics_auth);
	assert_true(sy_secret_check(&n->metrics_token, "tok-v", 5));
	assert_int_equal(nd->http_timeout_ns, 3 * SY_NS_PER_S);
	assert_int_equal(nd->http_max_header, 4096);
	assert_int_equal(nd->http_max_body, 1024);
	assert_int_equal(nd->http_max_conns, 9);
	assert_int_equal(nd->http_conns_per_source, 2);
	free(n);
	sim_scenario_free(sc);
	sc = parse_ok("[node]\nmetrics_token = s\nmetrics_auth = no\n");
	n = conf_node_new(sc->world->scn);
	assert_false(n->metrics_auth);
	free(n);
	sim_scenario_free(sc);
	static const char *const bad[] = {
	    "[account a]\ntoken = $pbkdf2-sha256$1000$00$" /* slow hashes are refused for tokens */
	    "0000000000000000000000000000000000000000000000000000000000000000\n",
	    "[account a]\ntoken = $sha256$12\n",
	    "[account a]\ncallers = 1\ncount = 2\ntoken = tk\n",
	    "[node]\nmetrics_auth = yes\n",
	    "[node]\nhttp_max_body = 10\n",
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++) {
		struct sim_scenario *s = NULL;
		if (sim_scenario_parse_string(bad[i], "t.scn", &s, err, sizeof(err)) != SY_ERR_PARSE)
			fail_msg("case %zu parsed", i);
	}
}

/* [node] hep and its companions: off by default (capture id 2001 waiting);
 * the collector's port defaults to 9060; names are refused, not resolved. */
static void test_hep_keys(void **state)
{
	char err[SCN_ERR_MAX] = "";
	struct sim_scenario *sc = parse_ok("[node]\n");
	struct node_cfg *n = conf_node_new(sc->world->scn);
	assert_false(n->hep.on);
	assert_int_equal(n->hep.capture_id, 2001);
	free(n);
	sim_scenario_free(sc);
	sc = parse_ok("[node]\nhep = 192.0.2.7\nhep_id = 77\nhep_password = k1\nhep_node = sw-a\n");
	n = conf_node_new(sc->world->scn);
	struct sy_addr want = sy_addr_v4(192, 0, 2, 7, 9060);
	assert_true(n->hep.on && sy_addr_eq(&n->hep.collector, &want));
	assert_int_equal(n->hep.capture_id, 77);
	assert_string_equal(n->hep.auth_key, "k1");
	assert_string_equal(n->hep.node_name, "sw-a");
	free(n);
	sim_scenario_free(sc);
	sc = parse_ok("[node]\nhep = [2001:db8::9]:19060\n");
	n = conf_node_new(sc->world->scn);
	assert_true(n->hep.on && n->hep.collector.family == SY_AF_INET6 && n->hep.collector.port == 19060);
	assert_string_equal(n->hep.auth_key, "");
	free(n);
	sim_scenario_free(sc);
	static const char *const bad[] = {
	    "[node]\nhep = homer.example:9060\n",
	    "[node]\nhep = 192.0.2.7:0\n",
	    "[node]\nhep_id = -1\n",
	    "[node]\nhep_node = 01234567890123456789012345678901234567890123456789012345678901234\n",
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++) {
		struct sim_scenario *s = NULL;
		if (sim_scenario_parse_string(bad[i], "t.scn", &s, err, sizeof(err)) != SY_ERR_PARSE)
			fail_msg("case %zu parsed", i);
		assert_non_null(strstr(err, "t.scn:2: "));
	}
}

/* The components' configs carry what the file says, nothing of the world. */
static void test_node_cfg(void **state)
{
	struct sim_scenario *sc = NULL;
	char err[SCN_ERR_MAX] = "";
	assert_int_equal(sim_scenario_parse_file("tests/data/scn/full.scn", &sc, err, sizeof(err)), SY_OK);
	struct node_cfg *n = conf_node_new(sc->world->scn);
	assert_non_null(n);
	assert_string_equal(n->sw.source, "tests/data/scn/full.scn");
	assert_int_equal(n->sw.carrier_n, 2);
	assert_string_equal(n->sw.carriers[0].name, "tier1");
	assert_int_equal(n->sw.carriers[0].prefix_n, 3);
	assert_string_equal(n->sw.carriers[0].prefixes[2], "49");
	assert_int_equal(n->sw.carriers[0].capacity, 2000);
	assert_int_equal(n->sw.carriers[0].priority, 1);
	assert_int_equal(n->sw.carriers[0].addr.ip[3], 2);
	assert_int_equal(n->sw.calls_max, 50000);
	assert_int_equal(n->sw.t1_ns, 250 * SY_NS_PER_MS);
	assert_int_equal(n->sw.invite_timeout_ns, sc->world->scn->node.invite_timeout_ns);
	assert_int_equal(n->billing.carrier_n, 2);
	assert_string_equal(n->billing.carriers[0].name, "tier1");
	assert_int_equal(n->billing.carriers[0].rate_micro_per_min, 10000);
	assert_int_equal(n->billing.account_n, sc->world->scn->account_n);
	assert_int_equal(n->smsc_account_n, sc->world->scn->account_n);
	assert_int_equal(n->smsc_carrier_n, sc->world->scn->smpp_carrier_n);
	assert_false(n->sync_full); /* the default: normal */
	assert_false(n->sw.sync_full);
	free(n);
	sim_scenario_free(sc);
	/* [node] sync reaches every store's config */
	sc = NULL;
	assert_int_equal(sim_scenario_parse_string("[node]\nsync = full\n", "s.scn", &sc, err, sizeof(err)), SY_OK);
	n = conf_node_new(sc->world->scn);
	assert_true(n->sync_full);
	assert_true(n->sw.sync_full);
	free(n);
	sim_scenario_free(sc);
	sc = NULL;
	assert_int_equal(sim_scenario_parse_string("[node]\nsync = normal\n", "s.scn", &sc, err, sizeof(err)), SY_OK);
	assert_false(sc->world->scn->node.sync_full);
	sim_scenario_free(sc);
	/* [trunk], [user] and the [node] keys of authentication */
	sc = NULL;
	assert_int_equal(sim_scenario_parse_string("[node]\nname = pop1\nauth_unknown = challenge\nnonce_ttl = 60s\n"
						   "register_max = 600s\nauth_algorithms = MD5\n"
						   "[account bob]\n[account acme]\n"
						   "[trunk t]\naddress = 192.0.2.0/24, 10.1.1.1:5070 [2001:db8::]/32\naccount = acme\n"
						   "[user bob]\npassword = pw\n[user eve]\npassword = sha256:"
						   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
						   "a.scn", &sc, err, sizeof(err)),
			 SY_OK);
	n = conf_node_new(sc->world->scn);
	const struct sip_access_cfg *ac = &n->sw.access;
	assert_int_equal(ac->trunk_n, 1);
	assert_int_equal(ac->trunks[0].net_n, 3);
	assert_int_equal(ac->trunks[0].nets[0].bits, 24);
	assert_int_equal(ac->trunks[0].nets[1].bits, 32);
	assert_int_equal(ac->trunks[0].nets[1].addr.port, 5070);
	assert_int_equal(ac->trunks[0].nets[2].addr.family, SY_AF_INET6);
	assert_int_equal(ac->trunks[0].nets[2].bits, 32);
	assert_string_equal(ac->trunks[0].account, "acme");
	assert_int_equal(ac->user_n, 2);
	assert_string_equal(ac->users[0].account, "bob"); /* the account of its own name */
	assert_string_equal(ac->users[1].account, "");	  /* there is no [account eve] */
	assert_string_equal(ac->realm, "pop1");
	assert_true(ac->challenge_unknown);
	assert_int_equal(ac->nonce_ttl_ns, 60 * SY_NS_PER_S);
	assert_int_equal(ac->register_max_s, 600);
	assert_int_equal(ac->alg_n, 1);
	assert_int_equal(ac->algs[0], SIP_ALG_MD5);
	free(n);
	sim_scenario_free(sc);
	/* accounts: SMPP credentials to the SMSC, money to billing */
	sc = parse_ok("[account acme]\ntype = postpaid\ncredit_limit = 5.00 EUR\ncallers = +1666\ncount = 3\n"
		      "password = pw\ntps = 7\n");
	n = conf_node_new(sc->world->scn);
	assert_non_null(n);
	assert_int_equal(n->billing.accounts[0].kind, BILL_POSTPAID);
	assert_int_equal(n->billing.accounts[0].credit_limit_micros, 5000000);
	assert_string_equal(n->billing.accounts[0].currency, "EUR");
	assert_string_equal(n->billing.accounts[0].callers, "1666");
	assert_int_equal(n->billing.accounts[0].count, 3);
	assert_string_equal(n->smsc_accounts[0].name, "acme");
	assert_string_equal(n->smsc_accounts[0].password, "pw");
	assert_int_equal(n->smsc_accounts[0].tps, 7);
	assert_int_equal(n->smsc_accounts[0].count, 3);
	assert_false(n->smsc_accounts[0].smpp); /* SMPP access is explicit */
	free(n);
	sim_scenario_free(sc);
	sc = parse_ok("[node]\nsmpp_bind_timeout = 2s\nsmpp_conns_per_source = 3\nsmpp_fail_backoff = 500ms..1m\n"
		      "[account app]\nsmpp = yes\npassword = pw\nbinds = 4\n");
	n = conf_node_new(sc->world->scn);
	assert_non_null(n);
	assert_true(n->smsc_accounts[0].smpp);
	assert_int_equal(n->smsc_accounts[0].binds, 4);
	assert_int_equal(n->smsc_guard.bind_timeout_ns, 2 * SY_NS_PER_S);
	assert_int_equal(n->smsc_guard.conns_per_source, 3);
	assert_int_equal(n->smsc_guard.fail_backoff_ns, 500 * SY_NS_PER_MS);
	assert_int_equal(n->smsc_guard.fail_backoff_max_ns, 60 * SY_NS_PER_S);
	free(n);
	sim_scenario_free(sc);
	/* an SMPP group: one SMSC account per member, with the group's
	 * password (no 'callers' needed), and [traffic sms] binds over the
	 * members; a non-SMPP group or one account stays one entry */
	sc = parse_ok("[account apps]\ncount = 4\nsmpp = yes\npassword = pw\ntps = 5\nbinds = 2\n"
		      "[account solo]\nsmpp = yes\npassword = pw2\n[account voice]\ncount = 3\ncallers = 1666\n"
		      "[traffic sms]\naccount = apps\ntps = 10\nbinds = 6\nto = +1XXX\n");
	n = conf_node_new(sc->world->scn);
	assert_non_null(n);
	assert_int_equal(n->smsc_account_n, 6);
	for (uint32_t i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "apps-%u", i);
		assert_string_equal(n->smsc_accounts[i].name, name);
		assert_string_equal(n->smsc_accounts[i].password, "pw");
		assert_int_equal(n->smsc_accounts[i].count, 0); /* an account the SMSC keeps */
		assert_true(n->smsc_accounts[i].smpp);
		assert_int_equal(n->smsc_accounts[i].tps, 5);
		assert_int_equal(n->smsc_accounts[i].binds, 2);
	}
	assert_string_equal(n->smsc_accounts[4].name, "solo");
	assert_string_equal(n->smsc_accounts[5].name, "voice");
	assert_int_equal(n->smsc_accounts[5].count, 3);
	assert_int_equal(n->billing.account_n, 3); /* billing names the members itself */
	assert_int_equal(n->billing.accounts[0].count, 4);
	char pat[WORLD_DESTS_MAX][WORLD_PATTERN_MAX];
	struct esme_cfg ec;
	scn_peers_esme(sc->world, sy_addr_v4(10, 0, 0, 1, 2775), pat, &ec);
	assert_string_equal(ec.system_id, "apps");
	assert_string_equal(ec.password, "pw");
	assert_int_equal(ec.members, 4);
	assert_int_equal(ec.binds, 6);
	free(n);
	sim_scenario_free(sc);
	sc = parse_ok("[account apps]\ncount = 1\nsmpp = yes\npassword = pw\n"
		      "[traffic sms]\naccount = apps\ntps = 10\nbinds = 2\nto = +1XXX\n");
	n = conf_node_new(sc->world->scn);
	assert_int_equal(n->smsc_account_n, 1);
	assert_string_equal(n->smsc_accounts[0].name, "apps");
	scn_peers_esme(sc->world, sy_addr_v4(10, 0, 0, 1, 2775), pat, &ec);
	assert_true(ec.members <= 1); /* every bind as apps */
	free(n);
	sim_scenario_free(sc);
	/* RFC 4028 session timers: 1800 s / 90 s by default; 0 turns them
	 * off; Min-SE never below 90 s; the interval never below Min-SE */
	static const struct {
		const char *text;
		uint32_t se, min_se;
	} st[] = {
	    {"[node]\n", 1800, 90},
	    {"[node]\nsession_expires = 0\n", 0, 90},
	    {"[node]\nsession_expires = 10m\nmin_se = 2m\n", 600, 120},
	    {"[node]\nsession_expires = 60s\nmin_se = 30s\n", 90, 90},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(st); i++) {
		sc = parse_ok(st[i].text);
		n = conf_node_new(sc->world->scn);
		assert_non_null(n);
		assert_int_equal(n->sw.session_expires_s, st[i].se);
		assert_int_equal(n->sw.min_se_s, st[i].min_se);
		free(n);
		sim_scenario_free(sc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),   cmocka_unit_test(test_defaults), cmocka_unit_test(test_disk_fault_forms),
		cmocka_unit_test(test_equal_weights), cmocka_unit_test(test_smpp_carrier_dedup), cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_nul_byte),    cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_expect_eval), cmocka_unit_test(test_fmt_values),
		cmocka_unit_test(test_extensions), cmocka_unit_test(test_extension_contract),
		cmocka_unit_test(test_node_cfg),    cmocka_unit_test(test_http_keys), cmocka_unit_test(test_hep_keys), cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
