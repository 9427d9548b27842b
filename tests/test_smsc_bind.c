/* test_smsc_bind.c: who may bind to the SMSC (core/smpp/smsc_bind.c), in
 * the simulator, with a raw SMPP client written here so one stream can try
 * several binds: the one refusal status, no empty password, SMPP access only
 * for smpp = yes accounts, the stream closed after three failures, the
 * source's backoff at exact virtual times, the bind timeout, the per-source
 * connection cap and the per-account bind cap. Links are 1 ms fixed, so a
 * connect made at t is accepted by the SMSC at t + 1 ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/sec/secret.h"
#include "core/smpp/pdu.h"
#include "core/smpp/smsc.h"
#include "sim/sim.h"

#define EPOCH_NS (1767225600ull * SY_NS_PER_S)
#define MS	 SY_NS_PER_MS
#define SEC	 SY_NS_PER_S
#define LAT	 MS /* one way */
#define RESP_MAX 8

/* ---- a raw SMPP client: binds by hand, records what comes back ---- */

struct rawc {
	struct sy_env *env;
	struct sy_stream *st;
	bool opened, closed;
	uint64_t closed_ns;
	uint32_t n;
	uint32_t status[RESP_MAX];
	uint64_t at_ns[RESP_MAX];
	uint8_t buf[512];
	size_t len;
	const char *sid, *pwd;
	uint32_t binds_left; /* binds to send: one at open, one after each resp */
	uint32_t seq;
};

static void rc_bind(struct rawc *c)
{
	struct smpp_pdu p;
	uint8_t out[128];
	size_t n;
	smpp_pdu_init(&p, SMPP_BIND_TRANSCEIVER, ++c->seq);
	p.system_id = sy_str_from(c->sid);
	p.password = sy_str_from(c->pwd);
	p.interface_version = 0x34;
	assert_int_equal(smpp_pdu_encode(&p, out, sizeof(out), &n), SY_OK);
	c->binds_left--;
	(void)sy_env_stream_write(c->env, c->st, out, n);
}

static void rc_open(void *arg, struct sy_stream *s)
{
	struct rawc *c = arg;
	c->opened = true;
	if (c->binds_left > 0)
		rc_bind(c);
}

static void rc_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct rawc *c = arg;
	SY_ASSERT(c->len + len <= sizeof(c->buf));
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	size_t plen;
	while (smpp_frame_len(c->buf, c->len, &plen) == SY_OK && plen <= c->len) {
		struct smpp_pdu p;
		uint32_t st;
		assert_int_equal(smpp_pdu_decode(c->buf, c->buf + plen, &p, &st), SY_OK);
		if (p.command_id == SMPP_BIND_TRANSCEIVER_RESP && c->n < RESP_MAX) {
			c->status[c->n] = p.command_status;
			c->at_ns[c->n++] = sy_env_now_ns(c->env);
			if (c->binds_left > 0)
				rc_bind(c);
		}
		memmove(c->buf, c->buf + plen, c->len - plen);
		c->len -= plen;
	}
}

static void rc_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	struct rawc *c = arg;
	c->closed = true;
	c->closed_ns = sy_env_now_ns(c->env);
	c->st = NULL;
}

static const struct sy_stream_cbs rc_cbs = {.on_open = rc_open, .on_data = rc_data, .on_close = rc_close};

/* ---- the world ---- */

struct world {
	struct sim *sim;
	struct sim_node *nsmsc, *na, *nb; /* a: the attacker's address, b: a good ESME's */
	struct smsc_account_cfg accts[4];
	struct smsc_carrier_cfg car;
	struct smsc_cfg cfg;
	struct smsc *smsc;
	struct rawc c[24];
	uint32_t cn;
};

static struct world *w_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	w->sim = sim_create(7, EPOCH_NS);
	w->nsmsc = sim_node_add(w->sim, "smsc", "10.0.0.1");
	w->na = sim_node_add(w->sim, "a", "10.0.0.2");
	w->nb = sim_node_add(w->sim, "b", "10.0.0.3");
	w->accts[0] = (struct smsc_account_cfg){.name = "acme", .password = "secret", .smpp = true, .binds = 2};
	w->accts[1] = (struct smsc_account_cfg){.name = "voice", .password = "pw"}; /* no smpp = yes */
	w->accts[2] = (struct smsc_account_cfg){.name = "hashed", .smpp = true};
	static const uint8_t salt[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	assert_true(sy_secret_format(w->accts[2].password, sizeof(w->accts[2].password), "hpw", 3, salt, 16, 1000) > 0);
	w->cfg = (struct smsc_cfg){.env = sim_node_env(w->nsmsc),
				   .listen = sim_node_addr(w->nsmsc, 2775),
				   .accounts = w->accts,
				   .account_n = 3,
				   .carriers = &w->car,
				   .carrier_n = 0,
				   .msgs_max = 64,
				   .sessions_max = 8,
				   .guard = {.conns_per_source = 4, .fail_backoff_max_ns = 4 * SEC}};
	return w;
}

static void w_start(struct world *w)
{
	char err[256];
	enum sy_rc rc = smsc_create(&w->cfg, &w->smsc, err, sizeof(err));
	if (rc != SY_OK)
		fprintf(stderr, "smsc_create: %s\n", err);
	assert_int_equal(rc, SY_OK);
}

static void w_free(struct world *w)
{
	smsc_destroy(w->smsc);
	for (uint32_t i = 0; i < w->cn; i++)
		if (w->c[i].st != NULL)
			sy_env_stream_close(w->c[i].env, w->c[i].st);
	sim_destroy(w->sim);
	free(w);
}

static void w_run_to(struct world *w, uint64_t t)
{
	sim_run_until(w->sim, t);
}

/* A new stream from node n, connecting now, sending `binds` binds. */
static struct rawc *w_conn(struct world *w, struct sim_node *n, const char *sid, const char *pwd, uint32_t binds)
{
	SY_ASSERT(w->cn < SY_ARRAY_LEN(w->c));
	struct rawc *c = &w->c[w->cn++];
	*c = (struct rawc){.env = sim_node_env(n), .sid = sid, .pwd = pwd, .binds_left = binds};
	struct sy_addr to = sim_node_addr(w->nsmsc, 2775);
	assert_int_equal(sy_env_stream_connect(c->env, &to, &rc_cbs, c, &c->st), SY_OK);
	return c;
}

static const struct smsc_stats *st(struct world *w)
{
	return smsc_stats(w->smsc);
}

/* ---- tests ---- */

static void test_statuses(void **state)
{
	static const struct {
		const char *sid, *pwd;
		uint32_t want, checks;
	} cases[] = {
	    {"acme", "secret", ESME_ROK, 1},
	    {"hashed", "hpw", ESME_ROK, 1},
	    {"acme", "wrong", ESME_RBINDFAIL, 1},
	    {"hashed", "hpx", ESME_RBINDFAIL, 1},
	    {"nobody", "secret", ESME_RBINDFAIL, 1}, /* checked against the dummy: same work */
	    {"acme", "", ESME_RBINDFAIL, 1},
	    {"voice", "pw", ESME_RBINDFAIL, 1}, /* right password, but no SMPP access */
	    {"", "", ESME_RBINDFAIL, 1},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct world *w = w_new();
		w_start(w);
		struct rawc *c = w_conn(w, w->nb, cases[i].sid, cases[i].pwd, 1);
		w_run_to(w, sim_now(w->sim) + SEC);
		assert_int_equal(c->n, 1);
		assert_int_equal(c->status[0], cases[i].want);
		assert_int_equal(st(w)->bind_checks, cases[i].checks);
		assert_int_equal(st(w)->binds_ok, cases[i].want == ESME_ROK);
		assert_int_equal(st(w)->bind_failures, cases[i].want != ESME_ROK);
		assert_false(c->closed); /* one failure does not close */
		w_free(w);
	}
}

/* smpp = yes with no usable password: the SMSC does not start. */
static void test_no_password_no_start(void **state)
{
	static const char *bad[] = {"", "$pbkdf2-sha256$10$00$00"};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++) {
		struct world *w = w_new();
		snprintf(w->accts[0].password, sizeof(w->accts[0].password), "%s", bad[i]);
		char err[256];
		assert_int_not_equal(smsc_create(&w->cfg, &w->smsc, err, sizeof(err)), SY_OK);
		assert_non_null(strstr(err, "[account acme]"));
		w->smsc = NULL;
		w_free(w);
	}
}

/* Three failed binds close the stream (a fourth gets no answer); each
 * failure blocks the source, doubling, capped at 4 s here: connections
 * arriving one ns before the block ends are refused, at its end accepted. */
static void test_three_failures_then_backoff(void **state)
{
	struct world *w = w_new();
	w_start(w);
	uint64_t t0 = sim_now(w->sim);
	struct rawc *c = w_conn(w, w->na, "acme", "wrong", 4);
	w_run_to(w, t0 + SEC);
	assert_int_equal(c->n, 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(c->status[i], ESME_RBINDFAIL);
	/* open at +2ms, bind in at +3ms, resp out, next bind in 2 ms later */
	assert_int_equal(c->at_ns[0], t0 + 4 * LAT);
	assert_int_equal(c->at_ns[2], t0 + 8 * LAT);
	assert_true(c->closed);
	assert_int_equal(c->closed_ns, c->at_ns[2]); /* the FIN right behind the third resp */
	assert_int_equal(c->binds_left, 0);	     /* the fourth was sent, and never answered */
	assert_int_equal(st(w)->bind_failures, 3);
	assert_int_equal(st(w)->bind_closed_fails, 1);
	assert_int_equal(st(w)->sources_blocked, 1); /* the 2nd and 3rd came while blocked */
	assert_int_equal(st(w)->bind_checks, 1);     /* ... and were not even checked */
	/* The third failure was at the SMSC at at_ns[2] - 1ms: blocked 1s << 2 = 4 s. */
	uint64_t until = c->at_ns[2] - LAT + 4 * SEC;
	w_run_to(w, until - 1 - LAT);
	struct rawc *early = w_conn(w, w->na, "acme", "secret", 1);
	w_run_to(w, until - LAT);
	struct rawc *ontime = w_conn(w, w->na, "acme", "secret", 1);
	struct rawc *other = w_conn(w, w->nb, "acme", "secret", 1); /* another source: never blocked */
	w_run_to(w, until + SEC);
	assert_true(early->closed);
	assert_int_equal(early->n, 0);
	assert_int_equal(st(w)->conns_refused_blocked, 1);
	assert_int_equal(ontime->n, 1);
	assert_int_equal(ontime->status[0], ESME_ROK);
	assert_int_equal(other->n, 1);
	assert_int_equal(other->status[0], ESME_ROK);
	/* Success reset the count: one more failure blocks 1 s, not 8 s. */
	uint64_t t1 = sim_now(w->sim);
	struct rawc *again = w_conn(w, w->na, "acme", "bad", 1);
	w_run_to(w, t1 + SEC);
	assert_int_equal(again->status[0], ESME_RBINDFAIL);
	uint64_t fail_at = again->at_ns[0] - LAT;
	w_run_to(w, fail_at + SEC - 1 - LAT);
	struct rawc *r1 = w_conn(w, w->na, "acme", "secret", 0);
	w_run_to(w, fail_at + SEC - LAT);
	struct rawc *r2 = w_conn(w, w->na, "acme", "secret", 0);
	w_run_to(w, fail_at + 2 * SEC);
	assert_true(r1->closed);
	assert_false(r2->closed);
	assert_int_equal(st(w)->conns_refused_blocked, 2);
	w_free(w);
}

/* The backoff doubles up to its cap (4 s here): 1, 2, 4, 4. */
static void test_backoff_cap(void **state)
{
	struct world *w = w_new();
	w_start(w);
	static const uint64_t want[] = {1 * SEC, 2 * SEC, 4 * SEC, 4 * SEC};
	for (size_t i = 0; i < SY_ARRAY_LEN(want); i++) {
		uint64_t t = sim_now(w->sim);
		struct rawc *c = w_conn(w, w->na, "acme", "bad", 1);
		w_run_to(w, t + 10 * MS);
		assert_int_equal(c->status[0], ESME_RBINDFAIL);
		uint64_t fail_at = c->at_ns[0] - LAT;
		w_run_to(w, fail_at + want[i] - 1 - LAT);
		struct rawc *no = w_conn(w, w->na, "x", "y", 0);
		w_run_to(w, fail_at + want[i] - LAT);
		struct rawc *yes = w_conn(w, w->na, "x", "y", 0);
		w_run_to(w, fail_at + want[i] + 10 * MS);
		assert_true(no->closed);
		assert_false(yes->closed);
		sy_env_stream_close(yes->env, yes->st);
		sy_env_stream_close(c->env, c->st);
		yes->st = c->st = NULL;
		w_run_to(w, sim_now(w->sim) + 10 * MS);
	}
	assert_int_equal(st(w)->sources_blocked, 4);
	w_free(w);
}

/* A stream that does not bind is closed at accept + 5 s, and its
 * connection slot comes back. */
static void test_bind_timeout(void **state)
{
	struct world *w = w_new();
	w_start(w);
	uint64_t t0 = sim_now(w->sim);
	struct rawc *c = w_conn(w, w->na, "", "", 0);
	w_run_to(w, t0 + LAT + 5 * SEC);
	assert_false(c->closed);
	w_run_to(w, t0 + 10 * SEC);
	assert_true(c->closed);
	assert_int_equal(c->closed_ns, t0 + LAT + 5 * SEC + LAT);
	assert_int_equal(st(w)->bind_timeouts, 1);
	assert_int_equal(st(w)->bind_failures, 0);
	w_free(w);
}

/* One source holds at most 4 streams (6 idle ones here): another source
 * still binds. The account's bind cap (2) refuses a third bind without
 * blocking the source, and a bind slot comes back when a session ends. */
static void test_caps(void **state)
{
	struct world *w = w_new();
	w_start(w);
	uint64_t t0 = sim_now(w->sim);
	struct rawc *idle[6];
	for (int i = 0; i < 6; i++)
		idle[i] = w_conn(w, w->na, "", "", 0);
	w_run_to(w, t0 + 100 * MS);
	int refused = 0;
	for (int i = 0; i < 6; i++)
		refused += idle[i]->closed;
	assert_int_equal(refused, 2);
	assert_int_equal(st(w)->conns_refused_source, 2);
	struct rawc *b[3];
	for (int i = 0; i < 3; i++)
		b[i] = w_conn(w, w->nb, "acme", "secret", 1);
	w_run_to(w, t0 + 200 * MS);
	assert_int_equal(b[0]->status[0], ESME_ROK);
	assert_int_equal(b[1]->status[0], ESME_ROK);
	assert_int_equal(b[2]->status[0], ESME_RBINDFAIL);
	assert_int_equal(st(w)->binds_over_cap, 1);
	assert_int_equal(st(w)->bind_failures, 0);
	assert_int_equal(st(w)->sources_blocked, 0);
	sy_env_stream_close(b[0]->env, b[0]->st);
	b[0]->st = NULL;
	w_run_to(w, t0 + 300 * MS);
	struct rawc *b4 = w_conn(w, w->nb, "acme", "secret", 1);
	w_run_to(w, t0 + 400 * MS);
	assert_int_equal(b4->status[0], ESME_ROK);
	/* The idle ones time out; their source's slots come back. */
	w_run_to(w, t0 + 6 * SEC);
	for (int i = 0; i < 6; i++)
		assert_true(idle[i]->closed);
	assert_int_equal(st(w)->bind_timeouts, 5);		/* a's 4, and b's refused third */
	struct rawc *a2 = w_conn(w, w->na, "hashed", "hpw", 1); /* acme: at its cap */
	w_run_to(w, t0 + 7 * SEC);
	assert_int_equal(a2->status[0], ESME_ROK);
	w_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_statuses),
	    cmocka_unit_test(test_no_password_no_start),
	    cmocka_unit_test(test_three_failures_then_backoff),
	    cmocka_unit_test(test_backoff_cap),
	    cmocka_unit_test(test_bind_timeout),
	    cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
