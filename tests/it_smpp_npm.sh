#!/usr/bin/env bash
# it_smpp_npm.sh: an independent SMPP implementation (the npm package `smpp`,
# tests/npm/esme.js) against the live SMSC. `switchyard carriers` is the
# upstream carrier SMSC, `switchyard serve` routes to it, and esme.js binds to
# serve, submits 10,000 messages and waits for their receipts. Passes when
# esme.js counts 10,000 submits, 10,000 submit_sm_resp OK and 10,000
# receipts, the switch's own counters agree (accepted, delivered, receipts
# acknowledged), and both processes stop cleanly on SIGTERM.
set -u
source "$(dirname "$0")/lib.sh"
npm_dir="$PWD/tests/npm"
msgs=${SMPP_MSGS:-10000}

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

[account app]
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

timeout 300 node "$npm_dir/esme.js" "127.0.0.1:$smpp" app secret "$msgs" --window 100 --timeout 240 \
	>"$TMP/esme.log" 2>"$TMP/esme.err"
esme_rc=$?
cat "$TMP/esme.log"

check "esme.js exit status" "$esme_rc" 0
want="esme.js: $msgs submitted, $msgs resp ok, $msgs receipts"
check "esme.js summary" "$(grep -c "^$want " "$TMP/esme.log")" 1
# The switch's side of the same story, from its /metrics (esme.js may exit
# before its last deliver_sm_resp is read: those counters get a bound).
check "switch: submit_sm accepted" "$(metric "$http" switchyard_sms_accepted_total)" "$msgs"
check "switch: delivered by the carrier" "$(metric "$http" switchyard_sms_delivered_total)" "$msgs"
check "switch: receipts acknowledged by esme.js" "$(metric_settles "$http" switchyard_sms_dlr_sent_total "$msgs")" "$msgs"
check "switch: messages in memory at the end" "$(metric_settles "$http" switchyard_sms_in_flight 0)" 0

stop_clean serve
stop_clean carriers
say "upstream carrier: $(grep -h 'smpp-carrier up:' "$TMP/carriers.log" | tail -1)"
[ "$SY_FAILS" = 0 ] || { echo "--- esme.js stderr (tail)"; tail -5 "$TMP/esme.err"; }
finish serve carriers
