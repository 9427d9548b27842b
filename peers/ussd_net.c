/* ussd_net.c: the simulated operator USSD node (ussd_net.h): creation and
 * its config checks, the SMPP sessions toward the gateway (binding to it
 * with backoff, or accepting its binds), and what the gateway sends (its
 * submit_sm, answered at once, and the responses to our deliver_sm). The
 * dialogues themselves are ussd_net_dlg.c. */
#include "ussd_net_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/sec/secret.h"

static const struct smpp_sess_ops un_ops;

const char *ussd_net_end_name(enum ussd_net_end e)
{
	static const char *const names[USSD_NET_END_COUNT] = {
	    [USSD_NET_END_NONE] = "none",	    [USSD_NET_END_COMPLETED] = "completed",
	    [USSD_NET_END_EARLY] = "ended_early",   [USSD_NET_END_ABANDONED] = "abandoned",
	    [USSD_NET_END_NO_ANSWER] = "no_answer", [USSD_NET_END_OVERRUN] = "overrun",
	    [USSD_NET_END_FAILED] = "failed",	    [USSD_NET_END_LINK_LOST] = "link_lost",
	    [USSD_NET_END_STOPPED] = "stopped",
	};
	return (unsigned)e < USSD_NET_END_COUNT ? names[e] : "unknown";
}

/* ---- creation ---- */

static void cfg_defaults(struct ussd_net_cfg *c)
{
	if (c->name == NULL)
		c->name = "ussd-node";
	if (c->password == NULL)
		c->password = "";
	if (c->msisdn == NULL)
		c->msisdn = "2547XXXXXXXX";
	c->binds = c->binds ? c->binds : (c->mode == USSD_NET_ACCEPT ? 4 : 1);
	c->window = c->window ? c->window : 1000;
	if (c->release_op == 0)
		c->release_op = 0x20;
	if (c->think.kind == SY_DIST_FIXED && c->think.a_ns == 0)
		c->think = sy_dist_fixed(2 * SY_NS_PER_S);
	c->handset_timeout_ns = c->handset_timeout_ns ? c->handset_timeout_ns : 200 * SY_NS_PER_S;
	c->handsets = c->handsets ? c->handsets : 100000;
	c->open_max = c->open_max ? c->open_max : c->handsets;
	c->tick_ns = c->tick_ns ? c->tick_ns : SY_NS_PER_MS;
	c->rebind_min_ns = c->rebind_min_ns ? c->rebind_min_ns : 500 * SY_NS_PER_MS;
	c->rebind_max_ns = c->rebind_max_ns >= c->rebind_min_ns ? c->rebind_max_ns : 8 * SY_NS_PER_S;
}

static enum sy_rc bad(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return SY_ERR_INVAL;
}

static enum sy_rc cfg_check_codes(const struct ussd_net_cfg *c, char *err, size_t errlen)
{
	if (c->code_n == 0 || c->code_n > USSD_NET_CODES_MAX)
		return bad(err, errlen, "1 to 16 service codes");
	if (c->path_n > USSD_NET_PATHS_MAX)
		return bad(err, errlen, "at most 64 paths");
	for (uint32_t i = 0; i < c->code_n; i++) {
		const struct ussd_net_code *k = &c->codes[i];
		if (k->code == NULL || k->code[0] == '\0' || strlen(k->code) >= USSD_CODE_MAX)
			return bad(err, errlen, "a service code is empty or too long");
		if (k->path_n == 0 || (uint32_t)k->path_first + k->path_n > c->path_n)
			return bad(err, errlen, "every service code needs a path");
	}
	return SY_OK;
}

static enum sy_rc cfg_check(const struct ussd_net_cfg *c, char *err, size_t errlen)
{
	if (c->system_id == NULL || c->system_id[0] == '\0' || strlen(c->system_id) > SMPP_SYSTEM_ID_MAX)
		return bad(err, errlen, "system_id must be 1 to 15 characters");
	if (strlen(c->password) > SMPP_PASSWORD_MAX)
		return bad(err, errlen, "an SMPP password is at most 8 characters");
	if (c->rate_milli == 0)
		return bad(err, errlen, "the dialogue rate must be above 0");
	if (c->binds > USSD_NET_BINDS_MAX || c->fail_text_n > USSD_NET_FAIL_TEXTS_MAX)
		return bad(err, errlen, "at most 16 SMPP sessions");
	if (c->abandon_ppm > 1000000 || c->ref > USSD_REF_USER_MESSAGE_REFERENCE)
		return bad(err, errlen, "bad abandon share or reference kind");
	if (c->release_op != USSD_NET_RELEASE_END_BIT && c->release_op < 32)
		return bad(err, errlen, "release_op must be a vendor value (32..254)");
	if (c->release_op == USSD_NET_RELEASE_END_BIT && c->ref == USSD_REF_USER_MESSAGE_REFERENCE)
		return bad(err, errlen, "user_message_reference has no end bit: a release needs release_op");
	if (c->open_max > (uint32_t)UN_SLABS_MAX * UN_SLAB || c->open_max > c->handsets)
		return bad(err, errlen, "open_max must be at most the handsets");
	if (c->tick_ns < SY_NS_PER_US || c->handset_timeout_ns / c->tick_ns >= UINT32_MAX / 4)
		return bad(err, errlen, "bad tick or handset timeout");
	return cfg_check_codes(c, err, errlen);
}

/* The MSISDN pattern: X positions, and room for every handset's index. */
static enum sy_rc msisdn_init(struct ussd_net *n, char *err, size_t errlen)
{
	const char *p = n->cfg.msisdn;
	p += p[0] == '+';
	size_t len = strlen(p);
	if (len == 0 || len > SMPP_ADDR_MAX)
		return bad(err, errlen, "the MSISDN pattern must be 1 to 20 characters");
	uint64_t room = 1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == 'X') {
			n->x_pos[n->x_n++] = (uint8_t)i;
			room = room < 10000000000ull ? room * 10 : room;
		} else if (p[i] < '0' || p[i] > '9') {
			return bad(err, errlen, "the MSISDN pattern takes digits and X");
		}
	}
	if (n->x_n == 0 || room < n->cfg.handsets)
		return bad(err, errlen, "the MSISDN pattern has too few X digits for the handsets");
	memcpy(n->msisdn, p, len + 1);
	n->msisdn_len = (uint8_t)len;
	return SY_OK;
}

/* Input offsets of each path; the dialled ones are those before a '#'. */
static enum sy_rc paths_init(struct ussd_net *n, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < n->cfg.path_n; i++) {
		const char *in = n->cfg.paths[i].inputs;
		struct un_path *p = &n->paths[i];
		size_t len = in ? strlen(in) : 0;
		if (len >= USSD_NET_PATH_MAX)
			return bad(err, errlen, "a path is too long");
		memcpy(p->text, in ? in : "", len + 1);
		p->n = 0;
		p->dialled = 0;
		if (len == 0)
			continue;
		uint16_t start = 0;
		for (size_t k = 0; k <= len; k++) {
			char ch = p->text[k];
			if (ch != '*' && ch != '#' && ch != '\0')
				continue;
			if (p->n == USSD_NET_INPUTS_MAX || (k == start && ch != '\0') || (ch == '#' && p->dialled))
				return bad(err, errlen, "bad path (empty input, too many inputs or two '#')");
			p->off[p->n++] = start;
			p->text[k] = '\0';
			start = (uint16_t)(k + 1);
			if (ch == '#')
				p->dialled = p->n;
		}
		p->off[p->n] = start;
	}
	return SY_OK;
}

static enum sy_rc pool_make(struct ussd_net *n)
{
	struct smpp_pool_cfg pc = {
	    .env = n->env,
	    .sess_max = n->cfg.mode == USSD_NET_ACCEPT ? n->cfg.binds + 4 : 2 * n->cfg.binds,
	    .window = n->cfg.window,
	    .in_window = 100000,
	    .resp_timeout_ns = n->cfg.resp_timeout_ns,
	    .enquire_interval_ns = n->cfg.enquire_interval_ns,
	    .system_id = sy_str_from(n->cfg.name),
	    .ops = &un_ops,
	    .arg = n,
	};
	enum sy_rc rc = smpp_pool_create(&pc, &n->pool);
	if (rc != SY_OK || n->cfg.mode != USSD_NET_ACCEPT)
		return rc;
	return smpp_pool_listen(n->pool, &n->cfg.listen);
}

static void weights_init(struct ussd_net *n)
{
	for (uint32_t i = 0; i < n->cfg.code_n; i++) {
		const struct ussd_net_code *k = &n->cfg.codes[i];
		n->code_total += k->weight;
		for (uint32_t j = 0; j < k->path_n; j++)
			n->path_total[i] += n->cfg.paths[k->path_first + j].weight;
	}
}

enum sy_rc ussd_net_create(const struct sy_env *env, const struct ussd_net_cfg *cfg, struct ussd_net **out, char *err,
			   size_t errlen)
{
	struct ussd_net *n = calloc(1, sizeof(*n));
	if (n == NULL) {
		snprintf(err, errlen, "out of memory");
		return SY_ERR_NOMEM;
	}
	n->env = env;
	n->cfg = *cfg;
	cfg_defaults(&n->cfg);
	enum sy_rc rc = cfg_check(&n->cfg, err, errlen);
	if (rc == SY_OK)
		rc = msisdn_init(n, err, errlen);
	if (rc == SY_OK)
		rc = paths_init(n, err, errlen);
	if (rc != SY_OK)
		goto out_free;
	n->codec =
	    (struct ussd_codec_cfg){n->cfg.ref, n->cfg.release_op == USSD_NET_RELEASE_END_BIT ? 0 : n->cfg.release_op};
	n->bind_n = n->cfg.binds;
	for (uint32_t i = 0; i < n->bind_n; i++)
		n->binds[i].n = n;
	weights_init(n);
	sy_rng_init_split(&n->rng, sy_env_seed(env), "ussd_net", n->cfg.index);
	sy_hist_init(&n->st.step);
	sy_hist_init(&n->st.dialogue);
	if ((rc = un__tables_init(n)) != SY_OK) {
		snprintf(err, errlen, "out of memory for %u handsets", n->cfg.handsets);
		goto out_free;
	}
	if ((rc = pool_make(n)) != SY_OK) {
		snprintf(err, errlen, "cannot %s: %s", n->cfg.mode == USSD_NET_ACCEPT ? "listen" : "make the SMPP pool",
			 sy_rc_str(rc));
		goto out_free;
	}
	*out = n;
	return SY_OK;
out_free:
	if (n->pool != NULL)
		smpp_pool_destroy(n->pool);
	un__tables_free(n);
	free(n);
	return rc;
}

void ussd_net_destroy(struct ussd_net *n)
{
	if (n == NULL)
		return;
	sy_env_timer_cancel(n->env, n->t_arrival);
	sy_env_timer_cancel(n->env, n->t_wheel);
	for (uint32_t i = 0; i < n->bind_n; i++)
		sy_env_timer_cancel(n->env, n->binds[i].t_rebind);
	smpp_pool_destroy(n->pool);
	un__tables_free(n);
	free(n);
}

void ussd_net_on_session_end(struct ussd_net *n, ussd_net_end_fn fn, void *arg)
{
	n->on_end = fn;
	n->on_end_arg = arg;
}

const struct ussd_net_stats *ussd_net_stats(const struct ussd_net *n)
{
	return &n->st;
}

uint64_t ussd_net_open(const struct ussd_net *n)
{
	return n->st.open;
}

uint32_t ussd_net_bound(const struct ussd_net *n)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < n->bind_n; i++)
		k += n->binds[i].bound;
	return k;
}

/* ---- binds (BIND mode) ---- */

static void bind_connect(struct un_bind *b);

static void rebind_fire(void *arg)
{
	struct un_bind *b = arg;
	b->t_rebind = 0;
	bind_connect(b);
}

/* Exponential backoff; a gateway away for long is retried forever at the
 * longest delay (a node does not give up on its gateway). */
static void bind_retry_later(struct un_bind *b)
{
	struct ussd_net *n = b->n;
	if (n->unbinding || n->cfg.mode != USSD_NET_BIND)
		return;
	b->fails++;
	uint64_t d = n->cfg.rebind_min_ns;
	for (uint32_t i = 1; i < b->fails && d < n->cfg.rebind_max_ns; i++)
		d *= 2;
	b->t_rebind = sy_env_timer_start(n->env, SY_MIN(d, n->cfg.rebind_max_ns), rebind_fire, b);
}

static void bind_connect(struct un_bind *b)
{
	struct ussd_net *n = b->n;
	struct smpp_bind_params bp = {
	    .type = SMPP_BIND_TRX,
	    .system_id = sy_str_from(n->cfg.system_id),
	    .password = sy_str_from(n->cfg.password),
	};
	if (smpp_session_connect(n->pool, &n->cfg.gateway, &bp, &b->s) != SY_OK) {
		b->s = NULL;
		n->st.bind_failures++;
		bind_retry_later(b);
		return;
	}
	smpp_session_set_user(b->s, b);
}

/* The arrivals' clock starts when the first SMPP session is bound, not at
 * ussd_net_start(): a dialogue drawn before there is a link to carry it
 * would only be counted skipped, and a load run's first second would
 * measure the bind instead of the gateway. */
static void arrivals_arm(struct ussd_net *n)
{
	uint64_t now = sy_env_now_ns(n->env);
	n->wait_bind = false;
	n->start_ns = now + n->cfg.start_ns;
	n->stop_at_ns = n->cfg.stop_ns ? now + n->cfg.stop_ns : 0;
	n->next_arrival_ns = n->start_ns;
	un__schedule_arrival(n);
}

void ussd_net_start(struct ussd_net *n)
{
	SY_ASSERT(!n->started);
	n->started = true;
	if (n->cfg.mode == USSD_NET_BIND)
		for (uint32_t i = 0; i < n->bind_n; i++)
			bind_connect(&n->binds[i]);
	if (ussd_net_bound(n) > 0)
		arrivals_arm(n); /* ACCEPT mode: the gateway bound before the start */
	else
		n->wait_bind = true;
}

void ussd_net_stop(struct ussd_net *n)
{
	n->stopping = true;
	sy_env_timer_cancel(n->env, n->t_arrival);
	n->t_arrival = 0;
}

void ussd_net_stop_all(struct ussd_net *n)
{
	ussd_net_stop(n);
	un__end_all(n, USSD_NET_END_STOPPED, true);
}

void ussd_net_unbind(struct ussd_net *n)
{
	ussd_net_stop(n);
	n->unbinding = true;
	for (uint32_t i = 0; i < n->bind_n; i++) {
		struct un_bind *b = &n->binds[i];
		sy_env_timer_cancel(n->env, b->t_rebind);
		b->t_rebind = 0;
		if (b->s == NULL)
			continue;
		if (b->bound && smpp_session_unbind(b->s) == SY_OK)
			continue;
		smpp_session_close(b->s);
		b->s = NULL;
		b->bound = false;
	}
}

/* ---- sending ---- */

struct un_bind *un__bind_ready(struct ussd_net *n)
{
	for (uint32_t k = 0; k < n->bind_n; k++) {
		uint32_t i = (n->rr + k) % n->bind_n;
		struct un_bind *b = &n->binds[i];
		if (b->bound && !b->broken && smpp_session_outstanding(b->s) < n->cfg.window) {
			n->rr = (i + 1) % n->bind_n;
			return b;
		}
	}
	return NULL;
}

enum sy_rc un__send_msg(struct ussd_net *n, struct un_bind *b, const struct ussd_msg *m, uint64_t tag)
{
	struct smpp_pdu pdu;
	enum sy_rc rc = ussd_msg_to_pdu(&n->codec, m, SMPP_DELIVER_SM, &pdu, n->pdu_buf, sizeof(n->pdu_buf));
	SY_ASSERT(rc == SY_OK); /* our own texts and addresses always fit */
	rc = smpp_session_send(b->s, &pdu, tag, NULL);
	if (rc == SY_OK)
		n->st.tx_msgs++;
	else if (rc != SY_AGAIN)
		b->broken = true; /* not bound any more, or the write failed: on_close follows */
	return rc;
}

/* ---- session callbacks ---- */

static struct un_bind *bind_of(struct ussd_net *n, struct smpp_session *s)
{
	struct un_bind *b = smpp_session_user(s);
	SY_ASSERT(b != NULL && b->n == n && b->s == s);
	return b;
}

/* ACCEPT: a slot for the gateway's new session, or refuse it. */
static bool on_accept(void *arg, struct smpp_session *s)
{
	struct ussd_net *n = arg;
	if (n->unbinding)
		return false;
	for (uint32_t i = 0; i < n->bind_n; i++) {
		struct un_bind *b = &n->binds[i];
		if (b->s == NULL) {
			*b = (struct un_bind){.n = n, .s = s, .ever_bound = b->ever_bound};
			smpp_session_set_user(s, b);
			return true;
		}
	}
	n->st.bind_failures++;
	return false;
}

static uint32_t on_auth(void *arg, struct smpp_session *s, struct sy_str system_id, struct sy_str password,
			enum smpp_bind_type type, struct smpp_tbucket **tb)
{
	struct ussd_net *n = arg;
	struct sy_str want = sy_str_from(n->cfg.system_id), pw = sy_str_from(n->cfg.password);
	bool id_ok = system_id.len == want.len && sy_ct_equal(system_id.p, want.p, want.len);
	bool pw_ok = pw.len == 0 || (password.len == pw.len && sy_ct_equal(password.p, pw.p, pw.len));
	if (!id_ok || !pw_ok) {
		n->st.bind_failures++;
		return id_ok ? ESME_RINVPASWD : ESME_RINVSYSID;
	}
	return type == SMPP_BIND_TRX ? ESME_ROK : ESME_RBINDFAIL; /* dialogues go both ways */
}

static void on_bound(void *arg, struct smpp_session *s, uint32_t status)
{
	struct ussd_net *n = arg;
	struct un_bind *b = bind_of(n, s);
	if (status != ESME_ROK)
		return; /* on_close(BIND_FAILED) follows: counted and retried there */
	n->st.binds_ok++;
	b->ever_bound = b->bound = true;
	b->broken = false;
	b->fails = 0;
	if (n->wait_bind && !n->stopping)
		arrivals_arm(n);
	un__pump(n);
}

static void on_close(void *arg, struct smpp_session *s, enum smpp_close_reason why)
{
	struct ussd_net *n = arg;
	struct un_bind *b = bind_of(n, s);
	SY_LOG(n->env, SY_LOG_INFO, "%s: SMPP session closed: %s", n->cfg.name, smpp_close_reason_str(why));
	bool was_bound = b->bound;
	bool ours = why == SMPP_CLOSE_UNBOUND && n->unbinding; /* our own unbind: not a drop */
	n->st.session_drops += was_bound && !ours;
	n->st.bind_failures += !was_bound;
	b->s = NULL;
	b->bound = false;
	b->broken = false;
	/* The dialogues went with the last session: nothing reaches their
	 * handsets any more (the gateway ends them as network aborts). */
	if (was_bound && ussd_net_bound(n) == 0)
		un__end_all(n, USSD_NET_END_LINK_LOST, false);
	bind_retry_later(b);
}

static void on_request(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	struct ussd_net *n = arg;
	uint32_t cmd = req->command_id, status = ESME_ROK;
	if (cmd == SMPP_ALERT_NOTIFICATION)
		return;
	if (cmd != SMPP_SUBMIT_SM && cmd != SMPP_DATA_SM) {
		(void)smpp_session_respond(s, req->sequence_number, ESME_RINVCMDID, SY_STR(""));
		return;
	}
	n->st.rx_msgs++;
	if (ussd_msg_from_pdu(&n->codec, req, &n->rx, &status) != SY_OK) {
		n->st.rx_bad++;
		(void)smpp_session_respond(s, req->sequence_number, status, SY_STR(""));
		return;
	}
	(void)smpp_session_respond(s, req->sequence_number, ESME_ROK, SY_STR(""));
	un__on_msg(n, &n->rx);
}

static void on_response(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			const struct smpp_pdu *resp)
{
	struct ussd_net *n = arg;
	if (how == SMPP_REQ_RESP && resp->command_id != SMPP_GENERIC_NACK && resp->command_status == ESME_ROK) {
		un__pump(n);
		return;
	}
	if (how == SMPP_REQ_TIMEOUT)
		n->st.resp_timeouts++;
	else if (how == SMPP_REQ_RESP)
		n->st.resp_errors++;
	/* SMPP_REQ_CLOSED: the session is going; the dialogue waits for its
	 * answer on the others, or ends with the last of them. */
	if (how != SMPP_REQ_CLOSED)
		un__send_failed(n, tag);
	un__pump(n);
}

static const struct smpp_sess_ops un_ops = {
    .on_accept = on_accept,
    .auth = on_auth,
    .on_bound = on_bound,
    .on_request = on_request,
    .on_response = on_response,
    .on_close = on_close,
};
