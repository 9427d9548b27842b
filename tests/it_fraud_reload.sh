#!/usr/bin/env bash
# it_fraud_reload.sh: `serve` with [fraud] enabled: the component's
# counters are on /metrics; SIGHUP reloads the ranges file (logged, counted)
# and the node keeps serving; a broken file is refused with file:line, the
# previous table stays, and the node keeps serving too.
set -u
source "$(dirname "$0")/lib.sh"

require_switchyard

pick_ports 3
sip=${PORTS[0]} http=${PORTS[1]} car=${PORTS[2]}
printf 'prefix,class,label\n+882,high,International Networks\n' >"$TMP/ranges.csv"
cat >"$TMP/fraud.conf" <<CONF
[node]
sip = 127.0.0.1:$sip
http = 127.0.0.1:$http
out = $TMP/out

[carrier c1]
prefixes = 1 44 882
address = 127.0.0.1:$car

[trunk local]
address = 127.0.0.1

[fraud]
ranges = ranges.csv
accounts = 10000

[fraud-rule default]
risky_calls = 10/10m block
CONF
start_switchyard serve serve "$TMP/fraud.conf"
wait_log serve "fraud detection on \(enforce\): 1 rules, ranges $TMP/ranges.csv"
check "decisions before any call" "$(metric "$http" switchyard_fraud_decisions_total)" 0
check "reloads before SIGHUP" "$(metric "$http" switchyard_fraud_ranges_reloads_total)" 0

printf 'prefix,class\n+882,high\n+53,high\n' >"$TMP/ranges.csv"
kill -HUP "${PID[serve]}"
wait_log serve "fraud: ranges reloaded \(reload 1\)"
check "reloads after SIGHUP" "$(metric "$http" switchyard_fraud_ranges_reloads_total)" 1

printf 'prefix,class\n+882,scary\n' >"$TMP/ranges.csv"
kill -HUP "${PID[serve]}"
wait_log serve "fraud: ranges reload failed, the previous ranges stay: $TMP/ranges.csv:2: "
check "failed reloads" "$(metric "$http" switchyard_fraud_ranges_reload_failed_total)" 1
check "reloads still" "$(metric "$http" switchyard_fraud_ranges_reloads_total)" 1
alive serve && check "serving after a bad reload" yes yes || check "serving after a bad reload" no yes

stop_clean serve
finish serve
