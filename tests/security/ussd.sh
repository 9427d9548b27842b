#!/usr/bin/env bash
# tests/security/ussd.sh: attacks on the USSD gateway's SMPP listener
# ([ussd] listen, accept-mode [ussd-link]s) against a live `switchyard
# serve` (docs/security.md "USSD links"), in raw SMPP from distinct 127/8
# sources (tests/security/ussd_probe.py). Every attack must fail:
#   - a bind with a wrong password, an empty one, or an unknown system_id:
#     the same ESME_RBINDFAIL;
#   - 3 failed binds on one connection close it, and the source's next
#     connection is closed at once (backoff);
#   - 20 idle connections from one source: only conns_per_source held, and a
#     good node from another source still binds and runs a dialogue;
#   - a connection that never binds is closed (bind_timeout);
#   - malformed PDUs and every fuzz corpus input on a bound stream: answered
#     with an error or the stream closed, never a crash (/health still 200,
#     the node binds again).
# The link's password in the config is `switchyard passwd` output, so the
# good binds check that form end to end. Prints ok:/FAIL: lines and PASS.
set -u
source "$(dirname "$0")/../lib.sh"
probe() { timeout 120 python3 tests/security/ussd_probe.py "$@" 2>>"$TMP/probe.err"; }
field() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2"; }

require_switchyard
require_tool python3
require_tool curl

pick_ports 3
sip=${PORTS[0]} http=${PORTS[1]} ussd=${PORTS[2]}
hashed=$(echo Node2026 | "$SY" passwd --iter 1000)
cat >"$TMP/ussd.scn" <<CONF
[node]
sip = 127.0.0.1:$sip
http = 127.0.0.1:$http
out = $TMP/out

[ussd]
listen = 127.0.0.1:$ussd
bind_timeout = 2s
conns_per_source = 4
bind_fails_max = 3
fail_backoff = 1s
fail_backoff_max = 1m

[ussd-link operator]
mode = accept
system_id = ussdnode
password = $hashed
session_ref = its_session_info
release_op = 32
binds = 2

[ussd-service *123#]
menu = bank

[ussd-menu bank]
start = main
screen main = Welcome\n1. Balance
option main 1 = balance
end balance = Your balance is 10.00.
CONF

start_switchyard serve serve "$TMP/ussd.scn"
RBINDFAIL=13

r=$(probe bind "$ussd" 127.0.0.3 ussdnode wrong)
check "wrong password: refused" "$(field status "$r")" "$RBINDFAIL"
r=$(probe bind "$ussd" 127.0.0.4 ussdnode "")
check "empty password: refused" "$(field status "$r")" "$RBINDFAIL"
r=$(probe bind "$ussd" 127.0.0.5 nobody Node2026)
check "unknown system_id (right password): the same status" "$(field status "$r")" "$RBINDFAIL"

r=$(probe guess "$ussd" 127.0.0.6 ussdnode)
say "guess: $r"
check "3 wrong passwords on one connection: answers" "$(field statuses "$r")" "$RBINDFAIL,$RBINDFAIL,$RBINDFAIL"
check "4th bind attempt: connection closed" "$(field closed "$r")" 1
check "the source's next connection: closed at once (backoff)" "$(field reconnect_refused "$r")" 1

r=$(probe flood "$ussd" 127.0.0.2 20 127.0.0.1 ussdnode Node2026)
say "flood: $r"
check "20 idle connections from 127.0.0.2: conns_per_source held" "$(field idle_open "$r")" 4
check "a good node from 127.0.0.1 binds" "$(field bind "$r")" 0
check "... its PSSR indication is taken" "$(field resp "$r")" 0
check "... and the menu comes back as a USSR request" "$(field op "$r"),$(field text "$r")" "2,Welcome|1._Balance"

r=$(probe idle "$ussd" 127.0.0.7 6)
check "a connection that never binds is closed" "$(field closed_by_server "$r")" 1

r=$(probe malformed "$ussd" 127.0.0.8 ussdnode Node2026 fuzz/corpus/ussd)
say "malformed: $r"
# no op, a bad op, a bad MSISDN, 183 septets, not septets, a TLV overrun,
# submit_sm from the node, an unknown command (generic_nack), a short body
check "malformed PDUs: each answered with its status" "$(field statuses "$r")" "195,196,10,1,1,194,3,3,2"
check_ge "every fuzz corpus input sent" "$(field corpus "$r")" "$(ls fuzz/corpus/ussd | wc -l)"
check "the node binds again afterwards" "$(field bind_after "$r")" 0
check "GET /health still 200" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/health")" 200
alive serve && check "serve still running" yes yes || check "serve still running" no yes

check_ge "metric: binds failed" "$(metric "$http" switchyard_ussd_binds_failed_total)" 6
check_ge "metric: binds ok" "$(metric "$http" switchyard_ussd_binds_ok_total)" 3
check_ge "metric: undecodable messages" "$(metric "$http" switchyard_ussd_rx_bad_total)" 6

stop_clean serve
[ "$SY_FAILS" = 0 ] || { echo "--- probe stderr (tail)"; tail -5 "$TMP/probe.err"; }
finish serve
