/* http.h: the live backend's HTTP server (libevent evhttp), an adapter:
 * it turns each request into a struct api_req (core/api/api.h) and hands it
 * to one handler (api_handle() in serve). Handlers run on the event loop
 * like every other callback and may answer at once or later (after a
 * durable commit), through the request's reply op, exactly once. */
#ifndef SY_LIVE_HTTP_H
#define SY_LIVE_HTTP_H

#include "core/api/api.h"
#include "core/env.h"

struct sy_live;
struct sy_http;

typedef void (*sy_http_fn)(void *arg, struct api_req *r);

#define SY_HTTP_BODY_MAX (64 * 1024)

/* addr NULL: no listener; connections come only through sy_http_listen_fd().
 * Every request goes to fn(arg, r); bodies over SY_HTTP_BODY_MAX get 413
 * before it runs. */
enum sy_rc sy_http_start(struct sy_live *l, const struct sy_addr *addr, sy_http_fn fn, void *arg, struct sy_http **out);
/* Also serves the connections of fd, a socket already bound and listening
 * (socket activation; tests and the fuzz harness use an abstract unix
 * socket): the same request path as the listener of sy_http_start. On
 * SY_OK h owns fd and closes it in sy_http_stop(). */
enum sy_rc sy_http_listen_fd(struct sy_http *h, int fd);
void sy_http_stop(struct sy_http *h);

#endif
