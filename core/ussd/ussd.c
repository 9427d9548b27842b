/* ussd.c: the gateway's assembly and lifetime (ussd.h): the links, the
 * HTTP client and the record store it owns, charging through billing, the
 * records and their flush timer, memory accounting. The dialogue itself is
 * sess_dlg.c, the session table sess.c. */
#include "core/ussd/ussd.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/billing/callbill.h"
#include "core/store/udr.h"
#include "core/ussd/sess.h"

static bool any_http(const struct ussd_cfg *c)
{
	for (uint32_t i = 0; i < c->service_n; i++)
		if (c->services[i].kind == USSD_APP_HTTP)
			return true;
	return false;
}

static enum sy_rc open_store(struct ussd *u, char *err, size_t errlen)
{
	if (u->deps.store_dir == NULL || !u->cfg->records)
		return SY_OK;
	struct udr_store_opts o = {.sync_full = u->deps.sync_full, .err = err, .err_len = errlen};
	return udr_store_open(u->env, u->deps.store_dir, &o, &u->store);
}

enum sy_rc ussd_create(const struct ussd_deps *d, struct ussd **out, char *err, size_t errlen)
{
	SY_ASSERT(d->env != NULL && d->cfg != NULL);
	*out = NULL;
	struct ussd *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return SY_ERR_NOMEM;
	u->env = d->env;
	u->cfg = d->cfg;
	u->deps = *d;
	u->bill = d->bill;
	enum sy_rc rc = ussd__sess_init(u);
	if (rc != SY_OK) {
		snprintf(err, errlen, "ussd: no memory for the session table");
		goto out_destroy;
	}
	struct ussd_links_cfg lc = {.env = u->env,
				    .cfg = u->cfg,
				    .u = u,
				    .st = &u->st,
				    .on_msg = ussd__on_msg,
				    .on_link_down = ussd__on_link_down};
	if ((rc = ussd_links_create(&lc, &u->links, err, errlen)) != SY_OK)
		goto out_destroy;
	if (any_http(u->cfg) &&
	    (rc = ussd_http_create(u->env, u->cfg, ussd__app_done, u, &u->http, err, errlen)) != SY_OK)
		goto out_destroy;
	if ((rc = open_store(u, err, errlen)) != SY_OK)
		goto out_destroy;
	ussd__bytes(u);
	*out = u;
	return SY_OK;
out_destroy:
	u->stopped = true;
	ussd_destroy(u);
	return rc;
}

enum sy_rc ussd_start(struct ussd *u, char *err, size_t errlen)
{
	return ussd_links_start(u->links, err, errlen);
}

void ussd_stop(struct ussd *u)
{
	if (u->stopped)
		return;
	/* every open dialogue gets its release while the links still stand */
	u->q_hold = true;
	struct ussd_sess *s;
	while ((s = ussd__sess_oldest(u)) != NULL)
		ussd__end(u, s, USSD_END_SHUTDOWN, u->cfg->error_text);
	u->q_hold = false;
	ussd__sess_arm(u);
	u->stopped = true;
	if (u->links != NULL)
		ussd_links_stop(u->links);
	sy_env_timer_cancel(u->env, u->flush_timer);
	u->flush_timer = 0;
	(void)ussd_flush(u);
}

void ussd_destroy(struct ussd *u)
{
	if (u == NULL)
		return;
	sy_env_timer_cancel(u->env, u->flush_timer);
	if (u->http != NULL)
		ussd_http_destroy(u->http);
	if (u->links != NULL)
		ussd_links_destroy(u->links);
	if (u->store != NULL && udr_store_close(u->store) != SY_OK)
		SY_LOG(u->env, SY_LOG_ERROR, "ussd: records not all written at close");
	ussd__sess_free(u);
	free(u);
}

enum sy_rc ussd_flush(struct ussd *u)
{
	if (u->store == NULL)
		return SY_OK;
	enum sy_rc rc = udr_store_flush(u->store);
	if (rc != SY_OK)
		SY_LOG_LIMITED(u->env, &u->log_store, SY_LOG_ERROR, "ussd: records flush: %s",
			       udr_store_errmsg(u->store));
	return rc;
}

const struct ussd_stats *ussd_stats(const struct ussd *u)
{
	return &u->st;
}

const struct ussd_http_stats *ussd_http_stats_of(const struct ussd *u)
{
	return u->http != NULL ? ussd_http_stats(u->http) : NULL;
}

static void flush_fire(void *arg)
{
	struct ussd *u = arg;
	u->flush_timer = 0;
	if (ussd_flush(u) != SY_OK)
		u->flush_timer = sy_env_timer_start(u->env, USSD_FLUSH_RETRY_NS, flush_fire, u);
	ussd__bytes(u);
}

void ussd__record(struct ussd *u, const struct udr *r)
{
	if (u->cfg->records) {
		if (u->store == NULL) {
			u->st.records++;
		} else if (udr_store_add(u->store, r) == SY_OK) {
			u->st.records++;
			if (u->flush_timer == 0 && !u->stopped)
				u->flush_timer = sy_env_timer_start(u->env, USSD_FLUSH_NS, flush_fire, u);
		} else {
			u->st.records_failed++;
			SY_LOG_LIMITED(u->env, &u->log_store, SY_LOG_ERROR, "ussd: record %" PRIu64 " not stored: %s",
				       r->id, udr_store_errmsg(u->store));
		}
	}
	if (u->deps.on_end != NULL)
		u->deps.on_end(u->deps.on_end_arg, r);
}

enum sy_rc ussd__tx(struct ussd *u, uint16_t li, const struct ussd_msg *m)
{
	if (u->tx != NULL)
		return u->tx(u->tx_arg, li, m);
	return u->links != NULL ? ussd_link_send(u->links, li, m) : SY_ERR_STATE;
}

void ussd__set_tx(struct ussd *u, ussd_tx_fn fn, void *arg)
{
	u->tx = fn;
	u->tx_arg = arg;
}

void ussd__set_app(struct ussd *u, const struct ussd_app_seam *s)
{
	if (s == NULL)
		memset(&u->app, 0, sizeof(u->app));
	else
		u->app = *s;
}

void ussd__bytes(struct ussd *u)
{
	u->st.bytes = u->bytes_fixed + ussd__sess_bytes(u) + (u->links != NULL ? ussd_links_bytes(u->links) : 0);
	if (u->st.active > u->st.active_peak) {
		/* memory at the peak over the sessions then open: what a
		 * session costs, measured, slab and index rounding included */
		u->st.active_peak = u->st.active;
		u->st.bytes_per_session = u->st.bytes / u->st.active_peak;
	}
}

/* ---- charging ---- */

/* < 0: the payer's tariff has no ussd row for the code and the service no
 * flat price. */
static int64_t price(const struct ussd *u, const struct ussd_sess *s, uint32_t units)
{
	const struct ussd_service_cfg *svc = &u->cfg->services[s->service];
	return callbill_ussd_price(u->bill, s->payer, sy_str_from(svc->code), s->begin_wall_ns / SY_NS_PER_S, units,
				   svc->price_micros);
}

/* The same once a session has begun with a price (never negative then). */
static int64_t price_of(const struct ussd *u, const struct ussd_sess *s, uint32_t units)
{
	return SY_MAX(price(u, s, units), 0);
}

enum sy_rc ussd__charge_begin(struct ussd *u, struct ussd_sess *s)
{
	const struct ussd_service_cfg *svc = &u->cfg->services[s->service];
	if (svc->charge == USSD_CHARGE_NONE || u->bill == NULL)
		return SY_OK;
	if (callbill_ussd_payer(u->bill, sy_str_from(svc->account), sy_str_from(s->msisdn), &s->payer) != SY_OK) {
		u->st.refused_account++;
		return SY_DECLINED;
	}
	/* a session's price up front; per step, several steps at a time */
	int64_t min = price(u, s, 1), want = svc->charge == USSD_CHARGE_STEP ? price(u, s, USSD_STEP_HOLD) : min;
	if (min < 0) {
		/* a charged service with no price for this payer: refused, not
		 * given away (a tariff without the code's row is a mistake) */
		u->st.refused_price++;
		return SY_DECLINED;
	}
	if (want <= 0)
		return SY_OK; /* free: nothing to hold */
	char ref[32];
	snprintf(ref, sizeof(ref), UDR_CHARGE_REF_PREFIX "%" PRIu64, s->id);
	enum bill_why why;
	enum sy_rc rc = callbill_ussd_hold(u->bill, s->payer, sy_str_from(ref), want, min, &s->resv, &why);
	if (rc == SY_OK)
		return SY_OK;
	s->resv = 0;
	if (rc == SY_DECLINED && why == BILL_WHY_FUNDS)
		u->st.refused_funds++;
	else if (rc == SY_DECLINED)
		u->st.refused_account++; /* unknown or suspended */
	else
		u->st.refused_full++; /* billing overloaded or its store failing */
	return SY_DECLINED;
}

bool ussd__charge_step(struct ussd *u, struct ussd_sess *s)
{
	if (s->resv == 0 || u->cfg->services[s->service].charge != USSD_CHARGE_STEP)
		return true;
	int64_t need = price_of(u, s, (uint32_t)s->steps + 1u);
	int64_t held = callbill_ussd_held(u->bill, s->resv);
	if (held >= need)
		return true;
	(void)callbill_ussd_extend(u->bill, s->resv, price_of(u, s, (uint32_t)s->steps + USSD_STEP_HOLD) - held, &held);
	return held >= need;
}

int64_t ussd__charge_end(struct ussd *u, struct ussd_sess *s)
{
	if (s->resv == 0)
		return 0;
	bill_resv_id resv = s->resv;
	s->resv = 0;
	if (s->steps == 0) {
		callbill_ussd_release(u->bill, resv); /* no application reply: nothing to pay for */
		return 0;
	}
	uint32_t units = u->cfg->services[s->service].charge == USSD_CHARGE_STEP ? s->steps : 1;
	int64_t charged = callbill_ussd_commit(u->bill, resv, price_of(u, s, units));
	u->st.charged_micros += charged;
	return charged;
}
