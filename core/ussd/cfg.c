/* cfg.c: the gateway's configuration defaults and names. */
#include "core/ussd/ussd.h"

#include <stdio.h>
#include <string.h>

static void text_set(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s);
}

void ussd_cfg_defaults(struct ussd_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->session_timeout_ns = 180 * SY_NS_PER_S;
	c->app_timeout_ns = 5 * SY_NS_PER_S;
	c->sessions_max = 1u << 20;
	c->records = true;
	text_set(c->timeout_text, sizeof(c->timeout_text), "Session timed out.");
	text_set(c->error_text, sizeof(c->error_text), "Service unavailable. Try later.");
	text_set(c->busy_text, sizeof(c->busy_text), "Service busy. Try later.");
	text_set(c->unknown_text, sizeof(c->unknown_text), "Unknown service.");
	c->guard = (struct sy_bind_guard){.bind_timeout_ns = 5 * SY_NS_PER_S,
					   .conns_per_source = 16,
					   .bind_fails_max = 3,
					   .fail_backoff_ns = SY_NS_PER_S,
					   .fail_backoff_max_ns = 300 * SY_NS_PER_S};
}

uint32_t ussd_charged_sessions_max(const struct ussd_cfg *c)
{
	for (uint32_t i = 0; c->on && i < c->service_n; i++)
		if (c->services[i].charge != USSD_CHARGE_NONE)
			return c->sessions_max;
	return 0;
}

const char *ussd_end_name(enum ussd_end e)
{
	static const char *const names[USSD_END_COUNT] = {
	    [USSD_END_NONE] = "none",
	    [USSD_END_COMPLETED] = "completed",
	    [USSD_END_USER_ABORT] = "user_abort",
	    [USSD_END_NETWORK_ABORT] = "network_abort",
	    [USSD_END_APP_ERROR] = "app_error",
	    [USSD_END_APP_TIMEOUT] = "app_timeout",
	    [USSD_END_SESSION_TIMEOUT] = "session_timeout",
	    [USSD_END_REFUSED] = "refused",
	    [USSD_END_SHUTDOWN] = "shutdown",
	};
	return (unsigned)e < USSD_END_COUNT ? names[e] : "unknown";
}
