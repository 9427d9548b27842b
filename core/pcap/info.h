/* info.h: what `switchyard pcap info` prints about a capture's flows, as
 * text or JSON, written into a buffer (cmd/pcap.c only parses arguments
 * and prints it). The last text line is a one-line summary. */
#ifndef SY_PCAP_INFO_H
#define SY_PCAP_INFO_H

#include "core/pcap/flows.h"

/* A growing text buffer; `oom` once an append failed (the text is then cut). */
struct pcap_text {
	char *p;
	size_t len, cap;
	bool oom;
};

void pcap_text_printf(struct pcap_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pcap_text_free(struct pcap_text *t);

/* The report on f, read from the capture called name: dialogs (Call-ID,
 * caller -> callee, users, method, transactions with their final codes,
 * messages, duration), SMPP binds, hosts, the capture's size, duration,
 * malformed frames and timing warnings, then the summary line. */
void pcap_info_text(struct pcap_text *t, const struct pcap_flows *f, const char *name);
/* The same as one JSON object. */
void pcap_info_json(struct pcap_text *t, const struct pcap_flows *f, const char *name);
/* The summary line alone, without its line end: "summary: 2 dialogs (1
 * INVITE, 1 REGISTER), 14 SIP messages, 0 SMPP binds, 196 frames, 0
 * malformed, 6.53 s". */
void pcap_info_summary(struct pcap_text *t, const struct pcap_flows *f);

#endif
