/* api.h: the node's HTTP API (GET /metrics, GET /health, POST /sms) as core
 * code: routing and handlers over an abstract request, so the same code
 * runs behind libevent (core/live/http.c adapts evhttp to it), in tests
 * and in the fuzz harness. No IO here: a backend hands a request in and
 * gets exactly one reply out, possibly later (POST /sms answers once the
 * message is durable). */
#ifndef SY_API_H
#define SY_API_H

#include "core/base.h"
#include "core/metrics/process.h"
#include "core/sec/secret.h"
#include "core/smpp/smsc.h"

struct vswitch;

/* What a backend provides for one request. reply() is called exactly once
 * and ends the request: after it, neither the request nor its body may be
 * used (the backend frees them). add_header() only before reply(). */
struct api_req_ops {
	const char *(*header)(void *ctx, const char *name); /* a request header, or NULL */
	void (*add_header)(void *ctx, const char *name, const char *value);
	void (*reply)(void *ctx, int code, const char *content_type, const char *body, size_t len);
};

struct api_req {
	const struct api_req_ops *ops;
	void *ctx;	    /* the backend's request */
	const char *method; /* "GET", "POST", ... */
	struct sy_str path; /* without query string or fragment */
	struct sy_str body; /* NUL-terminated at body.p[body.len] */
	const struct sy_addr *from; /* the peer; NULL: unknown (no per-source backoff) */
	uint64_t now_ns;	    /* the env's clock when it arrived */
};

/* How POST /sms reaches an SMSC: the SMSC itself by default; tests and the
 * fuzz harness put a fake behind the same handler. submit() calls
 * req->done exactly once, later or before it returns, when it returns
 * SY_OK, and never otherwise; it copies what it keeps of req. SY_AGAIN:
 * the account is over its tps (429). */
struct api_sms_ops {
	enum sy_rc (*submit)(void *ctx, const struct smsc_text_req *req);
	void *ctx;
};

/* An account that may use the API: its bearer token (clear text or
 * $sha256$, secret.h). POST /sms is sent as this account, whatever the
 * body says. */
struct api_account {
	char name[SMSC_NAME_MAX];
	struct sy_secret token;
};

/* The HTTP API's outcomes, for /metrics (api_http_counters). The API
 * counts what it decides; the backend (core/live/http.c) counts what
 * happens before a request reaches it, through api_http_stats(). */
struct api_http_stats {
	uint64_t requests;	 /* requests that reached the API */
	uint64_t unauthorized;	 /* 401: no token, or a wrong one */
	uint64_t backoff;	 /* 429: the source is blocked after failed tokens */
	uint64_t throttled;	 /* 429: the account is over its tps */
	uint64_t too_large;	 /* 413: body over http_max_body */
	uint64_t bad_request;	 /* 400 from the parser: malformed, or header over http_max_header */
	uint64_t timeouts;	 /* connections closed by http_timeout */
	uint64_t conns_accepted; /* connections taken */
	uint64_t conns_refused;	 /* closed at once: over http_max_conns or per source */
	uint64_t conns_open;	 /* gauge */
};

/* Failed tokens block their source for 1 s, doubling per failure up to 30 s
 * (sy_srclimit_fail); a success resets it. */
#define API_FAIL_BACKOFF_NS	(1 * SY_NS_PER_S)
#define API_FAIL_BACKOFF_MAX_NS (30 * SY_NS_PER_S)
#define API_REALM		"switchyard"

struct sy_counter_table; /* core/metrics/counters.h */
#define API_TABLES_MAX 8 /* hep, fraud, webhook, ussd, ussd_http and room */

struct api_cfg {
	struct vswitch *sw;	       /* its counters in /metrics; NULL: none */
	struct smsc *smsc;	       /* its counters, and POST /sms; NULL: none */
	const struct api_sms_ops *sms; /* instead of smsc for POST /sms (tests, fuzz) */
	/* The SMSC counters on /metrics, when not smsc_stats(smsc): a cluster
	 * of instances ([node] nodes > 1) sums them here. Called first, at
	 * each scrape, so tables[] may hold what it refreshes. */
	const struct smsc_stats *(*sms_stats)(void *arg);
	void *sms_stats_arg;
	size_t metrics_max;	       /* /metrics page buffer (default 256 KiB) */
	const struct api_account *accounts; /* copied */
	uint32_t account_n;
	bool metrics_auth;		/* GET /metrics needs metrics_token */
	struct sy_secret metrics_token; /* NONE with metrics_auth: /metrics always 401 */
	uint64_t seed;			/* hash seed of the per-source failure table */
	sy_process_stats_fn process;	/* the process's figures on /metrics; NULL: none */
	/* more tables on /metrics, each read from its stats at scrape time
	 * (an optional part's: the HEP exporter's) */
	struct api_table {
		const struct sy_counter_table *t;
		const void *stats;
	} tables[API_TABLES_MAX];
	uint32_t table_n;
};

struct api;

enum sy_rc api_create(const struct api_cfg *cfg, struct api **out);
void api_destroy(struct api *a);
/* Routes r and answers it (now or later): 404 for an unknown path, 405 for
 * a known path with another method. */
void api_handle(struct api *a, struct api_req *r);
/* The counters, which the backend also writes (see struct api_http_stats). */
struct api_http_stats *api_http_stats(struct api *a);

/* The Prometheus exposition of every component the API was given, into
 * buf (NUL-terminated, *len bytes); SY_ERR_FULL when it does not fit. */
enum sy_rc api_metrics(struct api *a, char *buf, size_t cap, size_t *len);

/* The line `serve` logs every interval_ns (calls per second since the
 * previous line, active calls, CDRs, malformed datagrams), and the one it
 * logs when it stops. Need the switch (cfg.sw). */
#define API_LINE_MAX 256
void api_status_line(struct api *a, uint64_t interval_ns, char *buf, size_t n);
void api_summary_line(struct api *a, char *buf, size_t n);

#endif
