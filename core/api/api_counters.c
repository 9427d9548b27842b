/* api_counters.c: the HTTP API's counters (struct api_http_stats) for
 * GET /metrics: what it refused and why, and its connections. Not in the
 * simulator's report: the simulator has no HTTP. */
#include "core/api/api.h"
#include "core/metrics/counters.h"

#define M(f) SY_CTR_AT(struct api_http_stats, f)

/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_http_requests_total", NULL, "HTTP requests that reached the API", SY_CTR_COUNTER, SY_UNIT_COUNT, M(requests)},
    {"switchyard_http_unauthorized_total", NULL, "HTTP 401: no bearer token or a wrong one", SY_CTR_COUNTER, SY_UNIT_COUNT, M(unauthorized)},
    {"switchyard_http_backoff_total", NULL, "HTTP 429: source blocked after failed tokens", SY_CTR_COUNTER, SY_UNIT_COUNT, M(backoff)},
    {"switchyard_http_throttled_total", NULL, "HTTP 429: POST /sms over the account's tps", SY_CTR_COUNTER, SY_UNIT_COUNT, M(throttled)},
    {"switchyard_http_too_large_total", NULL, "HTTP 413: request body over http_max_body", SY_CTR_COUNTER, SY_UNIT_COUNT, M(too_large)},
    {"switchyard_http_bad_request_total", NULL, "HTTP 400 from the parser: malformed request or header over http_max_header", SY_CTR_COUNTER, SY_UNIT_COUNT, M(bad_request)},
    {"switchyard_http_timeouts_total", NULL, "HTTP connections closed by http_timeout", SY_CTR_COUNTER, SY_UNIT_COUNT, M(timeouts)},
    {"switchyard_http_connections_total", NULL, "HTTP connections accepted", SY_CTR_COUNTER, SY_UNIT_COUNT, M(conns_accepted)},
    {"switchyard_http_connections_refused_total", NULL, "HTTP connections closed at once: over http_max_conns or http_conns_per_source", SY_CTR_COUNTER, SY_UNIT_COUNT, M(conns_refused)},
    {"switchyard_http_connections", NULL, "HTTP connections open", SY_CTR_GAUGE, SY_UNIT_COUNT, M(conns_open)},
};
/* clang-format on */

SY_CTR_TABLE(api_http_counters, "http", c);
