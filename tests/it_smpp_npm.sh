#!/usr/bin/env bash
# it_smpp_npm.sh: an independent SMPP implementation (the npm package `smpp`,
# tests/npm/esme.js) against the live SMSC. `switchyard carriers` is the
# upstream carrier SMSC, `switchyard serve` routes to it, and esme.js binds to
# serve, submits 10,000 messages and waits for their receipts. Passes when
# esme.js counts 10,000 submits, 10,000 submit_sm_resp OK and 10,000
# receipts, the switch's own counters agree (accepted, delivered, receipts
# acknowledged), and both processes stop cleanly on SIGTERM.
#
# SMPP_NODES=2 (tests/it_smpp_npm_nodes.sh): serve runs the SMSC as two
# instances on two threads, and the account is `bulk`, whose instance is
# the second (FNV-1a("bulk") mod 2 = 1): the foreign client's bind is read
# by instance 1 and its stream handed to instance 2, which answers it; half
# the carrier's receipts arrive on instance 1's binds and are forwarded.
set -u
source "$(dirname "$0")/lib.sh"
npm_dir="$PWD/tests/npm"
msgs=${SMPP_MSGS:-10000}
nodes=${SMPP_NODES:-1}
acct=app
[ "$nodes" -gt 1 ] && acct=bulk

require_switchyard
require_tool node
require_run "node" '^v[0-9]+' node --version
[ -d "$npm_dir/node_modules/smpp" ] ||
	fail "the npm package smpp is missing in $npm_dir (bash ci/install-deps.sh runs npm ci)"
require_run "the npm package smpp" '^ok$' node -e "require('$npm_dir/node_modules/smpp'); console.log('ok')"

pick_ports 4
sip=${PORTS[0]} smpp=${PORTS[1]} http=${PORTS[2]} up=${PORTS[3]}

# One file for both sides: serve reads [node], [account] and [smpp-carrier];
# carriers runs the [smpp-carrier] at its address.
cat >"$TMP/sms.scn" <<CONF
[node]
sip = 127.0.0.1:$sip
smpp = 127.0.0.1:$smpp
http = 127.0.0.1:$http
out = $TMP/out
nodes = $nodes

[account $acct]
smpp = yes
password = secret

[smpp-carrier up]
prefixes = 1
address = 127.0.0.1:$up
system_id = upstream
password = uppass
binds = 2
delivery = 100% delay 50ms..500ms
CONF

start_switchyard carriers carriers "$TMP/sms.scn"
start_switchyard serve serve "$TMP/sms.scn"

timeout 300 node "$npm_dir/esme.js" "127.0.0.1:$smpp" $acct secret "$msgs" --window 100 --timeout 240 \
	>"$TMP/esme.log" 2>"$TMP/esme.err"
esme_rc=$?
cat "$TMP/esme.log"

check "esme.js exit status" "$esme_rc" 0
want="esme.js: $msgs submitted, $msgs resp ok, $msgs receipts"
check "esme.js summary" "$(grep -c "^$want " "$TMP/esme.log")" 1
# The switch's side of the same story, from its /metrics (esme.js may exit
# before its last deliver_sm_resp is read: those counters get a bound).
check "switch: submit_sm accepted" "$(metric_settles "$http" switchyard_sms_accepted_total "$msgs")" "$msgs"
# (with two instances /metrics sums copies at most 250 ms old: settles)
check "switch: delivered by the carrier" "$(metric_settles "$http" switchyard_sms_delivered_total "$msgs")" "$msgs"
check "switch: receipts acknowledged by esme.js" "$(metric_settles "$http" switchyard_sms_dlr_sent_total "$msgs")" "$msgs"
check "switch: messages in memory at the end" "$(metric_settles "$http" switchyard_sms_in_flight 0)" 0
if [ "$nodes" -gt 1 ]; then
	check "switch: the bind handed to instance 2" "$(metric "$http" switchyard_sms_binds_handed_total)" 1
	check "switch: ... and adopted there" "$(metric "$http" switchyard_sms_binds_adopted_total)" 1
	check_ge "switch: carrier receipts forwarded to instance 2" \
		"$(metric "$http" switchyard_sms_receipts_forwarded_matched_total)" 1
fi

stop_clean serve
stop_clean carriers
if [ "$nodes" -gt 1 ]; then # flushed at the stop
	check "switch: MDRs of instance 1 (none: the account is instance 2's)" "$(($(wc -l <"$TMP/out/mdrs.csv") - 1))" 0
	check "switch: MDRs of instance 2" "$(($(wc -l <"$TMP/out/node2/mdrs.csv") - 1))" "$msgs"
fi
say "upstream carrier: $(grep -h 'smpp-carrier up:' "$TMP/carriers.log" | tail -1)"
[ "$SY_FAILS" = 0 ] || { echo "--- esme.js stderr (tail)"; tail -5 "$TMP/esme.err"; }
finish serve carriers
