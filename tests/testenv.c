/* testenv.c: the fake env of testenv.h: virtual clock, a timerq of
 * timers, recording datagram sockets, no streams. Test-only code, so it may
 * use malloc freely and abort on exhaustion. */
#include "core/live/live.h"
#include "tests/testenv.h"
#include "core/rng.h"

#include <stdio.h>
#include <stdlib.h>

static uint64_t te_now_ns(void *ctx)
{
	return ((struct testenv *)ctx)->now_ns;
}

static uint64_t te_wall_ns(void *ctx)
{
	struct testenv *te = ctx;
	return te->wall_base_ns + te->now_ns;
}

static sy_timer_id te_timer_start(void *ctx, uint64_t delay_ns, sy_timer_fn fn, void *arg)
{
	struct testenv *te = ctx;
	sy_timer_id id = sy_tq_add(&te->tq, te->now_ns + delay_ns, fn, arg);
	SY_ASSERT(id != 0);
	return id;
}

static void te_timer_cancel(void *ctx, sy_timer_id id)
{
	sy_tq_cancel(&((struct testenv *)ctx)->tq, id);
}

static enum sy_rc te_dgram_open(void *ctx, const struct sy_addr *local, sy_dgram_recv_fn fn, void *arg,
				struct sy_dgram **out)
{
	struct testenv *te = ctx;
	if (te->nsocks >= TESTENV_SOCKS_MAX)
		return SY_ERR_FULL;
	struct testenv_sock *d = &te->socks[te->nsocks++];
	*d = (struct testenv_sock){.te = te, .local = *local, .fn = fn, .arg = arg, .open = true};
	*out = (struct sy_dgram *)d;
	return SY_OK;
}

static struct testenv_sock *sock_of(struct sy_dgram *d)
{
	return (struct testenv_sock *)d;
}

static enum sy_rc te_dgram_send(void *ctx, struct sy_dgram *d, const struct sy_addr *to, const void *buf, size_t len)
{
	struct testenv *te = ctx;
	struct testenv_sock *s = sock_of(d);
	SY_ASSERT(s->open);
	if (te->fail_sends > 0) {
		te->fail_sends--;
		return SY_ERR_IO;
	}
	if (te->nsent == te->sent_cap) {
		te->sent_cap = te->sent_cap ? te->sent_cap * 2 : 64;
		te->sent = realloc(te->sent, te->sent_cap * sizeof(*te->sent));
		SY_ASSERT(te->sent != NULL);
	}
	struct testenv_sent *r = &te->sent[te->nsent++];
	r->at_ns = te->now_ns;
	r->sock = d;
	r->from = s->local;
	r->to = *to;
	r->len = len;
	r->buf = malloc(len + 1);
	SY_ASSERT(r->buf != NULL);
	memcpy(r->buf, buf, len);
	r->buf[len] = '\0';
	return SY_OK;
}

static void te_dgram_close(void *ctx, struct sy_dgram *d)
{
	sock_of(d)->open = false;
}

static void te_dgram_local(void *ctx, struct sy_dgram *d, struct sy_addr *out)
{
	*out = sock_of(d)->local;
}

static enum sy_rc te_stream_listen(void *ctx, const struct sy_addr *local, const struct sy_stream_cbs *cbs, void *arg,
				   struct sy_listener **out)
{
	return SY_ERR_IO;
}

static void te_listener_close(void *ctx, struct sy_listener *l)
{
}

static enum sy_rc te_stream_connect(void *ctx, const struct sy_addr *remote, const struct sy_stream_cbs *cbs, void *arg,
				    struct sy_stream **out)
{
	return SY_ERR_IO;
}

static enum sy_rc te_stream_write(void *ctx, struct sy_stream *s, const void *buf, size_t len)
{
	return SY_ERR_IO;
}

static void te_stream_set_arg(void *ctx, struct sy_stream *s, void *arg)
{
}

static size_t te_stream_queued(void *ctx, struct sy_stream *s)
{
	return 0;
}

static void te_stream_close(void *ctx, struct sy_stream *s)
{
}

static void te_stream_peer(void *ctx, struct sy_stream *s, struct sy_addr *out)
{
	memset(out, 0, sizeof(*out));
}

static uint64_t te_seed(void *ctx)
{
	return ((struct testenv *)ctx)->seed;
}

/* Reproducible "random" bytes: a counter through splitmix64. */
static void te_random(void *ctx, void *buf, size_t len)
{
	struct testenv *te = ctx;
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) {
		if (te->rnd_left == 0) {
			te->rnd_word = sy_splitmix64(&te->rnd_state);
			te->rnd_left = 8;
		}
		p[i] = (uint8_t)(te->rnd_word >> (8 * --te->rnd_left));
	}
}

static void te_log(void *ctx, enum sy_log_level level, const char *fmt, va_list ap)
{
	if (level > SY_LOG_WARN)
		return;
	fprintf(stderr, "testenv[%llu ns] %s: ", (unsigned long long)((struct testenv *)ctx)->now_ns,
		level == SY_LOG_ERROR ? "ERROR" : "WARN");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Files are real: the file operations are the live backend's (testenv_init). */
static struct sy_env_ops te_ops = {
    .now_ns = te_now_ns,
    .wall_ns = te_wall_ns,
    .timer_start = te_timer_start,
    .timer_cancel = te_timer_cancel,
    .dgram_open = te_dgram_open,
    .dgram_send = te_dgram_send,
    .dgram_close = te_dgram_close,
    .dgram_local = te_dgram_local,
    .stream_listen = te_stream_listen,
    .listener_close = te_listener_close,
    .stream_connect = te_stream_connect,
    .stream_write = te_stream_write,
    .stream_set_arg = te_stream_set_arg,
    .stream_queued = te_stream_queued,
    .stream_close = te_stream_close,
    .stream_peer = te_stream_peer,
    .stream_local = te_stream_peer,
    .seed = te_seed,
    .random = te_random,
    .log = te_log,
    .event = NULL,
};

void testenv_init(struct testenv *te, uint64_t seed)
{
	memset(te, 0, sizeof(*te));
	const struct sy_env_ops *files = sy_live_files()->ops;
	te_ops.file_open = files->file_open;
	te_ops.file_read = files->file_read;
	te_ops.file_write = files->file_write;
	te_ops.file_sync = files->file_sync;
	te_ops.file_size = files->file_size;
	te_ops.file_truncate = files->file_truncate;
	te_ops.file_close = files->file_close;
	te_ops.file_lock = files->file_lock;
	te_ops.file_unlink = files->file_unlink;
	te_ops.file_exists = files->file_exists;
	te_ops.dir_make = files->dir_make;
	te->env = (struct sy_env){.ops = &te_ops, .ctx = te, .log_level = SY_LOG_WARN};
	te->seed = seed;
	te->wall_base_ns = 1700000000ull * SY_NS_PER_S;
	enum sy_rc rc = sy_tq_init(&te->tq, 1024, 1u << 24);
	SY_ASSERT(rc == SY_OK);
}

void testenv_sent_clear(struct testenv *te)
{
	for (size_t i = 0; i < te->nsent; i++)
		free(te->sent[i].buf);
	te->nsent = 0;
}

void testenv_free(struct testenv *te)
{
	testenv_sent_clear(te);
	free(te->sent);
	sy_tq_free(&te->tq);
	memset(te, 0, sizeof(*te));
}

void testenv_advance_to(struct testenv *te, uint64_t at_ns)
{
	uint64_t due;
	sy_timer_fn fn;
	void *arg;
	while (sy_tq_peek(&te->tq, &due) && due <= at_ns) {
		if (due > te->now_ns)
			te->now_ns = due;
		if (sy_tq_pop(&te->tq, te->now_ns, &due, &fn, &arg)) {
			te->timers_fired++;
			fn(arg);
		}
	}
	if (at_ns > te->now_ns)
		te->now_ns = at_ns;
}

void testenv_advance(struct testenv *te, uint64_t ns)
{
	testenv_advance_to(te, te->now_ns + ns);
}

bool testenv_next_timer(const struct testenv *te, uint64_t *at_ns)
{
	return sy_tq_peek(&te->tq, at_ns);
}

uint32_t testenv_timers_pending(const struct testenv *te)
{
	return sy_tq_count(&te->tq);
}

void testenv_inject(struct testenv *te, struct sy_dgram *sock, const struct sy_addr *from, const void *buf, size_t len)
{
	struct testenv_sock *s = sock_of(sock);
	SY_ASSERT(s != NULL && s->open && s->te == te);
	s->fn(s->arg, sock, from, buf, len);
}

size_t testenv_sent_count(const struct testenv *te)
{
	return te->nsent;
}

const struct testenv_sent *testenv_sent(const struct testenv *te, size_t i)
{
	SY_ASSERT(i < te->nsent);
	return &te->sent[i];
}
