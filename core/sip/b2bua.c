/* b2bua.c: call logic of the voice switch: the transaction user on top of
 * the SIP stack. See b2bua.h for what it does; b2bua_msg.c builds messages. */
#include "b2bua_int.h"

#include <stdio.h>
#include <stdlib.h>

void b2bua__on_request(void *arg, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from);
void b2bua__cancel_call(struct b2bua *b, struct call *c);
void b2bua__on_response(void *arg, struct sip_txn *ct, const struct sip_msg *resp);
void b2bua__on_timeout(void *arg, struct sip_txn *t);
void b2bua__on_terminated(void *arg, struct sip_txn *t);
void b2bua__setup_timer_set(struct b2bua *b, struct call *c, uint64_t ns);

static const struct sip_tu b2bua_tu = {b2bua__on_request, b2bua__on_response, b2bua__on_timeout, b2bua__on_terminated};

/* A response made from the transaction's own request (no call state). */
void b2bua__respond_code(struct b2bua *b, struct sip_txn *st, int code, const char *reason)
{
	char tag[48];
	if (sip_txn_request_raw(st).len == 0)
		return;
	b2b_token(b, "s", tag, sizeof(tag));
	struct sip_reply r = {.status = code, .reason = reason, .to_tag = sy_str_from(tag)};
	if (code == 405) /* RFC 3261 21.4.6: a 405 lists what we do accept */
		r.extra = SY_STR("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE\r\n");
	sip_txn_reply(st, &r);
}

/* ---- call pool and index ---- */

struct call *b2bua__call_alloc(struct b2bua *b)
{
	uint32_t idx = b->free_head;
	struct call *c;
	if (idx != CALL_NONE) {
		c = sy_pool_at(&b->calls, idx);
		b->free_head = c->next_free;
	} else if ((c = sy_pool_grow(&b->calls, &idx)) == NULL) {
		return NULL;
	}
	memset(c, 0, offsetof(struct call, buf));
	c->buf = c->inl;
	c->idx = idx;
	c->carrier = -1;
	c->last_carrier = -1;
	c->owner = b;
	c->a_node.leg = LEG_A;
	c->b_node.leg = LEG_B;
	c->seq = ++b->call_seq;
	b->st.active++;
	if (b->st.active > b->st.active_peak)
		b->st.active_peak = b->st.active;
	return c;
}

static struct call *call_of(struct sy_hnode *n)
{
	struct leg_node *ln = SY_CONTAINER_OF(n, struct leg_node, h);
	return ln->leg == LEG_A ? SY_CONTAINER_OF(ln, struct call, a_node) : SY_CONTAINER_OF(ln, struct call, b_node);
}

struct call *b2bua__call_find(struct b2bua *b, struct sy_str call_id, enum call_leg *leg)
{
	struct sy_hnode *n = sy_htab_find(&b->by_call_id, call_id);
	if (n == NULL)
		return NULL;
	*leg = SY_CONTAINER_OF(n, struct leg_node, h)->leg;
	return call_of(n);
}

void b2bua__b_unlink(struct b2bua *b, struct call *c)
{
	if (c->b_linked) {
		sy_htab_remove(&b->by_call_id, &c->b_node.h);
		c->b_linked = false;
	}
}

void b2bua__carrier_release(struct b2bua *b, struct call *c)
{
	if (c->carrier >= 0) {
		struct b2bua_carrier *car = &b->cfg.carriers[c->carrier];
		SY_ASSERT(car->active > 0);
		car->active--;
		c->carrier = -1;
	}
}

/* ---- CDRs ---- */

/* The CDR's times, numbers, carrier and Call-IDs. */
static void cdr_fill(struct b2bua *b, struct call *c, struct cdr *r)
{
	uint64_t now = c->ending ? c->t_end_ns : sy_env_now_ns(b->env); /* ended when its BYE left */
	memset(r, 0, sizeof(*r));
	r->start_ns = c->wall_start_ns;
	r->answer_ns = c->wall_answer_ns;
	r->end_ns = c->wall_start_ns + (now - c->t_invite_ns);
	if (c->answered)
		r->duration_ms = (uint32_t)((now - c->t_answer_ns) / SY_NS_PER_MS);
	uint64_t pdd_end = c->got_18x ? c->t_18x_ns : now;
	r->pdd_ms = (uint32_t)((pdd_end - c->t_invite_ns) / SY_NS_PER_MS);
	r->disposition = c->disposition;
	r->sip_status = (uint16_t)c->final_code;
	r->hangup = c->hangup;
	if (c->last_carrier >= 0)
		cdr_set_str(r->carrier, sizeof(r->carrier), sy_str_from(b->cfg.carriers[c->last_carrier].name));
	cdr_set_str(r->caller, sizeof(r->caller), cs(c, c->caller));
	if (c->who.account != NULL)
		cdr_set_str(r->account, sizeof(r->account), sy_str_from(c->who.account));
	cdr_set_str(r->callee, sizeof(r->callee), cs(c, c->callee));
	cdr_set_str(r->a_call_id, sizeof(r->a_call_id), cs(c, c->a_call_id));
	cdr_set_str(r->b_call_id, sizeof(r->b_call_id), cs(c, c->b_call_id));
	if (c->fraud_action != FRAUD_ALLOW) {
		r->fraud_action = c->fraud_action;
		r->fraud_detector = c->fraud_detector;
		cdr_set_str(r->fraud_reason, sizeof(r->fraud_reason), cs(c, c->fraud_reason));
	}
}

/* Charges the call and releases the rest of its hold, when it ends (not
 * when the answers to its BYEs come): the account's money is free at once. */
void b2bua__bill_close(struct b2bua *b, struct call *c)
{
	struct cdr r;
	if (b->cfg.bill == NULL || c->billed)
		return;
	cdr_fill(b, c, &r);
	callbill_end(b->cfg.bill, &c->bill, r.duration_ms, r.carrier, c->cut_off, &r);
	c->billed = true;
	c->bill_cost = r.cost_micros;
	c->bill_tariff = r.tariff_id;
	c->bill_rated = r.rated_ms;
}

static void call_emit_cdr(struct b2bua *b, struct call *c)
{
	struct cdr r;
	b2bua__bill_close(b, c); /* before the CDR leaves */
	cdr_fill(b, c, &r);
	r.id = ++b->cdr_seq;
	r.cost_micros = c->bill_cost;
	r.tariff_id = c->bill_tariff;
	r.rated_ms = c->bill_rated;
	b->st.cdrs++;
	if (b->cfg.on_cdr != NULL)
		b->cfg.on_cdr(b->cfg.cdr_arg, &r);
}

static void call_buf_free(struct call *c)
{
	if (c->buf != c->inl)
		free(c->buf);
	c->buf = c->inl;
}

/* Ends the call record: CDR out, pool slot back. Transactions that still
 * point at the call are detached, so late responses find no call. */
void b2bua__call_free(struct b2bua *b, struct call *c)
{
	SY_ASSERT(c->state != CALL_FREE);
	call_emit_cdr(b, c);
	if (c->fraud.begun) /* never with fraud off */
		b2bua__fraud_end(b, c);
	if (c->a_ist != NULL)
		sip_txn_set_user(c->a_ist, NULL);
	if (c->b_ict != NULL)
		sip_txn_set_user(c->b_ict, NULL);
	sy_env_timer_cancel(b->env, c->max_timer);
	sy_env_timer_cancel(b->env, c->setup_timer);
	sy_env_timer_cancel(b->env, c->bill_timer);
	b2bua__st_detach(b, c);
	if (c->a_linked)
		sy_htab_remove(&b->by_call_id, &c->a_node.h);
	b2bua__b_unlink(b, c);
	b2bua__carrier_release(b, c);
	call_buf_free(c);
	c->state = CALL_FREE;
	c->next_free = b->free_head;
	b->free_head = c->idx;
	SY_ASSERT(b->st.active > 0);
	b->st.active--;
}

/* ---- sending ---- */

uint64_t b2b_branch(struct b2bua *b)
{
	return sy_env_random_u64(b->env);
}

void b2bua__send_request(struct b2bua *b, const struct sip_request *rq, const struct sy_addr *to, struct sip_txn **out)
{
	uint64_t branch = b2b_branch(b);
	if (strcmp(rq->method, "ACK") == 0)
		sip_stack_send_request(b->stack, rq, branch, to);
	else
		sip_txn_client_send(b->stack, rq, branch, to, NULL, out);
}

/* Final or provisional response to the caller on the A-leg INVITE, with
 * the body (SDP) of body_from (the carrier's 18x/200) when given. */
void b2bua__a_respond_x(struct b2bua *b, struct call *c, int code, const char *reason, const struct sip_msg *body_from,
			struct sy_str extra)
{
	if (c->a_ist == NULL || sip_txn_request_raw(c->a_ist).len == 0)
		return;
	struct sip_reply r = {.status = code, .reason = reason, .extra = extra};
	if (code > 100)
		r.to_tag = cs(c, c->a_tag);
	if (code > 100 && code < 300)
		r.contact = sy_str_from(b->contact);
	if (body_from != NULL)
		sip_raw_body(body_from->raw, &r.content_type, &r.body);
	if (code >= 180 && !c->got_18x) {
		c->got_18x = true; /* the PDD ends at the first 18x, or at the final response */
		c->t_18x_ns = sy_env_now_ns(b->env);
	}
	if (code >= 200) {
		c->final_code = code;
		b->st.final_by_code[code < 700 ? code : 0]++;
		uint64_t dt = sy_env_now_ns(b->env) - c->t_invite_ns;
		if (!c->relayed_18x)
			sy_hist_add(&b->st.pdd, dt);
		if (code < 300)
			sy_hist_add(&b->st.setup, dt);
		else
			b->st.failed++;
	} else if (code >= 180 && !c->relayed_18x) {
		c->relayed_18x = true;
		sy_hist_add(&b->st.pdd, sy_env_now_ns(b->env) - c->t_invite_ns);
	}
	sip_txn_reply(c->a_ist, &r);
}

void b2bua__a_respond(struct b2bua *b, struct call *c, int code, const char *reason, const struct sip_msg *body_from)
{
	b2bua__a_respond_x(b, c, code, reason, body_from, SY_STR_NULL);
}

/* A teardown's BYEs say why (RFC 3326 Reason, cause 403). */
static void bye_reason(const struct call *c, struct sip_request *rq, char *buf, size_t n)
{
	if (c->fraud_teardown)
		rq->extra = (struct sy_str){buf, b2bua__fraud_reason_hdr(c, 403, buf, n)};
}

void b2bua__send_b_bye_x(struct b2bua *b, struct call *c, struct sip_txn **out)
{
	struct sip_request rq;
	struct sy_str routes[B2BUA_ROUTES_MAX];
	char reason[48 + FRAUD_REASON_MAX];
	b2b_b_indialog(c, "BYE", ++c->b_cseq, &rq, routes);
	bye_reason(c, &rq, reason, sizeof(reason));
	b2bua__send_request(b, &rq, &c->b_dst, out);
}

void b2bua__send_a_bye_x(struct b2bua *b, struct call *c, struct sip_txn **out)
{
	struct sip_request rq;
	char reason[48 + FRAUD_REASON_MAX];
	b2b_a_bye(c, &rq);
	bye_reason(c, &rq, reason, sizeof(reason));
	b2bua__send_request(b, &rq, &c->a_src, out);
}

void b2bua__send_b_bye(struct b2bua *b, struct call *c)
{
	b2bua__send_b_bye_x(b, c, NULL);
}

void b2bua__send_a_bye(struct b2bua *b, struct call *c)
{
	b2bua__send_a_bye_x(b, c, NULL);
}

void b2bua__send_b_ack(struct b2bua *b, struct call *c)
{
	struct sip_request rq;
	struct sy_str routes[B2BUA_ROUTES_MAX];
	b2b_b_indialog(c, "ACK", c->b_invite_cseq, &rq, routes);
	b2bua__send_request(b, &rq, &c->b_dst, NULL);
}

/* ---- setup ---- */

static void on_datagram(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct b2bua *b = arg;
	(void)sock;
	if (b->pike != NULL && !sip_pike_pass(b->pike, from, buf, len)) {
		const struct sy_srclimit_stats *ps = sip_pike_stats(b->pike);
		b->st.pike_limited = ps->limited;
		b->st.pike_dropped = ps->dropped;
		b->st.pike_tracked = ps->tracked;
		return; /* blocked: dropped unparsed and unanswered */
	}
	sip_stack_recv(b->stack, from, buf, len);
}

/* pike, with every carrier's address exempt and every [trunk]'s source
 * trusted: they are the switch's contracted peers, whose requests come at
 * carrier rates; pike is for everyone else (digest users, strangers). */
static bool pike_trunk(void *arg, const struct sy_addr *from)
{
	const struct b2bua *b = arg;
	return b->auth != NULL && sip_auth_trunk_match(b->auth, from) >= 0;
}

static enum sy_rc pike_start(struct b2bua *b)
{
	if (sip_pike_create(b->env, &b->cfg.pike, &b->pike) != SY_OK)
		return SY_ERR_NOMEM;
	for (uint32_t i = 0; b->pike != NULL && i < b->cfg.carriers_n; i++) {
		const struct sy_addr *a = &b->cfg.carriers[i].addr;
		struct sip_net n = {.addr = *a, .bits = a->family == SY_AF_INET6 ? 128 : 32};
		sip_pike_exempt(b->pike, &n);
	}
	sip_pike_trust(b->pike, pike_trunk, b);
	return SY_OK;
}

enum sy_rc b2bua_create(const struct b2bua_cfg *cfg, struct b2bua **out)
{
	SY_ASSERT(cfg->env != NULL && cfg->route != NULL && cfg->calls_max > 0);
	struct b2bua *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return SY_ERR_NOMEM;
	b->cfg = *cfg;
	b->env = cfg->env;
	b->cdr_seq = cfg->cdr_id_base;
	sy_hist_init(&b->st.pdd);
	sy_hist_init(&b->st.setup);
	b->free_head = CALL_NONE;
	static const struct sip_access_cfg nobody; /* default deny */
	if ((b->auth = sip_auth_create(b->env, cfg->access != NULL ? cfg->access : &nobody)) == NULL)
		goto out_free;
	if (sy_pool_init(&b->calls, sizeof(struct call), cfg->calls_max) != SY_OK ||
	    /* Call-IDs are chosen by strangers: an unpredictable seed */
	    sy_htab_init_seeded(&b->by_call_id, (uint64_t)cfg->calls_max * 2, sy_env_random_u64(b->env)) != SY_OK)
		goto out_free;
	b->stray_tokens = (uint64_t)STRAY_2XX_BURST * SY_NS_PER_S;
	b->stray_at_ns = sy_env_now_ns(b->env);
	if (pike_start(b) != SY_OK)
		goto out_free;
	if (sy_env_dgram_open(b->env, &cfg->listen, on_datagram, b, &b->sock) != SY_OK)
		goto out_free;
	struct sy_addr local;
	sy_env_dgram_local(b->env, b->sock, &local);
	sy_addr_fmt_host(&local, b->host, sizeof(b->host));
	char hp[SY_ADDR_STRLEN];
	sy_addr_fmt(&local, hp, sizeof(hp));
	snprintf(b->contact, sizeof(b->contact), "<sip:switchyard@%s>", hp);
	struct sip_stack_cfg sc = {
	    .env = b->env,
	    .sock = b->sock,
	    .local = local,
	    .txn_max = cfg->txn_max,
	    .limits = cfg->limits,
	    .timers = cfg->timers,
	    .tu = &b2bua_tu,
	    .tu_arg = b,
	    .raw_requests = true, /* answers come from the raw request (sip_txn_reply) */
	};
	if (sip_stack_create(&sc, &b->stack) != SY_OK)
		goto out_close;
	*out = b;
	return SY_OK;
out_close:
	sy_env_dgram_close(b->env, b->sock);
out_free:
	sip_auth_destroy(b->auth);
	sip_pike_destroy(b->pike);
	sy_htab_free(&b->by_call_id);
	for (uint32_t i = 0; i < sy_pool_used(&b->calls); i++) {
		struct call *c = sy_pool_at(&b->calls, i);
		if (c->state != CALL_FREE)
			call_buf_free(c);
	}
	sy_pool_free(&b->calls);
	free(b);
	return SY_ERR_NOMEM;
}

/* Shutdown: every call in the pool ends now, whatever its state, with its
 * CDR and its billing closed. A connected call gets BYE on both legs; a
 * call in setup gets 503 and its B leg a CANCEL; a call already cancelled
 * (waiting for the carrier's final response to our CANCEL) keeps the
 * disposition it has. A B-leg INVITE still pending is marked orphaned, so a
 * 2xx that crosses the CANCEL is ACKed and ended with BYE, never kept. */
void b2bua_hangup_all(struct b2bua *b)
{
	b->closing = true;
	for (uint32_t i = 0; i < sy_pool_used(&b->calls); i++) {
		struct call *c = sy_pool_at(&b->calls, i);
		struct sip_txn *ict = c->b_ict;
		switch (c->state) {
		case CALL_FREE:
			continue;
		case CALL_ANSWERED:
		case CALL_CONFIRMED:
			c->hangup = CDR_SIDE_SYSTEM;
			b2bua__send_b_bye(b, c);
			b2bua__send_a_bye(b, c);
			b->st.completed++;
			b2bua__call_free(b, c);
			break;
		case CALL_PROCEEDING:
			if (ict != NULL)
				sip_txn_client_cancel(ict);
			b2bua__call_fail(b, c, 503, "Shutting Down", CDR_DISP_FAILED);
			break;
		case CALL_CANCELLING:
		case CALL_ENDING: /* its BYEs are out: no time to wait for answers */
			b2bua__call_free(b, c);
			break;
		}
		if (ict != NULL)
			sip_txn_set_user(ict, &b->orphan);
	}
}

uint64_t b2bua_requests_pending(const struct b2bua *b)
{
	const struct sip_stack_stats *st = sip_stack_stats(b->stack);
	return st->txn_active - st->txn_lingering;
}

void b2bua_destroy(struct b2bua *b)
{
	if (b == NULL)
		return;
	sip_stack_destroy(b->stack);
	sy_env_dgram_close(b->env, b->sock);
	sip_pike_destroy(b->pike);
	sy_htab_free(&b->by_call_id);
	for (uint32_t i = 0; i < sy_pool_used(&b->calls); i++) {
		struct call *c = sy_pool_at(&b->calls, i);
		if (c->state != CALL_FREE)
			call_buf_free(c);
	}
	sy_pool_free(&b->calls);
	sip_auth_destroy(b->auth);
	free(b);
}

const struct b2bua_stats *b2bua_stats(const struct b2bua *b)
{
	if (b->pike != NULL) /* tracked moves with every request: read it now */
		((struct b2bua *)b)->st.pike_tracked = sip_pike_stats(b->pike)->tracked;
	return &b->st;
}

struct sip_stack *b2bua_stack(struct b2bua *b)
{
	return b->stack;
}

const struct sip_auth_stats *b2bua_auth_stats(const struct b2bua *b)
{
	return sip_auth_stats(b->auth);
}
