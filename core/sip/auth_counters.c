/* auth_counters.c: who was let in and who was not (struct sip_auth_stats),
 * one line each: GET /metrics, report.json and the run report read them
 * from here (core/metrics/counters.h). */
#include "core/metrics/counters.h"
#include "core/sip/auth.h"

#define A(f) SY_CTR_AT(struct sip_auth_stats, f)

/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_sip_auth_trunk_total", "auth.trunk", "new requests accepted from a trunk's source address", SY_CTR_COUNTER, SY_UNIT_COUNT, A(by_trunk)},
    {"switchyard_sip_auth_digest_total", "auth.digest", "new requests accepted with a valid digest", SY_CTR_COUNTER, SY_UNIT_COUNT, A(by_digest)},
    {"switchyard_sip_auth_challenged_total", "auth.challenged", "401/407 challenges sent", SY_CTR_COUNTER, SY_UNIT_COUNT, A(challenged)},
    {"switchyard_sip_auth_rejected_total", "auth.rejected", "new requests refused 403: unknown source", SY_CTR_COUNTER, SY_UNIT_COUNT, A(rejected)},
    {"switchyard_sip_auth_bad_credentials_total", "auth.bad_credentials", "digests that did not verify (unknown user, wrong password, forged nonce)", SY_CTR_COUNTER, SY_UNIT_COUNT, A(bad_credentials)},
    {"switchyard_sip_auth_stale_total", "auth.stale", "expired nonces answered stale=true", SY_CTR_COUNTER, SY_UNIT_COUNT, A(stale)},
    {"switchyard_sip_auth_replays_total", "auth.replays", "nonce counts used again (replays) refused", SY_CTR_COUNTER, SY_UNIT_COUNT, A(replays)},
    {"switchyard_sip_registers_total", "auth.registers", "REGISTER requests accepted", SY_CTR_COUNTER, SY_UNIT_COUNT, A(registers)},
    {"switchyard_sip_bindings", "auth.bindings", "registered contacts now", SY_CTR_GAUGE, SY_UNIT_COUNT, A(bindings)},
    {"switchyard_sip_register_full_total", "auth.register_full", "REGISTER refused: the user's contacts are all taken", SY_CTR_COUNTER, SY_UNIT_COUNT, A(reg_full)},
    {"switchyard_sip_calls_to_users_total", "auth.calls_to_users", "calls sent to a registered user's contact", SY_CTR_COUNTER, SY_UNIT_COUNT, A(reg_routed)},
};
/* clang-format on */

SY_CTR_TABLE(sip_auth_counters, "sip_auth", c);
