/* smsc_fraud.c: the fraud component (core/fraud/fraud.h) in the message
 * path. Every submit_sm and data_sm part, and every POST /sms, is decided
 * once it is valid and routable, before it is stored: block answers the
 * decision's status (block_smpp, default ESME_RSUBMITFAIL), throttle
 * ESME_RTHROTTLED, flag goes on and its MDR says why. Carrier receipts
 * feed the receipt ratio per route. With smsc_cfg.fraud NULL none of this
 * runs (one pointer test per submit and per receipt). */
#include "smsc_int.h"

#include <stdlib.h>

/* Kept with the message until its MDR: only flagged messages carry a
 * reason, and they are few, so it is allocated rather than reserved in
 * every slot. Without memory the MDR still says flag and the detector. */
void smsc__fraud_keep(struct smsc_msg *m, const struct fraud_decision *d)
{
	m->fraud_action = (uint8_t)d->action;
	m->fraud_detector = (uint8_t)d->detector;
	size_t n = strnlen(d->reason, sizeof(d->reason));
	free(m->fraud_reason);
	m->fraud_reason = malloc(n + 1);
	if (m->fraud_reason != NULL) {
		memcpy(m->fraud_reason, d->reason, n);
		m->fraud_reason[n] = '\0';
	}
}

uint32_t smsc__fraud_submit(struct smsc *s, struct smsc_msg *m, uint32_t segments, struct fraud_decision *d)
{
	struct fraud_sms_req rq = {
	    .account = sy_str_from(m->account >= 0 ? s->accts[m->account].cfg->name : ""),
	    .from = sy_str_from(m->src.digits),
	    .to = sy_str_from(m->dst.digits),
	    .segments = segments,
	};
	fraud_sms_submit(s->cfg.fraud, &rq, d);
	switch (d->action) {
	case FRAUD_ALLOW:
		return ESME_ROK;
	case FRAUD_FLAG:
		smsc__fraud_keep(m, d);
		return ESME_ROK;
	case FRAUD_THROTTLE:
		s->st.fraud_throttled++;
		return ESME_RTHROTTLED;
	default:
		s->st.fraud_blocked++;
		return d->smpp_status != 0 ? d->smpp_status : ESME_RSUBMITFAIL;
	}
}

void smsc__fraud_receipt(struct smsc *s, const struct smsc_carrier *c, const struct smsc_msg *m, bool delivered)
{
	fraud_sms_receipt(s->cfg.fraud, sy_str_from(c->cfg->name), sy_str_from(m->dst.digits), delivered);
}

void smsc__fraud_mdr(const struct smsc_msg *m, struct mdr *r)
{
	r->fraud_action = m->fraud_action;
	r->fraud_detector = m->fraud_detector;
	if (m->fraud_reason != NULL)
		MDR_SET_STR(r, fraud_reason, sy_str_from(m->fraud_reason));
}
