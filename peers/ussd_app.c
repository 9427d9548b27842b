/* ussd_app.c: the simulated USSD HTTP application (ussd_app.h): an HTTP/1.1
 * server on the env's streams, requests parsed by libhttp_parser, answers
 * from a declared menu walked along the form's `text`, with latency,
 * failures and outages drawn from the app's own random stream. One request
 * per connection is worked on at a time; pipelined bytes wait (bounded). */
#include "peers/ussd_app.h"
#include "peers/ussd_app_int.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"

#define APP_URL_MAX	  512
#define APP_BODY_MAX	  4096
#define APP_IN_MAX	  4096 /* bytes read ahead of the reply being worked on */
#define APP_OUT_MAX	  (USSD_MENU_TEXT_MAX * 2 + 256)
#define APP_FIELD_MAX	  1024
#define APP_CONNS_DEFAULT 16384

struct app_conn {
	struct ussd_app *a;
	struct sy_stream *s;
	struct app_conn *prev, *next;
	http_parser p;
	bool busy; /* a complete request is being worked on (the parser is paused) */
	bool hung; /* a request will never be answered: read nothing more */
	bool keep; /* the request allows keep-alive */
	bool too_long;
	bool end;		 /* the decided 200 is an END */
	sy_timer_id reply_timer; /* the reply's latency, then the resume of what waited */
	uint16_t status;	 /* decided reply */
	size_t out_len, url_len, body_len, in_len;
	/* the buffers last: a new connection clears only what is above */
	char out[APP_OUT_MAX];
	char url[APP_URL_MAX];
	char body[APP_BODY_MAX];
	uint8_t in[APP_IN_MAX];
};

struct ussd_app {
	const struct sy_env *env;
	struct ussd_app_cfg cfg;
	struct sy_rng rng;
	struct sy_listener *lsn;
	struct app_conn *conns; /* every open connection */
	sy_timer_id outage_timers[USSD_APP_OUTAGES_MAX][2];
	uint32_t down_depth; /* outage windows open now (they may overlap) */
	struct ussd_app_stats st;
};

static void app_on_open(void *arg, struct sy_stream *s);
static void app_on_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len);
static void app_on_close(void *arg, struct sy_stream *s, enum sy_rc why);
static const struct sy_stream_cbs app_cbs = {app_on_open, app_on_data, app_on_close};

static void conn_feed(struct app_conn *c, const uint8_t *p, size_t n);

/* ---- connections ---- */

static void conn_free(struct app_conn *c, bool close_stream)
{
	struct ussd_app *a = c->a;
	if (c->busy && !c->hung)
		a->st.dropped++; /* a reply was on its way */
	sy_env_timer_cancel(a->env, c->reply_timer);
	if (close_stream)
		sy_env_stream_close(a->env, c->s);
	if (c->prev)
		c->prev->next = c->next;
	else
		a->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->st.conns_open--;
	free(c);
}

static void app_on_open(void *arg, struct sy_stream *s)
{
	struct ussd_app *a = arg;
	bool refuse = a->st.down && a->cfg.outage_mode == USSD_APP_OUTAGE_REFUSE;
	struct app_conn *c = refuse || a->st.conns_open >= a->cfg.conns_max ? NULL : malloc(sizeof(*c));
	if (c == NULL) {
		a->st.refused++;
		sy_env_stream_close(a->env, s);
		return;
	}
	memset(c, 0, offsetof(struct app_conn, out));
	c->a = a;
	c->s = s;
	http_parser_init(&c->p, HTTP_REQUEST);
	c->p.data = c;
	c->next = a->conns;
	if (a->conns)
		a->conns->prev = c;
	a->conns = c;
	a->st.conns++;
	a->st.conns_open++;
	sy_env_stream_set_arg(a->env, s, c);
}

static void app_on_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	conn_free(arg, false);
}

/* ---- replies ---- */

static const char *status_text(uint16_t st)
{
	switch (st) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 500:
		return "Internal Server Error";
	default:
		return "Service Unavailable";
	}
}

/* The whole reply into c->out. */
static void reply_set(struct app_conn *c, uint16_t st, const char *prefix, const char *text, size_t len)
{
	size_t blen = strlen(prefix) + len;
	int n = snprintf(c->out, sizeof(c->out),
			 "HTTP/1.1 %u %s\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n"
			 "Connection: %s\r\n"
			 "\r\n"
			 "%s",
			 st, status_text(st), blen, c->keep ? "keep-alive" : "close", prefix);
	SY_ASSERT(n > 0 && (size_t)n + len <= sizeof(c->out));
	memcpy(c->out + n, text, len);
	c->out_len = (size_t)n + len;
	c->status = st;
}

static void resume_fn(void *arg)
{
	struct app_conn *c = arg;
	c->reply_timer = 0;
	size_t n = c->in_len;
	uint8_t tmp[APP_IN_MAX];
	memcpy(tmp, c->in, n);
	c->in_len = 0;
	conn_feed(c, tmp, n);
}

/* Sends the decided reply; what was read meanwhile is parsed from a timer
 * (not from here: an error outage answers at once, and a pipelined burst
 * must not recurse). c may be freed. */
static void reply_send(struct app_conn *c)
{
	struct ussd_app *a = c->a;
	c->busy = false;
	if (sy_env_stream_write(a->env, c->s, c->out, c->out_len) != SY_OK || !c->keep) {
		conn_free(c, true);
		return;
	}
	http_parser_pause(&c->p, 0);
	if (c->in_len > 0)
		c->reply_timer = sy_env_timer_start(a->env, 0, resume_fn, c);
}

static bool app_hangs(const struct ussd_app *a)
{
	return a->st.down && a->cfg.outage_mode == USSD_APP_OUTAGE_HANG;
}

static bool app_errors(const struct ussd_app *a)
{
	return a->st.down && a->cfg.outage_mode == USSD_APP_OUTAGE_ERROR;
}

static void reply_fn(void *arg)
{
	struct app_conn *c = arg;
	struct ussd_app *a = c->a;
	c->reply_timer = 0;
	if (app_hangs(a)) {
		/* went down while working on it: it never answers */
		c->hung = true;
		a->st.dropped++;
		return;
	}
	if (app_errors(a) && c->status == 200)
		reply_set(c, 503, "", "", 0);
	if (c->status == 200) {
		a->st.answered++;
		if (c->end)
			a->st.ended++;
		else
			a->st.continued++;
	} else if (c->status == 500) {
		a->st.failed++;
	} else if (c->status == 503) {
		a->st.unavailable++;
	}
	reply_send(c);
}

/* ---- requests ---- */

/* ussd_app_int.h; not static for the fuzz harness. */
bool ussd_app__form_get(struct sy_str body, const char *name, char *out, size_t cap, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = body.p, *end = body.p + body.len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if ((size_t)(stop - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t o = 0;
			for (const char *q = p + nl + 1; q < stop; q++) {
				int hi, lo;
				char ch = *q;
				if (ch == '+') {
					ch = ' ';
				} else if (ch == '%') {
					if (stop - q < 3 || (hi = sy_hex_digit(q[1])) < 0 ||
					    (lo = sy_hex_digit(q[2])) < 0)
						return false;
					ch = (char)(hi << 4 | lo);
					q += 2;
				}
				if (o + 1 >= cap)
					return false;
				out[o++] = ch;
			}
			out[o] = '\0';
			*len = o;
			return true;
		}
		p = stop + 1;
	}
	return false;
}

/* What the application says to a complete request (not yet sent). */
static void request_decide(struct app_conn *c)
{
	struct ussd_app *a = c->a;
	struct sy_str body = {c->body, c->body_len};
	char id[APP_FIELD_MAX], code[APP_FIELD_MAX], msisdn[APP_FIELD_MAX], text[APP_FIELD_MAX];
	size_t idl, codel, msl, tl;
	bool path_ok =
	    a->cfg.path == NULL || (c->url_len == strlen(a->cfg.path) && memcmp(c->url, a->cfg.path, c->url_len) == 0);
	uint16_t bad = c->too_long ? 413 : c->p.method != HTTP_POST ? 405 : !path_ok ? 404 : 0;
	if (bad == 0 && (!ussd_app__form_get(body, "sessionId", id, sizeof(id), &idl) ||
			 !ussd_app__form_get(body, "serviceCode", code, sizeof(code), &codel) ||
			 !ussd_app__form_get(body, "phoneNumber", msisdn, sizeof(msisdn), &msl) ||
			 !ussd_app__form_get(body, "text", text, sizeof(text), &tl) || idl == 0 || msl == 0))
		bad = 400;
	if (bad != 0) {
		/* refused and closed: keep cleared first, so the reply says close */
		a->st.bad++;
		c->keep = false;
		reply_set(c, bad, "", "", 0);
	} else if (sy_rng_chance_ppm(&a->rng, a->cfg.fail_ppm)) {
		reply_set(c, 500, "", "", 0);
	} else {
		struct ussd_menu_out out;
		ussd_menu_walk(a->cfg.menu, (struct sy_str){text, tl}, &out);
		reply_set(c, 200, out.end ? "END " : "CON ", out.text, out.len);
		c->end = out.end;
	}
}

static void request_done(struct app_conn *c)
{
	struct ussd_app *a = c->a;
	a->st.requests++;
	c->busy = true;
	if (app_hangs(a)) {
		c->hung = true;
		a->st.dropped++;
		return;
	}
	if (app_errors(a)) {
		reply_set(c, 503, "", "", 0);
		a->st.unavailable++;
		reply_send(c);
		return;
	}
	request_decide(c);
	uint64_t delay = c->status >= 400 && c->status != 500 ? 0 : sy_dist_sample(&a->cfg.latency, &a->rng);
	c->reply_timer = sy_env_timer_start(a->env, delay, reply_fn, c);
}

/* ---- parsing ---- */

static int req_on_begin(http_parser *p)
{
	struct app_conn *c = p->data;
	c->url_len = c->body_len = 0;
	c->too_long = c->end = false;
	return 0;
}

static int req_on_url(http_parser *p, const char *at, size_t n)
{
	struct app_conn *c = p->data;
	if (n > sizeof(c->url) - c->url_len) {
		c->too_long = true;
		return 0;
	}
	memcpy(c->url + c->url_len, at, n);
	c->url_len += n;
	return 0;
}

static int req_on_body(http_parser *p, const char *at, size_t n)
{
	struct app_conn *c = p->data;
	/* past the bound the body is read to its end and discarded: 413 */
	if (n > sizeof(c->body) - c->body_len) {
		c->too_long = true;
		return 0;
	}
	memcpy(c->body + c->body_len, at, n);
	c->body_len += n;
	return 0;
}

static int req_on_complete(http_parser *p)
{
	struct app_conn *c = p->data;
	c->keep = http_should_keep_alive(p) != 0;
	c->busy = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings req_settings = {
    .on_message_begin = req_on_begin,
    .on_url = req_on_url,
    .on_body = req_on_body,
    .on_message_complete = req_on_complete,
};

/* Keeps what a busy connection reads until its reply is out; false (and
 * c freed) past the bound. */
static bool conn_stash(struct app_conn *c, const uint8_t *p, size_t n)
{
	if (n > sizeof(c->in) - c->in_len) {
		conn_free(c, true);
		return false;
	}
	memcpy(c->in + c->in_len, p, n);
	c->in_len += n;
	return true;
}

static void conn_feed(struct app_conn *c, const uint8_t *p, size_t n)
{
	if (c->hung || n == 0)
		return; /* down for good on this connection: read and ignored */
	if (c->busy) {
		(void)conn_stash(c, p, n);
		return;
	}
	size_t k = http_parser_execute(&c->p, &req_settings, (const char *)p, n);
	if (c->busy) {
		if (conn_stash(c, p + k, n - k))
			request_done(c);
		return;
	}
	if (HTTP_PARSER_ERRNO(&c->p) != HPE_OK || c->p.upgrade) {
		c->a->st.bad++;
		c->keep = false;
		reply_set(c, 400, "", "", 0);
		reply_send(c);
	}
}

static void app_on_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	conn_feed(arg, buf, len);
}

/* ---- outages ---- */

static void app_listen(struct ussd_app *a)
{
	enum sy_rc rc = sy_env_stream_listen(a->env, &a->cfg.listen, &app_cbs, a, &a->lsn);
	if (rc != SY_OK) {
		a->lsn = NULL;
		SY_LOG(a->env, SY_LOG_ERROR, "%s: listen again after the outage: %s", a->cfg.name, sy_rc_str(rc));
	}
}

static void outage_begin_fn(void *arg)
{
	struct ussd_app *a = arg;
	if (a->down_depth++ > 0)
		return;
	a->st.down = true;
	a->st.outages++;
	if (a->cfg.outage_mode != USSD_APP_OUTAGE_REFUSE)
		return;
	sy_env_listener_close(a->env, a->lsn);
	a->lsn = NULL;
	while (a->conns != NULL)
		conn_free(a->conns, true);
}

static void outage_end_fn(void *arg)
{
	struct ussd_app *a = arg;
	SY_ASSERT(a->down_depth > 0);
	if (--a->down_depth > 0)
		return;
	a->st.down = false;
	if (a->cfg.outage_mode == USSD_APP_OUTAGE_REFUSE && a->lsn == NULL)
		app_listen(a);
}

/* ---- the API ---- */

static const char *cfg_check(const struct ussd_app_cfg *c)
{
	if (c->menu == NULL || c->menu->node_n == 0)
		return "no menu";
	if (c->listen.port == 0)
		return "listen needs a port";
	if (c->fail_ppm > 1000000)
		return "fail_ppm over 1000000";
	if (c->outage_n > USSD_APP_OUTAGES_MAX)
		return "too many outages";
	if ((unsigned)c->outage_mode > USSD_APP_OUTAGE_ERROR)
		return "bad outage_mode";
	return NULL;
}

enum sy_rc ussd_app_create(const struct sy_env *env, const struct ussd_app_cfg *cfg, struct ussd_app **out, char *err,
			   size_t errlen)
{
	*out = NULL;
	const char *why = cfg_check(cfg);
	if (why != NULL) {
		snprintf(err, errlen, "%s: %s", cfg->name ? cfg->name : "ussd-app", why);
		return SY_ERR_INVAL;
	}
	struct ussd_app *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return SY_ERR_NOMEM;
	a->env = env;
	a->cfg = *cfg;
	if (a->cfg.name == NULL)
		a->cfg.name = "ussd-app";
	if (a->cfg.conns_max == 0)
		a->cfg.conns_max = APP_CONNS_DEFAULT;
	sy_rng_init_split(&a->rng, sy_env_seed(env), "ussd_app", a->cfg.index);
	enum sy_rc rc = sy_env_stream_listen(env, &a->cfg.listen, &app_cbs, a, &a->lsn);
	if (rc != SY_OK) {
		char ad[SY_ADDR_STRLEN];
		sy_addr_fmt(&a->cfg.listen, ad, sizeof(ad));
		snprintf(err, errlen, "%s: listen %s: %s", a->cfg.name, ad, sy_rc_str(rc));
		free(a);
		return rc;
	}
	*out = a;
	return SY_OK;
}

void ussd_app_start(struct ussd_app *a)
{
	for (uint32_t i = 0; i < a->cfg.outage_n; i++) {
		const struct ussd_app_outage *o = &a->cfg.outages[i];
		a->outage_timers[i][0] = sy_env_timer_start(a->env, o->start_ns, outage_begin_fn, a);
		a->outage_timers[i][1] = sy_env_timer_start(a->env, o->start_ns + o->duration_ns, outage_end_fn, a);
	}
}

const struct ussd_app_stats *ussd_app_stats(const struct ussd_app *a)
{
	return &a->st;
}

void ussd_app_destroy(struct ussd_app *a)
{
	if (a == NULL)
		return;
	for (uint32_t i = 0; i < a->cfg.outage_n; i++) {
		sy_env_timer_cancel(a->env, a->outage_timers[i][0]);
		sy_env_timer_cancel(a->env, a->outage_timers[i][1]);
	}
	while (a->conns != NULL)
		conn_free(a->conns, true);
	sy_env_listener_close(a->env, a->lsn);
	free(a);
}
