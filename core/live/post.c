/* post.c: calls into a loop from other threads (sy_live_post). serve runs
 * one SMSC instance per core, each on a loop of its own thread; what one
 * instance asks of another (an ESME stream to adopt, a carrier receipt to
 * look up, its answer) is posted to the other's loop and runs there like
 * any callback, so the instances share no state and take no lock on their
 * own work.
 *
 * A mailbox is a queue under a mutex and an eventfd the loop waits on.
 * Posting copies a small record (SY_LIVE_POST_MAX bytes) into the queue
 * and writes the eventfd only when the queue was empty; the loop swaps the
 * whole queue out under the lock and runs it without it, so a burst costs
 * one wake and one lock round per side, not one per record. Records run in
 * the order they were posted (per poster; across posters, in the order
 * they took the lock). */
#include "core/live/live_int.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct live_post_ent {
	sy_live_post_fn fn;
	void *ctx;
	uint32_t len;
	_Alignas(16) uint8_t data[SY_LIVE_POST_MAX];
};

struct live_mailbox {
	pthread_mutex_t mu;
	struct live_post_ent *q; /* posted, not yet taken by the loop (under mu) */
	uint32_t n, cap;
	struct live_post_ent *run; /* the loop's: the batch being run */
	uint32_t run_cap;
	int efd;
	struct event *ev;
};

/* Takes the queue and runs it, on the loop's thread (or its owner's once
 * that thread is gone). */
static void post_run(struct sy_live *l)
{
	struct live_mailbox *mb = l->mailbox;
	sy_live_time_update(l);
	pthread_mutex_lock(&mb->mu);
	struct live_post_ent *batch = mb->q;
	uint32_t n = mb->n, cap = mb->cap;
	mb->q = mb->run;
	mb->cap = mb->run_cap;
	mb->n = 0;
	pthread_mutex_unlock(&mb->mu);
	mb->run = batch;
	mb->run_cap = cap;
	for (uint32_t i = 0; i < n; i++)
		batch[i].fn(batch[i].ctx, batch[i].data, batch[i].len);
}

static void post_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sy_live *l = arg;
	uint64_t v;
	while (read(l->mailbox->efd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	post_run(l);
}

void sy_live_mailbox_drain(struct sy_live *l)
{
	if (l->mailbox != NULL)
		post_run(l);
}

enum sy_rc sy_live_mailbox_open(struct sy_live *l)
{
	SY_ASSERT(l->mailbox == NULL);
	struct live_mailbox *mb = calloc(1, sizeof(*mb));
	if (mb == NULL)
		return SY_ERR_NOMEM;
	mb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mb->efd < 0) {
		live__log(l, SY_LOG_ERROR, "eventfd: %s", strerror(errno));
		free(mb);
		return SY_ERR_IO;
	}
	pthread_mutex_init(&mb->mu, NULL);
	mb->ev = event_new(l->base, mb->efd, EV_READ | EV_PERSIST, post_cb, l);
	if (mb->ev == NULL || event_add(mb->ev, NULL) != 0) {
		l->mailbox = mb;
		live__mailbox_close(l);
		return SY_ERR_NOMEM;
	}
	l->mailbox = mb;
	return SY_OK;
}

enum sy_rc sy_live_post(struct sy_live *l, sy_live_post_fn fn, void *ctx, const void *data, size_t len)
{
	struct live_mailbox *mb = l->mailbox;
	SY_ASSERT(mb != NULL && fn != NULL && len <= SY_LIVE_POST_MAX);
	pthread_mutex_lock(&mb->mu);
	if (mb->n == mb->cap) {
		uint32_t cap = mb->cap ? mb->cap * 2 : 256;
		struct live_post_ent *q = realloc(mb->q, (size_t)cap * sizeof(*q));
		if (q == NULL) {
			pthread_mutex_unlock(&mb->mu);
			return SY_ERR_NOMEM;
		}
		mb->q = q;
		mb->cap = cap;
	}
	struct live_post_ent *e = &mb->q[mb->n];
	e->fn = fn;
	e->ctx = ctx;
	e->len = (uint32_t)len;
	if (len > 0)
		memcpy(e->data, data, len);
	bool wake = mb->n++ == 0; /* else a wake is already on its way */
	pthread_mutex_unlock(&mb->mu);
	if (wake) {
		uint64_t one = 1;
		while (write(mb->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	return SY_OK;
}

void live__mailbox_close(struct sy_live *l)
{
	struct live_mailbox *mb = l->mailbox;
	if (mb == NULL)
		return;
	if (mb->ev != NULL)
		event_free(mb->ev);
	close(mb->efd);
	pthread_mutex_destroy(&mb->mu);
	free(mb->q); /* records never run: their posters were told nothing more */
	free(mb->run);
	free(mb);
	l->mailbox = NULL;
}

uint64_t sy_live_mailbox_pending(struct sy_live *l)
{
	struct live_mailbox *mb = l->mailbox;
	if (mb == NULL)
		return 0;
	pthread_mutex_lock(&mb->mu);
	uint64_t n = mb->n;
	pthread_mutex_unlock(&mb->mu);
	return n;
}
