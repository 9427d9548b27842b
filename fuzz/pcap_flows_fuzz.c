/* pcap_flows_fuzz.c: libFuzzer harness on core/pcap/flows.h and the
 * `pcap info` formatters. The input is a run of messages as the reader
 * hands them over, each a 5-byte header and its payload: byte 0 picks the
 * application (bit 0: SIP or SMPP), the source and destination among four
 * addresses (bits 1-2, 3-4) and IPv6 (bit 5); bytes 1-2 step the clock
 * (big-endian ms; bit 7 of byte 0 steps it back instead, as captures do);
 * bytes 3-4 the payload's length. Each payload is copied to an exact-size
 * buffer so ASan sees any read past it. The flows must hold together
 * (indexes in range, times never going back, counts adding up), and the
 * text and JSON reports are written. Seeds: fuzz/seed-pcap-flows.py. */
#include <stdlib.h>
#include <string.h>

#include "core/pcap/flows.h"
#include "core/pcap/info.h"

static struct sy_addr fuzz_addr(unsigned i, bool v6)
{
	struct sy_addr a = sy_addr_v4(10, 0, 0, (uint8_t)(1 + i % 2), (uint16_t)(i < 2 ? 5060 : 2775));
	if (v6) {
		a.family = SY_AF_INET6;
		memset(a.ip, 0, sizeof(a.ip));
		a.ip[0] = 0xfe;
		a.ip[1] = 0x80;
		a.ip[15] = (uint8_t)(1 + i % 2);
	}
	return a;
}

static void check_dialog(const struct pcap_dialog *d)
{
	uint32_t n = 0;
	SY_ASSERT(d->leg_n >= 1 && d->txn_n >= 1 && d->msg_n >= 1);
	for (uint32_t i = 0; i < d->msg_n; i++) {
		const struct pcap_sip *m = &d->msgs[i];
		SY_ASSERT(m->txn < d->txn_n && m->leg < d->leg_n && m->at_ns <= d->duration_ns);
		SY_ASSERT(i == 0 || m->at_ns >= d->msgs[i - 1].at_ns);
		n += m->retrans;
	}
	SY_ASSERT(n == d->retrans_n);
	n = 0;
	for (uint32_t i = 0; i < d->txn_n; i++) {
		const struct pcap_sip_txn *x = &d->txns[i];
		SY_ASSERT(x->first_msg < d->msg_n && x->leg < d->leg_n && d->msgs[x->first_msg].txn == i);
		SY_ASSERT(x->final_msg == UINT32_MAX ? x->final_code == 0
						     : d->msgs[x->final_msg].code == x->final_code);
		n += d->txns[i].msg_n;
	}
	SY_ASSERT(n == d->msg_n);
	n = 0;
	for (uint32_t i = 0; i < d->leg_n; i++)
		n += d->legs[i].msg_n;
	SY_ASSERT(n == d->msg_n);
}

static void check_flows(const struct pcap_flows *f)
{
	uint64_t sip = 0, smpp = 0;
	for (uint32_t i = 0; i < f->dialog_n; i++) {
		check_dialog(&f->dialogs[i]);
		SY_ASSERT(i == 0 || f->dialogs[i].start_ns >= f->dialogs[i - 1].start_ns);
		sip += f->dialogs[i].msg_n;
	}
	for (uint32_t i = 0; i < f->bind_n; i++) {
		const struct pcap_smpp_bind *b = &f->binds[i];
		for (uint32_t k = 0; k < b->pdu_n; k++) {
			const struct pcap_smpp *p = &b->pdus[k];
			SY_ASSERT(k == 0 || p->at_ns >= b->pdus[k - 1].at_ns);
			SY_ASSERT(p->pair == UINT32_MAX || (p->pair < b->pdu_n && b->pdus[p->pair].pair == k));
		}
		smpp += b->pdu_n;
	}
	SY_ASSERT(sip == f->sip_msgs && smpp == f->smpp_pdus);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcap_flows *f = pcap_flows_create();
	if (f == NULL)
		return 0;
	uint64_t ts = 1000 * SY_NS_PER_S, frame = 0;
	size_t at = 0;
	while (size - at >= 5) {
		const uint8_t *h = data + at;
		size_t len = SY_MIN((size_t)(h[3] << 8 | h[4]), size - at - 5);
		uint64_t step = (uint64_t)(h[1] << 8 | h[2]) * SY_NS_PER_MS;
		ts = (h[0] & 0x80) ? ts - SY_MIN(step, ts) : ts + step;
		uint8_t *copy = malloc(len ? len : 1);
		if (copy == NULL)
			break;
		memcpy(copy, h + 5, len);
		struct pcap_msg m = {.frame = ++frame,
				     .ts_ns = ts,
				     .proto = (h[0] & 1) ? PCAP_PROTO_TCP : PCAP_PROTO_UDP,
				     .app = (h[0] & 1) ? PCAP_APP_SMPP : PCAP_APP_SIP,
				     .src = fuzz_addr(h[0] >> 1 & 3, h[0] & 0x20),
				     .dst = fuzz_addr(h[0] >> 3 & 3, h[0] & 0x20),
				     .data = copy,
				     .len = len};
		enum sy_rc rc = pcap_flows_add(f, &m);
		free(copy);
		SY_ASSERT(rc == SY_OK);
		at += 5 + len;
	}
	pcap_flows_finish(f);
	check_flows(f);
	struct pcap_text t = {0};
	pcap_info_text(&t, f, "fuzz.pcap");
	pcap_info_json(&t, f, "fuzz.pcap");
	SY_ASSERT(!t.oom);
	pcap_text_free(&t);
	pcap_flows_free(f);
	return 0;
}
