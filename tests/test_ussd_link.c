/* test_ussd_link.c: the gateway's SMPP links (core/ussd/link.c) over the
 * simulator's streams, against a test node: a client smpp_pool binding to
 * the gateway (accept mode) or a server pool the gateway binds to (bind
 * mode). The engine's half is this file's recorder, reached through the
 * ussd_links_cfg callbacks. Virtual time, so backoffs are exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/smpp/session.h"
#include "core/ussd/ussd_int.h"
#include "sim/sim.h"

#define GW_IP	"10.0.0.1"
#define NODE_IP "10.0.0.2"
#define RX_MAX	512

/* The operator's USSD node, as the test plays it. */
struct node {
	struct smpp_pool *pool;
	struct ussd_codec_cfg codec;
	bool hold;	  /* keep submit_sm unanswered (window tests) */
	bool refuse_bind; /* server mode: refuse every bind */
	uint32_t auths, bound, bound_status, closes;
	enum smpp_close_reason close_why;
	struct smpp_session *sess; /* the last bound session */
	struct ussd_msg rx[RX_MAX];
	uint32_t nrx, rx_bad;
	uint32_t held_seq[RX_MAX], nheld;
	uint32_t resp_status[64], nresp;
};

struct world {
	struct sim *sim;
	struct sim_node *gw_sn, *node_sn;
	struct ussd_cfg cfg;
	struct ussd_stats st;
	struct ussd_links *ls;
	/* the engine's side */
	uint32_t reply; /* status ussd__on_msg returns */
	struct ussd_msg got[64];
	uint16_t got_li[64];
	uint32_t ngot, downs, down_li;
	struct node node;
};

/* ---- the engine, recorded ---- */

static uint32_t eng_on_msg(struct ussd *u, uint16_t li, const struct ussd_msg *m)
{
	struct world *w = (struct world *)(void *)u;
	SY_ASSERT(w->ngot < SY_ARRAY_LEN(w->got));
	w->got[w->ngot] = *m;
	w->got_li[w->ngot++] = li;
	return w->reply;
}

static void eng_on_link_down(struct ussd *u, uint16_t li)
{
	struct world *w = (struct world *)(void *)u;
	w->downs++;
	w->down_li = li;
}

/* ---- the node ---- */

static uint32_t n_auth(void *arg, struct smpp_session *s, struct sy_str sid, struct sy_str pwd,
		       enum smpp_bind_type type, struct smpp_tbucket **tb)
{
	struct node *n = arg;
	n->auths++;
	if (n->refuse_bind || !sy_str_eq(sid, SY_STR("gateway")) || !sy_str_eq(pwd, SY_STR("gwpass")))
		return ESME_RBINDFAIL;
	return type == SMPP_BIND_TRX ? ESME_ROK : ESME_RINVBNDSTS;
}

static void n_bound(void *arg, struct smpp_session *s, uint32_t status)
{
	struct node *n = arg;
	n->bound++;
	n->bound_status = status;
	if (status == ESME_ROK)
		n->sess = s;
}

static void n_request(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	struct node *n = arg;
	uint32_t st;
	assert_int_equal(req->command_id, SMPP_SUBMIT_SM);
	SY_ASSERT(n->nrx < RX_MAX);
	if (ussd_msg_from_pdu(&n->codec, req, &n->rx[n->nrx], &st) == SY_OK)
		n->nrx++;
	else
		n->rx_bad++;
	if (n->hold)
		n->held_seq[n->nheld++] = req->sequence_number;
	else
		assert_int_equal(smpp_session_respond(s, req->sequence_number, ESME_ROK, SY_STR_NULL), SY_OK);
}

static void n_response(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
		       const struct smpp_pdu *resp)
{
	struct node *n = arg;
	SY_ASSERT(n->nresp < SY_ARRAY_LEN(n->resp_status));
	n->resp_status[n->nresp++] = resp != NULL ? resp->command_status : 0xDEAD;
}

static void n_close(void *arg, struct smpp_session *s, enum smpp_close_reason why)
{
	struct node *n = arg;
	n->closes++;
	n->close_why = why;
	if (s == n->sess)
		n->sess = NULL;
}

static const struct smpp_sess_ops node_ops = {
    .auth = n_auth,
    .on_bound = n_bound,
    .on_request = n_request,
    .on_response = n_response,
    .on_close = n_close,
};

/* ---- the world ---- */

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	w->sim = sim_create(7, 0);
	w->gw_sn = sim_node_add(w->sim, "gw", GW_IP);
	w->node_sn = sim_node_add(w->sim, "node", NODE_IP);
	ussd_cfg_defaults(&w->cfg);
	w->cfg.on = true;
	snprintf(w->cfg.listen, sizeof(w->cfg.listen), "%s:2776", GW_IP);
	w->node.codec = (struct ussd_codec_cfg){USSD_REF_ITS_SESSION_INFO, 0x20};
	return w;
}

static struct ussd_link_cfg *link_add(struct world *w, enum ussd_link_mode mode, const char *sid, const char *pwd)
{
	struct ussd_link_cfg *l = &w->cfg.links[w->cfg.link_n];
	snprintf(l->name, sizeof(l->name), "link%u", w->cfg.link_n);
	w->cfg.link_n++;
	l->mode = mode;
	snprintf(l->system_id, sizeof(l->system_id), "%s", sid);
	snprintf(l->password, sizeof(l->password), "%s", pwd);
	l->ref = USSD_REF_ITS_SESSION_INFO;
	l->release_op = 0x20;
	return l;
}

static void gw_start(struct world *w)
{
	char err[256] = "";
	struct ussd_links_cfg c = {.env = sim_node_env(w->gw_sn),
				   .cfg = &w->cfg,
				   .u = (struct ussd *)(void *)w,
				   .st = &w->st,
				   .on_msg = eng_on_msg,
				   .on_link_down = eng_on_link_down};
	assert_int_equal(ussd_links_create(&c, &w->ls, err, sizeof(err)), SY_OK);
	assert_int_equal(ussd_links_start(w->ls, err, sizeof(err)), SY_OK);
}

static void node_pool(struct world *w, bool server)
{
	struct smpp_pool_cfg pc = {.env = sim_node_env(w->node_sn), .ops = &node_ops, .arg = &w->node, .window = 50};
	assert_int_equal(smpp_pool_create(&pc, &w->node.pool), SY_OK);
	if (server) {
		struct sy_addr a = sim_node_addr(w->node_sn, 2775);
		assert_int_equal(smpp_pool_listen(w->node.pool, &a), SY_OK);
	}
}

static void run(struct world *w, uint64_t ns)
{
	sim_run_until(w->sim, sim_now(w->sim) + ns);
}

static void world_free(struct world *w)
{
	ussd_links_destroy(w->ls);
	if (w->node.pool != NULL)
		smpp_pool_destroy(w->node.pool);
	sim_destroy(w->sim);
	free(w);
}

/* The node binds to the gateway; returns its session (NULL if refused). */
static struct smpp_session *node_bind(struct world *w, const char *sid, const char *pwd, enum smpp_bind_type type)
{
	struct sy_addr gw = sim_node_addr(w->gw_sn, 2776);
	struct smpp_bind_params bp = {.type = type, .system_id = sy_str_from(sid), .password = sy_str_from(pwd)};
	struct smpp_session *s;
	uint32_t before = w->node.bound, closes = w->node.closes;
	assert_int_equal(smpp_session_connect(w->node.pool, &gw, &bp, &s), SY_OK);
	run(w, 100 * SY_NS_PER_MS);
	if (w->node.bound == before) {
		/* A blocked source's stream is closed when accepted, unanswered. */
		assert_int_equal(w->node.closes, closes + 1);
		w->node.bound_status = 0xDEAD;
		return NULL;
	}
	assert_int_equal(w->node.bound, before + 1);
	return w->node.bound_status == ESME_ROK ? s : NULL;
}

static void msg_set(struct ussd_msg *m, uint8_t op, uint16_t ref, const char *msisdn, const char *text)
{
	memset(m, 0, sizeof(*m));
	m->op = op;
	m->ref = ref;
	snprintf(m->msisdn, sizeof(m->msisdn), "%s", msisdn);
	snprintf(m->code, sizeof(m->code), "*123#");
	m->text_len = strlen(text);
	memcpy(m->text, text, m->text_len + 1);
}

static void node_send_pdu(struct world *w, struct smpp_session *s, const struct smpp_pdu *p)
{
	assert_int_equal(smpp_session_send(s, p, 0, NULL), SY_OK);
	run(w, 100 * SY_NS_PER_MS);
}

static void node_send(struct world *w, struct smpp_session *s, const struct ussd_msg *m)
{
	static uint8_t tbuf[2 * USSD_TEXT_UTF8_MAX];
	struct smpp_pdu p;
	assert_int_equal(ussd_msg_to_pdu(&w->node.codec, m, SMPP_DELIVER_SM, &p, tbuf, sizeof(tbuf)), SY_OK);
	node_send_pdu(w, s, &p);
}

static void msg_eq(const struct ussd_msg *a, const struct ussd_msg *b)
{
	assert_int_equal(a->op, b->op);
	assert_int_equal(a->ref, b->ref);
	assert_int_equal(a->release, b->release);
	assert_string_equal(a->msisdn, b->msisdn);
	assert_string_equal(a->code, b->code);
	assert_string_equal(a->text, b->text);
}

/* ---- accept mode ---- */

/* The node binds, dials: the engine gets the PSSR indication and its status
 * goes back in the deliver_sm_resp; the engine's USSR request reaches the
 * node as a submit_sm. */
static void test_accept_dialogue(void **state)
{
	struct world *w = world_new();
	link_add(w, USSD_LINK_ACCEPT, "opnode", "s3cret");
	gw_start(w);
	node_pool(w, false);
	struct smpp_session *s = node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX);
	assert_non_null(s);
	assert_int_equal(w->st.links_up, 1);
	assert_int_equal(w->st.binds_ok, 1);
	struct ussd_msg m, r;
	msg_set(&m, SMPP_USSD_PSSR_IND, 0x2A, "447700900123", "*123#");
	node_send(w, s, &m);
	assert_int_equal(w->ngot, 1);
	assert_int_equal(w->got_li[0], 0);
	msg_eq(&w->got[0], &m);
	assert_int_equal(w->node.nresp, 1);
	assert_int_equal(w->node.resp_status[0], ESME_ROK);
	assert_int_equal(w->st.rx_msgs, 1);
	/* The engine's status is the response's. */
	w->reply = ESME_RMSGQFUL;
	node_send(w, s, &m);
	assert_int_equal(w->node.resp_status[1], ESME_RMSGQFUL);
	/* Gateway -> node. */
	msg_set(&r, SMPP_USSD_USSR_REQ, 0x2A, "447700900123", "1. Balance\n2. Top up");
	assert_int_equal(ussd_link_send(w->ls, 0, &r), SY_OK);
	run(w, 100 * SY_NS_PER_MS);
	assert_int_equal(w->node.nrx, 1);
	msg_eq(&w->node.rx[0], &r);
	assert_int_equal(w->st.tx_msgs, 1);
	/* The handset's release (end bit). */
	w->reply = ESME_ROK;
	msg_set(&m, SMPP_USSD_USSR_CONF, 0x2A, "447700900123", "");
	m.release = true;
	node_send(w, s, &m);
	assert_true(w->got[2].release);
	world_free(w);
}

/* What does not decode is answered with the codec's status and counted;
 * a submit_sm from the node is refused (it is the gateway's direction). */
static void test_accept_bad_requests(void **state)
{
	struct world *w = world_new();
	link_add(w, USSD_LINK_ACCEPT, "opnode", "s3cret");
	gw_start(w);
	node_pool(w, false);
	struct smpp_session *s = node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX);
	struct smpp_pdu p;
	smpp_pdu_init(&p, SMPP_DELIVER_SM, 0);
	p.src = (struct smpp_addr){1, 1, SY_STR("447700900123")};
	p.dst = (struct smpp_addr){0, 0, SY_STR("*123#")};
	p.tlv.present = SMPP_TLV_ITS_SESSION_INFO; /* no ussd_service_op */
	node_send_pdu(w, s, &p);
	p.tlv.present |= SMPP_TLV_USSD_SERVICE_OP;
	p.tlv.ussd_service_op = 0x44;
	node_send_pdu(w, s, &p);
	p.command_id = SMPP_SUBMIT_SM;
	p.tlv.ussd_service_op = SMPP_USSD_PSSR_IND;
	node_send_pdu(w, s, &p);
	assert_int_equal(w->node.nresp, 3);
	assert_int_equal(w->node.resp_status[0], ESME_RMISSINGOPTPARAM);
	assert_int_equal(w->node.resp_status[1], ESME_RINVOPTPARAMVAL);
	assert_int_equal(w->node.resp_status[2], ESME_RINVCMDID);
	assert_int_equal(w->st.rx_bad, 3);
	assert_int_equal(w->ngot, 0);
	/* The session is still good. */
	struct ussd_msg m;
	msg_set(&m, SMPP_USSD_PSSR_IND, 1, "447700900124", "*123#");
	node_send(w, s, &m);
	assert_int_equal(w->ngot, 1);
	world_free(w);
}

/* A wrong password, an unknown system_id: the same ESME_RBINDFAIL, the
 * source blocked with doubling backoff (even the right password waits). */
static void test_accept_refused(void **state)
{
	struct world *w = world_new();
	link_add(w, USSD_LINK_ACCEPT, "opnode", "s3cret");
	gw_start(w);
	node_pool(w, false);
	assert_null(node_bind(w, "opnode", "wrong", SMPP_BIND_TRX));
	assert_int_equal(w->node.bound_status, ESME_RBINDFAIL);
	run(w, 1100 * SY_NS_PER_MS); /* first backoff: 1 s */
	assert_null(node_bind(w, "nosuch", "s3cret", SMPP_BIND_TRX));
	assert_int_equal(w->node.bound_status, ESME_RBINDFAIL);
	assert_int_equal(w->st.binds_failed, 2);
	/* Blocked for 2 s now: 1.1 s later even the right password's stream
	 * is closed unanswered. */
	run(w, 1000 * SY_NS_PER_MS);
	assert_null(node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX));
	assert_int_equal(w->node.bound_status, 0xDEAD);
	assert_int_equal(w->st.links_up, 0);
	run(w, 1000 * SY_NS_PER_MS);
	assert_non_null(node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX));
	assert_int_equal(w->st.links_up, 1);
	assert_int_equal(w->st.binds_failed, 2);
	assert_int_equal(w->ngot, 0);
	world_free(w);
}

/* Only transceivers bind, at most `binds` per link; neither is a failed
 * login (no backoff). */
static void test_accept_bind_cap_and_type(void **state)
{
	struct world *w = world_new();
	link_add(w, USSD_LINK_ACCEPT, "opnode", "s3cret")->binds = 2;
	gw_start(w);
	node_pool(w, false);
	assert_null(node_bind(w, "opnode", "s3cret", SMPP_BIND_TX));
	assert_non_null(node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX));
	assert_non_null(node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX));
	assert_null(node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX));
	assert_int_equal(w->st.links_up, 2);
	assert_int_equal(w->st.binds_ok, 2);
	assert_int_equal(w->st.binds_failed, 2);
	world_free(w);
}

/* ---- raw streams: never bind ---- */

struct raw {
	uint32_t opened, closed;
};
static void raw_open(void *arg, struct sy_stream *s)
{
	((struct raw *)arg)->opened++;
}
static void raw_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
}
static void raw_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	((struct raw *)arg)->closed++;
}
static const struct sy_stream_cbs raw_cbs = {.on_open = raw_open, .on_data = raw_data, .on_close = raw_close};

/* A stream that never binds is closed after bind_timeout; a source holds
 * at most conns_per_source streams. */
static void test_accept_guard_streams(void **state)
{
	struct world *w = world_new();
	link_add(w, USSD_LINK_ACCEPT, "opnode", "s3cret");
	w->cfg.guard.conns_per_source = 2;
	w->cfg.guard.bind_timeout_ns = 3 * SY_NS_PER_S;
	gw_start(w);
	struct raw r = {0};
	struct sy_addr gw = sim_node_addr(w->gw_sn, 2776);
	struct sy_stream *st[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(sy_env_stream_connect(sim_node_env(w->node_sn), &gw, &raw_cbs, &r, &st[i]), SY_OK);
	run(w, 100 * SY_NS_PER_MS);
	assert_int_equal(r.closed, 1); /* the third, at once */
	run(w, 2 * SY_NS_PER_S);
	assert_int_equal(r.closed, 1);
	run(w, 2 * SY_NS_PER_S);
	assert_int_equal(r.closed, 3); /* bind timeout */
	world_free(w);
}

/* ---- the window and the queue ---- */

static void send_n(struct world *w, uint32_t from, uint32_t n, enum sy_rc want)
{
	for (uint32_t i = from; i < from + n; i++) {
		struct ussd_msg m;
		char text[64];
		snprintf(text, sizeof(text), "screen %u %.*s", i, (int)(i % 40),
			 "........................................");
		msg_set(&m, SMPP_USSD_USSR_REQ, (uint16_t)(i % 256), "447700900123", text);
		assert_int_equal(ussd_link_send(w->ls, 0, &m), want);
	}
}

static void rx_in_order(const struct node *n, uint32_t count)
{
	assert_int_equal(n->nrx, count);
	for (uint32_t i = 0; i < count; i++) {
		char want[32];
		snprintf(want, sizeof(want), "screen %u ", i);
		assert_memory_equal(n->rx[i].text, want, strlen(want));
		assert_int_equal(n->rx[i].ref, i % 256);
	}
}

/* The window full: messages wait in order, the queue's bound refuses the
 * rest, responses drain it. */
static void test_queue_window(void **state)
{
	struct world *w = world_new();
	struct ussd_link_cfg *l = link_add(w, USSD_LINK_ACCEPT, "opnode", "s3cret");
	l->window = 2;
	l->queue_max = 5;
	link_add(w, USSD_LINK_ACCEPT, "other", "pw2")->window = 10; /* the pool's window is 10: ours must hold */
	gw_start(w);
	node_pool(w, false);
	struct smpp_session *s = node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX);
	w->node.hold = true;
	uint64_t bytes0 = ussd_links_bytes(w->ls);
	send_n(w, 0, 7, SY_OK); /* 2 sent, 5 queued */
	assert_true(ussd_links_bytes(w->ls) >= bytes0 + 4096); /* the queue's first ring */
	send_n(w, 7, 1, SY_ERR_FULL);
	assert_int_equal(w->st.tx_queue_full, 1);
	run(w, 100 * SY_NS_PER_MS);
	assert_int_equal(w->node.nrx, 2);
	for (int round = 0; round < 10 && w->node.nheld > 0; round++) {
		uint32_t held = w->node.nheld;
		w->node.nheld = 0;
		for (uint32_t i = 0; i < held; i++)
			assert_int_equal(smpp_session_respond(s, w->node.held_seq[i], ESME_ROK, SY_STR_NULL), SY_OK);
		run(w, 100 * SY_NS_PER_MS);
	}
	rx_in_order(&w->node, 7);
	assert_int_equal(w->st.tx_msgs, 7);
	world_free(w);
}

/* Many messages through a window of 1 while more keep coming: the ring
 * wraps and grows, the order holds. */
static void test_queue_wraps_in_order(void **state)
{
	struct world *w = world_new();
	struct ussd_link_cfg *l = link_add(w, USSD_LINK_ACCEPT, "opnode", "s3cret");
	l->window = 1;
	gw_start(w);
	node_pool(w, false);
	assert_non_null(node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX));
	uint32_t sent = 0;
	for (int round = 0; round < 60; round++) {
		send_n(w, sent, 7, SY_OK);
		sent += 7;
		run(w, 3 * SY_NS_PER_MS);
	}
	run(w, 10 * SY_NS_PER_S);
	rx_in_order(&w->node, sent);
	world_free(w);
}

/* The last bound session going away: the engine hears of it, what waited
 * is dropped, sends fail until a node binds again. */
static void test_link_down(void **state)
{
	struct world *w = world_new();
	link_add(w, USSD_LINK_ACCEPT, "opnode", "s3cret")->window = 1;
	link_add(w, USSD_LINK_ACCEPT, "other", "pw2");
	gw_start(w);
	node_pool(w, false);
	struct smpp_session *a = node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX);
	struct smpp_session *b = node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX);
	w->node.hold = true;
	send_n(w, 0, 5, SY_OK);
	assert_int_equal(smpp_session_unbind(a), SY_OK);
	run(w, 100 * SY_NS_PER_MS);
	assert_int_equal(w->downs, 0); /* b is still bound */
	assert_int_equal(w->st.links_up, 1);
	smpp_session_close(b); /* the node vanishes */
	run(w, 100 * SY_NS_PER_MS);
	assert_int_equal(w->downs, 1);
	assert_int_equal(w->down_li, 0);
	assert_int_equal(w->st.links_up, 0);
	send_n(w, 5, 1, SY_ERR_STATE);
	/* Bound again, nothing old comes out. */
	w->node.hold = false;
	uint32_t before = w->node.nrx;
	assert_non_null(node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX));
	run(w, SY_NS_PER_S);
	assert_int_equal(w->node.nrx, before);
	send_n(w, 0, 1, SY_OK);
	run(w, 100 * SY_NS_PER_MS);
	assert_int_equal(w->node.nrx, before + 1);
	world_free(w);
}

/* Stop unbinds every session, and the engine hears nothing after it. */
static void test_stop(void **state)
{
	struct world *w = world_new();
	link_add(w, USSD_LINK_ACCEPT, "opnode", "s3cret");
	gw_start(w);
	node_pool(w, false);
	struct smpp_session *s = node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX);
	assert_non_null(s);
	ussd_links_stop(w->ls);
	run(w, SY_NS_PER_S);
	assert_int_equal(w->node.closes, 1);
	assert_int_equal(w->node.close_why, SMPP_CLOSE_PEER_UNBIND);
	assert_int_equal(w->downs, 0);
	assert_int_equal(w->st.links_up, 0);
	struct ussd_msg m;
	msg_set(&m, SMPP_USSD_USSR_REQ, 1, "447700900123", "x");
	assert_int_equal(ussd_link_send(w->ls, 0, &m), SY_ERR_STATE);
	/* Nobody binds any more. */
	assert_null(node_bind(w, "opnode", "s3cret", SMPP_BIND_TRX));
	world_free(w);
}

/* ---- bind mode ---- */

/* The gateway binds to the node, takes its deliver_sm, and binds again
 * after the node drops it. */
static void test_bind_mode_reconnects(void **state)
{
	struct world *w = world_new();
	w->cfg.listen[0] = '\0'; /* no accept links: nothing listens */
	struct ussd_link_cfg *l = link_add(w, USSD_LINK_BIND, "gateway", "gwpass");
	snprintf(l->address, sizeof(l->address), "%s:2775", NODE_IP);
	node_pool(w, true);
	gw_start(w);
	run(w, 100 * SY_NS_PER_MS);
	assert_int_equal(w->node.bound, 1);
	assert_int_equal(w->st.links_up, 1);
	struct ussd_msg m;
	msg_set(&m, SMPP_USSD_PSSR_IND, 9, "447700900125", "*123*1#");
	node_send(w, w->node.sess, &m);
	assert_int_equal(w->ngot, 1);
	msg_eq(&w->got[0], &m);
	assert_int_equal(w->node.resp_status[0], ESME_ROK);
	smpp_session_close(w->node.sess);
	w->node.sess = NULL;
	run(w, 100 * SY_NS_PER_MS);
	assert_int_equal(w->downs, 1);
	assert_int_equal(ussd_link_send(w->ls, 0, &m), SY_ERR_STATE);
	run(w, SY_NS_PER_S); /* the first backoff */
	assert_int_equal(w->node.bound, 2);
	assert_int_equal(w->st.links_up, 1);
	assert_int_equal(w->st.binds_ok, 2);
	msg_set(&m, SMPP_USSD_USSR_REQ, 9, "447700900125", "Menu");
	assert_int_equal(ussd_link_send(w->ls, 0, &m), SY_OK);
	run(w, 100 * SY_NS_PER_MS);
	assert_int_equal(w->node.nrx, 1);
	world_free(w);
}

/* A node that refuses the bind: attempts at 0, 1, 3, 7, 15, 31 s, then
 * every 30 s. */
static void test_bind_mode_backoff(void **state)
{
	struct world *w = world_new();
	w->cfg.listen[0] = '\0';
	struct ussd_link_cfg *l = link_add(w, USSD_LINK_BIND, "gateway", "gwpass");
	snprintf(l->address, sizeof(l->address), "%s:2775", NODE_IP);
	node_pool(w, true);
	w->node.refuse_bind = true;
	gw_start(w);
	static const struct {
		uint64_t at_s;
		uint32_t auths;
	} seen[] = {{0, 1}, {2, 2}, {4, 3}, {8, 4}, {16, 5}, {30, 5}, {32, 6}, {60, 6}, {62, 7}, {92, 8}};
	for (size_t i = 0; i < SY_ARRAY_LEN(seen); i++) {
		sim_run_until(w->sim, seen[i].at_s * SY_NS_PER_S + 500 * SY_NS_PER_MS);
		if (w->node.auths != seen[i].auths)
			fail_msg("at %llu s: %u binds, want %u", (unsigned long long)seen[i].at_s, w->node.auths,
				 seen[i].auths);
	}
	assert_int_equal(w->st.binds_failed, 8);
	assert_int_equal(w->st.links_up, 0);
	assert_int_equal(w->downs, 0); /* never up, never down */
	world_free(w);
}

/* ---- configuration ---- */

static void test_create_errors(void **state)
{
	struct world *w = world_new();
	struct ussd_links_cfg c = {.env = sim_node_env(w->gw_sn),
				   .cfg = &w->cfg,
				   .u = (struct ussd *)(void *)w,
				   .st = &w->st,
				   .on_msg = eng_on_msg,
				   .on_link_down = eng_on_link_down};
	char err[256];
	struct ussd_link_cfg *l = link_add(w, USSD_LINK_ACCEPT, "opnode", "");
	assert_int_equal(ussd_links_create(&c, &w->ls, err, sizeof(err)), SY_ERR_INVAL);
	assert_non_null(strstr(err, "password"));
	snprintf(l->password, sizeof(l->password), "x");
	w->cfg.listen[0] = '\0';
	assert_int_equal(ussd_links_create(&c, &w->ls, err, sizeof(err)), SY_ERR_INVAL);
	assert_non_null(strstr(err, "listen"));
	l->mode = USSD_LINK_BIND;
	snprintf(l->address, sizeof(l->address), "not an address");
	assert_int_equal(ussd_links_create(&c, &w->ls, err, sizeof(err)), SY_ERR_INVAL);
	assert_non_null(strstr(err, "address"));
	w->ls = NULL;
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accept_dialogue),
	    cmocka_unit_test(test_accept_bad_requests),
	    cmocka_unit_test(test_accept_refused),
	    cmocka_unit_test(test_accept_bind_cap_and_type),
	    cmocka_unit_test(test_accept_guard_streams),
	    cmocka_unit_test(test_queue_window),
	    cmocka_unit_test(test_queue_wraps_in_order),
	    cmocka_unit_test(test_link_down),
	    cmocka_unit_test(test_stop),
	    cmocka_unit_test(test_bind_mode_reconnects),
	    cmocka_unit_test(test_bind_mode_backoff),
	    cmocka_unit_test(test_create_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
