/* hep_counters.c: the HEPv3 exporter's counters (struct hep_stats) for
 * GET /metrics and the report. Only a node with [node] hep has them. */
#include "core/metrics/counters.h"
#include "core/pcap/hep.h"

#define H(f) SY_CTR_AT(struct hep_stats, f)

/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_hep_sent_total", "hep.sent", "HEP packets sent to the collector (one per SIP message)", SY_CTR_COUNTER, SY_UNIT_COUNT, H(sent)},
    {"switchyard_hep_bytes_total", "hep.bytes", "bytes of HEP packets sent", SY_CTR_COUNTER, SY_UNIT_COUNT, H(bytes)},
    {"switchyard_hep_dropped_total", "hep.dropped", "HEP packets the network refused: counted and dropped, never retried", SY_CTR_COUNTER, SY_UNIT_COUNT, H(dropped)},
    {"switchyard_hep_oversize_total", "hep.oversize", "SIP messages too large for one HEP packet, not sent", SY_CTR_COUNTER, SY_UNIT_COUNT, H(oversize)},
    {"switchyard_hep_not_sip_total", "hep.not_sip", "datagrams and streams that carry no SIP (SMPP, HTTP, keepalives), not sent", SY_CTR_COUNTER, SY_UNIT_COUNT, H(not_sip)},
    {"switchyard_hep_tcp_messages_total", "hep.tcp_messages", "SIP messages cut out of TCP streams (part of sent)", SY_CTR_COUNTER, SY_UNIT_COUNT, H(tcp_msgs)},
    {"switchyard_hep_tcp_lost_bytes_total", "hep.tcp_lost_bytes", "TCP stream bytes that could not be framed as SIP (over 64 KiB, no slot, cut by a close)", SY_CTR_COUNTER, SY_UNIT_COUNT, H(tcp_lost)},
};
/* clang-format on */

SY_CTR_TABLE(hep_counters, "hep", c);
