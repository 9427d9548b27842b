#!/usr/bin/env bash
# tests/security/http.sh: attacks on the HTTP API of a live `serve`, each of
# which must fail (docs/security.md): POST /sms without a token and
# with a wrong one (401, one answer for both), /metrics without the
# scraper's token, an account named in the body that is not the token's,
# oversize header and body (413), a slowloris (one header byte a second:
# closed by http_timeout), a connection flood from one source (its cap
# holds, /health still answers another source), POST /sms over the
# account's tps (429), and SIGTERM while POST /sms loops (exit 0; under
# BUILD=build/asan no AddressSanitizer report: the pending requests'
# replies must not touch what evhttp_free freed). Each probe uses its own
# loopback source address, so one probe's backoff does not blind the next.
# Prints one PASS/FAIL line per check.
set -u
source "$(dirname "$0")/../lib.sh"

require_switchyard
require_tool python3

pick_ports 4
sip=${PORTS[0]} smpp=${PORTS[1]} http=${PORTS[2]} up=${PORTS[3]}
hashed=$(printf %s tok-hashed-456 | sha256sum | cut -d' ' -f1)
cat >"$TMP/sec.scn" <<CONF
[node]
sip = 127.0.0.1:$sip
smpp = 127.0.0.1:$smpp
http = 127.0.0.1:$http
out = $TMP/out
http_timeout = 2s
http_max_header = 4096
http_max_body = 8192
http_max_conns = 64
http_conns_per_source = 8
metrics_token = scrape-tok-789
# commits 300 ms apart: the POSTs in flight at SIGTERM are nearly always
# waiting for one (the shutdown case below), not a matter of luck
sms_commit_interval = 300ms

[account shop]
password = secret
token = tok-shop-123

[account hashed]
password = secret
token = \$sha256\$$hashed

[account slow]
password = secret
token = tok-slow-1
tps = 2

[smpp-carrier up]
prefixes = 44
address = 127.0.0.1:$up
system_id = upstream
password = uppass
delivery = 100% delay 10ms
CONF
start_switchyard carriers carriers "$TMP/sec.scn"
start_switchyard serve serve "$TMP/sec.scn"

python3 tests/security/http_probe.py "$http" probes
[ $? = 0 ] || SY_FAILS=$((SY_FAILS + 1))

# SIGTERM while clients keep POST /sms in flight: the signal must land
# while some wait for their store commit (serve logs how many); with
# commits 300 ms apart the first round does; each round must exit 0
# without an ASan report.
orphaned=0
for round in 1 2 3 4 5 6; do
	[ "$round" = 1 ] || start_switchyard serve serve "$TMP/sec.scn"
	rm -f "$TMP/flood.started"
	start flood python3 tests/security/http_probe.py "$http" flood "$TMP/flood.started"
	flood=${PID[flood]}
	sy_wait serve "POST /sms loop running" 30 test -s "$TMP/flood.started"
	stop serve TERM
	kill "$flood" 2>/dev/null
	wait "$flood" 2>/dev/null
	PID[flood]=
	check "round $round: serve exit status after SIGTERM during POST /sms" "$STATUS" 0
	orphaned=$(grep -c 'requests in flight at stop' "$TMP/serve.log")
	[ "$orphaned" = 0 ] || break
done
check_ge "rounds where SIGTERM caught POST /sms awaiting its commit" "$orphaned" 1
check "AddressSanitizer reports and assertions" "$(grep -c 'ERROR: AddressSanitizer\|runtime error\|Assertion' "$TMP/serve.log")" 0
stop_clean carriers
finish serve carriers
