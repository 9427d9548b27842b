/* smsc_cluster.c: one SMSC per core ([node] nodes = N). N instances of the
 * engine, each with its own event loop, store and carrier binds, share
 * nothing on the hot path:
 * - an account's binds all go to one instance, smsc_node_of(system_id):
 *   whichever instance accepted the stream hands it over at the bind
 *   (node_ops.handoff; the runner moves the stream to the owner's loop,
 *   which adopts it and reads the bind again), so its TPS bucket, its
 *   fraud state, its messages and their receipts to the ESME stay there;
 * - a carrier may send a receipt on any of its binds, so on another
 *   instance's: one that finds no message for the carrier's id passes the
 *   receipt on (node_ops.forward) to the next instance, around the ring,
 *   until one holds the message. The carrier's deliver_sm is answered, on
 *   the instance that received it (node_ops.ack), once the final state is
 *   durable where the message is, as with one instance: a crash in between
 *   leaves it unanswered and the carrier sends it again. The last instance
 *   to look handles it as an unknown receipt (answered at once, kept a
 *   while for a submit_sm_resp that may still name it); each instance it
 *   passed keeps a quiet copy too, for a submit_sm_resp of its own still
 *   on the way (the race one instance has, spread over the instances).
 * The runner (sim/run_nodes.c, or serve) carries the streams and receipts
 * between the loops. */
#include "core/metrics/counters.h"
#include "core/smpp/smsc_int.h"

#define M(f) SY_CTR_AT(struct smsc_node_stats, f)

/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_sms_binds_handed_total", "sms.binds_handed", "ESME binds handed to their account's SMSC instance", SY_CTR_COUNTER, SY_UNIT_COUNT, M(binds_handed)},
    {"switchyard_sms_binds_adopted_total", "sms.binds_adopted", "ESME binds taken from another SMSC instance", SY_CTR_COUNTER, SY_UNIT_COUNT, M(binds_adopted)},
    {"switchyard_sms_receipts_forwarded_total", "sms.receipts_forwarded", "carrier receipts passed to the next SMSC instance", SY_CTR_COUNTER, SY_UNIT_COUNT, M(receipts_forwarded)},
    {"switchyard_sms_receipts_forwarded_matched_total", "sms.receipts_forwarded_matched", "forwarded receipts an instance held the message of", SY_CTR_COUNTER, SY_UNIT_COUNT, M(receipts_fwd_matched)},
};
/* clang-format on */

SY_CTR_TABLE(smsc_node_counters, "smsc_node", c);

uint32_t smsc_node_of(struct sy_str system_id, uint32_t n)
{
	if (n <= 1)
		return 0;
	uint64_t h = 14695981039346656037ull; /* FNV-1a, 64 bits */
	for (size_t i = 0; i < system_id.len; i++) {
		h ^= (uint8_t)system_id.p[i];
		h *= 1099511628211ull;
	}
	return (uint32_t)(h % n);
}

/* Every field before submit_resp is a 64-bit counter or gauge: summed
 * (a gauge over instances is their sum too). */
_Static_assert(offsetof(struct smsc_stats, submit_resp) % 8 == 0 &&
		   offsetof(struct smsc_stats, revenue_micros) < offsetof(struct smsc_stats, submit_resp),
	       "smsc_stats: 64-bit fields, then the histogram");

void smsc_stats_add(struct smsc_stats *t, const struct smsc_stats *a)
{
	uint64_t *d = (uint64_t *)(void *)t;
	const uint64_t *v = (const uint64_t *)(const void *)a;
	for (size_t i = 0; i < offsetof(struct smsc_stats, submit_resp) / 8; i++)
		d[i] += v[i];
	sy_hist_merge(&t->submit_resp, &a->submit_resp);
}

void smsc_node_stats_add(struct smsc_node_stats *t, const struct smsc_node_stats *a)
{
	t->binds_handed += a->binds_handed;
	t->binds_adopted += a->binds_adopted;
	t->receipts_forwarded += a->receipts_forwarded;
	t->receipts_fwd_in += a->receipts_fwd_in;
	t->receipts_fwd_matched += a->receipts_fwd_matched;
}

const struct smsc_node_stats *smsc_node_stats(const struct smsc *s)
{
	return &s->node_st;
}

bool smsc__bind_handoff(void *arg, struct smpp_session *ss, struct sy_str system_id, const uint8_t *pdu, size_t pdu_len,
			const uint8_t *rest, size_t rest_len)
{
	struct smsc *s = arg;
	if (s->cfg.node_n <= 1 || s->cfg.node_ops == NULL || s->cfg.node_ops->handoff == NULL)
		return false;
	uint32_t to = smsc_node_of(system_id, s->cfg.node_n);
	if (to == s->cfg.node_self)
		return false;
	s->node_st.binds_handed++;
	/* the stream leaves this instance's per-source count (the owner's
	 * on_accept counts it there) */
	sy_srclimit_conn_close(s->src, smpp_session_peer(ss));
	struct sy_stream *st = smpp_session_detach(ss);
	s->cfg.node_ops->handoff(s->cfg.node_arg, to, st, pdu, pdu_len, rest, rest_len);
	return true;
}

enum sy_rc smsc_adopt(struct smsc *s, struct sy_stream *st, const uint8_t *pdu, size_t pdu_len, const uint8_t *rest,
		      size_t rest_len)
{
	s->node_st.binds_adopted++;
	return smpp_pool_adopt(s->srv, st, pdu, pdu_len, rest, rest_len);
}

void smsc__forward(struct smsc *s, const struct smsc_carrier *c, struct sy_str id, uint8_t state, uint32_t err,
		   uint32_t hops, uint64_t sess, uint32_t seq)
{
	struct smsc_fwd_receipt r = {.carrier = c->idx, .err = err, .hops = hops + 1, .seq = seq, .state = state};
	SY_ASSERT(id.len <= sizeof(r.id)); /* rcpt_match() forwards no longer one */
	/* Leaving the instance that received it: its answer will come back
	 * here. Session ids are (generation << 32 | index + 1), and a pool's
	 * index is far below 2^24. */
	if (hops == 0 && seq != 0) {
		SY_ASSERT((sess & SMSC_SESS_NODE_MASK) == 0);
		sess |= (uint64_t)(s->cfg.node_self + 1) << SMSC_SESS_NODE_SHIFT;
	}
	r.sess = sess;
	r.id_len = (uint8_t)id.len;
	memcpy(r.id, id.p, id.len);
	s->node_st.receipts_forwarded++;
	s->cfg.node_ops->forward(s->cfg.node_arg, (s->cfg.node_self + 1) % s->cfg.node_n, &r);
}

void smsc__ack_forward(struct smsc *s, uint64_t sess, uint32_t seq)
{
	uint32_t to = (uint32_t)((sess & SMSC_SESS_NODE_MASK) >> SMSC_SESS_NODE_SHIFT) - 1;
	if (s->cfg.node_ops == NULL || s->cfg.node_ops->ack == NULL || to >= s->cfg.node_n)
		return; /* only forwarded receipts carry an instance (in memory, never stored) */
	s->cfg.node_ops->ack(s->cfg.node_arg, to, sess & ~SMSC_SESS_NODE_MASK, seq);
}
