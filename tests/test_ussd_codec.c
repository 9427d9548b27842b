/* test_ussd_codec.c: USSD dialogue messages over SMPP (core/ussd/codec.c):
 * a byte-exact deliver_sm from a node, round trips over the wire of every
 * operation with both session reference kinds and both directions, the
 * USSD string bound in GSM (182 septets) and UCS2 (80 units), the end bit
 * and release_op, every error status codec.h names, the service code
 * match, split-feed of a stream of USSD PDUs, and the fuzz corpus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <dirent.h>

#include "core/ussd/codec.h"
/* The fuzz harness itself, so the corpus is replayed here too. */
#include "fuzz/ussd_fuzz.c"

static const struct ussd_codec_cfg its = {USSD_REF_ITS_SESSION_INFO, 0};
static const struct ussd_codec_cfg its_rel = {USSD_REF_ITS_SESSION_INFO, 0x20};
static const struct ussd_codec_cfg umr = {USSD_REF_USER_MESSAGE_REFERENCE, 0x20};

static const uint8_t all_ops[] = {
    SMPP_USSD_PSSD_IND,	 SMPP_USSD_PSSR_IND,  SMPP_USSD_USSR_REQ,  SMPP_USSD_USSN_REQ,
    SMPP_USSD_PSSD_RESP, SMPP_USSD_PSSR_RESP, SMPP_USSD_USSR_CONF, SMPP_USSD_USSN_CONF,
};

static void msg_set(struct ussd_msg *m, uint8_t op, uint16_t ref, uint8_t seq, bool release, const char *text)
{
	memset(m, 0, sizeof(*m));
	m->op = op;
	m->ref = ref;
	m->seq = seq;
	m->release = release;
	snprintf(m->msisdn, sizeof(m->msisdn), "%s", "447700900123");
	snprintf(m->code, sizeof(m->code), "%s", "*123#");
	m->text_len = strlen(text);
	SY_ASSERT(m->text_len < sizeof(m->text));
	memcpy(m->text, text, m->text_len + 1);
}

/* m -> PDU -> bytes; the wire length in *len. */
static enum sy_rc wire_out(const struct ussd_codec_cfg *c, const struct ussd_msg *m, uint32_t cmd, uint32_t seq,
			   uint8_t *wire, size_t cap, size_t *len)
{
	static uint8_t tbuf[2 * USSD_TEXT_UTF8_MAX];
	struct smpp_pdu p;
	enum sy_rc rc = ussd_msg_to_pdu(c, m, cmd, &p, tbuf, sizeof(tbuf));
	if (rc != SY_OK)
		return rc;
	p.sequence_number = seq;
	assert_int_equal(smpp_pdu_encode(&p, wire, cap, len), SY_OK);
	return SY_OK;
}

/* bytes -> PDU -> message; the decode status in *st. */
static enum sy_rc wire_in(const struct ussd_codec_cfg *c, const uint8_t *wire, size_t len, struct smpp_pdu *p,
			  struct ussd_msg *m, uint32_t *st)
{
	assert_int_equal(smpp_pdu_decode(wire, wire + len, p, st), SY_OK);
	return ussd_msg_from_pdu(c, p, m, st);
}

static void msg_eq(const struct ussd_msg *a, const struct ussd_msg *b)
{
	assert_int_equal(a->op, b->op);
	assert_int_equal(a->release, b->release);
	assert_int_equal(a->ref, b->ref);
	assert_int_equal(a->seq, b->seq);
	assert_string_equal(a->msisdn, b->msisdn);
	assert_string_equal(a->code, b->code);
	assert_int_equal(a->text_len, b->text_len);
	assert_string_equal(a->text, b->text);
}

/* A deliver_sm as a node sends it, built by hand from SMPP 3.4: PSSR
 * indication for "*123#" from 447700900123, its_session_info session 0x2A
 * sequence 0, not the end. */
/* clang-format off */
static const uint8_t node_pssr[] = {
    0x00, 0x00, 0x00, 0x46, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* header */
    'U', 'S', 'S', 'D', 0x00,                                        /* service_type */
    0x01, 0x01, '4', '4', '7', '7', '0', '0', '9', '0', '0', '1', '2', '3', 0x00, /* source */
    0x00, 0x00, '*', '1', '2', '3', '#', 0x00,                       /* destination */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,            /* esm_class .. sm_default_msg_id */
    0x05, '*', '1', '2', '3', '#',                                   /* sm_length, short_message */
    0x05, 0x01, 0x00, 0x01, 0x01,                                    /* ussd_service_op = 1 */
    0x13, 0x83, 0x00, 0x02, 0x2A, 0x00,                              /* its_session_info */
};
/* clang-format on */

static void test_node_vector(void **state)
{
	struct smpp_pdu p;
	struct ussd_msg m;
	uint32_t st;
	assert_int_equal(wire_in(&its, node_pssr, sizeof(node_pssr), &p, &m, &st), SY_OK);
	assert_int_equal(st, ESME_ROK);
	assert_int_equal(m.op, SMPP_USSD_PSSR_IND);
	assert_int_equal(m.ref, 0x2A);
	assert_int_equal(m.seq, 0);
	assert_false(m.release);
	assert_string_equal(m.msisdn, "447700900123");
	assert_string_equal(m.code, "*123#");
	assert_string_equal(m.text, "*123#");
	/* Encoding the same message as a deliver_sm gives those bytes. */
	uint8_t wire[512] = {0};
	size_t len;
	assert_int_equal(wire_out(&its, &m, SMPP_DELIVER_SM, 7, wire, sizeof(wire), &len), SY_OK);
	assert_int_equal(len, sizeof(node_pssr));
	assert_memory_equal(wire, node_pssr, len);
}

/* its_session_info on the wire: octet 1 the session, octet 2 seq << 1 | end. */
static void test_its_session_info_bits(void **state)
{
	struct ussd_msg m, back;
	struct smpp_pdu p;
	uint8_t wire[512] = {0};
	size_t len;
	uint32_t st;
	msg_set(&m, SMPP_USSD_PSSR_RESP, 0xC3, 0x55, true, "Bye");
	assert_int_equal(wire_out(&its, &m, SMPP_SUBMIT_SM, 1, wire, sizeof(wire), &len), SY_OK);
	assert_int_equal(wire_in(&its, wire, len, &p, &back, &st), SY_OK);
	assert_int_equal(p.tlv.its_session_info, 0xC3 << 8 | 0x55 << 1 | 1);
	assert_memory_equal(wire + len - 2, "\xC3\xAB", 2);
	msg_eq(&m, &back);
	m.release = false;
	assert_int_equal(wire_out(&its, &m, SMPP_SUBMIT_SM, 1, wire, sizeof(wire), &len), SY_OK);
	assert_memory_equal(wire + len - 2, "\xC3\xAA", 2);
	assert_int_equal(wire_in(&its, wire, len, &p, &back, &st), SY_OK);
	assert_false(back.release);
}

static void round_trip(const struct ussd_codec_cfg *c, uint32_t cmd, const struct ussd_msg *m)
{
	struct ussd_msg back;
	struct smpp_pdu p;
	uint8_t wire[1024] = {0};
	size_t len;
	uint32_t st = 0xDEAD;
	assert_int_equal(wire_out(c, m, cmd, 9, wire, sizeof(wire), &len), SY_OK);
	assert_int_equal(wire_in(c, wire, len, &p, &back, &st), SY_OK);
	assert_int_equal(st, ESME_ROK);
	assert_int_equal(p.command_id, cmd);
	/* The subscriber is the deliver_sm's source and the submit_sm's destination. */
	const struct smpp_addr *sub = cmd == SMPP_DELIVER_SM ? &p.src : &p.dst;
	assert_int_equal(sub->ton, SMPP_TON_INTERNATIONAL);
	assert_int_equal(sub->npi, SMPP_NPI_E164);
	assert_int_equal(sub->addr.len, strlen(m->msisdn));
	msg_eq(m, &back);
}

/* Every op both ways with both reference kinds; GSM and UCS2 texts. */
static void test_round_trip_every_op(void **state)
{
	static const char *texts[] = {
	    "", "*123#", "1. Balance\n2. Top up\n3. Bundles {EUR}", "€5 ~ [x]", "Баланс: 100 ₽", "残高 ✓ 😀"};
	static const uint32_t cmds[] = {SMPP_SUBMIT_SM, SMPP_DELIVER_SM};
	struct ussd_msg m;
	for (size_t o = 0; o < SY_ARRAY_LEN(all_ops); o++)
		for (size_t t = 0; t < SY_ARRAY_LEN(texts); t++)
			for (size_t d = 0; d < SY_ARRAY_LEN(cmds); d++) {
				msg_set(&m, all_ops[o], (uint16_t)(o * 31 + t), (uint8_t)(t * 20), o == 5, texts[t]);
				round_trip(&its, cmds[d], &m);
				m.ref = (uint16_t)(0xFF00 + o * 17 + t); /* 16 bits with user_message_reference */
				m.seq = 0;
				m.release = false; /* it rides on release_op there */
				round_trip(&umr, cmds[d], &m);
			}
	/* The release op with user_message_reference releases. */
	msg_set(&m, 0x20, 0xABCD, 0, true, "");
	round_trip(&umr, SMPP_DELIVER_SM, &m);
}

static void text_pdu(const struct ussd_codec_cfg *c, uint8_t dc, const void *sm, size_t n, uint32_t want)
{
	struct smpp_pdu p;
	struct ussd_msg m;
	uint32_t st = 0xDEAD;
	smpp_pdu_init(&p, SMPP_DELIVER_SM, 1);
	p.src = (struct smpp_addr){1, 1, SY_STR("447700900123")};
	p.dst = (struct smpp_addr){0, 0, SY_STR("*123#")};
	p.data_coding = dc;
	p.short_message = (struct sy_str){sm, n};
	p.tlv.present = SMPP_TLV_USSD_SERVICE_OP | SMPP_TLV_ITS_SESSION_INFO;
	p.tlv.ussd_service_op = SMPP_USSD_USSR_CONF;
	assert_int_equal(ussd_msg_from_pdu(c, &p, &m, &st), want == ESME_ROK ? SY_OK : SY_ERR_PARSE);
	assert_int_equal(st, want);
}

static enum sy_rc encode_text(const char *text, struct smpp_pdu *p)
{
	static uint8_t tbuf[2 * USSD_TEXT_UTF8_MAX];
	static struct ussd_msg m;
	msg_set(&m, SMPP_USSD_USSR_REQ, 1, 0, false, text);
	return ussd_msg_to_pdu(&its, &m, SMPP_SUBMIT_SM, p, tbuf, sizeof(tbuf));
}

/* A USSD string: 182 GSM septets (an extension character counts 2), or
 * 80 UCS2 units; either way in and out. */
static void test_text_bounds(void **state)
{
	char text[800];
	uint8_t raw[200];
	struct smpp_pdu p;
	memset(text, 'a', 182);
	text[182] = '\0';
	assert_int_equal(encode_text(text, &p), SY_OK);
	assert_int_equal(p.data_coding, SMPP_DC_DEFAULT);
	assert_int_equal(p.short_message.len, 182);
	text[182] = 'a', text[183] = '\0';
	assert_int_equal(encode_text(text, &p), SY_ERR_INVAL);
	text[0] = '\0';
	for (int i = 0; i < 91; i++)
		strcat(text, "€"); /* 0x1B 0x65: 182 septets */
	assert_int_equal(encode_text(text, &p), SY_OK);
	assert_int_equal(p.short_message.len, 182);
	strcat(text, "€");
	assert_int_equal(encode_text(text, &p), SY_ERR_INVAL);
	text[0] = '\0';
	for (int i = 0; i < 80; i++)
		strcat(text, "ж");
	assert_int_equal(encode_text(text, &p), SY_OK);
	assert_int_equal(p.data_coding, SMPP_DC_UCS2);
	assert_int_equal(p.short_message.len, 160);
	strcat(text, "ж");
	assert_int_equal(encode_text(text, &p), SY_ERR_INVAL);
	/* Decoding: the same bounds on what a node sends. */
	memset(raw, 'a', sizeof(raw));
	text_pdu(&its, SMPP_DC_DEFAULT, raw, 182, ESME_ROK);
	text_pdu(&its, SMPP_DC_DEFAULT, raw, 183, ESME_RINVMSGLEN);
	text_pdu(&its, SMPP_DC_UCS2, raw, 160, ESME_ROK);
	text_pdu(&its, SMPP_DC_UCS2, raw, 162, ESME_RINVMSGLEN);
	text_pdu(&its, SMPP_DC_LATIN1, raw, 182, ESME_ROK);
	text_pdu(&its, SMPP_DC_IA5, raw, 183, ESME_RINVMSGLEN);
}

/* IA5 and Latin-1 from a node are read; binary and others are not text. */
static void test_text_codings_in(void **state)
{
	struct smpp_pdu p;
	struct ussd_msg m;
	uint32_t st;
	uint8_t wire[512] = {0};
	memcpy(wire, node_pssr, sizeof(node_pssr));
	wire[51] = SMPP_DC_LATIN1; /* data_coding */
	wire[58] = 0xE9;	   /* the '#' of short_message becomes 'é' */
	assert_int_equal(wire_in(&its, wire, sizeof(node_pssr), &p, &m, &st), SY_OK);
	assert_string_equal(m.text, "*123é");
	text_pdu(&its, SMPP_DC_IA5, "*123#", 5, ESME_ROK);
	text_pdu(&its, SMPP_DC_IA5, "*123\xE9", 5, ESME_RINVMSGLEN);
	text_pdu(&its, SMPP_DC_DEFAULT, "*123\x80", 5, ESME_RINVMSGLEN);      /* not a septet */
	text_pdu(&its, SMPP_DC_UCS2, "\x04\x16\x04", 3, ESME_RINVMSGLEN);     /* odd */
	text_pdu(&its, SMPP_DC_UCS2, "\x04\x16\x00\x00", 4, ESME_RINVMSGLEN); /* U+0000 */
	text_pdu(&its, SMPP_DC_LATIN1, "a\0b", 3, ESME_RINVMSGLEN);
	text_pdu(&its, SMPP_DC_BINARY, "abc", 3, ESME_RINVMSGLEN);
	text_pdu(&its, 0xF0, "abc", 3, ESME_RINVMSGLEN);
}

/* message_payload instead of short_message (data_sm has only that). */
static void test_payload_and_data_sm(void **state)
{
	struct smpp_pdu p;
	struct ussd_msg m;
	uint32_t st;
	smpp_pdu_init(&p, SMPP_DATA_SM, 3);
	p.src = (struct smpp_addr){1, 1, SY_STR("+447700900123")};
	p.dst = (struct smpp_addr){0, 0, SY_STR("*500*1#")};
	p.tlv.present = SMPP_TLV_USSD_SERVICE_OP | SMPP_TLV_USER_MESSAGE_REFERENCE | SMPP_TLV_MESSAGE_PAYLOAD;
	p.tlv.ussd_service_op = SMPP_USSD_PSSR_IND;
	p.tlv.user_message_reference = 0x8001;
	p.tlv.message_payload = SY_STR("*500*1#");
	assert_int_equal(ussd_msg_from_pdu(&umr, &p, &m, &st), SY_OK);
	assert_string_equal(m.msisdn, "+447700900123");
	assert_string_equal(m.code, "*500*1#");
	assert_string_equal(m.text, "*500*1#");
	assert_int_equal(m.ref, 0x8001);
	/* Both short_message and message_payload: SMPP 3.4 forbids it. */
	smpp_pdu_init(&p, SMPP_DELIVER_SM, 3);
	p.src = (struct smpp_addr){1, 1, SY_STR("447700900123")};
	p.dst = (struct smpp_addr){0, 0, SY_STR("*500#")};
	p.short_message = SY_STR("x");
	p.tlv.present = SMPP_TLV_USSD_SERVICE_OP | SMPP_TLV_USER_MESSAGE_REFERENCE | SMPP_TLV_MESSAGE_PAYLOAD;
	p.tlv.message_payload = SY_STR("y");
	assert_int_equal(ussd_msg_from_pdu(&umr, &p, &m, &st), SY_ERR_PARSE);
	assert_int_equal(st, ESME_RINVMSGLEN);
	p.tlv.present &= ~SMPP_TLV_MESSAGE_PAYLOAD;
	p.esm_class = SMPP_ESM_UDHI;
	assert_int_equal(ussd_msg_from_pdu(&umr, &p, &m, &st), SY_ERR_PARSE);
	assert_int_equal(st, ESME_RINVMSGLEN);
}

/* Release: the end bit, or the link's release_op; without a release_op a
 * vendor op is an invalid value. */
static void test_release(void **state)
{
	struct smpp_pdu p;
	struct ussd_msg m;
	uint32_t st;
	uint8_t wire[512] = {0};
	memcpy(wire, node_pssr, sizeof(node_pssr));
	wire[sizeof(node_pssr) - 1] = 0x01; /* end bit */
	assert_int_equal(wire_in(&its, wire, sizeof(node_pssr), &p, &m, &st), SY_OK);
	assert_true(m.release);
	assert_int_equal(m.op, SMPP_USSD_PSSR_IND);
	wire[sizeof(node_pssr) - 1] = 0x00;
	wire[sizeof(node_pssr) - 7] = 0x20; /* ussd_service_op = release_op */
	assert_int_equal(wire_in(&its_rel, wire, sizeof(node_pssr), &p, &m, &st), SY_OK);
	assert_true(m.release);
	assert_int_equal(m.op, 0x20);
	assert_int_equal(wire_in(&its, wire, sizeof(node_pssr), &p, &m, &st), SY_ERR_PARSE);
	assert_int_equal(st, ESME_RINVOPTPARAMVAL);
	/* user_message_reference has no end bit: only release_op releases. */
	msg_set(&m, SMPP_USSD_PSSR_RESP, 7, 0, false, "End");
	size_t len;
	assert_int_equal(wire_out(&umr, &m, SMPP_SUBMIT_SM, 1, wire, sizeof(wire), &len), SY_OK);
	assert_int_equal(wire_in(&umr, wire, len, &p, &m, &st), SY_OK);
	assert_false(m.release);
}

struct bad_case {
	const char *what;
	uint32_t cmd;
	const char *src, *dst;
	uint32_t tlvs; /* SMPP_TLV_* present */
	uint8_t op;
	const struct ussd_codec_cfg *cfg;
	uint32_t status;
};

/* Every status ussd_msg_from_pdu() names, from what a node could send. */
static void test_error_statuses(void **state)
{
	const uint32_t ok = SMPP_TLV_USSD_SERVICE_OP | SMPP_TLV_ITS_SESSION_INFO;
	const struct bad_case cases[] = {
	    {"good", SMPP_DELIVER_SM, "447700900123", "*123#", ok, 1, &its, ESME_ROK},
	    {"enquire_link", SMPP_ENQUIRE_LINK, "447700900123", "*123#", ok, 1, &its, ESME_RINVCMDID},
	    {"deliver_sm_resp", SMPP_DELIVER_SM_RESP, "447700900123", "*123#", ok, 1, &its, ESME_RINVCMDID},
	    {"query_sm", SMPP_QUERY_SM, "447700900123", "*123#", ok, 1, &its, ESME_RINVCMDID},
	    {"no op", SMPP_DELIVER_SM, "447700900123", "*123#", SMPP_TLV_ITS_SESSION_INFO, 1, &its,
	     ESME_RMISSINGOPTPARAM},
	    {"no its", SMPP_DELIVER_SM, "447700900123", "*123#",
	     SMPP_TLV_USSD_SERVICE_OP | SMPP_TLV_USER_MESSAGE_REFERENCE, 1, &its, ESME_RMISSINGOPTPARAM},
	    {"no umr", SMPP_DELIVER_SM, "447700900123", "*123#", ok, 1, &umr, ESME_RMISSINGOPTPARAM},
	    {"op 4", SMPP_DELIVER_SM, "447700900123", "*123#", ok, 4, &its, ESME_RINVOPTPARAMVAL},
	    {"op 0x21", SMPP_DELIVER_SM, "447700900123", "*123#", ok, 0x21, &its_rel, ESME_RINVOPTPARAMVAL},
	    {"empty src", SMPP_DELIVER_SM, "", "*123#", ok, 1, &its, ESME_RINVSRCADR},
	    {"letters", SMPP_DELIVER_SM, "44770090012x", "*123#", ok, 1, &its, ESME_RINVSRCADR},
	    {"plus only", SMPP_DELIVER_SM, "+", "*123#", ok, 1, &its, ESME_RINVSRCADR},
	    {"21 digits", SMPP_DELIVER_SM, "123456789012345678901", "*123#", ok, 1, &its, ESME_RINVSRCADR},
	    {"empty dst", SMPP_DELIVER_SM, "447700900123", "", ok, 1, &its, ESME_RINVDSTADR},
	    {"space", SMPP_DELIVER_SM, "447700900123", "*1 3#", ok, 1, &its, ESME_RINVDSTADR},
	    {"24 chars", SMPP_DELIVER_SM, "447700900123", "*123*456789012345678901#", ok, 1, &its, ESME_RINVDSTADR},
	    {"submit: code", SMPP_SUBMIT_SM, "", "447700900123", ok, 2, &its, ESME_RINVSRCADR},
	    {"submit: msisdn", SMPP_SUBMIT_SM, "*123#", "", ok, 2, &its, ESME_RINVDSTADR},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		const struct bad_case *b = &cases[i];
		struct smpp_pdu p;
		struct ussd_msg m;
		uint32_t st = 0xDEAD;
		smpp_pdu_init(&p, b->cmd, 1);
		p.src = (struct smpp_addr){1, 1, sy_str_from(b->src)};
		p.dst = (struct smpp_addr){1, 1, sy_str_from(b->dst)};
		p.tlv.present = b->tlvs;
		p.tlv.ussd_service_op = b->op;
		enum sy_rc rc = ussd_msg_from_pdu(b->cfg, &p, &m, &st);
		if (st != b->status)
			fail_msg("%s: status 0x%x, want 0x%x", b->what, st, b->status);
		assert_int_equal(rc, b->status == ESME_ROK ? SY_OK : SY_ERR_PARSE);
	}
}

/* What the gateway is asked to send and cannot be on the wire. */
static void test_encode_errors(void **state)
{
	static uint8_t tbuf[2 * USSD_TEXT_UTF8_MAX];
	struct ussd_msg m;
	struct smpp_pdu p;
	msg_set(&m, SMPP_USSD_USSR_REQ, 1, 0, false, "x");
	assert_int_equal(ussd_msg_to_pdu(&its, &m, SMPP_DATA_SM, &p, tbuf, sizeof(tbuf)), SY_ERR_INVAL);
	assert_int_equal(ussd_msg_to_pdu(&its, &m, SMPP_ENQUIRE_LINK, &p, tbuf, sizeof(tbuf)), SY_ERR_INVAL);
	m.ref = 256; /* its_session_info carries 8 bits */
	assert_int_equal(ussd_msg_to_pdu(&its, &m, SMPP_SUBMIT_SM, &p, tbuf, sizeof(tbuf)), SY_ERR_INVAL);
	assert_int_equal(ussd_msg_to_pdu(&umr, &m, SMPP_SUBMIT_SM, &p, tbuf, sizeof(tbuf)), SY_OK);
	m.ref = 1, m.seq = 128;
	assert_int_equal(ussd_msg_to_pdu(&its, &m, SMPP_SUBMIT_SM, &p, tbuf, sizeof(tbuf)), SY_ERR_INVAL);
	msg_set(&m, SMPP_USSD_USSR_REQ, 1, 0, false, "\xC3\x28"); /* invalid UTF-8 */
	assert_int_equal(ussd_msg_to_pdu(&its, &m, SMPP_SUBMIT_SM, &p, tbuf, sizeof(tbuf)), SY_ERR_INVAL);
	msg_set(&m, SMPP_USSD_USSR_REQ, 1, 0, false, "x");
	m.msisdn[0] = '\0';
	assert_int_equal(ussd_msg_to_pdu(&its, &m, SMPP_SUBMIT_SM, &p, tbuf, sizeof(tbuf)), SY_ERR_INVAL);
	msg_set(&m, SMPP_USSD_USSR_REQ, 1, 0, false, "x");
	m.code[0] = '\0';
	assert_int_equal(ussd_msg_to_pdu(&its, &m, SMPP_SUBMIT_SM, &p, tbuf, sizeof(tbuf)), SY_ERR_INVAL);
	msg_set(&m, SMPP_USSD_USSR_REQ, 1, 0, false, "x");
	snprintf(m.code, sizeof(m.code), "*123*4567890123456789#"); /* 22: over submit_sm's 20 */
	assert_int_equal(ussd_msg_to_pdu(&its, &m, SMPP_SUBMIT_SM, &p, tbuf, sizeof(tbuf)), SY_ERR_INVAL);
	msg_set(&m, SMPP_USSD_USSR_REQ, 1, 0, false, "x");
	assert_int_equal(ussd_msg_to_pdu(&its, &m, SMPP_SUBMIT_SM, &p, tbuf, 0), SY_ERR_INVAL);
}

static void test_code_match(void **state)
{
	struct ussd_service_cfg svc[4];
	memset(svc, 0, sizeof(svc));
	snprintf(svc[0].code, sizeof(svc[0].code), "*123#");
	snprintf(svc[1].code, sizeof(svc[1].code), "*123*5#");
	snprintf(svc[2].code, sizeof(svc[2].code), "*12#");
	snprintf(svc[3].code, sizeof(svc[3].code), "#100#");
	static const struct {
		const char *dialled;
		int want;
		const char *inputs;
	} cases[] = {
	    {"*123#", 0, ""},	{"*123*1*2#", 0, "1*2"}, {"123", 0, ""},	{"123*1", 0, "1"},
	    {"*123*5#", 1, ""}, {"*123*5*9#", 1, "9"},	 {"*123*55#", 0, "55"}, {"*12#", 2, ""},
	    {"*1234#", -1, ""}, {"*1#", -1, ""},	 {"", -1, ""},		{"#", -1, ""},
	    {"#100#", 3, ""},	{"*100#", -1, ""},	 {"*12*#", 2, ""},	{"*999#", -1, ""},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct sy_str in = {"junk", 4};
		int got = ussd_code_match(svc, 4, sy_str_from(cases[i].dialled), &in);
		if (got != cases[i].want)
			fail_msg("%s: service %d, want %d", cases[i].dialled, got, cases[i].want);
		if (got >= 0 && !sy_str_eq(in, sy_str_from(cases[i].inputs)))
			fail_msg("%s: inputs '%.*s'", cases[i].dialled, (int)in.len, in.p);
	}
	assert_int_equal(ussd_code_match(svc, 0, SY_STR("*123#"), NULL), -1);
}

/* ---- split feed ---- */

enum { FEED_MSGS = 6 };

static size_t feed_stream(uint8_t *stream, size_t cap, struct ussd_msg *sent)
{
	static const char *texts[FEED_MSGS] = {"*123#", "1. Balance\n2. Top up", "2", "Баланс 100",
					       "",	"Thank you. Bye."};
	static const uint8_t ops[FEED_MSGS] = {
	    SMPP_USSD_PSSR_IND, SMPP_USSD_USSR_REQ, SMPP_USSD_USSR_CONF, SMPP_USSD_USSR_REQ, 0x20, SMPP_USSD_PSSR_RESP};
	size_t n = 0, len;
	for (uint32_t i = 0; i < FEED_MSGS; i++) {
		msg_set(&sent[i], ops[i], (uint16_t)(40 + i), (uint8_t)i, ops[i] == 0x20, texts[i]);
		assert_int_equal(wire_out(&its_rel, &sent[i], i % 2 ? SMPP_SUBMIT_SM : SMPP_DELIVER_SM, i + 1,
					  stream + n, cap - n, &len),
				 SY_OK);
		n += len;
	}
	return n;
}

/* A receiver's reassembly: bytes appended in chunks, each complete frame
 * decoded and read as a message as soon as it is in. */
struct feeder {
	uint8_t acc[4096];
	size_t have;
	struct ussd_msg got[FEED_MSGS];
	size_t n;
};

static void feed(struct feeder *f, const uint8_t *p, size_t len)
{
	memcpy(f->acc + f->have, p, len);
	f->have += len;
	size_t plen;
	while (smpp_frame_len(f->acc, f->have, &plen) == SY_OK && plen <= f->have) {
		struct smpp_pdu pdu;
		uint32_t st;
		assert_true(f->n < FEED_MSGS);
		assert_int_equal(wire_in(&its_rel, f->acc, plen, &pdu, &f->got[f->n], &st), SY_OK);
		assert_int_equal(pdu.sequence_number, f->n + 1);
		f->n++;
		memmove(f->acc, f->acc + plen, f->have - plen);
		f->have -= plen;
	}
}

static void feed_check(const struct feeder *f, const struct ussd_msg *sent)
{
	assert_int_equal(f->n, FEED_MSGS);
	assert_int_equal(f->have, 0);
	for (size_t i = 0; i < FEED_MSGS; i++)
		msg_eq(&sent[i], &f->got[i]);
}

/* The stream cut at every byte, and at every pair of bytes, then byte by
 * byte: always the same messages in the same order. */
static void test_split_feed(void **state)
{
	static uint8_t stream[4096];
	static struct ussd_msg sent[FEED_MSGS];
	static struct feeder f;
	size_t n = feed_stream(stream, sizeof(stream), sent);
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j += 7) {
			memset(&f, 0, sizeof(f));
			feed(&f, stream, i);
			feed(&f, stream + i, j - i);
			feed(&f, stream + j, n - j);
			feed_check(&f, sent);
		}
	}
	memset(&f, 0, sizeof(f));
	for (size_t i = 0; i < n; i++)
		feed(&f, stream + i, 1);
	feed_check(&f, sent);
}

/* Every seed and every input that once crashed goes through the harness. */
static void test_fuzz_corpus(void **state)
{
	DIR *d = opendir("fuzz/corpus/ussd");
	assert_non_null(d);
	size_t files = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "fuzz/corpus/ussd/%s", e->d_name);
		FILE *fp = fopen(path, "rb");
		assert_non_null(fp);
		static uint8_t buf[SMPP_PDU_LEN_MAX];
		size_t n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		assert_int_equal(LLVMFuzzerTestOneInput(buf, n), 0);
		files++;
	}
	closedir(d);
	assert_true(files >= 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_node_vector),
	    cmocka_unit_test(test_its_session_info_bits),
	    cmocka_unit_test(test_round_trip_every_op),
	    cmocka_unit_test(test_text_bounds),
	    cmocka_unit_test(test_text_codings_in),
	    cmocka_unit_test(test_payload_and_data_sm),
	    cmocka_unit_test(test_release),
	    cmocka_unit_test(test_error_statuses),
	    cmocka_unit_test(test_encode_errors),
	    cmocka_unit_test(test_code_match),
	    cmocka_unit_test(test_split_feed),
	    cmocka_unit_test(test_fuzz_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
