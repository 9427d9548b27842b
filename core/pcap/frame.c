/* frame.c: where application messages start and end in a byte run. SIP is
 * recognised by its start line (RFC 3261 §7.1: "METHOD URI SIP/2.0" or
 * "SIP/2.0 NNN reason") and framed on a stream by Content-Length (§18.3;
 * compact form `l`); SMPP by its 16-byte header and command_length. The
 * resync functions find the next message start after a gap in a stream. */
#include <string.h>

#include "core/pcap/decode_int.h"

/* The longest start line looked at: a longer one is not SIP we replay. */
#define SIP_LINE_MAX 4096

/* RFC 3261 token characters (the method). */
static bool sip_token_char(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("-.!%*_+`'~", c) != NULL;
}

static int sip_status_line(const uint8_t *p, size_t n)
{
	if (n < 12)
		return -1;
	/* RFC 3261 25.1: three digits, the first a class 1 to 6 */
	if (p[8] < '1' || p[8] > '6')
		return 0;
	for (int i = 9; i < 11; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return p[11] == ' ' || p[11] == '\r' || p[11] == '\n' ? 1 : 0;
}

/* A request line: METHOD SP URI SP "SIP/2.0" line end, within eol. */
static int sip_request_line(const uint8_t *p, size_t eol)
{
	size_t i = 0;
	while (i < eol && sip_token_char(p[i]))
		i++;
	if (i == 0 || i > 32 || i >= eol || p[i] != ' ')
		return 0;
	size_t uri = ++i;
	while (i < eol && p[i] > ' ' && p[i] < 127)
		i++;
	if (i == uri || i >= eol || p[i] != ' ')
		return 0;
	size_t end = eol > 0 && p[eol - 1] == '\r' ? eol - 1 : eol;
	return end - i - 1 == 7 && memcmp(p + i + 1, "SIP/2.0", 7) == 0 ? 1 : 0;
}

int pcap__sip_start(const uint8_t *p, size_t n)
{
	static const char status[] = "SIP/2.0 ";
	if (n == 0)
		return -1;
	if (memcmp(p, status, SY_MIN(n, 8)) == 0)
		return sip_status_line(p, n);
	const uint8_t *nl = memchr(p, '\n', SY_MIN(n, SIP_LINE_MAX));
	if (nl != NULL)
		return sip_request_line(p, (size_t)(nl - p));
	if (n >= SIP_LINE_MAX)
		return 0;
	/* No line end yet: say "maybe" only while it still looks like a
	 * method, a space and a URI. */
	size_t i = 0;
	while (i < n && sip_token_char(p[i]))
		i++;
	if (i == n)
		return -1;
	if (i == 0 || p[i] != ' ')
		return 0;
	return -1;
}

static bool name_is(const uint8_t *p, size_t n, const char *name)
{
	size_t len = strlen(name);
	if (n != len)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i] >= 'A' && p[i] <= 'Z' ? (uint8_t)(p[i] + 32) : p[i];
		if (c != (uint8_t)name[i])
			return false;
	}
	return true;
}

/* Content-Length of the header block [p, p + n), into *cl (0 when there is
 * none: RFC 3261 makes it mandatory on streams, but a message without
 * one has no body we could find anyway). false: a bad value. */
static bool sip_content_length(const uint8_t *p, size_t n, size_t *cl)
{
	*cl = 0;
	for (size_t at = 0; at < n;) {
		const uint8_t *nl = memchr(p + at, '\n', n - at);
		size_t eol = nl != NULL ? (size_t)(nl - p) : n;
		const uint8_t *colon = memchr(p + at, ':', eol - at);
		if (colon != NULL) {
			size_t name_end = (size_t)(colon - p);
			while (name_end > at && (p[name_end - 1] == ' ' || p[name_end - 1] == '\t'))
				name_end--;
			if (name_is(p + at, name_end - at, "content-length") || name_is(p + at, name_end - at, "l")) {
				size_t i = (size_t)(colon - p) + 1, v = 0, digits = 0;
				while (i < eol && (p[i] == ' ' || p[i] == '\t'))
					i++;
				for (; i < eol && p[i] >= '0' && p[i] <= '9' && digits < 8; i++, digits++)
					v = v * 10 + (size_t)(p[i] - '0');
				while (i < eol && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
					i++;
				if (digits == 0 || i != eol || v > PCAP_SIP_BODY_MAX)
					return false;
				*cl = v;
			}
		}
		at = eol + 1;
	}
	return true;
}

enum sy_rc pcap__sip_frame(const uint8_t *p, size_t n, size_t *len)
{
	size_t lim = SY_MIN(n, (size_t)PCAP_SIP_HEAD_MAX), head = 0;
	/* The blank line: CRLF CRLF, or bare LFs from a lax sender. */
	for (size_t i = 0; i + 1 < lim; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n') {
			head = i + 2;
			break;
		}
		if (p[i + 1] == '\r' && i + 2 < lim && p[i + 2] == '\n') {
			head = i + 3;
			break;
		}
	}
	if (head == 0)
		return n >= PCAP_SIP_HEAD_MAX ? SY_ERR_PARSE : SY_AGAIN;
	size_t cl;
	if (!sip_content_length(p, head, &cl))
		return SY_ERR_PARSE;
	*len = head + cl;
	return n < *len ? SY_AGAIN : SY_OK;
}

size_t pcap__sip_resync(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && p[i - 1] != '\n')
			continue;
		if (p[i] == '\r' || p[i] == '\n')
			continue;
		if (pcap__sip_start(p + i, n - i) != 0)
			return i;
	}
	return n;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool pcap__smpp_header_ok(const uint8_t *p, size_t n)
{
	if (n < 16)
		return false;
	uint32_t len = rd32(p), id = rd32(p + 4), status = rd32(p + 8);
	if (len < 16 || len > 64 * 1024)
		return false;
	uint32_t cmd = id & 0x7fffffffu;
	bool resp = (id & 0x80000000u) != 0;
	/* SMPP 3.4 and 5.0 command ids; outbind and alert_notification have no
	 * response, generic_nack is a response only. */
	bool known = (cmd >= 1 && cmd <= 9) || cmd == 0x15 || cmd == 0x103 || (cmd >= 0x111 && cmd <= 0x113) ||
		     (!resp && (cmd == 0x0b || cmd == 0x102)) || (resp && cmd == 0);
	return known && (resp || status == 0);
}

size_t pcap__smpp_resync(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (n - i < 16)
			return i; /* too short to tell: wait for more */
		if (pcap__smpp_header_ok(p + i, n - i))
			return i;
	}
	return n;
}
