/* test_ussd_net.c: the simulated operator USSD node and its handsets
 * (peers/ussd_net.h) in the simulator, against a tiny fake gateway written
 * here on core/smpp/session.h and the dialogue codec: whole paths, dialled
 * inputs, abandonment, no answer, early ends, overruns, both bind
 * directions, session references, busy handsets, link loss, transcripts
 * and the record size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/conf/scn.h"
#include "core/smpp/session.h"
#include "core/ussd/codec.h"
#include "peers/ussd_net.h"
#include "sim/sim.h"

#define EPOCH_NS (1767225600ull * SY_NS_PER_S)
#define MS	 SY_NS_PER_MS
#define SEC	 SY_NS_PER_S
#define SUBS_MAX 2048

/* ---- a fake gateway ---- */

enum fg_mode {
	FG_MENU = 0, /* a screen per input until depth inputs, then END */
	FG_SILENT,   /* answers deliver_sm, never continues */
	FG_EARLY,    /* END "Session timed out." after the first input */
	FG_ENDLESS,  /* screens forever */
};

struct fg_sub {
	char msisdn[USSD_MSISDN_MAX];
	uint16_t ref;
	uint32_t inputs;
	bool open;
};

struct fg_reply {
	struct fg *g;
	struct ussd_msg m;
	bool used;
};

struct fg {
	struct sy_env *env;
	struct smpp_pool *pool;
	struct ussd_codec_cfg codec;
	enum fg_mode mode;
	uint32_t depth;
	uint64_t delay_ns;
	uint64_t sess;
	struct fg_sub subs[SUBS_MAX];
	uint32_t sub_n;
	struct fg_reply replies[256];
	uint32_t dials, inputs, releases, stray, bad_order, dialled_inputs, dials_with_inputs;
	uint16_t last_ref;
	uint32_t ref_changes;
	char last_dialled[USSD_CODE_MAX];
};

static struct fg_sub *fg_sub(struct fg *g, const char *msisdn)
{
	for (uint32_t i = 0; i < g->sub_n; i++)
		if (strcmp(g->subs[i].msisdn, msisdn) == 0)
			return &g->subs[i];
	SY_ASSERT(g->sub_n < SUBS_MAX);
	struct fg_sub *s = &g->subs[g->sub_n++];
	snprintf(s->msisdn, sizeof(s->msisdn), "%s", msisdn);
	return s;
}

static void fg_fire(void *arg)
{
	struct fg_reply *r = arg;
	struct fg *g = r->g;
	r->used = false;
	struct smpp_session *s = smpp_session_find(g->pool, g->sess);
	if (s == NULL)
		return;
	struct smpp_pdu pdu;
	uint8_t buf[2 * USSD_TEXT_UTF8_MAX + 64];
	SY_ASSERT(ussd_msg_to_pdu(&g->codec, &r->m, SMPP_SUBMIT_SM, &pdu, buf, sizeof(buf)) == SY_OK);
	SY_ASSERT(smpp_session_send(s, &pdu, 0, NULL) == SY_OK);
}

static void fg_send(struct fg *g, const struct fg_sub *sub, bool end, const char *text)
{
	struct fg_reply *r = NULL;
	for (uint32_t i = 0; i < SY_ARRAY_LEN(g->replies) && r == NULL; i++)
		if (!g->replies[i].used)
			r = &g->replies[i];
	SY_ASSERT(r != NULL);
	r->used = true;
	r->g = g;
	memset(&r->m, 0, sizeof(r->m));
	r->m.op = end ? SMPP_USSD_PSSR_RESP : SMPP_USSD_USSR_REQ;
	r->m.release = end;
	r->m.ref = sub->ref;
	snprintf(r->m.msisdn, sizeof(r->m.msisdn), "%s", sub->msisdn);
	snprintf(r->m.code, sizeof(r->m.code), "*123#");
	snprintf(r->m.text, sizeof(r->m.text), "%s", text);
	r->m.text_len = strlen(text);
	sy_env_timer_start(g->env, g->delay_ns, fg_fire, r);
}

static void fg_continue(struct fg *g, struct fg_sub *sub)
{
	char text[64];
	if (g->mode == FG_SILENT)
		return;
	if (g->mode == FG_EARLY && sub->inputs >= 1) {
		sub->open = false;
		fg_send(g, sub, true, "Session timed out.");
		return;
	}
	if (g->mode == FG_MENU && sub->inputs >= g->depth) {
		sub->open = false;
		snprintf(text, sizeof(text), "Done after %u", sub->inputs);
		fg_send(g, sub, true, text);
		return;
	}
	snprintf(text, sizeof(text), "Screen %u", sub->inputs);
	fg_send(g, sub, false, text);
}

/* "*123*1*2#": the inputs after the code. */
static uint32_t dialled_inputs(const char *d)
{
	uint32_t n = 0;
	for (const char *p = d + 1; *p; p++)
		n += *p == '*';
	return n;
}

static void fg_msg(struct fg *g, const struct ussd_msg *m)
{
	struct fg_sub *sub = fg_sub(g, m->msisdn);
	if (m->op == SMPP_USSD_PSSR_IND) {
		g->dials++;
		if (sub->open)
			g->bad_order++; /* a second dialogue on a busy handset */
		g->ref_changes += sub->ref != m->ref;
		*sub = (struct fg_sub){.ref = m->ref, .open = true, .inputs = dialled_inputs(m->text)};
		snprintf(sub->msisdn, sizeof(sub->msisdn), "%s", m->msisdn);
		snprintf(g->last_dialled, sizeof(g->last_dialled), "%.23s", m->text);
		g->dials_with_inputs += sub->inputs > 0;
		g->dialled_inputs += sub->inputs;
		fg_continue(g, sub);
		return;
	}
	if (!sub->open || sub->ref != m->ref) {
		g->stray++;
		return;
	}
	if (m->release) {
		g->releases++;
		sub->open = false;
		return;
	}
	if (m->op != SMPP_USSD_USSR_CONF || m->text[0] != '1' + (char)(sub->inputs % 9))
		g->bad_order++;
	g->inputs++;
	sub->inputs++;
	fg_continue(g, sub);
}

static void fg_request(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	struct fg *g = arg;
	struct ussd_msg m;
	uint32_t status = ESME_ROK;
	if (ussd_msg_from_pdu(&g->codec, req, &m, &status) != SY_OK) {
		smpp_session_respond(s, req->sequence_number, status, SY_STR(""));
		return;
	}
	smpp_session_respond(s, req->sequence_number, ESME_ROK, SY_STR(""));
	fg_msg(g, &m);
}

static uint32_t fg_auth(void *arg, struct smpp_session *s, struct sy_str sid, struct sy_str pwd, enum smpp_bind_type t,
			struct smpp_tbucket **tb)
{
	return sy_str_eq(sid, SY_STR("node")) && sy_str_eq(pwd, SY_STR("pw")) ? ESME_ROK : ESME_RINVPASWD;
}

static void fg_bound(void *arg, struct smpp_session *s, uint32_t status)
{
	struct fg *g = arg;
	if (status == ESME_ROK)
		g->sess = smpp_session_id(s);
}

static void fg_response(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			const struct smpp_pdu *resp)
{
}

static void fg_close(void *arg, struct smpp_session *s, enum smpp_close_reason why)
{
}

static const struct smpp_sess_ops fg_ops = {
    .auth = fg_auth,
    .on_bound = fg_bound,
    .on_request = fg_request,
    .on_response = fg_response,
    .on_close = fg_close,
};

/* ---- the world ---- */

struct world {
	struct sim *sim;
	struct sim_node *ngw, *nnet;
	struct fg g;
	struct ussd_net *net;
	struct ussd_net_cfg cfg;
	uint32_t logs, logs_ok;
	char last_log[512];
};

static struct world *world_new(enum ussd_ref_kind ref)
{
	struct world *w = calloc(1, sizeof(*w));
	w->sim = sim_create(7, EPOCH_NS);
	w->ngw = sim_node_add(w->sim, "gateway", "10.0.0.1");
	w->nnet = sim_node_add(w->sim, "ussd-node", "10.0.5.1");
	w->g.env = sim_node_env(w->ngw);
	w->g.codec = (struct ussd_codec_cfg){ref, 0x20};
	w->g.depth = 2;
	w->g.delay_ns = 10 * MS;
	struct smpp_pool_cfg pc = {.env = w->g.env, .sess_max = 8, .window = 1000, .ops = &fg_ops, .arg = &w->g};
	SY_ASSERT(smpp_pool_create(&pc, &w->g.pool) == SY_OK);
	w->cfg = (struct ussd_net_cfg){
	    .gateway = sim_node_addr(w->ngw, 2776),
	    .system_id = "node",
	    .password = "pw",
	    .ref = ref,
	    .rate_milli = 100000, /* 100/s */
	    .arrivals = USSD_NET_EVEN,
	    .start_ns = 200 * MS, /* after the bind */
	    .stop_ns = 1200 * MS,
	    .code_n = 1,
	    .path_n = 1,
	    .think = sy_dist_fixed(500 * MS),
	    .handset_timeout_ns = 20 * SEC,
	    .handsets = 1000,
	};
	w->cfg.codes[0] = (struct ussd_net_code){"*123#", 1, 0, 1};
	w->cfg.paths[0] = (struct ussd_net_path){"1*2", 1};
	return w;
}

static void world_start(struct world *w)
{
	char err[256] = "";
	enum sy_rc rc = ussd_net_create(sim_node_env(w->nnet), &w->cfg, &w->net, err, sizeof(err));
	if (rc != SY_OK)
		fail_msg("ussd_net_create: %s", err);
	if (w->cfg.mode == USSD_NET_BIND) {
		struct sy_addr a = sim_node_addr(w->ngw, 2776);
		assert_int_equal(smpp_pool_listen(w->g.pool, &a), SY_OK);
	}
}

static void world_run(struct world *w, uint64_t ns)
{
	sim_run_until(w->sim, sim_now(w->sim) + ns);
}

static void world_free(struct world *w)
{
	ussd_net_destroy(w->net);
	smpp_pool_destroy(w->g.pool);
	sim_destroy(w->sim);
	free(w);
}

static const struct ussd_net_stats *st(struct world *w)
{
	return ussd_net_stats(w->net);
}

/* ---- tests ---- */

static void on_log(void *arg, const struct ussd_net_session_log *l)
{
	struct world *w = arg;
	w->logs++;
	char *p = w->last_log;
	size_t cap = sizeof(w->last_log);
	int n = snprintf(p, cap, "%s %s %s:", l->code, l->dialled, ussd_net_end_name(l->end));
	for (uint32_t i = 0; i < l->step_n && n > 0 && (size_t)n < cap; i++)
		n += snprintf(p + n, cap - (size_t)n, " %s%s", l->steps[i].rx ? "<" : ">", l->steps[i].text);
	w->logs_ok += l->end == USSD_NET_END_COMPLETED && l->step_n == 6 && !l->truncated;
}

static void test_whole_paths(void **state)
{
	struct world *w = world_new(USSD_REF_ITS_SESSION_INFO);
	world_start(w);
	ussd_net_on_session_end(w->net, on_log, w);
	ussd_net_start(w->net);
	world_run(w, 10 * SEC);
	const struct ussd_net_stats *s = st(w);
	assert_int_equal(s->started, 100);
	assert_int_equal(s->ended[USSD_NET_END_COMPLETED], 100);
	assert_int_equal(s->inputs, 200);
	assert_int_equal(s->screens, 200);
	assert_int_equal(s->ends, 100);
	assert_int_equal(s->step.count, 300); /* dial and two inputs each */
	assert_true(sy_hist_percentile(&s->step, 50) >= 10 * MS);
	assert_int_equal(ussd_net_open(w->net), 0);
	assert_int_equal(w->g.dials, 100);
	assert_int_equal(w->g.inputs, 200);
	assert_int_equal(w->g.bad_order, 0);
	assert_int_equal(w->g.stray, 0);
	assert_int_equal(w->logs, 100);
	assert_int_equal(w->logs_ok, 100);
	assert_string_equal(w->last_log, "*123# *123# completed: >*123# <Screen 0 >1 <Screen 1 >2 <Done after 2");
	world_free(w);
}

static void test_dialled_inputs(void **state)
{
	struct world *w = world_new(USSD_REF_ITS_SESSION_INFO);
	w->g.depth = 3;
	w->cfg.paths[0] = (struct ussd_net_path){"1*2#3", 1};
	world_start(w);
	ussd_net_start(w->net);
	world_run(w, 10 * SEC);
	const struct ussd_net_stats *s = st(w);
	assert_int_equal(s->ended[USSD_NET_END_COMPLETED], 100);
	assert_int_equal(s->inputs, 100);
	assert_int_equal(w->g.dials_with_inputs, 100);
	assert_int_equal(w->g.dialled_inputs, 200);
	assert_string_equal(w->g.last_dialled, "*123*1*2#");
	assert_int_equal(w->g.bad_order, 0);
	world_free(w);
}

static void test_abandon(void **state)
{
	struct world *w = world_new(USSD_REF_ITS_SESSION_INFO);
	w->cfg.abandon_ppm = 1000000;
	world_start(w);
	ussd_net_start(w->net);
	world_run(w, 10 * SEC);
	const struct ussd_net_stats *s = st(w);
	assert_int_equal(s->ended[USSD_NET_END_ABANDONED], 100);
	assert_int_equal(s->releases, 100);
	assert_int_equal(s->inputs, 0);
	assert_int_equal(w->g.releases, 100); /* the release op reached the gateway, same reference */
	assert_int_equal(w->g.stray, 0);
	assert_int_equal(ussd_net_open(w->net), 0);
	world_free(w);
}

static void test_partial_abandon(void **state)
{
	struct world *w = world_new(USSD_REF_ITS_SESSION_INFO);
	w->cfg.abandon_ppm = 200000;
	w->cfg.stop_ns = 10200 * MS; /* 1000 dialogues */
	world_start(w);
	ussd_net_start(w->net);
	world_run(w, 30 * SEC);
	const struct ussd_net_stats *s = st(w);
	uint64_t ab = s->ended[USSD_NET_END_ABANDONED], ok = s->ended[USSD_NET_END_COMPLETED];
	assert_int_equal(s->started, 1000);
	assert_int_equal(ab + ok, 1000);
	/* two screens each: 1 - 0.8^2 = 36% abandon */
	assert_true(ab > 300 && ab < 420);
	assert_int_equal(w->g.releases, ab);
	world_free(w);
}

static void test_no_answer(void **state)
{
	struct world *w = world_new(USSD_REF_ITS_SESSION_INFO);
	w->g.mode = FG_SILENT;
	world_start(w);
	ussd_net_start(w->net);
	world_run(w, 15 * SEC);
	assert_int_equal(st(w)->ended[USSD_NET_END_NO_ANSWER], 0);
	assert_int_equal(ussd_net_open(w->net), 100);
	world_run(w, 10 * SEC); /* past the 20 s handset timeout of the last one */
	assert_int_equal(st(w)->ended[USSD_NET_END_NO_ANSWER], 100);
	assert_int_equal(w->g.releases, 100);
	assert_int_equal(ussd_net_open(w->net), 0);
	world_free(w);
}

static void test_early_and_overrun(void **state)
{
	struct world *w = world_new(USSD_REF_USER_MESSAGE_REFERENCE);
	w->g.mode = FG_EARLY;
	world_start(w);
	ussd_net_start(w->net);
	world_run(w, 10 * SEC);
	assert_int_equal(st(w)->ended[USSD_NET_END_EARLY], 100);
	assert_int_equal(st(w)->releases, 0);
	world_free(w);

	w = world_new(USSD_REF_USER_MESSAGE_REFERENCE);
	w->g.mode = FG_ENDLESS;
	world_start(w);
	ussd_net_start(w->net);
	world_run(w, 10 * SEC);
	assert_int_equal(st(w)->ended[USSD_NET_END_OVERRUN], 100);
	assert_int_equal(w->g.releases, 100);
	assert_int_equal(w->g.stray, 0);
	world_free(w);
}

/* Two handsets at 100 dialogues/s: never two dialogues on one, the rest
 * skipped; each new dialogue has the next reference of its handset. */
static void test_busy_handsets_and_refs(void **state)
{
	struct world *w = world_new(USSD_REF_USER_MESSAGE_REFERENCE);
	w->cfg.handsets = 2;
	w->cfg.msisdn = "+2547000000X";
	world_start(w);
	ussd_net_start(w->net);
	world_run(w, 10 * SEC);
	const struct ussd_net_stats *s = st(w);
	assert_int_equal(s->arrivals, 100);
	assert_true(s->started >= 2 && s->started < 10);
	assert_int_equal(s->skipped_busy + s->started, 100);
	assert_int_equal(s->ended[USSD_NET_END_COMPLETED], s->started);
	assert_int_equal(w->g.bad_order, 0);
	assert_int_equal(w->g.sub_n, 2);
	assert_int_equal(w->g.ref_changes, s->started); /* every dialogue a new reference */
	assert_string_equal(w->g.subs[0].msisdn, "25470000000");
	world_free(w);
}

static void gw_bind(struct world *w, const char *pw)
{
	struct smpp_session *s;
	struct smpp_bind_params bp = {SMPP_BIND_TRX, SY_STR("node"), sy_str_from(pw), SY_STR(""), {0}};
	struct sy_addr a = sim_node_addr(w->nnet, 2776);
	assert_int_equal(smpp_session_connect(w->g.pool, &a, &bp, &s), SY_OK);
}

static void test_accept_mode(void **state)
{
	struct world *w = world_new(USSD_REF_ITS_SESSION_INFO);
	w->cfg.mode = USSD_NET_ACCEPT;
	w->cfg.listen = sim_node_addr(w->nnet, 2776);
	world_start(w);
	ussd_net_start(w->net);
	gw_bind(w, "wrong");
	world_run(w, 500 * MS);
	assert_int_equal(ussd_net_bound(w->net), 0);
	assert_true(st(w)->bind_failures >= 1);
	assert_int_equal(st(w)->started, 0); /* nobody to carry a dialogue */
	assert_int_equal(st(w)->arrivals, 0); /* the arrivals' clock starts at the first bind */
	assert_int_equal(st(w)->skipped_unbound, 0);
	gw_bind(w, "pw");
	world_run(w, 10 * SEC);
	assert_int_equal(ussd_net_bound(w->net), 1);
	assert_true(st(w)->started > 0);
	assert_int_equal(st(w)->ended[USSD_NET_END_COMPLETED], st(w)->started);
	world_free(w);
}

static void test_link_lost(void **state)
{
	struct world *w = world_new(USSD_REF_ITS_SESSION_INFO);
	w->g.mode = FG_SILENT;
	world_start(w);
	ussd_net_start(w->net);
	world_run(w, 2 * SEC);
	assert_int_equal(ussd_net_open(w->net), 100);
	smpp_session_close(smpp_session_find(w->g.pool, w->g.sess));
	world_run(w, 100 * MS);
	assert_int_equal(st(w)->ended[USSD_NET_END_LINK_LOST], 100);
	assert_int_equal(ussd_net_open(w->net), 0);
	world_run(w, 5 * SEC); /* rebinds */
	assert_int_equal(ussd_net_bound(w->net), 1);
	world_free(w);
}

static void test_stop_all(void **state)
{
	struct world *w = world_new(USSD_REF_ITS_SESSION_INFO);
	w->g.mode = FG_SILENT;
	world_start(w);
	ussd_net_start(w->net);
	world_run(w, 2 * SEC);
	ussd_net_stop_all(w->net);
	world_run(w, 1 * SEC);
	assert_int_equal(st(w)->ended[USSD_NET_END_STOPPED], 100);
	assert_int_equal(w->g.releases, 100);
	assert_int_equal(ussd_net_open(w->net), 0);
	world_free(w);
}

static void test_bad_cfg(void **state)
{
	struct world *w = world_new(USSD_REF_ITS_SESSION_INFO);
	char err[128];
	struct ussd_net *n = NULL;
	w->cfg.msisdn = "2547XX";
	w->cfg.handsets = 1000;
	assert_int_equal(ussd_net_create(sim_node_env(w->nnet), &w->cfg, &n, err, sizeof(err)), SY_ERR_INVAL);
	assert_non_null(strstr(err, "X digits"));
	w->cfg.msisdn = NULL;
	w->cfg.paths[0].inputs = "1**2";
	assert_int_equal(ussd_net_create(sim_node_env(w->nnet), &w->cfg, &n, err, sizeof(err)), SY_ERR_INVAL);
	w->cfg.paths[0].inputs = "1";
	w->cfg.ref = USSD_REF_USER_MESSAGE_REFERENCE;
	w->cfg.release_op = USSD_NET_RELEASE_END_BIT;
	assert_int_equal(ussd_net_create(sim_node_env(w->nnet), &w->cfg, &n, err, sizeof(err)), SY_ERR_INVAL);
	world_free(w);
}

/* ---- against the real gateway (core/ussd) ---- */

static const char gw_conf[] = "[ussd]\nlisten = 10.0.0.1:2776\napp_timeout = 2s\n"
			      "[ussd-link op]\nmode = %s\nsystem_id = node\npassword = pw\n%s"
			      "session_ref = %s\nrelease_op = 32\n"
			      "[ussd-service *123#]\nmenu = bank\n"
			      "[ussd-menu bank]\nstart = main\n"
			      "screen main = Welcome\\n1. Balance\\n2. Send\n"
			      "option main 1 = balance\noption main 2 = to\n"
			      "end balance = Your balance is 10 KES.\n"
			      "screen to = Number:\ninput to = amount\n"
			      "screen amount = Send to {input}. Amount:\ninput amount = confirm\n"
			      "screen confirm = Send {input}?\\n1. Yes\noption confirm 1 = sent\n"
			      "end sent = Done.\n";

struct gw_logs {
	uint32_t balance, sent, other;
	char bad[512];
};

static void gw_on_log(void *arg, const struct ussd_net_session_log *l)
{
	struct gw_logs *g = arg;
	const char *last = l->step_n ? l->steps[l->step_n - 1].text : "";
	if (l->end == USSD_NET_END_COMPLETED && strcmp(l->path, "1") == 0 && l->step_n == 4 &&
	    strcmp(last, "Your balance is 10 KES.") == 0 &&
	    strcmp(l->steps[1].text, "Welcome\n1. Balance\n2. Send") == 0)
		g->balance++;
	else if (l->end == USSD_NET_END_COMPLETED && l->step_n == 10 && strcmp(last, "Done.") == 0 &&
		 strcmp(l->steps[7].text, "Send 100?\n1. Yes") == 0 &&
		 strcmp(l->steps[5].text, "Send to 0722. Amount:") == 0)
		g->sent++;
	else if (g->other++ == 0)
		snprintf(g->bad, sizeof(g->bad), "%s %s end %s steps %u last '%s'", l->dialled, l->path,
			 ussd_net_end_name(l->end), l->step_n, last);
}

/* The handsets walk the gateway's own menu: the node binds to it (its
 * accept link), or accepts its bind; both reference kinds. */
static void real_gateway(enum ussd_net_mode mode, const char *ref)
{
	char text[2048], err[256] = "";
	bool node_binds = mode == USSD_NET_BIND;
	snprintf(text, sizeof(text), gw_conf, node_binds ? "accept" : "bind",
		 node_binds ? "" : "address = 10.0.5.1:2776\n", ref);
	struct scn *scn = NULL;
	if (scn_parse_string(text, "gw.scn", &scn, err, sizeof(err)) != SY_OK)
		fail_msg("%s", err);
	struct world *w = world_new(strcmp(ref, "its_session_info") == 0 ? USSD_REF_ITS_SESSION_INFO
									 : USSD_REF_USER_MESSAGE_REFERENCE);
	struct ussd *u = NULL;
	struct ussd_deps d = {.env = sim_node_env(w->ngw), .cfg = &scn->ussd};
	if (ussd_create(&d, &u, err, sizeof(err)) != SY_OK || ussd_start(u, err, sizeof(err)) != SY_OK)
		fail_msg("gateway: %s", err);
	w->cfg.mode = mode;
	w->cfg.listen = sim_node_addr(w->nnet, 2776);
	w->cfg.release_op = 32;
	w->cfg.start_ns = 2 * SEC; /* the gateway's bind retries start at 1 s */
	w->cfg.stop_ns = 3 * SEC;
	w->cfg.path_n = 2;
	w->cfg.paths[0] = (struct ussd_net_path){"1", 1};
	w->cfg.paths[1] = (struct ussd_net_path){"2*0722*100*1", 1};
	w->cfg.codes[0] = (struct ussd_net_code){"*123#", 1, 0, 2};
	char err2[256];
	assert_int_equal(ussd_net_create(sim_node_env(w->nnet), &w->cfg, &w->net, err2, sizeof(err2)), SY_OK);
	struct gw_logs g = {0};
	ussd_net_on_session_end(w->net, gw_on_log, &g);
	ussd_net_start(w->net);
	world_run(w, 20 * SEC);
	const struct ussd_net_stats *s = st(w);
	if (g.other != 0)
		fail_msg("%u dialogues went wrong, the first: %s", g.other, g.bad);
	assert_int_equal(s->started, 100);
	assert_int_equal(g.balance + g.sent, 100);
	assert_true(g.balance > 20 && g.sent > 20);
	assert_int_equal(ussd_stats(u)->completed, 100);
	assert_int_equal(ussd_stats(u)->active, 0);
	assert_int_equal(ussd_stats(u)->stray, 0);
	ussd_net_destroy(w->net);
	w->net = NULL;
	ussd_destroy(u);
	world_free(w);
	scn_free(scn);
}

static void test_real_gateway(void **state)
{
	real_gateway(USSD_NET_BIND, "its_session_info");
	real_gateway(USSD_NET_ACCEPT, "user_message_reference");
}

static void test_record_size(void **state)
{
	assert_true(ussd_net_sess_bytes() <= 96);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_paths),
	    cmocka_unit_test(test_dialled_inputs),
	    cmocka_unit_test(test_abandon),
	    cmocka_unit_test(test_partial_abandon),
	    cmocka_unit_test(test_no_answer),
	    cmocka_unit_test(test_early_and_overrun),
	    cmocka_unit_test(test_busy_handsets_and_refs),
	    cmocka_unit_test(test_accept_mode),
	    cmocka_unit_test(test_link_lost),
	    cmocka_unit_test(test_stop_all),
	    cmocka_unit_test(test_bad_cfg),
	    cmocka_unit_test(test_real_gateway),
	    cmocka_unit_test(test_record_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
