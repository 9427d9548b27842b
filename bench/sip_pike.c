/* sip_pike.c: what pike (core/sip/pike.h) costs per datagram, in front of
 * the SIP parser: a request from a counted source (the token bucket), a
 * request from an exempt trunk (the exempt scan), and a response (passes
 * on its first bytes). 10,000 sources take turns, so the table is not one
 * cache line; the clock advances 10 us a datagram (100k datagrams/s, 10/s
 * a source: none is blocked). Prints JSON lines; usage: sip_pike [N]. */
#include "bench/bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/sip/pike.h"

static uint64_t fake_now;

static uint64_t now_fn(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static void random_fn(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	memset(buf, 0x5a, len);
}

static const char REQ[] = "INVITE sip:1555@10.0.0.1 SIP/2.0\r\n";
static const char RESP[] = "SIP/2.0 200 OK\r\n";

/* ns per datagram over n datagrams from 10,000 sources in 10.1.0.0/16. */
static double run(struct sip_pike *p, uint64_t n, const char *msg, uint8_t net, uint32_t sources, uint64_t *passed)
{
	uint64_t t0 = bench_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t src = (uint32_t)(i % sources);
		struct sy_addr a = sy_addr_v4(10, net, (uint8_t)(src >> 8), (uint8_t)src, 5060);
		fake_now += 10 * SY_NS_PER_US;
		*passed += sip_pike_pass(p, &a, (const uint8_t *)msg, strlen(msg));
	}
	return (double)(bench_ns(CLOCK_MONOTONIC) - t0) / (double)n;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
	static const struct sy_env_ops ops = {.now_ns = now_fn, .random = random_fn};
	struct sy_env env = {.ops = &ops};
	struct sip_pike_cfg cfg = {.exempt_n = 4};
	for (uint32_t i = 0; i < 4; i++) /* a few trunks; the last covers 10.2/16 */
		sip_net_parse(i < 3 ? SY_STR("192.0.2.7") : SY_STR("10.2.0.0/16"), &cfg.exempt[i]);
	struct sip_pike *p;
	if (sip_pike_create(&env, &cfg, &p) != SY_OK)
		return 1;
	uint64_t passed = 0;
	double counted = run(p, n, REQ, 1, 10000, &passed);
	double one = run(p, n / 20, REQ, 3, 1, &passed); /* one source at 100k/s: blocked at once */
	double exempt = run(p, n, REQ, 2, 10000, &passed);
	double resp = run(p, n, RESP, 1, 10000, &passed);
	printf("{\"bench\":\"sip-pike\",\"datagrams\":%llu,\"ns_request_counted\":%.1f,\"ns_request_blocked\":%.1f,"
	       "\"ns_request_exempt\":%.1f,\"ns_response\":%.1f,\"passed\":%llu,\"dropped\":%llu}\n",
	       (unsigned long long)n, counted, one, exempt, resp, (unsigned long long)passed,
	       (unsigned long long)sip_pike_stats(p)->dropped);
	sip_pike_destroy(p);
	return 0;
}
