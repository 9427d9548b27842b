/* b2bua_timer.c: no zombie calls. RFC 4028 session timers on both legs and
 * the end of a call.
 *
 * The switch asks the carrier for Session-Expires (refresher=uac: us) and
 * answers the caller with refresher=uas (us again), so one timer refreshes
 * both legs: every half interval it sends UPDATE (no body) on each leg. A
 * final answer refreshes that leg (a 405/501 from a peer without UPDATE
 * still shows it holds the dialog); a timeout, 408 or 481 (RFC 4028 10)
 * ends the call, and so does a leg not refreshed for a whole interval. A
 * refresh from a peer (UPDATE, re-INVITE) refreshes its leg too. A caller's interval below min_se gets
 * 422 with Min-SE; a carrier's 422 is retried once with its Min-SE.
 *
 * A call ends with BYE on the legs still up and keeps its pool slot until
 * those BYEs are answered: the CDR is written then, with the time the
 * first BYE left as its end, and says BYE_TIMEOUT when a BYE got no answer
 * (timer F: the peer vanished), SESSION_EXPIRED when a refresh failed. */
#include "b2bua_int.h"

#include <stdio.h>

#define SE_MAX_S 86400u /* larger values are read as this */

/* The value of the first header named name (or its compact form). */
static bool hdr_find(struct sy_str msg, const char *name, const char *compact, struct sy_str *out)
{
	size_t pos = sip_raw_headers_at(msg);
	struct sip_raw_hdr h;
	while (sip_raw_next(msg, &pos, &h)) {
		if (sy_str_ieq(h.name, sy_str_from(name)) || (compact != NULL && sy_str_ieq(h.name, sy_str_from(compact)))) {
			*out = h.value;
			return true;
		}
	}
	return false;
}

/* delta-seconds at the start of a Session-Expires or Min-SE value. */
static bool hdr_seconds(struct sy_str msg, const char *name, const char *compact, uint32_t *out)
{
	struct sy_str v;
	if (!hdr_find(msg, name, compact, &v))
		return false;
	uint64_t n = 0;
	size_t i = 0;
	for (; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++)
		n = SY_MIN(n * 10 + (uint64_t)(v.p[i] - '0'), (uint64_t)SE_MAX_S);
	if (i == 0)
		return false;
	*out = (uint32_t)n;
	return true;
}

/* Supported (k) lists the option tag "timer". */
static bool supports_timer(struct sy_str msg)
{
	size_t pos = sip_raw_headers_at(msg), lp;
	struct sip_raw_hdr h;
	struct sy_str item;
	while (sip_raw_next(msg, &pos, &h)) {
		if (!sy_str_ieq(h.name, SY_STR("Supported")) && !sy_str_ieq(h.name, SY_STR("k")))
			continue;
		for (lp = 0; sip_raw_list_next(h.value, &lp, &item);)
			if (sy_str_ieq(item, SY_STR("timer")))
				return true;
	}
	return false;
}

bool b2bua__st_check_a(struct b2bua *b, struct call *c, const struct sip_msg *inv)
{
	uint32_t se = b->cfg.session_expires_s, want = 0, min_se = 0;
	if (se == 0)
		return true;
	c->a_timer = supports_timer(inv->raw);
	if (hdr_seconds(inv->raw, "Session-Expires", "x", &want) && want < b->cfg.min_se_s) {
		char extra[64];
		int n = snprintf(extra, sizeof(extra), "Min-SE: %u\r\n", b->cfg.min_se_s);
		b->st.too_small++;
		c->disposition = CDR_DISP_FAILED;
		c->hangup = CDR_SIDE_SYSTEM;
		b2bua__a_respond_x(b, c, 422, "Session Interval Too Small", NULL, (struct sy_str){extra, (size_t)n});
		b2bua__call_free(b, c);
		return false;
	}
	/* the caller's own Min-SE binds every interval of this session */
	hdr_seconds(inv->raw, "Min-SE", NULL, &min_se);
	c->a_se_s = want != 0 ? SY_MIN(want, SY_MAX(se, min_se)) : SY_MAX(se, min_se);
	c->b_min_se_s = SY_MAX(b->cfg.min_se_s, min_se);
	c->b_se_s = SY_MAX(se, c->b_min_se_s);
	return true;
}

static const char allow[] = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE\r\n";

void b2bua__st_invite_extra(struct b2bua *b, struct call *c, struct sip_request *rq, char *buf, size_t n)
{
	int len = c->b_se_s == 0 ? snprintf(buf, n, "%s", allow)
				 : snprintf(buf, n, "%sSupported: timer\r\nSession-Expires: %u;refresher=uac\r\nMin-SE: %u\r\n",
					    allow, c->b_se_s, c->b_min_se_s);
	(void)b;
	SY_ASSERT(len > 0 && (size_t)len < n);
	rq->extra = (struct sy_str){buf, (size_t)len};
}

bool b2bua__st_on_422(struct call *c, const struct sip_msg *resp)
{
	uint32_t min_se = 0;
	if (c->b_se_s == 0 || c->se_retried || !hdr_seconds(resp->raw, "Min-SE", NULL, &min_se) || min_se <= c->b_se_s)
		return false;
	c->se_retry = c->se_retried = true; /* once: a carrier asking again is a failure */
	c->b_se_s = min_se;
	c->b_min_se_s = min_se;
	c->route_pos--; /* the same carrier again */
	return true;
}

static void refresh_fire(void *arg);

static void refresh_schedule(struct b2bua *b, struct call *c)
{
	uint32_t se = SY_MIN(c->a_se_s, c->b_se_s);
	c->refresh_timer = sy_env_timer_start(b->env, (uint64_t)se * SY_NS_PER_S / 2, refresh_fire, c);
}

void b2bua__st_answered(struct b2bua *b, struct call *c, const struct sip_msg *resp, char *extra, size_t n,
			struct sy_str *out)
{
	uint32_t se = 0;
	*out = SY_STR_NULL;
	if (c->b_se_s == 0)
		return;
	if (hdr_seconds(resp->raw, "Session-Expires", "x", &se) && se >= 1) /* the carrier may lower it */
		c->b_se_s = se;
	c->a_fresh_ns = c->b_fresh_ns = sy_env_now_ns(b->env);
	int len = snprintf(extra, n, "Session-Expires: %u;refresher=uas\r\n%s", c->a_se_s,
			   c->a_timer ? "Require: timer\r\n" : "");
	SY_ASSERT(len > 0 && (size_t)len < n);
	*out = (struct sy_str){extra, (size_t)len};
	refresh_schedule(b, c);
}

/* Our UPDATE on one leg: no body, the interval, us the refresher. */
static void send_update(struct b2bua *b, struct call *c, enum call_leg leg)
{
	struct sip_request rq;
	struct sy_str routes[B2BUA_ROUTES_MAX];
	char extra[64];
	int n = snprintf(extra, sizeof(extra), "Session-Expires: %u;refresher=uac\r\n", leg == LEG_A ? c->a_se_s : c->b_se_s);
	struct sip_txn **t = leg == LEG_A ? &c->a_upd : &c->b_upd;
	if (leg == LEG_A) {
		b2b_a_bye(c, &rq); /* the A dialog's request, then made an UPDATE */
		rq.method = "UPDATE";
	} else {
		b2b_b_indialog(c, "UPDATE", ++c->b_cseq, &rq, routes);
	}
	rq.extra = (struct sy_str){extra, (size_t)n};
	*t = NULL;
	b2bua__send_request(b, &rq, leg == LEG_A ? &c->a_src : &c->b_dst, t);
	if (*t != NULL)
		sip_txn_set_user(*t, c);
	b->st.refreshes++;
}

static void session_expired(struct b2bua *b, struct call *c)
{
	b->st.session_expired++;
	c->disposition = CDR_DISP_SESSION_EXPIRED;
	c->hangup = CDR_SIDE_SYSTEM;
	b2bua__call_end(b, c, true, true);
}

/* Every half interval: a leg not refreshed for a whole interval has
 * expired; otherwise refresh both legs (unless a refresh is in flight). */
static void refresh_fire(void *arg)
{
	struct call *c = arg;
	struct b2bua *b = c->owner;
	uint64_t now = sy_env_now_ns(b->env);
	c->refresh_timer = 0;
	if (c->state != CALL_ANSWERED && c->state != CALL_CONFIRMED)
		return;
	if (now - c->a_fresh_ns >= (uint64_t)c->a_se_s * SY_NS_PER_S ||
	    now - c->b_fresh_ns >= (uint64_t)c->b_se_s * SY_NS_PER_S) {
		session_expired(b, c);
		return;
	}
	if (c->a_upd == NULL)
		send_update(b, c, LEG_A);
	if (c->b_upd == NULL)
		send_update(b, c, LEG_B);
	refresh_schedule(b, c);
}

void b2bua__st_refreshed(struct b2bua *b, struct call *c, enum call_leg leg)
{
	if (leg == LEG_A)
		c->a_fresh_ns = sy_env_now_ns(b->env);
	else
		c->b_fresh_ns = sy_env_now_ns(b->env);
}

/* One of our BYEs is done (answered, or timer F): the CDR when all are. */
static void bye_done(struct b2bua *b, struct call *c, struct sip_txn *t, bool timed_out)
{
	sip_txn_set_user(t, NULL);
	if (c->a_bye == t)
		c->a_bye = NULL;
	else
		c->b_bye = NULL;
	if (timed_out) {
		b->st.bye_timeouts++;
		if (c->disposition == CDR_DISP_ANSWERED)
			c->disposition = CDR_DISP_BYE_TIMEOUT;
	}
	SY_ASSERT(c->byes_pending > 0);
	if (--c->byes_pending == 0)
		b2bua__call_free(b, c);
}

/* Our UPDATE on one leg is done: refreshed, or (RFC 4028 10: timeout,
 * 408, 481) the session is over. Any other answer (405 or 501 from a peer
 * without UPDATE) still proves the peer holds the dialog: the leg counts
 * as refreshed, so a healthy call is never cut for want of UPDATE. */
static void update_done(struct b2bua *b, struct call *c, struct sip_txn *t, int status)
{
	enum call_leg leg = c->a_upd == t ? LEG_A : LEG_B;
	sip_txn_set_user(t, NULL);
	*(leg == LEG_A ? &c->a_upd : &c->b_upd) = NULL;
	if (c->state != CALL_ANSWERED && c->state != CALL_CONFIRMED)
		return;
	if (status == 0 || status == 408 || status == 481)
		session_expired(b, c);
	else
		b2bua__st_refreshed(b, c, leg);
}

bool b2bua__st_response(struct b2bua *b, struct call *c, struct sip_txn *ct, const struct sip_msg *resp)
{
	if (ct == NULL || resp->status < 200)
		return ct != NULL && (ct == c->a_bye || ct == c->b_bye || ct == c->a_upd || ct == c->b_upd);
	if (ct == c->a_bye || ct == c->b_bye) {
		bye_done(b, c, ct, false);
		return true;
	}
	if (ct == c->a_upd || ct == c->b_upd) {
		update_done(b, c, ct, resp->status);
		return true;
	}
	return false;
}

bool b2bua__st_timeout(struct b2bua *b, struct call *c, struct sip_txn *t)
{
	if (t == c->a_bye || t == c->b_bye) {
		bye_done(b, c, t, true);
		return true;
	}
	if (t == c->a_upd || t == c->b_upd) {
		update_done(b, c, t, 0);
		return true;
	}
	return false;
}

void b2bua__call_end(struct b2bua *b, struct call *c, bool bye_a, bool bye_b)
{
	c->state = CALL_ENDING;
	c->ending = true;
	c->t_end_ns = sy_env_now_ns(b->env);
	sy_env_timer_cancel(b->env, c->max_timer);
	sy_env_timer_cancel(b->env, c->setup_timer);
	sy_env_timer_cancel(b->env, c->bill_timer);
	sy_env_timer_cancel(b->env, c->refresh_timer);
	sy_env_timer_cancel(b->env, c->fraud_timer);
	c->max_timer = c->setup_timer = c->bill_timer = c->refresh_timer = c->fraud_timer = 0;
	b2bua__bill_close(b, c);
	if (bye_b) {
		b2bua__send_b_bye_x(b, c, &c->b_bye);
		if (c->b_bye != NULL)
			sip_txn_set_user(c->b_bye, c);
	}
	if (bye_a) {
		b2bua__send_a_bye_x(b, c, &c->a_bye);
		if (c->a_bye != NULL)
			sip_txn_set_user(c->a_bye, c);
	}
	c->byes_pending = (uint8_t)((c->a_bye != NULL) + (c->b_bye != NULL));
	if (c->byes_pending == 0) /* the stack is full: nothing to wait for */
		b2bua__call_free(b, c);
}

void b2bua__st_detach(struct b2bua *b, struct call *c)
{
	struct sip_txn *ts[] = {c->a_upd, c->b_upd, c->a_bye, c->b_bye};
	for (size_t i = 0; i < SY_ARRAY_LEN(ts); i++)
		if (ts[i] != NULL)
			sip_txn_set_user(ts[i], NULL);
	c->a_upd = c->b_upd = c->a_bye = c->b_bye = NULL;
	b2bua__relay_detach(c);
	sy_env_timer_cancel(b->env, c->refresh_timer);
	c->refresh_timer = 0;
}
