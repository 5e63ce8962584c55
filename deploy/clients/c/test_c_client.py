#!/usr/bin/env python3
"""Tests of the C client (libdudao + dudao-send-c) against a real dudao-ingest over mutual TLS.

    deploy/clients/c/test_c_client.py [--bin DIR] [--client PATH] [--valgrind] [--keep]

--bin (env DUDAO_BIN, default <repo>/.build/debug) holds dudao and dudao-ingest; --client (env
DUDAO_SEND_C, default build/dudao-send-c next to this file, built with make if missing).
Python 3 standard library only.

  1. every feed type of SPEC section 3 is accepted (a town and institutions registered first; every
    frame first checked against deploy/docs/schemas with jsonschema, which must be importable),
     a heartbeat older than the stored one is stale, the same file sent again is all duplicate,
     and the ingest log holds each accepted id exactly once;
  2. bad feeds are refused with the right code and path (invalid_field at
     body.classes[0].children, unknown_reference, malformed_json with id null, unknown_type,
     forbidden), one reply each, in order, on one connection, exit status 1;
  3. kill -9 of dudao-ingest in the middle of thousands of pipelined heartbeats (window 64),
     restarted on the same port and database: the client reconnects, re-sends what was not
     answered, and every id it reported acknowledged is in the ingest log exactly once; sent
     again, every one is duplicate;
  4. servers with the wrong identity (another service's CA-signed certificate; a certificate
     from another CA; the real ingest while expecting dudao-safety) are refused before any feed
     is sent, and not retried; with the right certificate the same impostor harness does get
     the feed (the control); a client certificate from another CA is refused by the ingest;
  5. with --valgrind every run of dudao-send-c is under valgrind --leak-check=full
     --error-exitcode=1 and must be clean (`make valgrind` also runs the unit tests under it).

Exits 1 on any failure; the last line is `test_c_client: N passed, M failed`.
"""
import argparse, json, os, re, shutil, socket, signal, ssl, struct, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CLIENT = "c-client"            # integrator allowed every feed type
SAFETY_ONLY = "c-safety-only"  # integrator allowed safety.* only
FEED_PREFIXES = ["registry.*", "population.*", "preschool.*", "compulsory.*", "special.*", "finance.*",
                 "survey.*", "talent.*", "project.*", "safety.*"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def feed(fid, ftype, body):
    return {"v": 1, "kind": "feed", "id": fid, "type": ftype, "body": body}


def utc(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


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


class Ingest:
    """dudao-ingest in the work folder, on a fixed port and database across restarts."""

    def __init__(self, work, bin_dir):
        self.work, self.bin, self.port, self.proc = work, bin_dir, free_port(), None
        config = {"listen": {"host": "127.0.0.1", "port": self.port},
                  "tls": {"ca": "certs/ca.pem", "certificate": "certs/dudao-ingest.pem", "key": "certs/dudao-ingest.key"},
                  "access_file": "access.json", "database": "data/ingest.sqlite",
                  # No compaction: the checks read every version back from the log.
                  "retention": {"compact_interval_seconds": 86400}}
        with open(f"{work}/ingest.json", "w") as f:
            json.dump(config, f)

    def start(self):
        out_path = f"{self.work}/ingest.out"
        start = os.path.getsize(out_path) if os.path.exists(out_path) else 0
        self.proc = subprocess.Popen([f"{self.bin}/dudao-ingest", "--config", f"{self.work}/ingest.json"],
                                     stdout=open(out_path, "a"), stderr=open(f"{self.work}/ingest.log", "a"),
                                     cwd=self.work, env=dict(os.environ, SWIFT_BACKTRACE="enable=no"))
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(out_path) as f:
                f.seek(start)
                if "listening" in f.read():
                    return
            if self.proc.poll() is not None:
                raise SystemExit(f"dudao-ingest exited {self.proc.returncode}; see {self.work}/ingest.log")
            time.sleep(0.05)
        raise SystemExit("dudao-ingest did not print 'listening' within 60 s")

    def kill9(self):
        self.proc.kill()  # SIGKILL
        self.proc.wait()

    def freeze_then_kill9(self, progress):
        """SIGSTOP, wait until the client's answers stop coming (its window is then in flight,
        unanswered), then SIGKILL. A plain kill -9 can land when the ingest has answered all it
        read and a slow client (valgrind) has not sent more, leaving nothing to re-send."""
        self.proc.send_signal(signal.SIGSTOP)
        last, still_since, deadline = progress(), time.time(), time.time() + 20
        while time.time() - still_since < 0.5 and time.time() < deadline:
            time.sleep(0.05)
            now = progress()
            if now != last:
                last, still_since = now, time.time()
        self.kill9()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Impostor:
    """A TLS server presenting a given certificate. It counts handshakes and the application bytes it
    receives, records the SNI it was sent, and acknowledges every frame (so a client that trusts it
    goes on as if it were an ingest)."""

    def __init__(self, cert, key, ca):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.load_verify_locations(ca)
        self.ctx.verify_mode = ssl.CERT_OPTIONAL
        self.ctx.sni_callback = lambda sslobj, name, ctx: self.sni.append(name)
        self.sni, self.handshakes, self.bytes, self.errors, self.versions = [], 0, 0, [], []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        conn.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.errors.append(str(e))
            conn.close()
            return
        self.handshakes += 1
        self.versions.append(tls.version())
        buf = b""
        try:
            while True:
                data = tls.recv(65536)
                if not data:
                    break
                self.bytes += len(data)
                buf += data
                while len(buf) >= 4 and len(buf) >= 4 + struct.unpack(">I", buf[:4])[0]:
                    n = struct.unpack(">I", buf[:4])[0]
                    frame, buf = json.loads(buf[4:4 + n]), buf[4 + n:]
                    reply = json.dumps({"v": 1, "kind": "ack", "id": frame.get("id"), "status": "accepted"}).encode()
                    tls.sendall(struct.pack(">I", len(reply)) + reply)
        except (ssl.SSLError, OSError, ValueError):
            pass
        finally:
            tls.close()

    def close(self):
        self.sock.close()


class Harness:
    def __init__(self, args, work):
        self.args, self.work, self.results = args, work, Results()
        self.bin, self.client, self.certs = args.bin, args.client, f"{work}/certs"
        self.valgrind_runs = 0
        subprocess.run([f"{self.bin}/dudao", "certs", "init", self.certs, "--integrator", CLIENT,
                        "--integrator", SAFETY_ONLY], check=True, stdout=subprocess.DEVNULL)
        # A second CA, for a server (and a client) that the first one never signed.
        subprocess.run([f"{self.bin}/dudao", "certs", "init", f"{work}/other-ca", "--integrator", CLIENT],
                       check=True, stdout=subprocess.DEVNULL)
        with open(f"{ROOT}/deploy/access.json") as f:
            access = json.load(f)
        access["identities"][CLIENT] = {"feeds": FEED_PREFIXES}
        access["identities"][SAFETY_ONLY] = {"feeds": ["safety.*"]}
        with open(f"{work}/access.json", "w") as f:
            json.dump(access, f)
        self.ingest = Ingest(work, self.bin)
        self.runs = 0

    # ------------------------------------------------------------ running the C client

    def write(self, name, frames):
        path = f"{self.work}/{name}"
        with open(path, "w", encoding="utf-8") as f:
            for fr in frames:
                f.write((fr if isinstance(fr, str) else json.dumps(fr, ensure_ascii=False)) + "\n")
        return path

    def command(self, path, port=None, server_name="dudao-ingest", identity=CLIENT, certs=None, ca=None,
                window=32, retries=None, extra=()):
        certs = certs or self.certs
        cmd = [self.client, "--host", "127.0.0.1", "--port", str(port or self.ingest.port),
               "--ca", ca or f"{self.certs}/ca.pem", "--cert", f"{certs}/{identity}.pem",
               "--key", f"{certs}/{identity}.key", "--server-name", server_name, "--window", str(window)]
        if retries:
            cmd += ["--retries", str(retries)]
        cmd += list(extra) + [path]
        self.runs += 1
        vlog = None
        if self.args.valgrind:
            vlog = f"{self.work}/valgrind-{self.runs}.log"
            cmd = ["valgrind", "--leak-check=full", "--error-exitcode=1", f"--log-file={vlog}"] + cmd
        return cmd, vlog

    def valgrind_check(self, what, vlog):
        if not vlog:
            return
        text = open(vlog).read()
        m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        leaks = re.findall(r"(definitely|indirectly|possibly) lost: ([\d,]+) bytes", text)
        lost = sum(int(n.replace(",", "")) for _, n in leaks)
        self.valgrind_runs += 1
        self.results.check(f"valgrind clean: {what}", m is not None and m.group(1) == "0" and lost == 0,
                           f"{m.group(0) if m else 'no summary'}; definitely/indirectly/possibly lost {lost} bytes"
                           f"{'' if m and m.group(1) == '0' and lost == 0 else '; see ' + vlog}")

    def send(self, what, path, timeout=600, **kw):
        """Runs dudao-send-c to completion: (exit status, outcomes {id: fields}, ordered outcomes, stderr)."""
        cmd, vlog = self.command(path, **kw)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        self.valgrind_check(what, vlog)
        ordered = parse_outcomes(p.stdout)
        return p.returncode, {o["id"]: o for o in ordered}, ordered, p.stdout, p.stderr

    def tail(self):
        """(sender, feed_id) -> how many times it is in the ingest log."""
        p = subprocess.run([f"{self.bin}/dudao", "tail", "--port", str(self.ingest.port), "--certs", self.certs,
                            "--identity", "operator", "--to-head"], capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError(f"dudao tail exited {p.returncode}: {p.stderr.strip()}")
        counts = {}
        for line in p.stdout.splitlines():
            body = json.loads(line)["body"]
            key = (body["sender"], body["feed_id"])
            counts[key] = counts.get(key, 0) + 1
        return counts


def parse_outcomes(stdout):
    out = []
    for line in stdout.splitlines():
        if line.startswith("summary:"):
            continue
        cols = line.split("\t")
        o = {"line": int(cols[0].rsplit(":", 1)[1]), "id": cols[1], "status": cols[2]}
        if cols[2] == "rejected":
            o.update(code=cols[3], path=cols[4], message=cols[5], message_zh=cols[6] if len(cols) > 6 else "")
        out.append(o)
    return out


def stat(stderr, what):
    m = re.search(r"(\d+) connections, (\d+) frames sent, (\d+) sent again", stderr)
    return int(m.group({"connections": 1, "frames": 2, "resent": 3}[what])) if m else -1


# ------------------------------------------------------------------ the checks

def every_type_frames(run_id):
    p = f"ct{run_id}"
    now = int(time.time() * 1000)
    census_class = {"class_id": "c1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1}
    return [
        feed(f"{p}-town", "registry.town", {"town_id": f"{p}-town", "name": "测试镇 \"C\" \\ 街", "kind": "town"}),
        feed(f"{p}-kg", "registry.institution", {"institution_id": f"{p}-kg", "name": "测试镇中心幼儿园", "town_id": f"{p}-town",
                                                  "level": "kindergarten", "ownership": "public", "town_central": True}),
        feed(f"{p}-ps", "registry.institution", {"institution_id": f"{p}-ps", "name": "测试镇中心小学", "town_id": f"{p}-town",
                                                  "level": "primary", "ownership": "public"}),
        feed(f"{p}-cohort", "population.cohort", {"town_id": f"{p}-town", "year": 2025, "age_3": 100, "age_4": 110, "age_5": 120}),
        feed(f"{p}-kgcensus", "preschool.census", {
            "institution_id": f"{p}-kg", "year": 2025, "classes": [census_class, dict(census_class, class_id="c2", level="large")],
            "full_time_teachers": 4, "caregivers": 2, "staff_total": 8, "certified_teachers": 4, "disabled_children_certified": 1}),
        feed(f"{p}-pscensus", "compulsory.census", {
            "institution_id": f"{p}-ps", "year": 2025, "students": 90, "migrant_students": 12,
            "classes": [{"class_id": "g1-1", "grade": 1, "students": 45}, {"class_id": "g2-1", "grade": 2, "students": 45}]}),
        feed(f"{p}-retention", "compulsory.retention", {"year": 2025, "grade9_students": 950, "cohort_entrants": 1000}),
        feed(f"{p}-special", "special.population", {"year": 2025, "disabled_school_age": 50, "enrolled": 48,
                                                    "home_delivered": 5, "disabled_preschool_age_certified": 12}),
        feed(f"{p}-finance", "finance.year", {"year": 2025, "preschool_fiscal_wan": 11800.5, "education_fiscal_wan": 170000,
                                              "public_kg_per_pupil_yuan": 600, "inclusive_private_subsidy_yuan": 500}),
        feed(f"{p}-survey", "survey.recognition", {"year": 2025, "respondents": 1200, "satisfied": 1100}),
        feed(f"{p}-talent", "talent.year", {"year": 2025, "county_famous_teachers": 60, "city_excellent_teachers": 10,
                                            "studios": {"provincial": 1, "city": 4, "county": 16}}),
        feed(f"{p}-project", "project.progress", {"project_id": f"{p}-proj", "name": "测试幼儿园新建工程", "kind": "kindergarten",
                                                  "seats_planned": 360, "seats_delivered": 0, "investment_planned_wan": 5000,
                                                  "invested_wan": 1200.5, "due": "2025-08-31", "status": "building"}),
        feed(f"{p}-inventory", "safety.inventory", {"institution_id": f"{p}-kg", "alarm_devices": [f"{p}-alarm-1"],
                                                    "cctv_police_linked": True, "cameras": 12, "cameras_linked": 12,
                                                    "closed_management": True, "guards_required": 2, "guards_full_time": 2}),
        feed(f"{p}-heartbeat", "safety.heartbeat", {"device_id": f"{p}-alarm-1", "institution_id": f"{p}-kg",
                                                    "device_kind": "alarm", "at": utc(now), "status": "ok"}),
        feed(f"{p}-alarm", "safety.alarm", {"device_id": f"{p}-alarm-1", "institution_id": f"{p}-kg", "at": utc(now + 1),
                                            "note": "C 客户端测试"}),
    ], feed(f"{p}-heartbeat-old", "safety.heartbeat", {"device_id": f"{p}-alarm-1", "institution_id": f"{p}-kg",
                                                       "device_kind": "alarm", "at": utc(now - 60000), "status": "ok"})


def check_every_type(h, run_id):
    r = h.results
    print("1. every feed type of SPEC section 3 is accepted")
    frames, old = every_type_frames(run_id)
    path = h.write("every-type.jsonl", frames + [old])
    schema = subprocess.run([sys.executable, f"{ROOT}/deploy/docs/schemas/validate.py", path], capture_output=True, text=True)
    r.check("every frame valid against the JSON Schemas (deploy/docs/schemas, jsonschema draft 2020-12)",
            schema.returncode == 0 and f"summary: {len(frames) + 1} valid, 0 invalid" in schema.stdout,
            (schema.stdout + schema.stderr).strip()[-300:])
    rc, by_id, ordered, out, err = h.send("every feed type", path)
    types = sorted({f["type"] for f in frames})
    bad = [f"{f['id']}: {by_id.get(f['id'], {}).get('status')}" for f in frames if by_id.get(f["id"], {}).get("status") != "accepted"]
    r.check(f"all {len(types)} feed types accepted ({', '.join(types)})", rc == 0 and not bad,
            f"exit {rc}; not accepted: {bad[:5]} {err.strip()[-300:] if bad or rc else ''}")
    r.check("a heartbeat older than the stored one is stale", by_id.get(old["id"], {}).get("status") == "stale",
            f"got {by_id.get(old['id'])}")
    r.check("one outcome line per feed, in file order", [o["line"] for o in ordered] == list(range(1, len(frames) + 2)),
            f"lines {[o['line'] for o in ordered]}")
    r.check("summary line", f"summary: {len(frames) + 1} lines: {len(frames)} accepted, 0 duplicate, 1 stale, 0 rejected" in out,
            out.strip().splitlines()[-1] if out.strip() else "no output")
    r.check("TLS 1.2+ with the expected server identity", re.search(r'connected to 127\.0\.0\.1:\d+ \(TLSv1\.[23], server "dudao-ingest"\)', err) is not None,
            err.strip().splitlines()[0] if err.strip() else "")
    rc, by_id, _, _, _ = h.send("every feed type, again", path)
    dup = [f for f in frames if by_id.get(f["id"], {}).get("status") == "duplicate"]
    r.check("the same file sent again: every feed duplicate", rc == 0 and len(dup) == len(frames), f"{len(dup)} of {len(frames)} duplicate")
    log = h.tail()
    wrong = [f["id"] for f in frames if log.get((CLIENT, f["id"]), 0) != 1]
    r.check("the ingest log holds each accepted feed exactly once (dudao tail), the stale one not at all",
            not wrong and log.get((CLIENT, old["id"]), 0) == 0, f"wrong counts: {wrong[:5]}")


def check_refusals(h, run_id):
    r = h.results
    print("2. bad feeds are refused with a nack carrying code and path")
    p = f"ct{run_id}"
    census = {"institution_id": f"{p}-kg", "year": 2025,
              "classes": [{"class_id": "c1", "level": "small", "children": 500, "teachers": 2, "caregivers": 1}],
              "full_time_teachers": 2, "caregivers": 1, "staff_total": 4, "certified_teachers": 2, "disabled_children_certified": 0}
    lines = [
        feed(f"{p}-bad-children", "preschool.census", census),
        feed(f"{p}-bad-ref", "safety.heartbeat", {"device_id": "d", "institution_id": f"{p}-never-registered",
                                                  "device_kind": "alarm", "at": utc(int(time.time() * 1000)), "status": "ok"}),
        '{"v":1,"kind":"feed","id":"broken",',
        feed(f"{p}-bad-type", "preschool.nothing", {"year": 2025}),
        feed(f"{p}-bad-extra", "survey.recognition", {"year": 2025, "respondents": 10, "satisfied": 5, "colour": "blue"}),
        feed(f"{p}-bad-survey", "survey.recognition", {"year": 2025, "respondents": 10, "satisfied": 11}),
        '{"v":1,"kind":"feed","id":"' + p + '-too-large","type":"registry.town","body":{"town_id":"x","name":"' + "x" * 1048576 + '","kind":"town"}}',
        feed(f"{p}-good-after", "registry.town", {"town_id": f"{p}-town2", "name": "乙镇", "kind": "town"}),
    ]
    path = h.write("refusals.jsonl", lines)
    rc, by_id, ordered, out, err = h.send("refusals", path)
    want = [  # (line, id, status, code, path)
        (1, f"{p}-bad-children", "rejected", "invalid_field", "body.classes[0].children"),
        (2, f"{p}-bad-ref", "rejected", "unknown_reference", "body.institution_id"),
        (3, "-", "rejected", "malformed_json", "-"),
        (4, f"{p}-bad-type", "rejected", "unknown_type", None),
        (5, f"{p}-bad-extra", "rejected", "invalid_field", "body.colour"),
        (6, f"{p}-bad-survey", "rejected", "invalid_field", "body.satisfied"),
        (7, "-", "rejected", "frame_too_large", "-"),
        (8, f"{p}-good-after", "accepted", None, None),
    ]
    got = {o["line"]: o for o in ordered}
    for line, fid, status, code, fpath in want:
        o = got.get(line, {})
        ok = o.get("id") == fid and o.get("status") == status and (code is None or o.get("code") == code) and \
            (fpath is None or o.get("path") == fpath)
        label = f"line {line}: {status}" + (f" {code}" if code else "") + (f" at {fpath}" if fpath not in (None, "-") else "")
        r.check(label, ok, f"got {o}")
    msg = got.get(1, {}).get("message", "")
    r.check("the nack's message is a sentence a person can act on", "200" in msg and "500" in msg, repr(msg))
    zh = got.get(1, {}).get("message_zh", "")
    r.check("the nack carries message_zh, naming the same field", "字段" in zh and got.get(1, {}).get("path", "?") in zh, repr(zh))
    r.check("exit status 1 on a rejection; all on one connection (a nack does not close it); the 1 MiB+ line never sent",
            rc == 1 and stat(err, "connections") == 1 and stat(err, "frames") == len(lines) - 1,
            f"exit {rc}; connections {stat(err, 'connections')}, frames sent {stat(err, 'frames')}")
    path = h.write("forbidden.jsonl", [feed(f"{p}-forbidden", "registry.town", {"town_id": f"{p}-town3", "name": "丙镇", "kind": "town"})])
    rc, by_id, _, _, _ = h.send("forbidden", path, identity=SAFETY_ONLY)
    o = by_id.get(f"{p}-forbidden", {})
    r.check(f"integrator {SAFETY_ONLY} (safety.* only) sending registry.town: forbidden", rc == 1 and o.get("code") == "forbidden", f"got {o}")


def check_kill9(h, run_id):
    r = h.results
    n = 3000 if h.args.valgrind else 6000
    print(f"3. kill -9 of dudao-ingest in the middle of {n} heartbeats (window 64), restarted on the same port and database")
    p = f"ct{run_id}-hb"
    base = int(time.time() * 1000) - 3_600_000
    frames = [feed(f"{p}-{i}", "safety.heartbeat", {"device_id": f"{p}-dev-{i % 50}", "institution_id": f"ct{run_id}-kg",
                                                    "device_kind": "alarm", "at": utc(base + i), "status": "ok"})
              for i in range(n)]
    path = h.write("heartbeats.jsonl", frames)
    cmd, vlog = h.command(path, window=64, retries=30)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, err_lines = [], []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    ereader = threading.Thread(target=lambda: err_lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start(), ereader.start()
    deadline = time.time() + 600
    while len(lines) < n // 4 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    h.ingest.freeze_then_kill9(lambda: len(lines))
    at_kill = len(lines)
    killed_at = time.time()
    time.sleep(0.5)
    h.ingest.start()
    restarted = time.time() - killed_at
    try:
        rc = proc.wait(timeout=max(1, deadline - time.time()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    reader.join(5), ereader.join(5)
    h.valgrind_check("kill -9 run", vlog)
    out, err = "".join(lines), "".join(err_lines)
    ordered = parse_outcomes(out)
    by_id = {o["id"]: o for o in ordered}
    statuses = {}
    for o in ordered:
        statuses[o["status"]] = statuses.get(o["status"], 0) + 1
    r.check("killed mid-stream", 0 < at_kill < n, f"{at_kill} of {n} outcomes printed when killed; restarted after {restarted:.1f} s")
    r.check("the client reconnected and re-sent the unanswered feeds with the same ids",
            stat(err, "connections") >= 2 and stat(err, "resent") > 0,
            f"connections {stat(err, 'connections')}, frames sent {stat(err, 'frames')}, sent again {stat(err, 'resent')}")
    r.check(f"exit 0, one outcome for each of the {n} heartbeats, in file order, none refused",
            rc == 0 and [o["line"] for o in ordered] == list(range(1, n + 1)) and all(o["status"] in ("accepted", "duplicate") for o in ordered),
            f"exit {rc}; outcomes {statuses}; {err.strip().splitlines()[-1] if err.strip() else ''}")
    log = h.tail()
    acked = [f["id"] for f in frames if by_id.get(f["id"], {}).get("status") in ("accepted", "duplicate")]
    lost = [i for i in acked if log.get((CLIENT, i), 0) == 0]
    twice = [i for i in acked if log.get((CLIENT, i), 0) > 1]
    unexpected = [fid for (s, fid), c in log.items() if s == CLIENT and fid.startswith(p + "-") and fid not in by_id]
    r.check("every id reported acknowledged is in the ingest log exactly once (dudao tail)",
            len(acked) == n and not lost and not twice and not unexpected,
            f"{len(acked)} acknowledged ({statuses.get('duplicate', 0)} of them answered duplicate after the restart); "
            f"lost {len(lost)}, stored twice {len(twice)}, unexpected {len(unexpected)}")
    rc, by_id, _, _, _ = h.send("kill -9 file, again", path, window=64)
    dup = sum(1 for f in frames if by_id.get(f["id"], {}).get("status") == "duplicate")
    r.check("sent again: every heartbeat duplicate", rc == 0 and dup == n, f"{dup} of {n} duplicate")


def check_identity(h, run_id):
    r = h.results
    print("4. servers with the wrong identity are refused before any feed is sent")
    path = h.write("identity.jsonl", [feed(f"ct{run_id}-identity", "registry.town", {"town_id": f"ct{run_id}-town4", "name": "丁镇", "kind": "town"})])
    cases = [
        ("an impostor with dudao-safety's CA-signed certificate", f"{h.certs}/dudao-safety", "hostname mismatch"),
        ("an impostor with a dudao-ingest certificate from another CA", f"{h.work}/other-ca/dudao-ingest", "issuer certificate"),
    ]
    for label, cert, reason in cases:
        imp = Impostor(f"{cert}.pem", f"{cert}.key", f"{h.certs}/ca.pem")
        rc, _, _, out, err = h.send(f"identity: {label}", path, port=imp.port, retries=5)
        time.sleep(0.2)
        r.check(f"{label}: refused, nothing sent, not retried", rc == 2 and imp.bytes == 0 and imp.handshakes + len(imp.errors) == 1
                and "server identity error" in err and reason in err,
                f"exit {rc}; impostor got {imp.bytes} bytes from {imp.handshakes} completed handshakes, {len(imp.errors)} refused; "
                f"client says: {err.strip().splitlines()[0] if err.strip() else ''}")
        r.check(f"{label}: the client sent SNI dudao-ingest", imp.sni == ["dudao-ingest"], f"SNI {imp.sni}")
        imp.close()
    # Control: the same harness with the right certificate does get the feed.
    imp = Impostor(f"{h.certs}/dudao-ingest.pem", f"{h.certs}/dudao-ingest.key", f"{h.certs}/ca.pem")
    rc, by_id, _, _, err = h.send("identity: control", path, port=imp.port)
    time.sleep(0.2)
    r.check("control: the same server with dudao-ingest's certificate is trusted and gets the feed",
            rc == 0 and imp.bytes > 0 and imp.versions and all(v in ("TLSv1.2", "TLSv1.3") for v in imp.versions),
            f"exit {rc}; {imp.bytes} bytes; {imp.versions}")
    imp.close()
    rc, _, _, _, err = h.send("identity: real ingest, expecting dudao-safety", path, server_name="dudao-safety")
    r.check("the real dudao-ingest while expecting dudao-safety: refused, nothing sent",
            rc == 2 and stat(err, "frames") == 0 and 'CN "dudao-ingest"' in err and "hostname mismatch" in err,
            err.strip().splitlines()[0] if err.strip() else "")
    rc, _, _, _, err = h.send("identity: client certificate from another CA", path, certs=f"{h.work}/other-ca", retries=2)
    r.check("a client certificate from another CA: the ingest refuses it; the client gives up after --retries 2",
            rc == 2 and stat(err, "frames") <= 2 and "gave up after 2 attempts" in err,
            err.strip().splitlines()[-2] if len(err.strip().splitlines()) > 1 else err.strip())
    log = h.tail()
    r.check("none of these feeds reached the ingest log", log.get((CLIENT, f"ct{run_id}-identity"), 0) == 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("DUDAO_BIN", f"{ROOT}/.build/debug"),
                        help="folder with dudao and dudao-ingest (env DUDAO_BIN)")
    parser.add_argument("--client", default=os.environ.get("DUDAO_SEND_C", f"{HERE}/build/dudao-send-c"),
                        help="dudao-send-c (env DUDAO_SEND_C)")
    parser.add_argument("--valgrind", action="store_true", help="run every dudao-send-c under valgrind")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    args.bin, args.client = os.path.abspath(args.bin), os.path.abspath(args.client)
    for exe in ("dudao", "dudao-ingest"):
        if not os.access(f"{args.bin}/{exe}", os.X_OK):
            raise SystemExit(f"test_c_client: {args.bin}/{exe} not found (set --bin or DUDAO_BIN)")
    if not os.access(args.client, os.X_OK):
        subprocess.run(["make", "-C", HERE, "all"], check=True)
    if args.valgrind and not shutil.which("valgrind"):
        raise SystemExit("test_c_client: valgrind not found")

    work = tempfile.mkdtemp(prefix="dudao-c-client-")
    print(f"test_c_client: binaries {args.bin}, client {args.client}{' under valgrind' if args.valgrind else ''}, work {work}")
    h = Harness(args, work)
    run_id = str(int(time.time()))[-6:]
    try:
        h.ingest.start()
        check_every_type(h, run_id)
        check_refusals(h, run_id)
        check_kill9(h, run_id)
        check_identity(h, run_id)
    finally:
        h.ingest.stop()
    r = h.results
    if args.valgrind:
        print(f"5. valgrind: {h.valgrind_runs} runs of dudao-send-c checked")
    if r.failed or args.keep:
        print(f"test_c_client: work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"test_c_client: {r.passed} passed, {len(r.failed)} failed{': ' + ', '.join(r.failed) if r.failed else ''}")
    sys.exit(1 if r.failed else 0)


if __name__ == "__main__":
    main()
