/* info_json.c: `switchyard pcap info --json`: the same facts as the text,
 * one JSON object, for scripts (tests/it_pcap_info.sh compares it with
 * tshark). Every string from the capture is escaped. */
#include <string.h>

#include "core/pcap/info_int.h"
#include "core/smpp/pdu.h"

static void json_str(struct pcap_text *t, const char *s, size_t n)
{
	pcap_text_printf(t, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			pcap_text_printf(t, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f) /* bytes, not UTF-8: a capture may hold anything */
			pcap_text_printf(t, "\\u%04x", c);
		else
			pcap_text_printf(t, "%c", c);
	}
	pcap_text_printf(t, "\"");
}

static void json_kv(struct pcap_text *t, const char *key, const char *val)
{
	pcap_text_printf(t, "\"%s\":", key);
	json_str(t, val, strlen(val));
}

static void json_addr(struct pcap_text *t, const char *key, const struct sy_addr *a)
{
	char b[SY_ADDR_STRLEN];
	sy_addr_fmt(a, b, sizeof(b));
	json_kv(t, key, b);
}

static void json_u(struct pcap_text *t, const char *key, uint64_t v)
{
	pcap_text_printf(t, ",\"%s\":%llu", key, (unsigned long long)v);
}

static void json_txns(struct pcap_text *t, const struct pcap_dialog *d)
{
	pcap_text_printf(t, ",\"transactions\":[");
	for (uint32_t i = 0; i < d->txn_n; i++) {
		const struct pcap_sip_txn *x = &d->txns[i];
		pcap_text_printf(t, "%s{", i ? "," : "");
		json_kv(t, "method", x->method);
		json_u(t, "cseq", x->cseq);
		pcap_text_printf(t, ",\"from\":\"%s\"", x->from == PCAP_SIDE_CALLER ? "caller" : "callee");
		json_u(t, "leg", x->leg);
		pcap_text_printf(t, ",\"request\":%s", x->has_request ? "true" : "false");
		json_u(t, "final", x->final_code);
		json_u(t, "provisional", x->provisional_n);
		json_u(t, "messages", x->msg_n);
		pcap_text_printf(t, "}");
	}
	pcap_text_printf(t, "]");
}

/* Every message: its method or code, side, leg, time and frame. */
static void json_msgs(struct pcap_text *t, const struct pcap_dialog *d)
{
	pcap_text_printf(t, ",\"messages\":[");
	for (uint32_t i = 0; i < d->msg_n; i++) {
		const struct pcap_sip *m = &d->msgs[i];
		pcap_text_printf(t, "%s{", i ? "," : "");
		if (m->request)
			json_kv(t, "method", m->method);
		else
			pcap_text_printf(t, "\"code\":%u,\"cseq_method\":\"%s\"", m->code, m->method);
		pcap_text_printf(t, ",\"from\":\"%s\"", m->from == PCAP_SIDE_CALLER ? "caller" : "callee");
		json_u(t, "leg", m->leg);
		json_u(t, "txn", m->txn);
		json_u(t, "cseq", m->cseq);
		json_u(t, "at_ns", m->at_ns);
		json_u(t, "frame", m->frame);
		pcap_text_printf(t, ",\"retrans\":%s}", m->retrans ? "true" : "false");
	}
	pcap_text_printf(t, "]");
}

static void json_dialog(struct pcap_text *t, const struct pcap_dialog *d)
{
	pcap_text_printf(t, "{");
	json_kv(t, "call_id", d->call_id);
	pcap_text_printf(t, ",");
	json_kv(t, "method", d->method);
	pcap_text_printf(t, ",\"proto\":\"%s\",", d->proto == PCAP_PROTO_TCP ? "tcp" : "udp");
	json_addr(t, "caller", &d->caller);
	pcap_text_printf(t, ",");
	json_addr(t, "callee", &d->callee);
	const char *k[] = {"from_user", "to_user", "from_tag", "to_tag"};
	const char *v[] = {d->from_user, d->to_user, d->from_tag, d->to_tag};
	for (size_t i = 0; i < 4; i++) {
		pcap_text_printf(t, ",");
		json_kv(t, k[i], v[i]);
	}
	json_u(t, "start_ns", d->start_ns);
	json_u(t, "duration_ns", d->duration_ns);
	json_u(t, "max_gap_ns", d->max_gap_ns);
	json_u(t, "retransmissions", d->retrans_n);
	pcap_text_printf(t, ",\"complete\":%s,\"legs\":[", d->complete ? "true" : "false");
	for (uint32_t l = 0; l < d->leg_n; l++) {
		pcap_text_printf(t, "%s{", l ? "," : "");
		json_addr(t, "caller", &d->legs[l].caller);
		pcap_text_printf(t, ",");
		json_addr(t, "callee", &d->legs[l].callee);
		json_u(t, "messages", d->legs[l].msg_n);
		pcap_text_printf(t, "}");
	}
	pcap_text_printf(t, "]");
	json_txns(t, d);
	json_msgs(t, d);
	pcap_text_printf(t, "}");
}

static void json_bind(struct pcap_text *t, const struct pcap_smpp_bind *b)
{
	pcap_text_printf(t, "{");
	json_addr(t, "esme", &b->esme);
	pcap_text_printf(t, ",");
	json_addr(t, "smsc", &b->smsc);
	pcap_text_printf(t, ",");
	json_kv(t, "system_id", b->system_id);
	pcap_text_printf(t, ",\"bind\":\"%s\"", b->bind_command ? smpp_cmd_name(b->bind_command) : "");
	json_u(t, "bind_status", b->bind_status);
	json_u(t, "start_ns", b->start_ns);
	json_u(t, "duration_ns", b->duration_ns);
	json_u(t, "pdus", b->pdu_n);
	json_u(t, "submits", b->submits);
	json_u(t, "submit_resps", b->submit_resps);
	json_u(t, "delivers", b->delivers);
	json_u(t, "deliver_resps", b->deliver_resps);
	json_u(t, "submit_errors", b->submit_errors);
	json_u(t, "deliver_errors", b->deliver_errors);
	json_u(t, "unanswered", b->unanswered);
	pcap_text_printf(t, "}");
}

static void json_capture(struct pcap_text *t, const struct pcap_flows *f)
{
	const struct pcap_read_stats *st = &f->stats;
	json_u(t, "frames", st->frames);
	json_u(t, "bytes", st->bytes);
	json_u(t, "linktype", st->linktype);
	char lt[32];
	pcap_text_printf(t, ",");
	json_kv(t, "linktype_name", pcap_linktype_name(st->linktype, lt, sizeof(lt)));
	json_u(t, "start_ns", st->frames ? st->first_ts_ns : f->start_ns);
	json_u(t, "duration_ns", pcap_info_duration(f));
	json_u(t, "sip_messages", f->sip_msgs);
	json_u(t, "smpp_pdus", f->smpp_pdus);
	json_u(t, "malformed", pcap_info_malformed(f));
	json_u(t, "malformed_frames", st->malformed);
	json_u(t, "first_malformed_frame", st->first_malformed_frame);
	json_u(t, "sip_malformed", f->sip_malformed);
	json_u(t, "first_sip_malformed_frame", f->first_sip_malformed_frame);
	json_u(t, "smpp_malformed", f->smpp_malformed);
	json_u(t, "ts_backwards", f->ts_backwards);
	json_u(t, "ts_jumps", f->ts_jumps);
	json_u(t, "first_ts_jump_frame", f->first_ts_jump_frame);
	json_u(t, "max_gap_ns", f->max_gap_ns);
	json_u(t, "max_gap_frame", f->max_gap_frame);
}

void pcap_info_json(struct pcap_text *t, const struct pcap_flows *f, const char *name)
{
	pcap_text_printf(t, "{");
	json_kv(t, "file", name);
	json_capture(t, f);
	pcap_text_printf(t, ",\"dialogs\":[");
	for (uint32_t i = 0; i < f->dialog_n; i++) {
		pcap_text_printf(t, i ? ",\n" : "\n");
		json_dialog(t, &f->dialogs[i]);
	}
	pcap_text_printf(t, "],\"binds\":[");
	for (uint32_t i = 0; i < f->bind_n; i++) {
		pcap_text_printf(t, i ? "," : "");
		json_bind(t, &f->binds[i]);
	}
	pcap_text_printf(t, "],\"hosts\":[");
	for (uint32_t i = 0; i < f->host_n; i++) {
		pcap_text_printf(t, "%s{", i ? "," : "");
		json_addr(t, "addr", &f->hosts[i].addr);
		json_u(t, "sent", f->hosts[i].sent);
		json_u(t, "received", f->hosts[i].received);
		pcap_text_printf(t, "}");
	}
	pcap_text_printf(t, "],");
	struct pcap_text s = {0};
	pcap_info_summary(&s, f);
	json_kv(t, "summary", s.oom || s.p == NULL ? "" : s.p);
	pcap_text_free(&s);
	pcap_text_printf(t, "}\n");
}
