/* smsc_counters.c: the SMSC's counters (struct smsc_stats), one line each,
 * for GET /metrics, report.json and the run report. The report's sms.*
 * figures of the applications' side come from the simulated ESMEs (sim/). */
#include "core/metrics/counters.h"
#include "core/smpp/smsc.h"

#define M(f) SY_CTR_AT(struct smsc_stats, f)

/* One counter, one line. */
/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_sms_submitted_total", NULL, "submit_sm received", SY_CTR_COUNTER, SY_UNIT_COUNT, M(submitted)},
    {"switchyard_sms_accepted_total", NULL, "submit_sm answered OK (durable)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(accepted)},
    {"switchyard_sms_rejected_total", NULL, "submit_sm answered with an error", SY_CTR_COUNTER, SY_UNIT_COUNT, M(rejected)},
    {"switchyard_sms_throttled_total", NULL, "submit_sm answered ESME_RTHROTTLED", SY_CTR_COUNTER, SY_UNIT_COUNT, M(throttled)},
    {"switchyard_sms_delivered_total", NULL, "messages delivered (carrier receipt)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(delivered)},
    {"switchyard_sms_undeliverable_total", NULL, "messages undeliverable", SY_CTR_COUNTER, SY_UNIT_COUNT, M(undeliverable)},
    {"switchyard_sms_expired_total", NULL, "messages expired", SY_CTR_COUNTER, SY_UNIT_COUNT, M(expired)},
    {"switchyard_sms_upstream_retries_total", "sms.retries", "upstream submit retries", SY_CTR_COUNTER, SY_UNIT_COUNT, M(upstream_retries)},
    {"switchyard_sms_dlr_sent_total", NULL, "receipts acknowledged by applications", SY_CTR_COUNTER, SY_UNIT_COUNT, M(dlr_sent)},
    {"switchyard_sms_http_submitted_total", NULL, "messages submitted over POST /sms", SY_CTR_COUNTER, SY_UNIT_COUNT, M(http_submitted)},
    {"switchyard_sms_in_flight", NULL, "messages in memory", SY_CTR_GAUGE, SY_UNIT_COUNT, M(in_flight)},
    {"switchyard_sms_dlr_pending", NULL, "receipts owed, waiting for an application", SY_CTR_GAUGE, SY_UNIT_COUNT, M(dlr_pending)},
    {"switchyard_sms_recovered_total", "sms.recovered", "messages recovered from the store at start", SY_CTR_COUNTER, SY_UNIT_COUNT, M(recovered)},
    {"switchyard_sms_resent_after_crash_total", "sms.resent_after_crash", "recovered messages sent again (no upstream id)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(recovered_resent)},
    {"switchyard_sms_store_commits_total", "sms.store_commits", "queue store commits", SY_CTR_COUNTER, SY_UNIT_COUNT, M(store_commits)},
    {"switchyard_sms_store_errors_total", "sms.store_errors", "queue store commits that failed", SY_CTR_COUNTER, SY_UNIT_COUNT, M(store_errors)},
    {"switchyard_sms_refused_disk_total", "sms.refused_disk", "submits answered ESME_RTHROTTLED: the store was failing", SY_CTR_COUNTER, SY_UNIT_COUNT, M(refused_disk)},
    {"switchyard_mdr_store_errors_total", "mdr.store_errors", "MDR writes the disk refused (retried, never dropped)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(mdr_errors)},
    {"switchyard_sms_mdrs_written_total", NULL, "MDRs written", SY_CTR_COUNTER, SY_UNIT_COUNT, M(mdrs)},
    {"switchyard_sms_revenue", "billing.sms_revenue", "rated cost of the MDRs written (money units)", SY_CTR_COUNTER, SY_UNIT_MONEY, M(revenue_micros)},
    {"switchyard_smpp_binds_total", NULL, "ESME binds accepted", SY_CTR_COUNTER, SY_UNIT_COUNT, M(binds_ok)},
    {"switchyard_smpp_bind_failures_total", NULL, "ESME binds refused (ESME_RBINDFAIL): unknown id, bad password, no SMPP access, source backing off", SY_CTR_COUNTER, SY_UNIT_COUNT, M(bind_failures)},
    {"switchyard_smpp_binds_over_cap_total", NULL, "ESME binds refused: the account's binds were all in use", SY_CTR_COUNTER, SY_UNIT_COUNT, M(binds_over_cap)},
    {"switchyard_smpp_bind_fail_closes_total", NULL, "SMPP streams closed after their third failed bind", SY_CTR_COUNTER, SY_UNIT_COUNT, M(bind_closed_fails)},
    {"switchyard_smpp_bind_timeouts_total", NULL, "SMPP streams closed for not binding in time", SY_CTR_COUNTER, SY_UNIT_COUNT, M(bind_timeouts)},
    {"switchyard_smpp_conns_refused_source_total", NULL, "SMPP streams refused: the source's connection cap", SY_CTR_COUNTER, SY_UNIT_COUNT, M(conns_refused_source)},
    {"switchyard_smpp_conns_refused_blocked_total", NULL, "SMPP streams refused: the source was backing off after failed binds", SY_CTR_COUNTER, SY_UNIT_COUNT, M(conns_refused_blocked)},
    {"switchyard_smpp_sources_blocked_total", NULL, "failed binds that blocked their source (backoff started)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(sources_blocked)},
    {"switchyard_sms_submit_resp_seconds", NULL, "submit_sm received to submit_sm_resp sent", SY_CTR_HIST, SY_UNIT_NS, M(submit_resp)},
};
/* clang-format on */

SY_CTR_TABLE(smsc_counters, "smsc", c);
