/* test_smpp_text.c: GSM 03.38 and UCS2 conversion, septet packing against
 * the spec's vectors, segment counting at the boundaries, UDH concatenation,
 * SMPP time strings and the delivery receipt text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/smpp/pdu.h"
#include "core/smpp/text.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	for (; h[0] && h[1]; h += 2) {
		unsigned v;
		sscanf(h, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void test_gsm_from_utf8(void **state)
{
	static const struct {
		const char *utf8;
		const char *septets_hex;
		size_t unmappable;
	} cases[] = {
	    {"", "", 0},
	    {"Hello", "48656c6c6f", 0},
	    {"@£$¥èéùìòÇ\nØø\rÅå", "000102030405060708090a0b0c0d0e0f", 0},
	    {"ΔΦΓΛΩΠΨΣΘΞ", "1012131415161718191a", 0},
	    {"ÆæßÉ ¤¡ÄÖÑÜ§¿äöñüà", "1c1d1e1f2024405b5c5d5e5f607b7c7d7e7f", 0},
	    {"€[]{}\\^~|", "1b651b3c1b3e1b281b291b2f1b141b3d1b40", 0},
	    {"\f", "1b0a", 0},
	    {"a中b", "613f62", 1},
	    {"😀`", "3f3f", 2}, /* backtick is not in the default alphabet either */
	    {"ç", "3f", 1},    /* only capital Ç is */
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint8_t want[64], out[64];
		size_t wn = unhex(cases[i].septets_hex, want), len = 99, bad = 99;
		assert_int_equal(smpp_gsm_from_utf8(sy_str_from(cases[i].utf8), out, sizeof(out), &len, &bad), SY_OK);
		if (len != wn || memcmp(out, want, wn) != 0 || bad != cases[i].unmappable)
			fail_msg("case %zu (%s): len %zu bad %zu", i, cases[i].utf8, len, bad);
		size_t septets = 0;
		assert_int_equal(smpp_gsm_fits(sy_str_from(cases[i].utf8), &septets), cases[i].unmappable == 0);
		if (cases[i].unmappable == 0) {
			assert_int_equal(septets, wn);
			/* And back again. */
			char back[128];
			assert_int_equal(smpp_gsm_to_utf8(out, len, back, sizeof(back), &len), SY_OK);
			assert_int_equal(len, strlen(cases[i].utf8));
			assert_memory_equal(back, cases[i].utf8, len);
		}
	}
	/* Θ and Ξ in the order the table has them. */
	uint8_t o[4];
	size_t len;
	assert_int_equal(smpp_gsm_from_utf8(sy_str_from("ΘΞ"), o, sizeof(o), &len, NULL), SY_OK);
	assert_int_equal(o[0], 0x19);
	assert_int_equal(o[1], 0x1A);
	assert_int_equal(smpp_gsm_from_utf8(sy_str_from("€€"), o, 3, &len, NULL), SY_ERR_FULL);
	assert_int_equal(len, 4);
}

static void test_gsm_every_septet_round_trips(void **state)
{
	for (unsigned s = 0; s < 128; s++) {
		if (s == SMPP_GSM_ESC)
			continue;
		uint8_t in = (uint8_t)s, back[4];
		char utf8[8];
		size_t len, blen;
		assert_int_equal(smpp_gsm_to_utf8(&in, 1, utf8, sizeof(utf8), &len), SY_OK);
		assert_int_equal(smpp_gsm_from_utf8((struct sy_str){utf8, len}, back, sizeof(back), &blen, NULL),
				 SY_OK);
		assert_int_equal(blen, 1);
		assert_int_equal(back[0], s);
	}
}

static void test_gsm_to_utf8_edges(void **state)
{
	static const struct {
		const char *septets_hex;
		enum sy_rc rc;
		const char *utf8;
	} cases[] = {
	    {"1b65", SY_OK, "€"},
	    {"1b41", SY_OK, "A"}, /* no extension meaning: the default character */
	    {"411b", SY_OK, "A"}, /* a trailing lone escape is dropped */
	    {"1b1b41", SY_OK,
	     "\xC2\xA0"
	     "A"}, /* escape escape: reserved, shown as a (no-break) space */
	    {"80", SY_ERR_PARSE, NULL},
	    {"1bff", SY_ERR_PARSE, NULL},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint8_t in[8];
		char out[16];
		size_t n = unhex(cases[i].septets_hex, in), len;
		enum sy_rc rc = smpp_gsm_to_utf8(in, n, out, sizeof(out), &len);
		assert_int_equal(rc, cases[i].rc);
		if (rc == SY_OK) {
			assert_int_equal(len, strlen(cases[i].utf8));
			assert_memory_equal(out, cases[i].utf8, len);
		}
	}
	/* A short buffer: the length is still counted, whole characters that
	 * fit are written, nothing past cap. */
	uint8_t in[12];
	size_t n = unhex("411b65425b42131b2f", in), full_len;
	char full[32];
	assert_int_equal(smpp_gsm_to_utf8(in, n, full, sizeof(full), &full_len), SY_OK);
	assert_int_equal(full_len, 11); /* A € B Ä B Γ \ */
	for (size_t cap = 0; cap <= full_len + 1; cap++) {
		char out[32];
		size_t len = 0;
		memset(out, 'Z', sizeof(out));
		enum sy_rc rc = smpp_gsm_to_utf8(in, n, cap > 0 ? out : NULL, cap, &len);
		assert_int_equal(len, full_len);
		assert_int_equal(rc, cap >= full_len ? SY_OK : SY_ERR_FULL);
		/* the longest whole-character prefix of at most cap bytes */
		size_t whole = 0;
		for (size_t k = 0; k <= full_len && k <= cap; k++)
			if (k == full_len || ((uint8_t)full[k] & 0xC0) != 0x80)
				whole = k;
		assert_memory_equal(out, full, whole);
		for (size_t k = whole; k < sizeof(out); k++)
			assert_int_equal(out[k], 'Z');
	}
}

static void test_invalid_utf8(void **state)
{
	static const char *bad[] = {
	    "\xC0\x80",		/* overlong NUL */
	    "\xE0\x80\xAF",	/* overlong '/' */
	    "\xED\xA0\x80",	/* a surrogate */
	    "\xE2\x82",		/* truncated € */
	    "\xF4\x90\x80\x80", /* above U+10FFFF */
	    "\x80",		/* lone continuation */
	    "a\xFF",
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++) {
		uint8_t out[16];
		size_t len;
		struct sy_str s = sy_str_from(bad[i]);
		struct smpp_seg_info seg;
		assert_int_equal(smpp_gsm_from_utf8(s, out, sizeof(out), &len, NULL), SY_ERR_PARSE);
		assert_int_equal(smpp_ucs2_from_utf8(s, out, sizeof(out), &len), SY_ERR_PARSE);
		assert_int_equal(smpp_text_segments(s, &seg), SY_ERR_PARSE);
		assert_false(smpp_gsm_fits(s, NULL));
	}
}

static void test_pack_vectors(void **state)
{
	/* 3GPP 23.038 §6.1.2.1.1's example, then the same text after 0..6 fill
	 * bits (checked against an independent bit-string packer). */
	static const struct {
		const char *text;
		unsigned fill;
		const char *packed_hex;
	} cases[] = {
	    {"hellohello", 0, "e8329bfd4697d9ec37"},   {"hellohello", 1, "d06536fb8d2eb3d96f"},
	    {"hellohello", 2, "a0cb6cf61b5d66b3df"},   {"hellohello", 3, "4097d9ec37bacc66bf01"},
	    {"hellohello", 4, "802eb3d96f7499cd7e03"}, {"hellohello", 5, "005d66b3dfe8329bfd06"},
	    {"hellohello", 6, "00bacc66bfd16536fb0d"}, {"ABCDEFG", 0, "41e19058341e01"},
	    {"ABCDEFGH", 0, "41e19058341e91"},	       {"", 0, ""},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint8_t want[32], out[32], back[32];
		size_t wn = unhex(cases[i].packed_hex, want), len, n = strlen(cases[i].text);
		assert_int_equal(
		    smpp_gsm_pack((const uint8_t *)cases[i].text, n, cases[i].fill, out, sizeof(out), &len), SY_OK);
		assert_int_equal(len, wn);
		assert_memory_equal(out, want, wn);
		assert_int_equal(smpp_gsm_unpack(out, len, cases[i].fill, n, back, sizeof(back)), SY_OK);
		assert_memory_equal(back, cases[i].text, n);
	}
	uint8_t out[16];
	size_t len;
	assert_int_equal(smpp_gsm_pack((const uint8_t *)"hellohello", 10, 0, out, 8, &len), SY_ERR_FULL);
	assert_int_equal(len, 9);
	assert_int_equal(smpp_gsm_fill_bits(6), 1); /* 8-bit-ref concat UDH */
	assert_int_equal(smpp_gsm_fill_bits(7), 0); /* 16-bit-ref concat UDH */
	assert_int_equal(smpp_gsm_fill_bits(0), 0);
}

static void test_pack_unpack_all_lengths(void **state)
{
	uint8_t sept[200], packed[200], back[200];
	for (size_t i = 0; i < sizeof(sept); i++)
		sept[i] = (uint8_t)((i * 37 + 11) & 0x7F);
	for (unsigned fill = 0; fill < 7; fill++) {
		for (size_t n = 0; n <= 160; n++) {
			size_t len;
			assert_int_equal(smpp_gsm_pack(sept, n, fill, packed, sizeof(packed), &len), SY_OK);
			assert_int_equal(len, (fill + 7 * n + 7) / 8);
			/* Exact-size copy so an over-read trips ASan. */
			uint8_t *exact = malloc(len ? len : 1);
			memcpy(exact, packed, len);
			assert_int_equal(smpp_gsm_unpack(exact, len, fill, n, back, sizeof(back)), SY_OK);
			assert_memory_equal(back, sept, n);
			if (len > 0)
				assert_int_equal(smpp_gsm_unpack(exact, len - 1, fill, n, back, sizeof(back)),
						 SY_ERR_PARSE);
			free(exact);
		}
	}
	assert_int_equal(smpp_gsm_unpack(packed, 10, 0, (size_t)-1 / 4, back, sizeof(back)), SY_ERR_PARSE);
	assert_int_equal(smpp_gsm_unpack(packed, 10, 0, 11, back, 5), SY_ERR_FULL);
}

static void test_ucs2(void **state)
{
	static const struct {
		const char *utf8;
		const char *ucs2_hex;
	} cases[] = {
	    {"", ""},
	    {"A", "0041"},
	    {"A€😀", "004120acd83dde00"},
	    {"Привет", "041f04400438043204350442"},
	    {"𝄞x", "d834dd1e0078"},
	    {"\xEF\xBF\xBF", "ffff"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint8_t want[64], out[64];
		char back[64];
		size_t wn = unhex(cases[i].ucs2_hex, want), len, blen;
		assert_int_equal(smpp_ucs2_from_utf8(sy_str_from(cases[i].utf8), out, sizeof(out), &len), SY_OK);
		assert_int_equal(len, wn);
		assert_memory_equal(out, want, wn);
		assert_int_equal(smpp_ucs2_to_utf8(out, len, back, sizeof(back), &blen), SY_OK);
		assert_int_equal(blen, strlen(cases[i].utf8));
		assert_memory_equal(back, cases[i].utf8, blen);
	}
	static const struct {
		const char *ucs2_hex;
		enum sy_rc rc;
		const char *utf8;
	} dec[] = {
	    {"d83d", SY_OK, "\xEF\xBF\xBD"}, /* lone high surrogate */
	    {"de00", SY_OK, "\xEF\xBF\xBD"}, /* lone low surrogate */
	    {"d83d0041", SY_OK,
	     "\xEF\xBF\xBD"
	     "A"},			 /* high then not-low */
	    {"004", SY_ERR_PARSE, NULL}, /* hex "004" -> one octet: odd */
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(dec); i++) {
		uint8_t in[8];
		char out[16];
		size_t n = unhex(dec[i].ucs2_hex, in), len;
		assert_int_equal(smpp_ucs2_to_utf8(in, n, out, sizeof(out), &len), dec[i].rc);
		if (dec[i].rc == SY_OK) {
			assert_int_equal(len, strlen(dec[i].utf8));
			assert_memory_equal(out, dec[i].utf8, len);
		}
	}
	uint8_t o[4];
	size_t len;
	assert_int_equal(smpp_ucs2_from_utf8(sy_str_from("A😀"), o, 4, &len), SY_ERR_FULL);
	assert_int_equal(len, 6);
}

static char *rep(char *p, const char *s, size_t n)
{
	size_t l = strlen(s);
	for (size_t i = 0; i < n; i++, p += l)
		memcpy(p, s, l);
	*p = '\0';
	return p;
}

static void test_segments(void **state)
{
	static const struct {
		const char *a;
		size_t na;
		const char *b;
		size_t nb;
		const char *c;
		size_t nc;
		enum smpp_text_enc enc;
		size_t units, segments;
	} cases[] = {
	    {"", 0, "", 0, "", 0, SMPP_ENC_GSM7, 0, 1},
	    {"a", 160, "", 0, "", 0, SMPP_ENC_GSM7, 160, 1},
	    {"a", 161, "", 0, "", 0, SMPP_ENC_GSM7, 161, 2},
	    {"a", 306, "", 0, "", 0, SMPP_ENC_GSM7, 306, 2},
	    {"a", 307, "", 0, "", 0, SMPP_ENC_GSM7, 307, 3},
	    {"a", 158, "€", 1, "", 0, SMPP_ENC_GSM7, 160, 1}, /* extension counts 2 */
	    {"a", 159, "€", 1, "", 0, SMPP_ENC_GSM7, 161, 2},
	    /* An escape pair at septet 153/154 moves whole to part 2, so 306 septets need 3 parts. */
	    {"a", 152, "€", 1, "a", 152, SMPP_ENC_GSM7, 306, 3},
	    {"a", 151, "€", 1, "a", 153, SMPP_ENC_GSM7, 306, 2},
	    {"ж", 70, "", 0, "", 0, SMPP_ENC_UCS2, 70, 1},
	    {"ж", 71, "", 0, "", 0, SMPP_ENC_UCS2, 71, 2},
	    {"ж", 134, "", 0, "", 0, SMPP_ENC_UCS2, 134, 2},
	    {"ж", 135, "", 0, "", 0, SMPP_ENC_UCS2, 135, 3},
	    {"a", 159, "ж", 1, "", 0, SMPP_ENC_UCS2, 160, 3}, /* one non-GSM char makes it all UCS2 */
	    {"😀", 35, "", 0, "", 0, SMPP_ENC_UCS2, 70, 1},
	    {"ж", 66, "😀", 1, "ж", 66, SMPP_ENC_UCS2, 134, 3}, /* surrogate pair at unit 67/68 */
	    {"ж", 65, "😀", 1, "ж", 67, SMPP_ENC_UCS2, 134, 2},
	};
	static char text[4096];
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		char *p = rep(text, cases[i].a, cases[i].na);
		p = rep(p, cases[i].b, cases[i].nb);
		rep(p, cases[i].c, cases[i].nc);
		struct smpp_seg_info seg;
		assert_int_equal(smpp_text_segments(sy_str_from(text), &seg), SY_OK);
		if (seg.enc != cases[i].enc || seg.units != cases[i].units || seg.segments != cases[i].segments)
			fail_msg("case %zu: enc %d units %zu segments %zu", i, seg.enc, seg.units, seg.segments);
	}
	static const struct {
		enum smpp_text_enc enc;
		size_t units, want;
	} by_units[] = {
	    {SMPP_ENC_GSM7, 0, 1},   {SMPP_ENC_GSM7, 160, 1}, {SMPP_ENC_GSM7, 161, 2},
	    {SMPP_ENC_GSM7, 459, 3}, {SMPP_ENC_GSM7, 460, 4}, {SMPP_ENC_UCS2, 70, 1},
	    {SMPP_ENC_UCS2, 71, 2},  {SMPP_ENC_UCS2, 201, 3}, {SMPP_ENC_UCS2, 202, 4},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(by_units); i++)
		assert_int_equal(smpp_segments_for_units(by_units[i].enc, by_units[i].units), by_units[i].want);
}

static void test_udh(void **state)
{
	static const struct {
		const char *hex;
		enum sy_rc rc;
		size_t udh_len;
		bool has;
		struct smpp_concat c;
	} cases[] = {
	    {"0500032a0201", SY_OK, 6, true, {0x2a, 2, 1, false}},
	    {"060804beef0303"
	     "41",
	     SY_OK,
	     7,
	     true,
	     {0xbeef, 3, 3, true}},
	    {"0b0504158a0000"
	     "0003010201",
	     SY_OK,
	     12,
	     true,
	     {1, 2, 1, false}},			      /* port IE then concat */
	    {"0605040b8423f0", SY_OK, 7, false, {0}}, /* WAP push ports only */
	    {"00", SY_OK, 1, false, {0}},
	    {"", SY_ERR_PARSE, 0, false, {0}},
	    {"0600032a0201", SY_ERR_PARSE, 0, false, {0}}, /* UDHL beyond the message */
	    {"0500042a0201", SY_ERR_PARSE, 0, false, {0}}, /* IE length runs past the UDH */
	    {"050003", SY_ERR_PARSE, 0, false, {0}},
	    {"0400022a02", SY_ERR_PARSE, 0, false, {0}},   /* concat IE of 2 octets */
	    {"0500032a0200", SY_ERR_PARSE, 0, false, {0}}, /* seq 0 */
	    {"0500032a0203", SY_ERR_PARSE, 0, false, {0}}, /* seq > total */
	    {"0500032a0000", SY_ERR_PARSE, 0, false, {0}}, /* total 0 */
	    {"01ff", SY_ERR_PARSE, 0, false, {0}},	   /* IE header cut */
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint8_t b[32];
		size_t n = unhex(cases[i].hex, b), udh_len = 0;
		uint8_t *exact = malloc(n ? n : 1);
		memcpy(exact, b, n);
		struct smpp_concat c = {0};
		bool has = true;
		enum sy_rc rc = smpp_udh_parse(exact, n, &udh_len, &c, &has);
		if (rc != cases[i].rc)
			fail_msg("case %zu: %s", i, sy_rc_str(rc));
		if (rc == SY_OK) {
			assert_int_equal(udh_len, cases[i].udh_len);
			assert_int_equal(has, cases[i].has);
			if (has) {
				assert_int_equal(c.ref, cases[i].c.ref);
				assert_int_equal(c.total, cases[i].c.total);
				assert_int_equal(c.seq, cases[i].c.seq);
				assert_int_equal(c.ref16, cases[i].c.ref16);
			}
		}
		free(exact);
	}
	uint8_t out[8];
	size_t len;
	assert_int_equal(smpp_udh_build(&(struct smpp_concat){0x2a, 2, 1, false}, out, sizeof(out), &len), SY_OK);
	assert_int_equal(len, 6);
	assert_memory_equal(out, "\x05\x00\x03\x2a\x02\x01", 6);
	assert_int_equal(smpp_udh_build(&(struct smpp_concat){0xbeef, 3, 3, true}, out, sizeof(out), &len), SY_OK);
	assert_int_equal(len, 7);
	assert_memory_equal(out, "\x06\x08\x04\xbe\xef\x03\x03", 7);
	assert_int_equal(smpp_udh_build(&(struct smpp_concat){0x100, 2, 1, false}, out, sizeof(out), &len),
			 SY_ERR_INVAL);
	assert_int_equal(smpp_udh_build(&(struct smpp_concat){1, 2, 3, false}, out, sizeof(out), &len), SY_ERR_INVAL);
	assert_int_equal(smpp_udh_build(&(struct smpp_concat){1, 2, 1, true}, out, 6, &len), SY_ERR_FULL);
}

static void test_time(void **state)
{
	static const struct {
		uint64_t epoch_s;
		const char *s10;
	} fmt[] = {
	    {0, "7001010000"},	       {1700000000, "2311142213"}, {951782400, "0002290000"},
	    {951868799, "0002292359"}, {4102444799, "9912312359"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(fmt); i++) {
		char out[11];
		smpp_time_fmt10(fmt[i].epoch_s * SY_NS_PER_S + 999999999, out);
		assert_string_equal(out, fmt[i].s10);
		uint64_t back;
		if (fmt[i].epoch_s >= 946684800) { /* the parser reads 20YY */
			assert_int_equal(smpp_time_parse10(sy_str_from(fmt[i].s10), &back), SY_OK);
			assert_int_equal(back, fmt[i].epoch_s / 60 * 60 * SY_NS_PER_S);
		}
	}
	static const char *bad10[] = {"0002300000", "2313010000", "2300000000",	  "2311142413",
				      "231114226",  "2311142260", "23111422130x", "2302290000"};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad10); i++) {
		uint64_t t;
		assert_int_equal(smpp_time_parse10(sy_str_from(bad10[i]), &t), SY_ERR_PARSE);
	}
	uint64_t t;
	assert_int_equal(smpp_time_parse10(sy_str_from("231114221320"), &t), SY_OK);
	assert_int_equal(t, 1700000000ull * SY_NS_PER_S);

	const uint64_t now = 1700000000ull * SY_NS_PER_S;
	static const struct {
		const char *s;
		enum sy_rc rc;
		int64_t delta_ms; /* from `now` */
	} abs[] = {
	    {"231114221320000+", SY_OK, 0},
	    {"231114231320004+", SY_OK, 0},   /* one hour ahead of UTC */
	    {"231114211320004-", SY_OK, 0},   /* one hour behind */
	    {"231114221320500+", SY_OK, 500}, /* tenths */
	    {"000001000000000R", SY_OK, 86400000},
	    {"000000013000000R", SY_OK, 5400000},
	    {"", SY_DECLINED, 0},
	    {"231114221320000", SY_ERR_PARSE, 0},
	    {"231114221320049+", SY_ERR_PARSE, 0},
	    {"231114221320000X", SY_ERR_PARSE, 0},
	    {"2311142213200x0+", SY_ERR_PARSE, 0},
	    {"0000010000000a0R", SY_OK, 86400000}, /* relative ignores t and nn */
	    {"00000100000x000R", SY_ERR_PARSE, 0},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(abs); i++) {
		uint64_t out = 0;
		enum sy_rc rc = smpp_time_parse(sy_str_from(abs[i].s), now, &out);
		if (rc != abs[i].rc)
			fail_msg("case %zu (%s): %s", i, abs[i].s, sy_rc_str(rc));
		if (rc == SY_OK)
			assert_int_equal(out, now + (uint64_t)abs[i].delta_ms * SY_NS_PER_MS);
	}
}

static void test_dlr_build(void **state)
{
	struct smpp_dlr d = {
	    .id = SY_STR("0a1b2c3d"),
	    .sub = 1,
	    .dlvrd = 1,
	    .submit_ns = 1700000000ull * SY_NS_PER_S,
	    .done_ns = 1700000125ull * SY_NS_PER_S,
	    .state = SMPP_STATE_DELIVERED,
	    .err = 0,
	    .text = SY_STR("Hello world, this is a long text"),
	};
	char out[SMPP_DLR_LEN_MAX];
	size_t len;
	static const char want[] = "id:0a1b2c3d sub:001 dlvrd:001 submit date:2311142213 done date:2311142215 "
				   "stat:DELIVRD err:000 text:Hello world, this is";
	assert_int_equal(smpp_dlr_build(&d, out, sizeof(out), &len), SY_OK);
	assert_int_equal(len, strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(smpp_dlr_build(&d, out, 20, &len), SY_ERR_FULL);
	assert_int_equal(len, strlen(want));

	/* 20 characters, not bytes: the cut never splits a UTF-8 sequence. */
	d.text = SY_STR("ééééééééééééééééééééééé");
	d.state = SMPP_STATE_UNDELIVERABLE;
	d.err = 34;
	assert_int_equal(smpp_dlr_build(&d, out, sizeof(out), &len), SY_OK);
	const char *t = strstr(out, "text:") + 5;
	assert_int_equal(strlen(t), 40);
	assert_non_null(strstr(out, "stat:UNDELIV err:034 "));

	d.text = SY_STR_NULL;
	d.id = SY_STR_NULL;
	assert_int_equal(smpp_dlr_build(&d, out, sizeof(out), &len), SY_OK);
	assert_true(len > 0 && out[len - 1] == ':');
	d.err = 1000;
	assert_int_equal(smpp_dlr_build(&d, out, sizeof(out), &len), SY_ERR_INVAL);
	/* The largest receipt fits SMPP_DLR_LEN_MAX and a short_message (254). */
	static char id64[65], text[200];
	memset(id64, '9', 64);
	memset(text, 'x', sizeof(text) - 1);
	d = (struct smpp_dlr){sy_str_from(id64), 999, 999, 0, 0, SMPP_STATE_REJECTED, 999, sy_str_from(text)};
	assert_int_equal(smpp_dlr_build(&d, out, sizeof(out), &len), SY_OK);
	assert_true(len <= SMPP_SM_LEN_MAX);
}

/* The hand-formatted receipt text is byte for byte what the printf format
 * it replaced gives, for every state, ids and texts of any length (UTF-8
 * cut by characters), and every buffer size down to 0 (truncated as
 * snprintf truncates, the full length reported). */
static void test_dlr_build_as_printf(void **state)
{
	(void)state;
	/* The last is 120 continuation bytes: no character starts, all of it
	 * is "the first 20 characters". */
	static char cont[121];
	memset(cont, 0x80, 120);
	static const char *const texts[] = {"", "hello", "h\xc3\xa9llo w\xc3\xb6rld and more than twenty chars",
					    "0123456789abcdefghijKLM", cont};
	static const char *const ids[] = {"", "a", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"};
	uint32_t x = 12345;
	for (int round = 0; round < 400; round++) {
		x = x * 1103515245u + 12345u;
		struct smpp_dlr d = {
		    .id = sy_str_from(ids[round % 3]),
		    .sub = x % 1000,
		    .dlvrd = (x >> 10) % 1000,
		    .submit_ns = (uint64_t)(x % 4000000u) * 1000000000ull * 300,
		    .done_ns = (uint64_t)(x % 4000000u) * 1000000000ull * 300 + (uint64_t)round * 61000000000ull,
		    .state = (uint8_t)(round % 10),
		    .err = (x >> 20) % 1000,
		    .text = sy_str_from(texts[round % 5]),
		};
		char sub_date[11], done_date[11], want[300];
		smpp_time_fmt10(d.submit_ns, sub_date);
		smpp_time_fmt10(d.done_ns, done_date);
		size_t tlen = 0, chars = 0;
		for (; tlen < d.text.len; tlen++)
			if (((uint8_t)d.text.p[tlen] & 0xC0) != 0x80 && chars++ == SMPP_DLR_TEXT_CHARS)
				break;
		int wn = snprintf(want, sizeof want,
				  "id:%.*s sub:%03u dlvrd:%03u submit date:%s done date:%s stat:%s err:%03u text:%.*s",
				  (int)d.id.len, d.id.p, (unsigned)d.sub, (unsigned)d.dlvrd, sub_date, done_date,
				  smpp_dlr_stat_name(d.state), (unsigned)d.err, (int)tlen, d.text.p);
		assert_true(wn > 0 && (size_t)wn < sizeof want);
		for (size_t cap = 0; cap <= (size_t)wn + 2; cap += (cap < 8 || cap + 8 > (size_t)wn) ? 1 : 7) {
			char out[300];
			memset(out, 'Z', sizeof out);
			size_t len = 0;
			enum sy_rc rc = smpp_dlr_build(&d, cap > 0 ? out : NULL, cap, &len);
			assert_int_equal(len, (size_t)wn);
			assert_int_equal(rc, cap > (size_t)wn ? SY_OK : SY_ERR_FULL);
			if (cap == 0)
				continue;
			size_t kept = SY_MIN(cap - 1, (size_t)wn);
			assert_memory_equal(out, want, kept);
			assert_int_equal(out[kept], '\0');
			assert_int_equal(out[cap], 'Z');
		}
	}
}

static void test_dlr_stat_names(void **state)
{
	static const struct {
		uint8_t state;
		const char *name;
	} cases[] = {
	    {SMPP_STATE_ENROUTE, "ENROUTE"}, {SMPP_STATE_DELIVERED, "DELIVRD"},	    {SMPP_STATE_EXPIRED, "EXPIRED"},
	    {SMPP_STATE_DELETED, "DELETED"}, {SMPP_STATE_UNDELIVERABLE, "UNDELIV"}, {SMPP_STATE_ACCEPTED, "ACCEPTD"},
	    {SMPP_STATE_UNKNOWN, "UNKNOWN"}, {SMPP_STATE_REJECTED, "REJECTD"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint8_t st = 0;
		assert_string_equal(smpp_dlr_stat_name(cases[i].state), cases[i].name);
		assert_true(smpp_dlr_stat_parse(sy_str_from(cases[i].name), &st));
		assert_int_equal(st, cases[i].state);
	}
	uint8_t st;
	assert_string_equal(smpp_dlr_stat_name(0), "UNKNOWN");
	assert_true(smpp_dlr_stat_parse(SY_STR("delivrd"), &st));
	assert_false(smpp_dlr_stat_parse(SY_STR("DELIVERED"), &st));
	assert_false(smpp_dlr_stat_parse(SY_STR("DELIVR"), &st));
	assert_false(smpp_dlr_stat_parse(SY_STR("DELIVR@"), &st));
}

static void test_dlr_parse(void **state)
{
	static const struct {
		const char *s;
		enum sy_rc rc;
		const char *id;
		uint32_t sub, dlvrd;
		uint64_t submit_s, done_s;
		uint8_t state;
		uint16_t err;
		const char *text;
	} cases[] = {
	    {"id:0a1b2c3d sub:001 dlvrd:001 submit date:2311142213 done date:2311142215 stat:DELIVRD err:000 "
	     "text:Hello world",
	     SY_OK, "0a1b2c3d", 1, 1, 1699999980, 1700000100, SMPP_STATE_DELIVERED, 0, "Hello world"},
	    /* Appendix B's own capitalisation, a one-digit err, 12-digit dates. */
	    {"id:77 sub:1 dlvrd:0 submit date:231114221320 done date:231114221325 stat:UNDELIV err:5 Text:hi there",
	     SY_OK, "77", 1, 0, 1700000000, 1700000005, SMPP_STATE_UNDELIVERABLE, 5, "hi there"},
	    {"id:abc stat:EXPIRED", SY_OK, "abc", 0, 0, 0, 0, SMPP_STATE_EXPIRED, 0, ""},
	    {"id:abc stat:FOOBAR err:0a2", SY_OK, "abc", 0, 0, 0, 0, SMPP_STATE_UNKNOWN, 0xa2, ""},
	    {"id:abc vendor:x stat:ACCEPTD", SY_OK, "abc", 0, 0, 0, 0, SMPP_STATE_ACCEPTED, 0, ""},
	    /* Keys in any case; unknown words starting like a key (status:,
	     * su) are skipped, a key cut by the end of the text too. */
	    {"ID:abc SUB:002 DLVRD:001 Submit Date:2311142213 DONE date:2311142215 STAT:delivrd ERR:00A TeXt:x y",
	     SY_OK, "abc", 2, 1, 1699999980, 1700000100, SMPP_STATE_DELIVERED, 0xa, "x y"},
	    {"status:x id:abc idx:1 stat:REJECTD submit dat:1 done:2 su", SY_OK, "abc", 0, 0, 0, 0, SMPP_STATE_REJECTED,
	     0, ""},
	    {"sub:001 stat:DELIVRD", SY_ERR_PARSE, NULL, 0, 0, 0, 0, 0, 0, NULL},
	    {"id:abc sub:001", SY_ERR_PARSE, NULL, 0, 0, 0, 0, 0, 0, NULL},
	    {"id: stat:DELIVRD", SY_ERR_PARSE, NULL, 0, 0, 0, 0, 0, 0, NULL},
	    {"id:abc sub:1x stat:DELIVRD", SY_ERR_PARSE, NULL, 0, 0, 0, 0, 0, 0, NULL},
	    {"id:abc sub:0001 stat:DELIVRD", SY_ERR_PARSE, NULL, 0, 0, 0, 0, 0, 0, NULL},
	    {"id:abc submit date:2313010000 stat:DELIVRD", SY_ERR_PARSE, NULL, 0, 0, 0, 0, 0, 0, NULL},
	    {"id:abc err:zz stat:DELIVRD", SY_ERR_PARSE, NULL, 0, 0, 0, 0, 0, 0, NULL},
	    {"", SY_ERR_PARSE, NULL, 0, 0, 0, 0, 0, 0, NULL},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct smpp_dlr d;
		size_t n = strlen(cases[i].s);
		char *exact = malloc(n ? n : 1);
		memcpy(exact, cases[i].s, n);
		enum sy_rc rc = smpp_dlr_parse((struct sy_str){exact, n}, &d);
		if (rc != cases[i].rc)
			fail_msg("case %zu: %s", i, sy_rc_str(rc));
		if (rc == SY_OK) {
			assert_true(sy_str_eq(d.id, sy_str_from(cases[i].id)));
			assert_int_equal(d.sub, cases[i].sub);
			assert_int_equal(d.dlvrd, cases[i].dlvrd);
			assert_int_equal(d.submit_ns, cases[i].submit_s * SY_NS_PER_S);
			assert_int_equal(d.done_ns, cases[i].done_s * SY_NS_PER_S);
			assert_int_equal(d.state, cases[i].state);
			assert_int_equal(d.err, cases[i].err);
			assert_true(sy_str_eq(d.text, sy_str_from(cases[i].text)));
		}
		free(exact);
	}
}

static void test_dlr_round_trip(void **state)
{
	for (uint8_t st = SMPP_STATE_ENROUTE; st <= SMPP_STATE_REJECTED; st++) {
		struct smpp_dlr d = {SY_STR("id-42"),
				     3,
				     2,
				     1700000040ull * SY_NS_PER_S,
				     1700003640ull * SY_NS_PER_S,
				     st,
				     (uint16_t)(st * 7),
				     SY_STR("Привет мир")},
				e;
		char out[SMPP_DLR_LEN_MAX];
		size_t len;
		assert_int_equal(smpp_dlr_build(&d, out, sizeof(out), &len), SY_OK);
		assert_int_equal(smpp_dlr_parse((struct sy_str){out, len}, &e), SY_OK);
		assert_true(sy_str_eq(e.id, d.id));
		assert_int_equal(e.sub, d.sub);
		assert_int_equal(e.dlvrd, d.dlvrd);
		assert_int_equal(e.submit_ns, d.submit_ns);
		assert_int_equal(e.done_ns, d.done_ns);
		assert_int_equal(e.state, st);
		assert_int_equal(e.err, d.err);
		assert_true(sy_str_eq(e.text, d.text));
	}
}

/* {NULL, 0} is a valid empty text everywhere (found by the fuzzer: NULL + 0
 * is undefined behaviour). */
static void test_empty_null_slices(void **state)
{
	size_t len = 99, bad = 99, udh_len;
	struct smpp_seg_info seg;
	struct smpp_concat c;
	struct smpp_dlr d;
	bool has;
	assert_int_equal(smpp_gsm_from_utf8(SY_STR_NULL, NULL, 0, &len, &bad), SY_OK);
	assert_int_equal(len, 0);
	assert_int_equal(bad, 0);
	assert_true(smpp_gsm_fits(SY_STR_NULL, &len));
	assert_int_equal(len, 0);
	assert_int_equal(smpp_gsm_to_utf8(NULL, 0, NULL, 0, &len), SY_OK);
	assert_int_equal(smpp_gsm_pack(NULL, 0, 3, NULL, 0, &len), SY_ERR_FULL);
	assert_int_equal(len, 1); /* the fill bits alone take an octet */
	assert_int_equal(smpp_gsm_pack(NULL, 0, 0, NULL, 0, &len), SY_OK);
	assert_int_equal(len, 0);
	assert_int_equal(smpp_gsm_unpack(NULL, 0, 0, 0, NULL, 0), SY_OK);
	assert_int_equal(smpp_ucs2_from_utf8(SY_STR_NULL, NULL, 0, &len), SY_OK);
	assert_int_equal(smpp_ucs2_to_utf8(NULL, 0, NULL, 0, &len), SY_OK);
	assert_int_equal(smpp_text_segments(SY_STR_NULL, &seg), SY_OK);
	assert_int_equal(seg.segments, 1);
	assert_int_equal(smpp_udh_parse(NULL, 0, &udh_len, &c, &has), SY_ERR_PARSE);
	assert_int_equal(smpp_dlr_parse(SY_STR_NULL, &d), SY_ERR_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gsm_from_utf8),
	    cmocka_unit_test(test_gsm_every_septet_round_trips),
	    cmocka_unit_test(test_gsm_to_utf8_edges),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_pack_vectors),
	    cmocka_unit_test(test_pack_unpack_all_lengths),
	    cmocka_unit_test(test_ucs2),
	    cmocka_unit_test(test_segments),
	    cmocka_unit_test(test_udh),
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_dlr_build),
	    cmocka_unit_test(test_dlr_build_as_printf),
	    cmocka_unit_test(test_dlr_stat_names),
	    cmocka_unit_test(test_dlr_parse),
	    cmocka_unit_test(test_dlr_round_trip),
	    cmocka_unit_test(test_empty_null_slices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
