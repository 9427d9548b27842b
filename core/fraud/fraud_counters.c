/* fraud_counters.c: the fraud component's counters (struct fraud_stats),
 * one line each, for GET /metrics, report.json and the run report. */
#include "core/fraud/fraud.h"
#include "core/metrics/counters.h"

#define M(f) SY_CTR_AT(struct fraud_stats, f)

/* One counter, one line. */
/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_fraud_decisions_total", "fraud.decisions", "calls and messages decided", SY_CTR_COUNTER, SY_UNIT_COUNT, M(decisions)},
    {"switchyard_fraud_allowed_total", "fraud.allowed", "decisions applied as allow", SY_CTR_COUNTER, SY_UNIT_COUNT, M(by_action[FRAUD_ALLOW])},
    {"switchyard_fraud_flagged_total", "fraud.flagged", "decisions applied as flag (monitor mode: every block and throttle too)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(by_action[FRAUD_FLAG])},
    {"switchyard_fraud_throttled_total", "fraud.throttled", "decisions applied as throttle (503 / ESME_RTHROTTLED)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(by_action[FRAUD_THROTTLE])},
    {"switchyard_fraud_blocked_total", "fraud.blocked", "decisions applied as block (403 / SMPP error)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(by_action[FRAUD_BLOCK])},
    {"switchyard_fraud_fired_irsf_total", "fraud.fired.irsf", "decisions where IRSF said flag or more", SY_CTR_COUNTER, SY_UNIT_COUNT, M(fired[FRAUD_DET_IRSF])},
    {"switchyard_fraud_fired_wangiri_total", "fraud.fired.wangiri", "decisions where Wangiri said flag or more", SY_CTR_COUNTER, SY_UNIT_COUNT, M(fired[FRAUD_DET_WANGIRI])},
    {"switchyard_fraud_fired_sms_pump_total", "fraud.fired.sms_pump", "decisions where SMS pumping said flag or more", SY_CTR_COUNTER, SY_UNIT_COUNT, M(fired[FRAUD_DET_SMS_PUMP])},
    {"switchyard_fraud_fired_velocity_total", "fraud.fired.velocity", "decisions where velocity said flag or more", SY_CTR_COUNTER, SY_UNIT_COUNT, M(fired[FRAUD_DET_VELOCITY])},
    {"switchyard_fraud_fired_callerid_total", "fraud.fired.callerid", "decisions where caller-ID said flag or more", SY_CTR_COUNTER, SY_UNIT_COUNT, M(fired[FRAUD_DET_CALLERID])},
    {"switchyard_fraud_blocked_irsf_total", "fraud.blocked.irsf", "verdicts block decided by IRSF", SY_CTR_COUNTER, SY_UNIT_COUNT, M(blocked_by[FRAUD_DET_IRSF])},
    {"switchyard_fraud_blocked_wangiri_total", "fraud.blocked.wangiri", "verdicts block decided by Wangiri", SY_CTR_COUNTER, SY_UNIT_COUNT, M(blocked_by[FRAUD_DET_WANGIRI])},
    {"switchyard_fraud_blocked_sms_pump_total", "fraud.blocked.sms_pump", "verdicts block decided by SMS pumping", SY_CTR_COUNTER, SY_UNIT_COUNT, M(blocked_by[FRAUD_DET_SMS_PUMP])},
    {"switchyard_fraud_blocked_velocity_total", "fraud.blocked.velocity", "verdicts block decided by velocity", SY_CTR_COUNTER, SY_UNIT_COUNT, M(blocked_by[FRAUD_DET_VELOCITY])},
    {"switchyard_fraud_blocked_callerid_total", "fraud.blocked.callerid", "verdicts block decided by caller-ID", SY_CTR_COUNTER, SY_UNIT_COUNT, M(blocked_by[FRAUD_DET_CALLERID])},
    {"switchyard_fraud_checks_total", "fraud.checks", "running-call checks (premium ranges)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(checks)},
    {"switchyard_fraud_teardowns_total", "fraud.teardowns", "running calls ended by a check", SY_CTR_COUNTER, SY_UNIT_COUNT, M(teardowns)},
    {"switchyard_fraud_alerts_total", "fraud.alerts", "blocks alerted (on_alert, the webhook)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(alerts)},
    {"switchyard_fraud_alerts_suppressed_total", "fraud.alerts_suppressed", "blocks past the alert rate, not alerted", SY_CTR_COUNTER, SY_UNIT_COUNT, M(alerts_suppressed)},
    {"switchyard_fraud_ranges_reloads_total", "fraud.ranges_reloads", "ranges files reloaded", SY_CTR_COUNTER, SY_UNIT_COUNT, M(ranges_reloads)},
    {"switchyard_fraud_ranges_reload_failed_total", "fraud.ranges_reload_failed", "ranges reloads refused (the old table stayed)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(ranges_reload_failed)},
    {"switchyard_fraud_wangiri_sources", "fraud.wangiri_sources", "source ranges under callback protection", SY_CTR_GAUGE, SY_UNIT_COUNT, M(wangiri_sources)},
    {"switchyard_fraud_accounts_tracked", "fraud.accounts_tracked", "accounts with state in the tracked table", SY_CTR_GAUGE, SY_UNIT_COUNT, M(accounts_tracked)},
    {"switchyard_fraud_accounts_evicted_total", "fraud.accounts_evicted", "accounts pushed out of the full table (least recently seen)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(accounts_evicted)},
    {"switchyard_fraud_bytes", "fraud.bytes", "memory the component holds (tables, sketches, ranges)", SY_CTR_GAUGE, SY_UNIT_COUNT, M(bytes)},
};
/* clang-format on */

SY_CTR_TABLE(fraud_counters, "fraud", c);
