/* http.h: the live backend's HTTP server (libevent evhttp) for the API
 * (POST /sms) and /metrics. Handlers run on the event loop like every other
 * callback; a handler may answer at once or later (after a durable commit),
 * with sy_http_reply() on the request it was given. */
#ifndef SY_LIVE_HTTP_H
#define SY_LIVE_HTTP_H

#include "core/env.h"

struct sy_live;
struct sy_http;
struct sy_http_req;

typedef void (*sy_http_fn)(void *arg, struct sy_http_req *r);

#define SY_HTTP_BODY_MAX (64 * 1024)

/* addr NULL: no listener; connections come only through sy_http_listen_fd(). */
enum sy_rc sy_http_start(struct sy_live *l, const struct sy_addr *addr, struct sy_http **out);
/* Also serves the connections of fd, a socket already bound and listening
 * (socket activation; tests and the fuzz harness use an abstract unix
 * socket): the same request path as the listener of sy_http_start. On
 * SY_OK h owns fd and closes it in sy_http_stop(). */
enum sy_rc sy_http_listen_fd(struct sy_http *h, int fd);
void sy_http_stop(struct sy_http *h);
/* method "GET"/"POST"; path matched exactly (no query string). */
enum sy_rc sy_http_route(struct sy_http *h, const char *method, const char *path, sy_http_fn fn, void *arg);

/* The request body (at most SY_HTTP_BODY_MAX bytes; larger ones get 413
 * before the handler runs). Valid until the reply. */
struct sy_str sy_http_body(struct sy_http_req *r);
/* A request header, or NULL. */
const char *sy_http_header(struct sy_http_req *r, const char *name);
/* Answers and frees the request; exactly once per request. */
void sy_http_reply(struct sy_http_req *r, int code, const char *content_type, const char *body, size_t len);

#endif
