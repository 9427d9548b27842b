/* http.h: the USSD gateway's client for HTTP applications, in the widely
 * used convention (Africa's Talking and the frameworks that follow it, the
 * npm ussd-menu-builder among them):
 *
 *   POST <path>  Content-Type: application/x-www-form-urlencoded
 *   sessionId=...&serviceCode=*123%23&phoneNumber=%2B254...&text=1*2*100
 *   -> 200, body "CON <screen>" (continue) or "END <text>" (finish)
 *
 * `text` is every input of the dialogue joined by '*' ("" on the first
 * request). HTTP/1.1 over the env's streams (so the simulator runs this very
 * code against its simulated applications), keep-alive connections per
 * application, bodies framed by Content-Length or chunked (the response is
 * parsed by libhttp_parser, the parser node.js used before llhttp), one
 * request per connection at a time. Per service: a timeout for one reply,
 * retries retry_delay_ns apart after a failed connect or a 502/503/504
 * (never after a timeout: the application may have acted, e.g. moved
 * money), in_flight_max requests at once. */
#ifndef SY_USSD_HTTP_H
#define SY_USSD_HTTP_H

#include "core/env.h"
#include "core/ussd/ussd.h"

enum ussd_app_result {
	USSD_APP_OK = 0,   /* a 2xx with "CON ..." or "END ..." */
	USSD_APP_TIMEOUT,  /* no complete reply within the service's timeout */
	USSD_APP_CONNECT,  /* could not connect (after the retries) */
	USSD_APP_STATUS,   /* a non-2xx status (after the retries for 502/503/504) */
	USSD_APP_BAD,	   /* a 2xx whose body is not CON/END, is too long, or does not parse */
	USSD_APP_OVERLOAD, /* in_flight_max reached: not sent */
};
const char *ussd_app_result_name(enum ussd_app_result r);

struct ussd_app_req {
	uint64_t session_id;  /* sent as sessionId (decimal) */
	struct sy_str code;   /* serviceCode, "*123#" */
	struct sy_str msisdn; /* phoneNumber */
	struct sy_str text;   /* inputs joined by '*' */
};

struct ussd_app_reply {
	enum ussd_app_result result;
	uint16_t status;    /* HTTP status; 0 when none came */
	bool end;	    /* END (true) or CON */
	struct sy_str text; /* after "CON " / "END " (UTF-8); valid during the callback only */
	uint32_t attempts;
};

/* Called exactly once per request not cancelled, from an env callback
 * (never from inside ussd_http_request). */
typedef void (*ussd_app_done_fn)(void *arg, uint64_t token, const struct ussd_app_reply *reply);

struct ussd_http_stats {
	uint64_t requests, ok, timeouts, connect_failed, http_errors, bad_replies, overload, retries, cancelled;
	uint64_t conns_opened, conns_reused, conns_closed;
	uint64_t in_flight; /* gauge */
};

struct ussd_http;

/* One client for every HTTP service in cfg (their URLs are parsed here:
 * SY_ERR_INVAL with err naming the service's line for a URL that is not
 * http://host:port/path with a numeric IPv4/IPv6 host or "localhost"). */
enum sy_rc ussd_http_create(const struct sy_env *env, const struct ussd_cfg *cfg, ussd_app_done_fn done, void *arg,
			    struct ussd_http **out, char *err, size_t errlen);
void ussd_http_destroy(struct ussd_http *h);
/* Asks service (index into cfg->services, kind HTTP). token comes back in
 * done. SY_OK: done will be called (or the request cancelled).
 * SY_ERR_FULL: in_flight_max reached (counted as overload; no callback). */
enum sy_rc ussd_http_request(struct ussd_http *h, uint16_t service, uint64_t token, const struct ussd_app_req *req);
/* The session ended first: no callback for token (a reply on the wire is
 * read and dropped, the connection kept). */
void ussd_http_cancel(struct ussd_http *h, uint64_t token);
const struct ussd_http_stats *ussd_http_stats(const struct ussd_http *h);

#endif
