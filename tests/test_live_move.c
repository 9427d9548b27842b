/* test_live_move.c: several loops in one process (core/live/post.c and the
 * stream move in tcp.c), as serve's SMSC instances use them:
 * - posts from another thread run on the loop's thread, every one, in
 *   order, with their bytes intact, across many wakes;
 * - a stream exported inside on_data carries on on another loop: the bytes
 *   after the chunk being delivered (already read by the first loop) are
 *   handed over, later bytes arrive on the second loop in order, writes
 *   from the second loop reach the peer, and the first loop never sees the
 *   stream again. (libevent 2.1 hands each read of a socket out as one
 *   chunk, so the bytes read but not handed out are none here; the test
 *   checks the whole byte stream, whatever the split.) */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/live/live.h"

static struct sy_live *live_new(void)
{
	struct sy_live_cfg c = {.seed = 7, .log_level = SY_LOG_WARN};
	struct sy_live *l;
	assert_int_equal(sy_live_create(&c, &l), SY_OK);
	return l;
}

/* ---- posts from another thread ---- */

#define POSTS 200000u

struct sink {
	struct sy_live *l;
	pthread_t self;
	uint64_t got, bad_order, bad_thread, bad_bytes;
};

struct rec {
	uint64_t seq;
	uint8_t fill[40];
};

static void on_post(void *ctx, const void *data, size_t len)
{
	struct sink *k = ctx;
	struct rec r;
	assert_int_equal(len, sizeof(r));
	memcpy(&r, data, sizeof(r));
	if (r.seq != k->got)
		k->bad_order++;
	for (size_t i = 0; i < sizeof(r.fill); i++)
		if (r.fill[i] != (uint8_t)(r.seq + i))
			k->bad_bytes++;
	if (!pthread_equal(pthread_self(), k->self))
		k->bad_thread++;
	if (++k->got == POSTS)
		sy_live_stop(k->l);
}

static void *run_loop(void *arg)
{
	struct sink *k = arg;
	k->self = pthread_self();
	sy_live_run(k->l);
	return NULL;
}

static void test_post_from_thread(void **state)
{
	struct sink k = {.l = live_new()};
	assert_int_equal(sy_live_mailbox_open(k.l), SY_OK);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, run_loop, &k), 0);
	for (uint64_t i = 0; i < POSTS; i++) {
		struct rec r = {.seq = i};
		for (size_t j = 0; j < sizeof(r.fill); j++)
			r.fill[j] = (uint8_t)(i + j);
		assert_int_equal(sy_live_post(k.l, on_post, &k, &r, sizeof(r)), SY_OK);
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(k.got, POSTS);
	assert_int_equal(k.bad_order, 0);
	assert_int_equal(k.bad_bytes, 0);
	assert_int_equal(k.bad_thread, 0);
	assert_int_equal(sy_live_mailbox_pending(k.l), 0);
	sy_live_destroy(k.l);
}

/* Records posted to a loop that no longer runs are run by its owner's
 * drain (a shutdown releasing what they hold), once each, in order. */
static void on_drained(void *ctx, const void *data, size_t len)
{
	uint32_t *seen = ctx, v;
	memcpy(&v, data, sizeof(v));
	assert_int_equal(v, *seen);
	(*seen)++;
}

static void test_drain_after_loop(void **state)
{
	struct sy_live *l = live_new();
	assert_int_equal(sy_live_mailbox_open(l), SY_OK);
	uint32_t seen = 0;
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(sy_live_post(l, on_drained, &seen, &i, sizeof(i)), SY_OK);
	assert_int_equal(sy_live_mailbox_pending(l), 1000);
	sy_live_mailbox_drain(l);
	assert_int_equal(seen, 1000);
	assert_int_equal(sy_live_mailbox_pending(l), 0);
	sy_live_mailbox_drain(l); /* nothing left: nothing runs twice */
	assert_int_equal(seen, 1000);
	sy_live_destroy(l);
}

/* ---- a stream moved between loops ---- */

#define MOVE_AT	   5000u   /* the first loop hands the stream over at this offset */
#define MOVE_TOTAL 300000u /* bytes the client sends in all */

static uint8_t byte_at(size_t off)
{
	return (uint8_t)(off * 7 + off / 251);
}

struct mv {
	struct sy_live *a, *b;
	struct sy_live_moved *m;
	size_t first_seen;  /* bytes loop a handed to the owner */
	size_t second_seen; /* bytes the owner saw on loop b (unread + socket) */
	size_t bad;
	uint64_t a_after_move; /* callbacks on loop a after the move: must stay 0 */
	bool moved, srv_closed, cli_got_reply;
	struct sy_stream *cli, *srv_b;
	size_t cli_sent;
};

static void check(struct mv *t, const uint8_t *buf, size_t len, size_t at)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != byte_at(at + i))
			t->bad++;
}

static void a_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct mv *t = arg;
	if (t->moved) {
		t->a_after_move++;
		return;
	}
	/* take up to MOVE_AT bytes here, then move: the rest of this chunk is
	 * the owner's to carry over with the unread ones */
	size_t take = SY_MIN(len, MOVE_AT - t->first_seen);
	check(t, buf, take, t->first_seen);
	t->first_seen += take;
	if (t->first_seen < MOVE_AT)
		return;
	assert_int_equal(sy_live_stream_export(t->a, s, &t->m), SY_OK);
	t->moved = true;
	/* what this chunk held past MOVE_AT, the owner feeds before the unread */
	check(t, buf + take, len - take, t->first_seen);
	t->second_seen = t->first_seen + (len - take);
	sy_live_stop(t->a);
}

static void a_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	((struct mv *)arg)->a_after_move++;
}

static void b_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct mv *t = arg;
	check(t, buf, len, t->second_seen);
	t->second_seen += len;
	if (t->second_seen == MOVE_TOTAL)
		assert_int_equal(sy_env_stream_write(sy_live_env(t->b), s, "done", 4), SY_OK);
}

static void b_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	struct mv *t = arg;
	t->srv_closed = true;
	sy_live_stop(t->b);
}

/* One set of callbacks for both loops, as every SMPP pool's are the same
 * functions: the stream tells which side it is on. */
static void srv_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct mv *t = arg;
	if (s == t->srv_b)
		b_data(arg, s, buf, len);
	else
		a_data(arg, s, buf, len);
}

static void srv_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	struct mv *t = arg;
	if (s == t->srv_b)
		b_close(arg, s, why);
	else
		a_close(arg, s, why);
}

static const struct sy_stream_cbs srv_cbs = {NULL, srv_data, srv_close};

static void cli_send(struct mv *t)
{
	static uint8_t chunk[8192];
	while (t->cli_sent < MOVE_TOTAL) {
		size_t n = SY_MIN(sizeof(chunk), MOVE_TOTAL - t->cli_sent);
		for (size_t i = 0; i < n; i++)
			chunk[i] = byte_at(t->cli_sent + i);
		assert_int_equal(sy_env_stream_write(sy_live_env(t->a), t->cli, chunk, n), SY_OK);
		t->cli_sent += n;
	}
}

static void cli_open(void *arg, struct sy_stream *s)
{
	cli_send(arg);
}

static void cli_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct mv *t = arg;
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "done", 4);
	t->cli_got_reply = true;
	sy_env_stream_close(sy_live_env(t->a), s); /* the server's end sees EOF */
}

static void cli_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
}

static const struct sy_stream_cbs cli_cbs = {cli_open, cli_data, cli_close};

static void test_stream_moves_between_loops(void **state)
{
	struct mv t = {.a = live_new(), .b = live_new()};
	struct sy_addr any = sy_addr_v4(127, 0, 0, 1, 0), at;
	struct sy_listener *ls;
	assert_int_equal(sy_env_stream_listen(sy_live_env(t.a), &any, &srv_cbs, &t, &ls), SY_OK);
	sy_live_listener_local(t.a, ls, &at);
	assert_int_equal(sy_env_stream_connect(sy_live_env(t.a), &at, &cli_cbs, &t, &t.cli), SY_OK);
	/* loop a: accept, read, move at MOVE_AT (bounded: 5 s) */
	assert_int_equal(sy_live_run_for(t.a, 5 * SY_NS_PER_S), SY_OK);
	assert_true(t.moved);
	/* loop b takes it: no on_open; the owner feeds the unread bytes
	 * before loop b reads the socket */
	assert_int_equal(sy_live_stream_import(t.b, t.m, &t, &t.srv_b), SY_OK);
	const uint8_t *unread;
	size_t n = sy_live_moved_unread(t.m, &unread);
	check(&t, unread, n, t.second_seen);
	t.second_seen += n;
	sy_live_moved_free(t.m);
	/* both loops in turn, one thread: the client on a, the server on b */
	for (int i = 0; i < 2000 && !(t.srv_closed && t.cli_got_reply); i++) {
		sy_live_run_for(t.a, SY_NS_PER_MS);
		sy_live_run_for(t.b, SY_NS_PER_MS);
	}
	assert_int_equal(t.bad, 0);
	assert_true(t.cli_got_reply);
	assert_true(t.srv_closed);
	assert_int_equal(t.second_seen, MOVE_TOTAL);
	assert_int_equal(t.a_after_move, 0);
	struct sy_live_stats sa, sb;
	sy_live_stats(t.a, &sa);
	sy_live_stats(t.b, &sb);
	assert_int_equal(sb.streams_opened, 1);
	assert_int_equal(sb.streams_closed, 1);
	sy_env_listener_close(sy_live_env(t.a), ls);
	sy_live_destroy(t.a);
	sy_live_destroy(t.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_post_from_thread),
	    cmocka_unit_test(test_drain_after_loop),
	    cmocka_unit_test(test_stream_moves_between_loops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
