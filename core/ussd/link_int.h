/* link_int.h: the links' state (link.c) and their queues (link_queue.c). */
#ifndef SY_USSD_LINK_INT_H
#define SY_USSD_LINK_INT_H

#include "core/sec/secret.h"
#include "core/smpp/session.h"
#include "core/ussd/ussd_int.h"

#define USSD_LINK_BINDS_MAX 64 /* [ussd-link] binds bound */

struct sy_srclimit;
struct ussd_link;

/* One SMPP session slot of a link. Accept mode: reserved by a successful
 * bind check, freed when that session ends. Bind mode: one connection we
 * keep up, reconnecting with backoff. */
struct link_conn {
	struct ussd_link *l;
	struct smpp_session *s; /* NULL: free (accept) or waiting to reconnect (bind) */
	bool bound;
	sy_timer_id t_reconnect;
	uint64_t backoff_ns;
};

/* Messages waiting for window space, FIFO, as compact records in a ring of
 * bytes (a header of 11 octets and the three strings: tens of bytes, not
 * a struct ussd_msg each). Grows by doubling; given back when emptied. */
struct link_queue {
	uint8_t *buf;
	size_t cap, head, len; /* bytes */
	uint32_t n;	       /* messages */
};

struct ussd_link {
	struct ussd_links *ls;
	const struct ussd_link_cfg *cfg;
	uint16_t idx;
	struct ussd_codec_cfg codec;
	struct sy_secret secret; /* accept mode */
	struct sy_addr addr;	 /* bind mode: the node */
	uint32_t binds, window, queue_max;
	uint32_t up; /* bound sessions */
	uint32_t rr; /* round robin over conn[] */
	struct link_conn conn[USSD_LINK_BINDS_MAX];
	struct link_queue q;
	struct sy_log_limit log_lim;
};

struct ussd_links {
	struct ussd_links_cfg c;
	struct sy_bind_guard guard; /* the config's, zeros replaced by defaults */
	struct ussd_link link[USSD_LINKS_MAX];
	uint32_t n;
	struct sy_secret dummy; /* checked for an unknown system_id */
	struct sy_srclimit *src;
	struct smpp_pool *srv, *cli; /* accept-mode and bind-mode sessions (NULL when none) */
	bool stopping;
	struct ussd_msg rx, tx; /* scratch: a decoded request; a queued message going out */
	uint8_t tbuf[2 * USSD_TEXT_UTF8_MAX];
};

/* link.c */
struct link_conn *link__pick(struct ussd_link *l);
enum sy_rc link__send_now(struct ussd_link *l, struct link_conn *c, const struct ussd_msg *m);

/* link_queue.c */
enum sy_rc link__queue_put(struct link_queue *q, const struct ussd_msg *m);
void link__queue_peek(const struct link_queue *q, struct ussd_msg *m);
void link__queue_pop(struct link_queue *q);
void link__queue_clear(struct link_queue *q);
void link__queue_free(struct link_queue *q);
/* Sends what waits on l while a session has window space. */
void link__drain(struct ussd_link *l);

#endif
