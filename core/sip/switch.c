/* switch.c: assembling a voice switch node from its config; see switch.h. */
#include "switch.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/store/ledger.h"

static uint32_t route_cb(void *arg, struct sy_str number, uint16_t *ids, uint32_t max)
{
	struct vswitch *v = arg;
	return (uint32_t)route_lookup_carriers(&v->routes, number, ids, max);
}

/* ---- the CDR buffer ----
 *
 * A CDR is never dropped after its call was charged. When the store cannot
 * take one (its batch is stuck behind a full or failing disk), it waits
 * here, in order, and later ones queue behind it; the flush timer drains the
 * ring once the store takes CDRs again. The ring holds cdr_buf_cap CDRs, and
 * a new call is admitted only while the CDRs held plus the calls in progress
 * (each ends with exactly one CDR) stay below that: the ring never
 * overflows, and the price of a long disk failure is refused calls, counted,
 * not lost records. */

static bool cdr_buf_push(struct vswitch *v, const struct cdr *c)
{
	if (v->cdr_buf_len == v->cdr_buf_cap)
		return false;
	v->cdr_buf[(v->cdr_buf_head + v->cdr_buf_len) % v->cdr_buf_cap] = *c;
	v->cdr_buf_len++;
	v->disk.cdrs_buffered++;
	v->disk.buffer_peak = SY_MAX(v->disk.buffer_peak, v->cdr_buf_len);
	return true;
}

/* Hands buffered CDRs to the store, oldest first, while it takes them. */
static void cdr_buf_drain(struct vswitch *v)
{
	while (v->cdr_buf_len > 0 && cdr_store_add(v->store, &v->cdr_buf[v->cdr_buf_head]) == SY_OK) {
		v->cdr_buf_head = (v->cdr_buf_head + 1) % v->cdr_buf_cap;
		v->cdr_buf_len--;
	}
}

static void cdr_keep(struct vswitch *v, const struct cdr *c)
{
	/* While the store fails, its batch (also memory) stops growing: new
	 * CDRs wait in the ring, which admission keeps from overflowing. */
	if (v->cdr_buf_len == 0 && !v->store_failing && cdr_store_add(v->store, c) == SY_OK)
		return;
	if (v->cdr_buf_len == 0)
		SY_LOG_LIMITED(v->env, &v->log_store, SY_LOG_ERROR, "cdr store: %s; CDRs are buffered", cdr_store_errmsg(v->store));
	/* Admission keeps a place for every call in progress (admit_cb). */
	SY_ASSERT(cdr_buf_push(v, c));
}

static bool admit_cb(void *arg)
{
	struct vswitch *v = arg;
	if (v->store == NULL || (v->cdr_buf_len == 0 && !v->store_failing))
		return true;
	uint64_t owed = (uint64_t)v->cdr_buf_len + b2bua_stats(v->b2bua)->active;
	if (owed < v->cdr_buf_cap)
		return true;
	v->disk.calls_refused++;
	return false;
}

void vswitch_disk_add(struct vswitch_disk_stats *sum, const struct vswitch *v)
{
	sum->cdrs_buffered += v->disk.cdrs_buffered;
	sum->buffer_peak = SY_MAX(sum->buffer_peak, v->disk.buffer_peak);
	sum->buffer_now += v->cdr_buf_len;
	sum->calls_refused += v->disk.calls_refused;
	sum->store_errors += v->disk.store_errors;
}

static void cdr_cb(void *arg, const struct cdr *c)
{
	struct vswitch *v = arg;
	v->cdrs_emitted++;
	if (v->store != NULL)
		cdr_keep(v, c);
	char line[CDR_CSV_LINE_MAX];
	size_t n = cdr_csv_line(c, line);
	sy_env_event(v->env, "cdr", line, n);
	if (v->on_cdr != NULL)
		v->on_cdr(v->cdr_arg, c);
}

static void flush_fire(void *arg)
{
	struct vswitch *v = arg;
	vswitch_flush(v);
	v->flush_timer = sy_env_timer_start(v->env, v->flush_every_ns, flush_fire, v);
}

static enum sy_rc build_routes(struct vswitch *v, const struct vswitch_cfg *cfg, char *err, size_t errlen)
{
	const struct switch_cfg *s = cfg->sw;
	if (route_table_init(&v->routes, 1024) != SY_OK)
		return SY_ERR_NOMEM;
	for (uint32_t i = 0; i < s->carrier_n; i++) {
		const struct switch_carrier_cfg *c = &s->carriers[i];
		struct b2bua_carrier *bc = &v->carriers[i];
		snprintf(bc->name, sizeof(bc->name), "%s", c->name);
		bc->addr = cfg->carrier_addrs[i];
		bc->capacity = c->capacity;
		for (uint32_t p = 0; p < c->prefix_n; p++) {
			enum sy_rc rc = route_table_add(&v->routes, sy_str_from(c->prefixes[p]), (uint16_t)i, c->priority);
			if (rc != SY_OK) {
				snprintf(err, errlen, "%s:%u: cannot route prefix %s to [carrier %s]: %s", s->source,
					 c->line, c->prefixes[p], c->name, sy_rc_str(rc));
				return rc;
			}
		}
	}
	v->carrier_n = s->carrier_n;
	return SY_OK;
}

enum sy_rc vswitch_create(const struct vswitch_cfg *cfg, struct vswitch **out, char *err, size_t errlen)
{
	struct vswitch *v = calloc(1, sizeof(*v));
	enum sy_rc rc;
	if (v == NULL)
		return SY_ERR_NOMEM;
	v->env = cfg->env;
	v->on_cdr = cfg->on_cdr;
	v->cdr_arg = cfg->cdr_arg;
	v->flush_every_ns = cfg->flush_every_ns ? cfg->flush_every_ns : 200 * SY_NS_PER_MS;
	if ((rc = build_routes(v, cfg, err, errlen)) != SY_OK)
		goto out_free;
	if (cfg->out_dir != NULL) {
		struct cdr_store_opts o = {.sync_full = cfg->sw->sync_full, .err = err, .err_len = errlen};
		if ((rc = cdr_store_open(v->env, cfg->out_dir, &o, &v->store)) != SY_OK)
			goto out_free;
	}
	const struct switch_cfg *s = cfg->sw;
	uint32_t calls_max = cfg->calls_max ? cfg->calls_max : s->calls_max ? s->calls_max : 50000;
	if (cfg->out_dir != NULL)
		snprintf(v->ledger_path, sizeof(v->ledger_path), "%s/ledger.sqlite", cfg->out_dir);
	v->cdr_buf_cap = calls_max * 2;
	if (v->store != NULL && (v->cdr_buf = malloc(sizeof(*v->cdr_buf) * v->cdr_buf_cap)) == NULL) {
		rc = SY_ERR_NOMEM;
		goto out_store_only;
	}
	struct callbill_cfg bc_ = {.env = cfg->env, .billing = cfg->billing, .ledger_path = cfg->out_dir ? v->ledger_path : NULL,
				   .calls_max = calls_max, .sessions_max = cfg->bill_sessions_max, .sync_full = s->sync_full};
	if ((rc = callbill_create(&bc_, &v->bill, err, errlen)) != SY_OK)
		goto out_store;
	uint32_t txn_max = cfg->txn_max ? cfg->txn_max : s->txn_max; /* 0: bounded by [node] sip_memory */
	struct b2bua_cfg bc = {
		.env = cfg->env,
		.listen = cfg->listen,
		.calls_max = calls_max,
		.txn_max = txn_max,
		.limits = s->limits,
		.timers = {.t1_ns = s->t1_ns, .t2_ns = 4 * SY_NS_PER_S, .t4_ns = 5 * SY_NS_PER_S},
		.carriers = v->carriers,
		.carriers_n = v->carrier_n,
		.route = route_cb, .route_arg = v,
		.on_cdr = cdr_cb,
		.cdr_arg = v,
		.failover = true,
		.max_call_ns = s->max_call_ns,
		.session_expires_s = s->session_expires_s, .min_se_s = s->min_se_s, /* RFC 4028 */
		.invite_timeout_ns = s->invite_timeout_ns,
		.ring_timeout_ns = s->ring_timeout_ns,
		.cdr_id_base = v->store != NULL ? cdr_store_last_id(v->store) : 0,
		.bill = v->bill, .access = &s->access, /* who may call */
		.admit = admit_cb, .admit_arg = v,
		.pike = s->pike, .fraud = cfg->fraud,
	};
	if ((rc = b2bua_create(&bc, &v->b2bua)) != SY_OK) {
		char a[SY_ADDR_STRLEN];
		sy_addr_fmt(&cfg->listen, a, sizeof(a));
		snprintf(err, errlen, "cannot start the B2BUA on udp:%s: %s", a, sy_rc_str(rc));
		goto out_store;
	}
	if (v->store != NULL)
		v->flush_timer = sy_env_timer_start(v->env, v->flush_every_ns, flush_fire, v);
	*out = v;
	return SY_OK;
out_store:
	callbill_destroy(v->bill);
out_store_only:
	cdr_store_close(v->store);
	free(v->cdr_buf);
out_free:
	route_table_free(&v->routes);
	free(v);
	return rc;
}

enum sy_rc vswitch_flush(struct vswitch *v)
{
	callbill_flush(v->bill);
	if (v->store == NULL)
		return SY_OK;
	enum sy_rc rc = cdr_store_flush(v->store);
	if (rc == SY_OK && v->cdr_buf_len > 0) {
		cdr_buf_drain(v);
		rc = cdr_store_flush(v->store);
	}
	v->store_failing = rc != SY_OK;
	if (rc != SY_OK) {
		v->disk.store_errors++;
		SY_LOG_LIMITED(v->env, &v->log_store, SY_LOG_ERROR, "cdr store flush: %s", cdr_store_errmsg(v->store));
	}
	return rc == SY_OK && v->cdr_buf_len > 0 ? SY_ERR_IO : rc; /* some still wait */
}

uint64_t vswitch_cdrs_written(const struct vswitch *v)
{
	if (v->store == NULL)
		return v->cdrs_emitted;
	struct cdr_store_stats st;
	cdr_store_stats(v->store, &st);
	return st.written;
}

uint64_t vswitch_cdrs_lost(const struct vswitch *v)
{
	uint64_t w = vswitch_cdrs_written(v);
	return v->cdrs_emitted > w ? v->cdrs_emitted - w : 0;
}

void vswitch_abandon(struct vswitch *v, struct vswitch_crash *out)
{
	struct vswitch_crash c = {0};
	if (v == NULL)
		goto out;
	c.calls_lost = b2bua_stats(v->b2bua)->active;
	sy_env_timer_cancel(v->env, v->flush_timer);
	b2bua_destroy(v->b2bua); /* emits nothing: its calls die with it */
	c.cdrs_dropped = cdr_store_abandon(v->store) + v->cdr_buf_len; /* the buffer is memory too */
	free(v->cdr_buf);
	if (v->ledger_path[0] != '\0')
		c.ledger_ops_dropped = ledger_crash_at(v->ledger_path);
	callbill_destroy(v->bill); /* commits nothing more: the ledger refuses it */
	route_table_free(&v->routes);
	free(v);
out:
	if (out != NULL)
		*out = c;
}

void vswitch_destroy(struct vswitch *v)
{
	if (v == NULL)
		return;
	sy_env_timer_cancel(v->env, v->flush_timer);
	b2bua_destroy(v->b2bua);
	if (v->cdr_buf_len > 0)
		(void)vswitch_flush(v); /* a disk still failing keeps them: cdr.lost counts them */
	callbill_destroy(v->bill);
	cdr_store_close(v->store);
	free(v->cdr_buf);
	route_table_free(&v->routes);
	free(v);
}
