/* ussd_net_counters.c: the simulated USSD node's counters (struct
 * ussd_net_stats, the handsets' view of their dialogues), one line each,
 * for the simulator's report, report.json and [expect] (handsets.*), and
 * `load`'s output. */
#include "core/metrics/counters.h"
#include "ussd_net.h"

#define H(f) SY_CTR_AT(struct ussd_net_stats, f)

/* One counter, one line. */
/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_handsets_arrivals_total", "handsets.arrivals", "dialogues drawn (started or skipped)", SY_CTR_COUNTER, SY_UNIT_COUNT, H(arrivals)},
    {"switchyard_handsets_started_total", "handsets.started", "dialogues dialled", SY_CTR_COUNTER, SY_UNIT_COUNT, H(started)},
    {"switchyard_handsets_completed_total", "handsets.completed", "dialogues that got their END after the whole path", SY_CTR_COUNTER, SY_UNIT_COUNT, H(ended[USSD_NET_END_COMPLETED])},
    {"switchyard_handsets_ended_early_total", "handsets.ended_early", "dialogues the gateway ended or released before the path was done (timeout, error, busy texts)", SY_CTR_COUNTER, SY_UNIT_COUNT, H(ended[USSD_NET_END_EARLY])},
    {"switchyard_handsets_abandoned_total", "handsets.abandoned", "dialogues the user released instead of answering", SY_CTR_COUNTER, SY_UNIT_COUNT, H(ended[USSD_NET_END_ABANDONED])},
    {"switchyard_handsets_no_answer_total", "handsets.no_answer", "dialogues given up after handset_timeout without a screen (released)", SY_CTR_COUNTER, SY_UNIT_COUNT, H(ended[USSD_NET_END_NO_ANSWER])},
    {"switchyard_handsets_overrun_total", "handsets.overrun", "dialogues that went on past the path's last input (released)", SY_CTR_COUNTER, SY_UNIT_COUNT, H(ended[USSD_NET_END_OVERRUN])},
    {"switchyard_handsets_failed_total", "handsets.failed", "dialogues whose deliver_sm was refused or not answered", SY_CTR_COUNTER, SY_UNIT_COUNT, H(ended[USSD_NET_END_FAILED])},
    {"switchyard_handsets_link_lost_total", "handsets.link_lost", "dialogues open when the last SMPP session went", SY_CTR_COUNTER, SY_UNIT_COUNT, H(ended[USSD_NET_END_LINK_LOST])},
    {"switchyard_handsets_stopped_total", "handsets.stopped", "dialogues released because the run stopped", SY_CTR_COUNTER, SY_UNIT_COUNT, H(ended[USSD_NET_END_STOPPED])},
    {"switchyard_handsets_skipped_busy_total", "handsets.skipped_busy", "arrivals with no idle handset", SY_CTR_COUNTER, SY_UNIT_COUNT, H(skipped_busy)},
    {"switchyard_handsets_skipped_unbound_total", "handsets.skipped_unbound", "arrivals with no bound SMPP session", SY_CTR_COUNTER, SY_UNIT_COUNT, H(skipped_unbound)},
    {"switchyard_handsets_inputs_total", "handsets.inputs", "inputs sent (USSR confirm)", SY_CTR_COUNTER, SY_UNIT_COUNT, H(inputs)},
    {"switchyard_handsets_screens_total", "handsets.screens", "screens received (USSR request)", SY_CTR_COUNTER, SY_UNIT_COUNT, H(screens)},
    {"switchyard_handsets_ends_total", "handsets.ends", "END texts received (PSSR response)", SY_CTR_COUNTER, SY_UNIT_COUNT, H(ends)},
    {"switchyard_handsets_releases_total", "handsets.releases", "releases sent", SY_CTR_COUNTER, SY_UNIT_COUNT, H(releases)},
    {"switchyard_handsets_stray_total", "handsets.stray", "messages for no open dialogue", SY_CTR_COUNTER, SY_UNIT_COUNT, H(stray)},
    {"switchyard_handsets_rx_bad_total", "handsets.rx_bad", "submit_sm that did not decode", SY_CTR_COUNTER, SY_UNIT_COUNT, H(rx_bad)},
    {"switchyard_handsets_resp_errors_total", "handsets.resp_errors", "deliver_sm answered with an error", SY_CTR_COUNTER, SY_UNIT_COUNT, H(resp_errors)},
    {"switchyard_handsets_resp_timeouts_total", "handsets.resp_timeouts", "deliver_sm not answered in time", SY_CTR_COUNTER, SY_UNIT_COUNT, H(resp_timeouts)},
    {"switchyard_handsets_window_waits_total", "handsets.window_waits", "sends that waited for an SMPP window slot", SY_CTR_COUNTER, SY_UNIT_COUNT, H(window_waits)},
    {"switchyard_handsets_open", "handsets.open", "dialogues open now", SY_CTR_GAUGE, SY_UNIT_COUNT, H(open)},
    {"switchyard_handsets_open_peak", "handsets.open_peak", "most dialogues open at once", SY_CTR_GAUGE, SY_UNIT_COUNT, H(open_peak)},
    {"switchyard_handsets_bytes", "handsets.bytes", "memory the node holds (records, handset table, wheel)", SY_CTR_GAUGE, SY_UNIT_COUNT, H(bytes)},
    {"switchyard_handsets_step_seconds", "handsets.step", "a dial or input to the gateway's next screen or END", SY_CTR_HIST, SY_UNIT_NS, H(step)},
    {"switchyard_handsets_dialogue_seconds", "handsets.dialogue", "dial to END, completed dialogues", SY_CTR_HIST, SY_UNIT_NS, H(dialogue)},
};
/* clang-format on */

SY_CTR_TABLE(ussd_net_counters, "handsets", c);
