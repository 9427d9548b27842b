/* test_pcap_info.c: what `switchyard pcap info` prints (core/pcap/info.c,
 * info_json.c): the summary line, the warnings, durations and dates from
 * integers, and JSON that stays JSON whatever bytes a Call-ID holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/pcap/info.h"
#include "core/pcap/info_int.h"

#define T0 (1311857686ull * SY_NS_PER_S + 562096000ull)

static uint64_t frame_no;

static void add(struct pcap_flows *f, uint8_t from, uint64_t ts, const char *text)
{
	struct pcap_msg m = {.frame = ++frame_no,
			     .ts_ns = ts,
			     .proto = PCAP_PROTO_UDP,
			     .app = PCAP_APP_SIP,
			     .src = sy_addr_v4(10, 0, 0, from, 5060),
			     .dst = sy_addr_v4(10, 0, 0, from == 1 ? 2 : 1, 5060),
			     .data = (const uint8_t *)text,
			     .len = strlen(text)};
	assert_int_equal(pcap_flows_add(f, &m), SY_OK);
}

static const char *msg(char *buf, size_t n, const char *start, const char *cid, const char *method)
{
	snprintf(buf, n,
		 "%s\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK%s\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"
		 "Call-ID: %s\r\nCSeq: 1 %s\r\n\r\n",
		 start, method, cid, method);
	return buf;
}

static struct pcap_flows *sample(void)
{
	char b[512];
	struct pcap_flows *f = pcap_flows_create();
	frame_no = 0;
	add(f, 1, T0, msg(b, sizeof(b), "REGISTER sip:h SIP/2.0", "r1", "REGISTER"));
	add(f, 2, T0 + 1000000, msg(b, sizeof(b), "SIP/2.0 401 Unauthorized", "r1", "REGISTER"));
	add(f, 1, T0 + 2000000, msg(b, sizeof(b), "OPTIONS sip:h SIP/2.0", "o\"\\\x01\x7f", "OPTIONS"));
	add(f, 1, T0 + 3000000, "not SIP at all");
	add(f, 1, T0 + 7200 * SY_NS_PER_S, msg(b, sizeof(b), "INVITE sip:b@h SIP/2.0", "i1", "INVITE"));
	pcap_flows_finish(f);
	return f;
}

static void test_summary_and_warnings(void **state)
{
	struct pcap_flows *f = sample();
	struct pcap_text t = {0};
	pcap_info_summary(&t, f);
	assert_string_equal(t.p, "summary: 3 dialogs (1 REGISTER, 1 OPTIONS, 1 INVITE), 4 SIP messages, 0 SMPP binds, "
				 "0 frames, 1 malformed, 2 h 00 min");
	pcap_text_free(&t);
	pcap_info_text(&t, f, "x.pcap");
	assert_non_null(strstr(t.p, "capture: x.pcap\n"));
	assert_non_null(strstr(t.p, "from 2011-07-28 12:54:46 UTC"));
	assert_non_null(strstr(t.p, "    REGISTER 1 from caller: 401 (0 provisional)\n"));
	assert_non_null(strstr(t.p, "warning: 1 SIP payloads did not parse (first: frame 4)\n"));
	assert_non_null(strstr(t.p, "warning: timestamps jump by more than an hour 1 times (first: frame 5)"));
	/* the summary is the last line */
	const char *last = strstr(t.p, "summary: ");
	assert_non_null(last);
	assert_ptr_equal(strchr(last, '\n') + 1, t.p + t.len);
	pcap_text_free(&t);
	pcap_flows_free(f);
}

static void test_json_escapes(void **state)
{
	struct pcap_flows *f = sample();
	struct pcap_text t = {0};
	pcap_info_json(&t, f, "dir/\"x\".pcap");
	assert_false(t.oom);
	assert_non_null(strstr(t.p, "\"file\":\"dir/\\\"x\\\".pcap\""));
	assert_non_null(strstr(t.p, "\"call_id\":\"o\\\"\\\\\\u0001\\u007f\""));
	for (size_t i = 0; i < t.len; i++) /* no raw control byte but the line ends */
		assert_true((unsigned char)t.p[i] >= 0x20 || t.p[i] == '\n');
	assert_non_null(strstr(t.p, "\"summary\":\"summary: 3 dialogs"));
	pcap_text_free(&t);
	pcap_flows_free(f);
}

static void test_durations_and_dates(void **state)
{
	char b[48];
	static const struct {
		uint64_t ns;
		const char *want;
	} durs[] = {
	    {0, "0.000 ms"},
	    {1234567, "1.234 ms"},
	    {6526263000ull, "6.52 s"},
	    {3599 * SY_NS_PER_S, "3599.00 s"},
	    {7260 * SY_NS_PER_S, "2 h 01 min"},
	    {2327ull * 86400 * SY_NS_PER_S + 5, "2327 days"},
	};
	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++)
		assert_string_equal(pcap_info_dur(b, sizeof(b), durs[i].ns), durs[i].want);
	/* as `date -u -d @N` prints them */
	assert_string_equal(pcap_info_date(b, sizeof(b), 0), "1970-01-01 00:00:00 UTC");
	assert_string_equal(pcap_info_date(b, sizeof(b), 951782400ull * SY_NS_PER_S), "2000-02-29 00:00:00 UTC");
	assert_string_equal(pcap_info_date(b, sizeof(b), 3215500952ull * SY_NS_PER_S), "2071-11-23 10:42:32 UTC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_summary_and_warnings),
	    cmocka_unit_test(test_json_escapes),
	    cmocka_unit_test(test_durations_and_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
