/* txn_counters.c: the SIP stack's counters (struct sip_stack_stats), one
 * line each, for GET /metrics, report.json and the run report. */
#include "core/metrics/counters.h"
#include "core/sip/txn.h"

#define S(f) SY_CTR_AT(struct sip_stack_stats, f)

/* Both ways a datagram is refused: dropped unanswerable, or answered 400. */
static int64_t malformed(const void *p)
{
	const struct sip_stack_stats *s = p;
	return (int64_t)(s->rx_bad_dropped + s->rx_bad_400);
}

/* One counter, one line. */
/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_sip_rx_total", "sip.rx", "SIP messages received", SY_CTR_COUNTER, SY_UNIT_COUNT, S(rx_msgs)},
    {"switchyard_sip_tx_total", "sip.tx", "SIP messages sent", SY_CTR_COUNTER, SY_UNIT_COUNT, S(tx_msgs)},
    {"switchyard_sip_retransmits_total", "sip.retransmits", "SIP retransmissions sent", SY_CTR_COUNTER, SY_UNIT_COUNT, S(retransmits_sent)},
    {"switchyard_sip_malformed_total", "sip.bad", "malformed SIP datagrams", SY_CTR_COUNTER, SY_UNIT_COUNT, SY_CTR_FN_(malformed)},
    {"switchyard_sip_txn_full_total", "sip.txn_full", "requests refused for a full transaction pool", SY_CTR_COUNTER, SY_UNIT_COUNT, S(txn_full)},
    {"switchyard_sip_osip_pool_exhausted_total", "sip.osip_pool_exhausted", "datagrams dropped: osip's memory pool at its limit", SY_CTR_COUNTER, SY_UNIT_COUNT, S(rx_pool_exhausted)},
    {"switchyard_sip_txn_active", NULL, "SIP transactions now", SY_CTR_GAUGE, SY_UNIT_COUNT, S(txn_active)},
};
/* clang-format on */

SY_CTR_TABLE(sip_stack_counters, "sip", c);
