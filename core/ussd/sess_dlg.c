/* sess_dlg.c: the USSD dialogue. A PSSR indication from a node begins a
 * session (or is refused with a text), the application answers (a declared
 * menu at once, an HTTP application later), CON goes to the handset as a
 * USSR request and its confirm is the next input, END goes out as the
 * final PSSR response; releases, timeouts and application failures end
 * the session with a clean release toward the handset where one is
 * possible. Every session, refused ones too, leaves one record. */
#include <stdio.h>
#include <string.h>

#include "core/billing/callbill.h"
#include "core/store/udr.h"
#include "core/ussd/sess.h"

static const struct ussd_service_cfg *svc_of(const struct ussd *u, const struct ussd_sess *s)
{
	return &u->cfg->services[s->service];
}

/* A message toward the handset of s (or, s NULL, of the refused m). */
static void msg_to(struct ussd_msg *o, const char *msisdn, const char *code, uint16_t ref, uint8_t seq, uint8_t op,
		   struct sy_str text)
{
	memset(o, 0, offsetof(struct ussd_msg, text));
	o->op = op;
	o->release = op == SMPP_USSD_PSSR_RESP;
	o->ref = ref;
	o->seq = (uint8_t)((seq + 1) & 0x7f); /* its_session_info: the reply's sequence follows the node's */
	snprintf(o->msisdn, sizeof(o->msisdn), "%s", msisdn);
	snprintf(o->code, sizeof(o->code), "%s", code);
	o->text_len = SY_MIN(text.len, sizeof(o->text) - 1);
	memcpy(o->text, text.p, o->text_len);
	o->text[o->text_len] = '\0';
}

static enum sy_rc send_to(struct ussd *u, const struct ussd_sess *s, uint8_t op, struct sy_str text)
{
	struct ussd_msg o;
	msg_to(&o, s->msisdn, svc_of(u, s)->code, s->ref, s->seq, op, text);
	return ussd__tx(u, s->link, &o);
}

static void udr_text(struct udr *r, const char *text)
{
	size_t n = text != NULL ? strlen(text) : 0;
	if (n >= sizeof(r->last_text)) {
		n = sizeof(r->last_text) - 1;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--; /* cut at a UTF-8 boundary */
	}
	if (n > 0)
		memcpy(r->last_text, text, n);
	r->last_text[n] = '\0';
}

static void count_end(struct ussd_stats *st, enum ussd_end end)
{
	switch (end) {
	case USSD_END_COMPLETED:
		st->completed++;
		break;
	case USSD_END_USER_ABORT:
		st->user_aborts++;
		break;
	case USSD_END_NETWORK_ABORT:
		st->network_aborts++;
		break;
	case USSD_END_APP_ERROR:
		st->app_errors++;
		break;
	case USSD_END_APP_TIMEOUT:
		st->app_timeouts++;
		break;
	case USSD_END_SESSION_TIMEOUT:
		st->session_timeouts++;
		break;
	case USSD_END_REFUSED:
		st->refused++;
		break;
	case USSD_END_SHUTDOWN:
		st->shutdown++;
		break;
	default:
		SY_ASSERT(!"an end a session cannot have");
	}
}

static void app_cancel(struct ussd *u, const struct ussd_sess *s)
{
	uint64_t token = ussd__sess_token(u, s);
	if (u->app.request != NULL) {
		if (u->app.cancel != NULL)
			u->app.cancel(u->app.arg, token);
	} else if (u->http != NULL) {
		ussd_http_cancel(u->http, token);
	}
}

void ussd__end(struct ussd *u, struct ussd_sess *s, enum ussd_end end, const char *text)
{
	SY_ASSERT(s->state != USSD_ST_DONE);
	if (s->state == USSD_ST_APP)
		app_cancel(u, s);
	if (text != NULL && send_to(u, s, SMPP_USSD_PSSR_RESP, sy_str_from(text)) != SY_OK && end == USSD_END_COMPLETED)
		end = USSD_END_NETWORK_ABORT; /* the END text never left: the handset did not see it */
	struct udr r = {
	    .id = s->id,
	    .begin_ns = s->begin_wall_ns,
	    .end_ns = sy_env_wall_ns(u->env),
	    .end = (uint8_t)end,
	    .app_result = s->app_result,
	    .steps = s->steps,
	    .inputs = s->inputs,
	    .app_status = s->app_status,
	};
	r.charge_micros = ussd__charge_end(u, s);
	snprintf(r.link, sizeof(r.link), "%s", u->cfg->links[s->link].name);
	snprintf(r.msisdn, sizeof(r.msisdn), "%s", s->msisdn);
	snprintf(r.code, sizeof(r.code), "%s", svc_of(u, s)->code);
	if (s->payer != 0)
		snprintf(r.account, sizeof(r.account), "%s", callbill_payer_name(u->bill, s->payer));
	udr_text(&r, text);
	count_end(&u->st, end);
	ussd__sess_del(u, s);
	ussd__record(u, &r);
}

/* Refused before a session existed (unknown code, full): the release and
 * a record from the message itself. */
static void refuse(struct ussd *u, uint16_t li, const struct ussd_msg *m, int svc, const char *text)
{
	struct ussd_msg o;
	const char *code = svc >= 0 ? u->cfg->services[svc].code : m->code;
	msg_to(&o, m->msisdn, code, m->ref, m->seq, SMPP_USSD_PSSR_RESP, sy_str_from(text));
	(void)ussd__tx(u, li, &o);
	uint64_t now = sy_env_wall_ns(u->env);
	struct udr r = {.id = ussd__sess_id(u), .begin_ns = now, .end_ns = now, .end = USSD_END_REFUSED};
	snprintf(r.link, sizeof(r.link), "%s", u->cfg->links[li].name);
	snprintf(r.msisdn, sizeof(r.msisdn), "%s", m->msisdn);
	snprintf(r.code, sizeof(r.code), "%s", code);
	udr_text(&r, text);
	u->st.refused++;
	ussd__record(u, &r);
}

/* Whether an application's text goes out as one USSD string (182 GSM
 * characters, or 80 UCS2 ones): the codec is the judge. Declared menus are
 * checked when the configuration is read; an HTTP application's reply is
 * checked here, so a text too long ends in a clean release with error_text
 * rather than a dialogue the handset never hears the end of. */
static bool app_text_fits(const struct ussd *u, const struct ussd_sess *s, struct sy_str text)
{
	struct ussd_msg o;
	if (text.len >= sizeof(o.text))
		return false;
	const struct ussd_link_cfg *l = &u->cfg->links[s->link];
	const struct ussd_codec_cfg cc = {.ref = l->ref, .release_op = l->release_op};
	struct smpp_pdu pdu;
	uint8_t buf[2 * USSD_TEXT_UTF8_MAX];
	msg_to(&o, s->msisdn, svc_of(u, s)->code, s->ref, s->seq, SMPP_USSD_USSR_REQ, text);
	return ussd_msg_to_pdu(&cc, &o, SMPP_SUBMIT_SM, &pdu, buf, sizeof(buf)) == SY_OK;
}

/* The application's answer: CON goes to the handset, END ends. */
static void app_reply(struct ussd *u, struct ussd_sess *s, bool end, struct sy_str text)
{
	s->steps++;
	u->st.steps++;
	if (end) {
		char t[USSD_TEXT_UTF8_MAX];
		size_t n = SY_MIN(text.len, sizeof(t) - 1);
		memcpy(t, text.p, n);
		t[n] = '\0';
		ussd__end(u, s, USSD_END_COMPLETED, t);
		return;
	}
	s->state = USSD_ST_HANDSET;
	if (send_to(u, s, SMPP_USSD_USSR_REQ, text) != SY_OK)
		ussd__end(u, s, USSD_END_NETWORK_ABORT, NULL); /* the screen never left: nobody will answer */
}

static void menu_reply(struct ussd *u, struct ussd_sess *s, const struct ussd_menu_out *out)
{
	app_reply(u, s, out->end, (struct sy_str){out->text, out->len});
}

static enum sy_rc app_request(struct ussd *u, struct ussd_sess *s)
{
	const struct ussd_service_cfg *svc = svc_of(u, s);
	char text[USSD_INPUTS_MAX + 1];
	size_t n = ussd__sess_inputs(u, s, text, sizeof(text));
	struct ussd_app_req req = {
	    .session_id = s->id,
	    .code = sy_str_from(svc->code),
	    .msisdn = sy_str_from(s->msisdn),
	    .text = {text, n},
	};
	uint64_t token = ussd__sess_token(u, s);
	s->state = USSD_ST_APP;
	u->st.app_requests++;
	if (u->app.request != NULL)
		return u->app.request(u->app.arg, s->service, token, &req);
	SY_ASSERT(u->http != NULL);
	return ussd_http_request(u->http, s->service, token, &req);
}

/* Asks the HTTP application; its refusal ends the session at once. */
static void http_ask(struct ussd *u, struct ussd_sess *s)
{
	enum sy_rc rc = app_request(u, s);
	if (rc == SY_OK)
		return;
	s->state = USSD_ST_BEGIN; /* nothing to cancel */
	if (rc == SY_ERR_FULL) {
		u->st.app_overload++;
		s->app_result = USSD_APP_OVERLOAD;
		if (s->steps == 0)
			u->st.refused_full++;
		ussd__end(u, s, s->steps == 0 ? USSD_END_REFUSED : USSD_END_APP_ERROR, u->cfg->busy_text);
		return;
	}
	ussd__end(u, s, USSD_END_APP_ERROR, u->cfg->error_text);
}

/* The dialled inputs after the code ("*123*1*2#": "1", "2") walk a menu
 * from its start, as later inputs would. */
static void menu_begin(struct ussd *u, struct ussd_sess *s, struct sy_str inputs)
{
	const struct ussd_menu_cfg *m = &u->cfg->menus[svc_of(u, s)->menu];
	struct ussd_menu_out out;
	ussd_menu_begin(m, &s->node, &out);
	while (inputs.len > 0 && !out.end) {
		const char *star = memchr(inputs.p, '*', inputs.len);
		size_t k = star != NULL ? (size_t)(star - inputs.p) : inputs.len;
		ussd_menu_input(m, &s->node, (struct sy_str){inputs.p, k}, &out);
		inputs.p += SY_MIN(k + 1, inputs.len);
		inputs.len -= SY_MIN(k + 1, inputs.len);
	}
	menu_reply(u, s, &out);
}

static int match(const struct ussd *u, const struct ussd_msg *m, struct sy_str *inputs)
{
	/* short_message carries the dialled string; destination_addr too, or
	 * only the service code with some operators */
	int i = -1;
	*inputs = (struct sy_str){"", 0};
	if (m->text_len > 0)
		i = ussd_code_match(u->cfg->services, u->cfg->service_n, (struct sy_str){m->text, m->text_len}, inputs);
	if (i < 0)
		i = ussd_code_match(u->cfg->services, u->cfg->service_n, sy_str_from(m->code), inputs);
	return i;
}

static void begin(struct ussd *u, uint16_t li, const struct ussd_msg *m, struct ussd_sess *old)
{
	if (old != NULL)
		ussd__end(u, old, USSD_END_NETWORK_ABORT, NULL); /* the handset redialled: that dialogue is gone */
	struct sy_str inputs;
	int svc = match(u, m, &inputs);
	if (svc < 0) {
		u->st.refused_unknown++;
		refuse(u, li, m, -1, u->cfg->unknown_text);
		return;
	}
	struct ussd_sess *s = ussd__sess_new(u, li, m->msisdn, m->ref);
	if (s == NULL) {
		u->st.refused_full++;
		refuse(u, li, m, svc, u->cfg->busy_text);
		return;
	}
	s->id = ussd__sess_id(u);
	s->service = (uint16_t)svc;
	s->seq = m->seq;
	ussd__bytes(u);
	if (ussd__charge_begin(u, s) != SY_OK) {
		ussd__end(u, s, USSD_END_REFUSED, u->cfg->busy_text);
		return;
	}
	u->st.started++;
	if (svc_of(u, s)->kind == USSD_APP_MENU) {
		menu_begin(u, s, inputs);
		return;
	}
	if (inputs.len > 0 && ussd__sess_input_add(u, s, inputs) != SY_OK) {
		ussd__end(u, s, USSD_END_APP_ERROR, u->cfg->error_text);
		return;
	}
	http_ask(u, s);
}

static void input(struct ussd *u, struct ussd_sess *s, const struct ussd_msg *m)
{
	struct sy_str in = {m->text, m->text_len};
	s->seq = m->seq;
	s->inputs++;
	if (!ussd__charge_step(u, s)) {
		u->st.refused_funds++;
		ussd__end(u, s, USSD_END_REFUSED, u->cfg->busy_text);
		return;
	}
	if (svc_of(u, s)->kind == USSD_APP_MENU) {
		struct ussd_menu_out out;
		ussd_menu_input(&u->cfg->menus[svc_of(u, s)->menu], &s->node, in, &out);
		menu_reply(u, s, &out);
		return;
	}
	enum sy_rc rc = ussd__sess_input_add(u, s, in);
	ussd__bytes(u);
	if (rc != SY_OK) {
		ussd__end(u, s, USSD_END_APP_ERROR, u->cfg->error_text);
		return;
	}
	http_ask(u, s);
}

uint32_t ussd__on_msg(struct ussd *u, uint16_t li, const struct ussd_msg *m)
{
	SY_ASSERT(li < u->cfg->link_n);
	if (u->stopped)
		return ESME_ROK;
	struct ussd_sess *s = ussd__sess_find(u, li, m->msisdn, m->ref);
	if (m->release) {
		if (s != NULL)
			ussd__end(u, s, USSD_END_USER_ABORT, NULL);
		else
			u->st.stray++;
		return ESME_ROK;
	}
	switch (m->op) {
	case SMPP_USSD_PSSR_IND:
		begin(u, li, m, s);
		break;
	case SMPP_USSD_USSR_CONF:
		if (s != NULL && s->state == USSD_ST_HANDSET)
			input(u, s, m);
		else
			u->st.stray++; /* no session, or an answer nobody asked for */
		break;
	default:
		u->st.stray++;
		break;
	}
	return ESME_ROK;
}

void ussd__app_done(void *arg, uint64_t token, const struct ussd_app_reply *reply)
{
	struct ussd *u = arg;
	struct ussd_sess *s = ussd__sess_by_token(u, token);
	if (u->http != NULL)
		u->st.app_retries = ussd_http_stats(u->http)->retries;
	if (s == NULL || s->state != USSD_ST_APP)
		return; /* ended meanwhile (the client was told to cancel) */
	s->state = USSD_ST_BEGIN;
	s->app_result = (uint8_t)reply->result;
	s->app_status = reply->status;
	switch (reply->result) {
	case USSD_APP_OK:
		if (app_text_fits(u, s, reply->text)) {
			app_reply(u, s, reply->end, reply->text);
			break;
		}
		s->app_result = USSD_APP_BAD;
		u->st.app_unsendable++;
		ussd__end(u, s, USSD_END_APP_ERROR, u->cfg->error_text);
		break;
	case USSD_APP_TIMEOUT:
		ussd__end(u, s, USSD_END_APP_TIMEOUT, u->cfg->error_text);
		break;
	default:
		ussd__end(u, s, USSD_END_APP_ERROR, u->cfg->error_text);
		break;
	}
}

void ussd__timeouts(void *arg)
{
	struct ussd *u = arg;
	u->q_timer = 0;
	uint64_t now = sy_env_now_ns(u->env);
	struct ussd_sess *s;
	u->q_hold = true;
	while ((s = ussd__sess_oldest(u)) != NULL && s->begin_ns + u->cfg->session_timeout_ns <= now)
		ussd__end(u, s, USSD_END_SESSION_TIMEOUT, u->cfg->timeout_text);
	u->q_hold = false;
	ussd__sess_arm(u);
}

void ussd__on_link_down(struct ussd *u, uint16_t li)
{
	struct ussd_sess *s = ussd__sess_oldest(u), *next;
	u->q_hold = true;
	for (; s != NULL; s = next) {
		next = ussd__sess_newer(u, s);
		if (s->link == li)
			ussd__end(u, s, USSD_END_NETWORK_ABORT, NULL);
	}
	u->q_hold = false;
	ussd__sess_arm(u);
}
