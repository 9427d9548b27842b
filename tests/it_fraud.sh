#!/usr/bin/env bash
# it_fraud.sh: fraud detection live (docs/fraud.md "Live: serve, alerts and
# metrics"). `switchyard serve` with [fraud] on: a ranges CSV listing +882 as
# high risk, a [fraud-rule] with `risky_calls = 5/10m block` for the SIPp
# trunk's account, an alert webhook (tests/npm/webhook_rx.js, node's http).
# Real SIPp (tests/sipp/uac_fraud.xml, one call at a time) dials 12 numbers
# in +882; `sipp -sn uas` is the carrier.
#  1. enforce: the first 5 calls are connected, the 7 later ones refused 403
#     with a Reason header naming the rule (SIPp's counts and message log);
#     the carrier sees 5 INVITEs; /metrics' switchyard_fraud_* counters say
#     12 decisions, 7 blocks; the receiver got one JSON alert per block up
#     to the alert rate and the rest are counted suppressed; the CDRs of the
#     refused calls say `block` and the reason, the others nothing.
#  2. SIGHUP with +882 removed from the ranges: new calls pass again. A
#     broken ranges file on SIGHUP: the old table stays (calls still pass),
#     the log names file:line, the failure is counted.
#  3. monitor mode, the same 12 calls: none refused, the 7 CDRs say `flag`.
# Break-once hooks (how each check was seen to fail; docs/fraud.md): FRAUD_RULE
# (the rule's line), FRAUD_RX (the receiver's mode), FRAUD_MODE2 (part 3's
# mode), FRAUD_BROKEN (the broken file's bad line).
set -u
source "$(dirname "$0")/lib.sh"
ALLOWED=5 CALLS=12
BLOCKED=$((CALLS - ALLOWED))

require_switchyard
require_tool sipp node python3
require_run "sipp" '^ *SIPp v[0-9]' sipp -v
here=$(cd "$(dirname "$0")" && pwd)

pick_ports 6
sw=${PORTS[0]} uas=${PORTS[1]} uac=${PORTS[2]} http=${PORTS[3]} rx=${PORTS[4]} uac2=${PORTS[5]}

# The ranges: +882 high; the reload removes it; the broken file is wrong on line 4.
printf 'prefix,class,label\n+882,high,International Networks\n+1900,premium,US premium rate\n' >"$TMP/ranges.csv"
printf 'prefix,class,label\n+1900,premium,US premium rate\n' >"$TMP/ranges_no882.csv"
printf 'prefix,class,label\n+882,high,International Networks\n+1900,premium,US premium rate\n%s\n' "${FRAUD_BROKEN:-+53,sky-high,Cuba}" \
	>"$TMP/ranges_broken.csv"

# write_conf MODE OUT: the switch's config with [fraud] mode = MODE.
write_conf() {
	cat >"$TMP/serve-$1.scn" <<CONF
[node]
# the load generator is one source: exempt from pike
pike_exempt = 127.0.0.1
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
out = $2

[trunk local]
address = 127.0.0.1
account = acme

[account acme]
type = postpaid
fraud_class = trunks

[fraud]
enabled = yes
mode = $1
ranges = $TMP/ranges.csv
alert_url = http://127.0.0.1:$rx/alerts
alert_rate = 1/s burst 3

[fraud-rule trunks]
${FRAUD_RULE:-risky_calls = $ALLOWED/10m block}

[carrier sipp-uas]
prefixes = 882 1 44
address = 127.0.0.1:$uas
capacity = 5000
CONF
}

# sipp_calls NAME N FIRST: N calls, one at a time, to 88216FIRST.. (a new
# number each); SIPp's counts, stats and message log in $TMP/NAME.*.
sipp_calls() {
	local name=$1 n=$2 first=$3 rc
	rm -f "$TMP/$name".*
	(cd "$TMP" && timeout 120 sipp -sf "$here/sipp/uac_fraud.xml" -s "88216$first" -i 127.0.0.1 -p "$uac" \
		-r 20 -l 1 -m "$n" -nostdin -trace_stat -stf "$TMP/$name.stat" -trace_counts -trace_msg \
		-message_file "$TMP/$name.msgs" -fd 1 "127.0.0.1:$sw" >"$TMP/$name.log" 2>&1)
	rc=$?
	mv "$TMP"/uac_fraud_*_counts.csv "$TMP/$name.counts" 2>/dev/null
	check "$name: sipp exit status" "$rc" 0
	[ -s "$TMP/$name.counts" ] || fail "$name: SIPp wrote no counts file ($(tail -3 "$TMP/$name.log"))"
}

# counts NAME: "answered refused failed": the 200s to the INVITE and the
# 403s SIPp received, and its failed calls (a 403 without the Reason fails).
counts() {
	python3 - "$TMP/$1.counts" "$TMP/$1.stat" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
st = list(csv.reader(open(sys.argv[2]), delimiter=';'))
print(last[h.index('4_200_Recv')], last[h.index('3_403_Recv')], st[-1][st[0].index('FailedCall(C)')])
PY
}

# reasons NAME: the distinct Reason texts of the 403s in SIPp's message log, one
# line each with its count ("irsf.risky_calls 7").
reasons() {
	grep -oE 'Reason: SIP;cause=403;text="fraud: [a-z_]+\.[a-z_]+' "$TMP/$1.msgs" |
		sed 's/.*fraud: //' | sort | uniq -c | awk '{print $2, $1}'
}

# alerts FILE ACTION: what the receiver got: "lines ok" where ok counts the
# alerts that are a call with verdict block (applied as ACTION) by
# irsf.risky_calls to +882 for acme with a Call-ID.
alerts() {
	python3 - "$1" "$2" <<'PY'
import json, os, sys
n = ok = 0
for line in open(sys.argv[1]) if os.path.exists(sys.argv[1]) else []:
    n += 1
    a = json.loads(line)
    ok += (a.get('kind') == 'call' and a.get('action') == sys.argv[2] and a.get('verdict') == 'block'
           and a.get('detector') == 'irsf'
           and a.get('reason', '').startswith('irsf.risky_calls') and a.get('account') == 'acme'
           and a.get('callee', '').startswith('88216') and a.get('call_id', '') != ''
           and a['_rx'] == {'method': 'POST', 'path': '/alerts', 'type': 'application/json'})
print(n, ok)
PY
}

# cdrs FILE FIRST ALERTS: "rows action-counts named=N block-not-403=N
# order=A-B alerted=N" (e.g. "12 allow=5 block=7 named=7 block-not-403=0
# order=6-12 alerted=3"): how many rows with an action carry a reason naming
# the rule, blocks that are not FAILED 403, which calls of the run to
# 88216FIRSTn have an action (n from 1), and the alerts whose Call-ID is the
# Call-ID of a row with an action.
cdrs() {
	python3 - "$@" <<'PY'
import collections, csv, json, os, sys
r = list(csv.DictReader(open(sys.argv[1])))
act = collections.Counter(x['fraud'] or 'allow' for x in r)
named = sum(1 for x in r if x['fraud'] and x['fraud_reason'].startswith('irsf.risky_calls'))
bad = sum(1 for x in r if x['fraud'] == 'block' and (x['disposition'] != 'FAILED' or x['sip_status'] != '403'))
pre = '88216' + sys.argv[2]
hit = sorted(int(x['callee'][8:]) for x in r if x['callee'].startswith(pre) and x['fraud'])
out = [str(len(r)), ' '.join('%s=%d' % kv for kv in sorted(act.items())), 'named=%d' % named,
       'block-not-403=%d' % bad, 'order=%s' % ('%d-%d' % (hit[0], hit[-1]) if hit and hit == list(range(hit[0], hit[-1] + 1)) else hit)]
ids = {x['a_call_id'] for x in r if x['fraud']}
lines = open(sys.argv[3]).read().splitlines() if os.path.exists(sys.argv[3]) else []
out.append('alerted=%d' % sum(json.loads(l).get('call_id') in ids for l in lines))
print(' '.join(out))
PY
}

# reloads_are N: a poll for sy_wait: serve has handled N SIGHUPs (the
# ranges reloaded or refused; a failed scrape is false).
reloads_are() {
	local ok bad
	ok=$(metric "$http" switchyard_fraud_ranges_reloads_total 2>/dev/null) || return 1
	bad=$(metric "$http" switchyard_fraud_ranges_reload_failed_total 2>/dev/null) || return 1
	[ $((ok + bad)) = "$1" ]
}

start uas sipp -sn uas -i 127.0.0.1 -p "$uas" -nostdin -trace_stat -stf "$TMP/uas_stat.csv" -fd 1
wait_port uas udp "$uas"
start rx node tests/npm/webhook_rx.js "$rx" "$TMP/alerts.jsonl" "${FRAUD_RX:-ok}"
wait_log rx "^listening $rx"

# ---- 1. enforce ---------------------------------------------------------
write_conf enforce "$TMP/out"
start_switchyard serve serve "$TMP/serve-enforce.scn"
sipp_calls run1 "$CALLS" 000
read -r answered refused failed < <(counts run1)
check "enforce: calls answered" "$answered" "$ALLOWED"
check "enforce: calls refused 403" "$refused" "$BLOCKED"
check "enforce: SIPp failed calls (a 403 without a fraud Reason fails)" "$failed" 0
check "enforce: the 403s' Reason" "$(reasons run1)" "irsf.risky_calls $BLOCKED"
check "enforce: /metrics calls completed (the carrier got only the allowed)" \
	"$(metric_settles "$http" switchyard_calls_completed_total "$ALLOWED")" "$ALLOWED"
check "/metrics fraud decisions" "$(metric "$http" switchyard_fraud_decisions_total)" "$CALLS"
check "/metrics fraud blocks" "$(metric "$http" switchyard_fraud_blocked_total)" "$BLOCKED"
check "/metrics fraud blocks by irsf" "$(metric "$http" switchyard_fraud_blocked_irsf_total)" "$BLOCKED"
sent=$(metric "$http" switchyard_fraud_alerts_total)
supp=$(metric "$http" switchyard_fraud_alerts_suppressed_total)
check "/metrics fraud alerts + suppressed = blocks" "$((sent + supp))" "$BLOCKED"
check_ge "/metrics fraud alerts (the burst at least)" "$sent" 3
check "/metrics webhook sent = alerts" "$(metric_settles "$http" switchyard_fraud_webhook_sent_total "$sent")" "$sent"
check "/metrics webhook failed" "$(metric "$http" switchyard_fraud_webhook_failed_total)" 0
check "/metrics webhook dropped" "$(metric "$http" switchyard_fraud_webhook_dropped_total)" 0
check "receiver: alerts, and alerts that are this block" "$(alerts "$TMP/alerts.jsonl" block)" "$sent $sent"

# ---- 2. reload ------------------------------------------------------------
cp "$TMP/ranges_no882.csv" "$TMP/ranges.csv"
kill -HUP "${PID[serve]}"
sy_wait serve "SIGHUP handled" "$READY_TIMEOUT" reloads_are 1
check "reload: /metrics ranges reloads" "$(metric "$http" switchyard_fraud_ranges_reloads_total)" 1
sipp_calls run2 3 100
read -r answered refused failed < <(counts run2)
check "after reload without +882: calls answered" "$answered" 3
check "after reload without +882: calls refused" "$refused" 0
cp "$TMP/ranges_broken.csv" "$TMP/ranges.csv"
kill -HUP "${PID[serve]}"
sy_wait serve "second SIGHUP handled" "$READY_TIMEOUT" reloads_are 2
check "broken ranges: /metrics reloads refused" "$(metric "$http" switchyard_fraud_ranges_reload_failed_total)" 1
check "broken ranges: the log names file:line" \
	"$(grep -cF "$TMP/ranges.csv:4" "$TMP/serve.log")" 1
sipp_calls run3 3 200
read -r answered refused failed < <(counts run3)
check "after a broken reload (old table kept): calls answered" "$answered" 3
check "after a broken reload: calls refused" "$refused" 0
alive uas || { show_log uas; fail "sipp uas died during the run"; }
stop_clean serve
check "enforce: CDRs (rows, actions, reasons naming the rule, blocks not FAILED 403)" \
	"$(cdrs "$TMP/out/cdrs.csv" 000 "$TMP/alerts.jsonl")" \
	"$((CALLS + 6)) allow=$((ALLOWED + 6)) block=$BLOCKED named=$BLOCKED block-not-403=0 order=$((ALLOWED + 1))-$CALLS alerted=$sent"

# ---- 3. monitor -------------------------------------------------------------
cp "$TMP/ranges_broken.csv" "$TMP/ranges.csv"
sed -i '$d' "$TMP/ranges.csv" # the good lines: +882 high again
write_conf "${FRAUD_MODE2:-monitor}" "$TMP/out-monitor"
: >"$TMP/alerts.jsonl"
start_switchyard serve2 serve "$TMP/serve-${FRAUD_MODE2:-monitor}.scn"
sipp_calls run4 "$CALLS" 300
read -r answered refused failed < <(counts run4)
check "monitor: calls answered" "$answered" "$CALLS"
check "monitor: calls refused" "$refused" 0
check "monitor: /metrics fraud blocks" "$(metric "$http" switchyard_fraud_blocked_total)" 0
check "monitor: /metrics fraud flags" "$(metric "$http" switchyard_fraud_flagged_total)" "$BLOCKED"
# monitor alerts too: the verdict was block, applied as flag
sent=$(metric "$http" switchyard_fraud_alerts_total)
supp=$(metric "$http" switchyard_fraud_alerts_suppressed_total)
check "monitor: /metrics fraud alerts + suppressed = would-be blocks" "$((sent + supp))" "$BLOCKED"
check "monitor: /metrics webhook sent = alerts" "$(metric_settles "$http" switchyard_fraud_webhook_sent_total "$sent")" "$sent"
check "monitor: receiver: alerts, and alerts that are this flag" "$(alerts "$TMP/alerts.jsonl" flag)" "$sent $sent"
stop_clean serve2
check "monitor: CDRs" "$(cdrs "$TMP/out-monitor/cdrs.csv" 300 "$TMP/alerts.jsonl")" \
	"$CALLS allow=$ALLOWED flag=$BLOCKED named=$BLOCKED block-not-403=0 order=$((ALLOWED + 1))-$CALLS alerted=$sent"
[ "$SY_FAILS" = 0 ] || show_log run1 20
finish serve serve2 rx
