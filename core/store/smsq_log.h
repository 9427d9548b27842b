/* smsq_log.h: the on-disk format of the SMS queue's segment log, as pure
 * functions (no IO, no allocation): a segment header, then records, each
 * one state change of one message, checksummed with CRC-32C. The store
 * (smsq.c) writes and replays them; fuzz/smsq_log_fuzz.c feeds them bytes.
 *
 * Segment: header (SMSQ_LOG_HDR_LEN bytes: magic "SYSMSQL\n", version,
 * segment number, the id high-water mark when the segment was created, crc),
 * then records back to back. Record: u32 len (the whole record), u32 crc
 * (CRC-32C of bytes [8, len) then of the 4 len bytes), u8 type, payload.
 * All integers little-endian. PUT and COPY carry a whole message with its
 * body (COPY: rewritten by compaction with the message's current state; it
 * replaces whatever replay holds for the id), MARK the fields of an
 * smsq_update that it sets. */
#ifndef SY_STORE_SMSQ_LOG_H
#define SY_STORE_SMSQ_LOG_H

#include "core/store/smsq.h"

#define SMSQ_LOG_VERSION 1
#define SMSQ_LOG_HDR_LEN 32
#define SMSQ_LOG_REC_HDR 9 /* len, crc, type */
/* PUT: header, 5 u64, 2 u32, 2 u16, 11 u8, 5 string lengths. */
#define SMSQ_LOG_PUT_FIXED (SMSQ_LOG_REC_HDR + 40 + 8 + 4 + 11 + 5)
#define SMSQ_LOG_PUT_MAX                                                                                               \
	(SMSQ_LOG_PUT_FIXED + SMSQ_SYSTEM_ID_MAX + 2 * SMSQ_ADDR_MAX + SMSQ_CARRIER_MAX + SMSQ_UPSTREAM_ID_MAX +       \
	 SMSQ_BODY_MAX)
/* MARK: header, id, state, set, then at most every optional field. */
#define SMSQ_LOG_MARK_MAX                                                                                              \
	(SMSQ_LOG_REC_HDR + 8 + 2 + 4 + 8 + 1 + SMSQ_CARRIER_MAX + 1 + SMSQ_UPSTREAM_ID_MAX + 1 + 4 + 8)
#define SMSQ_LOG_REC_MAX SMSQ_LOG_PUT_MAX

enum smsq_rec_type { SMSQ_REC_PUT = 1, SMSQ_REC_MARK = 2, SMSQ_REC_COPY = 3 };

struct smsq_seg_hdr {
	uint32_t version;
	uint32_t seg_no;
	uint64_t last_id; /* the store's high-water mark at creation */
};

/* A decoded record. For PUT/COPY, m.body points into the decoded bytes. */
struct smsq_rec {
	uint8_t type;
	uint32_t len;
	uint64_t id;
	struct smsq_msg m;
	struct smsq_update u;
};

/* CRC-32C (Castagnoli); crc 0 to start, or a previous result to extend.
 * With SSE4.2's instruction where the CPU has it, else the table (_sw). */
uint32_t smsq_crc32c(uint32_t crc, const void *p, size_t n);
uint32_t smsq_crc32c_sw(uint32_t crc, const void *p, size_t n);

void smsq_log_hdr_encode(const struct smsq_seg_hdr *h, uint8_t out[SMSQ_LOG_HDR_LEN]);
/* SY_AGAIN: fewer than SMSQ_LOG_HDR_LEN bytes; SY_ERR_PARSE: not a segment
 * header of a version this build reads. */
enum sy_rc smsq_log_hdr_decode(const uint8_t *p, const uint8_t *end, struct smsq_seg_hdr *out);

/* The encoded size of a PUT/COPY of m (<= SMSQ_LOG_PUT_MAX). */
size_t smsq_log_put_size(const struct smsq_msg *m);
/* Encodes m with body (m->body is ignored) as a PUT or COPY into out (room
 * for smsq_log_put_size(m)); returns the length. */
size_t smsq_log_put_encode(enum smsq_rec_type type, const struct smsq_msg *m, const uint8_t *body, uint8_t *out);
/* Encodes a mark into out (room for SMSQ_LOG_MARK_MAX); returns the length. */
size_t smsq_log_mark_encode(uint64_t id, const struct smsq_update *u, uint8_t *out);

/* Decodes the record at p. SY_AGAIN: the bytes end before the record does
 * (a torn tail when nothing follows); SY_ERR_PARSE: a bad length, checksum,
 * type or field. On SY_OK out->len bytes were used. */
enum sy_rc smsq_log_decode(const uint8_t *p, const uint8_t *end, struct smsq_rec *out);

/* Applies a mark's fields to m (state and the fields u sets). */
void smsq_log_apply(struct smsq_msg *m, const struct smsq_update *u);

#endif
