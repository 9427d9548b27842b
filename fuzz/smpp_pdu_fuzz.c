/* smpp_pdu_fuzz.c: libFuzzer harness on the SMPP decode entry points (the
 * framer, the PDU decoder, and re-encoding what decoded), plus the text
 * parsers that read wire data (UDH, GSM/UCS2, DLR text). Not part of make:
 *   clang -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *     fuzz/smpp_pdu_fuzz.c core/smpp/pdu.c core/smpp/text.c core/smpp/text_dlr.c core/base.c \
 *     -o build/smpp_pdu_fuzz
 * Crashes found become cases in tests/test_smpp_pdu.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/smpp/pdu.h"
#include "core/smpp/text.h"

static void fuzz_text(const uint8_t *p, size_t n)
{
	static uint8_t sept[4 * 65536];
	static char utf8[4 * 65536];
	size_t len, udh_len;
	struct smpp_concat c;
	bool has;
	struct smpp_dlr d;
	if (smpp_udh_parse(p, n, &udh_len, &c, &has) == SY_OK)
		SY_ASSERT(udh_len <= n && (!has || (c.seq >= 1 && c.seq <= c.total)));
	if (smpp_gsm_unpack(p, n, n % 7, n * 8 / 7, sept, sizeof(sept)) == SY_OK)
		(void)smpp_gsm_to_utf8(sept, n * 8 / 7, utf8, sizeof(utf8), &len);
	(void)smpp_ucs2_to_utf8(p, n, utf8, sizeof(utf8), &len);
	if (smpp_dlr_parse((struct sy_str){(const char *)p, n}, &d) == SY_OK) {
		/* What parsed builds again, into a buffer of any size. */
		size_t cap = n % 300, blen;
		enum sy_rc rc = smpp_dlr_build(&d, cap > 0 ? utf8 : NULL, cap, &blen);
		SY_ASSERT(rc == SY_OK ? blen < cap : rc == SY_ERR_FULL || rc == SY_ERR_INVAL);
		SY_ASSERT(cap == 0 || rc == SY_ERR_INVAL || utf8[SY_MIN(blen, cap - 1)] == '\0');
	}
	struct smpp_seg_info seg;
	(void)smpp_text_segments((struct sy_str){(const char *)p, n}, &seg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t at = 0, plen;
	/* Frame the input as a stream and decode every complete PDU. */
	while (at < size && smpp_frame_len(data + at, size - at, &plen) == SY_OK) {
		struct smpp_pdu p, q;
		uint32_t st;
		/* An exact-size copy so ASan catches any read past the frame. */
		uint8_t *frame = malloc(plen);
		memcpy(frame, data + at, plen);
		if (smpp_pdu_decode(frame, frame + plen, &p, &st) == SY_OK) {
			static uint8_t out[SMPP_PDU_LEN_MAX];
			size_t len;
			SY_ASSERT(st == ESME_ROK);
			/* What decoded must re-encode and decode to the same header. */
			if (smpp_pdu_encode(&p, out, sizeof(out), &len) == SY_OK) {
				SY_ASSERT(smpp_pdu_decode(out, out + len, &q, &st) == SY_OK);
				SY_ASSERT(q.command_id == p.command_id && q.sequence_number == p.sequence_number);
			}
			fuzz_text((const uint8_t *)p.short_message.p, p.short_message.len);
		} else {
			SY_ASSERT(st != ESME_ROK);
		}
		free(frame);
		at += plen;
	}
	/* The raw bytes as a single PDU, too (no framing). */
	struct smpp_pdu p;
	uint32_t st;
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	(void)smpp_pdu_decode(copy, copy + size, &p, &st);
	fuzz_text(copy, size);
	free(copy);
	return 0;
}
