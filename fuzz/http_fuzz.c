/* http_fuzz.c: libFuzzer harness on the HTTP request path of the live
 * backend (core/live/http.c on libevent's evhttp): the input is what a
 * client writes on a connection, sent over an abstract unix socket (no file,
 * no port) to a fresh server with the routes `serve` registers (POST /sms, GET /metrics), so
 * evhttp's request-line, header, chunked-body and size-limit handling, the
 * dispatch, and the API's reading of a request (bearer token, flat JSON
 * body, the from/to/text fields, as cmd/serve.c's sms_post does) all run.
 * The first input byte picks the reply timing: at once, or (as serve does
 * after a durable commit) only once the client has finished, possibly gone.
 * Built by `make fuzz`; the corpus replays in `make test`. */
#include <event2/event.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/json.h"
#include "core/live/http.h"
#include "core/live/live.h"

#define FUZZ_HELD_MAX	16
#define FUZZ_ROUNDS_MAX 256

struct fuzz_srv {
	bool defer;
	struct sy_http_req *held[FUZZ_HELD_MAX];
	uint32_t held_n;
};

static void answer(struct fuzz_srv *f, struct sy_http_req *r, int code, const char *body)
{
	if (f->defer && f->held_n < FUZZ_HELD_MAX && code == 202) {
		f->held[f->held_n++] = r;
		return;
	}
	sy_http_reply(r, code, "application/json", body, strlen(body));
}

/* What cmd/serve.c's sms_post reads from a request, in the same order. */
static void sms_post(void *arg, struct sy_http_req *r)
{
	struct fuzz_srv *f = arg;
	const char *auth = sy_http_header(r, "Authorization");
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 || strcmp(auth + 7, "tok-acme") != 0) {
		answer(f, r, 401, "{\"error\":\"missing or unknown bearer token\"}\n");
		return;
	}
	struct sy_str body = sy_http_body(r), from, to, text;
	SY_ASSERT(body.len <= SY_HTTP_BODY_MAX && body.p[body.len] == '\0');
	char *scratch = malloc(body.len + 1), err[96];
	struct json_obj o;
	enum sy_rc rc = json_parse_flat(body.p, body.len, scratch, body.len + 1, &o, err, sizeof(err));
	bool ok = rc == SY_OK && json_get_str(&o, "from", &from) && json_get_str(&o, "to", &to) &&
		  json_get_str(&o, "text", &text);
	free(scratch);
	answer(f, r, ok ? 202 : 400, ok ? "{\"message_id\":\"1\",\"parts\":1}\n" : "{\"error\":\"bad\"}\n");
}

static void metrics_get(void *arg, struct sy_http_req *r)
{
	(void)sy_http_header(r, "Accept");
	answer(arg, r, 200, "switchyard_calls_active 0\n");
}

/* Writes what is left of the input, reads and drops the answers; true once
 * the server has closed its end. */
static bool client_step(int fd, const uint8_t *data, size_t size, size_t *sent)
{
	if (*sent < size) {
		ssize_t n = write(fd, data + *sent, size - *sent);
		if (n > 0)
			*sent += (size_t)n;
		if (*sent == size)
			shutdown(fd, SHUT_WR);
	}
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return true;
		if (n < 0)
			return false;
		if (getenv("FUZZ_TRACE") != NULL) /* what the server answered */
			fwrite(buf, 1, (size_t)n, stderr);
	}
}

static struct sy_live *live_once(void)
{
	static struct sy_live *l;
	if (l == NULL) {
		struct sy_live_cfg cfg = {.seed = 1, .log_level = SY_LOG_ERROR};
		SY_ASSERT(sy_live_create(&cfg, &l) == SY_OK);
	}
	return l;
}

/* A listening abstract unix socket and a client connected to it. */
static void connect_pair(int *listener, int *client)
{
	static unsigned seq;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "switchyard-http-fuzz-%d-%u", (int)getpid(), seq++);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	*listener = socket(AF_UNIX, SOCK_STREAM, 0);
	SY_ASSERT(*listener >= 0 && bind(*listener, (struct sockaddr *)&a, len) == 0 && listen(*listener, 4) == 0);
	*client = socket(AF_UNIX, SOCK_STREAM, 0);
	SY_ASSERT(*client >= 0 && connect(*client, (struct sockaddr *)&a, len) == 0);
	SY_ASSERT(fcntl(*client, F_SETFL, O_NONBLOCK) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sy_live *l = live_once();
	struct fuzz_srv f = {.defer = size > 0 && (data[0] & 1)};
	struct sy_http *h;
	int lfd, cfd;
	if (size > 0)
		data++, size--;
	SY_ASSERT(sy_http_start(l, NULL, &h) == SY_OK);
	SY_ASSERT(sy_http_route(h, "POST", "/sms", sms_post, &f) == SY_OK);
	SY_ASSERT(sy_http_route(h, "GET", "/metrics", metrics_get, &f) == SY_OK);
	connect_pair(&lfd, &cfd);
	SY_ASSERT(sy_http_listen_fd(h, lfd) == SY_OK);
	size_t sent = 0;
	bool closed = false;
	for (int i = 0; i < FUZZ_ROUNDS_MAX && !closed; i++) {
		closed = client_step(cfd, data, size, &sent);
		event_base_loop(sy_live_base(l), EVLOOP_NONBLOCK);
		/* The held replies go once the input is all written: some
		 * after the client has gone, as a slow commit would see. */
		if (sent == size && f.held_n > 0 && (i % 4 == 3 || closed)) {
			for (uint32_t k = 0; k < f.held_n; k++)
				sy_http_reply(f.held[k], 202, "application/json", "{}\n", 3);
			f.held_n = 0;
		}
	}
	SY_ASSERT(f.held_n == 0 || !closed || sent < size);
	for (uint32_t k = 0; k < f.held_n; k++)
		sy_http_reply(f.held[k], 202, "application/json", "{}\n", 3);
	event_base_loop(sy_live_base(l), EVLOOP_NONBLOCK);
	sy_http_stop(h);
	close(cfd);
	return 0;
}
