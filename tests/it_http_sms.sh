#!/usr/bin/env bash
# it_http_sms.sh: POST /sms on the live HTTP API. A message with the
# account's bearer token gets 202 and a message id once it is durable, and
# reaches the upstream carrier (`switchyard carriers`); a bad token gets 401,
# a bad body 400, a destination no carrier serves 422; /metrics counts it.
set -u
BUILD=${BUILD:-build}
bin="$PWD/$BUILD/switchyard"
tmp=$(mktemp -d /tmp/sy-http.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
base=$((26000 + ($$ % 1000) * 10))
sip=$base smpp=$((base + 1)) http=$((base + 2)) up=$((base + 3))
cat >"$tmp/api.scn" <<CONF
[node]
sip = 127.0.0.1:$sip
smpp = 127.0.0.1:$smpp
http = 127.0.0.1:$http
out = $tmp/out

[account shop]
password = secret
token = tok-123

[smpp-carrier up]
prefixes = 44
address = 127.0.0.1:$up
system_id = upstream
password = uppass
delivery = 100% delay 10ms
CONF
"$bin" carriers "$tmp/api.scn" --keys "$tmp/keys.txt" >"$tmp/carriers.log" 2>&1 &
pids+=($!)
"$bin" serve "$tmp/api.scn" >"$tmp/serve.log" 2>&1 &
pids+=($!)
sleep 1.5
python3 - "$http" "$tmp/keys.txt" <<'PY'
import json, sys, time, urllib.request, urllib.error
port, keys = sys.argv[1], sys.argv[2]
fails = 0
def post(body, token="tok-123", raw=False):
    data = body.encode() if raw else json.dumps(body).encode()
    req = urllib.request.Request("http://127.0.0.1:%s/sms" % port, data=data, method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
def check(what, got, want):
    global fails
    ok = got == want
    print("it_http_sms: %-40s %s (want %s)%s" % (what, got, want, "" if ok else "  FAIL"))
    fails += not ok
st, body = post({"from": "+15551234", "to": "+447700900123", "text": "hello from the API \u00e9"})
check("POST /sms", st, 202)
check("message id given", "message_id" in body, True)
st, body2 = post({"from": "+15551234", "to": "+447700900124", "text": "x" * 400})
check("long text is split", (st, body2.get("parts")), (202, 3))
check("bad token", post({"from": "1", "to": "44", "text": "x"}, token="nope")[0], 401)
check("bad JSON", post("{\"from\": ", raw=True)[0], 400)
check("missing text", post({"from": "1", "to": "447700900123"})[0], 400)
check("no route", post({"from": "1", "to": "+33123456789", "text": "x"})[0], 422)
deadline = time.time() + 10
n = 0
while time.time() < deadline:
    try:
        n = len([l for l in open(keys) if l.strip() and not l.strip().endswith("dup")])
    except OSError:
        n = 0
    if n >= 4:
        break
    time.sleep(0.2)
check("parts received by the carrier", n, 4)
time.sleep(0.5)  # the carrier's receipts come back 10 ms later
m = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read().decode()
val = lambda name: [l.split()[1] for l in m.splitlines() if l.startswith(name + " ")]
check("/metrics delivered parts", val("switchyard_sms_delivered_total"), ["4"])
sys.exit(1 if fails else 0)
PY
rc=$?
[ $rc -eq 0 ] || { echo "--- serve.log"; tail -20 "$tmp/serve.log"; echo "--- carriers.log"; tail -20 "$tmp/carriers.log"; }
exit $rc
