/* codec.h: USSD dialogue messages over SMPP 3.4. A struct ussd_msg is one
 * dialogue unit between the gateway and an operator's USSD node; on the
 * wire it is a deliver_sm (node -> gateway: the handset's PSSR indication
 * or USSR confirm, a release) or a submit_sm (gateway -> node: USSR request
 * to continue, PSSR response to end, USSN), data_sm accepted too, with:
 *
 *   ussd_service_op (0x0501)   the dialogue operation (enum smpp_ussd_op)
 *   its_session_info (0x1383)  octet 1: session number; octet 2: sequence
 *                              number << 1 | end-of-session bit
 *     or user_message_reference (0x0204): the session reference, per link
 *   source/destination_addr    the subscriber and the service code
 *   short_message / message_payload: the text, GSM 03.38 (data_coding 0)
 *                              or UCS2 (8), Latin-1 (3), IA5 (1) accepted
 *
 * Release: the end bit of its_session_info, or a vendor ussd_service_op
 * value configured per link (release_op). Pure computation on the PDU
 * codec (core/smpp/pdu.h) and the text codec (core/smpp/text.h). */
#ifndef SY_USSD_CODEC_H
#define SY_USSD_CODEC_H

#include "core/smpp/pdu.h"
#include "core/ussd/ussd.h"

/* A USSD string is at most 182 GSM characters (160 octets packed); UTF-8
 * takes up to 3 bytes for each (UCS2 text: 80 characters of up to 3). */
#define USSD_TEXT_UTF8_MAX (182 * 3 + 1)

struct ussd_codec_cfg {
	enum ussd_ref_kind ref;
	uint8_t release_op; /* 0: none */
};

struct ussd_msg {
	uint8_t op;		      /* enum smpp_ussd_op (or release_op) */
	bool release;		      /* end of the dialogue (end bit or release_op) */
	uint16_t ref;		      /* session reference: its_session_info octet 1, or user_message_reference */
	uint8_t seq;		      /* its_session_info sequence number (0..127); 0 with user_message_reference */
	char msisdn[USSD_MSISDN_MAX]; /* the subscriber: deliver_sm source_addr / submit_sm destination_addr */
	char code[USSD_CODE_MAX]; /* the service side address: deliver_sm destination_addr / submit_sm source_addr */
	size_t text_len;
	char text[USSD_TEXT_UTF8_MAX]; /* UTF-8, NUL-terminated */
};

/* PDU -> message. deliver_sm, submit_sm and data_sm only. SY_ERR_PARSE with
 * *status the response status: ESME_RMISSINGOPTPARAM (no ussd_service_op,
 * or no session reference of the link's kind), ESME_RINVOPTPARAMVAL (an op
 * outside the SMPP 3.4 values and not the release op), ESME_RINVSRCADR /
 * ESME_RINVDSTADR (an address that does not fit or is empty), ESME_RINVMSGLEN
 * (text that does not decode or exceeds a USSD string), ESME_RINVCMDID
 * (another command). */
enum sy_rc ussd_msg_from_pdu(const struct ussd_codec_cfg *c, const struct smpp_pdu *pdu, struct ussd_msg *out,
			     uint32_t *status);

/* Message -> PDU: command_id SMPP_SUBMIT_SM (gateway -> node) or
 * SMPP_DELIVER_SM (a simulated node -> gateway); text as GSM 03.38 when it
 * fits, else UCS2. The PDU's strings and short_message point into m and buf
 * (cap >= 2 * USSD_TEXT_UTF8_MAX is always enough); sequence_number is left
 * to the session. SY_ERR_INVAL: a text over a USSD string, or a field over
 * its SMPP bound. */
enum sy_rc ussd_msg_to_pdu(const struct ussd_codec_cfg *c, const struct ussd_msg *m, uint32_t command_id,
			   struct smpp_pdu *pdu, uint8_t *buf, size_t cap);

/* The service a dialled string reaches, and the inputs after it: "*123*1*2#"
 * reaches a service "*123#" with *inputs = "1*2" ("" when none). A code
 * without the leading '*' or trailing '#' ("123") matches as well. Returns
 * the index of the longest matching code in svc[0..n), or -1. */
int ussd_code_match(const struct ussd_service_cfg *svc, uint32_t n, struct sy_str dialled, struct sy_str *inputs);

#endif
