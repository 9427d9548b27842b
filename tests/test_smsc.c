/* test_smsc.c: the SMSC engine (core/smpp/smsc.h) in the simulator, between
 * a tiny ESME and a tiny upstream carrier written here on core/smpp/session.h:
 * durable acceptance, routing, receipts both ways, binds, throttling,
 * rejects, concatenation, HTTP submit, retries, expiry, crash and recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/live/live.h"
#include "core/store/vfs.h"
#include "core/smpp/session.h"
#include "core/smpp/smsc.h"
#include "core/smpp/text.h"
#include "core/store/smsq.h"
#include "core/store/smsq_log.h"
#include "peers/esme.h"
#include "peers/smsc_peer.h"
#include "sim/sim.h"

#define EPOCH_NS (1767225600ull * SY_NS_PER_S) /* 2026-01-01T00:00:00Z */
#define MS	 SY_NS_PER_MS
#define SEC	 SY_NS_PER_S
#define NSUB	 1200
#define NKEYS	 4096

/* ---- a tiny upstream carrier ---- */

struct tkey {
	char key[24];
	uint32_t submits;
	char uid[16];
};

struct trcpt {
	struct tcar *c;
	char uid[16];
	uint8_t state;
	sy_timer_id t;
};

struct tcar {
	struct sy_env *env;
	struct smpp_pool *pool;
	uint32_t fail_n, fail_status; /* the next fail_n submits get fail_status */
	bool no_receipts;
	uint8_t rcpt_state;
	uint64_t dlr_delay_ns;
	struct tkey keys[NKEYS];
	uint32_t nkeys, submits, accepted, dups, failed, udh, sar, payload;
	uint64_t sess[8];
	struct trcpt rc[NKEYS];
	uint32_t nrc, dlr_acked;
};

static uint32_t tc_auth(void *arg, struct smpp_session *s, struct sy_str sid, struct sy_str pwd, enum smpp_bind_type t,
			struct smpp_tbucket **tb)
{
	return sy_str_eq(sid, SY_STR("sw")) && sy_str_eq(pwd, SY_STR("pw")) ? ESME_ROK : ESME_RINVPASWD;
}

static void tc_bound(void *arg, struct smpp_session *s, uint32_t status)
{
	struct tcar *c = arg;
	for (int i = 0; i < 8; i++)
		if (c->sess[i] == 0 || smpp_session_find(c->pool, c->sess[i]) == NULL) {
			c->sess[i] = smpp_session_id(s);
			return;
		}
}

static void tc_rcpt_fire(void *arg);

static void tc_rcpt_send(struct trcpt *r)
{
	struct tcar *c = r->c;
	for (int i = 0; i < 8; i++) {
		struct smpp_session *s = c->sess[i] ? smpp_session_find(c->pool, c->sess[i]) : NULL;
		if (s == NULL || smpp_session_state(s) != SMPP_SS_BOUND)
			continue;
		char txt[200];
		int n = snprintf(
		    txt, sizeof(txt),
		    "id:%s sub:001 dlvrd:001 submit date:2601010000 done date:2601010000 stat:%s err:000 text:", r->uid,
		    smpp_dlr_stat_name(r->state));
		struct smpp_pdu p;
		smpp_pdu_init(&p, SMPP_DELIVER_SM, 0);
		p.esm_class = SMPP_ESM_TYPE_DELIVERY_RECEIPT;
		p.short_message = (struct sy_str){txt, (size_t)n};
		p.tlv.present = SMPP_TLV_RECEIPTED_MESSAGE_ID | SMPP_TLV_MESSAGE_STATE;
		p.tlv.receipted_message_id = sy_str_from(r->uid);
		p.tlv.message_state = r->state;
		if (smpp_session_send(s, &p, (uint64_t)(r - c->rc), NULL) == SY_OK)
			return;
	}
	r->t = sy_env_timer_start(c->env, 100 * MS, tc_rcpt_fire, r);
}

static void tc_rcpt_fire(void *arg)
{
	struct trcpt *r = arg;
	r->t = 0;
	tc_rcpt_send(r);
}

static struct tkey *tc_key(struct tcar *c, struct sy_str k)
{
	for (uint32_t i = 0; i < c->nkeys; i++)
		if (sy_str_eq(sy_str_from(c->keys[i].key), k))
			return &c->keys[i];
	SY_ASSERT(c->nkeys < NKEYS && k.len < 24);
	struct tkey *t = &c->keys[c->nkeys++];
	memcpy(t->key, k.p, k.len);
	return t;
}

static void tc_request(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	struct tcar *c = arg;
	if (req->command_id != SMPP_SUBMIT_SM) {
		smpp_session_respond(s, req->sequence_number, ESME_ROK, SY_STR_NULL);
		return;
	}
	c->submits++;
	if (c->fail_n > 0) {
		c->fail_n--;
		c->failed++;
		smpp_session_respond(s, req->sequence_number, c->fail_status, SY_STR_NULL);
		return;
	}
	struct sy_str key = SY_STR_NULL;
	for (uint16_t i = 0; i < req->tlv.unknown_n; i++)
		if (req->tlv.unknown[i].tag == SMSQ_TLV_IDEMPOTENCY_KEY)
			key = req->tlv.unknown[i].value;
	SY_ASSERT(key.len > 0);
	c->udh += (req->esm_class & SMPP_ESM_UDHI) != 0;
	c->sar += (req->tlv.present & SMPP_TLV_SAR_MSG_REF_NUM) != 0;
	c->payload += (req->tlv.present & SMPP_TLV_MESSAGE_PAYLOAD) != 0;
	struct tkey *k = tc_key(c, key);
	if (k->submits++ > 0) { /* dedupe: the first id, no second delivery */
		c->dups++;
		smpp_session_respond(s, req->sequence_number, ESME_ROK, sy_str_from(k->uid));
		return;
	}
	c->accepted++;
	snprintf(k->uid, sizeof(k->uid), "U%u", c->accepted);
	smpp_session_respond(s, req->sequence_number, ESME_ROK, sy_str_from(k->uid));
	if (c->no_receipts)
		return;
	struct trcpt *r = &c->rc[c->nrc++];
	*r = (struct trcpt){.c = c, .state = c->rcpt_state ? c->rcpt_state : SMPP_STATE_DELIVERED};
	memcpy(r->uid, k->uid, sizeof(r->uid));
	r->t = sy_env_timer_start(c->env, c->dlr_delay_ns, tc_rcpt_fire, r);
}

static void tc_response(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			const struct smpp_pdu *resp)
{
	struct tcar *c = arg;
	struct trcpt *r = &c->rc[tag];
	if (how == SMPP_REQ_RESP && resp->command_status == ESME_ROK)
		c->dlr_acked++;
	else
		r->t = sy_env_timer_start(c->env, 100 * MS, tc_rcpt_fire, r);
}

static const struct smpp_sess_ops tc_ops = {
    .auth = tc_auth, .on_bound = tc_bound, .on_request = tc_request, .on_response = tc_response};

/* ---- a tiny ESME ---- */

struct tsub {
	uint8_t st; /* 0 to send, 1 sent, 2 accepted, 3 rejected */
	uint32_t status;
	uint64_t sent_ns, resp_ns;
	char id[24];
	uint32_t rcpts;
	uint8_t rstate;
	bool text_ok, tlv_ok;
};

struct tesme {
	struct sy_env *env;
	struct smpp_pool *pool;
	struct smpp_session *s;
	struct sy_addr target;
	const char *sid, *pwd;
	uint32_t bound_status, binds, closes;
	bool reconnect;
	uint32_t n, scan;
	struct tsub subs[NSUB];
	const char *dst, *validity;
	uint8_t dc, reg;
	uint32_t resp_ok, resp_err, receipts, rcpt_unknown;
	uint32_t status_n[256];
	const char *check_path; /* when set, every accepted id must be in this file */
	uint32_t not_committed;
	uint32_t want_err; /* err: expected in failure receipts */
	/* When set: every message is these bytes, and its receipt's text:
	 * is want_text (UTF-8) instead of te_text's first 20 characters. */
	struct sy_str body;
	const char *want_text;
	sy_timer_id t_pump;
};

/* What a reader finds on disk now: a PUT (or COPY) record of id in one of
 * the queue log's segment files (core/store/smsq_log.h), read afresh. */
static bool stored_on_disk(const char *dir, uint64_t id)
{
	bool found = false;
	char path[300];
	for (uint32_t no = 1; !found && no < 64; no++) {
		snprintf(path, sizeof(path), "%s/%08u.log", dir, no);
		char *buf;
		size_t len;
		if (sy_env_file_slurp(sy_live_files(), path, 1u << 30, &buf, &len) != SY_OK)
			continue;
		const uint8_t *p = (const uint8_t *)buf + SMSQ_LOG_HDR_LEN, *end = (const uint8_t *)buf + len;
		struct smsq_rec rec;
		for (; p < end && smsq_log_decode(p, end, &rec) == SY_OK; p += rec.len)
			found |= rec.type != SMSQ_REC_MARK && rec.id == id;
		free(buf);
	}
	return found;
}

static void te_text(uint32_t i, char *out, size_t cap)
{
	snprintf(out, cap, "msg-%04u hello there, how are you", i);
}

static void te_pump(struct tesme *e)
{
	if (e->s == NULL || smpp_session_state(e->s) != SMPP_SS_BOUND)
		return;
	for (; e->scan < e->n; e->scan++) {
		struct tsub *t = &e->subs[e->scan];
		if (t->st != 0)
			continue;
		char text[64], dst[24];
		te_text(e->scan, text, sizeof(text));
		snprintf(dst, sizeof(dst), "%s%06u", e->dst, e->scan);
		struct smpp_pdu p;
		smpp_pdu_init(&p, SMPP_SUBMIT_SM, 0);
		p.src = (struct smpp_addr){1, 1, SY_STR("15550001")};
		p.dst = (struct smpp_addr){1, 1, sy_str_from(dst)};
		p.registered_delivery = e->reg;
		p.data_coding = e->dc;
		p.validity_period = sy_str_from(e->validity ? e->validity : "");
		p.short_message = e->body.len > 0 ? e->body : sy_str_from(text);
		if (smpp_session_send(e->s, &p, e->scan, NULL) != SY_OK)
			return;
		t->st = 1;
		t->sent_ns = sy_env_now_ns(e->env);
	}
}

static void te_pump_fire(void *arg)
{
	struct tesme *e = arg;
	e->t_pump = sy_env_timer_start(e->env, 10 * MS, te_pump_fire, e);
	te_pump(e);
}

static void te_connect(struct tesme *e)
{
	struct smpp_bind_params bp = {
	    .type = SMPP_BIND_TRX, .system_id = sy_str_from(e->sid), .password = sy_str_from(e->pwd)};
	SY_ASSERT(smpp_session_connect(e->pool, &e->target, &bp, &e->s) == SY_OK);
}

static void te_reconnect_fire(void *arg)
{
	te_connect(arg);
}

static void te_bound(void *arg, struct smpp_session *s, uint32_t status)
{
	struct tesme *e = arg;
	e->bound_status = status;
	e->binds += status == ESME_ROK;
	te_pump(e);
}

static void te_close(void *arg, struct smpp_session *s, enum smpp_close_reason why)
{
	struct tesme *e = arg;
	e->closes++;
	e->s = NULL;
	if (e->reconnect)
		sy_env_timer_start(e->env, 200 * MS, te_reconnect_fire, e);
}

static void te_response(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			const struct smpp_pdu *resp)
{
	struct tesme *e = arg;
	struct tsub *t = &e->subs[tag];
	if (how != SMPP_REQ_RESP) { /* not answered: send again */
		t->st = 0;
		e->scan = SY_MIN(e->scan, (uint32_t)tag);
		return;
	}
	t->status = resp->command_status;
	t->resp_ns = sy_env_now_ns(e->env);
	e->status_n[resp->command_status & 0xFF]++;
	if (resp->command_status != ESME_ROK) {
		t->st = 3;
		e->resp_err++;
		return;
	}
	t->st = 2;
	e->resp_ok++;
	SY_ASSERT(resp->message_id.len < sizeof(t->id));
	memcpy(t->id, resp->message_id.p, resp->message_id.len);
	if (e->check_path != NULL) {
		uint64_t id;
		if (smsq_id_parse(resp->message_id, &id) != SY_OK || !stored_on_disk(e->check_path, id))
			e->not_committed++;
	}
	te_pump(e);
}

static void te_receipt(struct tesme *e, const struct smpp_pdu *req)
{
	e->receipts++;
	struct sy_str rid = req->tlv.receipted_message_id;
	for (uint32_t i = 0; i < e->n; i++) {
		struct tsub *t = &e->subs[i];
		if (t->st != 2 || !sy_str_eq(sy_str_from(t->id), rid))
			continue;
		t->rcpts++;
		t->rstate = req->tlv.message_state;
		t->tlv_ok =
		    (req->tlv.present & SMPP_TLV_MESSAGE_STATE) && (req->tlv.present & SMPP_TLV_RECEIPTED_MESSAGE_ID);
		char text[64], want[256], errs[8];
		te_text(i, text, sizeof(text));
		snprintf(errs, sizeof(errs), "%03u", e->want_err);
		snprintf(want, sizeof(want),
			 "id:%s sub:001 dlvrd:%s submit date:2601010000 done date:2601010000 stat:%s err:%s text:%.20s",
			 t->id, t->rstate == SMPP_STATE_DELIVERED ? "001" : "000", smpp_dlr_stat_name(t->rstate), errs,
			 e->want_text != NULL ? "" : text);
		if (e->want_text != NULL)
			strncat(want, e->want_text, sizeof(want) - strlen(want) - 1);
		t->text_ok = sy_str_eq(req->short_message, sy_str_from(want));
		if (!t->text_ok)
			fprintf(stderr, "receipt text: %.*s\n   want: %s\n", (int)req->short_message.len,
				req->short_message.p, want);
		return;
	}
	e->rcpt_unknown++;
}

static void te_request(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	struct tesme *e = arg;
	if (req->command_id == SMPP_DELIVER_SM &&
	    (req->esm_class & SMPP_ESM_TYPE_MASK) == SMPP_ESM_TYPE_DELIVERY_RECEIPT)
		te_receipt(e, req);
	smpp_session_respond(s, req->sequence_number, ESME_ROK, SY_STR_NULL);
}

static const struct smpp_sess_ops te_ops = {
    .on_bound = te_bound, .on_request = te_request, .on_response = te_response, .on_close = te_close};

/* ---- the world ---- */

struct world {
	struct sim *sim;
	struct sim_node *nsmsc, *nesme, *ncar;
	struct smsc_account_cfg accts[3];
	struct smsc_carrier_cfg car[2];
	struct smsc_cfg cfg;
	struct smsc *smsc;
	struct tcar *tc;
	struct tesme *te;
	char dir[128];
};

static void w_smsc_start(struct world *w)
{
	char err[256];
	enum sy_rc rc = smsc_create(&w->cfg, &w->smsc, err, sizeof(err));
	if (rc != SY_OK)
		fprintf(stderr, "smsc_create: %s\n", err);
	SY_ASSERT(rc == SY_OK);
}

static void w_on_crash(void *arg, struct sim_node *n)
{
	struct world *w = arg;
	smsc_destroy(w->smsc);
	w->smsc = NULL;
}

static void w_on_restart(void *arg, struct sim_node *n)
{
	w_smsc_start(arg);
}

static struct world *w_new(bool store, uint32_t esme_window)
{
	struct world *w = calloc(1, sizeof(*w));
	w->sim = sim_create(11, EPOCH_NS);
	w->nsmsc = sim_node_add(w->sim, "smsc", "10.0.0.1");
	w->nesme = sim_node_add(w->sim, "esme", "10.0.0.2");
	w->ncar = sim_node_add(w->sim, "carrier", "10.0.0.3");
	sim_node_set_hooks(w->nsmsc, w_on_crash, w_on_restart, w);
	w->accts[0] = (struct smsc_account_cfg){.name = "acme", .password = "secret", .smpp = true};
	w->accts[1] = (struct smsc_account_cfg){.name = "slow", .password = "pw", .tps = 10, .smpp = true};
	w->accts[2] = (struct smsc_account_cfg){.name = "callers", .password = "x", .count = 5};
	w->car[0] = (struct smsc_carrier_cfg){
	    .name = "up1", .prefix_n = 1, .system_id = "sw", .password = "pw", .binds = 2, .window = 50};
	strcpy(w->car[0].prefixes[0], "44");
	w->car[0].addr = sim_node_addr(w->ncar, 2775);
	w->cfg = (struct smsc_cfg){.env = sim_node_env(w->nsmsc),
				   .listen = sim_node_addr(w->nsmsc, 2775),
				   .accounts = w->accts,
				   .account_n = 3,
				   .carriers = w->car,
				   .carrier_n = 1,
				   .msgs_max = 4096,
				   .retry_base_ns = 100 * MS};
	if (store) {
		snprintf(w->dir, sizeof(w->dir), "/tmp/test_smsc.%d.XXXXXX", (int)getpid());
		SY_ASSERT(mkdtemp(w->dir) != NULL);
		w->cfg.store_dir = w->dir;
	}
	w->tc = calloc(1, sizeof(*w->tc));
	w->tc->env = sim_node_env(w->ncar);
	w->tc->dlr_delay_ns = 50 * MS;
	struct smpp_pool_cfg pc = {.env = w->tc->env, .ops = &tc_ops, .arg = w->tc, .in_window = 200};
	SY_ASSERT(smpp_pool_create(&pc, &w->tc->pool) == SY_OK);
	struct sy_addr ca = sim_node_addr(w->ncar, 2775);
	SY_ASSERT(smpp_pool_listen(w->tc->pool, &ca) == SY_OK);
	w->te = calloc(1, sizeof(*w->te));
	w->te->env = sim_node_env(w->nesme);
	w->te->target = sim_node_addr(w->nsmsc, 2775);
	w->te->sid = "acme";
	w->te->pwd = "secret";
	w->te->dst = "4477";
	w->te->reg = SMPP_REGDLV_SMSC_ALWAYS;
	struct smpp_pool_cfg ec = {.env = w->te->env, .ops = &te_ops, .arg = w->te, .window = esme_window};
	SY_ASSERT(smpp_pool_create(&ec, &w->te->pool) == SY_OK);
	return w;
}

static void w_run(struct world *w, uint64_t ns)
{
	sim_run_until(w->sim, sim_now(w->sim) + ns);
}

static void w_free(struct world *w)
{
	smsc_destroy(w->smsc);
	smpp_pool_destroy(w->te->pool);
	smpp_pool_destroy(w->tc->pool);
	sim_destroy(w->sim);
	if (w->dir[0] != '\0') {
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
		SY_ASSERT(system(cmd) == 0);
	}
	free(w->te);
	free(w->tc);
	free(w);
}

static void w_start_esme(struct world *w, uint32_t n)
{
	w->te->n = n;
	te_connect(w->te);
	w->te->t_pump = sy_env_timer_start(w->te->env, 10 * MS, te_pump_fire, w->te);
}

static uint32_t count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	uint32_t n = 0;
	for (int ch; (ch = fgetc(f)) != EOF;)
		n += ch == '\n';
	fclose(f);
	return n;
}

/* ---- tests ---- */

static void test_submit_1000(void **state)
{
	struct world *w = w_new(true, 100);
	w_smsc_start(w);
	char path[200];
	snprintf(path, sizeof(path), "%s/smsq", w->dir);
	w->te->check_path = path;
	w_start_esme(w, 1000);
	w_run(w, 20 * SEC);
	struct tesme *e = w->te;
	assert_int_equal(e->binds, 1);
	assert_int_equal(e->resp_ok, 1000);
	assert_int_equal(e->not_committed, 0); /* every resp came after its commit */
	assert_int_equal(w->tc->accepted, 1000);
	assert_int_equal(w->tc->nkeys, 1000);
	assert_int_equal(w->tc->dups, 0);
	for (uint32_t i = 0; i < 1000; i++) {
		assert_int_equal(e->subs[i].rcpts, 1);
		assert_int_equal(e->subs[i].rstate, SMPP_STATE_DELIVERED);
		assert_true(e->subs[i].text_ok);
		assert_true(e->subs[i].tlv_ok);
		if (i > 0) /* ids grow in arrival order */
			assert_true(strtoull(e->subs[i].id, NULL, 10) > strtoull(e->subs[i - 1].id, NULL, 10));
	}
	const struct smsc_stats *st = smsc_stats(w->smsc);
	assert_int_equal(st->submitted, 1000);
	assert_int_equal(st->accepted, 1000);
	assert_int_equal(st->messages, 1000);
	assert_int_equal(st->segments, 1000);
	assert_int_equal(st->routed[0], 1000);
	assert_int_equal(st->delivered, 1000);
	assert_int_equal(st->dlr_sent, 1000);
	assert_int_equal(st->dlr_pending, 0);
	assert_int_equal(st->in_flight, 0);
	assert_int_equal(st->mdrs, 1000);
	assert_int_equal(st->carrier_bound[0], 2);
	assert_int_equal(st->submit_resp.count, 1000);
	assert_true(st->submit_resp.min_ns > 0);
	assert_true(st->store_commits > 0 && st->store_commits < 1000); /* grouped */
	smsc_flush(w->smsc);
	snprintf(path, sizeof(path), "%s/mdrs.csv", w->dir);
	assert_int_equal(count_lines(path), 1001);
	w_free(w);
}

/* nodes = N (smsc_cluster.c): an instance without the cluster's ops is
 * refused; the account's instance is a fixed function of its name. */
static void nop_handoff(void *arg, uint32_t to, struct sy_stream *st, const uint8_t *pdu, size_t pdu_len,
			const uint8_t *rest, size_t rest_len)
{
}
static void nop_forward(void *arg, uint32_t to, const struct smsc_fwd_receipt *r)
{
}
static void nop_ack(void *arg, uint32_t to, uint64_t sess, uint32_t seq)
{
}

static void test_nodes_cfg(void **state)
{
	struct world *w = w_new(false, 0);
	struct smsc_node_ops half = {.handoff = nop_handoff, .forward = nop_forward};
	struct smsc_node_ops all = {.handoff = nop_handoff, .forward = nop_forward, .ack = nop_ack};
	char err[256];
	w->cfg.node_n = 2;
	assert_int_equal(smsc_create(&w->cfg, &w->smsc, err, sizeof(err)), SY_ERR_INVAL);
	assert_string_equal(err, "smsc: instance 0 of 2 needs the cluster's handoff, forward and ack");
	w->cfg.node_ops = &half;
	assert_int_equal(smsc_create(&w->cfg, &w->smsc, err, sizeof(err)), SY_ERR_INVAL);
	w->cfg.node_ops = &all;
	w->cfg.node_self = 2;
	assert_int_equal(smsc_create(&w->cfg, &w->smsc, err, sizeof(err)), SY_ERR_INVAL);
	assert_null(w->smsc);
	w->cfg.node_self = 1;
	assert_int_equal(smsc_create(&w->cfg, &w->smsc, err, sizeof(err)), SY_OK);
	w_free(w);
	/* FNV-1a mod n: the scenarios rely on "bank" -> 2nd of 2, 4th of 4, "app" -> 1st */
	assert_int_equal(smsc_node_of(SY_STR("bank"), 2), 1);
	assert_int_equal(smsc_node_of(SY_STR("bank"), 4), 3);
	assert_int_equal(smsc_node_of(SY_STR("app"), 2), 0);
	assert_int_equal(smsc_node_of(SY_STR("bank"), 1), 0);
	assert_int_equal(smsc_node_of(SY_STR_NULL, 3), (uint32_t)(14695981039346656037ull % 3));
	/* spread: 1,000 account names over 4 instances, each gets 200..300 */
	uint32_t per[4] = {0};
	for (int i = 0; i < 1000; i++) {
		char name[16];
		snprintf(name, sizeof(name), "acct%d", i);
		per[smsc_node_of(sy_str_from(name), 4)]++;
	}
	for (int k = 0; k < 4; k++)
		assert_in_range(per[k], 200, 300);
}

/* A receipt's text: is the message's first 20 characters, however many
 * bytes they take in UTF-8: 80 septets of Greek capital gammas (160 bytes of
 * UTF-8, more than the text buffer) and escapes (a euro sign is two
 * septets, three bytes). */
static void test_receipt_text_gsm(void **state)
{
	/* Each case: the lead bytes, then filler up to n septets. */
	static const struct {
		const char *lead;
		uint8_t fill;
		size_t n;
		const char *want;
	} cases[] = {
	    {"", 0x13, 80, "ΓΓΓΓΓΓΓΓΓΓΓΓΓΓΓΓΓΓΓΓ"},
	    {"\x1B\x65\x1B\x65\x1B\x65"
	     "a\x13",
	     0, 8, "€€€aΓ"},
	    {"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\x1B\x65", 0x13, 80, "bbbbbbbbbbbbbbbbbbbb"},
	    {"ccccccccccccccccccc\x1B\x65", 'd', 80, "ccccccccccccccccccc€"},
	    /* a septet above 0x7F anywhere in the first 80 octets: no text */
	    {"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\x80", 0, 80, ""},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		char body[80];
		size_t lead = strlen(cases[i].lead);
		SY_ASSERT(lead <= cases[i].n && cases[i].n <= sizeof(body));
		memset(body, cases[i].fill, sizeof(body));
		memcpy(body, cases[i].lead, lead);
		struct world *w = w_new(true, 100);
		w_smsc_start(w);
		w->te->body = (struct sy_str){body, cases[i].n};
		w->te->want_text = cases[i].want;
		w_start_esme(w, 3);
		w_run(w, 20 * SEC);
		for (uint32_t k = 0; k < 3; k++) {
			assert_int_equal(w->te->subs[k].rcpts, 1);
			if (!w->te->subs[k].text_ok)
				fail_msg("case %zu", i);
		}
		w_free(w);
	}
}

static void test_bind_auth(void **state)
{
	static const struct {
		const char *sid, *pwd;
		uint32_t want;
	} cases[] = {
	    {"acme", "secret", ESME_ROK},
	    {"acme", "wrong", ESME_RBINDFAIL},
	    {"nobody", "secret", ESME_RBINDFAIL}, /* the same status: names do not leak */
	    {"acme", "", ESME_RBINDFAIL},
	    {"callers", "x", ESME_RBINDFAIL}, /* a group account is not an SMPP account */
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct world *w = w_new(false, 10);
		w_smsc_start(w);
		w->te->sid = cases[i].sid;
		w->te->pwd = cases[i].pwd;
		te_connect(w->te);
		w_run(w, SEC);
		assert_int_equal(w->te->bound_status, cases[i].want);
		w_free(w);
	}
}

static void test_throttle(void **state)
{
	struct world *w = w_new(false, 100);
	w_smsc_start(w);
	w->te->sid = "slow";
	w->te->pwd = "pw";
	w_start_esme(w, 50);
	w_run(w, 50 * MS); /* the bucket holds 10; 50 ms refill half a token */
	assert_int_equal(w->te->resp_ok + w->te->resp_err, 50);
	assert_int_equal(w->te->resp_ok, 10);
	assert_int_equal(w->te->status_n[ESME_RTHROTTLED], 40);
	assert_int_equal(smsc_stats(w->smsc)->throttled, 40);
	w_free(w);
}

static void test_rejects(void **state)
{
	static const struct {
		const char *dst;
		uint8_t dc;
		const char *validity;
		uint32_t want;
	} cases[] = {
	    {"4477", 0, NULL, ESME_ROK},
	    {"99", 0, NULL, SMSC_STATUS_NO_ROUTE}, /* no carrier for 99 */
	    {"44a", 0, NULL, ESME_RINVDSTADR},
	    {"4477", 0x05, NULL, SMSC_ESME_RINVDCS & 0xFF},
	    {"4477", 0, "garbage", ESME_RINVEXPIRY},
	    {"4477", 0, "000000000010000R", ESME_ROK},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct world *w = w_new(false, 10);
		w_smsc_start(w);
		w->te->dst = cases[i].dst;
		w->te->dc = cases[i].dc;
		w->te->validity = cases[i].validity;
		w_start_esme(w, 3);
		w_run(w, SEC);
		assert_int_equal(w->te->status_n[cases[i].want], 3);
		assert_int_equal(smsc_stats(w->smsc)->rejected_by_status[cases[i].want], cases[i].want ? 3 : 0);
		w_free(w);
	}
}

/* Sends a PDU from the ESME outside the pump (concatenated parts). */
static void te_send_raw(struct tesme *e, struct smpp_pdu *p, uint32_t tag)
{
	e->subs[tag].st = 1;
	e->n = SY_MAX(e->n, tag + 1);
	e->scan = e->n;
	assert_int_equal(smpp_session_send(e->s, p, tag, NULL), SY_OK);
}

struct http_res {
	uint32_t calls, parts;
	enum sy_rc rc;
	uint64_t first;
};

static void http_done(void *arg, enum sy_rc rc, uint64_t first, uint32_t parts)
{
	struct http_res *r = arg;
	r->calls++;
	r->rc = rc;
	r->first = first;
	r->parts = parts;
}

static void test_long_messages(void **state)
{
	struct world *w = w_new(false, 10);
	w_smsc_start(w);
	te_connect(w->te);
	w_run(w, SEC);
	/* Three parts with a UDH (IEI 0), two with sar_ TLVs. */
	for (uint32_t k = 0; k < 5; k++) {
		uint8_t sm[40] = {0x05, 0x00, 0x03, 0x2A, 3, (uint8_t)(k + 1), 'a', 'b', 'c'};
		struct smpp_pdu p;
		smpp_pdu_init(&p, SMPP_SUBMIT_SM, 0);
		p.src = (struct smpp_addr){1, 1, SY_STR("1555")};
		p.dst = (struct smpp_addr){1, 1, SY_STR("447700")};
		if (k < 3) {
			p.esm_class = SMPP_ESM_UDHI;
			p.short_message = (struct sy_str){(const char *)sm, 9};
		} else {
			p.short_message = SY_STR("part");
			p.tlv.present =
			    SMPP_TLV_SAR_MSG_REF_NUM | SMPP_TLV_SAR_TOTAL_SEGMENTS | SMPP_TLV_SAR_SEGMENT_SEQNUM;
			p.tlv.sar_msg_ref_num = 7;
			p.tlv.sar_total_segments = 2;
			p.tlv.sar_segment_seqnum = (uint8_t)(k - 2);
		}
		te_send_raw(w->te, &p, k);
	}
	/* HTTP submits: 200 GSM characters (2 parts), 100 UCS2 ones (2 parts). */
	char gsm[201], ucs[301];
	memset(gsm, 'x', 200);
	gsm[200] = '\0';
	for (int i = 0; i < 100; i++)
		memcpy(ucs + 3 * i, "\xe2\x82\xac", 3); /* U+20AC is GSM (escape): make it UCS2 with a CJK char */
	memcpy(ucs, "\xe4\xb8\xad", 3);
	ucs[300] = '\0';
	struct http_res r1 = {0}, r2 = {0};
	struct smsc_text_req q1 = {.account = "acme",
				   .from = SY_STR("Shop"),
				   .to = SY_STR("+447701"),
				   .text = sy_str_from(gsm),
				   .done = http_done,
				   .arg = &r1};
	struct smsc_text_req q2 = q1;
	q2.text = sy_str_from(ucs);
	q2.arg = &r2;
	assert_int_equal(smsc_submit_text(w->smsc, &q1), SY_OK);
	assert_int_equal(smsc_submit_text(w->smsc, &q2), SY_OK);
	struct smsc_text_req bad = q1;
	bad.to = SY_STR("99123");
	assert_int_equal(smsc_submit_text(w->smsc, &bad), SY_DECLINED);
	bad.account = "nobody";
	assert_int_equal(smsc_submit_text(w->smsc, &bad), SY_ERR_NOTFOUND);
	w_run(w, 5 * SEC);
	assert_int_equal(w->te->resp_ok, 5);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r1.rc, SY_OK);
	assert_int_equal(r1.parts, 2);
	assert_int_equal(r2.parts, 2);
	assert_true(r1.first > 0 && r2.first > r1.first);
	const struct smsc_stats *st = smsc_stats(w->smsc);
	assert_int_equal(st->segments, 9);
	assert_int_equal(st->messages, 4);
	assert_int_equal(st->messages_complete, 4);
	assert_int_equal(st->http_submitted, 2);
	assert_int_equal(w->tc->accepted, 9);
	assert_int_equal(w->tc->udh, 7); /* 3 ESME parts + 4 HTTP parts */
	assert_int_equal(w->tc->sar, 2);
	assert_int_equal(st->delivered, 9);
	w_free(w);
}

static void test_upstream_errors(void **state)
{
	/* Temporary errors are retried with backoff; each key is delivered once. */
	struct world *w = w_new(false, 10);
	w_smsc_start(w);
	w->tc->fail_n = 6;
	w->tc->fail_status = ESME_RTHROTTLED;
	w_start_esme(w, 10);
	w_run(w, 10 * SEC);
	assert_int_equal(w->te->resp_ok, 10);
	assert_int_equal(w->tc->accepted, 10);
	assert_int_equal(w->tc->dups, 0);
	const struct smsc_stats *st = smsc_stats(w->smsc);
	assert_int_equal(st->upstream_retries, 6);
	assert_int_equal(st->delivered, 10);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(w->te->subs[i].rstate, SMPP_STATE_DELIVERED);
	w_free(w);

	/* A permanent error with no other carrier: UNDELIVERABLE and its receipt. */
	w = w_new(false, 10);
	w_smsc_start(w);
	w->tc->fail_n = 1000;
	w->tc->fail_status = ESME_RINVDSTADR;
	w->te->want_err = ESME_RINVDSTADR;
	w_start_esme(w, 4);
	w_run(w, 5 * SEC);
	st = smsc_stats(w->smsc);
	assert_int_equal(st->upstream_perm_errors, 4);
	assert_int_equal(st->rejected_final, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(w->te->subs[i].rcpts, 1);
		assert_int_equal(w->te->subs[i].rstate, SMPP_STATE_REJECTED);
		assert_true(w->te->subs[i].text_ok);
	}
	w_free(w);

	/* Temporary errors past attempts_max: UNDELIVERABLE. */
	w = w_new(false, 10);
	w->cfg.attempts_max = 3;
	w_smsc_start(w);
	w->tc->fail_n = 1000;
	w->tc->fail_status = ESME_RMSGQFUL;
	w->te->want_err = ESME_RMSGQFUL;
	w_start_esme(w, 2);
	w_run(w, 10 * SEC);
	st = smsc_stats(w->smsc);
	assert_int_equal(w->tc->submits, 6);
	assert_int_equal(st->undeliverable, 2);
	assert_int_equal(w->te->subs[0].rstate, SMPP_STATE_UNDELIVERABLE);
	assert_true(w->te->subs[0].text_ok);
	w_free(w);
}

static void test_expiry(void **state)
{
	/* The carrier accepts but never sends receipts: EXPIRED after validity + grace. */
	struct world *w = w_new(false, 10);
	w->cfg.receipt_grace_ns = 5 * SEC;
	w_smsc_start(w);
	w->tc->no_receipts = true;
	w->te->validity = "000000000010000R"; /* 10 s */
	w_start_esme(w, 5);
	w_run(w, 12 * SEC);
	assert_int_equal(smsc_stats(w->smsc)->expired, 0);
	w_run(w, 5 * SEC);
	assert_int_equal(smsc_stats(w->smsc)->expired, 5);
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(w->te->subs[i].rstate, SMPP_STATE_EXPIRED);
		assert_true(w->te->subs[i].text_ok);
	}
	w_free(w);

	/* No carrier to bind to: the messages wait in the FIFO, then expire. */
	w = w_new(false, 10);
	w->car[0].addr = sim_node_addr(w->ncar, 2999);
	w_smsc_start(w);
	w->te->validity = "000000000010000R";
	w_start_esme(w, 3);
	w_run(w, 11 * SEC);
	assert_int_equal(w->te->resp_ok, 3);
	assert_int_equal(smsc_stats(w->smsc)->expired, 3);
	assert_int_equal(w->te->subs[2].rstate, SMPP_STATE_EXPIRED);
	w_free(w);
}

static void test_receipt_waits_for_bind(void **state)
{
	/* Receipts owed while the ESME is away are sent when it binds again. */
	struct world *w = w_new(false, 10);
	w_smsc_start(w);
	w->tc->dlr_delay_ns = 2 * SEC;
	w_start_esme(w, 5);
	w_run(w, SEC);
	assert_int_equal(w->te->resp_ok, 5);
	smpp_session_close(w->te->s); /* vanishes without unbind */
	w->te->s = NULL;
	w_run(w, 3 * SEC);
	assert_int_equal(smsc_stats(w->smsc)->dlr_pending, 5);
	assert_int_equal(w->te->receipts, 0);
	te_connect(w->te);
	w_run(w, 2 * SEC);
	assert_int_equal(w->te->receipts, 5);
	assert_int_equal(smsc_stats(w->smsc)->dlr_pending, 0);
	assert_int_equal(smsc_stats(w->smsc)->dlr_sent, 5);
	w_free(w);

	/* The same across a crash: owed receipts are recovered from the store. */
	w = w_new(true, 10);
	w_smsc_start(w);
	w->tc->dlr_delay_ns = 2 * SEC;
	w_start_esme(w, 5);
	w_run(w, SEC);
	smpp_session_close(w->te->s);
	w->te->s = NULL;
	w_run(w, 3 * SEC);
	assert_int_equal(smsc_stats(w->smsc)->dlr_pending, 5);
	sim_node_crash(w->nsmsc);
	sim_node_restart(w->nsmsc);
	assert_int_equal(smsc_stats(w->smsc)->recovered_dlr, 5);
	assert_int_equal(smsc_stats(w->smsc)->recovered, 0);
	te_connect(w->te);
	w_run(w, 2 * SEC);
	assert_int_equal(w->te->receipts, 5);
	for (uint32_t i = 0; i < 5; i++)
		assert_true(w->te->subs[i].text_ok);
	assert_int_equal(smsc_stats(w->smsc)->dlr_pending, 0);
	assert_int_equal(w->tc->accepted, 5); /* nothing sent upstream again */
	w_free(w);
}

static void test_restart_exactly_once(void **state)
{
	struct world *w = w_new(true, 50);
	w_smsc_start(w);
	w->tc->dlr_delay_ns = 500 * MS;
	w->tc->fail_n = 300; /* some messages sit in retry at the crash */
	w->tc->fail_status = ESME_RTHROTTLED;
	w->te->reconnect = true;
	w_start_esme(w, 1000);
	w_run(w, 60 * MS); /* mid-stream: some stored, some in the batch, some upstream */
	uint32_t acked_before = w->te->resp_ok;
	assert_true(acked_before > 0 && acked_before < 1000);
	sim_node_crash(w->nsmsc);
	w_run(w, SEC);
	sim_node_restart(w->nsmsc);
	uint64_t recovered1 = smsc_stats(w->smsc)->recovered;
	assert_true(recovered1 > 0);
	w_run(w, 700 * MS); /* receipts are flowing: crash again */
	uint32_t rcpts_before = w->te->receipts;
	sim_node_crash(w->nsmsc);
	w_run(w, SEC);
	sim_node_restart(w->nsmsc);
	const struct smsc_stats *st = smsc_stats(w->smsc);
	fprintf(stderr,
		"restart: acked %u then %u receipts; recovered %llu then %llu (+%llu receipts owed); carrier dups %u\n",
		acked_before, rcpts_before, (unsigned long long)recovered1, (unsigned long long)st->recovered,
		(unsigned long long)st->recovered_dlr, w->tc->dups);
	w_run(w, 30 * SEC);
	struct tesme *e = w->te;
	assert_int_equal(e->resp_ok, 1000);
	assert_true(e->closes >= 2);
	/* Every acknowledged id reached the carrier exactly once (by key) and
	 * got its receipt (at least once). */
	for (uint32_t i = 0; i < 1000; i++) {
		struct tsub *t = &e->subs[i];
		assert_int_equal(t->st, 2);
		uint32_t found = 0;
		for (uint32_t k = 0; k < w->tc->nkeys; k++)
			if (strcmp(w->tc->keys[k].key, t->id) == 0)
				found++;
		assert_int_equal(found, 1);
		assert_true(t->rcpts >= 1);
		assert_int_equal(t->rstate, SMPP_STATE_DELIVERED);
	}
	/* Keys are unique: the carrier never delivered one twice. */
	assert_int_equal(w->tc->accepted, w->tc->nkeys);
	assert_int_equal(smsc_stats(w->smsc)->in_flight, 0);
	assert_int_equal(smsc_stats(w->smsc)->dlr_pending, 0);
	w_free(w);
}

/* The simulator's full peers (peers/): Poisson ESME traffic with long and
 * UCS2 messages against the simulated carrier, which counts keys. */
static void test_sim_peers(void **state)
{
	struct world *w = w_new(false, 10);
	w->car[0].addr = sim_node_addr(w->ncar, 2776);
	w_smsc_start(w);
	struct smsc_peer_cfg pc = {.name = "up1",
				   .listen = sim_node_addr(w->ncar, 2776),
				   .system_id = "sw",
				   .password = "pw",
				   .dlr_delay = sy_dist_fixed(200 * MS)};
	struct smsc_peer *peer;
	assert_int_equal(smsc_peer_create(sim_node_env(w->ncar), &pc, &peer), SY_OK);
	struct esme_cfg ec = {.target = sim_node_addr(w->nsmsc, 2775),
			      .system_id = "acme",
			      .password = "secret",
			      .binds = 2,
			      .window = 20,
			      .tps_milli = 500000,
			      .dest = {{"4477XXXXXXX", 1}},
			      .dest_n = 1,
			      .text_len_min = 20,
			      .text_len_max = 300,
			      .ucs2_ppm = 200000,
			      .registered_delivery = true,
			      .stop_ns = 2 * SEC};
	struct esme *es;
	assert_int_equal(esme_create(sim_node_env(w->nesme), &ec, &es), SY_OK);
	esme_start(es);
	w_run(w, 10 * SEC);
	const struct esme_stats *est = esme_stats(es);
	const struct smsc_peer_stats *pst = smsc_peer_stats(peer);
	const struct smsc_stats *st = smsc_stats(w->smsc);
	fprintf(stderr, "peers: %llu msgs, %llu segs accepted, %llu receipts, peer received %llu dups %llu\n",
		(unsigned long long)est->msgs_accepted, (unsigned long long)est->segs_accepted,
		(unsigned long long)est->rcpt_delivered, (unsigned long long)pst->received,
		(unsigned long long)pst->duplicates);
	assert_true(est->msgs_accepted > 500);
	assert_int_equal(est->segs_rejected, 0);
	assert_int_equal(est->segs_accepted, st->accepted);
	assert_int_equal(pst->received, est->segs_accepted);
	assert_int_equal(pst->duplicates, 0);
	assert_int_equal(est->rcpt_delivered, est->segs_accepted);
	assert_int_equal(est->rcpt_duplicate + est->rcpt_unknown + est->rcpt_bad, 0);
	assert_int_equal(esme_each_unreceipted(es, NULL, NULL), 0);
	assert_int_equal(st->messages, est->msgs_accepted);
	assert_true(est->msgs_multipart > 0);
	esme_destroy(es);
	smsc_peer_destroy(peer);
	w_free(w);
}

/* ---- fraud on submits (core/smpp/smsc_fraud.c) ---- */

/* The component on the SMSC's node, the rule "default" limiting each
 * account to 2 messages a minute with the action given. */
static struct fraud *fraud_on(struct world *w, enum fraud_action act)
{
	struct fraud_cfg c;
	struct fraud *f = NULL;
	char err[256];
	fraud_cfg_defaults(&c);
	c.on = true;
	c.accounts_max = 64;
	fraud_rule_defaults(&c.rules[0]);
	strcpy(c.rules[0].name, "default");
	c.rules[0].sms = (struct fraud_limit){.max = 2, .window_ns = 60 * SEC, .action = act};
	c.rule_n = 1;
	c.default_rule = 0;
	if (fraud_create(sim_node_env(w->nsmsc), &c, NULL, NULL, NULL, &f, err, sizeof(err)) != SY_OK)
		fail_msg("fraud_create: %s", err);
	w->cfg.fraud = f;
	return f;
}

/* Block: past the rule, submit_sm gets block_smpp (ESME_RSUBMITFAIL) and
 * POST /sms SY_ERR_STATE with the decision; throttle: ESME_RTHROTTLED. */
static void test_fraud_block_throttle(void **state)
{
	static const struct {
		enum fraud_action act;
		uint32_t status;
	} cases[] = {{FRAUD_BLOCK, ESME_RSUBMITFAIL}, {FRAUD_THROTTLE, ESME_RTHROTTLED}};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct world *w = w_new(false, 10);
		struct fraud *f = fraud_on(w, cases[i].act);
		w_smsc_start(w);
		w_start_esme(w, 5);
		w_run(w, 2 * SEC);
		assert_int_equal(w->te->resp_ok, 2);
		assert_int_equal(w->te->status_n[cases[i].status & 0xFF], 3);
		const struct smsc_stats *st = smsc_stats(w->smsc);
		assert_int_equal(cases[i].act == FRAUD_BLOCK ? st->fraud_blocked : st->fraud_throttled, 3);
		assert_int_equal(w->tc->accepted, 2); /* the refused never left */
		struct http_res r = {0};
		struct fraud_decision d = {0};
		struct smsc_text_req q = {.account = "acme",
					  .from = SY_STR("Shop"),
					  .to = SY_STR("+447701"),
					  .text = SY_STR("hi"),
					  .done = http_done,
					  .arg = &r,
					  .fraud = &d};
		assert_int_equal(smsc_submit_text(w->smsc, &q), cases[i].act == FRAUD_BLOCK ? SY_ERR_STATE : SY_AGAIN);
		assert_int_equal(d.action, cases[i].act);
		assert_string_equal(d.reason, "velocity.sms: 6 messages in 60s (max 2)");
		w_run(w, SEC);
		assert_int_equal(r.calls, 0);
		assert_int_equal(fraud_stats(f)->decisions, 6);
		w_free(w);
		fraud_destroy(f);
	}
}

/* Flag: every message goes on; the flagged ones' MDRs carry the decision
 * and its reason (submit_sm, and each part of a POST /sms). */
static void test_fraud_flag_mdr(void **state)
{
	struct world *w = w_new(true, 10);
	struct fraud *f = fraud_on(w, FRAUD_FLAG);
	w_smsc_start(w);
	w_start_esme(w, 3);
	w_run(w, 2 * SEC);
	assert_int_equal(w->te->resp_ok, 3);
	struct http_res r = {0};
	char text[200];
	memset(text, 'x', 199);
	text[199] = '\0';
	struct smsc_text_req q = {.account = "acme",
				  .from = SY_STR("Shop"),
				  .to = SY_STR("+447701"),
				  .text = sy_str_from(text),
				  .done = http_done,
				  .arg = &r};
	assert_int_equal(smsc_submit_text(w->smsc, &q), SY_OK);
	w_run(w, 5 * SEC);
	assert_int_equal(r.rc, SY_OK);
	assert_int_equal(r.parts, 2);
	assert_int_equal(smsc_flush(w->smsc), SY_OK);
	assert_int_equal(smsc_stats(w->smsc)->mdrs, 5);
	char path[200], line[1024];
	snprintf(path, sizeof(path), "%s/mdrs.csv", w->dir);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	uint32_t flagged = 0, plain = 0, n = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (n++ == 0)
			continue; /* the header */
		if (strstr(line, ",flag,velocity.sms: 3 messages in 60s (max 2)\n") != NULL ||
		    strstr(line, ",flag,velocity.sms: 4 messages in 60s (max 2)\n") != NULL)
			flagged++;
		else if (strstr(line, ",0,,\n") != NULL)
			plain++;
		else
			fail_msg("MDR: %s", line);
	}
	fclose(fp);
	assert_int_equal(flagged, 3); /* the third submit_sm, both parts of the POST */
	assert_int_equal(plain, 2);
	w_free(w);
	fraud_destroy(f);
}

/* Receipts reach the component: all undeliverable, so once 5 came back the
 * next message to that prefix is flagged by the receipt ratio (sms_pump.dlr),
 * naming the route. */
static void test_fraud_receipts(void **state)
{
	struct world *w = w_new(false, 10);
	struct fraud_cfg c;
	struct fraud *f = NULL;
	char err[256];
	fraud_cfg_defaults(&c);
	c.on = true;
	c.accounts_max = 64;
	c.sms.on = true;
	c.sms.prefixes_max = 1024;
	c.sms.dlr = (struct fraud_limit){.max = 5, .window_ns = 600 * SEC, .action = FRAUD_FLAG};
	if (fraud_create(sim_node_env(w->nsmsc), &c, NULL, NULL, NULL, &f, err, sizeof(err)) != SY_OK)
		fail_msg("fraud_create: %s", err);
	w->cfg.fraud = f;
	w->tc->rcpt_state = SMPP_STATE_UNDELIVERABLE;
	w_smsc_start(w);
	w_start_esme(w, 6);
	w_run(w, 2 * SEC);
	assert_int_equal(w->te->receipts, 6);
	assert_int_equal(fraud_stats(f)->fired[FRAUD_DET_SMS_PUMP], 0);
	w->te->n = 7; /* one more to the same prefix */
	w_run(w, 2 * SEC);
	assert_int_equal(w->te->resp_ok, 7); /* flag: it went on */
	assert_int_equal(fraud_stats(f)->fired[FRAUD_DET_SMS_PUMP], 1);
	assert_int_equal(fraud_stats(f)->by_action[FRAUD_FLAG], 1);
	w_free(w);
	fraud_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_submit_1000),
	    cmocka_unit_test(test_receipt_text_gsm),
	    cmocka_unit_test(test_bind_auth),
	    cmocka_unit_test(test_throttle),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_long_messages),
	    cmocka_unit_test(test_upstream_errors),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_receipt_waits_for_bind),
	    cmocka_unit_test(test_restart_exactly_once),
	    cmocka_unit_test(test_sim_peers),
	    cmocka_unit_test(test_fraud_block_throttle),
	    cmocka_unit_test(test_fraud_flag_mdr),
	    cmocka_unit_test(test_fraud_receipts),
	    cmocka_unit_test(test_nodes_cfg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
