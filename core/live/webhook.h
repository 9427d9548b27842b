/* webhook.h: an HTTP POST client on the live loop (libevent evhttp) that
 * sends one JSON document per event to a fixed URL: serve's fraud alerts
 * ([fraud] alert_url, docs/fraud.md "Live: serve, alerts and metrics").
 *
 * A slow or dead receiver must never slow the switch nor grow its memory:
 * a post is copied into a bounded queue (at most queue_max bodies of up to
 * WEBHOOK_BODY_MAX bytes, allocated at create), at most inflight_max POSTs
 * are on the wire at once (one HTTP/1.1 connection each, kept alive), each
 * ends by timeout_ns at the latest, and a post that finds the queue full is
 * dropped and counted. Delivery is at most once: a failed POST (refused,
 * timed out, a non-2xx answer) is counted, not retried; the CDR or MDR is
 * the record, the alert is the page. */
#ifndef SY_LIVE_WEBHOOK_H
#define SY_LIVE_WEBHOOK_H

#include "core/env.h"

struct sy_live;
struct sy_webhook;
struct fraud_event;
struct sy_counter_table;

#define WEBHOOK_BODY_MAX 2048 /* bytes of one JSON document */
#define WEBHOOK_URL_MAX	 256

/* Zero fields take the defaults. */
struct sy_webhook_cfg {
	const char *url;       /* "http://host[:port][/path]"; https is refused */
	uint64_t timeout_ns;   /* connect, send and answer within it; 0 = 2 s */
	uint32_t queue_max;    /* bodies waiting for a connection; 0 = 256 */
	uint32_t inflight_max; /* POSTs (connections) at once; 0 = 4 */
};

/* Counters since create (webhook_counters on /metrics). */
struct sy_webhook_stats {
	uint64_t posted;    /* handed to sy_webhook_post */
	uint64_t sent;	    /* answered 2xx */
	uint64_t failed;    /* refused, timed out, or answered otherwise */
	uint64_t dropped;   /* found the queue full, or longer than WEBHOOK_BODY_MAX */
	uint64_t queued;    /* gauge: waiting for a connection */
	uint64_t in_flight; /* gauge: on the wire */
};
extern const struct sy_counter_table webhook_counters; /* struct sy_webhook_stats */

/* The parts of a URL: host as written (the Host header), port, path. */
struct sy_webhook_url {
	char host[WEBHOOK_URL_MAX];
	uint16_t port;
	char path[WEBHOOK_URL_MAX];
};
/* Parses "http://host[:port][/path[?query]]" (host: a name, an IPv4
 * address, or [IPv6]); SY_ERR_PARSE with the reason in err otherwise. */
enum sy_rc sy_webhook_url_parse(const char *url, struct sy_webhook_url *out, char *err, size_t errlen);

/* Parses the URL and resolves its host once, now (a name lookup is never
 * made on the loop afterwards: it would block the switch). */
enum sy_rc sy_webhook_create(struct sy_live *l, const struct sy_webhook_cfg *cfg, struct sy_webhook **out, char *err,
			     size_t errlen);
/* Closes every connection; POSTs in flight and queued bodies are dropped
 * unsent (not counted: the process is going away). NULL is a no-op. */
void sy_webhook_destroy(struct sy_webhook *w);

/* Queues a copy of body[0..len) for a POST (Content-Type:
 * application/json). False when it was dropped (queue full, too long). */
bool sy_webhook_post(struct sy_webhook *w, const char *body, size_t len);
/* Nothing queued and nothing in flight. */
bool sy_webhook_idle(const struct sy_webhook *w);
const struct sy_webhook_stats *sy_webhook_stats(const struct sy_webhook *w);

/* The JSON document of one fraud event (webhook_fraud.c):
 * {"time":"2026-12-03T10:54:43.123Z","kind":"call","action":"block",
 *  "verdict":"block","detector":"irsf","reason":"...","account":"...",
 *  "caller":"...","callee":"...","call_id":"...","sip_status":403}.
 * Returns the length, or 0 when it does not fit in n. */
size_t sy_webhook_fraud_json(const struct fraud_event *ev, char *buf, size_t n);
/* A fraud_event_fn (core/fraud/fraud.h) posting each event to arg, a
 * struct sy_webhook: what serve hands fraud_create as on_alert. */
void sy_webhook_fraud_alert(void *arg, const struct fraud_event *ev);

#endif
