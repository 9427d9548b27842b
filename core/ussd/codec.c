/* codec.c: USSD dialogue messages <-> SMPP 3.4 PDUs (codec.h). Decoding
 * checks everything a node sends before the engine sees it: the command,
 * the operation, the session reference of the link's kind, both addresses
 * (the subscriber as digits, the service side as printable ASCII, so
 * neither can smuggle bytes into an HTTP form or a record), and the text
 * against the USSD bound of 182 GSM characters (3GPP 23.038: 160 octets of
 * packed septets), whatever coding it came in. */
#include <string.h>

#include "core/smpp/text.h"
#include "core/ussd/codec.h"

/* A USSD string: 160 octets, i.e. 182 packed septets (23.038 §6.1.2.3),
 * or 80 UCS2 units. */
#define USSD_GSM_SEPTETS_MAX 182u
#define USSD_UCS2_OCTETS_MAX 160u

_Static_assert(USSD_GSM_SEPTETS_MAX <= SMPP_SM_LEN_MAX, "a USSD string fits short_message unpacked");
_Static_assert(USSD_MSISDN_MAX - 1 <= SMPP_ADDR_MAX, "an MSISDN fits source_addr");

/* ---- its_session_info (SMPP 3.4 §5.3.2.43) ---- */

static uint16_t its_pack(uint8_t session, uint8_t seq, bool end)
{
	return (uint16_t)((unsigned)session << 8 | (unsigned)(seq & 0x7F) << 1 | (end ? 1u : 0u));
}

static bool op_known(uint8_t op)
{
	switch (op) {
	case SMPP_USSD_PSSD_IND:
	case SMPP_USSD_PSSR_IND:
	case SMPP_USSD_USSR_REQ:
	case SMPP_USSD_USSN_REQ:
	case SMPP_USSD_PSSD_RESP:
	case SMPP_USSD_PSSR_RESP:
	case SMPP_USSD_USSR_CONF:
	case SMPP_USSD_USSN_CONF:
		return true;
	default:
		return false;
	}
}

/* ---- addresses ---- */

static bool msisdn_ok(struct sy_str a)
{
	if (a.len == 0 || a.len >= USSD_MSISDN_MAX)
		return false;
	size_t i = a.p[0] == '+' ? 1 : 0;
	if (i == a.len)
		return false;
	for (; i < a.len; i++)
		if (a.p[i] < '0' || a.p[i] > '9')
			return false;
	return true;
}

static bool code_ok(struct sy_str a)
{
	if (a.len == 0 || a.len >= USSD_CODE_MAX)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (a.p[i] <= ' ' || a.p[i] > '~')
			return false;
	return true;
}

static void str_copy(char *dst, struct sy_str s)
{
	memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
}

/* ---- text in ---- */

static enum sy_rc latin1_to_utf8(struct sy_str in, bool ascii_only, char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	for (size_t i = 0; i < in.len; i++) {
		uint8_t c = (uint8_t)in.p[i];
		if (c >= 0x80 && ascii_only)
			return SY_ERR_PARSE;
		if (n + 2 > cap)
			return SY_ERR_FULL;
		if (c < 0x80) {
			out[n++] = (char)c;
		} else {
			out[n++] = (char)(0xC0 | c >> 6);
			out[n++] = (char)(0x80 | (c & 0x3F));
		}
	}
	*len = n;
	return SY_OK;
}

/* The text of a PDU as UTF-8 into m->text: short_message, or
 * message_payload when short_message is empty (both set is an error, as
 * SMPP 3.4 §5.3.2.32 says). */
static bool text_from_pdu(const struct smpp_pdu *pdu, struct ussd_msg *m)
{
	struct sy_str t = pdu->short_message;
	if (pdu->tlv.present & SMPP_TLV_MESSAGE_PAYLOAD) {
		if (t.len != 0)
			return false;
		t = pdu->tlv.message_payload;
	}
	if (pdu->esm_class & SMPP_ESM_UDHI)
		return false; /* USSD strings carry no user data header */
	const size_t cap = sizeof(m->text) - 1;
	enum sy_rc rc;
	switch (pdu->data_coding) {
	case SMPP_DC_DEFAULT:
		if (t.len > USSD_GSM_SEPTETS_MAX)
			return false;
		rc = smpp_gsm_to_utf8((const uint8_t *)t.p, t.len, m->text, cap, &m->text_len);
		break;
	case SMPP_DC_IA5:
	case SMPP_DC_LATIN1:
		if (t.len > USSD_GSM_SEPTETS_MAX)
			return false;
		rc = latin1_to_utf8(t, pdu->data_coding == SMPP_DC_IA5, m->text, cap, &m->text_len);
		break;
	case SMPP_DC_UCS2:
		if (t.len > USSD_UCS2_OCTETS_MAX)
			return false;
		rc = smpp_ucs2_to_utf8((const uint8_t *)t.p, t.len, m->text, cap, &m->text_len);
		break;
	default:
		return false;
	}
	/* A NUL would cut the text short wherever it is used as a C string. */
	if (rc != SY_OK || memchr(m->text, 0, m->text_len) != NULL)
		return false;
	m->text[m->text_len] = '\0';
	return true;
}

/* ---- PDU -> message ---- */

static enum sy_rc from_fail(uint32_t *status, uint32_t st)
{
	*status = st;
	return SY_ERR_PARSE;
}

static uint32_t ref_from_pdu(const struct ussd_codec_cfg *c, const struct smpp_tlvs *t, struct ussd_msg *m)
{
	if (c->ref == USSD_REF_ITS_SESSION_INFO) {
		if (!(t->present & SMPP_TLV_ITS_SESSION_INFO))
			return ESME_RMISSINGOPTPARAM;
		m->ref = (uint16_t)(t->its_session_info >> 8);
		m->seq = (uint8_t)((t->its_session_info & 0xFF) >> 1);
		m->release = (t->its_session_info & 1) != 0;
		return ESME_ROK;
	}
	if (!(t->present & SMPP_TLV_USER_MESSAGE_REFERENCE))
		return ESME_RMISSINGOPTPARAM;
	m->ref = t->user_message_reference;
	m->seq = 0;
	m->release = false;
	return ESME_ROK;
}

enum sy_rc ussd_msg_from_pdu(const struct ussd_codec_cfg *c, const struct smpp_pdu *pdu, struct ussd_msg *out,
			     uint32_t *status)
{
	const struct smpp_addr *sub, *svc;
	uint32_t sub_bad, svc_bad;
	switch (pdu->command_id) {
	case SMPP_DELIVER_SM:
	case SMPP_DATA_SM: /* node -> gateway, as deliver_sm */
		sub = &pdu->src, svc = &pdu->dst;
		sub_bad = ESME_RINVSRCADR, svc_bad = ESME_RINVDSTADR;
		break;
	case SMPP_SUBMIT_SM:
		sub = &pdu->dst, svc = &pdu->src;
		sub_bad = ESME_RINVDSTADR, svc_bad = ESME_RINVSRCADR;
		break;
	default:
		return from_fail(status, ESME_RINVCMDID);
	}
	const struct smpp_tlvs *t = &pdu->tlv;
	if (!(t->present & SMPP_TLV_USSD_SERVICE_OP))
		return from_fail(status, ESME_RMISSINGOPTPARAM);
	out->op = t->ussd_service_op;
	bool is_release_op = c->release_op != 0 && out->op == c->release_op;
	if (!op_known(out->op) && !is_release_op)
		return from_fail(status, ESME_RINVOPTPARAMVAL);
	uint32_t st = ref_from_pdu(c, t, out);
	if (st != ESME_ROK)
		return from_fail(status, st);
	out->release = out->release || is_release_op;
	if (!msisdn_ok(sub->addr))
		return from_fail(status, sub_bad);
	if (!code_ok(svc->addr))
		return from_fail(status, svc_bad);
	str_copy(out->msisdn, sub->addr);
	str_copy(out->code, svc->addr);
	if (!text_from_pdu(pdu, out))
		return from_fail(status, ESME_RINVMSGLEN);
	*status = ESME_ROK;
	return SY_OK;
}

/* ---- message -> PDU ---- */

/* The text as GSM septets (one per octet, the form SMPP carries with
 * data_coding 0) when every character has one, else UCS2. */
static enum sy_rc text_to_pdu(const struct ussd_msg *m, struct smpp_pdu *pdu, uint8_t *buf, size_t cap)
{
	struct sy_str u = {m->text, m->text_len};
	size_t septets, len, unmappable = 0;
	if (m->text_len >= sizeof(m->text))
		return SY_ERR_INVAL;
	if (smpp_gsm_fits(u, &septets)) {
		if (septets > USSD_GSM_SEPTETS_MAX)
			return SY_ERR_INVAL;
		if (smpp_gsm_from_utf8(u, buf, cap, &len, &unmappable) != SY_OK)
			return SY_ERR_INVAL;
		SY_ASSERT(len == septets && unmappable == 0);
		pdu->data_coding = SMPP_DC_DEFAULT;
	} else {
		enum sy_rc rc = smpp_ucs2_from_utf8(u, buf, cap, &len);
		if (rc != SY_OK || len > USSD_UCS2_OCTETS_MAX)
			return SY_ERR_INVAL; /* invalid UTF-8, or over 80 units */
		pdu->data_coding = SMPP_DC_UCS2;
	}
	pdu->short_message = (struct sy_str){(const char *)buf, len};
	return SY_OK;
}

static enum sy_rc ref_to_pdu(const struct ussd_codec_cfg *c, const struct ussd_msg *m, struct smpp_tlvs *t)
{
	if (c->ref == USSD_REF_ITS_SESSION_INFO) {
		if (m->ref > 0xFF || m->seq > 0x7F)
			return SY_ERR_INVAL;
		t->its_session_info = its_pack((uint8_t)m->ref, m->seq, m->release);
		t->present |= SMPP_TLV_ITS_SESSION_INFO;
		return SY_OK;
	}
	t->user_message_reference = m->ref;
	t->present |= SMPP_TLV_USER_MESSAGE_REFERENCE;
	return SY_OK;
}

enum sy_rc ussd_msg_to_pdu(const struct ussd_codec_cfg *c, const struct ussd_msg *m, uint32_t command_id,
			   struct smpp_pdu *pdu, uint8_t *buf, size_t cap)
{
	if (command_id != SMPP_SUBMIT_SM && command_id != SMPP_DELIVER_SM)
		return SY_ERR_INVAL;
	struct sy_str msisdn = sy_str_from(m->msisdn), code = sy_str_from(m->code);
	/* A code fits [ussd-service] (23) and data_sm (64), not submit_sm (20). */
	if (!msisdn_ok(msisdn) || !code_ok(code) || code.len > SMPP_ADDR_MAX)
		return SY_ERR_INVAL;
	smpp_pdu_init(pdu, command_id, 0);
	pdu->service_type = SY_STR("USSD");
	struct smpp_addr sub = {SMPP_TON_INTERNATIONAL, SMPP_NPI_E164, msisdn};
	struct smpp_addr svc = {SMPP_TON_UNKNOWN, SMPP_NPI_UNKNOWN, code};
	if (command_id == SMPP_SUBMIT_SM)
		pdu->src = svc, pdu->dst = sub;
	else
		pdu->src = sub, pdu->dst = svc;
	pdu->tlv.ussd_service_op = m->op;
	pdu->tlv.present |= SMPP_TLV_USSD_SERVICE_OP;
	enum sy_rc rc = ref_to_pdu(c, m, &pdu->tlv);
	if (rc != SY_OK)
		return rc;
	return text_to_pdu(m, pdu, buf, cap);
}

/* ---- service codes ---- */

/* "*123*1#" -> "123*1": the part that names a service and its inputs. */
static struct sy_str code_core(struct sy_str s)
{
	if (s.len > 0 && s.p[0] == '*')
		s.p++, s.len--;
	if (s.len > 0 && s.p[s.len - 1] == '#')
		s.len--;
	return s;
}

int ussd_code_match(const struct ussd_service_cfg *svc, uint32_t n, struct sy_str dialled, struct sy_str *inputs)
{
	struct sy_str d = code_core(dialled);
	int best = -1;
	size_t best_len = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct sy_str c = code_core(sy_str_from(svc[i].code));
		if (c.len == 0 || c.len > d.len || memcmp(c.p, d.p, c.len) != 0)
			continue;
		if (c.len < d.len && d.p[c.len] != '*')
			continue; /* "*12#" is not a prefix of "*123#" */
		if (best < 0 || c.len > best_len)
			best = (int)i, best_len = c.len;
	}
	if (inputs != NULL) {
		*inputs = (struct sy_str){d.p + d.len, 0};
		if (best >= 0 && best_len < d.len)
			*inputs = (struct sy_str){d.p + best_len + 1, d.len - best_len - 1};
	}
	return best;
}
