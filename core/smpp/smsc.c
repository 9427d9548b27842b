/* smsc.c: the SMSC's life cycle and store side: create (accounts, routes,
 * pools, store, recovery per the smsq.h protocol), the group-commit timer,
 * housekeeping, the message pool and lists, stats and destroy. The ESME side
 * is in smsc_esme.c and the carrier side in smsc_up.c. */
#include <stdio.h>
#include <stdlib.h>

#include "core/smpp/smsc_int.h"

#define SMSC_HOUSE_NS SY_NS_PER_S

/* ---- lists and the message pool ---- */

void smsc__list_push(struct smsc_list *l, struct smsc_msg *m)
{
	SY_ASSERT(m->on == NULL);
	m->next = NULL;
	m->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = m;
	else
		l->head = m;
	l->tail = m;
	l->n++;
	m->on = l;
}

void smsc__list_del(struct smsc_msg *m)
{
	struct smsc_list *l = m->on;
	if (l == NULL)
		return;
	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		l->head = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	else
		l->tail = m->prev;
	l->n--;
	m->on = NULL;
	m->prev = m->next = NULL;
}

struct smsc_msg *smsc__list_pop(struct smsc_list *l)
{
	struct smsc_msg *m = l->head;
	if (m != NULL)
		smsc__list_del(m);
	return m;
}

/* The slot freed last first (its lines are still in cache), fresh slots
 * only when none is free: the pool grows to the peak of messages in flight,
 * not to msgs_max. Slot numbers are internal (tokens, tags), never output. */
struct smsc_msg *smsc__msg_alloc(struct smsc *s)
{
	uint32_t idx;
	struct smsc_msg *m = s->free_msgs.tail;
	if (m != NULL) {
		smsc__list_del(m);
	} else if ((m = sy_pool_grow(&s->msgs, &idx)) != NULL) {
		m->idx = idx;
	} else {
		return NULL;
	}
	uint32_t gen = m->gen;
	idx = m->idx;
	memset(m, 0, offsetof(struct smsc_msg, body));
	m->smsc = s;
	m->gen = (gen + 1) & 0xFFFFFFu;
	m->idx = idx;
	m->account = -1;
	m->carrier = -1;
	return m;
}

void smsc__msg_free(struct smsc *s, struct smsc_msg *m)
{
	SY_ASSERT(m->phase != SMSC_P_FREE);
	sy_env_timer_cancel(s->env, m->timer);
	m->timer = 0;
	smsc__list_del(m);
	if (m->in_htab)
		smsc_uidx_remove(&s->up, m->uhash, m->idx);
	m->in_htab = false;
	if (m->big != NULL) {
		free(m->big);
		s->big_used--;
	}
	m->big = NULL;
	free(m->fraud_reason);
	m->fraud_reason = NULL;
	m->phase = SMSC_P_FREE;
	smsc__list_push(&s->free_msgs, m);
}

struct smsc_msg *smsc__msg_at(struct smsc *s, uint32_t idx)
{
	return idx < sy_pool_used(&s->msgs) ? sy_pool_at(&s->msgs, idx) : NULL;
}

uint32_t smsc__msgs_free(const struct smsc *s)
{
	return s->cfg.msgs_max - sy_pool_used(&s->msgs) + s->free_msgs.n;
}

const uint8_t *smsc__body(const struct smsc_msg *m)
{
	return m->big != NULL ? m->big : m->body;
}

/* Bodies over 254 octets (message_payload) are rare: they get a bounded
 * number of heap buffers instead of making every pool slot 64 KB. */
enum sy_rc smsc__body_set(struct smsc *s, struct smsc_msg *m, const uint8_t *p, size_t n)
{
	if (n > SMSQ_BODY_MAX)
		return SY_ERR_INVAL;
	if (n > sizeof(m->body)) {
		if (s->big_used >= s->cfg.big_max)
			return SY_ERR_FULL;
		m->big = malloc(n);
		if (m->big == NULL)
			return SY_ERR_FULL;
		s->big_used++;
		memcpy(m->big, p, n);
	} else if (n > 0) {
		memcpy(m->body, p, n);
	}
	m->body_len = (uint32_t)n;
	return SY_OK;
}

uint64_t smsc__token(const struct smsc_msg *m, enum smsc_tok t)
{
	return ((uint64_t)t << 56) | ((uint64_t)m->gen << 32) | m->idx;
}

/* ---- store ---- */

void smsc__fill_qmsg(const struct smsc *s, const struct smsc_msg *m, struct smsq_msg *qm)
{
	memset(qm, 0, sizeof(*qm));
	qm->id = m->id;
	if (m->account >= 0)
		SMSQ_SET_STR(qm, system_id, sy_str_from(s->accts[m->account].cfg->name));
	qm->src = m->src;
	qm->dst = m->dst;
	qm->data_coding = m->data_coding;
	qm->esm_class = m->esm_class;
	qm->registered_delivery = m->registered_delivery;
	qm->submit_ns = m->submit_ns;
	qm->expiry_ns = m->expiry_ns;
	qm->body = smsc__body(m);
	qm->body_len = m->body_len;
	qm->seg_ref = m->seg_ref;
	qm->seg_total = m->seg_total;
	qm->seg_seq = m->seg_seq;
	qm->state = SMSQ_ACCEPTED;
}

/* An MDR must be durable before the final mark that deletes its row, so
 * flush MDRs first whenever this append could make the store commit. */
/* smsq's before_commit: every commit of the queue, whoever starts it (the
 * timer, a full batch, shutdown), first makes the MDRs durable, because the
 * final marks in the batch delete the rows those MDRs are the record of. An
 * MDR that cannot be flushed holds the commit back: no mark without its MDR. */
static bool smsc_mdrs_durable(void *arg)
{
	struct smsc *s = arg;
	if (s->mdr == NULL || s->mdr_unflushed == 0)
		return true;
	if (mdr_store_flush(s->mdr) == SY_OK) {
		s->mdr_unflushed = 0;
		return true;
	}
	s->st.mdr_errors++;
	SY_LOG_LIMITED(s->env, &s->log_mdr, SY_LOG_ERROR, "smsc: mdr flush: %s", mdr_store_errmsg(s->mdr));
	return false;
}

static void smsc_after_append(struct smsc *s, enum sy_rc rc, uint32_t body_len)
{
	if (s->q_reported)
		s->q_bytes = 0; /* a commit ran inside the call */
	if (rc == SY_OK)
		s->q_bytes += body_len;
	else
		s->st.store_full++;
	smsc__commit_soon(s);
}

enum sy_rc smsc__put(struct smsc *s, struct smsc_msg *m)
{
	struct smsq_msg qm;
	smsc__fill_qmsg(s, m, &qm);
	s->q_reported = false;
	m->phase = SMSC_P_STORING; /* the callback may run inside smsq_put */
	uint32_t len = m->body_len;
	enum sy_rc rc = smsq_put(s->q, &qm, smsc__token(m, SMSC_T_PUT));
	smsc_after_append(s, rc, len);
	return rc;
}

enum sy_rc smsc__mark(struct smsc *s, uint64_t id, const struct smsq_update *u, uint64_t token)
{
	s->q_reported = false;
	enum sy_rc rc = smsq_mark(s->q, id, u, token);
	smsc_after_append(s, rc, 0);
	return rc;
}

static void smsc_on_done(void *arg, enum smsq_op op, uint64_t id, uint64_t token, enum sy_rc rc)
{
	struct smsc *s = arg;
	s->q_reported = true;
	enum smsc_tok kind = (enum smsc_tok)(token >> 56);
	uint32_t idx = (uint32_t)token, gen = (uint32_t)(token >> 32) & 0xFFFFFFu;
	struct smsc_msg *m = smsc__msg_at(s, idx);
	if (kind == SMSC_T_IGNORE || m == NULL)
		return;
	if (m->gen != gen || m->id != id || m->phase == SMSC_P_FREE)
		return; /* the message moved on (or was freed) since */
	if (kind == SMSC_T_PUT && m->phase == SMSC_P_STORING)
		smsc__put_done(s, m, rc);
	else if (kind == SMSC_T_FINAL && m->phase == SMSC_P_FINALIZING)
		smsc__final_done(s, m, rc);
}

static void smsc_commit_fire(void *arg)
{
	struct smsc *s = arg;
	s->t_commit = 0;
	/* The MDRs go first (smsc_mdrs_durable); a failure keeps the batch. */
	if (smsq_commit(s->q) != SY_OK) {
		s->st.store_errors++;
		SY_LOG_LIMITED(s->env, &s->log_commit, SY_LOG_ERROR, "smsc: commit: %s", smsq_errmsg(s->q));
	}
	s->q_bytes = 0;
	/* Also when only unsynced (sync = normal): an idle queue's last batch
	 * is synced one interval later by the empty commit. */
	if (smsq_pending(s->q) > 0 || smsq_unsynced(s->q))
		smsc__commit_soon(s);
}

void smsc__commit_soon(struct smsc *s)
{
	if (s->t_commit == 0 && (smsq_pending(s->q) > 0 || smsq_unsynced(s->q)))
		s->t_commit = sy_env_timer_start(s->env, s->cfg.commit_interval_ns, smsc_commit_fire, s);
}

enum sy_rc smsc_flush(struct smsc *s)
{
	enum sy_rc rc = smsq_commit(s->q); /* MDRs first, by smsc_mdrs_durable */
	if (rc == SY_OK)
		rc = smsq_sync(s->q);
	if (s->mdr != NULL) {
		enum sy_rc r2 = mdr_store_flush(s->mdr); /* MDRs added by the callbacks */
		if (r2 == SY_OK)
			s->mdr_unflushed = 0;
		if (rc == SY_OK)
			rc = r2;
	}
	return rc;
}

/* ---- timers and the ready list ---- */

void smsc__timer(struct smsc *s, struct smsc_msg *m, uint64_t deadline_wall_ns, sy_timer_fn fn)
{
	sy_env_timer_cancel(s->env, m->timer);
	uint64_t now = sy_env_wall_ns(s->env);
	m->timer = sy_env_timer_start(s->env, deadline_wall_ns > now ? deadline_wall_ns - now : 0, fn, m);
}

static void smsc_ready_fire(void *arg)
{
	struct smsc *s = arg;
	s->t_ready = 0;
	/* Only what is on the list now: dispatch may park messages again. */
	uint32_t n = s->ready.n;
	while (n-- > 0) {
		struct smsc_msg *m = smsc__list_pop(&s->ready);
		if (m == NULL)
			break;
		smsc__dispatch(s, m);
	}
}

void smsc__ready(struct smsc *s, struct smsc_msg *m)
{
	smsc__list_del(m);
	m->phase = SMSC_P_RETRY;
	smsc__list_push(&s->ready, m);
	if (s->t_ready == 0)
		s->t_ready = sy_env_timer_start(s->env, 0, smsc_ready_fire, s);
}

/* ---- lookups ---- */

int32_t smsc__account_find(const struct smsc *s, struct sy_str name)
{
	for (uint32_t i = 0; i < s->acct_n; i++)
		if (sy_str_eq(sy_str_from(s->accts[i].cfg->name), name))
			return (int32_t)i;
	return -1;
}

int smsc_carrier_index(const struct smsc *s, const char *name)
{
	for (uint32_t i = 0; i < s->carrier_n; i++)
		if (strcmp(s->carriers[i].cfg->name, name) == 0)
			return (int)i;
	return -1;
}

uint32_t smsc__route(const struct smsc *s, struct sy_str dst, struct smsc_msg *m)
{
	m->route_n = (uint8_t)route_lookup_carriers(&s->rt, dst, m->route, ROUTE_SET_MAX);
	return m->route_n;
}

/* ---- recovery ---- */

static void smsc_load(struct smsc *s, struct smsc_msg *m, const struct smsq_msg *qm)
{
	m->id = qm->id;
	m->account = smsc__account_find(s, sy_str_from(qm->system_id));
	m->src = qm->src;
	m->dst = qm->dst;
	m->data_coding = qm->data_coding;
	m->esm_class = qm->esm_class;
	m->registered_delivery = qm->registered_delivery;
	m->submit_ns = qm->submit_ns;
	m->expiry_ns = qm->expiry_ns != 0 ? qm->expiry_ns : qm->submit_ns + s->cfg.validity_default_ns;
	m->seg_ref = qm->seg_ref;
	m->seg_total = qm->seg_total;
	m->seg_seq = qm->seg_seq;
	m->sar = qm->seg_total > 0 && !(qm->esm_class & SMPP_ESM_UDHI);
	m->attempts = qm->attempts;
	m->payload = qm->body_len > SMPP_SM_LEN_MAX;
	m->carrier = smsc_carrier_index(s, qm->carrier);
	memcpy(m->upstream_id, qm->upstream_id, sizeof(m->upstream_id));
	if (smsc__body_set(s, m, qm->body, qm->body_len) != SY_OK)
		m->body_len = 0; /* over big_max: the text is lost, the message is not */
	smsc__route(s, sy_str_from(m->dst.digits), m);
}

/* Keeps a quarter of the pool for new traffic while recovering a backlog. */
static bool smsc_recover_room(const struct smsc *s)
{
	return smsc__msgs_free(s) > s->cfg.msgs_max / 4;
}

static enum sy_rc smsc_recover_visit(void *arg, const struct smsq_msg *qm)
{
	struct smsc *s = arg;
	if (qm->id < s->backlog_from || qm->id > s->backlog_end)
		return SY_OK;
	if (!smsc_recover_room(s)) {
		s->backlog = true;
		s->backlog_from = qm->id;
		return SY_ERR_FULL;
	}
	struct smsc_msg *m = smsc__msg_alloc(s);
	smsc_load(s, m, qm);
	s->st.recovered++;
	if (qm->state == SMSQ_ENROUTE && qm->upstream_id[0] != '\0' && m->carrier >= 0) {
		smsc__enroute(s, m); /* the carrier has it: wait for its receipt */
	} else {
		s->st.recovered_resent++;
		smsc__ready(s, m); /* unknown upstream result: send again, same key */
	}
	return SY_OK;
}

static enum sy_rc smsc_recover_dlr_visit(void *arg, const struct smsq_msg *qm)
{
	struct smsc *s = arg;
	if (qm->id < s->backlog_dlr_from || qm->id > s->backlog_end)
		return SY_OK;
	if (!smsc_recover_room(s)) {
		s->backlog_dlr = true;
		s->backlog_dlr_from = qm->id;
		return SY_ERR_FULL;
	}
	struct smsc_msg *m = smsc__msg_alloc(s);
	smsc_load(s, m, qm);
	m->final = qm->state;
	m->done_ns = qm->done_ns;
	m->error_code = qm->error_code;
	s->st.recovered_dlr++;
	m->phase = SMSC_P_DLR_WAIT;
	smsc__dlr_send(s, m);
	return SY_OK;
}

static void smsc_recover(struct smsc *s)
{
	if (s->backlog) {
		s->backlog = false;
		enum sy_rc rc = smsq_recover(s->q, smsc_recover_visit, s);
		if (rc != SY_OK && rc != SY_ERR_FULL)
			SY_LOG(s->env, SY_LOG_ERROR, "smsc: recover: %s", smsq_errmsg(s->q));
	}
	if (!s->backlog && s->backlog_dlr) {
		s->backlog_dlr = false;
		enum sy_rc rc = smsq_recover_dlr(s->q, smsc_recover_dlr_visit, s);
		if (rc != SY_OK && rc != SY_ERR_FULL)
			SY_LOG(s->env, SY_LOG_ERROR, "smsc: recover receipts: %s", smsq_errmsg(s->q));
	}
	s->st.recover_backlog = s->backlog || s->backlog_dlr;
	if (!s->st.recover_backlog && s->st.recovered + s->st.recovered_dlr > 0)
		SY_LOG(s->env, SY_LOG_INFO,
		       "smsc: recovered %llu messages (%llu sent again: no durable upstream answer; the rest await "
		       "their receipt) and %llu receipts owed",
		       (unsigned long long)s->st.recovered, (unsigned long long)s->st.recovered_resent,
		       (unsigned long long)s->st.recovered_dlr);
}

/* ---- housekeeping ---- */

static void smsc_house_fire(void *arg)
{
	struct smsc *s = arg;
	s->t_house = sy_env_timer_start(s->env, SMSC_HOUSE_NS, smsc_house_fire, s);
	smsc__reasm_sweep(s);
	for (uint32_t i = 0; i < s->acct_n; i++)
		smsc__dlr_pump(s, &s->accts[i]);
	if ((s->backlog || s->backlog_dlr) && smsc_recover_room(s))
		smsc_recover(s);
	if (s->mdr != NULL && s->mdr_unflushed > 0 && smsq_pending(s->q) == 0 && mdr_store_flush(s->mdr) == SY_OK)
		s->mdr_unflushed = 0;
}

/* ---- create / destroy ---- */

static void smsc_defaults(struct smsc_cfg *c)
{
#define DEF(f, v)                                                                                                      \
	if (c->f == 0)                                                                                                 \
	c->f = (v)
	DEF(msgs_max, 65536);
	DEF(sessions_max, 64);
	DEF(esme_window, 1000);
	DEF(dlr_window, 100);
	DEF(carrier_queue_max, 10000);
	DEF(attempts_max, 5);
	DEF(retry_base_ns, SY_NS_PER_S);
	DEF(retry_cap_ns, 60 * SY_NS_PER_S);
	DEF(commit_interval_ns, 5 * SY_NS_PER_MS);
	DEF(validity_default_ns, 24 * 3600 * SY_NS_PER_S);
	DEF(receipt_grace_ns, 10 * SY_NS_PER_S);
	DEF(upstream_timeout_ns, 10 * SY_NS_PER_S);
	DEF(reconnect_min_ns, 500 * SY_NS_PER_MS);
	DEF(reconnect_max_ns, 30 * SY_NS_PER_S);
	DEF(enquire_interval_ns, 30 * SY_NS_PER_S);
	DEF(reasm_max, 4096);
	DEF(reasm_ttl_ns, 600 * SY_NS_PER_S);
	DEF(http_max, 256);
	DEF(big_max, 1024);
	DEF(system_id, "switchyard");
#undef DEF
}

static enum sy_rc smsc_setup_accounts(struct smsc *s)
{
	s->accts = calloc(s->cfg.account_n + 1, sizeof(*s->accts));
	if (s->accts == NULL)
		return SY_ERR_NOMEM;
	uint64_t now = sy_env_now_ns(s->env);
	for (uint32_t i = 0; i < s->cfg.account_n; i++) {
		const struct smsc_account_cfg *a = &s->cfg.accounts[i];
		if (a->count > 1)
			continue; /* a group of callers, not an SMPP account */
		struct smsc_account *sa = &s->accts[s->acct_n++];
		sa->cfg = a;
		smpp_tbucket_init(&sa->tb, a->tps, 0, now);
	}
	return SY_OK;
}

static enum sy_rc smsc_setup_pools(struct smsc *s)
{
	const struct smsc_cfg *c = &s->cfg;
	s->reasm = calloc(c->reasm_max, sizeof(*s->reasm));
	s->http = calloc(c->http_max, sizeof(*s->http));
	if (sy_pool_init(&s->msgs, sizeof(struct smsc_msg), c->msgs_max) != SY_OK || s->reasm == NULL ||
	    s->http == NULL)
		return SY_ERR_NOMEM;
	s->early = calloc(SMSC_EARLY_MAX, sizeof(*s->early));
	/* Keyed by carriers' message ids and ESMEs' concatenation references:
	 * seeds no peer can predict (htab.h). */
	const struct sy_env *e = c->env;
	if (s->early == NULL || sy_htab_init_seeded(&s->early_h, SMSC_EARLY_MAX, sy_env_random_u64(e)) != SY_OK)
		return SY_ERR_NOMEM;
	if (smsc_uidx_init(&s->up, c->msgs_max, sy_env_random_u64(e)) != SY_OK ||
	    sy_htab_init_seeded(&s->reasm_h, c->reasm_max, sy_env_random_u64(e)) != SY_OK)
		return SY_ERR_NOMEM;
	return route_table_init(&s->rt, 0);
}

static enum sy_rc smsc_open_store(struct smsc *s, char *err, size_t errlen)
{
	const char *dir = s->cfg.store_dir;
	char path[SMSC_PATH_MAX + 32];
	if (dir != NULL) {
		struct mdr_store_opts mo = {.sync_full = s->cfg.sync_full, .err = err, .err_len = errlen};
		if (mdr_store_open(s->env, dir, &mo, &s->mdr) != SY_OK)
			return SY_ERR_IO;
		snprintf(path, sizeof(path), "%s/smsq", dir); /* the segment log's folder */
	} else {
		snprintf(path, sizeof(path), ":memory:");
	}
	s->q_batch_max = SMSQ_BATCH_MAX;
	s->q_bytes_max = (uint64_t)SMSQ_BATCH_MAX * 64;
	struct smsq_opts qo = {.on_done = smsc_on_done,
			       .arg = s,
			       .before_commit = smsc_mdrs_durable,
			       .batch_max = s->q_batch_max,
			       .batch_bytes_max = (uint32_t)s->q_bytes_max,
			       .sync_full = s->cfg.sync_full,
			       .err = err,
			       .err_len = errlen};
	enum sy_rc rc = smsq_open(s->env, path, &qo, &s->q);
	if (rc != SY_OK)
		return rc;
	/* Ids continue above the store's high-water mark and the wall clock in
	 * 100 ns units, whichever is higher, so ids (the carriers' dedup keys)
	 * stay unique across a wiped store, and across a power loss that took
	 * the last commits back (sync = normal): an id handed out before it
	 * is never handed out again, or a carrier would drop the new message
	 * as a re-send of the lost one. With several instances ([node] nodes)
	 * instance k takes the ids that are k modulo their count: the keys
	 * stay unique across the cluster (each instance starts above the wall
	 * clock, so above whatever any instance handed out before a restart,
	 * whatever the count was then). */
	uint64_t last = smsq_last_id(s->q);
	uint32_t step = s->cfg.node_n > 1 ? s->cfg.node_n : 1;
	uint64_t first = SY_MAX(last, sy_env_wall_ns(s->env) / 100) + 1;
	s->next_id = first + (s->cfg.node_self + step - first % step) % step;
	s->id_step = step;
	s->backlog_end = smsq_last_id(s->q);
	s->backlog = s->backlog_dlr = true;
	return SY_OK;
}

static enum sy_rc smsc_listen(struct smsc *s)
{
	struct smpp_pool_cfg pc = {.env = s->env,
				   .sess_max = s->cfg.sessions_max,
				   .window = s->cfg.dlr_window,
				   .in_window = s->cfg.esme_window,
				   .enquire_interval_ns = s->cfg.enquire_interval_ns,
				   .bind_timeout_ns = s->cfg.guard.bind_timeout_ns,
				   .bind_fails_max = s->cfg.guard.bind_fails_max,
				   .system_id = sy_str_from(s->cfg.system_id),
				   .ops = &smsc__srv_ops,
				   .arg = s};
	enum sy_rc rc = smpp_pool_create(&pc, &s->srv);
	if (rc != SY_OK || s->cfg.listen.port == 0)
		return rc;
	return smpp_pool_listen(s->srv, &s->cfg.listen);
}

enum sy_rc smsc_create(const struct smsc_cfg *cfg, struct smsc **out, char *err, size_t errlen)
{
	SY_ASSERT(cfg != NULL && cfg->env != NULL && out != NULL);
	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	const struct smsc_node_ops *no = cfg->node_ops;
	if (cfg->node_n > 1 && (cfg->node_self >= cfg->node_n || no == NULL || no->handoff == NULL ||
				no->forward == NULL || no->ack == NULL)) {
		snprintf(err, errlen, "smsc: instance %u of %u needs the cluster's handoff, forward and ack",
			 cfg->node_self, cfg->node_n);
		return SY_ERR_INVAL;
	}
	struct smsc *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SY_ERR_NOMEM;
	s->cfg = *cfg;
	smsc_defaults(&s->cfg);
	s->env = cfg->env;
	sy_hist_init(&s->st.submit_resp);
	enum sy_rc rc = smsc_setup_accounts(s);
	if (rc == SY_OK)
		rc = smsc_setup_pools(s);
	if (rc != SY_OK) {
		snprintf(err, errlen, "smsc: out of memory");
		goto out_destroy;
	}
	if ((rc = smsc__guard_setup(s, err, errlen)) != SY_OK)
		goto out_destroy;
	if ((rc = smsc_open_store(s, err, errlen)) != SY_OK)
		goto out_destroy;
	if ((rc = smsc__carriers_start(s, err, errlen)) != SY_OK)
		goto out_destroy;
	smsc_recover(s);
	if ((rc = smsc_listen(s)) != SY_OK) {
		snprintf(err, errlen, "smsc: SMPP listen: %s", sy_rc_str(rc));
		goto out_destroy;
	}
	s->t_house = sy_env_timer_start(s->env, SMSC_HOUSE_NS, smsc_house_fire, s);
	*out = s;
	return SY_OK;
out_destroy:
	smsc_destroy(s);
	return rc;
}

void smsc_destroy(struct smsc *s)
{
	if (s == NULL)
		return;
	const struct sy_env *e = s->env;
	sy_env_timer_cancel(e, s->t_commit);
	sy_env_timer_cancel(e, s->t_house);
	sy_env_timer_cancel(e, s->t_ready);
	for (uint32_t i = 0; i < sy_pool_used(&s->msgs); i++) {
		struct smsc_msg *m = sy_pool_at(&s->msgs, i);
		sy_env_timer_cancel(e, m->timer);
		free(m->big);
	}
	for (uint32_t i = 0; s->carriers != NULL && i < s->carrier_n; i++)
		for (uint32_t b = 0; b < s->carriers[i].bind_n; b++)
			sy_env_timer_cancel(e, s->carriers[i].binds[b].t_reconnect);
	if (s->srv != NULL)
		smpp_pool_destroy(s->srv);
	if (s->cli != NULL)
		smpp_pool_destroy(s->cli);
	smsc__guard_free(s); /* after the pool: its sessions held connection counts */
	/* As a crash: the pending batches were never acknowledged, and a clean
	 * stop calls smsc_flush() first. */
	smsq_abandon(s->q);
	(void)mdr_store_abandon(s->mdr);
	smsc__reasm_free(s);
	smsc_uidx_free(&s->up);
	sy_htab_free(&s->early_h);
	free(s->early);
	route_table_free(&s->rt);
	sy_pool_free(&s->msgs);
	free(s->http);
	free(s->accts);
	free(s->carriers);
	free(s);
}

const struct smsc_stats *smsc_stats(struct smsc *s)
{
	struct smsc_stats *st = &s->st;
	st->in_flight = s->cfg.msgs_max - smsc__msgs_free(s);
	st->dlr_pending = 0;
	st->throttled = 0;
	for (uint32_t i = 0; i < s->acct_n; i++) {
		st->dlr_pending += s->accts[i].dlr.n;
		st->throttled += s->accts[i].tb.throttled;
	}
	for (uint32_t i = 0; i < s->carrier_n && i < SMSC_CARRIERS_MAX; i++) {
		st->carrier_bound[i] = 0;
		for (uint32_t b = 0; b < s->carriers[i].bind_n; b++)
			st->carrier_bound[i] += s->carriers[i].binds[b].bound;
	}
	struct smsq_stats qs;
	smsq_stats(s->q, &qs);
	st->store_commits = qs.commits;
	return st;
}
