/* b2bua_counters.c: the call counters of the B2BUA (struct b2bua_stats),
 * one line each: GET /metrics, report.json and the run report read them
 * from here (core/metrics/counters.h). */
#include "core/metrics/counters.h"
#include "core/sip/b2bua.h"

#define B(f) SY_CTR_AT(struct b2bua_stats, f)

static int64_t asr_ppm(const void *p)
{
	const struct b2bua_stats *s = p;
	return s->attempts == 0 ? 0 : (int64_t)(s->answered * 1000000u / s->attempts);
}

/* One counter, one line. */
/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_calls_attempted_total", "calls.attempted", "calls accepted into the pool", SY_CTR_COUNTER, SY_UNIT_COUNT, B(attempts)},
    {"switchyard_calls_answered_total", "calls.answered", "calls answered", SY_CTR_COUNTER, SY_UNIT_COUNT, B(answered)},
    {"switchyard_calls_completed_total", "calls.completed", "answered calls ended by BYE", SY_CTR_COUNTER, SY_UNIT_COUNT, B(completed)},
    {"switchyard_calls_failed_total", "calls.failed", "calls failed with a final non-2xx", SY_CTR_COUNTER, SY_UNIT_COUNT, B(failed)},
    {"switchyard_calls_cancelled_total", "calls.cancelled", "calls cancelled by the caller", SY_CTR_COUNTER, SY_UNIT_COUNT, B(cancelled)},
    {"switchyard_calls_timeouts_total", "calls.timeouts", "B legs the carrier never answered", SY_CTR_COUNTER, SY_UNIT_COUNT, B(timeouts)},
    {"switchyard_calls_no_route_total", "calls.no_route", "calls refused with 404 (no route)", SY_CTR_COUNTER, SY_UNIT_COUNT, B(no_route)},
    {"switchyard_calls_congestion_total", "calls.congestion", "calls refused with 503 (no capacity)", SY_CTR_COUNTER, SY_UNIT_COUNT, B(congestion)},
    {"switchyard_calls_failovers_total", "calls.failovers", "B legs retried on the next carrier", SY_CTR_COUNTER, SY_UNIT_COUNT, B(failovers)},
    {"switchyard_calls_session_expired_total", "calls.session_expired", "calls ended: a session refresh failed or none came (RFC 4028)", SY_CTR_COUNTER, SY_UNIT_COUNT, B(session_expired)},
    {"switchyard_calls_bye_timeouts_total", "calls.bye_timeouts", "BYEs of ours never answered (timer F)", SY_CTR_COUNTER, SY_UNIT_COUNT, B(bye_timeouts)},
    {"switchyard_session_refreshes_total", NULL, "session refreshes (UPDATE) sent", SY_CTR_COUNTER, SY_UNIT_COUNT, B(refreshes)},
    {"switchyard_calls_relayed_total", NULL, "re-INVITEs and UPDATEs relayed between the legs", SY_CTR_COUNTER, SY_UNIT_COUNT, B(relayed)},
    {"switchyard_session_too_small_total", NULL, "INVITEs answered 422 Session Interval Too Small", SY_CTR_COUNTER, SY_UNIT_COUNT, B(too_small)},
    {"switchyard_calls_active", "calls.active", "calls in the pool now", SY_CTR_GAUGE, SY_UNIT_COUNT, B(active)},
    {"switchyard_calls_peak", "calls.peak", "most calls in the pool at once", SY_CTR_GAUGE, SY_UNIT_COUNT, B(active_peak)},
    {NULL, "asr", "answer-seizure ratio", SY_CTR_GAUGE, SY_UNIT_PPM, SY_CTR_FN_(asr_ppm)},
    {"switchyard_pdd_seconds", "pdd", "post-dial delay", SY_CTR_HIST, SY_UNIT_NS, B(pdd)},
    {"switchyard_setup_seconds", "setup", "INVITE to answer", SY_CTR_HIST, SY_UNIT_NS, B(setup)},
    {"switchyard_calls_declined_by_billing_total", NULL, "INVITEs refused by billing (402/403)", SY_CTR_COUNTER, SY_UNIT_COUNT, B(bill_declined)},
    {"switchyard_calls_stray_total", NULL, "in-dialog requests for unknown dialogs (481)", SY_CTR_COUNTER, SY_UNIT_COUNT, B(stray)},
    {"switchyard_sip_pike_sources_limited_total", NULL, "sources blocked for their request rate ([node] pike)", SY_CTR_COUNTER, SY_UNIT_COUNT, B(pike_limited)},
    {"switchyard_sip_pike_dropped_total", NULL, "requests dropped unparsed and unanswered: their source over its rate or blocked", SY_CTR_COUNTER, SY_UNIT_COUNT, B(pike_dropped)},
    {"switchyard_sip_pike_tracked_sources", NULL, "sources in pike's table now", SY_CTR_GAUGE, SY_UNIT_COUNT, B(pike_tracked)},
    {"switchyard_sip_stray_2xx_total", NULL, "2xx matching no call: ACKed and ended with BYE", SY_CTR_COUNTER, SY_UNIT_COUNT, B(stray_2xx)},
    {"switchyard_sip_stray_2xx_limited_total", NULL, "2xx matching no transaction left unanswered: past 20 ACK+BYE per second", SY_CTR_COUNTER, SY_UNIT_COUNT, B(stray_2xx_limited)},
    {"switchyard_sip_dialog_refused_no_dialog_total", NULL, "in-dialog requests refused (481): no call has the Call-ID", SY_CTR_COUNTER, SY_UNIT_COUNT, B(dlg_refused[B2BUA_REFUSED_NO_DIALOG])},
    {"switchyard_sip_dialog_refused_tag_total", NULL, "in-dialog requests refused (481): known Call-ID, wrong tags", SY_CTR_COUNTER, SY_UNIT_COUNT, B(dlg_refused[B2BUA_REFUSED_TAG])},
    {"switchyard_sip_dialog_refused_source_total", NULL, "in-dialog requests refused (481): right dialog, wrong transport source", SY_CTR_COUNTER, SY_UNIT_COUNT, B(dlg_refused[B2BUA_REFUSED_SOURCE])},
};
/* clang-format on */

SY_CTR_TABLE(b2bua_counters, "b2bua", c);
