/* ussd_counters.c: the USSD gateway's counters (struct ussd_stats), one
 * line each, for GET /metrics, report.json and the run report. */
#include "core/metrics/counters.h"
#include "core/ussd/ussd.h"

#define M(f) SY_CTR_AT(struct ussd_stats, f)

/* One counter, one line. */
/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_ussd_sessions_started_total", "ussd.started", "sessions begun (a PSSR indication taken)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(started)},
    {"switchyard_ussd_sessions_completed_total", "ussd.completed", "sessions the application ended (END text sent)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(completed)},
    {"switchyard_ussd_user_aborts_total", "ussd.user_aborts", "sessions the handset released", SY_CTR_COUNTER, SY_UNIT_COUNT, M(user_aborts)},
    {"switchyard_ussd_network_aborts_total", "ussd.network_aborts", "sessions ended by the network (link down, a redial, a release that could not be sent)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(network_aborts)},
    {"switchyard_ussd_app_errors_total", "ussd.app_errors", "sessions ended by an application failure (error_text sent)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(app_errors)},
    {"switchyard_ussd_app_timeouts_total", "ussd.app_timeouts", "sessions ended by an application reply timeout (error_text sent)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(app_timeouts)},
    {"switchyard_ussd_session_timeouts_total", "ussd.session_timeouts", "sessions ended by the session timeout (timeout_text sent)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(session_timeouts)},
    {"switchyard_ussd_refused_total", "ussd.refused", "dialogues refused with a text (all reasons)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(refused)},
    {"switchyard_ussd_refused_unknown_total", "ussd.refused_unknown", "refused: no service for the dialled code", SY_CTR_COUNTER, SY_UNIT_COUNT, M(refused_unknown)},
    {"switchyard_ussd_refused_full_total", "ussd.refused_full", "refused: sessions_max, the application or billing overloaded", SY_CTR_COUNTER, SY_UNIT_COUNT, M(refused_full)},
    {"switchyard_ussd_refused_funds_total", "ussd.refused_funds", "refused: no funds for the session or the next step", SY_CTR_COUNTER, SY_UNIT_COUNT, M(refused_funds)},
    {"switchyard_ussd_refused_account_total", "ussd.refused_account", "refused: a charged service and no usable account for the subscriber", SY_CTR_COUNTER, SY_UNIT_COUNT, M(refused_account)},
    {"switchyard_ussd_refused_price_total", "ussd.refused_price", "refused: a charged service with no price for the payer (no ussd tariff row, no flat price)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(refused_price)},
    {"switchyard_ussd_shutdown_total", "ussd.shutdown", "sessions released because the node stopped", SY_CTR_COUNTER, SY_UNIT_COUNT, M(shutdown)},
    {"switchyard_ussd_steps_total", "ussd.steps", "application replies that continued or ended a dialogue", SY_CTR_COUNTER, SY_UNIT_COUNT, M(steps)},
    {"switchyard_ussd_app_requests_total", "ussd.app_requests", "requests handed to HTTP applications", SY_CTR_COUNTER, SY_UNIT_COUNT, M(app_requests)},
    {"switchyard_ussd_app_retries_total", "ussd.app_retries", "HTTP application requests retried", SY_CTR_COUNTER, SY_UNIT_COUNT, M(app_retries)},
    {"switchyard_ussd_app_overload_total", "ussd.app_overload", "requests not sent: the application's in_flight_max", SY_CTR_COUNTER, SY_UNIT_COUNT, M(app_overload)},
    {"switchyard_ussd_app_unsendable_total", "ussd.app_unsendable", "application replies too long for one USSD string (error_text sent instead)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(app_unsendable)},
    {"switchyard_ussd_rx_msgs_total", "ussd.rx_msgs", "dialogue messages from the USSD nodes", SY_CTR_COUNTER, SY_UNIT_COUNT, M(rx_msgs)},
    {"switchyard_ussd_tx_msgs_total", "ussd.tx_msgs", "dialogue messages to the USSD nodes", SY_CTR_COUNTER, SY_UNIT_COUNT, M(tx_msgs)},
    {"switchyard_ussd_rx_bad_total", "ussd.rx_bad", "undecodable messages from the nodes (answered with an error)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(rx_bad)},
    {"switchyard_ussd_stray_total", "ussd.stray", "messages for no open session (answered, ignored)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(stray)},
    {"switchyard_ussd_tx_queue_full_total", "ussd.tx_queue_full", "messages to a handset that found the link's queue full", SY_CTR_COUNTER, SY_UNIT_COUNT, M(tx_queue_full)},
    {"switchyard_ussd_records_total", "ussd.records", "session records (UDRs) queued", SY_CTR_COUNTER, SY_UNIT_COUNT, M(records)},
    {"switchyard_ussd_records_failed_total", "ussd.records_failed", "session records the store refused", SY_CTR_COUNTER, SY_UNIT_COUNT, M(records_failed)},
    {"switchyard_ussd_charged_micros_total", "ussd.charged", "money charged for USSD sessions", SY_CTR_COUNTER, SY_UNIT_MONEY, M(charged_micros)},
    {"switchyard_ussd_sessions_active", "ussd.active", "sessions open now", SY_CTR_GAUGE, SY_UNIT_COUNT, M(active)},
    {"switchyard_ussd_sessions_active_peak", "ussd.active_peak", "most sessions open at once", SY_CTR_GAUGE, SY_UNIT_COUNT, M(active_peak)},
    {"switchyard_ussd_bytes", "ussd.bytes", "memory the gateway holds (sessions, index, input chunks, links)", SY_CTR_GAUGE, SY_UNIT_COUNT, M(bytes)},
    {"switchyard_ussd_bytes_per_session", "ussd.bytes_per_session", "memory at the peak over the sessions then open (measured)", SY_CTR_GAUGE, SY_UNIT_COUNT, M(bytes_per_session)},
    {"switchyard_ussd_links_up", "ussd.links_up", "SMPP sessions bound to USSD nodes", SY_CTR_GAUGE, SY_UNIT_COUNT, M(links_up)},
    {"switchyard_ussd_binds_ok_total", "ussd.binds_ok", "binds that succeeded (either direction)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(binds_ok)},
    {"switchyard_ussd_binds_failed_total", "ussd.binds_failed", "binds refused or failed", SY_CTR_COUNTER, SY_UNIT_COUNT, M(binds_failed)},
};
/* clang-format on */

SY_CTR_TABLE(ussd_counters, "ussd", c);
