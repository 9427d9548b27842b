/* test_smpp_pdu.c: the SMPP 3.4 codec: a byte-exact vector, round trips of
 * every PDU with every field and TLV, a table of malformed PDUs with their
 * exact command_status, truncation at every byte, and split-feed framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <dirent.h>

#include "core/smpp/pdu.h"
/* The fuzz harness itself, so its inputs can be replayed here. */
#include "fuzz/smpp_pdu_fuzz.c"

#define S(lit) SY_STR(lit)

static const uint32_t all_cmds[] = {
    SMPP_GENERIC_NACK,		SMPP_BIND_RECEIVER,	SMPP_BIND_RECEIVER_RESP,    SMPP_BIND_TRANSMITTER,
    SMPP_BIND_TRANSMITTER_RESP, SMPP_QUERY_SM,		SMPP_QUERY_SM_RESP,	    SMPP_SUBMIT_SM,
    SMPP_SUBMIT_SM_RESP,	SMPP_DELIVER_SM,	SMPP_DELIVER_SM_RESP,	    SMPP_UNBIND,
    SMPP_UNBIND_RESP,		SMPP_REPLACE_SM,	SMPP_REPLACE_SM_RESP,	    SMPP_CANCEL_SM,
    SMPP_CANCEL_SM_RESP,	SMPP_BIND_TRANSCEIVER,	SMPP_BIND_TRANSCEIVER_RESP, SMPP_OUTBIND,
    SMPP_ENQUIRE_LINK,		SMPP_ENQUIRE_LINK_RESP, SMPP_ALERT_NOTIFICATION,    SMPP_DATA_SM,
    SMPP_DATA_SM_RESP,
};

/* Every field and every TLV set to something other than its zero value. */
static void fill_all(struct smpp_pdu *p, uint32_t id, uint32_t seq)
{
	static const uint8_t payload[] = {0x00, 0x01, 0xFF, 'p', 'a', 'y'};
	smpp_pdu_init(p, id, seq);
	p->system_id = S("acme_sys");
	p->password = S("secret12");
	p->system_type = S("VMA");
	p->interface_version = 0x34;
	p->address_range = (struct smpp_addr){1, 1, S("^44.*")};
	p->service_type = S("CMT");
	p->src = (struct smpp_addr){SMPP_TON_ALPHANUMERIC, SMPP_NPI_UNKNOWN, S("ACME")};
	p->dst = (struct smpp_addr){SMPP_TON_INTERNATIONAL, SMPP_NPI_E164, S("447700900123")};
	p->esm_class = SMPP_ESM_UDHI | SMPP_ESM_MODE_STORE_FORWARD;
	p->protocol_id = 0x7F;
	p->priority_flag = 2;
	p->schedule_delivery_time = S("250101120000000+");
	p->validity_period = S("000001000000000R");
	p->registered_delivery = SMPP_REGDLV_SMSC_ALWAYS;
	p->replace_if_present_flag = 1;
	p->data_coding = SMPP_DC_UCS2;
	p->sm_default_msg_id = 3;
	p->short_message = (struct sy_str){"\x05\x00\x03\x2a\x02\x01\x00h\x00i", 10};
	p->message_id = S("a1b2c3d4e5f6");
	p->final_date = S("250101120500000+");
	p->message_state = SMPP_STATE_DELIVERED;
	p->error_code = 9;
	struct smpp_tlvs *t = &p->tlv;
	t->present = SMPP_TLV_MESSAGE_PAYLOAD | SMPP_TLV_RECEIPTED_MESSAGE_ID | SMPP_TLV_MESSAGE_STATE |
		     SMPP_TLV_SAR_MSG_REF_NUM | SMPP_TLV_SAR_TOTAL_SEGMENTS | SMPP_TLV_SAR_SEGMENT_SEQNUM |
		     SMPP_TLV_USER_MESSAGE_REFERENCE | SMPP_TLV_USSD_SERVICE_OP | SMPP_TLV_ITS_SESSION_INFO |
		     SMPP_TLV_SC_INTERFACE_VERSION | SMPP_TLV_NETWORK_ERROR_CODE;
	t->message_payload = (struct sy_str){(const char *)payload, sizeof(payload)};
	t->receipted_message_id = S("ffee0011");
	t->message_state = SMPP_STATE_UNDELIVERABLE;
	t->sar_msg_ref_num = 0xBEEF;
	t->sar_total_segments = 3;
	t->sar_segment_seqnum = 2;
	t->user_message_reference = 0x1234;
	t->ussd_service_op = SMPP_USSD_USSR_REQ;
	t->its_session_info = 0x0A01;
	t->sc_interface_version = 0x34;
	t->network_error_type = 3;
	t->network_error_code = 0x0102;
	t->unknown_n = 2;
	t->unknown[0] = (struct smpp_tlv_raw){0x1400, S("vendor")};
	t->unknown[1] = (struct smpp_tlv_raw){0x0005, {"\x07", 1}};
}

static void str_eq(struct sy_str a, struct sy_str b)
{
	assert_int_equal(a.len, b.len);
	if (a.len)
		assert_memory_equal(a.p, b.p, a.len);
}

static void addr_eq(const struct smpp_addr *a, const struct smpp_addr *b)
{
	assert_int_equal(a->ton, b->ton);
	assert_int_equal(a->npi, b->npi);
	str_eq(a->addr, b->addr);
}

static void tlvs_eq(const struct smpp_tlvs *a, const struct smpp_tlvs *b)
{
	assert_int_equal(a->present, b->present);
	str_eq(a->message_payload, b->message_payload);
	str_eq(a->receipted_message_id, b->receipted_message_id);
	assert_int_equal(a->message_state, b->message_state);
	assert_int_equal(a->sar_msg_ref_num, b->sar_msg_ref_num);
	assert_int_equal(a->sar_total_segments, b->sar_total_segments);
	assert_int_equal(a->sar_segment_seqnum, b->sar_segment_seqnum);
	assert_int_equal(a->user_message_reference, b->user_message_reference);
	assert_int_equal(a->ussd_service_op, b->ussd_service_op);
	assert_int_equal(a->its_session_info, b->its_session_info);
	assert_int_equal(a->sc_interface_version, b->sc_interface_version);
	assert_int_equal(a->network_error_type, b->network_error_type);
	assert_int_equal(a->network_error_code, b->network_error_code);
	assert_int_equal(a->unknown_n, b->unknown_n);
	for (size_t i = 0; i < a->unknown_n; i++) {
		assert_int_equal(a->unknown[i].tag, b->unknown[i].tag);
		str_eq(a->unknown[i].value, b->unknown[i].value);
	}
}

/* The fields command `id` carries must match; the others must decode as 0. */
static void carried_eq(const struct smpp_pdu *in, const struct smpp_pdu *out, uint32_t id)
{
	static const struct smpp_pdu zero;
	const struct smpp_pdu *z = &zero;
	bool bind = id == SMPP_BIND_RECEIVER || id == SMPP_BIND_TRANSMITTER || id == SMPP_BIND_TRANSCEIVER;
	bool bind_resp =
	    smpp_cmd_is_resp(id) && bind == false && id != SMPP_GENERIC_NACK &&
	    ((id & ~SMPP_RESP_BIT) == SMPP_BIND_RECEIVER || (id & ~SMPP_RESP_BIT) == SMPP_BIND_TRANSMITTER ||
	     (id & ~SMPP_RESP_BIT) == SMPP_BIND_TRANSCEIVER);
	bool sm = id == SMPP_SUBMIT_SM || id == SMPP_DELIVER_SM;
	bool msgid_resp = id == SMPP_SUBMIT_SM_RESP || id == SMPP_DELIVER_SM_RESP || id == SMPP_DATA_SM_RESP;
	bool has_src = sm || id == SMPP_DATA_SM || id == SMPP_QUERY_SM || id == SMPP_CANCEL_SM ||
		       id == SMPP_REPLACE_SM || id == SMPP_ALERT_NOTIFICATION;
	bool has_dst = sm || id == SMPP_DATA_SM || id == SMPP_CANCEL_SM || id == SMPP_ALERT_NOTIFICATION;
	bool has_msgid = msgid_resp || id == SMPP_QUERY_SM || id == SMPP_QUERY_SM_RESP || id == SMPP_CANCEL_SM ||
			 id == SMPP_REPLACE_SM;
	bool has_svc = sm || id == SMPP_DATA_SM || id == SMPP_CANCEL_SM;
	bool has_times = sm || id == SMPP_REPLACE_SM;
	bool has_dc = sm || id == SMPP_DATA_SM;

	str_eq(out->system_id, (bind || bind_resp || id == SMPP_OUTBIND ? in : z)->system_id);
	str_eq(out->password, (bind || id == SMPP_OUTBIND ? in : z)->password);
	str_eq(out->system_type, (bind ? in : z)->system_type);
	addr_eq(&out->address_range, &(bind ? in : z)->address_range);
	str_eq(out->service_type, (has_svc ? in : z)->service_type);
	addr_eq(&out->src, &(has_src ? in : z)->src);
	addr_eq(&out->dst, &(has_dst ? in : z)->dst);
	assert_int_equal(out->esm_class, (has_dc ? in : z)->esm_class);
	assert_int_equal(out->protocol_id, (sm ? in : z)->protocol_id);
	assert_int_equal(out->priority_flag, (sm ? in : z)->priority_flag);
	str_eq(out->schedule_delivery_time, (has_times ? in : z)->schedule_delivery_time);
	str_eq(out->validity_period, (has_times ? in : z)->validity_period);
	assert_int_equal(out->registered_delivery, (has_dc || has_times ? in : z)->registered_delivery);
	assert_int_equal(out->replace_if_present_flag, (sm ? in : z)->replace_if_present_flag);
	assert_int_equal(out->data_coding, (has_dc ? in : z)->data_coding);
	assert_int_equal(out->sm_default_msg_id, (has_times ? in : z)->sm_default_msg_id);
	str_eq(out->short_message, (has_times ? in : z)->short_message);
	str_eq(out->message_id, (has_msgid ? in : z)->message_id);
	str_eq(out->final_date, (id == SMPP_QUERY_SM_RESP ? in : z)->final_date);
	assert_int_equal(out->message_state, (id == SMPP_QUERY_SM_RESP ? in : z)->message_state);
	assert_int_equal(out->error_code, (id == SMPP_QUERY_SM_RESP ? in : z)->error_code);
	if (bind)
		assert_int_equal(out->interface_version, in->interface_version);
}

static bool header_only(uint32_t id)
{
	return id == SMPP_GENERIC_NACK || id == SMPP_UNBIND || id == SMPP_UNBIND_RESP || id == SMPP_ENQUIRE_LINK ||
	       id == SMPP_ENQUIRE_LINK_RESP || id == SMPP_CANCEL_SM_RESP || id == SMPP_REPLACE_SM_RESP;
}

static void test_round_trip_every_pdu(void **state)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(all_cmds); i++) {
		uint32_t id = all_cmds[i], st = 99;
		struct smpp_pdu in, out;
		uint8_t buf[1024], buf2[1024];
		size_t len = 0, len2 = 0;
		fill_all(&in, id, 0x7FFFFF00u + (uint32_t)i);
		assert_int_equal(smpp_pdu_encode(&in, buf, sizeof(buf), &len), SY_OK);
		/* Decode from an exact-size heap copy so ASan sees any over-read. */
		uint8_t *exact = malloc(len);
		memcpy(exact, buf, len);
		assert_int_equal(smpp_pdu_decode(exact, exact + len, &out, &st), SY_OK);
		assert_int_equal(st, ESME_ROK);
		assert_int_equal(out.command_length, len);
		assert_int_equal(out.command_id, id);
		assert_int_equal(out.sequence_number, in.sequence_number);
		assert_int_equal(out.command_status, ESME_ROK);
		if (header_only(id)) {
			assert_int_equal(len, SMPP_HEADER_LEN);
			assert_int_equal(out.tlv.present, 0);
		} else {
			tlvs_eq(&in.tlv, &out.tlv);
		}
		carried_eq(&in, &out, id);
		/* Decoded slices point into the input: zero-copy. */
		if (out.message_id.len)
			assert_true((const uint8_t *)out.message_id.p > exact &&
				    (const uint8_t *)out.message_id.p < exact + len);
		assert_int_equal(smpp_pdu_encode(&out, buf2, sizeof(buf2), &len2), SY_OK);
		assert_int_equal(len2, len);
		assert_memory_equal(buf, buf2, len);
		free(exact);
	}
}

/* submit_sm laid out by hand from SMPP 3.4 §4.4.1. */
static const uint8_t submit_vec[] = {
    0x00, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* header */
    0x00,										      /* service_type "" */
    0x01, 0x01, '4',  '4',  '7',  '7',	'0',  '0',  '9',  '0',	'0',  '1',  '2',  '3',	0x00, /* source */
    0x01, 0x01, '4',  '4',  '7',  '7',	'0',  '0',  '9',  '0',	'0',  '4',  '5',  '6',	0x00, /* destination */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* esm pid prio sched valid regdlv repl dc defid */
    0x05, 'h',	'e',  'l',  'l',  'o',			  /* sm_length, short_message */
    0x02, 0x04, 0x00, 0x02, 0x00, 0x07,			  /* user_message_reference = 7 */
};

static void test_submit_sm_vector(void **state)
{
	_Static_assert(sizeof(submit_vec) == 0x44, "vector length");
	struct smpp_pdu p, q;
	uint32_t st;
	assert_int_equal(smpp_pdu_decode(submit_vec, submit_vec + sizeof(submit_vec), &p, &st), SY_OK);
	assert_int_equal(p.command_id, SMPP_SUBMIT_SM);
	assert_int_equal(p.sequence_number, 1);
	str_eq(p.service_type, S(""));
	addr_eq(&p.src, &(struct smpp_addr){1, 1, S("447700900123")});
	addr_eq(&p.dst, &(struct smpp_addr){1, 1, S("447700900456")});
	assert_int_equal(p.registered_delivery, 1);
	str_eq(p.short_message, S("hello"));
	assert_int_equal(p.tlv.present, SMPP_TLV_USER_MESSAGE_REFERENCE);
	assert_int_equal(p.tlv.user_message_reference, 7);

	smpp_pdu_init(&q, SMPP_SUBMIT_SM, 1);
	q.src = p.src;
	q.dst = p.dst;
	q.registered_delivery = 1;
	q.short_message = S("hello");
	q.tlv.present = SMPP_TLV_USER_MESSAGE_REFERENCE;
	q.tlv.user_message_reference = 7;
	uint8_t buf[128];
	size_t len;
	assert_int_equal(smpp_pdu_encode(&q, buf, sizeof(buf), &len), SY_OK);
	assert_int_equal(len, sizeof(submit_vec));
	assert_memory_equal(buf, submit_vec, len);
}

/* ---- malformed PDUs ---- */

struct raw {
	uint8_t b[600];
	size_t n;
};

static void r_bytes(struct raw *r, const void *p, size_t n)
{
	memcpy(r->b + r->n, p, n);
	r->n += n;
}
static void r_u8(struct raw *r, uint8_t v)
{
	r->b[r->n++] = v;
}
static void r_u32(struct raw *r, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	r_bytes(r, b, 4);
}
static void r_cstr(struct raw *r, const char *s)
{
	r_bytes(r, s, strlen(s) + 1);
}
static void r_rep(struct raw *r, char c, size_t n)
{
	memset(r->b + r->n, c, n);
	r->n += n;
}
static void r_hdr(struct raw *r, uint32_t id)
{
	r->n = 0;
	r_u32(r, 0);
	r_u32(r, id);
	r_u32(r, 0);
	r_u32(r, 42);
}
static void r_fix(struct raw *r)
{
	uint32_t n = (uint32_t)r->n;
	uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
	memcpy(r->b, b, 4);
}

/* submit_sm through data_coding/sm_default_msg_id with the given source
 * address bytes (already terminated or not). */
static void r_submit_head(struct raw *r, const char *src)
{
	r_hdr(r, SMPP_SUBMIT_SM);
	r_cstr(r, "");
	r_u8(r, 1);
	r_u8(r, 1);
	r_cstr(r, src);
	r_u8(r, 1);
	r_u8(r, 1);
	r_cstr(r, "447700900456");
	r_bytes(r, "\0\0\0", 3);
	r_cstr(r, "");
	r_cstr(r, "");
	r_bytes(r, "\0\0\0\0", 4);
}

static void r_sm(struct raw *r, uint8_t len, size_t actual)
{
	r_u8(r, len);
	r_rep(r, 'x', actual);
}

static void mk_ok(struct raw *r)
{
	r_submit_head(r, "447700900123");
	r_sm(r, 5, 5);
}
static void mk_src_no_nul(struct raw *r)
{
	r_hdr(r, SMPP_SUBMIT_SM);
	r_cstr(r, "");
	r_bytes(r, "\1\1", 2);
	r_rep(r, '4', 40); /* 21 octets and no NUL: the field's error */
	r_u8(r, 0);
	r_bytes(r, "\1\1", 2);
	r_cstr(r, "447700900456");
	r_rep(r, 0, 10);
}
static void mk_src_21(struct raw *r)
{
	r_submit_head(r, "123456789012345678901"); /* 21 chars + NUL: one too long */
	r_sm(r, 0, 0);
}
static void mk_src_20(struct raw *r)
{
	r_submit_head(r, "12345678901234567890"); /* exactly the maximum */
	r_sm(r, 0, 0);
}
static void mk_dst_long(struct raw *r)
{
	r_hdr(r, SMPP_SUBMIT_SM);
	r_cstr(r, "");
	r_bytes(r, "\1\1", 2);
	r_cstr(r, "447700900123");
	r_bytes(r, "\1\1", 2);
	r_cstr(r, "4477009004564477009004564477");
	r_rep(r, 0, 10);
}
static void mk_svc_long(struct raw *r)
{
	r_hdr(r, SMPP_SUBMIT_SM);
	r_cstr(r, "WAPPUSH");
	r_rep(r, 0, 40);
}
static void mk_sched_long(struct raw *r)
{
	r_hdr(r, SMPP_SUBMIT_SM);
	r_cstr(r, "");
	r_bytes(r, "\1\1", 2);
	r_cstr(r, "1");
	r_bytes(r, "\1\1", 2);
	r_cstr(r, "2");
	r_bytes(r, "\0\0\0", 3);
	r_cstr(r, "2501011200000000+");
	r_rep(r, 0, 10);
}
static void mk_valid_long(struct raw *r)
{
	r_hdr(r, SMPP_SUBMIT_SM);
	r_cstr(r, "");
	r_bytes(r, "\1\1", 2);
	r_cstr(r, "1");
	r_bytes(r, "\1\1", 2);
	r_cstr(r, "2");
	r_bytes(r, "\0\0\0", 3);
	r_cstr(r, "");
	r_cstr(r, "0000010000000000R");
	r_rep(r, 0, 10);
}
static void mk_sm_255(struct raw *r)
{
	r_submit_head(r, "1");
	r_sm(r, 255, 255);
}
static void mk_sm_254(struct raw *r)
{
	r_submit_head(r, "1");
	r_sm(r, 254, 254);
}
static void mk_sm_beyond(struct raw *r)
{
	r_submit_head(r, "1");
	r_sm(r, 10, 9);
}
static void mk_short_body(struct raw *r)
{
	r_submit_head(r, "1"); /* ends before sm_length */
}
static void mk_bind(struct raw *r, const char *sys, const char *pw, const char *type, const char *range)
{
	r_hdr(r, SMPP_BIND_TRANSCEIVER);
	r_cstr(r, sys);
	r_cstr(r, pw);
	r_cstr(r, type);
	r_bytes(r, "\x34\1\1", 3);
	r_cstr(r, range);
}
static void mk_bind_ok(struct raw *r)
{
	mk_bind(r, "abcdefghijklmno", "12345678", "abcdefghijkl", "");
}
static void mk_bind_sysid(struct raw *r)
{
	mk_bind(r, "abcdefghijklmnop", "pw", "", "");
}
static void mk_bind_pw(struct raw *r)
{
	mk_bind(r, "sys", "123456789", "", "");
}
static void mk_bind_type(struct raw *r)
{
	mk_bind(r, "sys", "pw", "abcdefghijklm", "");
}
static void mk_bind_range(struct raw *r)
{
	mk_bind(r, "sys", "pw", "", "01234567890123456789012345678901234567890");
}
static void mk_bind_no_range(struct raw *r)
{
	mk_bind(r, "sys", "pw", "", "");
	r->n -= 1; /* the address_range NUL is missing: truncated */
}
static void mk_unknown_cmd(struct raw *r)
{
	r_hdr(r, 0x00000021u); /* submit_multi: not supported */
	r_rep(r, 0, 8);
}
static void mk_unknown_resp(struct raw *r)
{
	r_hdr(r, 0x80000999u);
}
static void mk_enquire_body(struct raw *r)
{
	r_hdr(r, SMPP_ENQUIRE_LINK);
	r_u8(r, 0);
}
static void mk_tlv(struct raw *r, const uint8_t *t, size_t n)
{
	mk_ok(r);
	r_bytes(r, t, n);
}
static void mk_tlv_overrun(struct raw *r)
{
	mk_tlv(r, (const uint8_t[]){0x04, 0x24, 0x00, 0x10, 'a', 'b'}, 6);
}
static void mk_tlv_header_cut(struct raw *r)
{
	mk_tlv(r, (const uint8_t[]){0x02, 0x04, 0x00}, 3);
}
static void mk_tlv_badlen(struct raw *r)
{
	mk_tlv(r, (const uint8_t[]){0x02, 0x0C, 0x00, 0x03, 1, 2, 3}, 7); /* sar_msg_ref_num is 2 octets */
}
static void mk_tlv_state_empty(struct raw *r)
{
	mk_tlv(r, (const uint8_t[]){0x04, 0x27, 0x00, 0x00}, 4);
}
static void mk_tlv_rcpt_long(struct raw *r)
{
	static uint8_t t[4 + 70];
	memcpy(t, "\x00\x1E\x00\x46", 4);
	memset(t + 4, 'a', 70);
	mk_tlv(r, t, sizeof(t));
}
static void mk_tlv_netcode_bad(struct raw *r)
{
	mk_tlv(r, (const uint8_t[]){0x04, 0x23, 0x00, 0x02, 3, 1}, 6);
}
static void mk_tlv_empty_value(struct raw *r)
{
	mk_tlv(r, (const uint8_t[]){0x14, 0x00, 0x00, 0x00}, 4); /* unknown tag, zero length: fine */
}
static void mk_resp_err_nobody(struct raw *r)
{
	r_hdr(r, SMPP_SUBMIT_SM_RESP);
	r->b[11] = ESME_RTHROTTLED;
}
static void mk_resp_ok_nobody(struct raw *r)
{
	r_hdr(r, SMPP_SUBMIT_SM_RESP); /* ESME_ROK must carry its message_id */
}
static void mk_msgid_long(struct raw *r)
{
	r_hdr(r, SMPP_SUBMIT_SM_RESP);
	r_rep(r, 'f', 65);
	r_u8(r, 0);
}
static void mk_query_final_long(struct raw *r)
{
	r_hdr(r, SMPP_QUERY_SM_RESP);
	r_cstr(r, "id1");
	r_cstr(r, "25010112000000000");
	r_bytes(r, "\2\0", 2);
}
static void mk_data_sm_addr65(struct raw *r)
{
	r_hdr(r, SMPP_DATA_SM);
	r_cstr(r, "");
	r_bytes(r, "\5\0", 2);
	r_rep(r, 'a', 64); /* 64 chars is fine in data_sm */
	r_u8(r, 0);
	r_bytes(r, "\1\1", 2);
	r_rep(r, 'b', 65); /* 65 is not */
	r_u8(r, 0);
	r_bytes(r, "\0\0\0", 3);
}

struct bad_case {
	const char *name;
	void (*mk)(struct raw *);
	enum sy_rc rc;
	uint32_t status;
	int length_delta; /* added to command_length after r_fix */
};

static const struct bad_case bad_cases[] = {
    {"valid submit_sm", mk_ok, SY_OK, ESME_ROK, 0},
    {"command_length one more than the buffer", mk_ok, SY_ERR_PARSE, ESME_RINVCMDLEN, 1},
    {"command_length one less than the buffer", mk_ok, SY_ERR_PARSE, ESME_RINVCMDLEN, -1},
    {"source_addr without NUL", mk_src_no_nul, SY_ERR_PARSE, ESME_RINVSRCADR, 0},
    {"source_addr of 21 chars", mk_src_21, SY_ERR_PARSE, ESME_RINVSRCADR, 0},
    {"source_addr of 20 chars", mk_src_20, SY_OK, ESME_ROK, 0},
    {"destination_addr too long", mk_dst_long, SY_ERR_PARSE, ESME_RINVDSTADR, 0},
    {"service_type too long", mk_svc_long, SY_ERR_PARSE, ESME_RINVSERTYP, 0},
    {"schedule_delivery_time too long", mk_sched_long, SY_ERR_PARSE, ESME_RINVSCHED, 0},
    {"validity_period too long", mk_valid_long, SY_ERR_PARSE, ESME_RINVEXPIRY, 0},
    {"sm_length 255", mk_sm_255, SY_ERR_PARSE, ESME_RINVMSGLEN, 0},
    {"sm_length 254", mk_sm_254, SY_OK, ESME_ROK, 0},
    {"sm_length beyond the PDU", mk_sm_beyond, SY_ERR_PARSE, ESME_RINVMSGLEN, 0},
    {"body ends before sm_length", mk_short_body, SY_ERR_PARSE, ESME_RINVCMDLEN, 0},
    {"bind at every maximum", mk_bind_ok, SY_OK, ESME_ROK, 0},
    {"bind system_id of 16", mk_bind_sysid, SY_ERR_PARSE, ESME_RINVSYSID, 0},
    {"bind password of 9", mk_bind_pw, SY_ERR_PARSE, ESME_RINVPASWD, 0},
    {"bind system_type of 13", mk_bind_type, SY_ERR_PARSE, ESME_RINVSYSTYP, 0},
    {"bind address_range of 41", mk_bind_range, SY_ERR_PARSE, ESME_RINVPARLEN, 0},
    {"bind missing last NUL", mk_bind_no_range, SY_ERR_PARSE, ESME_RINVCMDLEN, 0},
    {"unknown command_id", mk_unknown_cmd, SY_ERR_PARSE, ESME_RINVCMDID, 0},
    {"unknown response id", mk_unknown_resp, SY_ERR_PARSE, ESME_RINVCMDID, 0},
    {"enquire_link with a body", mk_enquire_body, SY_ERR_PARSE, ESME_RINVCMDLEN, 0},
    {"TLV value overruns the PDU", mk_tlv_overrun, SY_ERR_PARSE, ESME_RINVTLVLEN, 0},
    {"TLV header cut after 3 octets", mk_tlv_header_cut, SY_ERR_PARSE, ESME_RINVOPTPARSTREAM, 0},
    {"sar_msg_ref_num of 3 octets", mk_tlv_badlen, SY_ERR_PARSE, ESME_RINVPARLEN, 0},
    {"message_state of 0 octets", mk_tlv_state_empty, SY_ERR_PARSE, ESME_RINVPARLEN, 0},
    {"receipted_message_id of 70", mk_tlv_rcpt_long, SY_ERR_PARSE, ESME_RINVPARLEN, 0},
    {"network_error_code of 2 octets", mk_tlv_netcode_bad, SY_ERR_PARSE, ESME_RINVPARLEN, 0},
    {"unknown TLV with empty value", mk_tlv_empty_value, SY_OK, ESME_ROK, 0},
    {"error submit_sm_resp without body", mk_resp_err_nobody, SY_OK, ESME_ROK, 0},
    {"ok submit_sm_resp without body", mk_resp_ok_nobody, SY_ERR_PARSE, ESME_RINVCMDLEN, 0},
    {"message_id of 65", mk_msgid_long, SY_ERR_PARSE, ESME_RINVMSGID, 0},
    {"query_sm_resp final_date too long", mk_query_final_long, SY_ERR_PARSE, ESME_RINVPARLEN, 0},
    {"data_sm 65-char destination", mk_data_sm_addr65, SY_ERR_PARSE, ESME_RINVDSTADR, 0},
};

static void test_malformed_table(void **state)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct raw r;
		c->mk(&r);
		r_fix(&r);
		uint32_t cl = (uint32_t)r.n + (uint32_t)c->length_delta;
		r.b[0] = (uint8_t)(cl >> 24), r.b[1] = (uint8_t)(cl >> 16), r.b[2] = (uint8_t)(cl >> 8);
		r.b[3] = (uint8_t)cl;
		uint8_t *exact = malloc(r.n);
		memcpy(exact, r.b, r.n);
		struct smpp_pdu p;
		uint32_t st = 12345;
		enum sy_rc rc = smpp_pdu_decode(exact, exact + r.n, &p, &st);
		if (rc != c->rc || st != c->status)
			fail_msg("%s: rc %s status %s, want %s %s", c->name, sy_rc_str(rc), smpp_status_name(st),
				 sy_rc_str(c->rc), smpp_status_name(c->status));
		/* The header is readable in every case here, so an answer can go back. */
		assert_int_equal(p.sequence_number, 42);
		free(exact);
	}
}

static void test_short_header(void **state)
{
	uint8_t b[16] = {0, 0, 0, 16, 0, 0, 0, 0x15};
	for (size_t n = 0; n < 16; n++) {
		uint8_t *exact = malloc(n ? n : 1);
		memcpy(exact, b, n);
		struct smpp_pdu p;
		uint32_t st = 0;
		assert_int_equal(smpp_pdu_decode(exact, exact + n, &p, &st), SY_ERR_PARSE);
		assert_int_equal(st, ESME_RINVCMDLEN);
		free(exact);
	}
	struct smpp_pdu p;
	uint32_t st;
	b[3] = 15; /* 16 bytes present, but command_length says 15 */
	assert_int_equal(smpp_pdu_decode(b, b + 16, &p, &st), SY_ERR_PARSE);
	assert_int_equal(st, ESME_RINVCMDLEN);
}

/* Cut a full submit_sm at every length and predict the status from where the
 * cut falls: mandatory part -> RINVCMDLEN, inside short_message ->
 * RINVMSGLEN, inside a TLV header -> RINVOPTPARSTREAM, inside a TLV value ->
 * RINVTLVLEN, on a TLV boundary -> OK with the TLVs before it. */
static void test_truncate_every_byte(void **state)
{
	struct smpp_pdu in;
	fill_all(&in, SMPP_SUBMIT_SM, 7);
	uint8_t buf[1024];
	size_t len;
	assert_int_equal(smpp_pdu_encode(&in, buf, sizeof(buf), &len), SY_OK);
	size_t sm_len_at = SMPP_HEADER_LEN + (in.service_type.len + 1) + 2 + (in.src.addr.len + 1) + 2 +
			   (in.dst.addr.len + 1) + 3 + (in.schedule_delivery_time.len + 1) +
			   (in.validity_period.len + 1) + 4;
	assert_int_equal(buf[sm_len_at], in.short_message.len);
	size_t tlv_at = sm_len_at + 1 + in.short_message.len;
	for (size_t k = 0; k < len; k++) {
		uint32_t want;
		size_t tlvs_before = 0;
		if (k <= sm_len_at) {
			want = ESME_RINVCMDLEN;
		} else if (k < tlv_at) {
			want = ESME_RINVMSGLEN;
		} else {
			size_t at = tlv_at;
			want = ESME_ROK;
			while (at < k) {
				size_t vlen = (size_t)buf[at + 2] << 8 | buf[at + 3];
				if (k < at + 4) {
					want = ESME_RINVOPTPARSTREAM;
					break;
				}
				if (k < at + 4 + vlen) {
					want = ESME_RINVTLVLEN;
					break;
				}
				at += 4 + vlen;
				tlvs_before++;
			}
		}
		uint8_t *exact = malloc(k ? k : 1);
		memcpy(exact, buf, k);
		if (k >= 4)
			exact[0] = 0, exact[1] = 0, exact[2] = (uint8_t)(k >> 8), exact[3] = (uint8_t)k;
		struct smpp_pdu out;
		uint32_t st = 999;
		enum sy_rc rc = smpp_pdu_decode(exact, exact + k, &out, &st);
		if (st != want || rc != (want == ESME_ROK ? SY_OK : SY_ERR_PARSE))
			fail_msg("cut at %zu: %s, want %s", k, smpp_status_name(st), smpp_status_name(want));
		if (want == ESME_ROK) {
			size_t seen = out.tlv.unknown_n;
			for (uint32_t b = out.tlv.present; b; b &= b - 1)
				seen++;
			assert_int_equal(seen, tlvs_before);
		}
		free(exact);
	}
}

static void test_unknown_tlvs_kept_and_skipped(void **state)
{
	struct raw r;
	mk_ok(&r);
	for (int i = 0; i < SMPP_TLV_UNKNOWN_MAX + 3; i++)
		r_bytes(&r, (const uint8_t[]){0x15, (uint8_t)i, 0x00, 0x01, (uint8_t)(0xA0 + i)}, 5);
	r_bytes(&r, (const uint8_t[]){0x04, 0x27, 0x00, 0x01, 0x02}, 5);
	r_fix(&r);
	struct smpp_pdu p;
	uint32_t st;
	assert_int_equal(smpp_pdu_decode(r.b, r.b + r.n, &p, &st), SY_OK);
	assert_int_equal(p.tlv.unknown_n, SMPP_TLV_UNKNOWN_MAX);
	assert_int_equal(p.tlv.unknown_skipped, 3);
	assert_int_equal(p.tlv.unknown[5].tag, 0x1505);
	assert_int_equal((uint8_t)p.tlv.unknown[5].value.p[0], 0xA5);
	assert_true(p.tlv.present & SMPP_TLV_MESSAGE_STATE);
	assert_int_equal(p.tlv.message_state, SMPP_STATE_DELIVERED);
}

static void test_receipted_id_without_nul(void **state)
{
	struct raw r;
	mk_ok(&r);
	r_bytes(&r, (const uint8_t[]){0x00, 0x1E, 0x00, 0x04, 'a', 'b', 'c', 'd'}, 8);
	r_fix(&r);
	struct smpp_pdu p;
	uint32_t st;
	assert_int_equal(smpp_pdu_decode(r.b, r.b + r.n, &p, &st), SY_OK);
	str_eq(p.tlv.receipted_message_id, S("abcd"));
}

/* ---- encode errors and builders ---- */

static void test_encode_errors(void **state)
{
	struct smpp_pdu p;
	uint8_t buf[1024];
	size_t len, full;
	fill_all(&p, SMPP_SUBMIT_SM, 1);
	assert_int_equal(smpp_pdu_encode(&p, buf, sizeof(buf), &full), SY_OK);
	for (size_t cap = 0; cap < full; cap++) {
		assert_int_equal(smpp_pdu_encode(&p, cap ? buf : NULL, cap, &len), SY_ERR_FULL);
		assert_int_equal(len, full);
	}
	static const struct {
		const char *name;
		size_t off; /* which sy_str to break */
		struct sy_str v;
	} bad[] = {
	    {"src 21", offsetof(struct smpp_pdu, src.addr), S("123456789012345678901")},
	    {"dst with NUL",
	     offsetof(struct smpp_pdu, dst.addr),
	     {"12\0"
	      "34",
	      5}},
	    {"service_type 6", offsetof(struct smpp_pdu, service_type), S("ABCDEF")},
	    {"validity 17", offsetof(struct smpp_pdu, validity_period), S("00000100000000000")},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++) {
		fill_all(&p, SMPP_SUBMIT_SM, 1);
		*(struct sy_str *)(void *)((char *)&p + bad[i].off) = bad[i].v;
		assert_int_equal(smpp_pdu_encode(&p, buf, sizeof(buf), &len), SY_ERR_INVAL);
	}
	static char big[300];
	fill_all(&p, SMPP_SUBMIT_SM, 1);
	p.short_message = (struct sy_str){big, 255};
	assert_int_equal(smpp_pdu_encode(&p, buf, sizeof(buf), &len), SY_ERR_INVAL);
	p.short_message = (struct sy_str){big, 254};
	assert_int_equal(smpp_pdu_encode(&p, buf, sizeof(buf), &len), SY_OK);
	p.tlv.message_payload = (struct sy_str){big, SMPP_PDU_LEN_MAX}; /* over the PDU bound */
	assert_int_equal(smpp_pdu_encode(&p, NULL, 0, &len), SY_ERR_INVAL);
	p.command_id = 0x21;
	assert_int_equal(smpp_pdu_encode(&p, buf, sizeof(buf), &len), SY_ERR_INVAL);
}

static void test_error_resp_has_no_body(void **state)
{
	struct smpp_pdu p, q;
	uint8_t buf[256];
	size_t len;
	uint32_t st;
	fill_all(&p, SMPP_SUBMIT_SM_RESP, 9);
	p.command_status = ESME_RTHROTTLED;
	assert_int_equal(smpp_pdu_encode(&p, buf, sizeof(buf), &len), SY_OK);
	assert_int_equal(len, SMPP_HEADER_LEN);
	assert_int_equal(smpp_pdu_decode(buf, buf + len, &q, &st), SY_OK);
	assert_int_equal(q.command_status, ESME_RTHROTTLED);
	assert_int_equal(q.message_id.len, 0);
}

static void test_builders(void **state)
{
	uint8_t buf[128];
	size_t len;
	struct smpp_pdu p;
	uint32_t st;
	static const uint8_t elr[] = {0, 0, 0, 16, 0x80, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0x01, 0x02};
	assert_int_equal(smpp_encode_enquire_link_resp(buf, sizeof(buf), &len, 0x102), SY_OK);
	assert_int_equal(len, 16);
	assert_memory_equal(buf, elr, 16);

	assert_int_equal(smpp_encode_generic_nack(buf, sizeof(buf), &len, ESME_RINVCMDID, 77), SY_OK);
	assert_int_equal(smpp_pdu_decode(buf, buf + len, &p, &st), SY_OK);
	assert_int_equal(p.command_id, SMPP_GENERIC_NACK);
	assert_int_equal(p.command_status, ESME_RINVCMDID);
	assert_int_equal(p.sequence_number, 77);

	assert_int_equal(smpp_encode_submit_sm_resp(buf, sizeof(buf), &len, ESME_ROK, 5, S("msg-000001")), SY_OK);
	assert_int_equal(len, 16 + 11);
	assert_int_equal(smpp_pdu_decode(buf, buf + len, &p, &st), SY_OK);
	assert_int_equal(p.command_id, SMPP_SUBMIT_SM_RESP);
	str_eq(p.message_id, S("msg-000001"));
	assert_int_equal(smpp_encode_submit_sm_resp(buf, 20, &len, ESME_ROK, 5, S("msg-000001")), SY_ERR_FULL);
	assert_int_equal(len, 27);
	assert_int_equal(smpp_encode_submit_sm_resp(buf, sizeof(buf), &len, ESME_RTHROTTLED, 6, S("x")), SY_OK);
	assert_int_equal(len, 16);
	char id65[66];
	memset(id65, 'a', 65);
	assert_int_equal(smpp_encode_submit_sm_resp(buf, sizeof(buf), &len, ESME_ROK, 6, (struct sy_str){id65, 65}),
			 SY_ERR_INVAL);

	assert_int_equal(smpp_encode_msgid_resp(buf, sizeof(buf), &len, SMPP_DELIVER_SM_RESP, ESME_ROK, 8, S("")),
			 SY_OK);
	assert_int_equal(len, 17);
	assert_int_equal(smpp_pdu_decode(buf, buf + len, &p, &st), SY_OK);
	assert_int_equal(p.command_id, SMPP_DELIVER_SM_RESP);

	assert_int_equal(smpp_encode_bind_resp(buf, sizeof(buf), &len, SMPP_BIND_TRANSCEIVER, ESME_ROK, 1, S("SMSC")),
			 SY_OK);
	assert_int_equal(smpp_pdu_decode(buf, buf + len, &p, &st), SY_OK);
	assert_int_equal(p.command_id, SMPP_BIND_TRANSCEIVER_RESP);
	str_eq(p.system_id, S("SMSC"));
	assert_true(p.tlv.present & SMPP_TLV_SC_INTERFACE_VERSION);
	assert_int_equal(p.tlv.sc_interface_version, 0x34);
	assert_int_equal(
	    smpp_encode_bind_resp(buf, sizeof(buf), &len, SMPP_BIND_RECEIVER_RESP, ESME_RINVPASWD, 2, S("SMSC")),
	    SY_OK);
	assert_int_equal(len, 16);
	assert_int_equal(smpp_pdu_decode(buf, buf + len, &p, &st), SY_OK);
	assert_int_equal(p.command_status, ESME_RINVPASWD);
}

static void test_names_and_nack_choice(void **state)
{
	assert_string_equal(smpp_status_name(ESME_RINVMSGLEN), "ESME_RINVMSGLEN");
	assert_string_equal(smpp_status_name(ESME_RTHROTTLED), "ESME_RTHROTTLED");
	assert_string_equal(smpp_status_name(ESME_RINVTLVLEN), "ESME_RINVPARLEN");
	assert_string_equal(smpp_status_name(0x1234), "ESME_UNKNOWN");
	assert_string_equal(smpp_cmd_name(SMPP_DATA_SM_RESP), "data_sm_resp");
	assert_string_equal(smpp_cmd_name(0x21), "unknown");
	for (size_t i = 0; i < SY_ARRAY_LEN(all_cmds); i++)
		assert_true(smpp_cmd_known(all_cmds[i]));
	static const struct {
		uint32_t cmd, status, want;
	} cases[] = {
	    {SMPP_SUBMIT_SM, ESME_RINVSRCADR, SMPP_SUBMIT_SM_RESP},
	    {SMPP_SUBMIT_SM, ESME_RINVMSGLEN, SMPP_SUBMIT_SM_RESP},
	    {SMPP_SUBMIT_SM, ESME_RINVCMDLEN, SMPP_GENERIC_NACK},
	    {SMPP_BIND_TRANSCEIVER, ESME_RINVPASWD, SMPP_BIND_TRANSCEIVER_RESP},
	    {0x21, ESME_RINVCMDID, SMPP_GENERIC_NACK},
	    {SMPP_DELIVER_SM_RESP, ESME_RINVMSGID, SMPP_GENERIC_NACK},
	    {SMPP_OUTBIND, ESME_RINVSYSID, SMPP_GENERIC_NACK},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++)
		assert_int_equal(smpp_error_resp_cmd(cases[i].cmd, cases[i].status), cases[i].want);
}

/* ---- framing ---- */

static void test_frame_len_table(void **state)
{
	static const struct {
		uint8_t b[8];
		size_t avail;
		enum sy_rc rc;
		size_t len;
	} cases[] = {
	    {{0}, 0, SY_AGAIN, 0},
	    {{0, 0, 0}, 3, SY_AGAIN, 0},
	    {{0, 0, 0, 16}, 4, SY_AGAIN, 16},
	    {{0, 0, 0, 16}, 16, SY_OK, 16},
	    {{0, 0, 0, 16}, 100, SY_OK, 16},
	    {{0, 0, 0, 15}, 4, SY_ERR_PARSE, 15},
	    {{0, 0, 0, 0}, 4, SY_ERR_PARSE, 0},
	    {{0, 1, 0, 0}, 4, SY_AGAIN, 65536},
	    {{0, 1, 0, 1}, 4, SY_ERR_PARSE, 65537},
	    {{0xFF, 0xFF, 0xFF, 0xFF}, 8, SY_ERR_PARSE, 0xFFFFFFFF},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		size_t len = 0;
		uint8_t big[128] = {0};
		memcpy(big, cases[i].b, sizeof(cases[i].b));
		assert_int_equal(smpp_frame_len(big, cases[i].avail, &len), cases[i].rc);
		if (cases[i].avail >= 4)
			assert_int_equal(len, cases[i].len);
	}
}

/* Bytes fed one at a time through a reassembly buffer give the same PDUs,
 * in order, as decoding the whole stream at once. */
static void test_split_feed(void **state)
{
	uint8_t stream[4096];
	size_t n = 0, len;
	uint32_t ids[SY_ARRAY_LEN(all_cmds)];
	for (size_t i = 0; i < SY_ARRAY_LEN(all_cmds); i++) {
		struct smpp_pdu p;
		fill_all(&p, all_cmds[i], (uint32_t)i + 1);
		assert_int_equal(smpp_pdu_encode(&p, stream + n, sizeof(stream) - n, &len), SY_OK);
		n += len;
		ids[i] = all_cmds[i];
	}
	/* One buffer. */
	size_t at = 0, count = 0, plen;
	while (smpp_frame_len(stream + at, n - at, &plen) == SY_OK) {
		struct smpp_pdu p;
		uint32_t st;
		assert_int_equal(smpp_pdu_decode(stream + at, stream + at + plen, &p, &st), SY_OK);
		assert_int_equal(p.command_id, ids[count]);
		at += plen;
		count++;
	}
	assert_int_equal(at, n);
	assert_int_equal(count, SY_ARRAY_LEN(all_cmds));
	/* Byte by byte. */
	uint8_t acc[1024];
	size_t have = 0, got = 0;
	for (size_t i = 0; i < n; i++) {
		acc[have++] = stream[i];
		enum sy_rc rc = smpp_frame_len(acc, have, &plen);
		if (rc == SY_AGAIN)
			continue;
		assert_int_equal(rc, SY_OK);
		assert_int_equal(plen, have); /* ready exactly at the PDU's last byte */
		struct smpp_pdu p;
		uint32_t st;
		assert_int_equal(smpp_pdu_decode(acc, acc + plen, &p, &st), SY_OK);
		assert_int_equal(p.command_id, ids[got]);
		assert_int_equal(p.sequence_number, got + 1);
		got++;
		have = 0;
	}
	assert_int_equal(got, SY_ARRAY_LEN(all_cmds));
	assert_int_equal(have, 0);
}

/* Every fuzz seed and every input that once crashed goes through the
 * harness again (SQLite's fuzzcheck): the harness asserts its invariants. */
static void test_fuzz_regressions(void **state)
{
	static const char *dirs[] = {"fuzz/corpus/smpp_pdu"};
	size_t files = 0;
	for (size_t i = 0; i < SY_ARRAY_LEN(dirs); i++) {
		DIR *d = opendir(dirs[i]);
		assert_non_null(d);
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char path[512];
			snprintf(path, sizeof(path), "%s/%s", dirs[i], e->d_name);
			FILE *f = fopen(path, "rb");
			assert_non_null(f);
			static uint8_t buf[SMPP_PDU_LEN_MAX];
			size_t n = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			assert_int_equal(LLVMFuzzerTestOneInput(buf, n), 0);
			files++;
		}
		closedir(d);
	}
	assert_true(files >= 13);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_every_pdu),
	    cmocka_unit_test(test_submit_sm_vector),
	    cmocka_unit_test(test_malformed_table),
	    cmocka_unit_test(test_short_header),
	    cmocka_unit_test(test_truncate_every_byte),
	    cmocka_unit_test(test_unknown_tlvs_kept_and_skipped),
	    cmocka_unit_test(test_receipted_id_without_nul),
	    cmocka_unit_test(test_encode_errors),
	    cmocka_unit_test(test_error_resp_has_no_body),
	    cmocka_unit_test(test_builders),
	    cmocka_unit_test(test_names_and_nack_choice),
	    cmocka_unit_test(test_frame_len_table),
	    cmocka_unit_test(test_split_feed),
	    cmocka_unit_test(test_fuzz_regressions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
