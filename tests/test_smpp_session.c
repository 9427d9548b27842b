/* test_smpp_session.c: the SMPP session state machine (core/smpp/session.h)
 * on a fake stream env built over tests/testenv.h, where the test plays the
 * peer byte by byte, plus one end-to-end bind/submit over sim/ streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/smpp/session.h"
#include "core/rng.h"
#include "core/smpp/session_int.h"
#include "sim/sim.h"
#include "tests/testenv.h"

/* ---- a fake stream env: the test is the peer ---- */

#define FE_STREAMS_MAX 16

struct fstream {
	struct fenv *fe;
	struct sy_stream_cbs cbs;
	void *arg;
	bool open;	      /* the session has not closed it */
	uint8_t out[1 << 16]; /* what the session wrote */
	size_t out_len, out_rd;
	uint32_t fail_writes;
};

struct fenv {
	struct testenv te; /* first: ctx points here for both op sets */
	struct sy_env env;
	struct sy_env_ops ops;
	struct sy_stream_cbs lcbs;
	void *larg;
	bool listening;
	struct fstream st[FE_STREAMS_MAX];
	uint32_t nst;
};

static struct fstream *fs_new(struct fenv *fe, const struct sy_stream_cbs *cbs, void *arg)
{
	SY_ASSERT(fe->nst < FE_STREAMS_MAX);
	struct fstream *f = &fe->st[fe->nst++];
	memset(f, 0, sizeof(*f));
	f->fe = fe;
	f->cbs = *cbs;
	f->arg = arg;
	f->open = true;
	return f;
}

static enum sy_rc fe_listen(void *ctx, const struct sy_addr *local, const struct sy_stream_cbs *cbs, void *arg,
			    struct sy_listener **out)
{
	struct fenv *fe = ctx;
	fe->lcbs = *cbs;
	fe->larg = arg;
	fe->listening = true;
	*out = (struct sy_listener *)fe;
	return SY_OK;
}

static void fe_listener_close(void *ctx, struct sy_listener *l)
{
	((struct fenv *)ctx)->listening = false;
}

static enum sy_rc fe_connect(void *ctx, const struct sy_addr *remote, const struct sy_stream_cbs *cbs, void *arg,
			     struct sy_stream **out)
{
	*out = (struct sy_stream *)fs_new(ctx, cbs, arg);
	return SY_OK;
}

static enum sy_rc fe_write(void *ctx, struct sy_stream *s, const void *buf, size_t len)
{
	struct fstream *f = (struct fstream *)s;
	SY_ASSERT(f->open);
	if (f->fail_writes > 0) {
		f->fail_writes--;
		return SY_ERR_IO;
	}
	SY_ASSERT(f->out_len + len <= sizeof(f->out));
	memcpy(f->out + f->out_len, buf, len);
	f->out_len += len;
	return SY_OK;
}

static void fe_set_arg(void *ctx, struct sy_stream *s, void *arg)
{
	((struct fstream *)s)->arg = arg;
}

static size_t fe_queued(void *ctx, struct sy_stream *s)
{
	return 0;
}

static void fe_close(void *ctx, struct sy_stream *s)
{
	struct fstream *f = (struct fstream *)s;
	SY_ASSERT(f->open); /* closed twice */
	f->open = false;
}

static void fe_peer(void *ctx, struct sy_stream *s, struct sy_addr *out)
{
	*out = sy_addr_v4(10, 0, 0, 9, 4000);
}

static void fe_init(struct fenv *fe)
{
	memset(fe, 0, sizeof(*fe));
	testenv_init(&fe->te, 7);
	fe->ops = *fe->te.env.ops;
	fe->ops.stream_listen = fe_listen;
	fe->ops.listener_close = fe_listener_close;
	fe->ops.stream_connect = fe_connect;
	fe->ops.stream_write = fe_write;
	fe->ops.stream_set_arg = fe_set_arg;
	fe->ops.stream_queued = fe_queued;
	fe->ops.stream_close = fe_close;
	fe->ops.stream_peer = fe_peer;
	fe->env = (struct sy_env){.ops = &fe->ops, .ctx = &fe->te, .log_level = SY_LOG_WARN};
}

static struct fstream *fe_accept(struct fenv *fe)
{
	SY_ASSERT(fe->listening);
	struct fstream *f = fs_new(fe, &fe->lcbs, fe->larg);
	f->cbs.on_open(f->arg, (struct sy_stream *)f);
	return f;
}

static void fs_inject(struct fstream *f, const void *buf, size_t len)
{
	SY_ASSERT(f->open);
	f->cbs.on_data(f->arg, (struct sy_stream *)f, buf, len);
}

/* The next PDU the session wrote; header fields and message_id are kept. */
struct got {
	uint32_t cmd, status, seq;
	char text[70]; /* message_id or system_id */
};

static bool fs_next(struct fstream *f, struct got *g)
{
	size_t flen = 0;
	if (smpp_frame_len(f->out + f->out_rd, f->out_len - f->out_rd, &flen) != SY_OK)
		return false;
	struct smpp_pdu pdu;
	uint32_t st;
	enum sy_rc rc = smpp_pdu_decode(f->out + f->out_rd, f->out + f->out_rd + flen, &pdu, &st);
	SY_ASSERT(rc == SY_OK);
	f->out_rd += flen;
	memset(g, 0, sizeof(*g));
	g->cmd = pdu.command_id;
	g->status = pdu.command_status;
	g->seq = pdu.sequence_number;
	struct sy_str t = pdu.message_id.len ? pdu.message_id : pdu.system_id;
	if (t.len > 0)
		memcpy(g->text, t.p, SY_MIN(t.len, sizeof(g->text) - 1));
	return true;
}

static struct got fs_expect(struct fstream *f, uint32_t cmd, uint32_t status)
{
	struct got g;
	assert_true(fs_next(f, &g));
	assert_int_equal(g.cmd, cmd);
	assert_int_equal(g.status, status);
	return g;
}

static size_t enc(const struct smpp_pdu *pdu, uint8_t *buf, size_t cap)
{
	size_t n;
	SY_ASSERT(smpp_pdu_encode(pdu, buf, cap, &n) == SY_OK);
	return n;
}

static void inject_pdu(struct fstream *f, const struct smpp_pdu *pdu)
{
	uint8_t b[512];
	fs_inject(f, b, enc(pdu, b, sizeof(b)));
}

static void inject_hdr(struct fstream *f, uint32_t cmd, uint32_t status, uint32_t seq)
{
	uint8_t b[16];
	size_t n;
	SY_ASSERT(smpp_encode_header(b, sizeof(b), &n, cmd, status, seq) == SY_OK);
	fs_inject(f, b, n);
}

static struct smpp_pdu mk_bind(uint32_t cmd, uint32_t seq, const char *sid, const char *pwd)
{
	struct smpp_pdu p;
	smpp_pdu_init(&p, cmd, seq);
	p.system_id = sy_str_from(sid);
	p.password = sy_str_from(pwd);
	return p;
}

static struct smpp_pdu mk_submit(uint32_t seq, const char *to)
{
	struct smpp_pdu p;
	smpp_pdu_init(&p, SMPP_SUBMIT_SM, seq);
	p.src = (struct smpp_addr){1, 1, SY_STR("15550001")};
	p.dst = (struct smpp_addr){1, 1, sy_str_from(to)};
	p.short_message = SY_STR("hello");
	return p;
}

/* ---- the owner: records every callback ---- */

struct rec {
	struct smpp_tbucket *tb; /* handed to auth for account "acme" */
	bool auto_respond;	 /* answer submit_sm inside on_request */
	uint32_t auths, bound, bound_status;
	uint32_t nreq, req_cmd[4096], req_seq[4096];
	uint32_t nresp, resp_how[64], resp_seq[64], resp_status[64];
	uint64_t resp_tag[64];
	uint32_t nclose;
	enum smpp_close_reason close_why;
	uint64_t close_at_ns;
	struct fenv *fe;
};

static uint32_t r_auth(void *arg, struct smpp_session *s, struct sy_str sid, struct sy_str pwd,
		       enum smpp_bind_type type, struct smpp_tbucket **tb)
{
	struct rec *r = arg;
	r->auths++;
	if (!sy_str_eq(sid, SY_STR("acme")))
		return ESME_RINVSYSID;
	if (!sy_str_eq(pwd, SY_STR("secret")))
		return ESME_RINVPASWD;
	*tb = r->tb;
	return ESME_ROK;
}

static void r_bound(void *arg, struct smpp_session *s, uint32_t status)
{
	struct rec *r = arg;
	r->bound++;
	r->bound_status = status;
}

static void r_request(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	struct rec *r = arg;
	if (r->nreq < SY_ARRAY_LEN(r->req_cmd)) {
		r->req_cmd[r->nreq] = req->command_id;
		r->req_seq[r->nreq] = req->sequence_number;
	}
	r->nreq++;
	if (r->auto_respond)
		assert_int_equal(smpp_session_respond(s, req->sequence_number, ESME_ROK, SY_STR("m1")), SY_OK);
}

static void r_response(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
		       const struct smpp_pdu *resp)
{
	struct rec *r = arg;
	SY_ASSERT(r->nresp < SY_ARRAY_LEN(r->resp_how));
	assert_true((how == SMPP_REQ_RESP) == (resp != NULL));
	r->resp_how[r->nresp] = how;
	r->resp_seq[r->nresp] = seq;
	r->resp_tag[r->nresp] = tag;
	r->resp_status[r->nresp] = resp ? resp->command_status : 0;
	r->nresp++;
}

static void r_close(void *arg, struct smpp_session *s, enum smpp_close_reason why)
{
	struct rec *r = arg;
	r->nclose++;
	r->close_why = why;
	r->close_at_ns = r->fe ? r->fe->te.now_ns : 0;
}

static const struct smpp_sess_ops rec_ops = {
    .auth = r_auth,
    .on_bound = r_bound,
    .on_request = r_request,
    .on_response = r_response,
    .on_close = r_close,
};

/* A test world: fake env, recorder, pool listening. */
struct world {
	struct fenv fe;
	struct rec r;
	struct smpp_pool *pool;
	struct smpp_tbucket tb;
};

static struct world *world_new(const struct smpp_pool_cfg *over)
{
	struct world *w = calloc(1, sizeof(*w));
	SY_ASSERT(w != NULL);
	fe_init(&w->fe);
	w->r.fe = &w->fe;
	struct smpp_pool_cfg c = over ? *over : (struct smpp_pool_cfg){0};
	c.env = &w->fe.env;
	c.ops = &rec_ops;
	c.arg = &w->r;
	assert_int_equal(smpp_pool_create(&c, &w->pool), SY_OK);
	struct sy_addr a = sy_addr_v4(10, 0, 0, 1, 2775);
	assert_int_equal(smpp_pool_listen(w->pool, &a), SY_OK);
	return w;
}

static void world_free(struct world *w)
{
	smpp_pool_destroy(w->pool);
	testenv_free(&w->fe.te);
	free(w);
}

static struct smpp_session *sess_of(struct fstream *f)
{
	return f->arg;
}

/* Accepts a connection and binds it as acme/secret. */
static struct fstream *bound_server(struct world *w)
{
	struct fstream *f = fe_accept(&w->fe);
	struct smpp_pdu b = mk_bind(SMPP_BIND_TRANSCEIVER, 1, "acme", "secret");
	inject_pdu(f, &b);
	fs_expect(f, SMPP_BIND_TRANSCEIVER_RESP, ESME_ROK);
	assert_int_equal(smpp_session_state(sess_of(f)), SMPP_SS_BOUND);
	return f;
}

/* Connects a client session and completes its bind. */
static struct fstream *bound_client(struct world *w, struct smpp_session **out)
{
	struct smpp_bind_params bp = {.type = SMPP_BIND_TRX, .system_id = SY_STR("esme1"), .password = SY_STR("pw")};
	struct sy_addr a = sy_addr_v4(10, 0, 0, 2, 2775);
	assert_int_equal(smpp_session_connect(w->pool, &a, &bp, out), SY_OK);
	struct fstream *f = &w->fe.st[w->fe.nst - 1];
	assert_int_equal(smpp_session_state(*out), SMPP_SS_CONNECTING);
	f->cbs.on_open(f->arg, (struct sy_stream *)f);
	struct got g = fs_expect(f, SMPP_BIND_TRANSCEIVER, ESME_ROK);
	assert_string_equal(g.text, "esme1");
	assert_int_equal(smpp_session_state(*out), SMPP_SS_BINDING);
	uint8_t b[64];
	size_t n;
	assert_int_equal(
	    smpp_encode_bind_resp(b, sizeof(b), &n, SMPP_BIND_TRANSCEIVER_RESP, ESME_ROK, g.seq, SY_STR("carrier")),
	    SY_OK);
	fs_inject(f, b, n);
	assert_int_equal(smpp_session_state(*out), SMPP_SS_BOUND);
	assert_int_equal(w->r.bound_status, ESME_ROK);
	return f;
}

/* ---- bind ---- */

struct bind_case {
	const char *name;
	uint32_t cmd;
	const char *sid, *pwd;
	uint32_t want_status;
	enum smpp_sess_state want_state;
	enum smpp_bind_type want_type;
};

static const struct bind_case bind_cases[] = {
    {"trx ok", SMPP_BIND_TRANSCEIVER, "acme", "secret", ESME_ROK, SMPP_SS_BOUND, SMPP_BIND_TRX},
    {"tx ok", SMPP_BIND_TRANSMITTER, "acme", "secret", ESME_ROK, SMPP_SS_BOUND, SMPP_BIND_TX},
    {"rx ok", SMPP_BIND_RECEIVER, "acme", "secret", ESME_ROK, SMPP_SS_BOUND, SMPP_BIND_RX},
    {"wrong password", SMPP_BIND_TRANSCEIVER, "acme", "nope", ESME_RINVPASWD, SMPP_SS_OPEN, 0},
    {"unknown system_id", SMPP_BIND_TRANSMITTER, "evil", "secret", ESME_RINVSYSID, SMPP_SS_OPEN, 0},
};

static void test_bind_table(void **state)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(bind_cases); i++) {
		const struct bind_case *c = &bind_cases[i];
		struct world *w = world_new(NULL);
		struct fstream *f = fe_accept(&w->fe);
		struct smpp_pdu b = mk_bind(c->cmd, 77, c->sid, c->pwd);
		inject_pdu(f, &b);
		struct got g = fs_expect(f, c->cmd | SMPP_RESP_BIT, c->want_status);
		assert_int_equal(g.seq, 77);
		/* The codec leaves the body out of error responses. */
		assert_string_equal(g.text, c->want_status == ESME_ROK ? "switchyard" : "");
		assert_int_equal(smpp_session_state(sess_of(f)), c->want_state);
		assert_int_equal(w->r.bound, c->want_status == ESME_ROK ? 1 : 0);
		if (c->want_status == ESME_ROK) {
			assert_int_equal(smpp_session_bind_type(sess_of(f)), c->want_type);
			assert_true(sy_str_eq(smpp_session_system_id(sess_of(f)), SY_STR("acme")));
		}
		assert_true(f->open);
		world_free(w);
	}
}

static void test_bind_twice(void **state)
{
	struct world *w = world_new(NULL);
	struct fstream *f = bound_server(w);
	struct smpp_pdu b = mk_bind(SMPP_BIND_TRANSMITTER, 2, "acme", "secret");
	inject_pdu(f, &b);
	struct got g = fs_expect(f, SMPP_BIND_TRANSMITTER_RESP, ESME_RALYBND);
	assert_int_equal(g.seq, 2);
	assert_int_equal(w->r.auths, 1); /* not asked again */
	assert_int_equal(smpp_session_bind_type(sess_of(f)), SMPP_BIND_TRX);
	assert_int_equal(smpp_pool_stats(w->pool)->bind_bad_state, 1);
	world_free(w);
}

static void test_before_bind(void **state)
{
	struct world *w = world_new(NULL);
	struct fstream *f = fe_accept(&w->fe);
	struct smpp_pdu s = mk_submit(5, "4477");
	inject_pdu(f, &s);
	struct got g = fs_expect(f, SMPP_SUBMIT_SM_RESP, ESME_RINVBNDSTS);
	assert_int_equal(g.seq, 5);
	inject_hdr(f, SMPP_UNBIND, 0, 6);
	fs_expect(f, SMPP_UNBIND_RESP, ESME_RINVBNDSTS);
	inject_hdr(f, SMPP_ENQUIRE_LINK, 0, 7); /* allowed in any state */
	g = fs_expect(f, SMPP_ENQUIRE_LINK_RESP, ESME_ROK);
	assert_int_equal(g.seq, 7);
	assert_int_equal(w->r.nreq, 0);
	/* A failed bind leaves it open for another try; then it works. */
	struct smpp_pdu b = mk_bind(SMPP_BIND_TRANSCEIVER, 8, "acme", "bad");
	inject_pdu(f, &b);
	fs_expect(f, SMPP_BIND_TRANSCEIVER_RESP, ESME_RINVPASWD);
	b = mk_bind(SMPP_BIND_TRANSCEIVER, 9, "acme", "secret");
	inject_pdu(f, &b);
	fs_expect(f, SMPP_BIND_TRANSCEIVER_RESP, ESME_ROK);
	world_free(w);
}

static void test_bind_timeout(void **state)
{
	struct world *w = world_new(NULL);
	struct fstream *f = fe_accept(&w->fe);
	testenv_advance(&w->fe.te, 10 * SY_NS_PER_S - 1);
	assert_int_equal(w->r.nclose, 0);
	testenv_advance(&w->fe.te, 1);
	assert_int_equal(w->r.nclose, 1);
	assert_int_equal(w->r.close_why, SMPP_CLOSE_BIND_TIMEOUT);
	assert_false(f->open);
	assert_int_equal(smpp_pool_stats(w->pool)->sessions_active, 0);
	world_free(w);
}

static void test_rx_bind_refuses_submit(void **state)
{
	struct world *w = world_new(NULL);
	struct fstream *f = fe_accept(&w->fe);
	struct smpp_pdu b = mk_bind(SMPP_BIND_RECEIVER, 1, "acme", "secret");
	inject_pdu(f, &b);
	fs_expect(f, SMPP_BIND_RECEIVER_RESP, ESME_ROK);
	struct smpp_pdu s = mk_submit(2, "4477");
	inject_pdu(f, &s);
	fs_expect(f, SMPP_SUBMIT_SM_RESP, ESME_RINVBNDSTS);
	assert_int_equal(w->r.nreq, 0);
	world_free(w);
}

static void test_client_bind_rejected(void **state)
{
	struct world *w = world_new(NULL);
	struct smpp_session *s;
	struct smpp_bind_params bp = {.type = SMPP_BIND_TX, .system_id = SY_STR("esme1"), .password = SY_STR("pw")};
	struct sy_addr a = sy_addr_v4(10, 0, 0, 2, 2775);
	assert_int_equal(smpp_session_connect(w->pool, &a, &bp, &s), SY_OK);
	struct fstream *f = &w->fe.st[0];
	f->cbs.on_open(f->arg, (struct sy_stream *)f);
	struct got g = fs_expect(f, SMPP_BIND_TRANSMITTER, ESME_ROK);
	uint8_t buf[64];
	size_t n;
	smpp_encode_bind_resp(buf, sizeof(buf), &n, SMPP_BIND_TRANSMITTER_RESP, ESME_RINVPASWD, g.seq, SY_STR(""));
	fs_inject(f, buf, n);
	assert_int_equal(w->r.bound, 1);
	assert_int_equal(w->r.bound_status, ESME_RINVPASWD);
	assert_int_equal(w->r.close_why, SMPP_CLOSE_BIND_FAILED);
	assert_false(f->open);
	/* Over-long credentials are refused before connecting. */
	bp.password = SY_STR("ninechars");
	assert_int_equal(smpp_session_connect(w->pool, &a, &bp, &s), SY_ERR_INVAL);
	assert_int_equal(smpp_pool_stats(w->pool)->sessions_active, 0);
	world_free(w);
}

/* ---- requests and async responses ---- */

static void test_async_respond(void **state)
{
	struct world *w = world_new(NULL);
	struct fstream *f = bound_server(w);
	struct smpp_session *s = sess_of(f);
	uint64_t id = smpp_session_id(s);
	for (uint32_t q = 10; q < 13; q++) {
		struct smpp_pdu p = mk_submit(q, "4477");
		inject_pdu(f, &p);
	}
	assert_int_equal(w->r.nreq, 3);
	assert_int_equal(w->r.req_cmd[0], SMPP_SUBMIT_SM);
	assert_int_equal(smpp_session_unanswered(s), 3);
	struct got g;
	assert_false(fs_next(f, &g)); /* nothing answered yet */
	/* Later (a group commit), out of order, through the stable id. */
	testenv_advance(&w->fe.te, 5 * SY_NS_PER_MS);
	struct smpp_session *s2 = smpp_session_find(w->pool, id);
	assert_ptr_equal(s2, s);
	assert_int_equal(smpp_session_respond(s2, 11, ESME_ROK, SY_STR("msg-11")), SY_OK);
	assert_int_equal(smpp_session_respond(s2, 10, ESME_RSYSERR, SY_STR_NULL), SY_OK);
	assert_int_equal(smpp_session_respond(s2, 11, ESME_ROK, SY_STR("again")), SY_ERR_NOTFOUND);
	g = fs_expect(f, SMPP_SUBMIT_SM_RESP, ESME_ROK);
	assert_int_equal(g.seq, 11);
	assert_string_equal(g.text, "msg-11");
	g = fs_expect(f, SMPP_SUBMIT_SM_RESP, ESME_RSYSERR);
	assert_int_equal(g.seq, 10);
	assert_int_equal(smpp_session_unanswered(s), 1);
	/* The peer leaves; the stale id finds nothing even after reuse. */
	f->cbs.on_close(f->arg, (struct sy_stream *)f, SY_OK);
	assert_int_equal(w->r.close_why, SMPP_CLOSE_PEER);
	assert_null(smpp_session_find(w->pool, id));
	struct fstream *f2 = fe_accept(&w->fe);
	assert_ptr_equal(sess_of(f2), s); /* same slot */
	assert_null(smpp_session_find(w->pool, id));
	assert_non_null(smpp_session_find(w->pool, smpp_session_id(s)));
	world_free(w);
}

/* ---- window ---- */

static void test_window(void **state)
{
	struct smpp_pool_cfg c = {.window = 4};
	struct world *w = world_new(&c);
	struct smpp_session *s;
	struct fstream *f = bound_client(w, &s);
	struct smpp_pdu p = mk_submit(0, "4477");
	uint32_t seqs[5];
	for (int i = 0; i < 4; i++)
		assert_int_equal(smpp_session_send(s, &p, 100 + i, &seqs[i]), SY_OK);
	assert_int_equal(seqs[0], 2); /* the bind used 1 */
	assert_int_equal(seqs[3], 5);
	assert_int_equal(smpp_session_send(s, &p, 104, &seqs[4]), SY_AGAIN);
	assert_int_equal(smpp_pool_stats(w->pool)->window_full, 1);
	assert_int_equal(smpp_session_outstanding(s), 4);
	for (int i = 0; i < 4; i++) {
		struct got g = fs_expect(f, SMPP_SUBMIT_SM, ESME_ROK);
		assert_int_equal(g.seq, seqs[i]);
	}
	/* A response frees one slot, matched by sequence number, not order. */
	uint8_t b[64];
	size_t n;
	smpp_encode_submit_sm_resp(b, sizeof(b), &n, ESME_ROK, seqs[2], SY_STR("x1"));
	fs_inject(f, b, n);
	assert_int_equal(w->r.nresp, 1);
	assert_int_equal(w->r.resp_how[0], SMPP_REQ_RESP);
	assert_int_equal(w->r.resp_seq[0], seqs[2]);
	assert_int_equal(w->r.resp_tag[0], 102);
	assert_int_equal(smpp_session_send(s, &p, 104, &seqs[4]), SY_OK);
	assert_int_equal(smpp_session_send(s, &p, 105, NULL), SY_AGAIN);
	/* A generic_nack also completes a request; a stray response is counted. */
	inject_hdr(f, SMPP_GENERIC_NACK, ESME_RINVCMDID, seqs[0]);
	assert_int_equal(w->r.nresp, 2);
	assert_int_equal(w->r.resp_status[1], ESME_RINVCMDID);
	smpp_encode_submit_sm_resp(b, sizeof(b), &n, ESME_ROK, 9999, SY_STR("x"));
	fs_inject(f, b, n);
	assert_int_equal(smpp_pool_stats(w->pool)->stray_resps, 1);
	assert_int_equal(smpp_session_outstanding(s), 3);
	/* The session ends: the rest are reported as closed, in send order. */
	f->cbs.on_close(f->arg, (struct sy_stream *)f, SY_ERR_IO);
	assert_int_equal(w->r.nresp, 5);
	assert_int_equal(w->r.resp_how[2], SMPP_REQ_CLOSED);
	assert_int_equal(w->r.resp_seq[2], seqs[1]);
	assert_int_equal(w->r.resp_seq[3], seqs[3]);
	assert_int_equal(w->r.resp_seq[4], seqs[4]);
	assert_int_equal(w->r.close_why, SMPP_CLOSE_IO);
	world_free(w);
}

static void test_seq_wrap(void **state)
{
	struct world *w = world_new(NULL);
	struct smpp_session *s;
	struct fstream *f = bound_client(w, &s);
	smpp_session_seq_set(s, 0x7FFFFFFF);
	struct smpp_pdu p = mk_submit(0, "4477");
	uint32_t a, b;
	assert_int_equal(smpp_session_send(s, &p, 0, &a), SY_OK);
	assert_int_equal(smpp_session_send(s, &p, 0, &b), SY_OK);
	assert_int_equal(a, 0x7FFFFFFF);
	assert_int_equal(b, 1);
	assert_int_equal(fs_expect(f, SMPP_SUBMIT_SM, 0).seq, 0x7FFFFFFF);
	assert_int_equal(fs_expect(f, SMPP_SUBMIT_SM, 0).seq, 1);
	world_free(w);
}

static void test_resp_timeout(void **state)
{
	struct smpp_pool_cfg c = {.resp_timeout_ns = 10 * SY_NS_PER_S, .no_keepalive = true};
	struct world *w = world_new(&c);
	struct smpp_session *s;
	struct fstream *f = bound_client(w, &s);
	struct smpp_pdu p = mk_submit(0, "4477");
	uint32_t s1, s2;
	assert_int_equal(smpp_session_send(s, &p, 1, &s1), SY_OK);
	testenv_advance(&w->fe.te, 4 * SY_NS_PER_S);
	assert_int_equal(smpp_session_send(s, &p, 2, &s2), SY_OK);
	testenv_advance(&w->fe.te, 6 * SY_NS_PER_S - 1);
	assert_int_equal(w->r.nresp, 0);
	testenv_advance(&w->fe.te, 1); /* t = 10 s: the first one */
	assert_int_equal(w->r.nresp, 1);
	assert_int_equal(w->r.resp_how[0], SMPP_REQ_TIMEOUT);
	assert_int_equal(w->r.resp_seq[0], s1);
	testenv_advance(&w->fe.te, 4 * SY_NS_PER_S); /* t = 14 s: the second */
	assert_int_equal(w->r.nresp, 2);
	assert_int_equal(w->r.resp_seq[1], s2);
	assert_int_equal(w->r.resp_tag[1], 2);
	assert_int_equal(smpp_pool_stats(w->pool)->resp_timeouts, 2);
	/* A late response is stray; the session lives on. */
	uint8_t b[64];
	size_t n;
	smpp_encode_submit_sm_resp(b, sizeof(b), &n, ESME_ROK, s1, SY_STR("late"));
	fs_inject(f, b, n);
	assert_int_equal(smpp_pool_stats(w->pool)->stray_resps, 1);
	assert_int_equal(smpp_session_state(s), SMPP_SS_BOUND);
	assert_int_equal(testenv_timers_pending(&w->fe.te), 0);
	world_free(w);
}

/* ---- throttling ---- */

static void count_submit_resps(struct fstream *f, uint32_t *ok, uint32_t *thr)
{
	struct got g;
	while (fs_next(f, &g)) {
		assert_int_equal(g.cmd, SMPP_SUBMIT_SM_RESP);
		if (g.status == ESME_ROK)
			(*ok)++;
		else if (g.status == ESME_RTHROTTLED)
			(*thr)++;
		else
			fail_msg("unexpected status 0x%x", g.status);
	}
}

static void test_throttle(void **state)
{
	struct smpp_pool_cfg c = {.no_keepalive = true};
	struct world *w = world_new(&c);
	smpp_tbucket_init(&w->tb, 100, 0, 0); /* 100 TPS, a burst of one second's worth */
	w->r.tb = &w->tb;
	w->r.auto_respond = true;
	struct fstream *f = bound_server(w);
	uint32_t ok = 0, thr = 0, seq = 2;
	/* 150 at once: the burst passes, the rest are throttled. */
	for (int i = 0; i < 150; i++) {
		struct smpp_pdu p = mk_submit(seq++, "4477");
		inject_pdu(f, &p);
	}
	count_submit_resps(f, &ok, &thr);
	assert_int_equal(ok, 100);
	assert_int_equal(thr, 50);
	/* Then one per ms for 1 s: the bucket refills one token per 10 ms. */
	for (int ms = 1; ms <= 1000; ms++) {
		testenv_advance_to(&w->fe.te, (uint64_t)ms * SY_NS_PER_MS);
		struct smpp_pdu p = mk_submit(seq++, "4477");
		inject_pdu(f, &p);
	}
	ok = thr = 0;
	count_submit_resps(f, &ok, &thr);
	assert_int_equal(ok, 100);
	assert_int_equal(thr, 900);
	/* An idle second refills the whole burst, never more. */
	testenv_advance_to(&w->fe.te, 5 * SY_NS_PER_S);
	for (int i = 0; i < 120; i++) {
		struct smpp_pdu p = mk_submit(seq++, "4477");
		inject_pdu(f, &p);
	}
	ok = thr = 0;
	count_submit_resps(f, &ok, &thr);
	assert_int_equal(ok, 100);
	assert_int_equal(thr, 20);
	assert_int_equal(w->tb.throttled, 970);
	assert_int_equal(w->tb.passed, 300);
	assert_int_equal(smpp_pool_stats(w->pool)->throttled, 970);
	assert_int_equal(w->r.nreq, 300);
	world_free(w);
}

static void test_tbucket_table(void **state)
{
	static const struct {
		uint32_t tps, burst;
		uint64_t step_ns;
		uint32_t steps, per_step, want_ok;
	} cases[] = {
	    {10, 1, SY_NS_PER_MS, 1000, 1, 1 + 9},	       /* 0..999 ms: the first token + one per 100 ms */
	    {1000, 1, SY_NS_PER_MS, 1000, 1, 1000},	       /* exactly at the rate: none throttled */
	    {5, 5, 100 * SY_NS_PER_MS, 20, 1, 5 + 9},	       /* burst 5, then 9.5 tokens refilled in 1.9 s */
	    {0, 0, 1, 500, 3, 1500},			       /* no limit */
	    {100000, 0, 10 * SY_NS_PER_US, 100000, 2, 199999}, /* 100K burst + 99,999 refilled */
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct smpp_tbucket tb;
		smpp_tbucket_init(&tb, cases[i].tps, cases[i].burst, 0);
		uint32_t ok = 0;
		for (uint32_t k = 0; k < cases[i].steps; k++)
			for (uint32_t j = 0; j < cases[i].per_step; j++)
				ok += smpp_tbucket_take(&tb, (uint64_t)k * cases[i].step_ns);
		assert_int_equal(ok, cases[i].want_ok);
		assert_int_equal(tb.passed, ok);
		assert_int_equal(tb.throttled, cases[i].steps * cases[i].per_step - ok);
	}
}

/* ---- keepalive ---- */

static void test_enquire_link(void **state)
{
	struct smpp_pool_cfg c = {.enquire_interval_ns = 30 * SY_NS_PER_S, .enquire_timeout_ns = 5 * SY_NS_PER_S};
	struct world *w = world_new(&c);
	struct fstream *f = bound_server(w);
	struct got g;
	/* The peer's enquire_link is answered with its own sequence number. */
	inject_hdr(f, SMPP_ENQUIRE_LINK, 0, 4242);
	assert_int_equal(fs_expect(f, SMPP_ENQUIRE_LINK_RESP, ESME_ROK).seq, 4242);
	testenv_advance(&w->fe.te, 30 * SY_NS_PER_S - 1);
	assert_false(fs_next(f, &g));
	testenv_advance(&w->fe.te, 1); /* t = 30 s */
	g = fs_expect(f, SMPP_ENQUIRE_LINK, ESME_ROK);
	inject_hdr(f, SMPP_ENQUIRE_LINK_RESP, 0, g.seq);
	testenv_advance(&w->fe.te, 30 * SY_NS_PER_S); /* t = 60 s */
	g = fs_expect(f, SMPP_ENQUIRE_LINK, ESME_ROK);
	assert_false(fs_next(f, &g));
	assert_int_equal(smpp_pool_stats(w->pool)->enquire_sent, 2);
	assert_int_equal(smpp_pool_stats(w->pool)->enquire_answered, 1);
	/* No answer this time: dead at 65 s. */
	testenv_advance(&w->fe.te, 5 * SY_NS_PER_S - 1);
	assert_int_equal(w->r.nclose, 0);
	testenv_advance(&w->fe.te, 1);
	assert_int_equal(w->r.nclose, 1);
	assert_int_equal(w->r.close_why, SMPP_CLOSE_DEAD_PEER);
	assert_int_equal(w->r.close_at_ns, 65 * SY_NS_PER_S);
	assert_false(f->open);
	assert_int_equal(testenv_timers_pending(&w->fe.te), 0);
	world_free(w);
}

static void test_idle(void **state)
{
	/* enquire_link_resp may take a minute, but nothing at all for three
	 * 10 s intervals means the peer is gone. */
	struct smpp_pool_cfg c = {
	    .enquire_interval_ns = 10 * SY_NS_PER_S, .enquire_timeout_ns = 60 * SY_NS_PER_S, .idle_intervals_max = 3};
	struct world *w = world_new(&c);
	struct fstream *f = bound_server(w);
	testenv_advance(&w->fe.te, 25 * SY_NS_PER_S);
	fs_expect(f, SMPP_ENQUIRE_LINK, ESME_ROK); /* one at 10 s; none at 20 s: still waiting */
	struct got g;
	assert_false(fs_next(f, &g));
	assert_int_equal(w->r.nclose, 0);
	testenv_advance(&w->fe.te, 5 * SY_NS_PER_S);
	assert_int_equal(w->r.close_why, SMPP_CLOSE_IDLE);
	assert_int_equal(w->r.close_at_ns, 30 * SY_NS_PER_S);
	assert_int_equal(smpp_pool_stats(w->pool)->closed_idle, 1);
	world_free(w);
}

/* ---- bad input ---- */

static void test_garbage_then_good(void **state)
{
	struct world *w = world_new(NULL);
	struct fstream *f = bound_server(w);
	static const uint8_t unknown_cmd[16] = {0, 0, 0, 16, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0, 0, 0, 9};
	fs_inject(f, unknown_cmd, sizeof(unknown_cmd));
	struct got g = fs_expect(f, SMPP_GENERIC_NACK, ESME_RINVCMDID);
	assert_int_equal(g.seq, 9);
	/* A submit_sm cut short inside its mandatory fields. */
	static const uint8_t short_submit[20] = {0, 0, 0, 20, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 10, 'a', 'b', 'c', 'd'};
	fs_inject(f, short_submit, sizeof(short_submit));
	g = fs_expect(f, SMPP_GENERIC_NACK, ESME_RINVCMDLEN); /* the codec's choice for a bad length */
	assert_int_equal(g.seq, 10);
	/* Random-looking bytes with a sane length: one nack each, no crash. */
	uint8_t junk[64];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	junk[0] = 0, junk[1] = 0, junk[2] = 0, junk[3] = 64;
	fs_inject(f, junk, sizeof(junk));
	assert_true(fs_next(f, &g));
	assert_int_not_equal(g.status, ESME_ROK);
	assert_int_equal(w->r.nreq, 0);
	/* The session survives and handles a good PDU. */
	struct smpp_pdu p = mk_submit(11, "4477");
	inject_pdu(f, &p);
	assert_int_equal(w->r.nreq, 1);
	assert_int_equal(w->r.req_seq[0], 11);
	assert_int_equal(smpp_session_state(sess_of(f)), SMPP_SS_BOUND);
	assert_int_equal(smpp_pool_stats(w->pool)->rx_bad, 3);
	world_free(w);
}

static void test_bad_length_closes(void **state)
{
	static const struct {
		const char *name;
		uint8_t bytes[8];
		size_t n;
		uint32_t inbuf_max;
	} cases[] = {
	    {"too short", {0, 0, 0, 5, 0, 0, 0, 4}, 8, 0},
	    {"zero", {0, 0, 0, 0}, 4, 0},
	    {"absurd", {0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 4}, 8, 0},
	    {"over the codec bound", {0, 1, 0, 1, 0, 0, 0, 4}, 8, 0},
	    {"over the session buffer", {0, 0, 4, 0, 0, 0, 0, 4}, 8, 512},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct smpp_pool_cfg c = {.inbuf_max = cases[i].inbuf_max};
		struct world *w = world_new(&c);
		struct fstream *f = bound_server(w);
		/* Fed in two pieces so the buffered path is checked too. */
		fs_inject(f, cases[i].bytes, 2);
		assert_true(f->open);
		fs_inject(f, cases[i].bytes + 2, cases[i].n - 2);
		fs_expect(f, SMPP_GENERIC_NACK, ESME_RINVCMDLEN);
		assert_false(f->open);
		assert_int_equal(w->r.close_why, SMPP_CLOSE_BAD_LENGTH);
		assert_int_equal(smpp_pool_stats(w->pool)->sessions_active, 0);
		world_free(w);
	}
}

/* Builds bind + submits + enquire_link + garbage + submit, fed in pieces of
 * `piece` bytes; every split must give the same output and callbacks. */
static size_t build_stream(uint8_t *buf, size_t cap)
{
	size_t n = 0;
	struct smpp_pdu b = mk_bind(SMPP_BIND_TRANSCEIVER, 1, "acme", "secret");
	n += enc(&b, buf + n, cap - n);
	for (uint32_t q = 2; q < 6; q++) {
		struct smpp_pdu p = mk_submit(q, q & 1 ? "4477123" : "1555");
		p.tlv.present = SMPP_TLV_USER_MESSAGE_REFERENCE;
		p.tlv.user_message_reference = (uint16_t)q;
		n += enc(&p, buf + n, cap - n);
	}
	SY_ASSERT(smpp_encode_header(buf + n, cap - n, &(size_t){0}, SMPP_ENQUIRE_LINK, 0, 6) == SY_OK);
	n += 16;
	static const uint8_t bad[16] = {0, 0, 0, 16, 0xAB, 0xCD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
	memcpy(buf + n, bad, 16);
	n += 16;
	struct smpp_pdu p = mk_submit(8, "4477");
	n += enc(&p, buf + n, cap - n);
	return n;
}

static void test_split_feed(void **state)
{
	uint8_t in[2048];
	size_t n = build_stream(in, sizeof(in));
	uint8_t ref_out[4096];
	size_t ref_len = 0;
	static const size_t pieces[] = {SIZE_MAX, 1, 2, 3, 5, 7, 15, 16, 17, 64};
	for (size_t k = 0; k < SY_ARRAY_LEN(pieces); k++) {
		struct world *w = world_new(NULL);
		w->r.auto_respond = true;
		struct fstream *f = fe_accept(&w->fe);
		for (size_t off = 0; off < n;) {
			size_t len = SY_MIN(pieces[k], n - off);
			fs_inject(f, in + off, len);
			off += len;
		}
		assert_int_equal(w->r.nreq, 5);
		assert_int_equal(w->r.req_seq[4], 8);
		if (k == 0) {
			memcpy(ref_out, f->out, f->out_len);
			ref_len = f->out_len;
			/* bind_resp, 4 submit_sm_resp, enquire_link_resp, nack, submit_sm_resp */
			struct got g;
			int count = 0;
			while (fs_next(f, &g))
				count++;
			assert_int_equal(count, 8);
		} else {
			assert_int_equal(f->out_len, ref_len);
			assert_memory_equal(f->out, ref_out, ref_len);
		}
		world_free(w);
	}
}

/* Deterministic junk (a 64-bit LCG), some of it shaped like PDU headers:
 * the session never crashes, and it ends only for a bad length. */
static void test_random_bytes(void **state)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (int round = 0; round < 200; round++) {
		struct world *w = world_new(&(struct smpp_pool_cfg){.inbuf_max = 1024});
		struct fstream *f = round % 2 ? bound_server(w) : fe_accept(&w->fe);
		for (int k = 0; k < 40 && f->open; k++) {
			uint8_t buf[96];
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			size_t n = 1 + (size_t)(x >> 33) % sizeof(buf);
			for (size_t i = 0; i < n; i++) {
				x = x * 6364136223846793005ull + 1442695040888963407ull;
				buf[i] = (uint8_t)(x >> 56);
			}
			if (n >= 16 && (x >> 20) % 2 == 0) { /* a plausible header */
				buf[0] = buf[1] = 0;
				buf[2] = (uint8_t)(n >> 8), buf[3] = (uint8_t)n;
				buf[4] = (x >> 24) % 2 ? 0x80 : 0, buf[5] = buf[6] = 0;
				buf[7] = (uint8_t)((x >> 28) % 10);
			}
			fs_inject(f, buf, n);
		}
		if (!f->open)
			assert_true(w->r.close_why == SMPP_CLOSE_BAD_LENGTH ||
				    w->r.close_why == SMPP_CLOSE_PEER_UNBIND);
		world_free(w);
	}
}

/* ---- unbind, pool, write failure ---- */

static void test_unbind(void **state)
{
	struct world *w = world_new(NULL);
	struct smpp_session *s;
	struct fstream *f = bound_client(w, &s);
	struct smpp_pdu p = mk_submit(0, "4477");
	assert_int_equal(smpp_session_send(s, &p, 5, NULL), SY_OK);
	fs_expect(f, SMPP_SUBMIT_SM, 0);
	assert_int_equal(smpp_session_unbind(s), SY_OK);
	assert_int_equal(smpp_session_state(s), SMPP_SS_UNBINDING);
	assert_int_equal(smpp_session_send(s, &p, 6, NULL), SY_ERR_STATE);
	struct got g = fs_expect(f, SMPP_UNBIND, 0);
	assert_int_equal(w->r.nclose, 0);
	inject_hdr(f, SMPP_UNBIND_RESP, 0, g.seq);
	assert_int_equal(w->r.nresp, 1);
	assert_int_equal(w->r.resp_how[0], SMPP_REQ_CLOSED);
	assert_int_equal(w->r.close_why, SMPP_CLOSE_UNBOUND);
	assert_false(f->open);

	/* Server side: the peer unbinds; we answer and close. */
	struct fstream *f2 = bound_server(w);
	inject_hdr(f2, SMPP_UNBIND, 0, 3);
	assert_int_equal(fs_expect(f2, SMPP_UNBIND_RESP, ESME_ROK).seq, 3);
	assert_int_equal(w->r.close_why, SMPP_CLOSE_PEER_UNBIND);
	assert_false(f2->open);

	/* An unbind_resp that never comes: closed after the response timeout. */
	struct fstream *f3 = bound_client(w, &s);
	assert_int_equal(smpp_session_unbind(s), SY_OK);
	assert_int_equal(smpp_session_unbind(s), SY_ERR_STATE);
	testenv_advance(&w->fe.te, 10 * SY_NS_PER_S);
	assert_int_equal(w->r.nclose, 3);
	assert_int_equal(w->r.close_why, SMPP_CLOSE_UNBOUND);
	assert_false(f3->open);
	assert_int_equal(smpp_pool_stats(w->pool)->sessions_active, 0);
	world_free(w);
}

static void test_pool_full(void **state)
{
	struct smpp_pool_cfg c = {.sess_max = 2};
	struct world *w = world_new(&c);
	struct fstream *a = fe_accept(&w->fe), *b = fe_accept(&w->fe), *x = fe_accept(&w->fe);
	assert_true(a->open && b->open);
	assert_false(x->open);
	assert_int_equal(smpp_pool_stats(w->pool)->sessions_refused, 1);
	struct smpp_session *s;
	struct smpp_bind_params bp = {.type = SMPP_BIND_TX, .system_id = SY_STR("e")};
	struct sy_addr addr = sy_addr_v4(10, 0, 0, 2, 2775);
	assert_int_equal(smpp_session_connect(w->pool, &addr, &bp, &s), SY_ERR_FULL);
	/* Closing by the owner frees the slot at once, with no callbacks. */
	smpp_session_close(sess_of(a));
	assert_false(a->open);
	assert_int_equal(w->r.nclose, 0);
	struct fstream *y = fe_accept(&w->fe);
	assert_true(y->open);
	assert_int_equal(smpp_pool_stats(w->pool)->sessions_active, 2);
	world_free(w);
}

/* ---- handoff: a bind read by one pool, served by another (nodes = N) ---- */

struct ho {
	struct rec r; /* first: r_auth and the others take the arg as a rec */
	struct smpp_pool *to;
	uint32_t handed;
	enum sy_rc adopt_rc;
};

static bool h_handoff(void *arg, struct smpp_session *s, struct sy_str sid, const uint8_t *pdu, size_t pdu_len,
		      const uint8_t *rest, size_t rest_len)
{
	struct ho *h = arg;
	if (!sy_str_eq(sid, SY_STR("acme")))
		return false;
	h->handed++;
	struct sy_stream *st = smpp_session_detach(s);
	assert_non_null(st);
	h->adopt_rc = smpp_pool_adopt(h->to, st, pdu, pdu_len, rest, rest_len);
	return true;
}

static const struct smpp_sess_ops ho_ops = {
    .auth = r_auth,
    .handoff = h_handoff,
    .on_bound = r_bound,
    .on_request = r_request,
    .on_close = r_close,
};

/* Pool a listens and hands acme's binds to pool b (sess_max_b sessions). */
struct ho_world {
	struct fenv fe;
	struct ho ha;
	struct rec rb;
	struct smpp_pool *a, *b;
};

static struct ho_world *ho_new(uint32_t sess_max_b)
{
	struct ho_world *w = calloc(1, sizeof(*w));
	SY_ASSERT(w != NULL);
	fe_init(&w->fe);
	struct smpp_pool_cfg cb = {.env = &w->fe.env, .ops = &rec_ops, .arg = &w->rb, .sess_max = sess_max_b};
	assert_int_equal(smpp_pool_create(&cb, &w->b), SY_OK);
	struct smpp_pool_cfg ca = {.env = &w->fe.env, .ops = &ho_ops, .arg = &w->ha};
	assert_int_equal(smpp_pool_create(&ca, &w->a), SY_OK);
	w->ha.to = w->b;
	struct sy_addr addr = sy_addr_v4(10, 0, 0, 1, 2775);
	assert_int_equal(smpp_pool_listen(w->a, &addr), SY_OK);
	return w;
}

static void ho_free(struct ho_world *w)
{
	smpp_pool_destroy(w->a);
	smpp_pool_destroy(w->b);
	testenv_free(&w->fe.te);
	free(w);
}

/* The bind and a submit_sm in one read, or cut at every byte: pool b
 * answers the bind and gets the submit; pool a keeps nothing. */
static void test_handoff(void **state)
{
	uint8_t buf[1024];
	struct smpp_pdu b = mk_bind(SMPP_BIND_TRANSCEIVER, 5, "acme", "secret"), sub = mk_submit(6, "4477");
	size_t nb = enc(&b, buf, sizeof(buf));
	size_t n = nb + enc(&sub, buf + nb, sizeof(buf) - nb);
	for (size_t cut = 0; cut <= n; cut++) {
		struct ho_world *w = ho_new(0);
		struct fstream *f = fe_accept(&w->fe);
		if (cut > 0)
			fs_inject(f, buf, cut);
		if (cut < n)
			fs_inject(f, buf + cut, n - cut);
		assert_int_equal(w->ha.handed, 1);
		assert_int_equal(w->ha.adopt_rc, SY_OK);
		assert_true(f->open);
		struct got g = fs_expect(f, SMPP_BIND_TRANSCEIVER_RESP, ESME_ROK);
		assert_int_equal(g.seq, 5);
		assert_int_equal(w->ha.r.auths + w->ha.r.bound + w->ha.r.nreq + w->ha.r.nclose, 0);
		assert_int_equal(w->rb.bound, 1);
		assert_int_equal(w->rb.nreq, 1);
		assert_int_equal(w->rb.req_seq[0], 6);
		assert_ptr_equal(smpp_session_pool(sess_of(f)), w->b);
		assert_int_equal(smpp_session_state(sess_of(f)), SMPP_SS_BOUND);
		assert_int_equal(smpp_pool_stats(w->a)->sessions_active, 0);
		assert_int_equal(smpp_pool_stats(w->b)->sessions_active, 1);
		/* what comes next goes to b's session */
		struct smpp_pdu sub2 = mk_submit(7, "4478");
		inject_pdu(f, &sub2);
		assert_int_equal(w->rb.nreq, 2);
		ho_free(w);
	}
}

/* Another account's bind stays; a full pool b closes the handed stream. */
static void test_handoff_refused(void **state)
{
	struct ho_world *w = ho_new(1);
	struct fstream *f = fe_accept(&w->fe);
	struct smpp_pdu b = mk_bind(SMPP_BIND_TRANSCEIVER, 1, "evil", "secret");
	inject_pdu(f, &b);
	fs_expect(f, SMPP_BIND_TRANSCEIVER_RESP, ESME_RINVSYSID);
	assert_int_equal(w->ha.handed, 0);
	assert_int_equal(w->ha.r.auths, 1);
	/* b's one session taken by a first acme bind, the second is closed */
	struct fstream *g1 = fe_accept(&w->fe), *g2 = fe_accept(&w->fe);
	struct smpp_pdu ok = mk_bind(SMPP_BIND_TRANSCEIVER, 2, "acme", "secret");
	inject_pdu(g1, &ok);
	assert_int_equal(w->ha.adopt_rc, SY_OK);
	inject_pdu(g2, &ok);
	assert_int_equal(w->ha.adopt_rc, SY_ERR_FULL);
	assert_false(g2->open);
	assert_int_equal(g2->out_len, 0); /* no answer: closed */
	assert_true(g1->open);
	assert_int_equal(smpp_pool_stats(w->a)->sessions_active, 1); /* f, unbound */
	ho_free(w);
}

static void test_write_failure(void **state)
{
	struct world *w = world_new(NULL);
	struct smpp_session *s;
	struct fstream *f = bound_client(w, &s);
	f->fail_writes = 1;
	struct smpp_pdu p = mk_submit(0, "4477");
	assert_int_equal(smpp_session_send(s, &p, 1, NULL), SY_ERR_IO);
	assert_int_equal(w->r.nclose, 0); /* never inside the owner's call */
	assert_int_equal(smpp_session_send(s, &p, 2, NULL), SY_ERR_IO);
	testenv_advance(&w->fe.te, 0);
	assert_int_equal(w->r.nclose, 1);
	assert_int_equal(w->r.close_why, SMPP_CLOSE_IO);
	assert_int_equal(w->r.nresp, 0); /* neither was accepted */
	world_free(w);
}

/* Closing from inside callbacks must not free the session under the parser. */
static void r_request_close(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	struct rec *r = arg;
	r->nreq++;
	smpp_session_close(s);
}

static void test_close_in_callback(void **state)
{
	struct world *w = world_new(NULL);
	static struct smpp_sess_ops ops;
	ops = rec_ops;
	ops.on_request = r_request_close;
	smpp_pool_destroy(w->pool);
	struct smpp_pool_cfg c = {.env = &w->fe.env, .ops = &ops, .arg = &w->r};
	assert_int_equal(smpp_pool_create(&c, &w->pool), SY_OK);
	struct sy_addr a = sy_addr_v4(10, 0, 0, 1, 2775);
	assert_int_equal(smpp_pool_listen(w->pool, &a), SY_OK);
	struct fstream *f = bound_server(w);
	uint8_t buf[1024];
	size_t n = 0;
	for (uint32_t q = 2; q < 5; q++) {
		struct smpp_pdu p = mk_submit(q, "4477");
		n += enc(&p, buf + n, sizeof(buf) - n);
	}
	fs_inject(f, buf, n); /* three PDUs in one chunk; the first closes */
	assert_int_equal(w->r.nreq, 1);
	assert_false(f->open);
	assert_int_equal(w->r.nclose, 0);
	assert_int_equal(smpp_pool_stats(w->pool)->sessions_active, 0);
	world_free(w);
}

/* ---- end to end over the simulator's streams ---- */

static void test_sim_end_to_end(void **state)
{
	struct sim *sim = sim_create(42, 0);
	struct sim_node *nsrv = sim_node_add(sim, "smsc", "10.0.0.1");
	struct sim_node *ncli = sim_node_add(sim, "esme", "10.0.0.2");
	struct rec rs = {.auto_respond = true}, rc = {0};
	struct smpp_tbucket tb;
	smpp_tbucket_init(&tb, 1000, 0, 0);
	rs.tb = &tb;
	struct smpp_pool *ps, *pc;
	struct smpp_pool_cfg cs = {.env = sim_node_env(nsrv), .ops = &rec_ops, .arg = &rs};
	struct smpp_pool_cfg cc = {.env = sim_node_env(ncli), .ops = &rec_ops, .arg = &rc, .window = 8};
	assert_int_equal(smpp_pool_create(&cs, &ps), SY_OK);
	assert_int_equal(smpp_pool_create(&cc, &pc), SY_OK);
	struct sy_addr srv = sim_node_addr(nsrv, 2775);
	assert_int_equal(smpp_pool_listen(ps, &srv), SY_OK);
	struct smpp_session *s;
	struct smpp_bind_params bp = {.type = SMPP_BIND_TRX, .system_id = SY_STR("acme"), .password = SY_STR("secret")};
	assert_int_equal(smpp_session_connect(pc, &srv, &bp, &s), SY_OK);
	sim_run_until(sim, SY_NS_PER_S);
	assert_int_equal(rc.bound, 1);
	assert_int_equal(rc.bound_status, ESME_ROK);
	assert_int_equal(rs.bound, 1);
	/* Keep the window full for 20 messages. */
	uint32_t sent = 0;
	for (int round = 0; round < 100 && rc.nresp < 20; round++) {
		struct smpp_pdu p = mk_submit(0, "4477");
		while (sent < 20 && smpp_session_send(s, &p, sent, NULL) == SY_OK)
			sent++;
		sim_run_until(sim, sim_now(sim) + 10 * SY_NS_PER_MS);
	}
	assert_int_equal(rc.nresp, 20);
	for (uint32_t i = 0; i < 20; i++) {
		assert_int_equal(rc.resp_how[i], SMPP_REQ_RESP);
		assert_int_equal(rc.resp_status[i], ESME_ROK);
		assert_int_equal(rc.resp_tag[i], i);
	}
	assert_int_equal(rs.nreq, 20);
	/* Keepalive over 2 minutes of virtual time keeps the link up. */
	sim_run_until(sim, sim_now(sim) + 120 * SY_NS_PER_S);
	assert_int_equal(smpp_session_state(s), SMPP_SS_BOUND);
	assert_true(smpp_pool_stats(pc)->enquire_answered >= 4);
	assert_int_equal(smpp_session_unbind(s), SY_OK);
	sim_run_until(sim, sim_now(sim) + SY_NS_PER_S);
	assert_int_equal(rc.close_why, SMPP_CLOSE_UNBOUND);
	assert_int_equal(rs.close_why, SMPP_CLOSE_PEER_UNBIND);
	assert_int_equal(smpp_pool_stats(ps)->sessions_active, 0);
	assert_int_equal(smpp_pool_stats(pc)->sessions_active, 0);
	smpp_pool_destroy(ps);
	smpp_pool_destroy(pc);
	sim_destroy(sim);
}

/* ---- the window index (session_int.h) against a list in arrival order ---- */

struct xrec {
	uint32_t seq, pad;
};

/* Random adds and deletes, many repeated sequence numbers, runs of
 * consecutive ones and values near the wrap: a find returns the oldest
 * record under its seq, like a scan of the records in arrival order. */
static void test_seqix_matches_scan(void **state)
{
	enum { RECS = 64, IX = 128, STEPS = 200000 };
	struct xrec recs[RECS];
	uint32_t slot[IX] = {0}, order[RECS], n = 0, free_n = RECS, freel[RECS];
	struct smpp_seqix x = {slot, IX - 1, 32 - 7, (const uint8_t *)recs, sizeof(recs[0])};
	for (uint32_t i = 0; i < RECS; i++)
		freel[i] = RECS - 1 - i;
	struct sy_rng rng;
	sy_rng_init(&rng, 11);
	for (uint32_t step = 0; step < STEPS; step++) {
		uint32_t op = (uint32_t)sy_rng_below(&rng, 3);
		if (op == 0 && free_n > 0) {
			uint32_t r = freel[--free_n];
			uint32_t base = sy_rng_below(&rng, 2) ? 0x7FFFFFF0u : 5u;
			recs[r].seq = base + (uint32_t)sy_rng_below(&rng, 3) * IX + (uint32_t)sy_rng_below(&rng, 20);
			smpp_seqix_add(&x, recs[r].seq, r);
			order[n++] = r;
		} else if (op == 1 && n > 0) {
			uint32_t k = (uint32_t)sy_rng_below(&rng, n), r = order[k];
			smpp_seqix_del(&x, r);
			memmove(&order[k], &order[k + 1], (n - k - 1) * sizeof(order[0]));
			n--;
			freel[free_n++] = r;
		} else {
			uint32_t seq = (sy_rng_below(&rng, 2) ? 0x7FFFFFF0u : 5u) +
				       (uint32_t)sy_rng_below(&rng, 3) * IX + (uint32_t)sy_rng_below(&rng, 20);
			uint32_t want = SMPP_WIN_NIL;
			for (uint32_t k = 0; k < n && want == SMPP_WIN_NIL; k++)
				if (recs[order[k]].seq == seq)
					want = order[k];
			assert_int_equal(smpp_seqix_find(&x, seq), want);
		}
	}
	for (uint32_t k = 0; k < n; k++)
		smpp_seqix_del(&x, order[k]);
	for (uint32_t i = 0; i < IX; i++)
		assert_int_equal(slot[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bind_table),
	    cmocka_unit_test(test_bind_twice),
	    cmocka_unit_test(test_before_bind),
	    cmocka_unit_test(test_bind_timeout),
	    cmocka_unit_test(test_rx_bind_refuses_submit),
	    cmocka_unit_test(test_client_bind_rejected),
	    cmocka_unit_test(test_async_respond),
	    cmocka_unit_test(test_window),
	    cmocka_unit_test(test_seq_wrap),
	    cmocka_unit_test(test_resp_timeout),
	    cmocka_unit_test(test_throttle),
	    cmocka_unit_test(test_tbucket_table),
	    cmocka_unit_test(test_enquire_link),
	    cmocka_unit_test(test_idle),
	    cmocka_unit_test(test_garbage_then_good),
	    cmocka_unit_test(test_bad_length_closes),
	    cmocka_unit_test(test_split_feed),
	    cmocka_unit_test(test_random_bytes),
	    cmocka_unit_test(test_unbind),
	    cmocka_unit_test(test_pool_full),
	    cmocka_unit_test(test_handoff),
	    cmocka_unit_test(test_handoff_refused),
	    cmocka_unit_test(test_write_failure),
	    cmocka_unit_test(test_close_in_callback),
	    cmocka_unit_test(test_sim_end_to_end),
	    cmocka_unit_test(test_seqix_matches_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
