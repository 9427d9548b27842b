#!/usr/bin/env bash
# tests/security/fraud.sh: attacks on the fraud path of a live `serve`
# (docs/fraud.md "Live: serve, alerts and metrics"), each of which must fail:
#  - JSON injection through the alert: an INVITE to a blocked range whose
#    Call-ID closes the JSON string and adds `"action":"allow"`, and whose
#    caller number holds bytes that are not UTF-8 (tests/security/
#    fraud_probe.py): still refused 403 with the fraud Reason, and the
#    receiver gets one document that parses, with the Call-ID as a string
#    and no injected field;
#  - a webhook receiver that takes each POST and never answers (a dead or
#    hostile alert endpoint), under 300 blocked calls: the switch still
#    answers every call (SIPp: 300 refused 403, none failed) and /health,
#    keeps at most 4 POSTs on the wire and 256 queued, drops and counts the
#    rest, and stops cleanly (exit 0; under ASan no report) with POSTs in
#    flight.
# Prints ok/FAIL lines and PASS at the end.
set -u
source "$(dirname "$0")/../lib.sh"
require_switchyard
require_tool python3 node sipp
here=$(cd "$(dirname "$0")/.." && pwd)

pick_ports 5
sw=${PORTS[0]} http=${PORTS[1]} rx=${PORTS[2]} uac=${PORTS[3]} car=${PORTS[4]}
printf 'prefix,class,label\n+883,blocked,never called\n' >"$TMP/ranges.csv"

# conf NAME: a switch whose trunk's calls to +883 are blocked at once.
conf() {
	cat >"$TMP/$1.scn" <<CONF
[node]
pike_exempt = 127.0.0.1
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
out = $TMP/out-$1

[trunk local]
address = 127.0.0.1
account = acme

[account acme]
type = postpaid

[fraud]
enabled = yes
ranges = $TMP/ranges.csv
alert_url = http://127.0.0.1:$rx/alerts
alert_rate = 1000/s burst 1000
alert_timeout = 5s

[fraud-rule default]
blocked_class = block

[carrier nowhere]
prefixes = 883 1
address = 127.0.0.1:$car
CONF
}

# ---- JSON injection through the alert ---------------------------------------
start rx node tests/npm/webhook_rx.js "$rx" "$TMP/alerts.jsonl" ok
wait_log rx "^listening $rx"
conf inject
start_switchyard serve serve "$TMP/inject.scn"
probe=$(python3 tests/security/fraud_probe.py "$sw")
check "injection: the INVITE's answer" "$(printf '%s\n' "$probe" | awk '$1 == "status" {print $2}')" 403
check "injection: a fraud Reason" \
	"$(printf '%s\n' "$probe" | grep -c '^reason SIP;cause=403;text="fraud: irsf\.')" 1
cid=$(printf '%s\n' "$probe" | sed -n 's/^call_id //p')
sy_wait serve "the alert at the receiver" "$READY_TIMEOUT" test -s "$TMP/alerts.jsonl"
check "injection: the alert (parsed; action; Call-ID as sent; no injected field)" "$(
	python3 - "$TMP/alerts.jsonl" "$cid" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
a = json.loads(lines[0])
print(len(lines), 'bad_json' in a, a.get('action'), a.get('call_id') == sys.argv[2], 'y' in a,
      isinstance(a.get('caller'), str))
PY
)" "1 False block True False True"
stop_clean serve
stop rx

# ---- a receiver that never answers -------------------------------------------
start rx2 node tests/npm/webhook_rx.js "$rx" "$TMP/hang.jsonl" hang
wait_log rx2 "^listening $rx"
conf hang
start_switchyard serve2 serve "$TMP/hang.scn"
(cd "$TMP" && timeout 120 sipp -sf "$here/sipp/uac_fraud.xml" -s 883000 -i 127.0.0.1 -p "$uac" -r 200 -l 100 \
	-m 300 -nostdin -trace_stat -stf "$TMP/hang.stat" -trace_counts -fd 1 "127.0.0.1:$sw" >"$TMP/sipp.log" 2>&1)
check "hanging receiver: sipp exit status" "$?" 0
mv "$TMP"/uac_fraud_*_counts.csv "$TMP/hang.counts" 2>/dev/null
check "hanging receiver: calls refused 403 (403s SIPp received, failed calls)" "$(
	python3 - "$TMP/hang.counts" "$TMP/hang.stat" <<'PY'
import csv, sys
c = list(csv.reader(open(sys.argv[1]), delimiter=';'))
s = list(csv.reader(open(sys.argv[2]), delimiter=';'))
print(c[-1][c[0].index('3_403_Recv')], s[-1][s[0].index('FailedCall(C)')])
PY
)" "300 0"
check "hanging receiver: /health answers" \
	"$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$http/health', timeout=5).status)")" 200
scrape "$http" || fail "scrape failed"
m() { printf '%s\n' "$SCRAPE" | tr -d '\r' | awk -v n="switchyard_fraud_webhook_$1" '$1 == n {print $2}'; }
posted=$(m posted_total) sent=$(m sent_total) failed=$(m failed_total) dropped=$(m dropped_total)
queued=$(m queued) inflight=$(m in_flight)
say "webhook: posted $posted sent $sent failed $failed dropped $dropped queued $queued in_flight $inflight"
check "hanging receiver: alerts posted" "$posted" 300
check "hanging receiver: none answered" "$sent" 0
check "hanging receiver: posted = sent + failed + dropped + queued + in flight" \
	"$((sent + failed + dropped + queued + inflight))" "$posted"
check "hanging receiver: POSTs on the wire at most 4" "$((inflight <= 4))" 1
check "hanging receiver: queued at most 256" "$((queued <= 256))" 1
check_ge "hanging receiver: dropped (300 alerts, 4 x 5 s of POSTs)" "$dropped" 1
stop_clean serve2
finish serve serve2 rx rx2
