#!/usr/bin/env bash
# bench/voice-knee-compare.sh [BUILD_DIR [OUT_DIR]]: the simulator's knee
# against the live switch's, for the same configuration (docs/capacity.md,
# "Simulator against live").
#
#   1. `switchyard sweep bench/voice-live-knee.scn --vary traffic.voice.cps=RANGE`
#      (SY_KNEE_SEEDS seeds a point, default 3; a point passes when most of
#      its seeds do: --pass-share 0.5) into OUT_DIR;
#   2. bench/voice-live.sh at each rate of the same range, SY_KNEE_SECONDS
#      each (default 40: past SIP's 32 s timers), serve held to
#      SY_KNEE_SHARE percent of one core (default 50) so the knee is the
#      switch's, not SIPp's. Up to SY_KNEE_RUNS runs a rate (default 3), the
#      rate passing when most of them do, as the simulator's points (a
#      shared machine has hiccups: one run is not a verdict); the runs stop
#      once the majority is known. After two failing rates in a row the
#      higher ones are not run (counted as failing: an overloaded run only
#      gets slower). Every run's line goes to OUT_DIR/live.jsonl, a row per
#      rate to OUT_DIR/live.csv;
#   3. the simulator again, calibrated on this machine: the model's CPU
#      costs scaled by the live switch's CPU per call at the live knee over
#      the model's at the same rate (the defaults were calibrated once, on
#      another build of the switch), into OUT_DIR/calibrated;
#   4. `switchyard report` on both folders: the sweep's page with the live
#      curve.
#
# A run passes live when every call SIPp placed completed, every CDR was
# written, and SIPp's setup p99 (INVITE to 200) is at most 50 ms: the
# scenario's [expect] lines. Prints one JSON line: both knees and how far
# apart they are (within_10pct: |sim - live| <= 10% of live), for the model
# as shipped and calibrated.
set -u
build=${1:-build}
out=${2:-out/voice-knee-compare}
range=${SY_KNEE_RANGE:-4000..6000/9}
seeds=${SY_KNEE_SEEDS:-3}
runs=${SY_KNEE_RUNS:-3}
secs=${SY_KNEE_SECONDS:-40}
share=${SY_KNEE_SHARE:-50}
here=$(cd "$(dirname "$0")" && pwd)
bin="$PWD/$build/switchyard"
log() { echo "voice-knee-compare: $*" >&2; }
[ -x "$bin" ] || { log "$bin is missing"; exit 1; }

rm -rf "$out"
log "simulator: sweep traffic.voice.cps=$range, $seeds seeds, share $share%"
"$bin" sweep "$here/voice-live-knee.scn" --vary "traffic.voice.cps=$range" --seeds "$seeds" \
	--pass-share 0.5 --set "model.share=$share%" --set "run.duration=${secs}s" --out "$out" >"$out.sweep.log" 2>&1
rc=$?
[ -f "$out/sweep.json" ] || { log "the sweep wrote no sweep.json (exit $rc)"; cat "$out.sweep.log" >&2; exit 1; }
mv "$out.sweep.log" "$out/sweep.log"

values=$(python3 -c 'import json,sys; print(" ".join(str(p["value"]) for p in json.load(open(sys.argv[1]))["points"]))' "$out/sweep.json")
fails=0
: >"$out/live.jsonl"
for v in $values; do
	if [ "$fails" -ge 2 ]; then
		echo "{\"bench\":\"voice-live\",\"cps\":$v,\"skipped\":true}" >>"$out/live.jsonl"
		continue
	fi
	need=$((runs / 2 + 1)) ok=0 bad=0
	while [ "$ok" -lt "$need" ] && [ "$bad" -le $((runs - need)) ]; do
		log "live: $v calls/s for $secs s, serve at $share% of a core (run $((ok + bad + 1)))"
		line=$(SY_VOICE_LIVE_CPS=$v SY_VOICE_LIVE_SECONDS=$secs SY_VOICE_LIVE_SHARE=$share \
			bash "$here/voice-live.sh" "$build" | tail -1)
		case $line in "{"*) ;; *) line="{\"bench\":\"voice-live\",\"cps\":$v,\"error\":true}" ;; esac
		echo "$line" >>"$out/live.jsonl"
		case $line in *'"knee_ok":true'*) ok=$((ok + 1)) ;; *) bad=$((bad + 1)) ;; esac
	done
	[ "$ok" -ge "$need" ] && fails=0 || fails=$((fails + 1))
done

python3 - "$out" "$share" "$secs" "$runs" <<'PY'
import json, statistics, sys
out, share, secs, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sweep = json.load(open(out + "/sweep.json"))
lines = [json.loads(l) for l in open(out + "/live.jsonl") if l.strip()]
rates = []  # (cps, [runs])
for r in lines:
    if not rates or rates[-1][0] != r["cps"]:
        rates.append((r["cps"], []))
    rates[-1][1].append(r)
rows = []
with open(out + "/live.csv", "w") as f:
    f.write("value,passed,runs,runs_passed,calls,failed,setup_p50_ms,setup_p99_ms,us_per_call,skipped\n")
    for cps, rs in rates:
        skipped = any(r.get("skipped") for r in rs)
        done = [r for r in rs if not r.get("skipped") and not r.get("error")]
        ok = sum(1 for r in rs if r.get("knee_ok"))
        passed = not skipped and ok >= want // 2 + 1
        med = lambda k: statistics.median([r[k] for r in done if r.get(k) is not None]) if any(r.get(k) is not None for r in done) else ""
        tot = lambda k: sum(r.get(k) or 0 for r in done) if done else ""
        f.write(",".join(str(x) for x in [cps, int(passed), 0 if skipped else len(rs), ok, tot("calls"), tot("failed"),
                                           med("setup_p50_ms"), med("setup_p99_ms"), med("us_per_call"),
                                           int(skipped)]) + "\n")
        rows.append((cps, passed))
live_knee = None
for cps, passed in rows:  # the highest rate with it and every lower one passing
    if not passed:
        break
    live_knee = cps
sim_knee = sweep["knee"]["value"]
diff = None
if live_knee and sim_knee is not None:
    diff = round((sim_knee - live_knee) * 100.0 / live_knee, 1)
# The calibration: the live switch's CPU per call at its knee (median of
# the runs there) over the model's at that rate on a whole core.
cal = None
if live_knee is not None:
    us = statistics.median([r["us_per_call"] for r in lines if r.get("cps") == live_knee and r.get("us_per_call")])
    pt = [p for p in sweep["points"] if p["value"] == live_knee]
    model = pt[0]["metrics"]["cpu_per_call_us"]["mean"] * share / 100.0 if pt else None
    if us and model:
        f = us / model
        cal = {"live_us_per_call": us, "model_us_per_call": round(model, 2), "factor": round(f, 4),
               "cpu": "rx %.3fus tx %.3fus timer %.3fus" % (8 * f, 5 * f, 1 * f)}
json.dump({"bench": "voice-knee-compare", "share": share, "seconds": secs, "rates": len(rows),
           "runs": len([l for l in lines if not l.get("skipped")]), "sim_knee": sim_knee, "live_knee": live_knee,
           "diff_pct": diff, "within_10pct": diff is not None and abs(diff) <= 10.0, "calibration": cal},
          open(out + "/compare.json", "w"))
PY
[ -f "$out/compare.json" ] || { log "no comparison"; exit 1; }
"$bin" report "$out" >&2 || log "report failed"

cpu=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["calibration"]; print(c["cpu"] if c else "")' "$out/compare.json")
if [ -n "$cpu" ]; then
	log "simulator, calibrated: [model] cpu = $cpu"
	"$bin" sweep "$here/voice-live-knee.scn" --vary "traffic.voice.cps=$range" --seeds "$seeds" --pass-share 0.5 \
		--set "model.share=$share%" --set "run.duration=${secs}s" --set "model.cpu=$cpu" \
		--out "$out/calibrated" >"$out/calibrated.log" 2>&1
	cp "$out/live.csv" "$out/calibrated/live.csv" 2>/dev/null
	"$bin" report "$out/calibrated" >&2 || log "report (calibrated) failed"
fi
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
c = json.load(open(out + "/compare.json"))
k = None
if os.path.exists(out + "/calibrated/sweep.json"):
    k = json.load(open(out + "/calibrated/sweep.json"))["knee"]["value"]
c["sim_knee_calibrated"] = k
d = round((k - c["live_knee"]) * 100.0 / c["live_knee"], 1) if k is not None and c["live_knee"] else None
c["diff_pct_calibrated"] = d
c["within_10pct_calibrated"] = d is not None and abs(d) <= 10.0
print(json.dumps(c, separators=(",", ":")))
PY
