/* http_fuzz.c: libFuzzer harness on the HTTP request path of the live
 * backend (core/live/http.c on libevent's evhttp): the input is what a
 * client writes on a connection, sent over an abstract unix socket (no file,
 * no port) to a fresh server with the routes `serve` registers (POST /sms, GET /metrics), so
 * evhttp's request-line, header, chunked-body and size-limit handling, the
 * routing and the API's own POST /sms handler (core/api/api.c: bearer
 * token, flat JSON body, the from/to/text fields) all run, with a fake SMSC
 * behind it.
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

#include "core/api/api.h"
#include "core/live/http.h"
#include "core/live/live.h"

#define FUZZ_HELD_MAX	16
#define FUZZ_ROUNDS_MAX 256

/* The SMSC behind POST /sms: one account, and a commit that completes at
 * once or, as serve's does after a durable write, only later. */
struct fuzz_srv {
	bool defer;
	struct smsc_text_req held[FUZZ_HELD_MAX];
	uint32_t held_n;
	uint64_t next_id;
};

static enum sy_rc fake_submit(void *ctx, const struct smsc_text_req *q)
{
	struct fuzz_srv *f = ctx;
	SY_ASSERT(q->from.p != NULL && q->to.p != NULL && q->text.p != NULL);
	if (q->to.len == 0)
		return SY_DECLINED; /* no route: 422 */
	if (!f->defer) {
		q->done(q->arg, SY_OK, ++f->next_id, 1);
		return SY_OK;
	}
	if (f->held_n == FUZZ_HELD_MAX)
		return SY_ERR_FULL; /* 503 */
	f->held[f->held_n] = *q;    /* the strings are not kept past this call */
	f->held[f->held_n].from = f->held[f->held_n].to = f->held[f->held_n].text = SY_STR_NULL;
	f->held_n++;
	return SY_OK;
}

static void release_held(struct fuzz_srv *f)
{
	for (uint32_t k = 0; k < f->held_n; k++)
		f->held[k].done(f->held[k].arg, k % 3 == 2 ? SY_ERR_IO : SY_OK, ++f->next_id, 1);
	f->held_n = 0;
}

static void http_request(void *arg, struct api_req *r)
{
	api_handle(arg, r);
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
	struct api_sms_ops sms = {fake_submit, &f};
	struct api_account acct = {.name = "acme"};
	SY_ASSERT(sy_secret_parse(&acct.token, "tok-acme", 8, NULL, 0) == SY_OK);
	struct api_cfg ac = {.sms = &sms, .accounts = &acct, .account_n = 1};
	struct api *api;
	struct sy_http *h;
	int lfd, cfd;
	if (size > 0)
		data++, size--;
	SY_ASSERT(api_create(&ac, &api) == SY_OK);
	SY_ASSERT(sy_http_start(l, NULL, NULL, http_request, api, &h) == SY_OK);
	connect_pair(&lfd, &cfd);
	SY_ASSERT(sy_http_listen_fd(h, lfd) == SY_OK);
	size_t sent = 0;
	bool closed = false;
	for (int i = 0; i < FUZZ_ROUNDS_MAX && !closed; i++) {
		closed = client_step(cfd, data, size, &sent);
		event_base_loop(sy_live_base(l), EVLOOP_NONBLOCK);
		/* The held replies go once the input is all written: some
		 * after the client has gone, as a slow commit would see. */
		if (sent == size && f.held_n > 0 && (i % 4 == 3 || closed))
			release_held(&f);
	}
	SY_ASSERT(f.held_n == 0 || !closed || sent < size);
	release_held(&f);
	event_base_loop(sy_live_base(l), EVLOOP_NONBLOCK);
	sy_http_stop(h);
	api_destroy(api);
	close(cfd);
	return 0;
}
