/* test_pcap_flows.c: a capture's messages into flows (core/pcap/flows.h):
 * dialogs by Call-ID, caller and callee, transactions by branch and by CSeq
 * (RFC 2543), the ACK of a 2xx against the ACK of a 3xx-6xx, CANCEL,
 * REGISTER with its 401, retransmissions, legs through a proxy, timing
 * that goes backwards or jumps years, malformed payloads; SMPP binds; and
 * the real captures of pcaps/ read through the reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/live/live.h"
#include "core/pcap/flows.h"
#include "core/smpp/pdu.h"

#define MS (1000ull * 1000)
#define T0 (1700000000ull * SY_NS_PER_S)

static const struct sy_addr *A(void)
{
	static struct sy_addr a;
	a = sy_addr_v4(10, 0, 0, 1, 5060);
	return &a;
}

static struct sy_addr addr(uint8_t last, uint16_t port)
{
	return sy_addr_v4(10, 0, 0, last, port);
}

static uint64_t frame_no;

/* Adds one message as the reader would hand it over. */
static void add_raw(struct pcap_flows *f, enum pcap_app app, struct sy_addr src, struct sy_addr dst, uint64_t ts,
		    const void *data, size_t len)
{
	struct pcap_msg m = {.frame = ++frame_no,
			     .ts_ns = ts,
			     .proto = PCAP_PROTO_UDP,
			     .app = app,
			     .src = src,
			     .dst = dst,
			     .data = data,
			     .len = len};
	assert_int_equal(pcap_flows_add(f, &m), SY_OK);
}

/* A SIP request: METHOD, branch ("" for none: RFC 2543), CSeq, Call-ID,
 * From tag, To tag ("" for none). */
static void req(struct pcap_flows *f, struct sy_addr src, struct sy_addr dst, uint64_t ts, const char *method,
		const char *branch, uint32_t cseq, const char *cid, const char *ftag, const char *ttag)
{
	char b[1024];
	int n =
	    snprintf(b, sizeof(b),
		     "%s sip:bob@example.net SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 10.0.0.1:5060%s%s\r\n"
		     "From: \"Alice\" <sip:alice@example.com>;tag=%s\r\n"
		     "To: <sip:bob@example.net>%s%s\r\n"
		     "Call-ID: %s\r\nCSeq: %u %s\r\nContent-Length: 0\r\n\r\n",
		     method, *branch ? ";branch=" : "", branch, ftag, *ttag ? ";tag=" : "", ttag, cid, cseq, method);
	add_raw(f, PCAP_APP_SIP, src, dst, ts, b, (size_t)n);
}

static void resp(struct pcap_flows *f, struct sy_addr src, struct sy_addr dst, uint64_t ts, int code,
		 const char *method, const char *branch, uint32_t cseq, const char *cid, const char *ftag,
		 const char *ttag)
{
	char b[1024];
	int n = snprintf(b, sizeof(b),
			 "SIP/2.0 %d Whatever\r\n"
			 "Via: SIP/2.0/UDP 10.0.0.1:5060%s%s\r\n"
			 "From: \"Alice\" <sip:alice@example.com>;tag=%s\r\n"
			 "To: <sip:bob@example.net>%s%s\r\n"
			 "Call-ID: %s\r\nCSeq: %u %s\r\nContent-Length: 0\r\n\r\n",
			 code, *branch ? ";branch=" : "", branch, ftag, *ttag ? ";tag=" : "", ttag, cid, cseq, method);
	add_raw(f, PCAP_APP_SIP, src, dst, ts, b, (size_t)n);
}

static struct pcap_flows *made(void)
{
	struct pcap_flows *f = pcap_flows_create();
	assert_non_null(f);
	frame_no = 0;
	return f;
}

/* The caller's side of a basic call, with the callee hanging up. */
static void test_invite_dialog(void **state)
{
	struct pcap_flows *f = made();
	struct sy_addr a = *A(), b = addr(2, 5060);
	req(f, a, b, T0, "INVITE", "z9hG4bKi1", 1, "c1", "ft", "");
	resp(f, b, a, T0 + 10 * MS, 100, "INVITE", "z9hG4bKi1", 1, "c1", "ft", "");
	resp(f, b, a, T0 + 20 * MS, 180, "INVITE", "z9hG4bKi1", 1, "c1", "ft", "tt");
	resp(f, b, a, T0 + 900 * MS, 200, "INVITE", "z9hG4bKi1", 1, "c1", "ft", "tt");
	req(f, a, b, T0 + 910 * MS, "ACK", "z9hG4bKa1", 1, "c1", "ft", "tt");
	/* the callee hangs up: From and To swap */
	char bye[512];
	int n = snprintf(bye, sizeof(bye),
			 "BYE sip:alice@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb1\r\n"
			 "From: <sip:bob@example.net>;tag=tt\r\nTo: <sip:alice@example.com>;tag=ft\r\n"
			 "Call-ID: c1\r\nCSeq: 7 BYE\r\n\r\n");
	add_raw(f, PCAP_APP_SIP, b, a, T0 + 5000 * MS, bye, (size_t)n);
	n = snprintf(bye, sizeof(bye),
		     "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb1\r\n"
		     "From: <sip:bob@example.net>;tag=tt\r\nTo: <sip:alice@example.com>;tag=ft\r\n"
		     "Call-ID: c1\r\nCSeq: 7 BYE\r\n\r\n");
	add_raw(f, PCAP_APP_SIP, a, b, T0 + 5010 * MS, bye, (size_t)n);
	pcap_flows_finish(f);

	assert_int_equal(f->dialog_n, 1);
	const struct pcap_dialog *d = &f->dialogs[0];
	assert_string_equal(d->call_id, "c1");
	assert_string_equal(d->method, "INVITE");
	assert_string_equal(d->from_user, "alice");
	assert_string_equal(d->to_user, "bob");
	assert_string_equal(d->from_tag, "ft");
	assert_string_equal(d->to_tag, "tt");
	assert_true(sy_addr_eq(&d->caller, &a) && sy_addr_eq(&d->callee, &b));
	assert_true(sy_addr_eq(&d->legs[0].caller, &a) && sy_addr_eq(&d->legs[0].callee, &b));
	assert_int_equal(d->leg_n, 1);
	assert_int_equal(d->msg_n, 7);
	assert_int_equal(d->txn_n, 3);
	assert_true(d->complete);
	assert_int_equal(d->start_ns, T0);
	assert_int_equal(d->duration_ns, 5010 * MS);
	assert_int_equal(d->msgs[3].at_ns, 900 * MS);
	assert_int_equal(d->retrans_n, 0);

	const struct pcap_sip_txn *inv = &d->txns[0], *ack = &d->txns[1], *bye_t = &d->txns[2];
	assert_string_equal(inv->method, "INVITE");
	assert_int_equal(inv->final_code, 200);
	assert_int_equal(inv->provisional_n, 2);
	assert_int_equal(inv->from, PCAP_SIDE_CALLER);
	assert_int_equal(inv->msg_n, 4);
	assert_int_equal(inv->final_msg, 3);
	assert_string_equal(ack->method, "ACK"); /* the ACK of a 2xx: its own */
	assert_int_equal(ack->final_code, 0);
	assert_int_equal(ack->final_msg, UINT32_MAX);
	assert_int_equal(d->msgs[4].txn, 1);
	assert_string_equal(bye_t->method, "BYE");
	assert_int_equal(bye_t->from, PCAP_SIDE_CALLEE);
	assert_int_equal(bye_t->final_code, 200);
	assert_int_equal(bye_t->cseq, 7);
	assert_int_equal(d->msgs[5].from, PCAP_SIDE_CALLEE);
	assert_int_equal(d->msgs[6].from, PCAP_SIDE_CALLER);
	assert_int_equal(d->msgs[6].code, 200);
	assert_string_equal(d->msgs[6].method, "BYE");
	assert_memory_equal(d->msgs[5].text, "BYE sip:alice", 13);

	assert_int_equal(f->sip_msgs, 7);
	assert_int_equal(f->host_n, 2);
	assert_int_equal(f->hosts[0].sent, 3);
	assert_int_equal(f->hosts[0].received, 4);
	assert_int_equal(f->max_gap_ns, 4090 * MS);
	assert_int_equal(f->max_gap_frame, 6);
	pcap_flows_free(f);
}

/* Identical copies in one transaction are retransmissions; the same bytes
 * in another transaction (a new branch) are not. */
static void test_retransmissions(void **state)
{
	struct pcap_flows *f = made();
	struct sy_addr a = *A(), b = addr(2, 5060);
	req(f, a, b, T0, "INVITE", "z9hG4bKr1", 1, "c2", "ft", "");
	req(f, a, b, T0 + 500 * MS, "INVITE", "z9hG4bKr1", 1, "c2", "ft", "");
	resp(f, b, a, T0 + 600 * MS, 180, "INVITE", "z9hG4bKr1", 1, "c2", "ft", "tt");
	resp(f, b, a, T0 + 700 * MS, 180, "INVITE", "z9hG4bKr1", 1, "c2", "ft", "tt");
	resp(f, b, a, T0 + 800 * MS, 183, "INVITE", "z9hG4bKr1", 1, "c2", "ft", "tt");
	resp(f, b, a, T0 + 900 * MS, 200, "INVITE", "z9hG4bKr1", 1, "c2", "ft", "tt");
	resp(f, b, a, T0 + 1400 * MS, 200, "INVITE", "z9hG4bKr1", 1, "c2", "ft", "tt");
	req(f, a, b, T0 + 1410 * MS, "ACK", "z9hG4bKa2", 1, "c2", "ft", "tt");
	req(f, a, b, T0 + 1420 * MS, "ACK", "z9hG4bKa2", 1, "c2", "ft", "tt");
	/* a second ACK with a new branch: another transaction, not a copy */
	req(f, a, b, T0 + 1430 * MS, "ACK", "z9hG4bKa3", 1, "c2", "ft", "tt");
	pcap_flows_finish(f);
	const struct pcap_dialog *d = &f->dialogs[0];
	assert_int_equal(d->msg_n, 10);
	bool want[10] = {false, true, false, true, false, false, true, false, true, false};
	for (uint32_t i = 0; i < d->msg_n; i++)
		assert_int_equal(d->msgs[i].retrans, want[i]);
	assert_int_equal(d->retrans_n, 4);
	assert_int_equal(d->txn_n, 3);
	assert_int_equal(d->txns[0].provisional_n, 2); /* 180 and 183, not the copy */
	assert_int_equal(d->txns[0].final_code, 200);
	assert_int_equal(d->txns[0].msg_n, 7);
	pcap_flows_free(f);
	/* a copy of the INVITE after its 100 and 180: still a copy */
	f = made();
	req(f, a, b, T0, "INVITE", "z9hG4bKr9", 1, "c2b", "ft", "");
	resp(f, b, a, T0 + 100 * MS, 100, "INVITE", "z9hG4bKr9", 1, "c2b", "ft", "");
	resp(f, b, a, T0 + 200 * MS, 180, "INVITE", "z9hG4bKr9", 1, "c2b", "ft", "tt");
	req(f, a, b, T0 + 500 * MS, "INVITE", "z9hG4bKr9", 1, "c2b", "ft", "");
	pcap_flows_finish(f);
	assert_true(f->dialogs[0].msgs[3].retrans);
	assert_int_equal(f->dialogs[0].retrans_n, 1);
	pcap_flows_free(f);
}

/* The ACK of a 3xx-6xx shares its INVITE's branch and belongs to it; the
 * ACK of a 2xx does not, even with the same branch. */
static void test_ack_non2xx(void **state)
{
	struct pcap_flows *f = made();
	struct sy_addr a = *A(), b = addr(2, 5060);
	req(f, a, b, T0, "INVITE", "z9hG4bKn1", 1, "c3", "ft", "");
	resp(f, b, a, T0 + MS, 486, "INVITE", "z9hG4bKn1", 1, "c3", "ft", "tt");
	req(f, a, b, T0 + 2 * MS, "ACK", "z9hG4bKn1", 1, "c3", "ft", "tt");
	/* a UA that reuses the INVITE's branch for the ACK of a 2xx: still its own */
	req(f, a, b, T0 + 3 * MS, "INVITE", "z9hG4bKn2", 2, "c3", "ft", "tt");
	resp(f, b, a, T0 + 4 * MS, 200, "INVITE", "z9hG4bKn2", 2, "c3", "ft", "tt");
	req(f, a, b, T0 + 5 * MS, "ACK", "z9hG4bKn2", 2, "c3", "ft", "tt");
	pcap_flows_finish(f);
	const struct pcap_dialog *d = &f->dialogs[0];
	assert_int_equal(d->txn_n, 3);
	assert_int_equal(d->msgs[5].txn, 2);
	assert_string_equal(d->txns[2].method, "ACK");
	assert_int_equal(d->txns[1].final_code, 200);
	assert_int_equal(d->msgs[2].txn, 0);
	assert_string_equal(d->msgs[2].method, "ACK");
	assert_int_equal(d->txns[0].final_code, 486);
	assert_true(d->complete);
	pcap_flows_free(f);
}

/* RFC 2543 peers send no magic-cookie branch: CSeq and method decide, and
 * the ACK goes with its INVITE only when that INVITE failed. */
static void test_rfc2543(void **state)
{
	struct pcap_flows *f = made();
	struct sy_addr a = *A(), b = addr(2, 5060);
	req(f, a, b, T0, "INVITE", "", 1, "c4", "ft", "");
	resp(f, b, a, T0 + MS, 200, "INVITE", "", 1, "c4", "ft", "tt");
	req(f, a, b, T0 + 2 * MS, "ACK", "", 1, "c4", "ft", "tt");
	req(f, a, b, T0 + 3 * MS, "INVITE", "", 2, "c4", "ft", "tt");
	resp(f, b, a, T0 + 4 * MS, 404, "INVITE", "", 2, "c4", "ft", "tt");
	req(f, a, b, T0 + 5 * MS, "ACK", "", 2, "c4", "ft", "tt");
	/* an old-style branch without the cookie counts as none */
	req(f, a, b, T0 + 6 * MS, "BYE", "1234", 3, "c4", "ft", "tt");
	resp(f, b, a, T0 + 7 * MS, 200, "BYE", "5678", 3, "c4", "ft", "tt");
	pcap_flows_finish(f);
	const struct pcap_dialog *d = &f->dialogs[0];
	assert_int_equal(d->txn_n, 4);
	uint32_t want_txn[8] = {0, 0, 1, 2, 2, 2, 3, 3};
	for (uint32_t i = 0; i < d->msg_n; i++)
		assert_int_equal(d->msgs[i].txn, want_txn[i]);
	assert_string_equal(d->txns[1].method, "ACK");
	assert_int_equal(d->txns[2].final_code, 404);
	assert_int_equal(d->txns[3].final_code, 200);
	pcap_flows_free(f);
}

/* CANCEL: its own transaction (same branch, other method); the INVITE
 * ends in 487 and its ACK. */
static void test_cancel(void **state)
{
	struct pcap_flows *f = made();
	struct sy_addr a = *A(), b = addr(2, 5060);
	req(f, a, b, T0, "INVITE", "z9hG4bKc1", 1, "c5", "ft", "");
	resp(f, b, a, T0 + MS, 100, "INVITE", "z9hG4bKc1", 1, "c5", "ft", "");
	req(f, a, b, T0 + 2 * MS, "CANCEL", "z9hG4bKc1", 1, "c5", "ft", "");
	resp(f, b, a, T0 + 3 * MS, 200, "CANCEL", "z9hG4bKc1", 1, "c5", "ft", "tt");
	resp(f, b, a, T0 + 4 * MS, 487, "INVITE", "z9hG4bKc1", 1, "c5", "ft", "tt");
	req(f, a, b, T0 + 5 * MS, "ACK", "z9hG4bKc1", 1, "c5", "ft", "tt");
	pcap_flows_finish(f);
	const struct pcap_dialog *d = &f->dialogs[0];
	assert_int_equal(d->txn_n, 2);
	assert_string_equal(d->txns[0].method, "INVITE");
	assert_int_equal(d->txns[0].final_code, 487);
	assert_int_equal(d->txns[0].msg_n, 4);
	assert_string_equal(d->txns[1].method, "CANCEL");
	assert_int_equal(d->txns[1].final_code, 200);
	assert_int_equal(d->txns[1].from, PCAP_SIDE_CALLER);
	pcap_flows_free(f);
}

/* REGISTER challenged with 401, then sent again with credentials; an
 * OPTIONS ping is a "dialog" of its own. */
static void test_register_401(void **state)
{
	struct pcap_flows *f = made();
	struct sy_addr ua = addr(9, 5062), reg = addr(2, 5060);
	req(f, ua, reg, T0, "REGISTER", "z9hG4bKg1", 1, "r1", "ft", "");
	resp(f, reg, ua, T0 + MS, 401, "REGISTER", "z9hG4bKg1", 1, "r1", "ft", "rt");
	req(f, reg, ua, T0 + 2 * MS, "OPTIONS", "z9hG4bKo1", 1, "o1", "x", "");
	req(f, ua, reg, T0 + 3 * MS, "REGISTER", "z9hG4bKg2", 2, "r1", "ft", "");
	resp(f, reg, ua, T0 + 4 * MS, 200, "REGISTER", "z9hG4bKg2", 2, "r1", "ft", "rt2");
	resp(f, ua, reg, T0 + 5 * MS, 200, "OPTIONS", "z9hG4bKo1", 1, "o1", "x", "y");
	pcap_flows_finish(f);
	assert_int_equal(f->dialog_n, 2);
	const struct pcap_dialog *d = &f->dialogs[0], *o = &f->dialogs[1];
	assert_string_equal(d->method, "REGISTER");
	assert_true(sy_addr_eq(&d->caller, &ua) && sy_addr_eq(&d->callee, &reg));
	assert_int_equal(d->txn_n, 2);
	assert_int_equal(d->txns[0].final_code, 401);
	assert_int_equal(d->txns[1].final_code, 200);
	assert_int_equal(d->txns[1].cseq, 2);
	assert_true(d->complete);
	assert_string_equal(o->method, "OPTIONS");
	assert_true(sy_addr_eq(&o->caller, &reg)); /* the registrar pinged the UA */
	assert_int_equal(o->txns[0].from, PCAP_SIDE_CALLER);
	assert_int_equal(o->msgs[1].from, PCAP_SIDE_CALLEE);
	pcap_flows_free(f);
}

/* A capture taken at a proxy: one Call-ID over two address pairs. */
static void test_two_legs(void **state)
{
	struct pcap_flows *f = made();
	struct sy_addr ua = addr(9, 52795), px = addr(2, 5060), px_out = addr(2, 5160), reg = addr(3, 5060);
	req(f, ua, px, T0, "REGISTER", "z9hG4bKu1", 1, "r2", "ft", "");
	req(f, px_out, reg, T0 + MS, "REGISTER", "z9hG4bKp1", 1, "r2", "ft", "");
	resp(f, reg, px_out, T0 + 2 * MS, 401, "REGISTER", "z9hG4bKp1", 1, "r2", "ft", "t");
	resp(f, px, ua, T0 + 3 * MS, 401, "REGISTER", "z9hG4bKu1", 1, "r2", "ft", "t");
	pcap_flows_finish(f);
	const struct pcap_dialog *d = &f->dialogs[0];
	assert_int_equal(d->leg_n, 2);
	assert_true(sy_addr_eq(&d->caller, &ua) && sy_addr_eq(&d->callee, &px));
	assert_true(sy_addr_eq(&d->legs[1].caller, &px_out) && sy_addr_eq(&d->legs[1].callee, &reg));
	assert_int_equal(d->txn_n, 2);
	uint8_t want_leg[4] = {0, 1, 1, 0}, want_from[4] = {0, 0, 1, 1};
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(d->msgs[i].leg, want_leg[i]);
		assert_int_equal(d->msgs[i].from, want_from[i]);
	}
	assert_int_equal(d->txns[0].final_code, 401);
	assert_int_equal(d->txns[1].final_code, 401);
	assert_int_equal(f->host_n, 4);
	pcap_flows_free(f);
}

/* A capture that starts after the request: the response's receiver is
 * the caller; the first request seen later names the dialog. */
static void test_response_first(void **state)
{
	struct pcap_flows *f = made();
	struct sy_addr a = *A(), b = addr(2, 5060);
	resp(f, b, a, T0, 200, "INVITE", "z9hG4bKx", 1, "c6", "ft", "tt");
	req(f, a, b, T0 + MS, "ACK", "z9hG4bKy", 1, "c6", "ft", "tt");
	pcap_flows_finish(f);
	const struct pcap_dialog *d = &f->dialogs[0];
	assert_true(sy_addr_eq(&d->caller, &a));
	assert_string_equal(d->method, "ACK");
	assert_false(d->txns[0].has_request);
	assert_int_equal(d->txns[0].from, PCAP_SIDE_CALLER);
	assert_int_equal(d->txns[0].final_code, 200);
	assert_true(d->complete);
	pcap_flows_free(f);
}

/* Stamps that go back, and a jump of years (as pcaps/sip_ipv6_udp.pcap):
 * counted, and a dialog's times never go back. Dialogs come out by start. */
static void test_timing(void **state)
{
	struct pcap_flows *f = made();
	struct sy_addr a = *A(), b = addr(2, 5060);
	uint64_t year = 365ull * 24 * 3600 * SY_NS_PER_S;
	req(f, a, b, T0 + 10 * MS, "INVITE", "z9hG4bKt1", 1, "late", "ft", "");
	req(f, a, b, T0, "OPTIONS", "z9hG4bKt2", 1, "early", "ft", "");
	resp(f, b, a, T0 + 5 * MS, 100, "INVITE", "z9hG4bKt1", 1, "late", "ft", "");
	resp(f, b, a, T0 + 2 * year, 200, "INVITE", "z9hG4bKt1", 1, "late", "ft", "tt");
	pcap_flows_finish(f);
	assert_int_equal(f->dialog_n, 2);
	assert_string_equal(f->dialogs[0].call_id, "early");
	const struct pcap_dialog *d = &f->dialogs[1];
	assert_int_equal(f->ts_backwards, 1);
	assert_int_equal(f->ts_jumps, 1);
	assert_int_equal(f->first_ts_jump_frame, 4);
	assert_int_equal(d->ts_backwards, 1);
	assert_int_equal(d->msgs[1].at_ns, 0); /* 5 ms is before the INVITE: kept at its time */
	assert_int_equal(d->msgs[2].at_ns, 2 * year - 10 * MS);
	assert_int_equal(d->max_gap_ns, 2 * year - 10 * MS);
	assert_int_equal(f->max_gap_ns, 2 * year - 10 * MS);
	assert_int_equal(f->max_gap_frame, 4);
	assert_int_equal(f->start_ns, T0);
	assert_int_equal(f->end_ns, T0 + 2 * year);
	pcap_flows_free(f);
}

/* Payloads that are not SIP are counted with their first frame, and what
 * follows still parses. */
static void test_malformed(void **state)
{
	static const char *bad[] = {
	    "",
	    "garbage",
	    "INVITE sip:x SIP/2.0\r\n\r\n", /* no Via, From, To, Call-ID, CSeq */
	    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@h>\r\nTo: <sip:b@h>\r\nCall-ID: x\r\n"
	    "CSeq: 1 INVITE\r\nContent-Length: 10\r\n\r\nshort", /* body shorter than Content-Length */
	    "SIP/2.0 999 Nope\r\n\r\n",
	    "INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nthis is no header\r\n\r\n",
	};
	struct pcap_flows *f = made();
	struct sy_addr a = *A(), b = addr(2, 5060);
	req(f, a, b, T0, "OPTIONS", "z9hG4bKm0", 1, "ok", "ft", "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		add_raw(f, PCAP_APP_SIP, a, b, T0 + i, bad[i], strlen(bad[i]));
	uint8_t noise[512];
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (uint8_t)(i * 131 + 7);
	add_raw(f, PCAP_APP_SIP, a, b, T0, noise, sizeof(noise));
	add_raw(f, PCAP_APP_OTHER, a, b, T0, noise, sizeof(noise)); /* not ours: ignored */
	resp(f, b, a, T0 + MS, 200, "OPTIONS", "z9hG4bKm0", 1, "ok", "ft", "x");
	pcap_flows_finish(f);
	assert_int_equal(f->sip_malformed, 7);
	assert_int_equal(f->first_sip_malformed_frame, 2);
	assert_int_equal(f->dialog_n, 1);
	assert_int_equal(f->dialogs[0].msg_n, 2);
	assert_int_equal(f->sip_msgs, 2);
	pcap_flows_free(f);
}

static size_t smpp(uint8_t *buf, uint32_t cmd, uint32_t seq, uint32_t status, const char *system_id)
{
	struct smpp_pdu p;
	size_t len;
	smpp_pdu_init(&p, cmd, seq);
	p.command_status = status;
	if (system_id)
		p.system_id = sy_str_from(system_id);
	if (cmd == SMPP_SUBMIT_SM || cmd == SMPP_DELIVER_SM) {
		p.src.addr = SY_STR("123");
		p.dst.addr = SY_STR("456");
		p.short_message = SY_STR("hi");
	}
	assert_int_equal(smpp_pdu_encode(&p, buf, 512, &len), SY_OK);
	return len;
}

static void add_pdu(struct pcap_flows *f, struct sy_addr src, struct sy_addr dst, uint64_t ts, uint32_t cmd,
		    uint32_t seq, uint32_t status, const char *sid)
{
	uint8_t buf[512];
	size_t n = smpp(buf, cmd, seq, status, sid);
	add_raw(f, PCAP_APP_SMPP, src, dst, ts, buf, n);
}

/* Binds per connection; the ESME told from what it sends, a wrong first
 * guess (an SMSC's enquire_link) put right by the deliver_sm after it. */
static void test_smpp_binds(void **state)
{
	struct pcap_flows *f = made();
	struct sy_addr esme = addr(7, 40000), smsc = addr(8, 2775), esme2 = addr(7, 40001);
	add_pdu(f, esme, smsc, T0, SMPP_BIND_TRANSCEIVER, 1, 0, "acme");
	add_pdu(f, smsc, esme, T0 + MS, SMPP_BIND_TRANSCEIVER_RESP, 1, 0, "smsc");
	add_pdu(f, smsc, esme2, T0 + 2 * MS, SMPP_ENQUIRE_LINK, 9, 0, NULL);
	add_pdu(f, esme, smsc, T0 + 3 * MS, SMPP_SUBMIT_SM, 2, 0, NULL);
	add_pdu(f, smsc, esme, T0 + 4 * MS, SMPP_SUBMIT_SM_RESP, 2, 0, NULL);
	add_pdu(f, smsc, esme2, T0 + 5 * MS, SMPP_DELIVER_SM, 10, 0, NULL);
	add_pdu(f, esme2, smsc, T0 + 6 * MS, SMPP_DELIVER_SM_RESP, 10, 0, NULL);
	uint8_t bad[20] = {0, 0, 0, 99, 0, 0, 0, 4}; /* command_length says 99 */
	add_raw(f, PCAP_APP_SMPP, esme, smsc, T0 + 7 * MS, bad, sizeof(bad));
	add_raw(f, PCAP_APP_SMPP, esme, smsc, T0 + 8 * MS, bad, 3);
	pcap_flows_finish(f);
	assert_int_equal(f->bind_n, 2);
	assert_int_equal(f->smpp_malformed, 2);
	assert_int_equal(f->first_smpp_malformed_frame, 8);
	assert_int_equal(f->smpp_pdus, 7);
	const struct pcap_smpp_bind *b = &f->binds[0], *b2 = &f->binds[1];
	assert_true(sy_addr_eq(&b->esme, &esme) && sy_addr_eq(&b->smsc, &smsc));
	assert_string_equal(b->system_id, "acme");
	assert_int_equal(b->bind_command, SMPP_BIND_TRANSCEIVER);
	assert_int_equal(b->bind_status, 0);
	assert_int_equal(b->pdu_n, 4);
	assert_int_equal(b->submits, 1);
	assert_int_equal(b->submit_resps, 1);
	assert_int_equal(b->pdus[1].from, PCAP_SIDE_CALLEE);
	assert_int_equal(b->pdus[3].at_ns, 4 * MS);
	uint32_t pairs[4] = {1, 0, 3, 2};
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(b->pdus[i].pair, pairs[i]);
	assert_int_equal(b->unanswered, 0);
	assert_int_equal(b2->pdus[0].pair, UINT32_MAX); /* the enquire_link got no answer */
	assert_int_equal(b2->pdus[1].pair, 2);
	assert_int_equal(b2->unanswered, 1);
	assert_true(sy_addr_eq(&b2->esme, &esme2) && sy_addr_eq(&b2->smsc, &smsc));
	assert_string_equal(b2->system_id, "");
	assert_int_equal(b2->bind_command, 0);
	assert_int_equal(b2->delivers, 1);
	assert_int_equal(b2->deliver_resps, 1);
	assert_int_equal(b2->pdus[0].from, PCAP_SIDE_CALLEE); /* the enquire_link came from the SMSC */
	assert_int_equal(b2->pdus[2].from, PCAP_SIDE_CALLER);
	pcap_flows_free(f);
}

/* A rejected bind keeps its status. */
static void test_smpp_bind_rejected(void **state)
{
	struct pcap_flows *f = made();
	struct sy_addr esme = addr(7, 40000), smsc = addr(8, 2775);
	add_pdu(f, smsc, esme, T0, SMPP_BIND_TRANSMITTER_RESP, 1, 0x0E, NULL);
	pcap_flows_finish(f);
	assert_int_equal(f->bind_n, 1);
	assert_true(sy_addr_eq(&f->binds[0].esme, &esme));
	assert_int_equal(f->binds[0].bind_command, 0);
	pcap_flows_free(f);
	f = made();
	add_pdu(f, esme, smsc, T0, SMPP_BIND_TRANSMITTER, 1, 0, "acme");
	add_pdu(f, smsc, esme, T0, SMPP_BIND_TRANSMITTER_RESP, 1, 0x0E, NULL);
	/* a submit_sm anyway, refused; then one answered by a generic_nack */
	add_pdu(f, esme, smsc, T0, SMPP_SUBMIT_SM, 2, 0, NULL);
	add_pdu(f, smsc, esme, T0, SMPP_SUBMIT_SM_RESP, 2, 0x04, NULL);
	add_pdu(f, esme, smsc, T0, SMPP_SUBMIT_SM, 3, 0, NULL);
	add_pdu(f, smsc, esme, T0, SMPP_GENERIC_NACK, 3, 0x03, NULL);
	pcap_flows_finish(f);
	assert_int_equal(f->binds[0].bind_status, 0x0E);
	assert_int_equal(f->binds[0].submit_errors, 1);
	assert_int_equal(f->binds[0].pdus[4].pair, 5);
	assert_int_equal(f->binds[0].unanswered, 0);
	pcap_flows_free(f);
}

/* ---- the real captures of pcaps/, through the reader ---- */

static struct pcap_flows *load(const char *path)
{
	struct pcap_flows *f = NULL;
	char err[256] = "";
	enum sy_rc rc = pcap_flows_load(sy_live_files(), path, &(struct pcap_read_cfg){0}, &f, err, sizeof(err));
	if (rc != SY_OK)
		fail_msg("%s: %s", path, err);
	return f;
}

static bool addr_is(const struct sy_addr *a, const char *s)
{
	char b[SY_ADDR_STRLEN];
	sy_addr_fmt(a, b, sizeof(b));
	return strcmp(b, s) == 0;
}

/* One INVITE dialog over TCP; the callee hangs up (tshark agrees). */
static void test_capture_tcp(void **state)
{
	struct pcap_flows *f = load("pcaps/sip_ipv4_tcp.pcap");
	assert_int_equal(f->dialog_n, 1);
	assert_int_equal(f->sip_malformed, 0);
	const struct pcap_dialog *d = &f->dialogs[0];
	assert_string_equal(d->call_id, "158936656982201062716@10.33.6.100");
	assert_string_equal(d->method, "INVITE");
	assert_int_equal(d->proto, PCAP_PROTO_TCP);
	assert_true(addr_is(&d->caller, "10.33.6.100:64802"));
	assert_true(addr_is(&d->callee, "10.33.6.101:5060"));
	assert_string_equal(d->from_user, "101");
	assert_string_equal(d->to_user, "201");
	assert_int_equal(d->msg_n, 7);
	uint64_t frames[7] = {3, 5, 7, 9, 11, 81, 83};
	for (uint32_t i = 0; i < 7; i++)
		assert_int_equal(d->msgs[i].frame, frames[i]);
	assert_int_equal(d->txn_n, 3);
	assert_int_equal(d->txns[0].final_code, 200);
	assert_int_equal(d->txns[0].provisional_n, 2);
	assert_string_equal(d->txns[1].method, "ACK");
	assert_string_equal(d->txns[2].method, "BYE");
	assert_int_equal(d->txns[2].from, PCAP_SIDE_CALLEE);
	assert_int_equal(d->txns[2].final_code, 200);
	assert_true(d->complete);
	/* frame 3 at .562096 s, frame 83 at 6.526263 s after it */
	assert_int_equal(d->duration_ns, 6526263000ull);
	assert_int_equal(f->ts_jumps, 0);
	pcap_flows_free(f);
}

/* REGISTER, 401, REGISTER, 200, seen on both sides of a proxy. */
static void test_capture_register_two_hops(void **state)
{
	struct pcap_flows *f = load("pcaps/sip_ipv4_tcp_retrans.pcap");
	assert_int_equal(f->dialog_n, 1);
	const struct pcap_dialog *d = &f->dialogs[0];
	assert_string_equal(d->method, "REGISTER");
	assert_true(addr_is(&d->caller, "172.168.0.252:52795"));
	assert_true(addr_is(&d->callee, "172.168.0.228:5060"));
	assert_int_equal(d->leg_n, 2);
	assert_true(addr_is(&d->legs[1].caller, "172.168.0.228:5160"));
	assert_true(addr_is(&d->legs[1].callee, "172.168.0.227:5060"));
	assert_int_equal(d->msg_n, 8);
	assert_int_equal(d->txn_n, 4);
	uint16_t finals[4] = {401, 401, 200, 200};
	uint8_t legs[4] = {0, 1, 0, 1};
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(d->txns[i].final_code, finals[i]);
		assert_int_equal(d->txns[i].leg, legs[i]);
		assert_int_equal(d->txns[i].from, PCAP_SIDE_CALLER);
	}
	assert_int_equal(d->retrans_n, 0); /* the TCP retransmission is the reader's to drop */
	pcap_flows_free(f);
}

/* IPv6 over UDP, the ACK of the 200 reusing the INVITE's branch, and
 * stamps years apart: warned about, never a negative time. */
static void test_capture_ipv6_timing(void **state)
{
	struct pcap_flows *f = load("pcaps/sip_ipv6_udp.pcap");
	assert_int_equal(f->dialog_n, 1);
	const struct pcap_dialog *d = &f->dialogs[0];
	assert_int_equal(d->caller.family, SY_AF_INET6);
	assert_int_equal(d->msg_n, 6);
	assert_int_equal(d->txn_n, 3);
	assert_string_equal(d->txns[1].method, "ACK");
	assert_string_equal(d->txns[2].method, "BYE");
	assert_int_equal(d->txns[2].final_code, 200);
	assert_true(f->ts_jumps >= 1);
	assert_int_equal(f->first_ts_jump_frame, 2);
	assert_true(f->max_gap_ns > 365ull * 86400 * SY_NS_PER_S);
	for (uint32_t i = 1; i < d->msg_n; i++)
		assert_true(d->msgs[i].at_ns >= d->msgs[i - 1].at_ns);
	pcap_flows_free(f);
}

/* Two calls and two registrations among 4,000 RTP frames. */
static void test_capture_rtp(void **state)
{
	struct pcap_flows *f = load("pcaps/rtp_rtcp_sip_ipv4_udp.pcap");
	const char *ids[4] = {"12013223@200.57.7.195", "46E1C3CB36304F84A020CF6DD3F96461@Verso.com",
			      "D3A26FC3974B44ECB5A96E07282903E3@bestel.com", "12015624@200.57.7.195"};
	const char *methods[4] = {"INVITE", "REGISTER", "REGISTER", "INVITE"};
	assert_int_equal(f->dialog_n, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_string_equal(f->dialogs[i].call_id, ids[i]);
		assert_string_equal(f->dialogs[i].method, methods[i]);
	}
	assert_true(f->dialogs[0].complete);
	assert_false(f->dialogs[3].complete); /* the capture ends at its 180 */
	assert_int_equal(f->dialogs[1].txn_n, 2);
	assert_int_equal(f->sip_msgs, 14);
	assert_int_equal(f->stats.frames, 4269);
	pcap_flows_free(f);
}

/* The npm smpp client bound to switchyard serve: 5 submits, 5 receipts. */
static void test_capture_smpp(void **state)
{
	struct pcap_flows *f = load("pcaps/smpp_loopback.pcap");
	assert_int_equal(f->dialog_n, 0);
	assert_int_equal(f->bind_n, 1);
	assert_int_equal(f->smpp_malformed, 0);
	const struct pcap_smpp_bind *b = &f->binds[0];
	assert_true(addr_is(&b->esme, "127.0.0.1:35912"));
	assert_true(addr_is(&b->smsc, "127.0.0.1:2775"));
	assert_string_equal(b->system_id, "app");
	assert_int_equal(b->bind_command, SMPP_BIND_TRANSCEIVER);
	assert_int_equal(b->bind_status, 0);
	assert_int_equal(b->pdu_n, 24);
	assert_int_equal(b->submits, 5);
	assert_int_equal(b->submit_resps, 5);
	assert_int_equal(b->delivers, 5);
	assert_int_equal(b->deliver_resps, 5);
	for (uint32_t i = 0; i < b->pdu_n; i++) {
		const struct pcap_smpp *p = &b->pdus[i];
		bool esme_sends = p->command_id == SMPP_SUBMIT_SM || p->command_id == SMPP_DELIVER_SM_RESP ||
				  p->command_id == SMPP_BIND_TRANSCEIVER;
		bool smsc_sends = p->command_id == SMPP_SUBMIT_SM_RESP || p->command_id == SMPP_DELIVER_SM;
		if (esme_sends)
			assert_int_equal(p->from, PCAP_SIDE_CALLER);
		if (smsc_sends)
			assert_int_equal(p->from, PCAP_SIDE_CALLEE);
		assert_true(i == 0 || p->at_ns >= b->pdus[i - 1].at_ns);
		assert_true(p->pair < b->pdu_n && b->pdus[p->pair].pair == i); /* each answered */
	}
	assert_int_equal(b->unanswered, 0);
	assert_int_equal(b->submit_errors, 0);
	pcap_flows_free(f);
}

/* A missing file and a cut one: errors naming the file (and the frame). */
static void test_capture_errors(void **state)
{
	struct pcap_flows *f = (struct pcap_flows *)1;
	char err[256] = "";
	assert_int_equal(pcap_flows_load(sy_live_files(), "pcaps/no-such.pcap", NULL, &f, err, sizeof(err)),
			 SY_ERR_NOTFOUND);
	assert_null(f);
	assert_non_null(strstr(err, "pcaps/no-such.pcap"));
	FILE *in = fopen("pcaps/sip_ipv4_tcp.pcap", "rb");
	assert_non_null(in);
	static uint8_t buf[4000];
	size_t n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	assert_int_equal(n, sizeof(buf));
	char path[] = "/tmp/sy_test_pcap_flows.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *out = fdopen(fd, "wb");
	assert_int_equal(fwrite(buf, 1, 3001, out), 3001); /* inside a frame */
	fclose(out);
	enum sy_rc rc = pcap_flows_load(sy_live_files(), path, NULL, &f, err, sizeof(err));
	remove(path);
	assert_int_equal(rc, SY_ERR_PARSE);
	assert_null(f);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "frame "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_invite_dialog),
	    cmocka_unit_test(test_retransmissions),
	    cmocka_unit_test(test_ack_non2xx),
	    cmocka_unit_test(test_rfc2543),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_register_401),
	    cmocka_unit_test(test_two_legs),
	    cmocka_unit_test(test_response_first),
	    cmocka_unit_test(test_timing),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_smpp_binds),
	    cmocka_unit_test(test_smpp_bind_rejected),
	    cmocka_unit_test(test_capture_tcp),
	    cmocka_unit_test(test_capture_register_two_hops),
	    cmocka_unit_test(test_capture_ipv6_timing),
	    cmocka_unit_test(test_capture_rtp),
	    cmocka_unit_test(test_capture_smpp),
	    cmocka_unit_test(test_capture_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
