/* digest.h: the determinism digest, SHA-256 over the simulator's ordered
 * event log (datagram and stream deliveries, drops with reasons, env event()
 * records; a datagram's or stream segment's payload enters as its length and
 * XXH3-64 hash). Two runs of one scenario with one seed must print the same hex.
 * Records are buffered and hashed in large blocks; an optional text copy of
 * the log can be written to a FILE* for debugging (off by default). */
#ifndef SIM_DIGEST_H
#define SIM_DIGEST_H

#include <stdio.h>

#include "core/env.h"

struct sim;

enum sim_drop_reason {
	SIM_DROP_LOSS = 1,	/* the link model lost it */
	SIM_DROP_LINK_DOWN,	/* the link was down */
	SIM_DROP_NO_SOCKET,	/* nothing bound at the destination address */
	SIM_DROP_NO_ROUTE,	/* no node owns the destination IP */
	SIM_DROP_STREAM_CLOSED, /* stream bytes arrived at a closed end */
	SIM_DROP_RCVBUF		/* the receiver was busy and its receive buffer full (CPU model) */
};

enum sim_stream_what { SIM_STREAM_OPEN = 1, SIM_STREAM_DATA, SIM_STREAM_CLOSE, SIM_STREAM_RESET };

#ifndef SIM_DIGEST_BUF
#define SIM_DIGEST_BUF 4096
#endif

struct sim_digest {
	void *md; /* EVP_MD_CTX */
	FILE *text;
	uint64_t records;
	size_t used;
	uint8_t buf[SIM_DIGEST_BUF];
};

enum sy_rc sim_digest_init(struct sim_digest *d);
void sim_digest_free(struct sim_digest *d);
/* A text copy of every record from now on; NULL turns it off. */
void sim_digest_set_text(struct sim_digest *d, FILE *f);

void sim_digest_dgram(struct sim_digest *d, uint64_t t_ns, const struct sy_addr *src, const struct sy_addr *dst,
		      const uint8_t *buf, size_t len);
void sim_digest_stream(struct sim_digest *d, uint64_t t_ns, enum sim_stream_what what, const struct sy_addr *src,
		       const struct sy_addr *dst, const uint8_t *buf, size_t len);
void sim_digest_drop(struct sim_digest *d, uint64_t t_ns, enum sim_drop_reason why, const struct sy_addr *src,
		     const struct sy_addr *dst, size_t len);
void sim_digest_event(struct sim_digest *d, uint64_t t_ns, const char *node, const char *kind, const void *data,
		      size_t len);
/* SHA-256 of everything so far; the digest keeps accumulating afterwards. */
void sim_digest_final(struct sim_digest *d, uint8_t out[32]);
void sim_digest_final_hex(struct sim_digest *d, char out[65]);

/* The world's digest as 64 lowercase hex digits and a NUL. */
void sim_digest_hex(struct sim *sim, char out[65]);

const char *sim_drop_reason_str(enum sim_drop_reason why);

#endif
