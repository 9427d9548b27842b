/* ussd_app_fuzz.c: libFuzzer harness on the simulated USSD application's
 * request side (peers/ussd_app.c): the input after its first byte is what
 * a client writes to the real app over the simulator's streams, in pieces
 * of 1..17 bytes with 0..2 ms between them (the first byte picks them; 0:
 * one write). Checked: the world goes idle within a bound of events with
 * nothing pending (no loop), what comes back parses as complete responses
 * (the gateway's parser) with the statuses the app gives, one per request
 * answered or refused, and the app either closed after a "Connection:
 * close" reply (or a pipelining overflow) or holds the connection open with
 * every complete request answered. The body after the first blank line
 * also goes through the form parser on an exact-size copy, so ASan sees a
 * read past its end. Built by `make fuzz`; the corpus (fuzz/corpus/
 * ussd_app/) replays in `make test`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ussd/http_int.h"
#include "peers/ussd_app.h"
#include "peers/ussd_app_int.h"
#include "sim/sim.h"

#define APP_PORT   8090
#define EVENTS_MAX 1000000u

/* ---- the form parser, directly ---- */

static void form_one(struct sy_str body, const char *name, size_t small)
{
	char big[1024], tiny[32];
	size_t bl = SIZE_MAX, tl = SIZE_MAX;
	bool b = ussd_app__form_get(body, name, big, sizeof(big), &bl);
	bool t = ussd_app__form_get(body, name, tiny, small, &tl);
	if (b) {
		SY_ASSERT(bl < sizeof(big) && big[bl] == '\0' && bl <= body.len);
	}
	if (t) {
		/* what fits a small buffer decodes the same in a big one */
		SY_ASSERT(tl < small && tiny[tl] == '\0');
		SY_ASSERT(b && bl == tl && memcmp(big, tiny, tl) == 0);
	}
}

static void fuzz_form(const uint8_t *p, size_t n, uint8_t seed)
{
	static const char *const names[] = {"sessionId", "serviceCode", "phoneNumber", "text"};
	const uint8_t *hdr_end = memmem(p, n, "\r\n\r\n", 4);
	if (hdr_end != NULL) {
		n -= (size_t)(hdr_end + 4 - p);
		p = hdr_end + 4;
	}
	char *copy = malloc(n ? n : 1);
	memcpy(copy, p, n);
	for (size_t i = 0; i < SY_ARRAY_LEN(names); i++)
		form_one((struct sy_str){copy, n}, names[i], 1 + (seed + i) % 32);
	free(copy);
}

/* ---- the app over simulated streams ---- */

static void menu_build(struct ussd_menu_cfg *m)
{
	static const struct {
		enum ussd_node_kind kind;
		const char *name, *text;
		int16_t any_next;
	} nodes[] = {
	    {USSD_NODE_SCREEN, "main", "Welcome\n1. Balance\n2. Send money", -1},
	    {USSD_NODE_END, "balance", "Your balance is 100.", -1},
	    {USSD_NODE_SCREEN, "send_to", "Enter the number:", 3},
	    {USSD_NODE_SCREEN, "amount", "Send to {input}. Amount?", 4},
	    {USSD_NODE_END, "sent", "Sent {input}.", -1},
	};
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "fuzz");
	snprintf(m->invalid_text, sizeof(m->invalid_text), "Invalid choice.");
	for (uint16_t i = 0; i < SY_ARRAY_LEN(nodes); i++) {
		struct ussd_menu_node *nd = &m->nodes[i];
		snprintf(nd->name, sizeof(nd->name), "%s", nodes[i].name);
		snprintf(nd->text, sizeof(nd->text), "%s", nodes[i].text);
		nd->kind = (uint8_t)nodes[i].kind;
		nd->any_next = nodes[i].any_next;
	}
	m->node_n = SY_ARRAY_LEN(nodes);
	struct ussd_menu_node *main_ = &m->nodes[0];
	snprintf(main_->opt_key[0], sizeof(main_->opt_key[0]), "1");
	snprintf(main_->opt_key[1], sizeof(main_->opt_key[1]), "2");
	main_->opt_next[0] = 1;
	main_->opt_next[1] = 2;
	main_->opt_n = 2;
	char err[128];
	SY_ASSERT(ussd_menu_check(m, err, sizeof(err)) == SY_OK);
}

/* The client's end: every byte the app writes goes through the gateway's
 * response parser, one response after another. */
struct client {
	struct ussd_http_resp r;
	uint32_t responses;
	bool last_keep; /* the last complete response allowed keep-alive */
	bool closed;	/* the app closed (or reset) the connection */
	bool mid;	/* bytes of a response not yet complete */
};

static void client_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct client *c = arg;
	SY_ASSERT(!c->closed);
	while (len > 0) {
		/* nothing follows a reply that closes the connection */
		SY_ASSERT(c->responses == 0 || c->last_keep);
		size_t used = 0;
		enum sy_rc rc = ussd_http_resp_feed(&c->r, buf, len, &used);
		SY_ASSERT(used <= len);
		buf += used;
		len -= used;
		c->mid = rc == SY_AGAIN;
		if (rc == SY_AGAIN)
			return;
		SY_ASSERT(rc == SY_OK);
		uint16_t st = c->r.status;
		SY_ASSERT(st == 200 || st == 400 || st == 404 || st == 405 || st == 413);
		if (st == 200)
			SY_ASSERT(c->r.body_len >= 4 &&
				  (memcmp(c->r.body, "CON ", 4) == 0 || memcmp(c->r.body, "END ", 4) == 0));
		else
			SY_ASSERT(!c->r.keep_alive && c->r.body_len == 0);
		c->last_keep = c->r.keep_alive;
		c->responses++;
		ussd_http_resp_init(&c->r);
	}
}

static void client_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	((struct client *)arg)->closed = true;
}

static const struct sy_stream_cbs client_cbs = {NULL, client_data, client_close};

/* Writes p[0..n) in pieces drawn from seed, running the world between
 * them; stops early when the app has closed. */
static void send_pieces(struct sim *sim, struct sim_node *cn, struct sy_stream *s, struct client *c, const uint8_t *p,
			size_t n, uint8_t seed)
{
	size_t at = 0;
	uint32_t k = seed;
	while (at < n && !c->closed) {
		k = k * 1103515245u + 12345u;
		size_t len = seed == 0 ? n : 1 + (k >> 4) % 17;
		len = len < n - at ? len : n - at;
		SY_ASSERT(sy_env_stream_write(sim_node_env(cn), s, p + at, len) == SY_OK);
		at += len;
		uint64_t gap_ns = seed == 0 ? 0 : (k >> 12) % 3 * SY_NS_PER_MS;
		if (gap_ns > 0)
			sim_run_until(sim, sim_now(sim) + gap_ns);
	}
}

static void check_end(const struct client *c, const struct ussd_app_stats *st)
{
	SY_ASSERT(st->failed == 0 && st->unavailable == 0);
	SY_ASSERT(c->responses == st->answered + st->bad);
	if (c->closed) {
		/* closed after a reply saying so, or a pipelined burst over the bound */
		SY_ASSERT(st->conns_open == 0);
		SY_ASSERT(!c->mid);
		SY_ASSERT((c->responses > 0 && !c->last_keep) || st->dropped > 0);
	} else {
		/* open: waiting for the rest of a request, every complete one answered */
		SY_ASSERT(st->conns_open == 1 && st->dropped == 0);
		SY_ASSERT(c->responses == st->requests && !c->mid);
		SY_ASSERT(c->responses == 0 || c->last_keep);
	}
}

/* One world for every input (making one costs far more than a run):
 * each input gets a new app and a new connection, and the world is idle
 * between inputs, so an input behaves the same in a fresh process. */
static struct sim *world;
static struct sim_node *client_node, *app_node;
static struct ussd_menu_cfg menu;

static void world_once(void)
{
	if (world != NULL)
		return;
	struct sim_opts opts = {.log_level = SY_LOG_ERROR};
	world = sim_create_opts(1, 0, &opts);
	client_node = sim_node_add(world, "gw", "10.0.0.1");
	app_node = sim_node_add(world, "app", "10.0.0.3");
	menu_build(&menu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct client c;
	if (size == 0)
		return 0;
	uint8_t seed = data[0];
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	fuzz_form(p, n, seed);
	world_once();
	SY_ASSERT(sim_pending(world) == 0);

	struct ussd_app_cfg ac = {.listen = sim_node_addr(app_node, APP_PORT), .menu = &menu, .path = "/ussd"};
	struct ussd_app *app = NULL;
	char err[128];
	SY_ASSERT(ussd_app_create(sim_node_env(app_node), &ac, &app, err, sizeof(err)) == SY_OK);
	ussd_app_start(app);
	memset(&c, 0, sizeof(c));
	ussd_http_resp_init(&c.r);
	struct sy_stream *s;
	SY_ASSERT(sy_env_stream_connect(sim_node_env(client_node), &ac.listen, &client_cbs, &c, &s) == SY_OK);
	send_pieces(world, client_node, s, &c, p, n, seed);
	/* every reply the app owes has gone out: nothing is left to happen */
	SY_ASSERT(sim_run_until_idle(world, EVENTS_MAX) < EVENTS_MAX);
	SY_ASSERT(sim_pending(world) == 0);
	check_end(&c, ussd_app_stats(app));

	if (!c.closed)
		sy_env_stream_close(sim_node_env(client_node), s);
	SY_ASSERT(sim_run_until_idle(world, EVENTS_MAX) < EVENTS_MAX);
	SY_ASSERT(ussd_app_stats(app)->conns_open == 0);
	ussd_app_destroy(app);
	SY_ASSERT(sim_run_until_idle(world, EVENTS_MAX) < EVENTS_MAX);
	return 0;
}
