#!/usr/bin/env bash
# tests/security/smpp.sh: attacks on the SMSC's SMPP binds against a live
# `switchyard serve` (docs/security.md), with the npm package `smpp` and
# raw TCP (tests/npm/smpp_attack.js). Every attack must fail:
#   - a bind with an empty password is refused (ESME_RBINDFAIL);
#   - a voice account (no smpp = yes) cannot bind with its password;
#   - an unknown system_id and a wrong password get the same status;
#   - after 3 failed binds the connection is closed (the 4th gets no answer),
#     and the source's next connection is closed at once (backoff);
#   - 200 idle TCP connections from one source (127.0.0.2) do not keep a good
#     ESME (127.0.0.1) from binding and submitting;
#   - a connection that never binds is closed (smpp_bind_timeout).
# And `switchyard passwd` against Python's hashlib; the account's password in
# the config is its output, so the good binds also check it end to end.
# Each attack uses its own loopback source, so one's backoff never touches
# another. Prints ok:/FAIL: lines and PASS at the end; exit 1 on any FAIL.
set -u
source "$(dirname "$0")/../lib.sh"
npm_dir="$PWD/tests/npm"
probe() { timeout 90 node "$npm_dir/smpp_attack.js" "$@" 2>>"$TMP/probe.err"; }
field() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2"; }

require_switchyard
require_tool node
[ -d "$npm_dir/node_modules/smpp" ] ||
	fail "the npm package smpp is missing in $npm_dir (bash ci/install-deps.sh runs npm ci)"

# switchyard passwd: what it prints is what Python's hashlib computes.
hashed=$(echo s3cret | "$SY" passwd --iter 1000)
check "passwd: PBKDF2-SHA256 as hashlib computes it" "$(python3 -c '
import hashlib, sys
_, kind, it, salt, h = sys.argv[1].split("$")
print(kind == "pbkdf2-sha256" and len(salt) == 32 and hashlib.pbkdf2_hmac("sha256", b"s3cret", bytes.fromhex(salt), int(it)).hex() == h)
' "$hashed")" True
check "passwd: two runs, two salts" "$([ "$hashed" != "$(echo s3cret | "$SY" passwd --iter 1000)" ] && echo yes)" yes
check "passwd --token: SHA-256" "$(echo tok-123 | "$SY" passwd --token)" "\$sha256\$$(printf tok-123 | sha256sum | cut -d' ' -f1)"
check "passwd: empty input refused" "$(printf '\n' | "$SY" passwd 2>/dev/null; echo $?)" 2

pick_ports 4
sip=${PORTS[0]} smpp=${PORTS[1]} http=${PORTS[2]} up=${PORTS[3]}
cat >"$TMP/sms.scn" <<CONF
[node]
sip = 127.0.0.1:$sip
smpp = 127.0.0.1:$smpp
http = 127.0.0.1:$http
out = $TMP/out
smpp_bind_timeout = 2s

[account app]
smpp = yes
password = $hashed

[account voice]
password = vpass

[smpp-carrier up]
prefixes = 1
address = 127.0.0.1:$up
system_id = upstream
password = uppass
CONF

start_switchyard carriers carriers "$TMP/sms.scn"
start_switchyard serve serve "$TMP/sms.scn"
target=127.0.0.1:$smpp
RBINDFAIL=13

r=$(probe empty "$target" app --from 127.0.0.3)
check "empty password bind refused" "$(field status "$r")" "$RBINDFAIL"
r=$(probe empty "$target" nobody --from 127.0.0.6)
check "unknown system_id: the same status" "$(field status "$r")" "$RBINDFAIL"

r=$(probe guess "$target" voice --from 127.0.0.7)
check "account without smpp = yes: refused" "$(field statuses "$r" | cut -d, -f1)" "$RBINDFAIL"

r=$(probe guess "$target" app --from 127.0.0.4)
say "guess: $r"
check "3 wrong passwords on one connection: answers" "$(field statuses "$r")" "$RBINDFAIL,$RBINDFAIL,$RBINDFAIL"
check "4th bind attempt: connection closed" "$(field closed "$r")" 1
check "the source's next connection: closed at once (backoff)" "$(field reconnect_refused "$r")" 1

r=$(probe flood "$target" 200 app s3cret --from 127.0.0.2 --good 127.0.0.1)
say "flood: $r"
check "200 idle connections from 127.0.0.2: held open" "$(field idle_open "$r")" 16
check "a good ESME from 127.0.0.1 still binds" "$(field bind "$r")" 0
check "... and submits" "$(field submit "$r")" 0

r=$(probe idle "$target" --from 127.0.0.5)
check "a connection that never binds is closed" "$(field closed_by_server "$r")" 1

check_ge "metric: bind failures" "$(metric "$http" switchyard_smpp_bind_failures_total)" 5
check_ge "metric: connections refused (per-source cap)" "$(metric "$http" switchyard_smpp_conns_refused_source_total)" 184
check_ge "metric: connections refused (source backing off)" "$(metric "$http" switchyard_smpp_conns_refused_blocked_total)" 1
check_ge "metric: bind timeouts" "$(metric "$http" switchyard_smpp_bind_timeouts_total)" 1
check_ge "metric: sources blocked" "$(metric "$http" switchyard_smpp_sources_blocked_total)" 4
check "metric: streams closed after 3 failures" "$(metric "$http" switchyard_smpp_bind_fail_closes_total)" 2

stop_clean serve
stop_clean carriers
[ "$SY_FAILS" = 0 ] || { echo "--- probe stderr (tail)"; tail -5 "$TMP/probe.err"; }
finish serve carriers
