#!/usr/bin/env python3
"""A real Prometheus server scrapes dudao-ingest's /metrics (issue 9, "How it is shown").

Starts dudao-ingest on loopback with a `metrics` port, sends feeds of known outcomes (accepted,
duplicate, refused), runs Debian's `prometheus` scraping the ingest every second, and asks
Prometheus's HTTP API for the feed counters: they must equal what the ingest acknowledged.

    deploy/multihost/prometheus_check.py [--bin .build/debug] [--keep]

Needs `prometheus` on PATH (Debian: apt-get install prometheus; it installs nothing itself).
Final line: `prometheus: N passed, M failed`; exit 1 on any failure.
"""
import argparse, atexit, json, os, shutil, signal, subprocess, sys, tempfile, time, urllib.parse, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, f"{ROOT}/deploy/soak")
from soak import Wire, free_port  # noqa: E402  (the independent Python client of the soak)

EXPECTED_METRIC = "dudao_feeds_total"


class Results:
    def __init__(self):
        self.passed, self.failed = 0, []

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed.append(name)
        print(f"  {'ok  ' if ok else 'FAIL'}  {name}{' — ' + detail if detail else ''}", flush=True)
        return ok


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def stable_copy(bin_dir, dest, names):
    deadline = time.time() + 900
    while time.time() < deadline:
        paths = [f"{bin_dir}/{n}" for n in names]
        if all(os.access(p, os.X_OK) for p in paths):
            before = [(os.stat(p).st_size, os.stat(p).st_mtime) for p in paths]
            time.sleep(3)
            if all(os.path.exists(p) for p in paths) and before == [(os.stat(p).st_size, os.stat(p).st_mtime) for p in paths]:
                os.makedirs(dest, exist_ok=True)
                for p in paths:
                    shutil.copy2(p, dest)
                return dest
        print(f"prometheus: waiting for the executables in {bin_dir}", flush=True)
        time.sleep(10)
    raise SystemExit(f"prometheus: the executables in {bin_dir} are missing or keep changing")


def wait_line(path, text, proc, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        content = open(path).read() if os.path.exists(path) else ""
        for line in content.splitlines():
            if text in line:
                return line
        if proc.poll() is not None:
            return None
        time.sleep(0.1)
    return None


def feed(fid, ftype, body):
    return {"v": 1, "kind": "feed", "id": fid, "type": ftype, "body": body}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=f"{ROOT}/.build/debug")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--timeout", type=int, default=300)
    args = parser.parse_args()
    prometheus = shutil.which("prometheus")
    if not prometheus:
        raise SystemExit("prometheus: `prometheus` is not installed (Debian: apt-get install prometheus)")

    r = Results()
    work = tempfile.mkdtemp(prefix="dudao-prometheus-")
    procs = []

    def cleanup():
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if args.keep or r.failed:
            print(f"prometheus: work folder kept: {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    atexit.register(cleanup)

    def on_signal(signum, _):
        print(f"prometheus: {signal.Signals(signum).name}, stopping", flush=True)
        print(f"prometheus: {r.passed} passed, {len(r.failed) + 1} failed", flush=True)
        sys.exit(1)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        signal.signal(sig, on_signal)
    signal.alarm(args.timeout)

    bin_dir = stable_copy(args.bin, f"{work}/bin", ["dudao", "dudao-ingest"])
    certs = f"{work}/certs"
    subprocess.run([f"{bin_dir}/dudao", "certs", "init", certs], check=True, capture_output=True, timeout=60)
    shutil.copy(f"{ROOT}/deploy/access.json", f"{work}/access.json")
    port, mport, pport = free_port(), free_port(), free_port()
    config = {"listen": {"host": "127.0.0.1", "port": port},
              "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-ingest.pem", "key": "certs/dudao-ingest.key"},
              "access_file": "access.json", "database": "data/ingest.sqlite",
              "metrics": {"host": "127.0.0.1", "port": mport}}
    json.dump(config, open(f"{work}/ingest.json", "w"), indent=1)
    out, err = f"{work}/ingest.out", f"{work}/ingest.log"
    ingest = subprocess.Popen([f"{bin_dir}/dudao-ingest", "--config", f"{work}/ingest.json"],
                              stdout=open(out, "w"), stderr=open(err, "w"), env=dict(os.environ, SWIFT_BACKTRACE="enable=no"))
    procs.append(ingest)
    listening = wait_line(out, "listening on", ingest, 60)
    if not listening:
        r.check("dudao-ingest starts with a metrics port", False, open(err).read()[-500:])
        print(f"prometheus: {r.passed} passed, {len(r.failed)} failed")
        sys.exit(1)
    metrics_line = wait_line(out, "metrics on", ingest, 10)
    status, body = (0, "")
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            status, body = http_get(f"http://127.0.0.1:{mport}/ready")
            if status == 200:
                break
        except OSError as e:
            body = repr(e)
        time.sleep(0.2)
    health = http_get(f"http://127.0.0.1:{mport}/health") if status else (0, "")
    r.check("dudao-ingest serves /ready and /health on its metrics port", status == 200 and health[0] == 200,
            f"{metrics_line or 'no `metrics on` line on stdout'}; /ready {status} {body.strip()[:60]}; /health {health[0]} {health[1].strip()[:60]}")

    # Feeds with known outcomes.
    frames = [feed("town-1", "registry.town", {"town_id": "pa", "name": "甲镇", "kind": "town"}),
              feed("town-2", "registry.town", {"town_id": "pb", "name": "乙镇", "kind": "town"})]
    frames += [feed(f"kg-{i}", "registry.institution", {"institution_id": f"pkg-{i}", "name": f"幼儿园{i}", "town_id": "pa",
                                                        "level": "kindergarten", "ownership": "public"}) for i in range(3)]
    now = time.time()
    heartbeats = [feed(f"hb-{i}", "safety.heartbeat", {"device_id": f"pdev-{i}", "institution_id": f"pkg-{i % 3}", "device_kind": "alarm",
                                                       "at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{i:03d}Z", "status": "ok"})
                  for i in range(17)]
    frames += heartbeats
    frames.append(feed("hb-3", "safety.heartbeat", heartbeats[3]["body"]))              # duplicate
    frames.append(feed("hb-unknown", "safety.heartbeat", {**heartbeats[0]["body"], "institution_id": "nowhere"}))  # unknown_reference
    wire = Wire(port, certs, "operator")
    wire.send_many(frames)
    replies = [wire.recv() for _ in frames]
    wire.close()
    outcome = {}
    for f, rep in zip(frames, replies):
        key = (f["type"], rep.get("status") if rep.get("kind") == "ack" else (rep.get("error") or {}).get("code"))
        outcome[key] = outcome.get(key, 0) + 1
    print(f"prometheus: sent {len(frames)} feeds: " + ", ".join(f"{t} {o} {n}" for (t, o), n in sorted(outcome.items())), flush=True)
    accepted_hb = outcome.get(("safety.heartbeat", "accepted"), 0)
    r.check("the ingest answered as planned", accepted_hb == 17 and outcome.get(("safety.heartbeat", "duplicate")) == 1
            and outcome.get(("safety.heartbeat", "unknown_reference")) == 1, str(outcome))

    # What /metrics says, read directly.
    _, text = http_get(f"http://127.0.0.1:{mport}/metrics")
    feed_lines = [l for l in text.splitlines() if "feed" in l and not l.startswith("#")]
    print("prometheus: /metrics feed lines: " + " | ".join(feed_lines[:12]), flush=True)
    names = sorted({l.split("{")[0].split(" ")[0] for l in text.splitlines() if l and not l.startswith("#")})
    r.check(f"/metrics has {EXPECTED_METRIC}{{type,outcome}}",
            any(l.startswith(EXPECTED_METRIC + "{") and 'outcome="accepted"' in l and 'type="safety.heartbeat"' in l for l in feed_lines),
            f"metric names: {' '.join(names)[:600]}")

    # A real Prometheus server.
    with open(f"{work}/prometheus.yml", "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: dudao-ingest
    static_configs:
      - targets: ["127.0.0.1:{mport}"]
""")
    prom = subprocess.Popen([prometheus, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/tsdb",
                             f"--web.listen-address=127.0.0.1:{pport}"],
                            stdout=open(f"{work}/prometheus.log", "w"), stderr=subprocess.STDOUT)
    procs.append(prom)
    api = f"http://127.0.0.1:{pport}"
    ready = False
    deadline = time.time() + 60
    while time.time() < deadline and prom.poll() is None:
        try:
            if http_get(f"{api}/-/ready")[0] == 200:
                ready = True
                break
        except OSError:
            pass
        time.sleep(0.3)
    version = subprocess.run([prometheus, "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    r.check("prometheus starts", ready, f"{version[0] if version else ''}; log {work}/prometheus.log")

    def q(expr):
        status, body = http_get(f"{api}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        data = json.loads(body)
        return data["data"]["result"] if data.get("status") == "success" else data

    def value(expr):
        res = q(expr)
        return float(res[0]["value"][1]) if isinstance(res, list) and res else None

    up = None
    deadline = time.time() + 30
    while ready and time.time() < deadline:
        up = value('up{job="dudao-ingest"}')
        if up == 1:
            break
        time.sleep(0.5)
    targets = json.loads(http_get(f"{api}/api/v1/targets")[1]) if ready else {}
    health = [(t.get("scrapeUrl"), t.get("health"), t.get("lastError")) for t in targets.get("data", {}).get("activeTargets", [])]
    r.check("prometheus scrapes dudao-ingest (up == 1)", up == 1, f"targets: {health}")

    expr = f'{EXPECTED_METRIC}{{type="safety.heartbeat",outcome="accepted"}}'
    got = None
    deadline = time.time() + 30
    while ready and time.time() < deadline:
        got = value(expr)
        if got == accepted_hb:
            break
        time.sleep(0.5)
    r.check(f"query {expr} == {accepted_hb} (the heartbeats acknowledged accepted)", got == accepted_hb, f"Prometheus answered {got}")
    total = value(f'sum({EXPECTED_METRIC}{{outcome="accepted"}})') if ready else None
    expected_total = sum(n for (t, o), n in outcome.items() if o == "accepted")
    r.check(f"query sum({EXPECTED_METRIC}{{outcome=\"accepted\"}}) == {expected_total}", total == expected_total, f"Prometheus answered {total}")
    dup = value(f'{EXPECTED_METRIC}{{type="safety.heartbeat",outcome="duplicate"}}') if ready else None
    refused = value('dudao_feeds_refused_total{type="safety.heartbeat",code="unknown_reference"}') if ready else None
    r.check("duplicate and refused feeds counted apart (1 each)", dup == 1 and refused == 1,
            f"duplicate {dup}, dudao_feeds_refused_total{{code=\"unknown_reference\"}} {refused}")

    # The counter follows new feeds.
    wire = Wire(port, certs, "operator")
    more = [feed(f"hb-more-{i}", "safety.heartbeat", {**heartbeats[i]["body"], "at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 1)) + f".{i:03d}Z"})
            for i in range(5)]
    wire.send_many(more)
    extra = sum(1 for _ in more if wire.recv().get("status") == "accepted")
    wire.close()
    deadline = time.time() + 20
    while ready and time.time() < deadline:
        got = value(expr)
        if got == accepted_hb + extra:
            break
        time.sleep(0.5)
    r.check(f"after {extra} more heartbeats the scraped counter is {accepted_hb + extra}", got == accepted_hb + extra, f"Prometheus answered {got}")
    signal.alarm(0)
    print(f"prometheus: {r.passed} passed, {len(r.failed)} failed", flush=True)
    sys.exit(1 if r.failed else 0)


if __name__ == "__main__":
    main()
