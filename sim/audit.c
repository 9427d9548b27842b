/* audit.c: the node's billing accounts and tariffs as the money audit wants
 * them; see audit.h. */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/billing/callbill.h"

#define MEMBER_NAME_MAX (BILLING_NAME_MAX + 12)

struct members {
	struct audit_account *a;
	char (*name)[MEMBER_NAME_MAX];
	char (*number)[BILLING_PATTERN_MAX + 12];
	uint32_t n;
};

/* The [tariff] an account names, else the first, as the call path picks. */
static const struct bill_tariff *tariff_for(const struct billing_cfg *s, const struct billing_account_cfg *a,
					    const struct bill_tariff *t)
{
	for (uint32_t i = 0; i < s->tariff_n; i++)
		if (strcmp(s->tariffs[i].name, a->tariff) == 0)
			return &t[i];
	return s->tariff_n > 0 ? &t[0] : NULL;
}

static enum sy_rc members_fill(const struct billing_cfg *s, const struct bill_tariff *t, struct members *m)
{
	uint32_t n = 0;
	for (uint32_t k = 0; k < s->account_n; k++)
		n += s->accounts[k].count > 1 ? s->accounts[k].count : 1;
	m->a = calloc(n + 1, sizeof *m->a);
	m->name = calloc(n + 1, sizeof *m->name);
	m->number = calloc(n + 1, sizeof *m->number);
	if (m->a == NULL || m->name == NULL || m->number == NULL)
		return SY_ERR_NOMEM;
	for (uint32_t k = 0; k < s->account_n; k++) {
		const struct billing_account_cfg *a = &s->accounts[k];
		for (uint32_t i = 0; i < (a->count > 1 ? a->count : 1); i++, m->n++) {
			callbill_member(a, i, m->name[m->n], sizeof m->name[0], m->number[m->n], sizeof m->number[0]);
			m->a[m->n] = (struct audit_account){m->name[m->n], m->number[m->n], tariff_for(s, a, t)};
		}
	}
	return SY_OK;
}

/* The charged services, as the audit re-rates their UDRs. */
static uint32_t services_fill(const struct ussd_cfg *u, struct audit_ussd_service *out)
{
	uint32_t n = 0;
	for (uint32_t i = 0; u != NULL && u->on && i < u->service_n; i++) {
		const struct ussd_service_cfg *c = &u->services[i];
		if (c->charge != USSD_CHARGE_NONE)
			out[n++] = (struct audit_ussd_service){c->code, c->charge == USSD_CHARGE_STEP, c->price_micros};
	}
	return n;
}

enum sy_rc sim_audit_money(const struct sy_env *env, const struct billing_cfg *s, const struct ussd_cfg *ussd,
			   const char *out_dir, struct audit_result *out, char *err, size_t errlen)
{
	struct bill_tariff t[BILLING_TARIFFS_MAX];
	struct members m = {0};
	uint32_t loaded = 0;
	enum sy_rc rc = SY_OK;
	memset(out, 0, sizeof *out);
	for (; loaded < s->tariff_n && rc == SY_OK; loaded++) {
		struct bill_tariff_opts o = {.err = err, .err_len = errlen};
		rc = bill_tariff_load_file(env, &t[loaded], s->tariffs[loaded].file, &o);
	}
	if (rc != SY_OK) {
		loaded--; /* the failed load left its tariff freed */
		goto out_free;
	}
	if ((rc = members_fill(s, t, &m)) != SY_OK) {
		snprintf(err, errlen, "audit: out of memory");
		goto out_free;
	}
	char cdrs[BILLING_PATH_MAX + 96], ledger[BILLING_PATH_MAX + 96], udrs[BILLING_PATH_MAX + 96];
	snprintf(cdrs, sizeof cdrs, "%s/cdrs.sqlite", out_dir);
	snprintf(ledger, sizeof ledger, "%s/ledger.sqlite", out_dir);
	snprintf(udrs, sizeof udrs, "%s/udrs.sqlite", out_dir);
	struct audit_ussd_service svc[USSD_SERVICES_MAX];
	struct audit_cfg c = {.env = env,
			      .cdr_path = cdrs,
			      .ledger_path = ledger,
			      .udr_path = ussd != NULL && ussd->on && ussd->records ? udrs : NULL,
			      .accounts = m.a,
			      .account_n = m.n,
			      .ussd = svc,
			      .ussd_n = services_fill(ussd, svc)};
	rc = audit_run(&c, out, err, errlen);
out_free:
	for (uint32_t i = 0; i < loaded; i++)
		bill_tariff_free(&t[i]);
	free(m.a);
	free(m.name);
	free(m.number);
	return rc;
}
