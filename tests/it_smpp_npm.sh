#!/usr/bin/env bash
# it_smpp_npm.sh: an independent SMPP implementation (the npm package `smpp`,
# tests/npm/esme.js) against the live SMSC. `switchyard carriers` is the
# upstream carrier SMSC, `switchyard serve` routes to it, and esme.js binds to
# serve, submits 10,000 messages and waits for their receipts. Passes when
# esme.js counts 10,000 submits, 10,000 submit_sm_resp OK and 10,000 receipts.
set -u
BUILD=${BUILD:-build}
bin="$PWD/$BUILD/switchyard"
npm_dir="$PWD/tests/npm"
msgs=${SMPP_MSGS:-10000}
tmp=$(mktemp -d /tmp/sy-smpp-npm.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -d "$npm_dir/node_modules/smpp" ] || ! command -v node >/dev/null; then
	echo "it_smpp_npm: node or the npm package smpp is missing (run ci/install-deps.sh)"
	exit 1
fi

# Ports chosen per run so parallel runs on one machine do not collide.
base=$((20000 + ($$ % 2000) * 10))
sip=$base smpp=$((base + 1)) http=$((base + 2)) up=$((base + 3))

# One file for both sides: serve reads [node], [account] and [smpp-carrier];
# carriers runs the [smpp-carrier] at its address.
cat >"$tmp/sms.scn" <<CONF
[node]
sip = 127.0.0.1:$sip
smpp = 127.0.0.1:$smpp
http = 127.0.0.1:$http
out = $tmp/out

[account app]
password = secret

[smpp-carrier up]
prefixes = 1
address = 127.0.0.1:$up
system_id = upstream
password = uppass
binds = 2
delivery = 100% delay 50ms..500ms
CONF

"$bin" carriers "$tmp/sms.scn" >"$tmp/carriers.log" 2>&1 &
carriers_pid=$!
pids+=($carriers_pid)
"$bin" serve "$tmp/sms.scn" >"$tmp/serve.log" 2>&1 &
serve_pid=$!
pids+=($serve_pid)
sleep 1
for p in "$carriers_pid:carriers" "$serve_pid:serve"; do
	if ! kill -0 "${p%%:*}" 2>/dev/null; then
		echo "it_smpp_npm: switchyard ${p#*:} did not start:"; cat "$tmp/${p#*:}.log"; exit 1
	fi
done

timeout 300 node "$npm_dir/esme.js" "127.0.0.1:$smpp" app secret "$msgs" --window 100 --timeout 240 \
	>"$tmp/esme.log" 2>"$tmp/esme.err"
esme_rc=$?
cat "$tmp/esme.log"

kill -TERM "$serve_pid" "$carriers_pid" 2>/dev/null
for _ in $(seq 50); do kill -0 "$serve_pid" 2>/dev/null || kill -0 "$carriers_pid" 2>/dev/null || break; sleep 0.2; done
echo "it_smpp_npm: upstream carrier: $(grep -h 'smpp-carrier up:' "$tmp/carriers.log" | tail -1)"

fail=0
want="esme.js: $msgs submitted, $msgs resp ok, $msgs receipts"
grep -q "^$want " "$tmp/esme.log" || { echo "it_smpp_npm: expected '$want'"; fail=1; }
[ "$esme_rc" = 0 ] || { echo "it_smpp_npm: esme.js exited with status $esme_rc"; fail=1; }
if [ $fail -ne 0 ]; then
	echo "--- esme.js stderr (tail)"; tail -5 "$tmp/esme.err"
	echo "--- serve.log (tail)"; tail -20 "$tmp/serve.log"
	echo "--- carriers.log (tail)"; tail -10 "$tmp/carriers.log"
else
	echo "it_smpp_npm: PASS"
fi
exit $fail
