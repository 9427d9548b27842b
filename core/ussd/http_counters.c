/* http_counters.c: the USSD HTTP application client's counters (struct
 * ussd_http_stats), one line each, for GET /metrics, report.json and the
 * run report. */
#include "core/metrics/counters.h"
#include "core/ussd/http.h"

#define M(f) SY_CTR_AT(struct ussd_http_stats, f)

/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_ussd_http_requests_total", "ussd_app.requests", "requests to HTTP applications (retries not counted again)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(requests)},
    {"switchyard_ussd_http_ok_total", "ussd_app.ok", "replies 2xx with CON or END", SY_CTR_COUNTER, SY_UNIT_COUNT, M(ok)},
    {"switchyard_ussd_http_timeouts_total", "ussd_app.timeouts", "requests without a complete reply within the service's timeout", SY_CTR_COUNTER, SY_UNIT_COUNT, M(timeouts)},
    {"switchyard_ussd_http_connect_failed_total", "ussd_app.connect_failed", "requests that found no connection (after the retries) or lost it before a reply", SY_CTR_COUNTER, SY_UNIT_COUNT, M(connect_failed)},
    {"switchyard_ussd_http_http_errors_total", "ussd_app.http_errors", "requests answered with a non-2xx status (after the retries)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(http_errors)},
    {"switchyard_ussd_http_bad_replies_total", "ussd_app.bad_replies", "2xx replies not CON/END, too long, or not HTTP", SY_CTR_COUNTER, SY_UNIT_COUNT, M(bad_replies)},
    {"switchyard_ussd_http_overload_total", "ussd_app.overload", "requests refused at the service's in_flight_max", SY_CTR_COUNTER, SY_UNIT_COUNT, M(overload)},
    {"switchyard_ussd_http_retries_total", "ussd_app.retries", "attempts sent again after a failed connect or a 502/503/504", SY_CTR_COUNTER, SY_UNIT_COUNT, M(retries)},
    {"switchyard_ussd_http_cancelled_total", "ussd_app.cancelled", "requests whose session ended first (no reply used)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(cancelled)},
    {"switchyard_ussd_http_conns_opened_total", "ussd_app.conns_opened", "connections opened to applications", SY_CTR_COUNTER, SY_UNIT_COUNT, M(conns_opened)},
    {"switchyard_ussd_http_conns_reused_total", "ussd_app.conns_reused", "requests sent on an idle keep-alive connection", SY_CTR_COUNTER, SY_UNIT_COUNT, M(conns_reused)},
    {"switchyard_ussd_http_conns_closed_total", "ussd_app.conns_closed", "connections closed (by either side)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(conns_closed)},
    {"switchyard_ussd_http_in_flight", "ussd_app.in_flight", "requests waiting for an application now", SY_CTR_GAUGE, SY_UNIT_COUNT, M(in_flight)},
};
/* clang-format on */

SY_CTR_TABLE(ussd_http_counters, "ussd_app", c);
