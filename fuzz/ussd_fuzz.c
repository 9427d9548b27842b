/* ussd_fuzz.c: libFuzzer harness on the USSD codec (core/ussd/codec.c):
 * the input as an SMPP byte stream, every framed PDU decoded and read as a
 * USSD message with both session reference kinds (its_session_info, and
 * user_message_reference with release_op 0x20, as the sim and tests use);
 * what reads as a message must encode again, go over the wire codec, and
 * read back as the same message. Built by `make fuzz` (clang, libFuzzer),
 * replayed over fuzz/corpus/ussd/ by tests/it_fuzz_corpus.sh and
 * tests/test_ussd_codec.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ussd/codec.h"

static void fuzz_same(const struct ussd_msg *a, const struct ussd_msg *b)
{
	SY_ASSERT(a->op == b->op && a->release == b->release && a->ref == b->ref && a->seq == b->seq);
	SY_ASSERT(strcmp(a->msisdn, b->msisdn) == 0 && strcmp(a->code, b->code) == 0);
	SY_ASSERT(a->text_len == b->text_len && memcmp(a->text, b->text, a->text_len) == 0);
}

static void fuzz_reencode(const struct ussd_codec_cfg *c, const struct smpp_pdu *p, const struct ussd_msg *m)
{
	static uint8_t tbuf[2 * USSD_TEXT_UTF8_MAX], wire[SMPP_PDU_LEN_MAX];
	static struct ussd_msg back;
	struct smpp_pdu q, r;
	uint32_t cmd = p->command_id == SMPP_SUBMIT_SM ? SMPP_SUBMIT_SM : SMPP_DELIVER_SM, st;
	size_t len;
	enum sy_rc rc = ussd_msg_to_pdu(c, m, cmd, &q, tbuf, sizeof(tbuf));
	/* GSM and UCS2 texts within a USSD string always encode again; an IA5
	 * or Latin-1 text of 182 characters may need more septets or units. */
	if (p->data_coding == SMPP_DC_DEFAULT || p->data_coding == SMPP_DC_UCS2)
		SY_ASSERT(rc == SY_OK);
	if (rc != SY_OK) {
		SY_ASSERT(rc == SY_ERR_INVAL);
		return;
	}
	SY_ASSERT(smpp_pdu_encode(&q, wire, sizeof(wire), &len) == SY_OK);
	SY_ASSERT(smpp_pdu_decode(wire, wire + len, &r, &st) == SY_OK);
	SY_ASSERT(ussd_msg_from_pdu(c, &r, &back, &st) == SY_OK && st == ESME_ROK);
	fuzz_same(m, &back);
}

static void fuzz_pdu(const struct smpp_pdu *p)
{
	static const struct ussd_codec_cfg cfgs[] = {
	    {USSD_REF_ITS_SESSION_INFO, 0},
	    {USSD_REF_ITS_SESSION_INFO, 0x20},
	    {USSD_REF_USER_MESSAGE_REFERENCE, 0x20},
	};
	static struct ussd_msg m;
	for (size_t i = 0; i < SY_ARRAY_LEN(cfgs); i++) {
		uint32_t st = 0xDEAD;
		if (ussd_msg_from_pdu(&cfgs[i], p, &m, &st) == SY_OK) {
			SY_ASSERT(st == ESME_ROK && m.text[m.text_len] == '\0' && strlen(m.text) == m.text_len);
			fuzz_reencode(&cfgs[i], p, &m);
		} else {
			SY_ASSERT(st != ESME_ROK && st != 0xDEAD);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = 0, plen;
	while (at < size && smpp_frame_len(data + at, size - at, &plen) == SY_OK) {
		struct smpp_pdu p;
		uint32_t st;
		/* An exact-size copy so ASan catches any read past the frame. */
		uint8_t *frame = malloc(plen);
		memcpy(frame, data + at, plen);
		if (smpp_pdu_decode(frame, frame + plen, &p, &st) == SY_OK)
			fuzz_pdu(&p);
		free(frame);
		at += plen;
	}
	return 0;
}
