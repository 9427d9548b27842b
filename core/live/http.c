/* http.c: evhttp adapted to the API's abstract request (core/api/api.h);
 * see http.h. */
#include "http.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>

#include "live.h"

struct sy_http {
	struct sy_live *live;
	struct evhttp *http;
	sy_http_fn fn;
	void *arg;
};

/* One request in flight: freed by its reply. */
struct http_req {
	struct api_req api;
	struct evhttp_request *req;
};

static const char *reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 422:
		return "Unprocessable Entity";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

static void send_reply(struct evhttp_request *req, int code, const char *type, const char *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	if (b != NULL && len > 0)
		evbuffer_add(b, body, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evhttp_send_reply(req, code, reason(code), b);
	if (b != NULL)
		evbuffer_free(b);
}

static const char *req_header(void *ctx, const char *name)
{
	struct http_req *r = ctx;
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

static void req_reply(void *ctx, int code, const char *type, const char *body, size_t len)
{
	struct http_req *r = ctx;
	send_reply(r->req, code, type, body, len);
	free((char *)r->api.body.p);
	free(r);
}

static const struct api_req_ops req_ops = {req_header, req_reply};

static const char *method_name(enum evhttp_cmd_type m)
{
	return m == EVHTTP_REQ_GET ? "GET" : m == EVHTTP_REQ_POST ? "POST" : "OTHER";
}

static void dispatch(struct evhttp_request *req, void *arg)
{
	struct sy_http *h = arg;
	sy_live_time_update(h->live);
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	if (len > SY_HTTP_BODY_MAX) {
		send_reply(req, 413, "text/plain", "Payload Too Large\n", 18);
		return;
	}
	struct http_req *r = calloc(1, sizeof(*r));
	char *body = malloc(len + 1);
	if (r == NULL || body == NULL) {
		free(r);
		free(body);
		send_reply(req, 503, "text/plain", "Service Unavailable\n", 20);
		return;
	}
	evbuffer_copyout(in, body, len);
	body[len] = '\0';
	r->req = req;
	r->api = (struct api_req){
	    &req_ops, r, method_name(evhttp_request_get_command(req)), {uri, strcspn(uri, "?#")}, {body, len}};
	h->fn(h->arg, &r->api);
}

enum sy_rc sy_http_start(struct sy_live *l, const struct sy_addr *addr, sy_http_fn fn, void *arg, struct sy_http **out)
{
	char host[64];
	struct sy_http *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return SY_ERR_NOMEM;
	h->live = l;
	h->fn = fn;
	h->arg = arg;
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
