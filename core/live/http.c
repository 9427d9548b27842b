/* http.c: evhttp wrapper; see http.h. */
#include "http.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>

#include "live.h"

#define ROUTES_MAX 16

struct route {
	enum evhttp_cmd_type method;
	char path[64];
	sy_http_fn fn;
	void *arg;
};

struct sy_http {
	struct sy_live *live;
	struct evhttp *http;
	struct route routes[ROUTES_MAX];
	uint32_t route_n;
};

struct sy_http_req {
	struct evhttp_request *req;
	char *body;
	size_t body_len;
};

static void reply_plain(struct evhttp_request *req, int code, const char *text)
{
	struct evbuffer *b = evbuffer_new();
	if (b != NULL)
		evbuffer_add_printf(b, "%s\n", text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
	evhttp_send_reply(req, code, text, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void dispatch(struct evhttp_request *req, void *arg)
{
	struct sy_http *h = arg;
	sy_live_time_update(h->live);
	const char *uri = evhttp_request_get_uri(req);
	size_t plen = strcspn(uri, "?#");
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	bool path_known = false;
	for (uint32_t i = 0; i < h->route_n; i++) {
		struct route *rt = &h->routes[i];
		if (strlen(rt->path) != plen || strncmp(rt->path, uri, plen) != 0)
			continue;
		path_known = true;
		if (rt->method != m)
			continue;
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		if (len > SY_HTTP_BODY_MAX) {
			reply_plain(req, 413, "Payload Too Large");
			return;
		}
		struct sy_http_req *r = calloc(1, sizeof(*r));
		char *body = malloc(len + 1);
		if (r == NULL || body == NULL) {
			free(r);
			free(body);
			reply_plain(req, 503, "Service Unavailable");
			return;
		}
		evbuffer_copyout(in, body, len);
		body[len] = '\0';
		*r = (struct sy_http_req){req, body, len};
		rt->fn(rt->arg, r);
		return;
	}
	reply_plain(req, path_known ? 405 : 404, path_known ? "Method Not Allowed" : "Not Found");
}

enum sy_rc sy_http_start(struct sy_live *l, const struct sy_addr *addr, struct sy_http **out)
{
	char host[64];
	struct sy_http *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return SY_ERR_NOMEM;
	h->live = l;
	h->http = evhttp_new(sy_live_base(l));
	if (h->http == NULL) {
		free(h);
		return SY_ERR_NOMEM;
	}
	if (addr != NULL) {
		sy_addr_fmt_host(addr, host, sizeof(host));
		if (evhttp_bind_socket(h->http, host, addr->port) != 0) {
			evhttp_free(h->http);
			free(h);
			return SY_ERR_IO;
		}
	}
	evhttp_set_max_body_size(h->http, SY_HTTP_BODY_MAX + 1);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(h->http, dispatch, h);
	*out = h;
	return SY_OK;
}

enum sy_rc sy_http_listen_fd(struct sy_http *h, int fd)
{
	/* evhttp accepts until EAGAIN: a blocking listener would stall the loop. */
	if (evutil_make_socket_nonblocking(fd) != 0 || evhttp_accept_socket(h->http, fd) != 0)
		return SY_ERR_IO;
	return SY_OK;
}

void sy_http_stop(struct sy_http *h)
{
	if (h == NULL)
		return;
	evhttp_free(h->http);
	free(h);
}

enum sy_rc sy_http_route(struct sy_http *h, const char *method, const char *path, sy_http_fn fn, void *arg)
{
	if (h->route_n == ROUTES_MAX || strlen(path) >= sizeof(h->routes[0].path))
		return SY_ERR_FULL;
	struct route *rt = &h->routes[h->route_n++];
	rt->method = strcmp(method, "POST") == 0 ? EVHTTP_REQ_POST : EVHTTP_REQ_GET;
	snprintf(rt->path, sizeof(rt->path), "%s", path);
	rt->fn = fn;
	rt->arg = arg;
	return SY_OK;
}

struct sy_str sy_http_body(struct sy_http_req *r)
{
	return (struct sy_str){r->body, r->body_len};
}

const char *sy_http_header(struct sy_http_req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

void sy_http_reply(struct sy_http_req *r, int code, const char *content_type, const char *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	if (b != NULL && len > 0)
		evbuffer_add(b, body, len);
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type", content_type);
	const char *reason = code == 200 ? "OK" : code == 202 ? "Accepted" : code == 400 ? "Bad Request"
			   : code == 401 ? "Unauthorized" : code == 503 ? "Service Unavailable" : "Error";
	evhttp_send_reply(r->req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
	free(r->body);
	free(r);
}
