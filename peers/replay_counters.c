/* replay_counters.c: a replay's counters (replay.h), for the report, its
 * JSON and [expect] (replay.divergent == 0 is the acceptance gate). */
#include "core/metrics/counters.h"
#include "replay.h"

#define R(f) SY_CTR_AT(struct replay_stats, f)

/* One counter, one line. */
/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_replay_dialogs_total", "replay.dialogs", "captured dialogs started again", SY_CTR_COUNTER, SY_UNIT_COUNT, R(dialogs)},
    {"switchyard_replay_completed_total", "replay.completed", "replayed dialogs that ran to their end", SY_CTR_COUNTER, SY_UNIT_COUNT, R(completed)},
    {"switchyard_replay_matching_total", "replay.matching", "replayed dialogs whose final codes were the capture's", SY_CTR_COUNTER, SY_UNIT_COUNT, R(matching)},
    {"switchyard_replay_divergent_total", "replay.divergent", "replayed dialogs whose final codes differed from the capture's", SY_CTR_COUNTER, SY_UNIT_COUNT, R(divergent)},
    {"switchyard_replay_failed_total", "replay.failed", "replayed dialogs that timed out", SY_CTR_COUNTER, SY_UNIT_COUNT, R(failed)},
    {"switchyard_replay_skipped_total", "replay.skipped", "copies not started: every slot busy", SY_CTR_COUNTER, SY_UNIT_COUNT, R(skipped)},
    {"switchyard_replay_active", "replay.active", "replayed dialogs in progress", SY_CTR_GAUGE, SY_UNIT_COUNT, R(active)},
    {"switchyard_replay_requests_total", "replay.requests", "captured requests sent again", SY_CTR_COUNTER, SY_UNIT_COUNT, R(requests)},
    {"switchyard_replay_retransmits_total", "replay.retransmits", "requests or responses sent again by timer", SY_CTR_COUNTER, SY_UNIT_COUNT, R(retransmits)},
    {"switchyard_replay_answered_total", "replay.answered", "far-side requests answered with the captured code", SY_CTR_COUNTER, SY_UNIT_COUNT, R(answered)},
    {"switchyard_replay_unmatched_total", "replay.unmatched", "initial requests no captured dialog answers (404)", SY_CTR_COUNTER, SY_UNIT_COUNT, R(unmatched)},
    {"switchyard_replay_gaps_clamped_total", "replay.gaps_clamped", "captured gaps cut to max_gap", SY_CTR_COUNTER, SY_UNIT_COUNT, R(gaps_clamped)},
    {"switchyard_replay_rx_bad_total", "replay.rx_bad", "datagrams that did not scan or matched nothing", SY_CTR_COUNTER, SY_UNIT_COUNT, R(rx_bad)},
};
/* clang-format on */

SY_CTR_TABLE(replay_counters, "replay", c);
