/* txn_counters.c: the SIP stack's counters (struct sip_stack_stats), one
 * line each, for GET /metrics, report.json and the run report. */
#include "core/metrics/counters.h"
#include "core/sip/osip_pool.h"
#include "core/sip/txn.h"

#define S(f) SY_CTR_AT(struct sip_stack_stats, f)

/* Both ways a datagram is refused: dropped unanswerable, or answered 400. */
static int64_t malformed(const void *p)
{
	const struct sip_stack_stats *s = p;
	return (int64_t)(s->rx_bad_dropped + s->rx_bad_400);
}

/* osip's pool is process-wide (osip_pool.h): the same on every stack. */
static int64_t osip_bytes(const void *p)
{
	struct sip_osip_pool_stats o;
	(void)p;
	sip_osip_pool_stats(&o);
	return (int64_t)(o.used_bytes + o.kept_bytes);
}

static int64_t osip_limit(const void *p)
{
	struct sip_osip_pool_stats o;
	(void)p;
	sip_osip_pool_stats(&o);
	return (int64_t)o.limit_bytes;
}

/* The transaction pool's highest use, in ppm: the larger of its two
 * limits' shares (transactions of their cap, bytes of sip_memory). */
static int64_t pool_peak(const void *p)
{
	const struct sip_stack_stats *s = p;
	uint64_t by_n = s->txn_cap ? s->txn_peak * 1000000u / s->txn_cap : 0;
	uint64_t by_mem = s->mem_limit ? s->mem_peak * 1000000u / s->mem_limit : 0;
	return (int64_t)SY_MAX(by_n, by_mem);
}

/* One counter, one line. The overload lines (issue 9) are /metrics only:
 * the report and its golden digests stay as they were. */
/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_sip_rx_total", "sip.rx", "SIP messages received", SY_CTR_COUNTER, SY_UNIT_COUNT, S(rx_msgs)},
    {"switchyard_sip_tx_total", "sip.tx", "SIP messages sent", SY_CTR_COUNTER, SY_UNIT_COUNT, S(tx_msgs)},
    {"switchyard_sip_retransmits_total", "sip.retransmits", "SIP retransmissions sent", SY_CTR_COUNTER, SY_UNIT_COUNT, S(retransmits_sent)},
    {"switchyard_sip_malformed_total", "sip.bad", "malformed SIP datagrams", SY_CTR_COUNTER, SY_UNIT_COUNT, SY_CTR_FN_(malformed)},
    {"switchyard_sip_txn_full_total", "sip.txn_full", "requests refused for a full transaction pool", SY_CTR_COUNTER, SY_UNIT_COUNT, S(txn_full)},
    {"switchyard_sip_txn_pool_peak_ratio", "sip.pool_peak", "the transaction pool's highest use: the larger of transactions over their cap and bytes over sip_memory", SY_CTR_GAUGE, SY_UNIT_PPM, SY_CTR_FN_(pool_peak)},
    {"switchyard_sip_osip_pool_exhausted_total", "sip.osip_pool_exhausted", "datagrams dropped: osip's memory pool at its limit", SY_CTR_COUNTER, SY_UNIT_COUNT, S(rx_pool_exhausted)},
    {"switchyard_sip_txn_active", NULL, "SIP transactions now", SY_CTR_GAUGE, SY_UNIT_COUNT, S(txn_active)},
    {"switchyard_sip_txn_lingering", NULL, "SIP transactions finished, absorbing retransmissions (Timers D H I J K L M)", SY_CTR_GAUGE, SY_UNIT_COUNT, S(txn_lingering)},
    {"switchyard_sip_txn_memory_bytes", NULL, "bytes held by SIP transactions: slabs plus kept messages", SY_CTR_GAUGE, SY_UNIT_COUNT, S(mem_bytes)},
    {"switchyard_sip_txn_memory_limit_bytes", NULL, "the transactions' memory limit ([node] sip_memory)", SY_CTR_GAUGE, SY_UNIT_COUNT, S(mem_limit)},
    {"switchyard_sip_osip_memory_bytes", NULL, "bytes in osip's pool: blocks in use plus kept for reuse", SY_CTR_GAUGE, SY_UNIT_COUNT, SY_CTR_FN_(osip_bytes)},
    {"switchyard_sip_osip_memory_limit_bytes", NULL, "osip's pool limit", SY_CTR_GAUGE, SY_UNIT_COUNT, SY_CTR_FN_(osip_limit)},
    {"switchyard_sip_rejected_txn_total", NULL, "new requests answered 503 Retry-After: transactions past the threshold", SY_CTR_COUNTER, SY_UNIT_COUNT, S(rejected[SIP_OVL_TXN])},
    {"switchyard_sip_rejected_calls_total", NULL, "new INVITEs answered 503 Retry-After: calls past the threshold", SY_CTR_COUNTER, SY_UNIT_COUNT, S(rejected[SIP_OVL_CALLS])},
    {"switchyard_sip_rejected_lag_total", NULL, "new INVITEs answered 503 Retry-After: event loop lagging", SY_CTR_COUNTER, SY_UNIT_COUNT, S(rejected[SIP_OVL_LAG])},
    {"switchyard_sip_rejected_memory_total", NULL, "new INVITEs answered 503 Retry-After: osip's memory past the threshold", SY_CTR_COUNTER, SY_UNIT_COUNT, S(rejected[SIP_OVL_MEMORY])},
    {"switchyard_sip_served_stateless_total", NULL, "in-dialog requests served with no transaction: pool and reserve full", SY_CTR_COUNTER, SY_UNIT_COUNT, S(served_stateless)},
    {"switchyard_sip_sent_stateless_total", NULL, "BYE/CANCEL sent once with no transaction: pool and reserve full", SY_CTR_COUNTER, SY_UNIT_COUNT, S(sent_stateless)},
    {"switchyard_sip_finals_once_total", NULL, "INVITE refusals sent before any 1xx: answered per INVITE copy, never retransmitted (Timer G off)", SY_CTR_COUNTER, SY_UNIT_COUNT, S(finals_once)},
    {"switchyard_sip_loop_lag_seconds", NULL, "event loop lag: how late transaction timers fire", SY_CTR_HIST, SY_UNIT_NS, S(lag)},
};
/* clang-format on */

SY_CTR_TABLE(sip_stack_counters, "sip", c);
