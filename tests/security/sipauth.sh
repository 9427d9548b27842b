#!/usr/bin/env bash
# tests/security/sipauth.sh: attacks on who may use the voice switch, against
# a live `serve` on loopback (docs/security.md). Two configs:
#   trunk:  [trunk ok] address = 127.0.0.2, no users: an INVITE from any
#           other address gets 403 and the carrier receives nothing;
#   digest: the same trunk and [user alice]: no credentials or a wrong
#           password gets 407 again, a made-up nonce 407, a replayed
#           nonce/nc 407 stale=true, and none of them reaches the carrier;
#           the right digest and the owner's next nc are routed.
# The probes are tests/security/sipauth_probe.py (PASS/FAIL per attack);
# the script passes when every attack fails. "Nothing reached the carrier"
# is proven with a control call routed afterwards, never by waiting.
set -u
source "$(dirname "$0")/../lib.sh"

require_switchyard
require_tool python3

run_mode() {
	local mode=$1 extra=$2
	pick_ports 3
	local sw=${PORTS[0]} car=${PORTS[1]} http=${PORTS[2]}
	cat >"$TMP/$mode.scn" <<CONF
[node]
sip = 127.0.0.1:$sw
http = 127.0.0.1:$http
realm = sy.test
out = $TMP/$mode-out

[trunk ok]
address = 127.0.0.2

[carrier probe]
prefixes = 1
address = 127.0.0.1:$car
$extra
CONF
	start_switchyard "serve-$mode" serve "$TMP/$mode.scn"
	python3 tests/security/sipauth_probe.py "$mode" "$sw" "$car" | tee "$TMP/$mode.out"
	check "$mode: probe exit status" "${PIPESTATUS[0]}" 0
	check "$mode: no FAIL line" "$(grep -c '^FAIL' "$TMP/$mode.out")" 0
	if [ "$mode" = trunk ]; then
		check "$mode: /metrics auth rejected (403)" "$(metric "$http" switchyard_sip_auth_rejected_total)" 2
	else
		check_ge "$mode: /metrics bad credentials" "$(metric "$http" switchyard_sip_auth_bad_credentials_total)" 2
		check "$mode: /metrics replays" "$(metric "$http" switchyard_sip_auth_replays_total)" 1
	fi
	stop_clean "serve-$mode"
}

run_mode trunk ""
run_mode digest "
[user alice]
password = s3cret"
finish
