/* text.c: GSM 03.38 and UCS2 <-> UTF-8, septet packing, segment counting and
 * UDH concatenation (text_dlr.c: SMPP time strings and delivery receipt
 * text). Tables are 3GPP 23.038 §6.2.1 (default alphabet) and §6.2.1.1
 * (extension table). */
#include "core/smpp/text.h"

#include <stdio.h>

#include "core/smpp/pdu.h"

/* Septet -> Unicode (0x1B, the escape, is handled before this table). */
static const uint16_t gsm_to_ucs[128] = {
    0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8,
    0x000D, 0x00C5, 0x00E5, 0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398,
    0x039E, 0x00A0, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026,
    0x0027, 0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F, 0x0030, 0x0031, 0x0032, 0x0033,
    0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, 0x00A1,
    0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, 0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D,
    0x004E, 0x004F, 0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005A,
    0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
    0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F, 0x0070, 0x0071, 0x0072, 0x0073, 0x0074,
    0x0075, 0x0076, 0x0077, 0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* Septet after an escape -> Unicode; 0 where 03.38 defines nothing. */
static const uint16_t gsm_ext_to_ucs[128] = {
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x000C, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x005E, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x007B, 0x007D, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x005C, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x005B, 0x007E, 0x005D, 0x0000, 0x007C,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x20AC, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
    0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000,
};

/* Latin-1 code point -> septet (0x1Bxx for an escape pair, 0xFFFF for none). */
static const uint16_t latin1_to_gsm[256] = {
    0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0x000A, 0xFFFF, 0x1B0A, 0x000D,
    0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,
    0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0x0020, 0x0021, 0x0022, 0x0023, 0x0002, 0x0025, 0x0026, 0x0027, 0x0028, 0x0029,
    0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F, 0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
    0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F, 0x0000, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045,
    0x0046, 0x0047, 0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F, 0x0050, 0x0051, 0x0052, 0x0053,
    0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005A, 0x1B3C, 0x1B2F, 0x1B3E, 0x1B14, 0x0011, 0xFFFF, 0x0061,
    0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, 0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, 0x0078, 0x0079, 0x007A, 0x1B28, 0x1B40, 0x1B29,
    0x1B3D, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,
    0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,
    0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0x0040, 0xFFFF, 0x0001, 0x0024, 0x0003, 0xFFFF, 0x005F,
    0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,
    0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0x0060, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF,
    0x005B, 0x000E, 0x001C, 0x0009, 0xFFFF, 0x001F, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0x005D,
    0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0x005C, 0xFFFF, 0x000B, 0xFFFF, 0xFFFF, 0xFFFF, 0x005E, 0xFFFF, 0xFFFF, 0x001E,
    0x007F, 0xFFFF, 0xFFFF, 0xFFFF, 0x007B, 0x000F, 0x001D, 0xFFFF, 0x0004, 0x0005, 0xFFFF, 0xFFFF, 0x0007, 0xFFFF,
    0xFFFF, 0xFFFF, 0xFFFF, 0x007D, 0x0008, 0xFFFF, 0xFFFF, 0xFFFF, 0x007C, 0xFFFF, 0x000C, 0x0006, 0xFFFF, 0xFFFF,
    0x007E, 0xFFFF, 0xFFFF, 0xFFFF,
};

#define GSM_NONE 0xFFFF

/* The end of a slice; {NULL, 0} is a valid empty text, and NULL + 0 is UB. */
static const uint8_t *str_end(struct sy_str s)
{
	return s.len ? (const uint8_t *)s.p + s.len : (const uint8_t *)s.p;
}

/* Unicode -> septet code: < 0x80 one septet, 0x1Bxx an escape pair,
 * GSM_NONE when the default alphabet has no such character. */
static uint16_t gsm_code(uint32_t cp)
{
	if (cp < 256)
		return latin1_to_gsm[cp];
	switch (cp) {
	case 0x0394:
		return 0x10;
	case 0x03A6:
		return 0x12;
	case 0x0393:
		return 0x13;
	case 0x039B:
		return 0x14;
	case 0x03A9:
		return 0x15;
	case 0x03A0:
		return 0x16;
	case 0x03A8:
		return 0x17;
	case 0x03A3:
		return 0x18;
	case 0x0398:
		return 0x19;
	case 0x039E:
		return 0x1A;
	case 0x20AC:
		return 0x1B65;
	default:
		return GSM_NONE;
	}
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_next(const uint8_t **pp, const uint8_t *end, uint32_t *cp)
{
	const uint8_t *p = *pp;
	uint8_t c = *p;
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		*pp = p + 1;
		return true;
	}
	if ((c & 0xE0) == 0xC0)
		n = 1, v = c & 0x1F, min = 0x80;
	else if ((c & 0xF0) == 0xE0)
		n = 2, v = c & 0x0F, min = 0x800;
	else if ((c & 0xF8) == 0xF0)
		n = 3, v = c & 0x07, min = 0x10000;
	else
		return false;
	if ((size_t)(end - p) <= n)
		return false;
	for (size_t i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return false;
		v = v << 6 | (p[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return false;
	*cp = v;
	*pp = p + 1 + n;
	return true;
}

static size_t utf8_put(uint32_t cp, uint8_t b[4])
{
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	b[0] = (uint8_t)(0xF0 | cp >> 18);
	b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
	b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
	b[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

/* An output cursor that keeps counting past cap, so *len reports the size
 * a retry needs. */
struct out {
	uint8_t *p;
	size_t cap, n;
};

static void out_put(struct out *o, const uint8_t *b, size_t k)
{
	if (o->n + k <= o->cap)
		memcpy(o->p + o->n, b, k);
	o->n += k;
}

static enum sy_rc out_done(const struct out *o, size_t *len)
{
	*len = o->n;
	return o->n > o->cap ? SY_ERR_FULL : SY_OK;
}

/* ---- GSM 03.38 ---- */

enum sy_rc smpp_gsm_from_utf8(struct sy_str utf8, uint8_t *out, size_t cap, size_t *len, size_t *unmappable)
{
	SY_ASSERT(len != NULL && (out != NULL || cap == 0) && (utf8.p != NULL || utf8.len == 0));
	const uint8_t *p = (const uint8_t *)utf8.p, *end = str_end(utf8);
	struct out o = {out, cap, 0};
	size_t bad = 0;
	while (p < end) {
		uint32_t cp;
		if (!utf8_next(&p, end, &cp))
			return SY_ERR_PARSE;
		uint16_t g = gsm_code(cp);
		if (g == GSM_NONE) {
			g = SMPP_GSM_UNMAPPABLE;
			bad++;
		}
		uint8_t b[2] = {(uint8_t)(g >> 8), (uint8_t)g};
		if (g > 0xFF)
			out_put(&o, b, 2);
		else
			out_put(&o, b + 1, 1);
	}
	if (unmappable != NULL)
		*unmappable = bad;
	return out_done(&o, len);
}

enum sy_rc smpp_gsm_to_utf8(const uint8_t *septets, size_t n, char *out, size_t cap, size_t *len)
{
	SY_ASSERT(len != NULL && (out != NULL || cap == 0) && (septets != NULL || n == 0));
	struct out o = {(uint8_t *)out, cap, 0};
	for (size_t i = 0; i < n; i++) {
		uint8_t s = septets[i];
		if (s > 0x7F)
			return SY_ERR_PARSE;
		uint32_t cp = gsm_to_ucs[s];
		if (s == SMPP_GSM_ESC) {
			if (i + 1 == n)
				break;
			s = septets[++i];
			if (s > 0x7F)
				return SY_ERR_PARSE;
			cp = gsm_ext_to_ucs[s] ? gsm_ext_to_ucs[s] : gsm_to_ucs[s];
		}
		if (cp < 0x80) { /* most characters: one byte, no copy call */
			if (o.n < o.cap)
				o.p[o.n] = (uint8_t)cp;
			o.n++;
			continue;
		}
		uint8_t b[4];
		out_put(&o, b, utf8_put(cp, b));
	}
	return out_done(&o, len);
}

bool smpp_gsm_fits(struct sy_str utf8, size_t *septets)
{
	const uint8_t *p = (const uint8_t *)utf8.p, *end = str_end(utf8);
	size_t n = 0;
	while (p < end) {
		uint32_t cp;
		if (!utf8_next(&p, end, &cp))
			return false;
		uint16_t g = gsm_code(cp);
		if (g == GSM_NONE)
			return false;
		n += g > 0xFF ? 2 : 1;
	}
	if (septets != NULL)
		*septets = n;
	return true;
}

enum sy_rc smpp_gsm_pack(const uint8_t *septets, size_t n, unsigned fill_bits, uint8_t *out, size_t cap, size_t *len)
{
	SY_ASSERT(fill_bits < 7 && len != NULL && (septets != NULL || n == 0));
	size_t need = (fill_bits + 7 * n + 7) / 8;
	*len = need;
	if (need > cap)
		return SY_ERR_FULL;
	if (need != 0)
		memset(out, 0, need);
	for (size_t i = 0; i < n; i++) {
		size_t pos = fill_bits + 7 * i, byte = pos / 8;
		unsigned shift = pos % 8;
		uint8_t s = septets[i] & 0x7F;
		out[byte] |= (uint8_t)(s << shift);
		if (shift > 1)
			out[byte + 1] |= (uint8_t)(s >> (8 - shift));
	}
	return SY_OK;
}

enum sy_rc smpp_gsm_unpack(const uint8_t *in, size_t in_len, unsigned fill_bits, size_t n, uint8_t *out, size_t cap)
{
	SY_ASSERT(fill_bits < 7 && (in != NULL || in_len == 0));
	if (n > (in_len * 8) / 7 + 1 || (fill_bits + 7 * n + 7) / 8 > in_len)
		return SY_ERR_PARSE;
	if (n > cap)
		return SY_ERR_FULL;
	for (size_t i = 0; i < n; i++) {
		size_t pos = fill_bits + 7 * i, byte = pos / 8;
		unsigned shift = pos % 8;
		unsigned v = in[byte] >> shift;
		if (shift > 1)
			v |= (unsigned)in[byte + 1] << (8 - shift);
		out[i] = (uint8_t)(v & 0x7F);
	}
	return SY_OK;
}

/* ---- UCS2 ---- */

enum sy_rc smpp_ucs2_from_utf8(struct sy_str utf8, uint8_t *out, size_t cap, size_t *len)
{
	SY_ASSERT(len != NULL && (out != NULL || cap == 0) && (utf8.p != NULL || utf8.len == 0));
	const uint8_t *p = (const uint8_t *)utf8.p, *end = str_end(utf8);
	struct out o = {out, cap, 0};
	while (p < end) {
		uint32_t cp;
		if (!utf8_next(&p, end, &cp))
			return SY_ERR_PARSE;
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000, hi = 0xD800 | v >> 10, lo = 0xDC00 | (v & 0x3FF);
			uint8_t b[4] = {(uint8_t)(hi >> 8), (uint8_t)hi, (uint8_t)(lo >> 8), (uint8_t)lo};
			out_put(&o, b, 4);
		} else {
			uint8_t b[2] = {(uint8_t)(cp >> 8), (uint8_t)cp};
			out_put(&o, b, 2);
		}
	}
	return out_done(&o, len);
}

enum sy_rc smpp_ucs2_to_utf8(const uint8_t *in, size_t n, char *out, size_t cap, size_t *len)
{
	SY_ASSERT(len != NULL && (out != NULL || cap == 0) && (in != NULL || n == 0));
	if (n % 2 != 0)
		return SY_ERR_PARSE;
	struct out o = {(uint8_t *)out, cap, 0};
	for (size_t i = 0; i < n; i += 2) {
		uint32_t u = (uint32_t)in[i] << 8 | in[i + 1];
		if (u >= 0xD800 && u <= 0xDBFF && i + 3 < n) {
			uint32_t lo = (uint32_t)in[i + 2] << 8 | in[i + 3];
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				i += 2;
			}
		}
		if (u >= 0xD800 && u <= 0xDFFF)
			u = 0xFFFD;
		uint8_t b[4];
		out_put(&o, b, utf8_put(u, b));
	}
	return out_done(&o, len);
}

/* ---- segments ---- */

size_t smpp_segments_for_units(enum smpp_text_enc enc, size_t units)
{
	size_t single = enc == SMPP_ENC_GSM7 ? SMPP_GSM_SEG_SINGLE : SMPP_UCS2_SEG_SINGLE;
	size_t multi = enc == SMPP_ENC_GSM7 ? SMPP_GSM_SEG_MULTI : SMPP_UCS2_SEG_MULTI;
	return units <= single ? 1 : (units + multi - 1) / multi;
}

/* Width of one character in units of enc: 1, or 2 for an escape pair
 * (GSM7) or a surrogate pair (UCS2). */
static size_t char_units(enum smpp_text_enc enc, uint32_t cp)
{
	if (enc == SMPP_ENC_GSM7)
		return gsm_code(cp) > 0xFF ? 2 : 1;
	return cp >= 0x10000 ? 2 : 1;
}

enum sy_rc smpp_text_segments(struct sy_str utf8, struct smpp_seg_info *out)
{
	SY_ASSERT(out != NULL && (utf8.p != NULL || utf8.len == 0));
	const uint8_t *p = (const uint8_t *)utf8.p, *end = str_end(utf8);
	size_t septets;
	out->enc = smpp_gsm_fits(utf8, &septets) ? SMPP_ENC_GSM7 : SMPP_ENC_UCS2;
	size_t multi = out->enc == SMPP_ENC_GSM7 ? SMPP_GSM_SEG_MULTI : SMPP_UCS2_SEG_MULTI;
	size_t single = out->enc == SMPP_ENC_GSM7 ? SMPP_GSM_SEG_SINGLE : SMPP_UCS2_SEG_SINGLE;
	size_t units = 0, parts = 1, cur = 0;
	while (p < end) {
		uint32_t cp;
		if (!utf8_next(&p, end, &cp))
			return SY_ERR_PARSE;
		size_t w = char_units(out->enc, cp);
		units += w;
		/* A pair that would straddle a part boundary starts the next part. */
		if (cur + w > multi) {
			parts++;
			cur = 0;
		}
		cur += w;
	}
	out->units = units;
	out->segments = units <= single ? 1 : parts;
	return SY_OK;
}

/* ---- UDH concatenation ---- */

static enum sy_rc udh_concat_ie(uint8_t iei, const uint8_t *v, uint8_t iel, struct smpp_concat *c)
{
	if (iei == 0x00) {
		if (iel != 3)
			return SY_ERR_PARSE;
		*c = (struct smpp_concat){v[0], v[1], v[2], false};
	} else {
		if (iel != 4)
			return SY_ERR_PARSE;
		*c = (struct smpp_concat){(uint16_t)(v[0] << 8 | v[1]), v[2], v[3], true};
	}
	if (c->total == 0 || c->seq == 0 || c->seq > c->total)
		return SY_ERR_PARSE;
	return SY_OK;
}

enum sy_rc smpp_udh_parse(const uint8_t *sm, size_t len, size_t *udh_len, struct smpp_concat *c, bool *has_concat)
{
	SY_ASSERT(udh_len != NULL && c != NULL && has_concat != NULL && (sm != NULL || len == 0));
	*has_concat = false;
	if (len < 1 || (size_t)sm[0] + 1 > len)
		return SY_ERR_PARSE;
	*udh_len = (size_t)sm[0] + 1;
	const uint8_t *p = sm + 1, *end = sm + *udh_len;
	while (p < end) {
		if (end - p < 2 || p[1] > end - p - 2)
			return SY_ERR_PARSE;
		uint8_t iei = p[0], iel = p[1];
		if (iei == 0x00 || iei == 0x08) {
			if (udh_concat_ie(iei, p + 2, iel, c) != SY_OK)
				return SY_ERR_PARSE;
			*has_concat = true;
		}
		p += 2 + iel;
	}
	return SY_OK;
}

enum sy_rc smpp_udh_build(const struct smpp_concat *c, uint8_t *out, size_t cap, size_t *len)
{
	SY_ASSERT(c != NULL && len != NULL);
	if (c->total == 0 || c->seq == 0 || c->seq > c->total)
		return SY_ERR_INVAL;
	uint8_t b[7];
	size_t n;
	if (c->ref16) {
		uint8_t v[7] = {6, 0x08, 4, (uint8_t)(c->ref >> 8), (uint8_t)c->ref, c->total, c->seq};
		memcpy(b, v, n = 7);
	} else {
		if (c->ref > 0xFF)
			return SY_ERR_INVAL;
		uint8_t v[6] = {5, 0x00, 3, (uint8_t)c->ref, c->total, c->seq};
		memcpy(b, v, n = 6);
	}
	*len = n;
	if (n > cap)
		return SY_ERR_FULL;
	memcpy(out, b, n);
	return SY_OK;
}
