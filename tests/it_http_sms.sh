#!/usr/bin/env bash
# it_http_sms.sh: POST /sms on the live HTTP API. A message with the
# account's bearer token gets 202 and a message id once it is durable, and
# reaches the upstream carrier (`switchyard carriers`); a bad token gets 401
# (and its source backs off: 429),
# a bad body 400, a destination no carrier serves 422; /metrics counts the
# messages submitted over HTTP and the parts delivered; /health answers,
# an unknown path is 404 and a known one with the wrong method 405.
set -u
source "$(dirname "$0")/lib.sh"

require_switchyard
require_tool python3

pick_ports 4
sip=${PORTS[0]} smpp=${PORTS[1]} http=${PORTS[2]} up=${PORTS[3]}
cat >"$TMP/api.scn" <<CONF
[node]
sip = 127.0.0.1:$sip
smpp = 127.0.0.1:$smpp
http = 127.0.0.1:$http
out = $TMP/out

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
start_switchyard carriers carriers "$TMP/api.scn" --keys "$TMP/keys.txt"
start_switchyard serve serve "$TMP/api.scn"
python3 - "$http" "$TMP/keys.txt" <<'PY'
import json, sys, time, urllib.request, urllib.error
port, keys = sys.argv[1], sys.argv[2]
fails = 0
def post(body, token="tok-123", raw=False):
    data = body.encode() if raw else json.dumps(body).encode()
    req = urllib.request.Request("http://127.0.0.1:%s/sms" % port, data=data, method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
def check(what, got, want):
    global fails
    ok = got == want
    print("it_http_sms: %s: %-36s %s (want %s)" % ("ok" if ok else "FAIL", what, got, want))
    fails += not ok
def metrics_text():
    return urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=10).read().decode()
def metrics():
    m = metrics_text()
    return {l.split()[0]: l.split()[1] for l in m.splitlines() if l and not l.startswith("#")}
st, body = post({"from": "+15551234", "to": "+447700900123", "text": "hello from the API \u00e9"})
check("POST /sms", st, 202)
check("message id given", "message_id" in body, True)
st, body2 = post({"from": "+15551234", "to": "+447700900124", "text": "x" * 400})
check("long text is split", (st, body2.get("parts")), (202, 3))
check("distinct message ids", body.get("message_id") != body2.get("message_id"), True)
check("bad JSON", post("{\"from\": ", raw=True)[0], 400)
check("missing text", post({"from": "1", "to": "447700900123"})[0], 400)
check("no route", post({"from": "1", "to": "+33123456789", "text": "x"})[0], 422)
# The carrier receives the 4 parts, and its receipts come back 10 ms later:
# poll both, within a bound.
deadline = time.time() + 30
n, m = 0, {}
while time.time() < deadline:
    try:
        n = len([l for l in open(keys) if l.strip() and not l.strip().endswith("dup")])
    except OSError:
        n = 0
    m = metrics()
    if n >= 4 and m.get("switchyard_sms_delivered_total") == "4":
        break
    time.sleep(0.1)
check("parts received by the carrier", n, 4)
check("/metrics delivered parts", m.get("switchyard_sms_delivered_total"), "4")
check("/metrics messages submitted over HTTP", m.get("switchyard_sms_http_submitted_total"), "2")
def get(path, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
check("GET /health", get("/health"), (200, '{"status":"ok","sip":true,"smpp":true}\n'))
check("unknown path", get("/nope")[0], 404)
check("GET on POST-only /sms", get("/sms")[0], 405)
check("POST on GET-only /metrics", get("/metrics", "POST")[0], 405)
# Last, as a wrong token makes this source back off (429) for a while.
st, body = post({"from": "1", "to": "44", "text": "x"}, token="nope")
check("bad token", (st, body.get("error")), (401, "missing or unknown bearer token"))
check("right token while backing off", post({"from": "1", "to": "447700900123", "text": "x"})[0], 429)
check("/metrics refused tokens", metrics().get("switchyard_http_unauthorized_total"), "1")
types = {l.split()[2]: l.split()[3] for l in metrics_text().splitlines() if l.startswith("# TYPE ")}
check("/metrics pdd summary", types.get("switchyard_pdd_seconds"), "summary")
check("/metrics in-flight gauge", types.get("switchyard_sms_in_flight"), "gauge")
sys.exit(1 if fails else 0)
PY
rc=$?
[ $rc = 0 ] || SY_FAILS=$((SY_FAILS + 1))
stop_clean serve
stop_clean carriers
finish serve carriers
