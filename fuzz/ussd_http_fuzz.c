/* ussd_http_fuzz.c: libFuzzer harness on the USSD HTTP client's response
 * path (core/ussd/http_int.h): the input after its first byte is what an
 * application writes back, fed to the response parser in pieces as the
 * client's on_data would get them (the first byte picks the piece sizes),
 * then the end of the connection; a complete 2xx goes through the CON/END
 * rule. Checked: the pieces parse exactly as the whole input does, nothing
 * is kept past the body bound, and the text is a slice of the body without
 * a CR. The same bytes also go through the URL parser. Built by
 * `make fuzz`; the corpus (fuzz/corpus/ussd_http/) replays in `make test`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ussd/http_int.h"

/* Feeds p[0..n) in pieces of 1..17 bytes drawn from seed (0: whole),
 * each piece an exact-size copy so ASan sees a read past it; then EOF. */
static enum sy_rc feed_pieces(struct ussd_http_resp *r, const uint8_t *p, size_t n, uint8_t seed)
{
	size_t at = 0;
	enum sy_rc rc = SY_AGAIN;
	uint32_t k = seed;
	while (at < n && rc == SY_AGAIN) {
		size_t len = seed == 0 ? n : 1 + (k = k * 1103515245u + 12345u) % 17;
		len = len < n - at ? len : n - at;
		uint8_t *piece = malloc(len);
		memcpy(piece, p + at, len);
		size_t used = 0;
		rc = ussd_http_resp_feed(r, piece, len, &used);
		free(piece);
		SY_ASSERT(used <= len);
		SY_ASSERT(rc != SY_AGAIN || used == len);
		at += used;
	}
	if (rc == SY_AGAIN)
		rc = ussd_http_resp_eof(r);
	return rc;
}

static void check_body(struct ussd_http_resp *r)
{
	SY_ASSERT(r->body_len <= USSD_HTTP_BODY_MAX);
	if (r->status < 200 || r->status >= 300)
		return;
	bool end;
	struct sy_str text;
	if (ussd_http_body_parse(r->body, r->body_len, &end, &text) != SY_OK)
		return;
	SY_ASSERT(text.p >= r->body && text.p + text.len <= r->body + r->body_len);
	SY_ASSERT(text.len + 4 <= r->body_len);
	SY_ASSERT(memchr(text.p, '\r', text.len) == NULL);
}

static void fuzz_url(const uint8_t *p, size_t n)
{
	char url[USSD_URL_MAX + 64];
	n = n < sizeof(url) - 1 ? n : sizeof(url) - 1;
	memcpy(url, p, n);
	url[n] = '\0';
	struct ussd_http_url u;
	const char *why = NULL;
	if (ussd_http_url_parse(url, &u, &why) == SY_OK) {
		SY_ASSERT(u.path[0] == '/' && u.addr.port != 0);
		SY_ASSERT(strlen(u.host) < sizeof(u.host));
	} else {
		SY_ASSERT(why != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ussd_http_resp whole, split;
	if (size == 0)
		return 0;
	uint8_t seed = data[0];
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	ussd_http_resp_init(&whole);
	ussd_http_resp_init(&split);
	enum sy_rc a = feed_pieces(&whole, p, n, 0);
	enum sy_rc b = feed_pieces(&split, p, n, seed | 1);
	SY_ASSERT(a == b);
	if (a == SY_OK) {
		SY_ASSERT(whole.status == split.status && whole.keep_alive == split.keep_alive);
		SY_ASSERT(whole.body_len == split.body_len);
		SY_ASSERT(memcmp(whole.body, split.body, whole.body_len) == 0);
		check_body(&split);
	}
	fuzz_url(p, n);
	return 0;
}
