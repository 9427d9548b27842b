/* text.h: SMS text handling for SMPP: GSM 03.38 default alphabet (with the
 * 0x1B extension table) and UCS2 <-> UTF-8, septet packing, segment counting,
 * UDH concatenation headers, SMPP time strings, and the delivery receipt text
 * of SMPP 3.4 Appendix B. Pure functions; no allocation. */
#ifndef SY_SMPP_TEXT_H
#define SY_SMPP_TEXT_H

#include "core/base.h"

/* ---- GSM 03.38 ---- */

#define SMPP_GSM_ESC	    0x1B
#define SMPP_GSM_UNMAPPABLE '?' /* what an unrepresentable character becomes */

/* UTF-8 -> GSM default alphabet, one septet per octet (the form SMPP carries
 * with data_coding 0); extension characters become two septets, 0x1B xx.
 * Characters with no GSM form are replaced by '?' and counted in
 * *unmappable (may be NULL): check it, or smpp_gsm_fits(), to pick UCS2
 * instead. SY_ERR_PARSE on invalid UTF-8; SY_ERR_FULL when cap is too small
 * (*len is then the size needed). */
enum sy_rc smpp_gsm_from_utf8(struct sy_str utf8, uint8_t *out, size_t cap, size_t *len, size_t *unmappable);

/* GSM septets (one per octet) -> UTF-8. Octets > 0x7F give SY_ERR_PARSE. An
 * escape followed by a septet with no extension meaning decodes as that
 * septet's default character (03.38 says so); a trailing lone escape is
 * dropped. SY_ERR_FULL when cap is too small. */
enum sy_rc smpp_gsm_to_utf8(const uint8_t *septets, size_t n, char *out, size_t cap, size_t *len);

/* True when every character of utf8 (valid UTF-8) has a GSM form; *septets
 * (may be NULL) is the count, extension characters counting 2. */
bool smpp_gsm_fits(struct sy_str utf8, size_t *septets);

/* Septet packing (3GPP 23.038 §6.1.2.1): n septets into ceil((fill + 7n)/8)
 * octets, after fill_bits zero bits (0..6) that align the text after a UDH.
 * SY_ERR_FULL when cap is too small. */
enum sy_rc smpp_gsm_pack(const uint8_t *septets, size_t n, unsigned fill_bits, uint8_t *out, size_t cap, size_t *len);
/* Unpacks n septets that start fill_bits into in; SY_ERR_PARSE when in is
 * too short for them, SY_ERR_FULL when cap < n. */
enum sy_rc smpp_gsm_unpack(const uint8_t *in, size_t in_len, unsigned fill_bits, size_t n, uint8_t *out, size_t cap);
/* Fill bits after a UDH of udh_len octets (UDHL byte included). */
static inline unsigned smpp_gsm_fill_bits(size_t udh_len)
{
	return (unsigned)((7 - (udh_len * 8) % 7) % 7);
}

/* ---- UCS2 (UTF-16BE) ---- */

/* UTF-8 -> UTF-16BE, characters above U+FFFF as surrogate pairs.
 * SY_ERR_PARSE on invalid UTF-8, SY_ERR_FULL when cap is too small. */
enum sy_rc smpp_ucs2_from_utf8(struct sy_str utf8, uint8_t *out, size_t cap, size_t *len);
/* UTF-16BE -> UTF-8. An odd length is SY_ERR_PARSE; an unpaired surrogate
 * becomes U+FFFD (segments cut by other SMSCs may split a pair). */
enum sy_rc smpp_ucs2_to_utf8(const uint8_t *in, size_t n, char *out, size_t cap, size_t *len);

/* ---- segments ---- */

enum smpp_text_enc { SMPP_ENC_GSM7 = 0, SMPP_ENC_UCS2 = 1 };

enum {
	SMPP_GSM_SEG_SINGLE = 160, /* septets in one message */
	SMPP_GSM_SEG_MULTI = 153,  /* septets per part after a 6-octet concat UDH */
	SMPP_UCS2_SEG_SINGLE = 70, /* UTF-16 units */
	SMPP_UCS2_SEG_MULTI = 67,
};

struct smpp_seg_info {
	enum smpp_text_enc enc; /* GSM7 when every character fits, else UCS2 */
	size_t units;		/* septets (escapes included) or UTF-16 units */
	size_t segments;	/* >= 1; an empty text is one segment */
};

/* How many SMS parts utf8 needs: GSM7 160 / 153 septets, UCS2 70 / 67 units.
 * An escape pair or a surrogate pair is never split across parts, so an
 * extension character at a boundary moves to the next part.
 * SY_ERR_PARSE on invalid UTF-8. */
enum sy_rc smpp_text_segments(struct sy_str utf8, struct smpp_seg_info *out);
/* The same count from a unit total alone (pairs are not looked at): for
 * charging an already encoded short_message or message_payload. */
size_t smpp_segments_for_units(enum smpp_text_enc enc, size_t units);

/* ---- UDH concatenation ---- */

struct smpp_concat {
	uint16_t ref;
	uint8_t total; /* >= 1 */
	uint8_t seq;   /* 1..total */
	bool ref16;    /* IEI 0x08 (16-bit ref) rather than 0x00 */
};

/* Parses the UDH at the start of sm (esm_class has SMPP_ESM_UDHI):
 * *udh_len = 1 + UDHL (the octets before the text). *has_concat says
 * whether a concatenation IE (0x00 or 0x08) was found and filled *c.
 * SY_ERR_PARSE when UDHL or an IE runs past sm, or a concat IE has a wrong
 * length, total 0, seq 0 or seq > total. */
enum sy_rc smpp_udh_parse(const uint8_t *sm, size_t len, size_t *udh_len, struct smpp_concat *c, bool *has_concat);
/* Writes a UDH holding only the concat IE: 6 octets (05 00 03 ref total seq)
 * or 7 with ref16 (06 08 04 ref_hi ref_lo total seq). */
enum sy_rc smpp_udh_build(const struct smpp_concat *c, uint8_t *out, size_t cap, size_t *len);

/* ---- SMPP time strings ---- */

/* Epoch ns -> "YYMMDDhhmm" in UTC (10 chars + NUL in out[11]); years
 * 2000..2099. */
void smpp_time_fmt10(uint64_t epoch_ns, char out[11]);
/* "YYMMDDhhmm" or "YYMMDDhhmmss" (UTC, 20YY) -> epoch ns; SY_ERR_PARSE on
 * bad digits or out-of-range fields. */
enum sy_rc smpp_time_parse10(struct sy_str s, uint64_t *epoch_ns);
/* schedule_delivery_time / validity_period (SMPP 3.4 §7.1.1):
 * absolute "YYMMDDhhmmsstnn+" / "...-" (nn quarter hours from UTC) or
 * relative "YYMMDDhhmmss000R" (added to now_epoch_ns; years as 365 days,
 * months as 30). Empty -> SY_DECLINED (none given: use the default). */
enum sy_rc smpp_time_parse(struct sy_str s, uint64_t now_epoch_ns, uint64_t *epoch_ns);

/* ---- delivery receipt text (SMPP 3.4 Appendix B) ---- */

/* "DELIVRD" for SMPP_STATE_DELIVERED etc.; "UNKNOWN" for other values.
 * ENROUTE -> "ENROUTE". */
const char *smpp_dlr_stat_name(uint8_t message_state);
/* The inverse, case-insensitive; false when s is no stat name. */
bool smpp_dlr_stat_parse(struct sy_str s, uint8_t *message_state);

enum {
	SMPP_DLR_TEXT_CHARS = 20, /* text: carries the first 20 characters */
	SMPP_DLR_LEN_MAX = 256,	  /* a buffer this size always holds a receipt */
};

struct smpp_dlr {
	struct sy_str id;   /* the message id (<= 64 chars) */
	uint32_t sub;	    /* 0..999 */
	uint32_t dlvrd;	    /* 0..999 */
	uint64_t submit_ns; /* epoch ns; minute resolution on the wire */
	uint64_t done_ns;
	uint8_t state;	    /* enum smpp_message_state */
	uint16_t err;	    /* 0..999 */
	struct sy_str text; /* build: cut to 20 UTF-8 characters; parse: the rest of the line */
};

/* "id:IIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm
 * stat:DELIVRD err:000 text:...". SY_ERR_INVAL when id > 64 chars or a count
 * > 999; SY_ERR_FULL when cap is too small. */
enum sy_rc smpp_dlr_build(const struct smpp_dlr *d, char *out, size_t cap, size_t *len);
/* Parses a receipt (keys case-insensitive, "text:" optional and running to
 * the end, dates of 10 or 12 digits, err of 1-3 digits, decimal or else hex,
 * unknown keys skipped, an unknown stat word kept as SMPP_STATE_UNKNOWN).
 * id and stat are required: SY_ERR_PARSE without them or on a malformed
 * number or date. Slices point into s; absent fields are 0. */
enum sy_rc smpp_dlr_parse(struct sy_str s, struct smpp_dlr *out);

#endif
