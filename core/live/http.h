/* http.h: the live backend's HTTP server (libevent evhttp), an adapter:
 * it turns each request into a struct api_req (core/api/api.h) and hands it
 * to one handler (api_handle() in serve). Handlers run on the event loop
 * like every other callback and may answer at once or later (after a
 * durable commit), through the request's reply op, exactly once.
 *
 * It also keeps the peers in bounds before a request reaches the API
 * (docs/security.md): a connection cap, global and per source IP; a
 * deadline by which each request must have arrived whole (slowloris);
 * header and body size limits (413). Requests still in the handler's
 * hands when the server stops are orphaned, never freed under it: their
 * late reply is dropped. */
#ifndef SY_LIVE_HTTP_H
#define SY_LIVE_HTTP_H

#include "core/api/api.h"
#include "core/env.h"

struct sy_live;
struct sy_http;
struct pcap_tap;

typedef void (*sy_http_fn)(void *arg, struct api_req *r);

/* Zero fields take the defaults. */
struct sy_http_limits {
	uint64_t timeout_ns;	   /* request line, headers and body within it; 0 = 10 s */
	uint32_t max_header;	   /* bytes; 0 = 8192 */
	uint32_t max_body;	   /* bytes; 0 = 65536 */
	uint32_t max_conns;	   /* open connections; 0 = 512 */
	uint32_t conns_per_source; /* open connections per source IP; 0 = 32 */
	struct api_http_stats *stats; /* where to count; NULL: nowhere */
	/* --pcap / hep: each TCP/IP connection's opening, bytes both ways and
	 * close go to the tap's sinks (evhttp's sockets are not the env's, so
	 * the tap cannot see them itself). NULL: nothing recorded, no cost. */
	struct pcap_tap *capture;
};

/* addr NULL: no listener; connections come only through sy_http_listen_fd().
 * lim NULL: the defaults. Every request goes to fn(arg, r). */
enum sy_rc sy_http_start(struct sy_live *l, const struct sy_addr *addr, const struct sy_http_limits *lim,
			 sy_http_fn fn, void *arg, struct sy_http **out);
/* Also serves the connections of fd, a socket already bound and listening
 * (socket activation; tests and the fuzz harness use an abstract unix
 * socket): the same request path as the listener of sy_http_start. On
 * SY_OK h owns fd and closes it in sy_http_stop(). */
enum sy_rc sy_http_listen_fd(struct sy_http *h, int fd);
/* Closes every connection. Requests the handler still holds stay valid
 * for it: their reply() frees them without sending anything. */
void sy_http_stop(struct sy_http *h);

#endif
