/* pdu.c: the SMPP 3.4 codec. Each PDU body is a table of fields (C-string,
 * octet, short_message) that one decode loop and one encode loop walk, so the
 * bounds are written once; TLVs follow the mandatory part. */
#include "core/smpp/pdu.h"

#include <stddef.h>

/* ---- the field tables ---- */

enum fld_kind { F_U8, F_CSTR, F_SM };

struct fld {
	uint8_t kind;
	uint8_t max;	/* F_CSTR: length without the NUL */
	uint8_t status; /* F_CSTR: what an unterminated string is answered with */
	uint16_t off;	/* offsetof(struct smpp_pdu, field) */
};

#define U8(f)                                                                                                          \
	{                                                                                                              \
		F_U8, 0, 0, offsetof(struct smpp_pdu, f)                                                               \
	}
#define CS(f, m, st)                                                                                                   \
	{                                                                                                              \
		F_CSTR, (m), (st), offsetof(struct smpp_pdu, f)                                                        \
	}
#define ADDR(f, m, st) U8(f.ton), U8(f.npi), CS(f.addr, m, st)
#define SM()                                                                                                           \
	{                                                                                                              \
		F_SM, 0, 0, offsetof(struct smpp_pdu, short_message)                                                   \
	}

static const struct fld f_bind[] = {
    CS(system_id, SMPP_SYSTEM_ID_MAX, ESME_RINVSYSID),
    CS(password, SMPP_PASSWORD_MAX, ESME_RINVPASWD),
    CS(system_type, SMPP_SYSTEM_TYPE_MAX, ESME_RINVSYSTYP),
    U8(interface_version),
    ADDR(address_range, SMPP_ADDRESS_RANGE_MAX, ESME_RINVPARLEN),
};
static const struct fld f_bind_resp[] = {CS(system_id, SMPP_SYSTEM_ID_MAX, ESME_RINVSYSID)};
static const struct fld f_outbind[] = {
    CS(system_id, SMPP_SYSTEM_ID_MAX, ESME_RINVSYSID),
    CS(password, SMPP_PASSWORD_MAX, ESME_RINVPASWD),
};
static const struct fld f_sm[] = {
    CS(service_type, SMPP_SERVICE_TYPE_MAX, ESME_RINVSERTYP),
    ADDR(src, SMPP_ADDR_MAX, ESME_RINVSRCADR),
    ADDR(dst, SMPP_ADDR_MAX, ESME_RINVDSTADR),
    U8(esm_class),
    U8(protocol_id),
    U8(priority_flag),
    CS(schedule_delivery_time, SMPP_TIME_MAX, ESME_RINVSCHED),
    CS(validity_period, SMPP_TIME_MAX, ESME_RINVEXPIRY),
    U8(registered_delivery),
    U8(replace_if_present_flag),
    U8(data_coding),
    U8(sm_default_msg_id),
    SM(),
};
static const struct fld f_data_sm[] = {
    CS(service_type, SMPP_SERVICE_TYPE_MAX, ESME_RINVSERTYP),
    ADDR(src, SMPP_ADDR65_MAX, ESME_RINVSRCADR),
    ADDR(dst, SMPP_ADDR65_MAX, ESME_RINVDSTADR),
    U8(esm_class),
    U8(registered_delivery),
    U8(data_coding),
};
static const struct fld f_msgid[] = {CS(message_id, SMPP_MESSAGE_ID_MAX, ESME_RINVMSGID)};
static const struct fld f_query[] = {
    CS(message_id, SMPP_MESSAGE_ID_MAX, ESME_RINVMSGID),
    ADDR(src, SMPP_ADDR_MAX, ESME_RINVSRCADR),
};
static const struct fld f_query_resp[] = {
    CS(message_id, SMPP_MESSAGE_ID_MAX, ESME_RINVMSGID),
    CS(final_date, SMPP_TIME_MAX, ESME_RINVPARLEN),
    U8(message_state),
    U8(error_code),
};
static const struct fld f_cancel[] = {
    CS(service_type, SMPP_SERVICE_TYPE_MAX, ESME_RINVSERTYP),
    CS(message_id, SMPP_MESSAGE_ID_MAX, ESME_RINVMSGID),
    ADDR(src, SMPP_ADDR_MAX, ESME_RINVSRCADR),
    ADDR(dst, SMPP_ADDR_MAX, ESME_RINVDSTADR),
};
static const struct fld f_replace[] = {
    CS(message_id, SMPP_MESSAGE_ID_MAX, ESME_RINVMSGID),
    ADDR(src, SMPP_ADDR_MAX, ESME_RINVSRCADR),
    CS(schedule_delivery_time, SMPP_TIME_MAX, ESME_RINVSCHED),
    CS(validity_period, SMPP_TIME_MAX, ESME_RINVEXPIRY),
    U8(registered_delivery),
    U8(sm_default_msg_id),
    SM(),
};
static const struct fld f_alert[] = {
    ADDR(src, SMPP_ADDR65_MAX, ESME_RINVSRCADR),
    ADDR(dst, SMPP_ADDR65_MAX, ESME_RINVDSTADR),
};

struct cmd_desc {
	uint32_t id;
	const char *name;
	const struct fld *f; /* NULL: header only */
	uint8_t n;
};

#define D(id, name, tab)                                                                                               \
	{                                                                                                              \
		id, name, tab, SY_ARRAY_LEN(tab)                                                                       \
	}
#define H(id, name)                                                                                                    \
	{                                                                                                              \
		id, name, NULL, 0                                                                                      \
	}

/* Searched in order: the four commands of every message come first. */
static const struct cmd_desc cmds[] = {
    D(SMPP_SUBMIT_SM, "submit_sm", f_sm),
    D(SMPP_SUBMIT_SM_RESP, "submit_sm_resp", f_msgid),
    D(SMPP_DELIVER_SM, "deliver_sm", f_sm),
    D(SMPP_DELIVER_SM_RESP, "deliver_sm_resp", f_msgid),
    H(SMPP_GENERIC_NACK, "generic_nack"),
    D(SMPP_BIND_RECEIVER, "bind_receiver", f_bind),
    D(SMPP_BIND_RECEIVER_RESP, "bind_receiver_resp", f_bind_resp),
    D(SMPP_BIND_TRANSMITTER, "bind_transmitter", f_bind),
    D(SMPP_BIND_TRANSMITTER_RESP, "bind_transmitter_resp", f_bind_resp),
    D(SMPP_QUERY_SM, "query_sm", f_query),
    D(SMPP_QUERY_SM_RESP, "query_sm_resp", f_query_resp),
    H(SMPP_UNBIND, "unbind"),
    H(SMPP_UNBIND_RESP, "unbind_resp"),
    D(SMPP_REPLACE_SM, "replace_sm", f_replace),
    H(SMPP_REPLACE_SM_RESP, "replace_sm_resp"),
    D(SMPP_CANCEL_SM, "cancel_sm", f_cancel),
    H(SMPP_CANCEL_SM_RESP, "cancel_sm_resp"),
    D(SMPP_BIND_TRANSCEIVER, "bind_transceiver", f_bind),
    D(SMPP_BIND_TRANSCEIVER_RESP, "bind_transceiver_resp", f_bind_resp),
    D(SMPP_OUTBIND, "outbind", f_outbind),
    H(SMPP_ENQUIRE_LINK, "enquire_link"),
    H(SMPP_ENQUIRE_LINK_RESP, "enquire_link_resp"),
    D(SMPP_ALERT_NOTIFICATION, "alert_notification", f_alert),
    D(SMPP_DATA_SM, "data_sm", f_data_sm),
    D(SMPP_DATA_SM_RESP, "data_sm_resp", f_msgid),
};

static const struct cmd_desc *cmd_find(uint32_t id)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(cmds); i++)
		if (cmds[i].id == id)
			return &cmds[i];
	return NULL;
}

bool smpp_cmd_known(uint32_t command_id)
{
	return cmd_find(command_id) != NULL;
}

const char *smpp_cmd_name(uint32_t command_id)
{
	const struct cmd_desc *d = cmd_find(command_id);
	return d ? d->name : "unknown";
}

#define ST(x)                                                                                                          \
	{                                                                                                              \
		x, #x                                                                                                  \
	}
static const struct {
	uint32_t status;
	const char *name;
} statuses[] = {
    ST(ESME_ROK),
    ST(ESME_RINVMSGLEN),
    ST(ESME_RINVCMDLEN),
    ST(ESME_RINVCMDID),
    ST(ESME_RINVBNDSTS),
    ST(ESME_RALYBND),
    ST(ESME_RINVPRTFLG),
    ST(ESME_RINVREGDLVFLG),
    ST(ESME_RSYSERR),
    ST(ESME_RINVSRCADR),
    ST(ESME_RINVDSTADR),
    ST(ESME_RINVMSGID),
    ST(ESME_RBINDFAIL),
    ST(ESME_RINVPASWD),
    ST(ESME_RINVSYSID),
    ST(ESME_RCANCELFAIL),
    ST(ESME_RREPLACEFAIL),
    ST(ESME_RMSGQFUL),
    ST(ESME_RINVSERTYP),
    ST(ESME_RINVNUMDESTS),
    ST(ESME_RINVDLNAME),
    ST(ESME_RINVDESTFLAG),
    ST(ESME_RINVSUBREP),
    ST(ESME_RINVESMCLASS),
    ST(ESME_RCNTSUBDL),
    ST(ESME_RSUBMITFAIL),
    ST(ESME_RINVSRCTON),
    ST(ESME_RINVSRCNPI),
    ST(ESME_RINVDSTTON),
    ST(ESME_RINVDSTNPI),
    ST(ESME_RINVSYSTYP),
    ST(ESME_RINVREPFLAG),
    ST(ESME_RINVNUMMSGS),
    ST(ESME_RTHROTTLED),
    ST(ESME_RINVSCHED),
    ST(ESME_RINVEXPIRY),
    ST(ESME_RINVDFTMSGID),
    ST(ESME_RX_T_APPN),
    ST(ESME_RX_P_APPN),
    ST(ESME_RX_R_APPN),
    ST(ESME_RQUERYFAIL),
    ST(ESME_RINVOPTPARSTREAM),
    ST(ESME_ROPTPARNOTALLWD),
    ST(ESME_RINVPARLEN),
    ST(ESME_RMISSINGOPTPARAM),
    ST(ESME_RINVOPTPARAMVAL),
    ST(ESME_RDELIVERYFAILURE),
    ST(ESME_RUNKNOWNERR),
};
#undef ST

const char *smpp_status_name(uint32_t status)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(statuses); i++)
		if (statuses[i].status == status)
			return statuses[i].name;
	return "ESME_UNKNOWN";
}

uint32_t smpp_error_resp_cmd(uint32_t command_id, uint32_t status)
{
	if (status == ESME_RINVCMDLEN || status == ESME_RINVCMDID || smpp_cmd_is_resp(command_id) ||
	    !smpp_cmd_known(command_id) || command_id == SMPP_OUTBIND || command_id == SMPP_ALERT_NOTIFICATION)
		return SMPP_GENERIC_NACK;
	return command_id | SMPP_RESP_BIT;
}

/* ---- framing ---- */

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

enum sy_rc smpp_frame_len(const uint8_t *p, size_t avail, size_t *pdu_len)
{
	SY_ASSERT(pdu_len != NULL);
	if (avail < 4)
		return SY_AGAIN;
	SY_ASSERT(p != NULL);
	uint32_t n = get32(p);
	*pdu_len = n;
	if (n < SMPP_HEADER_LEN || n > SMPP_PDU_LEN_MAX)
		return SY_ERR_PARSE;
	return avail < n ? SY_AGAIN : SY_OK;
}

/* ---- decode ---- */

struct rd {
	const uint8_t *p, *end;
	uint32_t status; /* first error; ESME_ROK while all is well */
};

static bool rd_fail(struct rd *r, uint32_t status)
{
	if (r->status == ESME_ROK)
		r->status = status;
	return false;
}

/* An unterminated string is the field's error only when the bytes for its
 * full length were there; when the PDU ends first it is simply truncated. */
static bool rd_cstr(struct rd *r, struct sy_str *s, size_t max, uint32_t status)
{
	size_t left = (size_t)(r->end - r->p);
	size_t scan = SY_MIN(left, max + 1);
	const uint8_t *nul = memchr(r->p, 0, scan);
	if (nul == NULL)
		return rd_fail(r, left <= max ? ESME_RINVCMDLEN : status);
	*s = (struct sy_str){(const char *)r->p, (size_t)(nul - r->p)};
	r->p = nul + 1;
	return true;
}

static bool rd_field(struct rd *r, const struct fld *f, struct smpp_pdu *out)
{
	char *base = (char *)out;
	if (f->kind == F_CSTR)
		return rd_cstr(r, (struct sy_str *)(void *)(base + f->off), f->max, f->status);
	if (r->p >= r->end)
		return rd_fail(r, ESME_RINVCMDLEN);
	uint8_t v = *r->p++;
	if (f->kind == F_U8) {
		*(uint8_t *)(base + f->off) = v;
		return true;
	}
	/* F_SM: sm_length then the octets. */
	if (v > SMPP_SM_LEN_MAX || v > (size_t)(r->end - r->p))
		return rd_fail(r, ESME_RINVMSGLEN);
	*(struct sy_str *)(void *)(base + f->off) = (struct sy_str){(const char *)r->p, v};
	r->p += v;
	return true;
}

/* Integer TLVs: one row each, shared by decode and encode. */
struct tlv_int {
	uint16_t tag;
	uint8_t size; /* 1 or 2 octets on the wire, and in the struct */
	uint32_t bit;
	uint16_t off; /* offsetof(struct smpp_tlvs, field) */
};

#define TI(tag, size, bit, f)                                                                                          \
	{                                                                                                              \
		tag, size, bit, offsetof(struct smpp_tlvs, f)                                                          \
	}

static const struct tlv_int tlv_ints[] = {
    TI(SMPP_TAG_MESSAGE_STATE, 1, SMPP_TLV_MESSAGE_STATE, message_state),
    TI(SMPP_TAG_SAR_MSG_REF_NUM, 2, SMPP_TLV_SAR_MSG_REF_NUM, sar_msg_ref_num),
    TI(SMPP_TAG_SAR_TOTAL_SEGMENTS, 1, SMPP_TLV_SAR_TOTAL_SEGMENTS, sar_total_segments),
    TI(SMPP_TAG_SAR_SEGMENT_SEQNUM, 1, SMPP_TLV_SAR_SEGMENT_SEQNUM, sar_segment_seqnum),
    TI(SMPP_TAG_USER_MESSAGE_REFERENCE, 2, SMPP_TLV_USER_MESSAGE_REFERENCE, user_message_reference),
    TI(SMPP_TAG_USSD_SERVICE_OP, 1, SMPP_TLV_USSD_SERVICE_OP, ussd_service_op),
    TI(SMPP_TAG_ITS_SESSION_INFO, 2, SMPP_TLV_ITS_SESSION_INFO, its_session_info),
    TI(SMPP_TAG_SC_INTERFACE_VERSION, 1, SMPP_TLV_SC_INTERFACE_VERSION, sc_interface_version),
};

/* Returns true when the tag was known and handled (or failed: see r->status). */
static bool rd_tlv_int(struct rd *r, uint16_t tag, const uint8_t *v, uint16_t len, struct smpp_tlvs *t)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(tlv_ints); i++) {
		const struct tlv_int *ti = &tlv_ints[i];
		if (ti->tag != tag)
			continue;
		if (len != ti->size)
			return !rd_fail(r, ESME_RINVPARLEN);
		char *f = (char *)t + ti->off;
		if (ti->size == 1)
			*(uint8_t *)f = v[0];
		else
			*(uint16_t *)(void *)f = get16(v);
		t->present |= ti->bit;
		return true;
	}
	return false;
}

static void rd_tlv_other(struct rd *r, uint16_t tag, const uint8_t *v, uint16_t len, struct smpp_tlvs *t)
{
	const uint8_t *nul;
	switch (tag) {
	case SMPP_TAG_MESSAGE_PAYLOAD:
		t->message_payload = (struct sy_str){(const char *)v, len};
		t->present |= SMPP_TLV_MESSAGE_PAYLOAD;
		return;
	case SMPP_TAG_RECEIPTED_MESSAGE_ID:
		/* A C-octet string; some SMSCs leave out the NUL, so accept both. */
		nul = memchr(v, 0, len);
		t->receipted_message_id = (struct sy_str){(const char *)v, nul ? (size_t)(nul - v) : len};
		if (len == 0 || t->receipted_message_id.len > SMPP_MESSAGE_ID_MAX) {
			rd_fail(r, ESME_RINVPARLEN);
			return;
		}
		t->present |= SMPP_TLV_RECEIPTED_MESSAGE_ID;
		return;
	case SMPP_TAG_NETWORK_ERROR_CODE:
		if (len != 3) {
			rd_fail(r, ESME_RINVPARLEN);
			return;
		}
		t->network_error_type = v[0];
		t->network_error_code = get16(v + 1);
		t->present |= SMPP_TLV_NETWORK_ERROR_CODE;
		return;
	default:
		break;
	}
	if (t->unknown_n < SMPP_TLV_UNKNOWN_MAX)
		t->unknown[t->unknown_n++] = (struct smpp_tlv_raw){tag, {(const char *)v, len}};
	else
		t->unknown_skipped++;
}

static bool rd_tlvs(struct rd *r, struct smpp_tlvs *t)
{
	while (r->p < r->end) {
		if (r->end - r->p < 4)
			return rd_fail(r, ESME_RINVOPTPARSTREAM);
		uint16_t tag = get16(r->p), len = get16(r->p + 2);
		const uint8_t *v = r->p + 4;
		if (len > (size_t)(r->end - v))
			return rd_fail(r, ESME_RINVTLVLEN);
		if (!rd_tlv_int(r, tag, v, len, t))
			rd_tlv_other(r, tag, v, len, t);
		if (r->status != ESME_ROK)
			return false;
		r->p = v + len;
	}
	return true;
}

static enum sy_rc dec_fail(uint32_t *status_out, uint32_t status)
{
	*status_out = status;
	return SY_ERR_PARSE;
}

enum sy_rc smpp_pdu_decode(const uint8_t *p, const uint8_t *end, struct smpp_pdu *out, uint32_t *status_out)
{
	SY_ASSERT(p != NULL && end >= p && out != NULL && status_out != NULL);
	memset(out, 0, sizeof(*out));
	size_t n = (size_t)(end - p);
	if (n < SMPP_HEADER_LEN)
		return dec_fail(status_out, ESME_RINVCMDLEN);
	out->command_length = get32(p);
	out->command_id = get32(p + 4);
	out->command_status = get32(p + 8);
	out->sequence_number = get32(p + 12);
	if (out->command_length != n || n > SMPP_PDU_LEN_MAX)
		return dec_fail(status_out, ESME_RINVCMDLEN);
	const struct cmd_desc *d = cmd_find(out->command_id);
	if (d == NULL)
		return dec_fail(status_out, ESME_RINVCMDID);
	struct rd r = {p + SMPP_HEADER_LEN, end, ESME_ROK};
	/* An error response may come without its body (SMPP 3.4 §4). */
	bool bodyless_ok = smpp_cmd_is_resp(out->command_id) && out->command_status != ESME_ROK;
	if (r.p == r.end && (d->f == NULL || bodyless_ok)) {
		*status_out = ESME_ROK;
		return SY_OK;
	}
	if (d->f == NULL)
		return dec_fail(status_out, ESME_RINVCMDLEN);
	for (size_t i = 0; i < d->n; i++)
		if (!rd_field(&r, &d->f[i], out))
			return dec_fail(status_out, r.status);
	/* TLVs are accepted after any body, even where 3.4 lists none: peers
	 * add vendor TLVs, and a relay should carry them rather than refuse. */
	if (!rd_tlvs(&r, &out->tlv))
		return dec_fail(status_out, r.status);
	*status_out = ESME_ROK;
	return SY_OK;
}

/* ---- encode ---- */

/* Writes while they fit and keeps counting after, so the caller learns the
 * size; `bad` records a field that breaks its bound. */
struct wr {
	uint8_t *buf;
	size_t cap, n;
	bool bad;
};

static void wr_bytes(struct wr *w, const void *p, size_t len)
{
	if (len != 0 && w->n + len <= w->cap)
		memcpy(w->buf + w->n, p, len);
	w->n += len;
}
static void wr_u8(struct wr *w, uint8_t v)
{
	wr_bytes(w, &v, 1);
}
static void wr_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	wr_bytes(w, b, 2);
}
static void wr_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4];
	put32(b, v);
	wr_bytes(w, b, 4);
}
static void wr_cstr(struct wr *w, struct sy_str s, size_t max)
{
	if (s.len > max || (s.len != 0 && memchr(s.p, 0, s.len) != NULL)) {
		w->bad = true;
		return;
	}
	wr_bytes(w, s.p, s.len);
	wr_u8(w, 0);
}

static void wr_field(struct wr *w, const struct fld *f, const struct smpp_pdu *pdu)
{
	const char *base = (const char *)pdu;
	if (f->kind == F_U8) {
		wr_u8(w, *(const uint8_t *)(base + f->off));
	} else if (f->kind == F_CSTR) {
		wr_cstr(w, *(const struct sy_str *)(const void *)(base + f->off), f->max);
	} else {
		struct sy_str sm = *(const struct sy_str *)(const void *)(base + f->off);
		if (sm.len > SMPP_SM_LEN_MAX) {
			w->bad = true;
			return;
		}
		wr_u8(w, (uint8_t)sm.len);
		wr_bytes(w, sm.p, sm.len);
	}
}

static void wr_tlv(struct wr *w, uint16_t tag, const void *v, size_t len)
{
	if (len > 0xFFFF) {
		w->bad = true;
		return;
	}
	wr_u16(w, tag);
	wr_u16(w, (uint16_t)len);
	wr_bytes(w, v, len);
}

static void wr_tlvs(struct wr *w, const struct smpp_tlvs *t)
{
	if (t->present & SMPP_TLV_MESSAGE_PAYLOAD)
		wr_tlv(w, SMPP_TAG_MESSAGE_PAYLOAD, t->message_payload.p, t->message_payload.len);
	if (t->present & SMPP_TLV_RECEIPTED_MESSAGE_ID) {
		struct sy_str id = t->receipted_message_id;
		wr_u16(w, SMPP_TAG_RECEIPTED_MESSAGE_ID);
		wr_u16(w, (uint16_t)(SY_MIN(id.len, 0xFFFEu) + 1));
		wr_cstr(w, id, SMPP_MESSAGE_ID_MAX);
	}
	for (size_t i = 0; i < SY_ARRAY_LEN(tlv_ints); i++) {
		const struct tlv_int *ti = &tlv_ints[i];
		if (!(t->present & ti->bit))
			continue;
		const char *f = (const char *)t + ti->off;
		wr_u16(w, ti->tag);
		wr_u16(w, ti->size);
		if (ti->size == 1)
			wr_u8(w, *(const uint8_t *)f);
		else
			wr_u16(w, *(const uint16_t *)(const void *)f);
	}
	if (t->present & SMPP_TLV_NETWORK_ERROR_CODE) {
		uint8_t v[3] = {t->network_error_type, (uint8_t)(t->network_error_code >> 8),
				(uint8_t)t->network_error_code};
		wr_tlv(w, SMPP_TAG_NETWORK_ERROR_CODE, v, 3);
	}
	SY_ASSERT(t->unknown_n <= SMPP_TLV_UNKNOWN_MAX);
	for (size_t i = 0; i < t->unknown_n; i++)
		wr_tlv(w, t->unknown[i].tag, t->unknown[i].value.p, t->unknown[i].value.len);
}

static enum sy_rc wr_finish(struct wr *w, size_t *len)
{
	*len = w->n;
	if (w->bad || w->n > SMPP_PDU_LEN_MAX)
		return SY_ERR_INVAL;
	if (w->n > w->cap)
		return SY_ERR_FULL;
	put32(w->buf, (uint32_t)w->n);
	return SY_OK;
}

void smpp_pdu_init(struct smpp_pdu *pdu, uint32_t command_id, uint32_t sequence_number)
{
	SY_ASSERT(pdu != NULL);
	memset(pdu, 0, sizeof(*pdu));
	pdu->command_id = command_id;
	pdu->sequence_number = sequence_number;
	pdu->interface_version = SMPP_INTERFACE_VERSION;
}

enum sy_rc smpp_pdu_encode(const struct smpp_pdu *pdu, uint8_t *buf, size_t cap, size_t *len)
{
	SY_ASSERT(pdu != NULL && len != NULL && (buf != NULL || cap == 0));
	const struct cmd_desc *d = cmd_find(pdu->command_id);
	*len = 0;
	if (d == NULL)
		return SY_ERR_INVAL;
	struct wr w = {buf, cap, 0, false};
	wr_u32(&w, 0); /* command_length, patched by wr_finish */
	wr_u32(&w, pdu->command_id);
	wr_u32(&w, pdu->command_status);
	wr_u32(&w, pdu->sequence_number);
	/* Error responses go without a body, as SMPP 3.4 asks. */
	bool body = d->f != NULL && !(smpp_cmd_is_resp(pdu->command_id) && pdu->command_status != ESME_ROK);
	if (body) {
		for (size_t i = 0; i < d->n; i++)
			wr_field(&w, &d->f[i], pdu);
		wr_tlvs(&w, &pdu->tlv);
	}
	return wr_finish(&w, len);
}

enum sy_rc smpp_encode_header(uint8_t *buf, size_t cap, size_t *len, uint32_t command_id, uint32_t status, uint32_t seq)
{
	SY_ASSERT(len != NULL && (buf != NULL || cap == 0));
	struct wr w = {buf, cap, 0, false};
	wr_u32(&w, 0);
	wr_u32(&w, command_id);
	wr_u32(&w, status);
	wr_u32(&w, seq);
	return wr_finish(&w, len);
}

enum sy_rc smpp_encode_msgid_resp(uint8_t *buf, size_t cap, size_t *len, uint32_t command_id, uint32_t status,
				  uint32_t seq, struct sy_str message_id)
{
	SY_ASSERT(len != NULL && (buf != NULL || cap == 0));
	struct wr w = {buf, cap, 0, false};
	wr_u32(&w, 0);
	wr_u32(&w, command_id);
	wr_u32(&w, status);
	wr_u32(&w, seq);
	if (status == ESME_ROK)
		wr_cstr(&w, message_id, SMPP_MESSAGE_ID_MAX);
	return wr_finish(&w, len);
}

enum sy_rc smpp_encode_bind_resp(uint8_t *buf, size_t cap, size_t *len, uint32_t command_id, uint32_t status,
				 uint32_t seq, struct sy_str system_id)
{
	SY_ASSERT(len != NULL && (buf != NULL || cap == 0));
	struct wr w = {buf, cap, 0, false};
	wr_u32(&w, 0);
	wr_u32(&w, command_id | SMPP_RESP_BIT);
	wr_u32(&w, status);
	wr_u32(&w, seq);
	if (status == ESME_ROK) {
		uint8_t v = SMPP_INTERFACE_VERSION;
		wr_cstr(&w, system_id, SMPP_SYSTEM_ID_MAX);
		wr_tlv(&w, SMPP_TAG_SC_INTERFACE_VERSION, &v, 1);
	}
	return wr_finish(&w, len);
}
