/* link.c: the gateway's SMPP links toward the operators' USSD nodes
 * (ussd_int.h). Two modes per [ussd-link]:
 *
 *   accept  the node binds to us on [ussd] listen as a transceiver. Like the
 *           SMSC's binds (core/smpp/smsc_bind.c): the password is checked in
 *           constant time (core/sec/secret.h), an unknown system_id against
 *           a dummy secret of the same cost, every refusal is the one
 *           ESME_RBINDFAIL, a failed bind blocks its source with doubling
 *           backoff and bind_fails_max failures close the stream; a source
 *           holds at most conns_per_source streams and a stream that has
 *           not bound within bind_timeout is closed (core/sec/limit.h, the
 *           pool). At most `binds` sessions are bound per link.
 *   bind    we connect to the node's address and bind as a transceiver,
 *           `binds` sessions, each reconnecting with backoff (1 s doubling
 *           to 30 s).
 *
 * The node's deliver_sm / data_sm become struct ussd_msg (codec.h) for the
 * engine, answered with the engine's status; what does not decode is
 * answered with the codec's status. A submit_sm from the node is refused
 * with ESME_RINVCMDID: submit_sm is the gateway's direction (agreed wire
 * conventions), so one arriving means a node configured the wrong way
 * round or a loop, and taking it as a dialogue message would open sessions
 * from the wrong side. The engine's messages go out as submit_sm, round
 * robin over the link's bound sessions with window space; while every
 * window is full they wait in a FIFO per link (link_queue.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sec/limit.h"
#include "core/ussd/link_int.h"

#define RECONNECT_MIN_NS (1 * SY_NS_PER_S)
#define RECONNECT_MAX_NS (30 * SY_NS_PER_S)
#define SMPP_PORT	 2775
#define LISTEN_PORT	 2776
/* Unbound streams the accept pool holds beyond the links' binds (each
 * source at most conns_per_source, each for at most bind_timeout). */
#define ACCEPT_SPARE 64

/* ---- the link state ---- */

static void link_down(struct ussd_link *l)
{
	struct ussd_links *ls = l->ls;
	link__queue_clear(&l->q);
	if (!ls->stopping)
		ls->c.on_link_down(ls->c.u, l->idx);
}

static void conn_up(struct link_conn *c)
{
	struct ussd_link *l = c->l;
	SY_ASSERT(!c->bound && c->s != NULL);
	c->bound = true;
	l->up++;
	l->ls->c.st->links_up++;
	l->ls->c.st->binds_ok++;
	link__drain(l);
}

/* The session of c ended (or never bound); the link goes down with its
 * last bound session. */
static void conn_gone(struct link_conn *c)
{
	struct ussd_link *l = c->l;
	bool was_bound = c->bound;
	c->s = NULL;
	c->bound = false;
	if (!was_bound)
		return;
	SY_ASSERT(l->up > 0 && l->ls->c.st->links_up > 0);
	l->up--;
	l->ls->c.st->links_up--;
	if (l->up == 0)
		link_down(l);
}

/* ---- bind mode: we connect ---- */

static void conn_connect(struct link_conn *c);

static void reconnect_fire(void *arg)
{
	struct link_conn *c = arg;
	c->t_reconnect = 0;
	conn_connect(c);
}

static void conn_retry_later(struct link_conn *c)
{
	struct ussd_links *ls = c->l->ls;
	if (ls->stopping)
		return;
	c->backoff_ns = c->backoff_ns == 0 ? RECONNECT_MIN_NS : SY_MIN(c->backoff_ns * 2, RECONNECT_MAX_NS);
	c->t_reconnect = sy_env_timer_start(ls->c.env, c->backoff_ns, reconnect_fire, c);
}

static void conn_connect(struct link_conn *c)
{
	const struct ussd_link_cfg *lc = c->l->cfg;
	struct smpp_bind_params bp = {
	    .type = SMPP_BIND_TRX, .system_id = sy_str_from(lc->system_id), .password = sy_str_from(lc->password)};
	struct smpp_session *ss;
	if (smpp_session_connect(c->l->ls->cli, &c->l->addr, &bp, &ss) != SY_OK) {
		conn_retry_later(c);
		return;
	}
	smpp_session_set_user(ss, c);
	c->s = ss;
}

static void cli_on_bound(void *arg, struct smpp_session *ss, uint32_t status)
{
	struct ussd_links *ls = arg;
	struct link_conn *c = smpp_session_user(ss);
	if (status != ESME_ROK) {
		ls->c.st->binds_failed++;
		SY_LOG(ls->c.env, SY_LOG_WARN, "ussd: link %s: the node refused our bind: %s", c->l->cfg->name,
		       smpp_status_name(status));
		return; /* on_close follows */
	}
	c->backoff_ns = 0;
	conn_up(c);
}

/* ---- accept mode: the node binds to us ---- */

static bool srv_on_accept(void *arg, struct smpp_session *ss)
{
	struct ussd_links *ls = arg;
	const struct sy_addr *from = smpp_session_peer(ss);
	uint64_t now = sy_env_now_ns(ls->c.env);
	if (ls->stopping || sy_srclimit_blocked(ls->src, from, now))
		return false;
	return sy_srclimit_conn_open(ls->src, from, now);
}

/* Every refused login: the one status, and the source waits longer each
 * time (binds tried while it waits are not even checked). */
static uint32_t bind_refuse(struct ussd_links *ls, const struct sy_addr *from, uint64_t now)
{
	const struct sy_bind_guard *g = &ls->guard;
	ls->c.st->binds_failed++;
	sy_srclimit_fail(ls->src, from, now, g->fail_backoff_ns, g->fail_backoff_max_ns);
	return ESME_RBINDFAIL;
}

static struct ussd_link *accept_link_find(struct ussd_links *ls, struct sy_str system_id)
{
	for (uint32_t i = 0; i < ls->n; i++) {
		struct ussd_link *l = &ls->link[i];
		if (l->cfg->mode == USSD_LINK_ACCEPT && sy_str_eq(sy_str_from(l->cfg->system_id), system_id))
			return l;
	}
	return NULL;
}

static struct link_conn *conn_free_slot(struct ussd_link *l)
{
	for (uint32_t k = 0; k < l->binds; k++)
		if (l->conn[k].s == NULL)
			return &l->conn[k];
	return NULL;
}

static uint32_t srv_auth(void *arg, struct smpp_session *ss, struct sy_str system_id, struct sy_str password,
			 enum smpp_bind_type type, struct smpp_tbucket **tb)
{
	struct ussd_links *ls = arg;
	const struct sy_addr *from = smpp_session_peer(ss);
	uint64_t now = sy_env_now_ns(ls->c.env);
	if (ls->stopping)
		return ESME_RBINDFAIL;
	if (sy_srclimit_blocked(ls->src, from, now))
		return bind_refuse(ls, from, now);
	struct ussd_link *l = accept_link_find(ls, system_id);
	/* The check runs whether or not the name exists: same work either way. */
	bool match = sy_secret_check(l != NULL ? &l->secret : &ls->dummy, password.p, password.len);
	if (!match || l == NULL || password.len == 0)
		return bind_refuse(ls, from, now);
	sy_srclimit_success(ls->src, from);
	/* The node sends deliver_sm and receives submit_sm: a transceiver.
	 * Not a failed login (the password was right): no backoff. */
	struct link_conn *c = type == SMPP_BIND_TRX ? conn_free_slot(l) : NULL;
	if (c == NULL) {
		ls->c.st->binds_failed++;
		SY_LOG(ls->c.env, SY_LOG_WARN, "ussd: link %s: bind refused: %s", l->cfg->name,
		       type != SMPP_BIND_TRX ? "not a transceiver" : "all its binds are in use");
		return ESME_RBINDFAIL;
	}
	c->s = ss; /* reserved; bound in srv_on_bound, which follows at once */
	smpp_session_set_user(ss, c);
	*tb = NULL;
	return ESME_ROK;
}

static void srv_on_bound(void *arg, struct smpp_session *ss, uint32_t status)
{
	struct link_conn *c = smpp_session_user(ss);
	SY_ASSERT(status == ESME_ROK && c != NULL && c->s == ss);
	conn_up(c);
}

/* ---- both pools ---- */

static void on_close(void *arg, struct smpp_session *ss, enum smpp_close_reason why)
{
	struct ussd_links *ls = arg;
	struct link_conn *c = smpp_session_user(ss);
	bool server = smpp_session_pool(ss) == ls->srv;
	if (server)
		sy_srclimit_conn_close(ls->src, smpp_session_peer(ss));
	if (c == NULL)
		return; /* an accepted stream that never bound */
	SY_LOG(ls->c.env, SY_LOG_INFO, "ussd: link %s: SMPP session closed: %s", c->l->cfg->name,
	       smpp_close_reason_str(why));
	conn_gone(c);
	if (!server)
		conn_retry_later(c);
}

static uint32_t request_status(struct ussd_links *ls, struct link_conn *c, const struct smpp_pdu *req)
{
	struct ussd_msg *m = &ls->rx;
	uint32_t st;
	/* submit_sm is ours to send (see the top); query_sm, cancel_sm and
	 * replace_sm mean nothing in a dialogue. */
	if (req->command_id != SMPP_DELIVER_SM && req->command_id != SMPP_DATA_SM) {
		ls->c.st->rx_bad++;
		return ESME_RINVCMDID;
	}
	if (ussd_msg_from_pdu(&c->l->codec, req, m, &st) != SY_OK) {
		ls->c.st->rx_bad++;
		return st;
	}
	if (ls->stopping)
		return ESME_RSYSERR;
	ls->c.st->rx_msgs++;
	return ls->c.on_msg(ls->c.u, c->l->idx, m);
}

static void on_request(void *arg, struct smpp_session *ss, const struct smpp_pdu *req)
{
	struct ussd_links *ls = arg;
	struct link_conn *c = smpp_session_user(ss);
	if (req->command_id == SMPP_ALERT_NOTIFICATION)
		return;			  /* no response; nothing for USSD in it */
	SY_ASSERT(c != NULL && c->bound); /* the pool passes requests on bound sessions only */
	/* The engine's callback may send on this session (a menu answers at
	 * once), so its submit_sm can precede this response: SMPP allows it. */
	uint32_t st = request_status(ls, c, req);
	(void)smpp_session_respond(ss, req->sequence_number, st, SY_STR_NULL);
}

static void on_response(void *arg, struct smpp_session *ss, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			const struct smpp_pdu *resp)
{
	struct link_conn *c = smpp_session_user(ss);
	if (how == SMPP_REQ_RESP && resp->command_status != ESME_ROK)
		SY_LOG_LIMITED(c->l->ls->c.env, &c->l->log_lim, SY_LOG_WARN, "ussd: link %s: the node answered %s",
			       c->l->cfg->name, smpp_status_name(resp->command_status));
	if (how != SMPP_REQ_CLOSED)
		link__drain(c->l);
}

static const struct smpp_sess_ops srv_ops = {
    .on_accept = srv_on_accept,
    .auth = srv_auth,
    .on_bound = srv_on_bound,
    .on_request = on_request,
    .on_response = on_response,
    .on_close = on_close,
};

static const struct smpp_sess_ops cli_ops = {
    .on_bound = cli_on_bound,
    .on_request = on_request,
    .on_response = on_response,
    .on_close = on_close,
};

/* ---- sending ---- */

struct link_conn *link__pick(struct ussd_link *l)
{
	for (uint32_t k = 0; k < l->binds; k++) {
		struct link_conn *c = &l->conn[(l->rr + k) % l->binds];
		if (c->bound && smpp_session_outstanding(c->s) < l->window) {
			l->rr = (l->rr + k + 1) % l->binds;
			return c;
		}
	}
	return NULL;
}

static enum sy_rc conn_send(struct link_conn *c, const struct smpp_pdu *p)
{
	enum sy_rc rc = smpp_session_send(c->s, p, 0, NULL);
	if (rc == SY_OK)
		c->l->ls->c.st->tx_msgs++;
	return rc;
}

enum sy_rc link__send_now(struct ussd_link *l, struct link_conn *c, const struct ussd_msg *m)
{
	struct smpp_pdu p;
	enum sy_rc rc = ussd_msg_to_pdu(&l->codec, m, SMPP_SUBMIT_SM, &p, l->ls->tbuf, sizeof(l->ls->tbuf));
	return rc != SY_OK ? rc : conn_send(c, &p);
}

enum sy_rc ussd_link_send(struct ussd_links *ls, uint16_t li, const struct ussd_msg *m)
{
	SY_ASSERT(li < ls->n);
	struct ussd_link *l = &ls->link[li];
	if (l->up == 0 || ls->stopping)
		return SY_ERR_STATE;
	/* Only what can go on the wire is queued. */
	struct smpp_pdu p;
	if (ussd_msg_to_pdu(&l->codec, m, SMPP_SUBMIT_SM, &p, ls->tbuf, sizeof(ls->tbuf)) != SY_OK)
		return SY_ERR_INVAL;
	struct link_conn *c = l->q.n == 0 ? link__pick(l) : NULL; /* behind the queue, never past it */
	if (c != NULL) {
		enum sy_rc rc = conn_send(c, &p);
		if (rc != SY_AGAIN)
			return rc;
	}
	if (l->q.n >= l->queue_max) {
		ls->c.st->tx_queue_full++;
		return SY_ERR_FULL;
	}
	return link__queue_put(&l->q, m);
}

/* ---- life cycle ---- */

static void guard_dummy(struct ussd_links *ls)
{
	sy_secret_dummy_begin(&ls->dummy);
	for (uint32_t i = 0; i < ls->n; i++)
		sy_secret_dummy_fold(&ls->dummy, &ls->link[i].secret);
	sy_env_random(ls->c.env, ls->dummy.salt, sizeof(ls->dummy.salt));
	sy_env_random(ls->c.env, ls->dummy.hash, sizeof(ls->dummy.hash));
}

static enum sy_rc link_init(struct ussd_links *ls, uint16_t i, char *err, size_t errlen)
{
	const struct ussd_link_cfg *lc = &ls->c.cfg->links[i];
	struct ussd_link *l = &ls->link[i];
	l->ls = ls;
	l->cfg = lc;
	l->idx = i;
	l->codec = (struct ussd_codec_cfg){lc->ref, lc->release_op};
	l->binds = lc->binds != 0 ? lc->binds : (lc->mode == USSD_LINK_ACCEPT ? 4 : 1);
	l->binds = SY_MIN(l->binds, (uint32_t)USSD_LINK_BINDS_MAX);
	l->window = lc->window != 0 ? lc->window : 1000;
	l->queue_max = lc->queue_max != 0 ? lc->queue_max : 100000;
	for (uint32_t k = 0; k < l->binds; k++)
		l->conn[k].l = l;
	char why[128] = "";
	if (lc->mode == USSD_LINK_ACCEPT) {
		if (sy_secret_parse(&l->secret, lc->password, strlen(lc->password), why, sizeof(why)) != SY_OK) {
			snprintf(err, errlen, "ussd: [ussd-link %s] password: %s", lc->name, why[0] ? why : "empty");
			return SY_ERR_INVAL;
		}
		if (ls->c.cfg->listen[0] == '\0') {
			snprintf(err, errlen, "ussd: [ussd-link %s] accepts binds but [ussd] has no listen", lc->name);
			return SY_ERR_INVAL;
		}
	} else if (sy_addr_parse(lc->address, SMPP_PORT, &l->addr) != SY_OK) {
		snprintf(err, errlen, "ussd: [ussd-link %s] address '%s' is not host:port", lc->name, lc->address);
		return SY_ERR_INVAL;
	}
	return SY_OK;
}

enum sy_rc ussd_links_create(const struct ussd_links_cfg *c, struct ussd_links **out, char *err, size_t errlen)
{
	SY_ASSERT(c->env != NULL && c->cfg != NULL && c->st != NULL && c->on_msg != NULL && c->on_link_down != NULL);
	if (c->cfg->link_n > USSD_LINKS_MAX) {
		snprintf(err, errlen, "ussd: %u links, at most %d", c->cfg->link_n, USSD_LINKS_MAX);
		return SY_ERR_INVAL;
	}
	struct ussd_links *ls = calloc(1, sizeof(*ls));
	if (ls == NULL)
		return SY_ERR_NOMEM;
	ls->c = *c;
	ls->n = c->cfg->link_n;
	ls->guard = c->cfg->guard;
	sy_bind_guard_defaults(&ls->guard);
	for (uint16_t i = 0; i < ls->n; i++) {
		enum sy_rc rc = link_init(ls, i, err, errlen);
		if (rc != SY_OK) {
			ussd_links_destroy(ls);
			return rc;
		}
	}
	guard_dummy(ls);
	*out = ls;
	return SY_OK;
}

static enum sy_rc pools_create(struct ussd_links *ls, char *err, size_t errlen)
{
	uint32_t acc = 0, bnd = 0, win_acc = 1, win_bnd = 1;
	for (uint32_t i = 0; i < ls->n; i++) {
		struct ussd_link *l = &ls->link[i];
		bool a = l->cfg->mode == USSD_LINK_ACCEPT;
		*(a ? &acc : &bnd) += l->binds;
		*(a ? &win_acc : &win_bnd) = SY_MAX(*(a ? &win_acc : &win_bnd), l->window);
	}
	const struct sy_bind_guard *g = &ls->guard;
	struct smpp_pool_cfg sc = {.env = ls->c.env,
				   .sess_max = acc + ACCEPT_SPARE,
				   .window = win_acc,
				   .bind_timeout_ns = g->bind_timeout_ns,
				   .bind_fails_max = g->bind_fails_max,
				   .ops = &srv_ops,
				   .arg = ls};
	struct smpp_pool_cfg cc = {.env = ls->c.env, .sess_max = bnd, .window = win_bnd, .ops = &cli_ops, .arg = ls};
	if ((acc > 0 && smpp_pool_create(&sc, &ls->srv) != SY_OK) ||
	    (bnd > 0 && smpp_pool_create(&cc, &ls->cli) != SY_OK)) {
		snprintf(err, errlen, "ussd: SMPP session pools: out of memory");
		return SY_ERR_NOMEM;
	}
	return SY_OK;
}

static enum sy_rc links_listen(struct ussd_links *ls, char *err, size_t errlen)
{
	struct sy_addr a;
	if (sy_addr_parse(ls->c.cfg->listen, LISTEN_PORT, &a) != SY_OK) {
		snprintf(err, errlen, "ussd: [ussd] listen '%s' is not host:port", ls->c.cfg->listen);
		return SY_ERR_INVAL;
	}
	struct sy_srclimit_cfg lc = {
	    .conns = ls->guard.conns_per_source, .slots = 4096, .seed = sy_env_random_u64(ls->c.env)};
	if (sy_srclimit_create(&lc, &ls->src) != SY_OK) {
		snprintf(err, errlen, "ussd: out of memory");
		return SY_ERR_NOMEM;
	}
	enum sy_rc rc = smpp_pool_listen(ls->srv, &a);
	if (rc != SY_OK)
		snprintf(err, errlen, "ussd: cannot listen on %s: %s", ls->c.cfg->listen, sy_rc_str(rc));
	return rc;
}

enum sy_rc ussd_links_start(struct ussd_links *ls, char *err, size_t errlen)
{
	enum sy_rc rc = pools_create(ls, err, errlen);
	if (rc != SY_OK)
		return rc;
	if (ls->srv != NULL && (rc = links_listen(ls, err, errlen)) != SY_OK)
		return rc;
	for (uint32_t i = 0; i < ls->n; i++) {
		struct ussd_link *l = &ls->link[i];
		if (l->cfg->mode != USSD_LINK_BIND)
			continue;
		for (uint32_t k = 0; k < l->binds; k++)
			conn_connect(&l->conn[k]);
	}
	return SY_OK;
}

void ussd_links_stop(struct ussd_links *ls)
{
	if (ls == NULL || ls->stopping)
		return;
	ls->stopping = true;
	for (uint32_t i = 0; i < ls->n; i++) {
		struct ussd_link *l = &ls->link[i];
		for (uint32_t k = 0; k < l->binds; k++) {
			struct link_conn *c = &l->conn[k];
			sy_env_timer_cancel(ls->c.env, c->t_reconnect);
			c->t_reconnect = 0;
			if (c->bound)
				(void)smpp_session_unbind(c->s);
		}
		link__queue_clear(&l->q);
	}
}

void ussd_links_destroy(struct ussd_links *ls)
{
	if (ls == NULL)
		return;
	ussd_links_stop(ls);
	if (ls->srv != NULL)
		smpp_pool_destroy(ls->srv);
	if (ls->cli != NULL)
		smpp_pool_destroy(ls->cli);
	sy_srclimit_destroy(ls->src);
	for (uint32_t i = 0; i < ls->n; i++)
		link__queue_free(&ls->link[i].q);
	free(ls);
}

uint64_t ussd_links_bytes(const struct ussd_links *ls)
{
	uint64_t b = sizeof(*ls);
	if (ls->srv != NULL)
		b += smpp_pool_bytes(ls->srv);
	if (ls->cli != NULL)
		b += smpp_pool_bytes(ls->cli);
	for (uint32_t i = 0; i < ls->n; i++)
		b += ls->link[i].q.cap;
	return b;
}
