/* webhook_fraud.c: a fraud alert (core/fraud/fraud.h) as the JSON document
 * the webhook POSTs; apart from webhook.c so the poster links without the
 * fraud component. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/fraud/fraud.h"
#include "webhook.h"

struct jbuf {
	char *p;
	size_t n, len;
	bool cut;
};

static void jb_raw(struct jbuf *b, const char *s, size_t n)
{
	if (b->cut || b->len + n >= b->n) {
		b->cut = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* A JSON string of at most max bytes of s: quotes and backslashes
 * escaped, and every byte that is not printable ASCII shown as '?' (the
 * numbers and Call-IDs are the peer's: a byte that is not valid UTF-8
 * would make a document the receiver cannot parse). */
static void jb_str(struct jbuf *b, struct sy_str s, size_t max)
{
	jb_raw(b, "\"", 1);
	for (size_t i = 0; i < s.len && i < max; i++) {
		char ch = s.p[i];
		if (ch == '"' || ch == '\\') {
			char e[2] = {'\\', ch};
			jb_raw(b, e, 2);
		} else {
			jb_raw(b, ch >= 0x20 && ch < 0x7f ? &ch : "?", 1);
		}
	}
	jb_raw(b, "\"", 1);
}

/* Peer-given fields are cut at FIELD_MAX bytes, so the document always
 * fits WEBHOOK_BODY_MAX (asserted below). */
#define FIELD_MAX 128
_Static_assert(2 * (FRAUD_REASON_MAX + 4 * FIELD_MAX) + 400 <= WEBHOOK_BODY_MAX, "an alert fits the webhook's body");

static void jb_field(struct jbuf *b, const char *key, struct sy_str v)
{
	jb_raw(b, ",\"", 2);
	jb_raw(b, key, strlen(key));
	jb_raw(b, "\":", 2);
	jb_str(b, v, FIELD_MAX);
}

static struct sy_str cstr(const char *s)
{
	return (struct sy_str){s, strlen(s)};
}

static const char *kind_name(enum fraud_kind k)
{
	return k == FRAUD_KIND_SMS ? "sms" : k == FRAUD_KIND_MIDCALL ? "midcall" : "call";
}

size_t sy_webhook_fraud_json(const struct fraud_event *ev, char *buf, size_t n)
{
	struct jbuf b = {buf, n, 0, false};
	char t[48];
	time_t secs = (time_t)(ev->wall_ns / SY_NS_PER_S);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t tl = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + tl, sizeof(t) - tl, ".%03uZ", (unsigned)(ev->wall_ns % SY_NS_PER_S / SY_NS_PER_MS));
	jb_raw(&b, "{\"time\":", 8);
	jb_str(&b, cstr(t), sizeof(t));
	jb_field(&b, "kind", cstr(kind_name(ev->kind)));
	jb_field(&b, "action", cstr(fraud_action_name(ev->d->action)));
	jb_field(&b, "verdict", cstr(fraud_action_name(ev->d->verdict)));
	jb_field(&b, "detector", cstr(fraud_detector_name(ev->d->detector)));
	jb_field(&b, "reason", (struct sy_str){ev->d->reason, strnlen(ev->d->reason, FRAUD_REASON_MAX)});
	jb_field(&b, "account", ev->account);
	jb_field(&b, "caller", ev->caller);
	jb_field(&b, "callee", ev->callee);
	jb_field(&b, "call_id", ev->call_id);
	char num[48];
	int nl =
	    snprintf(num, sizeof(num), ",\"sip_status\":%u,\"smpp_status\":%u}", ev->d->sip_status, ev->d->smpp_status);
	jb_raw(&b, num, (size_t)nl);
	if (b.cut)
		return 0;
	buf[b.len] = '\0';
	return b.len;
}

void sy_webhook_fraud_alert(void *arg, const struct fraud_event *ev)
{
	struct sy_webhook *w = arg;
	char body[WEBHOOK_BODY_MAX];
	size_t len = sy_webhook_fraud_json(ev, body, sizeof(body));
	SY_ASSERT(len > 0); /* the static assert above */
	sy_webhook_post(w, body, len);
}
