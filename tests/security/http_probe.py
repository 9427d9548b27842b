"""tests/security/http_probe.py PORT probes|flood [FILE]: the HTTP attacks of
tests/security/http.sh against a live serve on 127.0.0.1:PORT. Every wait is
bounded; nothing asserts how long anything took."""
import http.client, json, socket, sys, time

port = int(sys.argv[1])
fails = 0


def check(what, got, want):
    global fails
    ok = got == want
    print("security/http: %s: %-48s %s (want %s)" % ("PASS" if ok else "FAIL", what, got, want), flush=True)
    fails += not ok


def request(src, method, path, token=None, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(src, 0))
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        return r.status, r.getheader("WWW-Authenticate"), r.getheader("Retry-After"), r.read().decode()
    except (OSError, http.client.HTTPException) as e:
        return "closed", None, None, type(e).__name__
    finally:
        c.close()


MSG = {"from": "+15551234", "to": "+447700900123", "text": "hi"}


def metrics():
    st, _, _, text = request("127.0.0.9", "GET", "/metrics", "scrape-tok-789")
    if st != 200:
        return {}
    return {l.split()[0]: l.split()[1] for l in text.splitlines() if l and not l.startswith("#")}


def auth():
    st, www, _, body = request("127.0.0.2", "POST", "/sms", None, MSG)
    check("POST /sms without a token", (st, www), (401, 'Bearer realm="switchyard"'))
    missing = body
    st, www, _, body = request("127.0.0.3", "POST", "/sms", "tok-shop-12", MSG)
    check("POST /sms with a wrong token", (st, www), (401, 'Bearer realm="switchyard"'))
    check("one answer for missing and wrong", body, missing)
    check("same source right after: backing off", request("127.0.0.3", "POST", "/sms", "tok-shop-123", MSG)[0], 429)
    check("POST /sms with the account's token", request("127.0.0.4", "POST", "/sms", "tok-shop-123", MSG)[0], 202)
    check("POST /sms with a $sha256$-stored token", request("127.0.0.4", "POST", "/sms", "tok-hashed-456", MSG)[0], 202)
    other = dict(MSG, account="hashed")
    check("POST /sms naming another account", request("127.0.0.4", "POST", "/sms", "tok-shop-123", other)[0], 403)
    check("GET /metrics without a token", request("127.0.0.5", "GET", "/metrics")[0], 401)
    check("GET /metrics with an account's token", request("127.0.0.6", "GET", "/metrics", "tok-shop-123")[0], 401)
    check("GET /health without a token", request("127.0.0.10", "GET", "/health")[0], 200)


def sizes():
    big = {"X-Pad": "a" * 8000}
    st = request("127.0.0.11", "GET", "/health", headers=big)[0]
    check("header over http_max_header refused (libevent 2.1: 400)", st in (400, 413, 431, "closed"), True)
    st = request("127.0.0.12", "POST", "/sms", "tok-shop-123", b"{" + b" " * 20000 + b"}")[0]
    check("body over http_max_body refused", st in (413, "closed"), True)


def slowloris():
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.13", 0))
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    closed = False
    for i in range(30):  # http_timeout is 2 s: closed long before 30 bytes
        try:
            s.sendall(b"X")
            s.settimeout(1.0)
            if s.recv(1) == b"":
                closed = True
                break
        except socket.timeout:
            continue
        except OSError:
            closed = True
            break
    s.close()
    check("slowloris closed by http_timeout", closed, True)


def flood():
    before = int(metrics().get("switchyard_http_connections_refused_total", "0"))
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.14", 0))
             for _ in range(40)]
    deadline = time.time() + 20
    refused = 0
    while time.time() < deadline:
        refused = int(metrics().get("switchyard_http_connections_refused_total", "0")) - before
        if refused >= 32:
            break
        time.sleep(0.1)
    check("flood beyond http_conns_per_source refused", refused, 32)
    check("/health from another source during the flood", request("127.0.0.15", "GET", "/health")[0], 200)
    for s in socks:
        s.close()
    deadline = time.time() + 20
    open_ = None
    while time.time() < deadline:
        open_ = metrics().get("switchyard_http_connections")
        if open_ == "1":  # the scrape's own
            break
        time.sleep(0.1)
    check("connections given back once closed", open_, "1")


def tps():
    codes = [request("127.0.0.16", "POST", "/sms", "tok-slow-1", MSG)[:3:2] for _ in range(6)]
    check("POST /sms over the account's tps", (429, "1") in codes, True)
    check("POST /sms under it", codes[0][0], 202)


def sigpipe():
    """Pipelined requests, then close without reading: the node writes the
    later answers to a socket the peer has reset (EPIPE; SIGPIPE unless
    ignored, which would kill it)."""
    req = b"GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer scrape-tok-789\r\n\r\n" * 200
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.17", 0))
        s.sendall(req)
        s.close()
    deadline = time.time() + 10
    st = None
    while time.time() < deadline and st not in (200, "closed"):
        st = request("127.0.0.18", "GET", "/health")[0]
        time.sleep(0.05)
    check("node alive after peers closed under its writes", st, 200)


def counters():
    m = metrics()
    for k in ("unauthorized", "backoff", "throttled", "too_large", "bad_request", "timeouts"):
        v = int(m.get("switchyard_http_%s_total" % k, "0"))
        check("/metrics switchyard_http_%s_total counted" % k, v > 0, True)


def post_loop(started):
    """Clients posting without pause, until killed."""
    import threading
    ok = [0]

    def one(src):
        end = time.time() + 60  # bounded even if the node never answers
        while time.time() < end:
            st = request(src, "POST", "/sms", "tok-shop-123", MSG)[0]
            if st == 202 and ok[0] == 0:
                ok[0] = 1
                open(started, "w").write("answered\n")
            if st == "closed" and ok[0]:
                return

    ts = [threading.Thread(target=one, args=("127.0.1.%d" % i,), daemon=True) for i in range(1, 17)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)


if sys.argv[2] == "flood":
    post_loop(sys.argv[3])
    sys.exit(0)
auth()
sizes()
slowloris()
flood()
tps()
sigpipe()
counters()
sys.exit(1 if fails else 0)
