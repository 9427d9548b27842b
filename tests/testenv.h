/* testenv.h: a small deterministic env for unit tests. Virtual time moves
 * only when the test calls testenv_advance(), which fires due timers in
 * (deadline, start order) through core/timerq.h. Datagram sockets record
 * every datagram sent (with its virtual send time) in one list the test can
 * inspect, and the test injects received datagrams by hand. Streams are not
 * modelled (their ops fail with SY_ERR_IO). Logs go to stderr at WARN and
 * above only.
 *
 * Typical use:
 *   struct testenv te;
 *   testenv_init(&te, 42);
 *   struct sy_dgram *sock;
 *   sy_env_dgram_open(&te.env, &local, my_recv, my_arg, &sock);
 *   testenv_inject(&te, sock, &peer, buf, len);    // calls my_recv now
 *   testenv_advance(&te, 500 * SY_NS_PER_MS);       // fires timers
 *   const struct testenv_sent *d = testenv_sent(&te, 0);  // d->at_ns ...
 *   testenv_free(&te);
 */
#ifndef SY_TESTENV_H
#define SY_TESTENV_H

#include "core/env.h"
#include "core/timerq.h"

#define TESTENV_SOCKS_MAX 16

struct testenv_sent {
	uint64_t at_ns;	       /* virtual time of the send */
	struct sy_dgram *sock; /* the socket it was sent from */
	struct sy_addr from;   /* that socket's local address */
	struct sy_addr to;
	uint8_t *buf; /* NUL-terminated copy, owned by the testenv */
	size_t len;
};

/* The testenv's datagram socket; sy_dgram handles point at one of these
 * (sy_dgram stays opaque so a test may also link a real backend). */
struct testenv_sock {
	struct testenv *te;
	struct sy_addr local;
	sy_dgram_recv_fn fn;
	void *arg;
	bool open;
};

struct testenv {
	struct sy_env env; /* pass &te.env to components */
	uint64_t now_ns;
	uint64_t wall_base_ns; /* wall_ns() = wall_base_ns + now_ns */
	uint64_t seed;
	uint64_t rnd_state, rnd_word; /* te_random */
	unsigned rnd_left;
	struct sy_tq tq;
	struct testenv_sock socks[TESTENV_SOCKS_MAX];
	uint32_t nsocks;
	struct testenv_sent *sent;
	size_t nsent, sent_cap;
	uint32_t fail_sends; /* the next N dgram sends return SY_ERR_IO (not recorded) */
	uint64_t timers_fired;
};

void testenv_init(struct testenv *te, uint64_t seed);
void testenv_free(struct testenv *te);

/* Moves virtual time forward by ns, firing every timer due by then in
 * (deadline, sequence) order; each runs with now_ns == its deadline. Timers
 * started by callbacks fire in the same call if they fall due in time. */
void testenv_advance(struct testenv *te, uint64_t ns);
/* Advances to the absolute virtual time at_ns (no-op if already past). */
void testenv_advance_to(struct testenv *te, uint64_t at_ns);
/* Deadline of the earliest pending timer; false when none is pending. */
bool testenv_next_timer(const struct testenv *te, uint64_t *at_ns);
uint32_t testenv_timers_pending(const struct testenv *te);

/* Delivers a datagram to sock's receive callback, synchronously, now. */
void testenv_inject(struct testenv *te, struct sy_dgram *sock, const struct sy_addr *from, const void *buf, size_t len);

/* The datagrams sent so far, in send order. */
size_t testenv_sent_count(const struct testenv *te);
const struct testenv_sent *testenv_sent(const struct testenv *te, size_t i);
void testenv_sent_clear(struct testenv *te);

#endif
