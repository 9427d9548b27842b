/* serve_nodes.c: see serve_nodes.h. The instances share nothing on the
 * hot path: each one's loop, SMSC, store and binds are touched by its own
 * thread only. What one asks of another (core/smpp/smsc_cluster.c) goes
 * through the other's mailbox (sy_live_post) and runs there as a callback:
 * - handoff: the ESME stream, moved at its bind (sy_live_stream_export on
 *   this loop, import on the owner's), with the bytes read so far;
 * - forward: a carrier receipt this instance holds no message for;
 * - ack: the answer to a forwarded receipt, once durable on its owner.
 * An instance that is not up (starting, stopping, or whose loop is gone)
 * takes nothing: a handed stream is closed (the ESME rebinds), a receipt
 * forwarded to it is counted lost and left unanswered (the carrier sends it
 * again). The main thread reads the others' counters from copies each
 * instance refreshes every SERVE_NODES_SNAP_NS under its own lock. */
#include "cmd/serve_nodes.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf/scn.h"
#include "core/metrics/counters.h"

struct sn_totals {
	struct smsc_node_stats node;
	uint64_t nodes;	   /* gauge: instances configured */
	uint64_t fwd_lost; /* receipts forwarded to an instance that was not up */
	uint64_t handoffs_lost;
};

struct sn_inst {
	struct serve_nodes *c;
	uint32_t k;
	struct sy_live *live; /* instance 1: main's loop (not ours to destroy) */
	struct smsc *smsc;    /* used by its own thread only */
	pthread_t th;
	bool th_started;
	atomic_bool up; /* takes posts: its SMSC exists and its loop runs */
	char dir[SCN_PATH_MAX + 16];
	char name[16];
	sy_timer_id snap_timer;
	int flush_rc;
	pthread_mutex_t mu; /* the copies below */
	struct smsc_stats *snap;
	struct smsc_node_stats nsnap;
};

struct serve_nodes {
	uint32_t n;
	struct smsc_cfg cfg; /* instance 1's; the others' differ in env, listen, store */
	enum sy_log_level level;
	pthread_mutex_t start_mu;
	pthread_cond_t start_cv;
	uint32_t started; /* instances 2..n that have reported (under start_mu) */
	int start_rc;
	char start_err[640];
	atomic_uint_fast64_t fwd_lost, handoffs_lost;
	struct sn_inst inst[SCN_NODES_MAX];
	struct smsc_stats *total; /* serve_nodes_stats(), main thread */
	struct sn_totals totals;
};

_Static_assert(sizeof(struct smsc_fwd_receipt) <= SY_LIVE_POST_MAX, "a forwarded receipt fits a post");

/* ---- what the instances ask of each other (on the asker's thread) ---- */

struct handover {
	struct sy_live_moved *m;
	size_t pdu_len, rest_len;
	uint8_t bytes[]; /* the bind, what followed it, what the loop had read after */
};

static void sn_adopt(void *ctx, const void *data, size_t len)
{
	struct sn_inst *to = ctx;
	struct handover *h;
	memcpy(&h, data, sizeof(h));
	struct sy_stream *st;
	if (to->smsc != NULL && sy_live_stream_import(to->live, h->m, NULL, &st) == SY_OK)
		(void)smsc_adopt(to->smsc, st, h->bytes, h->pdu_len, h->bytes + h->pdu_len, h->rest_len);
	else
		atomic_fetch_add(&to->c->handoffs_lost, 1);
	sy_live_moved_free(h->m); /* closes the socket unless imported */
	free(h);
}

static void sn_handoff(void *arg, uint32_t to, struct sy_stream *st, const uint8_t *pdu, size_t pdu_len,
		       const uint8_t *rest, size_t rest_len)
{
	struct sn_inst *self = arg, *dst = &self->c->inst[to];
	struct sy_live_moved *m;
	if (sy_live_stream_export(self->live, st, &m) != SY_OK) {
		sy_env_stream_close(sy_live_env(self->live), st);
		atomic_fetch_add(&self->c->handoffs_lost, 1);
		return;
	}
	const uint8_t *unread;
	size_t unread_len = sy_live_moved_unread(m, &unread);
	struct handover *h = malloc(sizeof(*h) + pdu_len + rest_len + unread_len);
	if (h == NULL || !atomic_load(&dst->up)) {
		free(h);
		sy_live_moved_free(m);
		atomic_fetch_add(&self->c->handoffs_lost, 1);
		return;
	}
	h->m = m;
	h->pdu_len = pdu_len;
	h->rest_len = rest_len + unread_len;
	memcpy(h->bytes, pdu, pdu_len);
	memcpy(h->bytes + pdu_len, rest, rest_len);
	memcpy(h->bytes + pdu_len + rest_len, unread, unread_len);
	if (sy_live_post(dst->live, sn_adopt, dst, &h, sizeof(h)) != SY_OK) {
		sy_live_moved_free(m);
		free(h);
		atomic_fetch_add(&self->c->handoffs_lost, 1);
	}
}

static void sn_fwd_fire(void *ctx, const void *data, size_t len)
{
	struct sn_inst *to = ctx;
	struct smsc_fwd_receipt r;
	SY_ASSERT(len == sizeof(r));
	memcpy(&r, data, sizeof(r));
	if (to->smsc != NULL)
		smsc_receipt_forwarded(to->smsc, &r);
	else
		atomic_fetch_add(&to->c->fwd_lost, 1);
}

static void sn_forward(void *arg, uint32_t to, const struct smsc_fwd_receipt *r)
{
	struct sn_inst *self = arg, *dst = &self->c->inst[to];
	if (!atomic_load_explicit(&dst->up, memory_order_acquire) ||
	    sy_live_post(dst->live, sn_fwd_fire, dst, r, sizeof(*r)) != SY_OK)
		atomic_fetch_add(&self->c->fwd_lost, 1); /* unanswered: the carrier sends it again */
}

struct ack {
	uint64_t sess;
	uint32_t seq;
};

static void sn_ack_fire(void *ctx, const void *data, size_t len)
{
	struct sn_inst *to = ctx;
	struct ack a;
	memcpy(&a, data, sizeof(a));
	if (to->smsc != NULL) /* else its binds are gone: the carrier sends the receipt again */
		smsc_receipt_ack(to->smsc, a.sess, a.seq);
}

static void sn_ack(void *arg, uint32_t to, uint64_t sess, uint32_t seq)
{
	struct sn_inst *self = arg, *dst = &self->c->inst[to];
	struct ack a = {sess, seq};
	if (atomic_load_explicit(&dst->up, memory_order_acquire))
		(void)sy_live_post(dst->live, sn_ack_fire, dst, &a, sizeof(a));
}

static const struct smsc_node_ops sn_ops = {.handoff = sn_handoff, .forward = sn_forward, .ack = sn_ack};

/* ---- an instance's thread ---- */

static void sn_snap(struct sn_inst *in)
{
	const struct smsc_stats *st = smsc_stats(in->smsc);
	pthread_mutex_lock(&in->mu);
	memcpy(in->snap, st, sizeof(*st));
	in->nsnap = *smsc_node_stats(in->smsc);
	pthread_mutex_unlock(&in->mu);
}

static void sn_snap_fire(void *arg)
{
	struct sn_inst *in = arg;
	sn_snap(in);
	in->snap_timer = sy_env_timer_start(sy_live_env(in->live), SERVE_NODES_SNAP_NS, sn_snap_fire, in);
}

static void sn_stop_fire(void *ctx, const void *data, size_t len)
{
	struct sn_inst *in = ctx;
	sy_live_stop(in->live);
}

static void sn_cfg(const struct sn_inst *in, struct smsc_cfg *c)
{
	*c = in->c->cfg;
	c->env = sy_live_env(in->live);
	c->store_dir = in->k == 0 ? in->c->cfg.store_dir : in->dir;
	if (in->k > 0)
		memset(&c->listen, 0, sizeof(c->listen)); /* instance 1 accepts, the owner adopts */
	c->node_self = in->k;
	c->node_n = in->c->n;
	c->node_ops = &sn_ops;
	c->node_arg = (void *)in;
}

static void sn_started(struct serve_nodes *c, int rc, const char *err)
{
	pthread_mutex_lock(&c->start_mu);
	if (rc != 0 && c->start_rc == 0) {
		c->start_rc = rc;
		snprintf(c->start_err, sizeof(c->start_err), "%s", err);
	}
	c->started++;
	pthread_cond_signal(&c->start_cv);
	pthread_mutex_unlock(&c->start_mu);
}

static int sn_open(struct sn_inst *in, char *err, size_t errlen)
{
	struct sy_live_cfg lc = {.log_level = in->c->level, .name = in->name};
	if (sy_live_create(&lc, &in->live) != SY_OK || sy_live_mailbox_open(in->live) != SY_OK) {
		snprintf(err, errlen, "%s: cannot start its event loop", in->name);
		return -1;
	}
	enum sy_rc rc = sy_env_dir_make(sy_live_env(in->live), in->dir);
	if (rc != SY_OK) {
		snprintf(err, errlen, "%s: cannot create %s: %s", in->name, in->dir, sy_env_file_err(rc));
		return -1;
	}
	struct smsc_cfg c;
	sn_cfg(in, &c);
	char e[512];
	if (smsc_create(&c, &in->smsc, e, sizeof(e)) != SY_OK) { /* recovers OUT/nodeK/smsq */
		snprintf(err, errlen, "%s: %s", in->name, e);
		return -1;
	}
	return 0;
}

static void *sn_thread(void *arg)
{
	struct sn_inst *in = arg;
	sigset_t all; /* signals are main's: its loop handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	char err[600];
	if (sn_open(in, err, sizeof(err)) != 0) {
		sn_started(in->c, -1, err);
		return NULL;
	}
	sn_snap(in);
	atomic_store_explicit(&in->up, true, memory_order_release);
	sn_started(in->c, 0, "");
	in->snap_timer = sy_env_timer_start(sy_live_env(in->live), SERVE_NODES_SNAP_NS, sn_snap_fire, in);
	sy_live_run(in->live); /* until sn_stop_fire */
	atomic_store_explicit(&in->up, false, memory_order_release);
	sy_env_timer_cancel(sy_live_env(in->live), in->snap_timer);
	in->flush_rc = smsc_flush(in->smsc) == SY_OK ? 0 : -1;
	sn_snap(in); /* the final counters, for the closing report */
	smsc_destroy(in->smsc);
	in->smsc = NULL;
	return NULL;
}

/* ---- the cluster (main's thread) ---- */

static void sn_free(struct serve_nodes *c)
{
	for (uint32_t k = 0; k < SCN_NODES_MAX; k++) {
		pthread_mutex_destroy(&c->inst[k].mu);
		free(c->inst[k].snap);
	}
	pthread_mutex_destroy(&c->start_mu);
	pthread_cond_destroy(&c->start_cv);
	free(c->total);
	free(c);
}

static struct serve_nodes *sn_new(const struct smsc_cfg *cfg, uint32_t n, const char *out, enum sy_log_level level)
{
	struct serve_nodes *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->n = n;
	c->cfg = *cfg;
	c->level = level;
	pthread_mutex_init(&c->start_mu, NULL);
	pthread_cond_init(&c->start_cv, NULL);
	c->total = calloc(1, sizeof(*c->total));
	bool ok = c->total != NULL;
	for (uint32_t k = 0; k < SCN_NODES_MAX; k++) {
		struct sn_inst *in = &c->inst[k];
		in->c = c;
		in->k = k;
		pthread_mutex_init(&in->mu, NULL);
		in->snap = calloc(1, sizeof(*in->snap));
		ok = ok && in->snap != NULL;
		snprintf(in->name, sizeof(in->name), "smsc-%u", k + 1);
		snprintf(in->dir, sizeof(in->dir), "%s/node%u", out, k + 1);
	}
	if (!ok) {
		sn_free(c);
		return NULL;
	}
	return c;
}

int serve_nodes_start(struct sy_live *main, const struct smsc_cfg *cfg, uint32_t n, const char *out,
		      enum sy_log_level level, struct serve_nodes **cp, struct smsc **smsc1, char *err, size_t errlen)
{
	SY_ASSERT(n > 1 && n <= SCN_NODES_MAX);
	*smsc1 = NULL;
	struct serve_nodes *c = *cp = sn_new(cfg, n, out, level);
	if (c == NULL || sy_live_mailbox_open(main) != SY_OK) {
		snprintf(err, errlen, "out of memory for %u SMSC instances", n);
		return -1;
	}
	c->inst[0].live = main;
	uint32_t threads = 0;
	for (uint32_t k = 1; k < n; k++) {
		if (pthread_create(&c->inst[k].th, NULL, sn_thread, &c->inst[k]) != 0) {
			snprintf(err, errlen, "cannot start the thread of SMSC instance %u", k + 1);
			break;
		}
		c->inst[k].th_started = true;
		threads++;
	}
	/* every instance recovered and bound before instance 1 listens: no
	 * bind is handed to an instance that is not up yet */
	pthread_mutex_lock(&c->start_mu);
	while (c->started < threads)
		pthread_cond_wait(&c->start_cv, &c->start_mu);
	int rc = threads < n - 1 ? -1 : c->start_rc;
	if (c->start_rc != 0)
		snprintf(err, errlen, "%s", c->start_err);
	pthread_mutex_unlock(&c->start_mu);
	if (rc != 0)
		return -1;
	struct smsc_cfg c1;
	sn_cfg(&c->inst[0], &c1);
	if (smsc_create(&c1, &c->inst[0].smsc, err, errlen) != SY_OK)
		return -1;
	*smsc1 = c->inst[0].smsc;
	atomic_store(&c->inst[0].up, true);
	return 0;
}

int serve_nodes_stop(struct serve_nodes *c)
{
	int rc = 0;
	if (c == NULL)
		return 0;
	for (uint32_t k = 1; k < c->n; k++) {
		struct sn_inst *in = &c->inst[k];
		if (!in->th_started)
			continue;
		/* a loop that never started (its open failed) has no mailbox
		 * and ends its thread by itself */
		if (atomic_load(&in->up) && sy_live_post(in->live, sn_stop_fire, in, NULL, 0) != SY_OK)
			fprintf(stderr, "switchyard: cannot stop SMSC instance %u\n", k + 1);
		pthread_join(in->th, NULL);
		in->th_started = false;
		if (in->flush_rc != 0)
			rc = -1;
	}
	return rc;
}

void serve_nodes_destroy(struct serve_nodes *c)
{
	if (c == NULL)
		return;
	SY_ASSERT(!c->inst[1].th_started); /* serve_nodes_stop first */
	atomic_store(&c->inst[0].up, false);
	c->inst[0].smsc = NULL; /* the caller destroyed instance 1 */
	/* What was posted to a loop that no longer runs: handed streams are
	 * closed (their ESMEs rebind to the next serve), receipts counted
	 * lost (their carriers send them again). Every thread is gone. */
	for (uint32_t k = 0; k < c->n; k++)
		if (c->inst[k].live != NULL)
			sy_live_mailbox_drain(c->inst[k].live);
	for (uint32_t k = 1; k < c->n; k++)
		sy_live_destroy(c->inst[k].live); /* its thread is gone: ours now */
	sn_free(c);
}

const struct smsc_stats *serve_nodes_stats(void *arg)
{
	struct serve_nodes *c = arg;
	struct smsc *s1 = c->inst[0].smsc;
	if (s1 != NULL)
		memcpy(c->total, smsc_stats(s1), sizeof(*c->total));
	else
		memset(c->total, 0, sizeof(*c->total));
	c->totals.node = s1 != NULL ? *smsc_node_stats(s1) : (struct smsc_node_stats){0};
	for (uint32_t k = 1; k < c->n; k++) {
		struct sn_inst *in = &c->inst[k];
		pthread_mutex_lock(&in->mu);
		smsc_stats_add(c->total, in->snap);
		smsc_node_stats_add(&c->totals.node, &in->nsnap);
		pthread_mutex_unlock(&in->mu);
	}
	c->totals.nodes = c->n;
	c->totals.fwd_lost = atomic_load(&c->fwd_lost);
	c->totals.handoffs_lost = atomic_load(&c->handoffs_lost);
	return c->total;
}

const void *serve_nodes_counters_of(struct serve_nodes *c)
{
	return &c->totals;
}

const struct smsc_node_stats *serve_nodes_node_stats(struct serve_nodes *c)
{
	return &c->totals.node;
}

#define M(f) SY_CTR_AT(struct sn_totals, f)
/* clang-format off */
static const struct sy_counter sn_ctr[] = {
    {"switchyard_sms_nodes", "sms.nodes", "SMSC instances ([node] nodes)", SY_CTR_GAUGE, SY_UNIT_COUNT, M(nodes)},
    {"switchyard_sms_handoffs_lost_total", "sms.handoffs_lost", "ESME binds whose instance was not up (stream closed; the ESME rebinds)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(handoffs_lost)},
    {"switchyard_sms_receipts_forward_lost_total", "sms.receipts_forward_lost", "receipts forwarded to an instance that was not up (left unanswered: the carrier sends them again)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(fwd_lost)},
};
/* clang-format on */
SY_CTR_TABLE(serve_nodes_counters, "sms_nodes", sn_ctr);
