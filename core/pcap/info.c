/* info.c: `switchyard pcap info` as text: the capture, each dialog with
 * its transactions and ladder, SMPP binds, hosts, warnings about what a
 * replay should not trust (malformed frames, stamps that go back or jump),
 * and the summary line. Integers only: durations are printed from ns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pcap/info.h"
#include "core/pcap/info_int.h"
#include "core/smpp/pdu.h"

#define INFO_TXNS_SHOWN	  24 /* per dialog; the rest are counted */
#define INFO_LADDER_SHOWN 48 /* messages per dialog's ladder line */
#define INFO_METHODS	  16 /* distinct dialog methods named in the summary */

void pcap_text_printf(struct pcap_text *t, const char *fmt, ...)
{
	if (t->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = t->cap - t->len;
		int n = vsnprintf(t->p ? t->p + t->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = SY_MAX(t->cap * 2, t->len + (size_t)n + 256);
		char *p = realloc(t->p, cap);
		if (p == NULL) {
			t->oom = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
}

void pcap_text_free(struct pcap_text *t)
{
	free(t->p);
	*t = (struct pcap_text){0};
}

const char *pcap_info_dur(char *buf, size_t n, uint64_t ns)
{
	uint64_t s = ns / SY_NS_PER_S;
	if (ns < SY_NS_PER_S)
		snprintf(buf, n, "%llu.%03llu ms", (unsigned long long)(ns / SY_NS_PER_MS),
			 (unsigned long long)(ns % SY_NS_PER_MS / 1000));
	else if (s < 3600)
		snprintf(buf, n, "%llu.%02llu s", (unsigned long long)s,
			 (unsigned long long)(ns % SY_NS_PER_S / (10 * SY_NS_PER_MS)));
	else if (s < 2 * 86400)
		snprintf(buf, n, "%llu h %02llu min", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, n, "%llu days", (unsigned long long)(s / 86400));
	return buf;
}

const char *pcap_info_date(char *buf, size_t n, uint64_t ns)
{
	/* days to a civil date (H. Hinnant's days_from_civil, inverted) */
	uint64_t s = ns / SY_NS_PER_S, z = s / 86400 + 719468;
	uint64_t era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	uint64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
	uint64_t sod = s % 86400;
	snprintf(buf, n, "%04llu-%02llu-%02llu %02llu:%02llu:%02llu UTC", (unsigned long long)y, (unsigned long long)m,
		 (unsigned long long)d, (unsigned long long)(sod / 3600), (unsigned long long)(sod % 3600 / 60),
		 (unsigned long long)(sod % 60));
	return buf;
}

uint64_t pcap_info_duration(const struct pcap_flows *f)
{
	const struct pcap_read_stats *st = &f->stats;
	if (st->frames > 0 && st->last_ts_ns > st->first_ts_ns)
		return st->last_ts_ns - st->first_ts_ns;
	return f->end_ns - f->start_ns;
}

uint64_t pcap_info_malformed(const struct pcap_flows *f)
{
	return f->stats.malformed + f->sip_malformed + f->smpp_malformed;
}

static const char *side(uint8_t s)
{
	return s == PCAP_SIDE_CALLER ? "caller" : "callee";
}

static void text_txns(struct pcap_text *t, const struct pcap_dialog *d)
{
	for (uint32_t i = 0; i < d->txn_n && i < INFO_TXNS_SHOWN; i++) {
		const struct pcap_sip_txn *x = &d->txns[i];
		pcap_text_printf(t, "    %s %u from %s%s", x->method, x->cseq, side(x->from),
				 x->has_request ? "" : " (request not captured)");
		if (x->leg != 0)
			pcap_text_printf(t, " on leg %u", x->leg + 1);
		if (strcmp(x->method, "ACK") == 0 && x->final_code == 0)
			pcap_text_printf(t, "\n");
		else if (x->final_code != 0)
			pcap_text_printf(t, ": %u (%u provisional)\n", x->final_code, x->provisional_n);
		else
			pcap_text_printf(t, ": no final response (%u provisional)\n", x->provisional_n);
	}
	if (d->txn_n > INFO_TXNS_SHOWN)
		pcap_text_printf(t, "    ... %u more transactions\n", d->txn_n - INFO_TXNS_SHOWN);
}

static void text_ladder(struct pcap_text *t, const struct pcap_dialog *d)
{
	pcap_text_printf(t, "  ladder:");
	for (uint32_t i = 0; i < d->msg_n && i < INFO_LADDER_SHOWN; i++) {
		const struct pcap_sip *m = &d->msgs[i];
		if (m->request)
			pcap_text_printf(t, " %s%s", m->method, m->retrans ? "(re)" : "");
		else
			pcap_text_printf(t, " %u%s", m->code, m->retrans ? "(re)" : "");
	}
	pcap_text_printf(t, d->msg_n > INFO_LADDER_SHOWN ? " ...\n" : "\n");
}

static void text_dialog(struct pcap_text *t, const struct pcap_dialog *d, uint32_t i)
{
	char a[SY_ADDR_STRLEN], b[SY_ADDR_STRLEN], dur[32];
	sy_addr_fmt(&d->caller, a, sizeof(a));
	sy_addr_fmt(&d->callee, b, sizeof(b));
	pcap_text_printf(t, "dialog %u: %s %s (%s)\n", i + 1, d->method, d->call_id,
			 d->proto == PCAP_PROTO_TCP ? "tcp" : "udp");
	pcap_text_printf(t, "  %s -> %s, from '%s' to '%s'\n", a, b, d->from_user, d->to_user);
	pcap_text_printf(t, "  %u messages (%u retransmitted), %s, %s\n", d->msg_n, d->retrans_n,
			 pcap_info_dur(dur, sizeof(dur), d->duration_ns), d->complete ? "complete" : "incomplete");
	for (uint32_t l = 1; l < d->leg_n; l++) {
		sy_addr_fmt(&d->legs[l].caller, a, sizeof(a));
		sy_addr_fmt(&d->legs[l].callee, b, sizeof(b));
		pcap_text_printf(t, "  leg %u: %s -> %s, %u messages\n", l + 1, a, b, d->legs[l].msg_n);
	}
	pcap_text_printf(t, "  transactions:\n");
	text_txns(t, d);
	text_ladder(t, d);
}

static void text_bind(struct pcap_text *t, const struct pcap_smpp_bind *b, uint32_t i)
{
	char a[SY_ADDR_STRLEN], s[SY_ADDR_STRLEN], dur[32];
	sy_addr_fmt(&b->esme, a, sizeof(a));
	sy_addr_fmt(&b->smsc, s, sizeof(s));
	pcap_text_printf(t, "bind %u: ESME %s -> SMSC %s, system_id '%s'\n", i + 1, a, s, b->system_id);
	if (b->bind_command != 0)
		pcap_text_printf(t, "  %s: %s\n", smpp_cmd_name(b->bind_command), smpp_status_name(b->bind_status));
	else
		pcap_text_printf(t, "  the bind was not captured\n");
	pcap_text_printf(t,
			 "  %u PDUs, %s: submit_sm %u (resp %u, %u refused), deliver_sm %u (resp %u, %u refused), "
			 "%u requests unanswered\n",
			 b->pdu_n, pcap_info_dur(dur, sizeof(dur), b->duration_ns), b->submits, b->submit_resps,
			 b->submit_errors, b->delivers, b->deliver_resps, b->deliver_errors, b->unanswered);
}

static void text_capture(struct pcap_text *t, const struct pcap_flows *f, const char *name)
{
	const struct pcap_read_stats *st = &f->stats;
	char date[40], dur[32], lt[32];
	pcap_text_printf(t, "capture: %s\n", name);
	pcap_text_printf(t, "  %llu frames, %llu bytes, %s, from %s, %s\n", (unsigned long long)st->frames,
			 (unsigned long long)st->bytes, pcap_linktype_name(st->linktype, lt, sizeof(lt)),
			 pcap_info_date(date, sizeof(date), st->frames ? st->first_ts_ns : f->start_ns),
			 pcap_info_dur(dur, sizeof(dur), pcap_info_duration(f)));
	pcap_text_printf(t,
			 "  IPv4 %llu, IPv6 %llu, UDP %llu, TCP %llu (retransmitted %llu, out of order %llu), "
			 "fragments %llu\n",
			 (unsigned long long)st->ipv4, (unsigned long long)st->ipv6, (unsigned long long)st->udp,
			 (unsigned long long)st->tcp, (unsigned long long)st->tcp_retrans,
			 (unsigned long long)st->tcp_out_of_order, (unsigned long long)st->fragments);
	pcap_text_printf(t, "  messages: %llu SIP, %llu SMPP\n", (unsigned long long)f->sip_msgs,
			 (unsigned long long)f->smpp_pdus);
}

static void text_hosts(struct pcap_text *t, const struct pcap_flows *f)
{
	char a[SY_ADDR_STRLEN];
	pcap_text_printf(t, "hosts: %u\n", f->host_n);
	for (uint32_t i = 0; i < f->host_n; i++) {
		sy_addr_fmt(&f->hosts[i].addr, a, sizeof(a));
		pcap_text_printf(t, "  %s: sent %llu, received %llu\n", a, (unsigned long long)f->hosts[i].sent,
				 (unsigned long long)f->hosts[i].received);
	}
}

static void text_warnings(struct pcap_text *t, const struct pcap_flows *f)
{
	char dur[32];
	const struct pcap_read_stats *st = &f->stats;
	if (st->malformed > 0)
		pcap_text_printf(t, "warning: %llu frames did not decode (first: frame %llu, %s)\n",
				 (unsigned long long)st->malformed, (unsigned long long)st->first_malformed_frame,
				 st->first_malformed_why);
	if (f->sip_malformed > 0)
		pcap_text_printf(t, "warning: %llu SIP payloads did not parse (first: frame %llu)\n",
				 (unsigned long long)f->sip_malformed,
				 (unsigned long long)f->first_sip_malformed_frame);
	if (f->smpp_malformed > 0)
		pcap_text_printf(t, "warning: %llu SMPP PDUs were malformed (first: frame %llu)\n",
				 (unsigned long long)f->smpp_malformed,
				 (unsigned long long)f->first_smpp_malformed_frame);
	if (f->ts_backwards > 0)
		pcap_text_printf(t, "warning: timestamps go backwards %llu times\n",
				 (unsigned long long)f->ts_backwards);
	if (f->ts_jumps > 0)
		pcap_text_printf(t,
				 "warning: timestamps jump by more than an hour %llu times (first: frame %llu); "
				 "the largest gap inside a dialog is %s (frame %llu): a replay at the captured "
				 "pace clamps it\n",
				 (unsigned long long)f->ts_jumps, (unsigned long long)f->first_ts_jump_frame,
				 pcap_info_dur(dur, sizeof(dur), f->max_gap_ns), (unsigned long long)f->max_gap_frame);
}

void pcap_info_summary(struct pcap_text *t, const struct pcap_flows *f)
{
	const char *name[INFO_METHODS];
	uint32_t count[INFO_METHODS], n = 0, other = 0;
	for (uint32_t i = 0; i < f->dialog_n; i++) {
		uint32_t k = 0;
		while (k < n && strcmp(name[k], f->dialogs[i].method) != 0)
			k++;
		if (k == n && n == INFO_METHODS) {
			other++;
			continue;
		}
		if (k == n) {
			name[n] = f->dialogs[i].method;
			count[n++] = 0;
		}
		count[k]++;
	}
	char dur[32];
	pcap_text_printf(t, "summary: %u dialogs", f->dialog_n);
	for (uint32_t k = 0; k < n; k++)
		pcap_text_printf(t, "%s%u %s", k == 0 ? " (" : ", ", count[k], name[k]);
	if (other > 0)
		pcap_text_printf(t, ", %u other", other);
	pcap_text_printf(t, "%s, %llu SIP messages, %u SMPP binds, %llu frames, %llu malformed, %s", n > 0 ? ")" : "",
			 (unsigned long long)f->sip_msgs, f->bind_n, (unsigned long long)f->stats.frames,
			 (unsigned long long)pcap_info_malformed(f),
			 pcap_info_dur(dur, sizeof(dur), pcap_info_duration(f)));
}

void pcap_info_text(struct pcap_text *t, const struct pcap_flows *f, const char *name)
{
	text_capture(t, f, name);
	for (uint32_t i = 0; i < f->dialog_n; i++)
		text_dialog(t, &f->dialogs[i], i);
	for (uint32_t i = 0; i < f->bind_n; i++)
		text_bind(t, &f->binds[i], i);
	text_hosts(t, f);
	text_warnings(t, f);
	pcap_info_summary(t, f);
	pcap_text_printf(t, "\n");
}
