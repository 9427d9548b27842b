/* pdu.h: the SMPP 3.4 PDU codec. Decoding is zero-copy (string and octet
 * fields are sy_str slices into the caller's buffer) and checks every length
 * from the wire; encoding writes into a caller buffer. No IO, no allocation.
 * Command ids, command_status values, TON/NPI, esm_class, registered_delivery
 * and message_state values live here as enums. */
#ifndef SY_SMPP_PDU_H
#define SY_SMPP_PDU_H

#include "core/base.h"

/* ---- sizes ---- */

enum {
	SMPP_HEADER_LEN = 16,
	/* Largest command_length accepted or produced: a bound on what a peer can
	 * make us buffer. */
	SMPP_PDU_LEN_MAX = 64 * 1024,
	SMPP_SM_LEN_MAX = 254, /* short_message octets */
	SMPP_INTERFACE_VERSION = 0x34,
	SMPP_TLV_UNKNOWN_MAX = 8, /* unknown TLVs kept per PDU; the rest are skipped */
};

/* Maximum C-octet string lengths WITHOUT the terminating NUL (the spec gives
 * them with the NUL: system_id 16, password 9, ...). */
enum {
	SMPP_SYSTEM_ID_MAX = 15,
	SMPP_PASSWORD_MAX = 8,
	SMPP_SYSTEM_TYPE_MAX = 12,
	SMPP_ADDRESS_RANGE_MAX = 40,
	SMPP_SERVICE_TYPE_MAX = 5,
	SMPP_ADDR_MAX = 20,   /* source/destination_addr in submit/deliver/query/cancel/replace */
	SMPP_ADDR65_MAX = 64, /* source/destination_addr in data_sm, alert_notification */
	SMPP_TIME_MAX = 16,   /* schedule_delivery_time, validity_period, final_date */
	SMPP_MESSAGE_ID_MAX = 64,
};

/* ---- command ids ---- */

enum smpp_cmd {
	SMPP_GENERIC_NACK = 0x80000000u,
	SMPP_BIND_RECEIVER = 0x00000001u,
	SMPP_BIND_RECEIVER_RESP = 0x80000001u,
	SMPP_BIND_TRANSMITTER = 0x00000002u,
	SMPP_BIND_TRANSMITTER_RESP = 0x80000002u,
	SMPP_QUERY_SM = 0x00000003u,
	SMPP_QUERY_SM_RESP = 0x80000003u,
	SMPP_SUBMIT_SM = 0x00000004u,
	SMPP_SUBMIT_SM_RESP = 0x80000004u,
	SMPP_DELIVER_SM = 0x00000005u,
	SMPP_DELIVER_SM_RESP = 0x80000005u,
	SMPP_UNBIND = 0x00000006u,
	SMPP_UNBIND_RESP = 0x80000006u,
	SMPP_REPLACE_SM = 0x00000007u,
	SMPP_REPLACE_SM_RESP = 0x80000007u,
	SMPP_CANCEL_SM = 0x00000008u,
	SMPP_CANCEL_SM_RESP = 0x80000008u,
	SMPP_BIND_TRANSCEIVER = 0x00000009u,
	SMPP_BIND_TRANSCEIVER_RESP = 0x80000009u,
	SMPP_OUTBIND = 0x0000000Bu,
	SMPP_ENQUIRE_LINK = 0x00000015u,
	SMPP_ENQUIRE_LINK_RESP = 0x80000015u,
	SMPP_ALERT_NOTIFICATION = 0x00000102u,
	SMPP_DATA_SM = 0x00000103u,
	SMPP_DATA_SM_RESP = 0x80000103u,
};
#define SMPP_RESP_BIT 0x80000000u

static inline bool smpp_cmd_is_resp(uint32_t command_id)
{
	return (command_id & SMPP_RESP_BIT) != 0;
}
/* True for the command ids this codec knows (all of enum smpp_cmd). */
bool smpp_cmd_known(uint32_t command_id);
/* "submit_sm", "bind_transceiver_resp", ...; "unknown" otherwise. */
const char *smpp_cmd_name(uint32_t command_id);

/* ---- command_status ---- */

enum smpp_status {
	ESME_ROK = 0x00,
	ESME_RINVMSGLEN = 0x01,
	ESME_RINVCMDLEN = 0x02,
	ESME_RINVCMDID = 0x03,
	ESME_RINVBNDSTS = 0x04,
	ESME_RALYBND = 0x05,
	ESME_RINVPRTFLG = 0x06,
	ESME_RINVREGDLVFLG = 0x07,
	ESME_RSYSERR = 0x08,
	ESME_RINVSRCADR = 0x0A,
	ESME_RINVDSTADR = 0x0B,
	ESME_RINVMSGID = 0x0C,
	ESME_RBINDFAIL = 0x0D,
	ESME_RINVPASWD = 0x0E,
	ESME_RINVSYSID = 0x0F,
	ESME_RCANCELFAIL = 0x11,
	ESME_RREPLACEFAIL = 0x13,
	ESME_RMSGQFUL = 0x14,
	ESME_RINVSERTYP = 0x15,
	ESME_RINVNUMDESTS = 0x33,
	ESME_RINVDLNAME = 0x34,
	ESME_RINVDESTFLAG = 0x40,
	ESME_RINVSUBREP = 0x42,
	ESME_RINVESMCLASS = 0x43,
	ESME_RCNTSUBDL = 0x44,
	ESME_RSUBMITFAIL = 0x45,
	ESME_RINVSRCTON = 0x48,
	ESME_RINVSRCNPI = 0x49,
	ESME_RINVDSTTON = 0x50,
	ESME_RINVDSTNPI = 0x51,
	ESME_RINVSYSTYP = 0x53,
	ESME_RINVREPFLAG = 0x54,
	ESME_RINVNUMMSGS = 0x55,
	ESME_RTHROTTLED = 0x58,
	ESME_RINVSCHED = 0x61,
	ESME_RINVEXPIRY = 0x62,
	ESME_RINVDFTMSGID = 0x63,
	ESME_RX_T_APPN = 0x64,
	ESME_RX_P_APPN = 0x65,
	ESME_RX_R_APPN = 0x66,
	ESME_RQUERYFAIL = 0x67,
	ESME_RINVOPTPARSTREAM = 0xC0, /* TLV header truncated */
	ESME_ROPTPARNOTALLWD = 0xC1,
	ESME_RINVPARLEN = 0xC2, /* TLV length overrun or wrong for its tag */
	ESME_RMISSINGOPTPARAM = 0xC3,
	ESME_RINVOPTPARAMVAL = 0xC4,
	ESME_RDELIVERYFAILURE = 0xFE,
	ESME_RUNKNOWNERR = 0xFF,
	/* SMPP 5.0 names for the same values. */
	ESME_RINVTLVSTREAM = ESME_RINVOPTPARSTREAM,
	ESME_RINVTLVLEN = ESME_RINVPARLEN,
	ESME_RINVTLVVAL = ESME_RINVOPTPARAMVAL,
};
/* "ESME_RINVMSGLEN", ...; "ESME_UNKNOWN" for values not in the enum. */
const char *smpp_status_name(uint32_t status);

/* ---- field values ---- */

enum smpp_ton {
	SMPP_TON_UNKNOWN = 0,
	SMPP_TON_INTERNATIONAL = 1,
	SMPP_TON_NATIONAL = 2,
	SMPP_TON_NETWORK = 3,
	SMPP_TON_SUBSCRIBER = 4,
	SMPP_TON_ALPHANUMERIC = 5,
	SMPP_TON_ABBREVIATED = 6,
};

enum smpp_npi {
	SMPP_NPI_UNKNOWN = 0,
	SMPP_NPI_E164 = 1,
	SMPP_NPI_DATA = 3,
	SMPP_NPI_TELEX = 4,
	SMPP_NPI_LAND_MOBILE = 6,
	SMPP_NPI_NATIONAL = 8,
	SMPP_NPI_PRIVATE = 9,
	SMPP_NPI_ERMES = 10,
	SMPP_NPI_INTERNET = 14,
	SMPP_NPI_WAP = 18,
};

/* esm_class: bits 1-0 messaging mode, 5-2 message type, 7-6 GSM features. */
enum smpp_esm {
	SMPP_ESM_MODE_MASK = 0x03,
	SMPP_ESM_MODE_DEFAULT = 0x00,
	SMPP_ESM_MODE_DATAGRAM = 0x01,
	SMPP_ESM_MODE_FORWARD = 0x02,
	SMPP_ESM_MODE_STORE_FORWARD = 0x03,
	SMPP_ESM_TYPE_MASK = 0x3C,
	SMPP_ESM_TYPE_DEFAULT = 0x00,
	SMPP_ESM_TYPE_DELIVERY_RECEIPT = 0x04, /* deliver_sm carrying an SMSC receipt */
	SMPP_ESM_TYPE_DELIVERY_ACK = 0x08,
	SMPP_ESM_TYPE_USER_ACK = 0x10,
	SMPP_ESM_TYPE_CONVERSATION_ABORT = 0x18,
	SMPP_ESM_TYPE_INTERMEDIATE_NOTIFICATION = 0x20,
	SMPP_ESM_UDHI = 0x40, /* short_message starts with a UDH */
	SMPP_ESM_REPLY_PATH = 0x80,
};

/* registered_delivery: bits 1-0 SMSC receipt, 3-2 SME ack, bit 4 intermediate. */
enum smpp_regdlv {
	SMPP_REGDLV_SMSC_MASK = 0x03,
	SMPP_REGDLV_SMSC_NONE = 0x00,
	SMPP_REGDLV_SMSC_ALWAYS = 0x01,	 /* receipt on success or failure */
	SMPP_REGDLV_SMSC_FAILURE = 0x02, /* receipt on failure only */
	SMPP_REGDLV_SME_ACK_MASK = 0x0C,
	SMPP_REGDLV_SME_ACK_DELIVERY = 0x04,
	SMPP_REGDLV_SME_ACK_USER = 0x08,
	SMPP_REGDLV_INTERMEDIATE = 0x10,
};

enum smpp_message_state {
	SMPP_STATE_ENROUTE = 1,
	SMPP_STATE_DELIVERED = 2,
	SMPP_STATE_EXPIRED = 3,
	SMPP_STATE_DELETED = 4,
	SMPP_STATE_UNDELIVERABLE = 5,
	SMPP_STATE_ACCEPTED = 6,
	SMPP_STATE_UNKNOWN = 7,
	SMPP_STATE_REJECTED = 8,
};

enum smpp_data_coding {
	SMPP_DC_DEFAULT = 0x00, /* SMSC default alphabet: GSM 03.38 here */
	SMPP_DC_IA5 = 0x01,
	SMPP_DC_BINARY = 0x02,
	SMPP_DC_LATIN1 = 0x03,
	SMPP_DC_BINARY2 = 0x04,
	SMPP_DC_UCS2 = 0x08,
};

enum smpp_ussd_op {
	SMPP_USSD_PSSD_IND = 0,
	SMPP_USSD_PSSR_IND = 1,
	SMPP_USSD_USSR_REQ = 2,
	SMPP_USSD_USSN_REQ = 3,
	SMPP_USSD_PSSD_RESP = 16,
	SMPP_USSD_PSSR_RESP = 17,
	SMPP_USSD_USSR_CONF = 18,
	SMPP_USSD_USSN_CONF = 19,
};

/* ---- TLVs ---- */

enum smpp_tlv_tag {
	SMPP_TAG_DEST_ADDR_SUBUNIT = 0x0005,
	SMPP_TAG_SOURCE_ADDR_SUBUNIT = 0x000D,
	SMPP_TAG_PAYLOAD_TYPE = 0x0019,
	SMPP_TAG_ADDITIONAL_STATUS_INFO_TEXT = 0x001D,
	SMPP_TAG_RECEIPTED_MESSAGE_ID = 0x001E,
	SMPP_TAG_USER_MESSAGE_REFERENCE = 0x0204,
	SMPP_TAG_SOURCE_PORT = 0x020A,
	SMPP_TAG_DESTINATION_PORT = 0x020B,
	SMPP_TAG_SAR_MSG_REF_NUM = 0x020C,
	SMPP_TAG_SAR_TOTAL_SEGMENTS = 0x020E,
	SMPP_TAG_SAR_SEGMENT_SEQNUM = 0x020F,
	SMPP_TAG_SC_INTERFACE_VERSION = 0x0210,
	SMPP_TAG_NETWORK_ERROR_CODE = 0x0423,
	SMPP_TAG_MESSAGE_PAYLOAD = 0x0424,
	SMPP_TAG_MORE_MESSAGES_TO_SEND = 0x0426,
	SMPP_TAG_MESSAGE_STATE = 0x0427,
	SMPP_TAG_USSD_SERVICE_OP = 0x0501,
	SMPP_TAG_ITS_SESSION_INFO = 0x1383,
};

/* Which decoded TLVs are present (struct smpp_tlvs.present). */
enum smpp_tlv_bit {
	SMPP_TLV_MESSAGE_PAYLOAD = 1u << 0,
	SMPP_TLV_RECEIPTED_MESSAGE_ID = 1u << 1,
	SMPP_TLV_MESSAGE_STATE = 1u << 2,
	SMPP_TLV_SAR_MSG_REF_NUM = 1u << 3,
	SMPP_TLV_SAR_TOTAL_SEGMENTS = 1u << 4,
	SMPP_TLV_SAR_SEGMENT_SEQNUM = 1u << 5,
	SMPP_TLV_USER_MESSAGE_REFERENCE = 1u << 6,
	SMPP_TLV_USSD_SERVICE_OP = 1u << 7,
	SMPP_TLV_ITS_SESSION_INFO = 1u << 8,
	SMPP_TLV_SC_INTERFACE_VERSION = 1u << 9,
	SMPP_TLV_NETWORK_ERROR_CODE = 1u << 10,
};

struct smpp_tlv_raw {
	uint16_t tag;
	struct sy_str value;
};

struct smpp_tlvs {
	uint32_t present;		    /* enum smpp_tlv_bit; only fields whose bit is set are meaningful */
	struct sy_str message_payload;	    /* octets, up to the PDU bound */
	struct sy_str receipted_message_id; /* C-octet string on the wire; slice has no NUL; <= 64 */
	uint8_t message_state;		    /* enum smpp_message_state */
	uint16_t sar_msg_ref_num;
	uint8_t sar_total_segments;
	uint8_t sar_segment_seqnum;
	uint16_t user_message_reference;
	uint8_t ussd_service_op; /* enum smpp_ussd_op */
	uint16_t its_session_info;
	uint8_t sc_interface_version;
	uint8_t network_error_type; /* network_error_code: type (1 GSM, 2 ANSI-136 ...) */
	uint16_t network_error_code;
	/* Unknown TLVs in wire order, re-encoded by smpp_pdu_encode() after the
	 * known ones so a relay forwards them; beyond SMPP_TLV_UNKNOWN_MAX they
	 * are skipped and counted. */
	uint16_t unknown_n;
	uint16_t unknown_skipped;
	struct smpp_tlv_raw unknown[SMPP_TLV_UNKNOWN_MAX];
};

/* ---- the PDU ---- */

struct smpp_addr {
	uint8_t ton; /* enum smpp_ton */
	uint8_t npi; /* enum smpp_npi */
	struct sy_str addr;
};

/* One struct for every PDU: which fields are on the wire depends on
 * command_id (listed per field). Strings are slices WITHOUT the NUL; an
 * absent/empty C-string is {p?, 0}. After decode they point into the input
 * buffer, so the buffer must outlive the struct. */
struct smpp_pdu {
	uint32_t command_length; /* decode: from the header; encode: ignored (computed) */
	uint32_t command_id;	 /* enum smpp_cmd */
	uint32_t command_status; /* enum smpp_status */
	uint32_t sequence_number;

	/* bind_*: all; bind_*_resp: system_id; outbind: system_id, password */
	struct sy_str system_id;
	struct sy_str password;
	struct sy_str system_type;
	uint8_t interface_version;
	struct smpp_addr address_range; /* addr_ton, addr_npi, address_range */

	/* submit_sm, deliver_sm: all below through short_message.
	 * data_sm: service_type, src, dst, esm_class, registered_delivery, data_coding.
	 * query_sm: message_id, src.  cancel_sm: service_type, message_id, src, dst.
	 * replace_sm: message_id, src, schedule_delivery_time, validity_period,
	 *   registered_delivery, sm_default_msg_id, short_message.
	 * alert_notification: src (source_addr), dst (esme_addr). */
	struct sy_str service_type;
	struct smpp_addr src;
	struct smpp_addr dst;
	uint8_t esm_class; /* enum smpp_esm bits */
	uint8_t protocol_id;
	uint8_t priority_flag;
	struct sy_str schedule_delivery_time;
	struct sy_str validity_period;
	uint8_t registered_delivery; /* enum smpp_regdlv bits */
	uint8_t replace_if_present_flag;
	uint8_t data_coding; /* enum smpp_data_coding */
	uint8_t sm_default_msg_id;
	struct sy_str short_message; /* octets, <= SMPP_SM_LEN_MAX */

	/* submit_sm_resp, data_sm_resp, deliver_sm_resp (normally empty),
	 * query_sm(_resp), cancel_sm, replace_sm */
	struct sy_str message_id;
	/* query_sm_resp */
	struct sy_str final_date;
	uint8_t message_state; /* enum smpp_message_state */
	uint8_t error_code;

	struct smpp_tlvs tlv;
};

/* ---- framing ---- */

/* Stream framing: SY_AGAIN while fewer than 4 bytes or fewer than
 * command_length bytes are available (*pdu_len is set once 4 bytes are in);
 * SY_ERR_PARSE when command_length < 16 or > SMPP_PDU_LEN_MAX (the stream
 * cannot be resynchronised: answer generic_nack ESME_RINVCMDLEN and close);
 * SY_OK with *pdu_len = command_length otherwise. */
enum sy_rc smpp_frame_len(const uint8_t *p, size_t avail, size_t *pdu_len);

/* ---- decode ---- */

/* Decodes exactly one PDU occupying [p, end) (a frame from smpp_frame_len).
 * SY_OK: *out is filled, *status_out = ESME_ROK.
 * SY_ERR_PARSE: *status_out is the command_status to answer with; out's
 * header fields (command_id, sequence_number) are set when at least 16 bytes
 * were present, so the caller can answer (see smpp_error_resp_cmd()).
 * Statuses: ESME_RINVCMDLEN (header short, command_length != end - p, body
 * shorter than its mandatory fields, or bytes after a header-only PDU),
 * ESME_RINVCMDID (unknown command_id: answer generic_nack), ESME_RINVMSGLEN
 * (sm_length > 254 or beyond the PDU), a field's own status for a C-string
 * with no NUL within its max (ESME_RINVSYSID, ESME_RINVPASWD, ESME_RINVSYSTYP,
 * ESME_RINVSERTYP, ESME_RINVSRCADR, ESME_RINVDSTADR, ESME_RINVMSGID,
 * ESME_RINVSCHED, ESME_RINVEXPIRY, ESME_RINVPARLEN for address_range and
 * final_date), ESME_RINVOPTPARSTREAM (fewer than 4 bytes left for a TLV
 * header), ESME_RINVTLVLEN (== ESME_RINVPARLEN: TLV length beyond the PDU or
 * wrong for a known tag). Response PDUs with a non-zero command_status may
 * have an empty body. Never reads outside [p, end). */
enum sy_rc smpp_pdu_decode(const uint8_t *p, const uint8_t *end, struct smpp_pdu *out, uint32_t *status_out);

/* The command_id to answer a failed decode with: the request's _resp, or
 * SMPP_GENERIC_NACK for unknown ids, ESME_RINVCMDLEN, and responses. */
uint32_t smpp_error_resp_cmd(uint32_t command_id, uint32_t status);

/* ---- encode ---- */

/* Zeroes *pdu and sets the header (interface_version = 0x34). */
void smpp_pdu_init(struct smpp_pdu *pdu, uint32_t command_id, uint32_t sequence_number);

/* Encodes *pdu (all fields of its command_id and every TLV whose bit is set,
 * then tlv.unknown[]). SY_ERR_FULL when cap is too small; SY_ERR_INVAL when a
 * field breaks its bound (string over max or containing NUL, short_message >
 * 254, PDU > SMPP_PDU_LEN_MAX, unknown command_id). *len is the PDU length. */
enum sy_rc smpp_pdu_encode(const struct smpp_pdu *pdu, uint8_t *buf, size_t cap, size_t *len);

/* Fast response builders for the hot path (no struct smpp_pdu needed). */
/* enquire_link(_resp), unbind(_resp), generic_nack, cancel_sm_resp,
 * replace_sm_resp: a bare 16-byte header. */
enum sy_rc smpp_encode_header(uint8_t *buf, size_t cap, size_t *len, uint32_t command_id, uint32_t status,
			      uint32_t seq);
static inline enum sy_rc smpp_encode_generic_nack(uint8_t *buf, size_t cap, size_t *len, uint32_t status, uint32_t seq)
{
	return smpp_encode_header(buf, cap, len, SMPP_GENERIC_NACK, status, seq);
}
static inline enum sy_rc smpp_encode_enquire_link_resp(uint8_t *buf, size_t cap, size_t *len, uint32_t seq)
{
	return smpp_encode_header(buf, cap, len, SMPP_ENQUIRE_LINK_RESP, ESME_ROK, seq);
}
/* submit_sm_resp / deliver_sm_resp / data_sm_resp: header + message_id
 * (omitted entirely, as the spec allows, when status != ESME_ROK). */
enum sy_rc smpp_encode_msgid_resp(uint8_t *buf, size_t cap, size_t *len, uint32_t command_id, uint32_t status,
				  uint32_t seq, struct sy_str message_id);
static inline enum sy_rc smpp_encode_submit_sm_resp(uint8_t *buf, size_t cap, size_t *len, uint32_t status,
						    uint32_t seq, struct sy_str message_id)
{
	return smpp_encode_msgid_resp(buf, cap, len, SMPP_SUBMIT_SM_RESP, status, seq, message_id);
}
/* bind_{receiver,transmitter,transceiver}_resp: header + system_id (+ the
 * sc_interface_version TLV 0x34 when status is ESME_ROK). command_id may be
 * the bind request's id or its _resp. */
enum sy_rc smpp_encode_bind_resp(uint8_t *buf, size_t cap, size_t *len, uint32_t command_id, uint32_t status,
				 uint32_t seq, struct sy_str system_id);

#endif
