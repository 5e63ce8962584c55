#!/usr/bin/env python3
"""Tests of the Python client (dudao_client) against the real dudao-ingest over mutual TLS.

    python3 deploy/clients/python/test_python_client.py                  # binaries in <repo>/.build/debug
    DUDAO_BIN=/path/to/bin python3 deploy/clients/python/test_python_client.py
    python3 deploy/clients/python/test_python_client.py --bin DIR --keep --heartbeats 5000

Makes certificates with `dudao certs init`, an access file and an ingest configuration in a
temporary folder, starts dudao-ingest on a free port and checks:

 1. every feed type of SPEC section 3 is accepted (a town and institutions registered first; every
    feed first checked against deploy/docs/schemas with jsonschema, which must be importable);
    re-sent, each is `duplicate`; an older version of a key is `stale`;
 2. bad feeds are refused with a nack carrying the right code and path, in order, while the
    feeds around them are accepted; a frame above the server's limit gets the server's
    `frame_too_large` and the client reconnects and goes on;
 3. kill -9 of dudao-ingest in the middle of a stream of heartbeats (window 64), restarted on the
    same port and database: the client reconnects, re-sends, and afterwards every id it reported
    acknowledged is in the ingest log exactly once (`dudao tail`), and re-sending all of them
    gets `duplicate` for each;
 4. a server with the wrong identity (dudao-ingest run with the dudao-safety certificate), a
    server whose certificate lacks the dialled host, and one signed by another CA are refused by
    the client before any feed is sent;
 5. the package installs with pip into a fresh venv, and its `dudao-send-py` command (and
    `python -m dudao_client`) sends a file, exit 0, and exits 1 on a nack.

Exits 1 when any check fails. The client is standard library only; the schema check needs
jsonschema (CI runs this with the python of deploy/pypi-venv.sh).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)

from dudao_client import Client, Outcome, TLSError, WrongServerError, make_envelope  # noqa: E402

# The feed types of SPEC section 3, in the order of its table.
SPEC_FEED_TYPES = ["registry.town", "registry.institution", "population.cohort", "preschool.census", "compulsory.census",
                   "compulsory.retention", "special.population", "finance.year", "survey.recognition", "talent.year",
                   "project.progress", "safety.inventory", "safety.heartbeat", "safety.alarm"]
INTEGRATOR = "py-integrator"
LIMITED = "py-limited"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso_ms(t: float) -> str:
    """RFC 3339 UTC with milliseconds (seconds and milliseconds from one rounding)."""
    ms = int(round(t * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


class Results:
    def __init__(self) -> None:
        self.failed: List[str] = []
        self.count = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.count += 1
        print(f"{'ok  ' if ok else 'FAIL'}  {name}" + (f": {detail}" if detail else ""), flush=True)
        if not ok:
            self.failed.append(name)
        return ok


class Ingest:
    """One dudao-ingest process; stdout/stderr in WORK/NAME.out/.log."""

    def __init__(self, work: str, bin_dir: str, name: str, port: int, certificate: str = "dudao-ingest",
                 database: str = "data/ingest.sqlite") -> None:
        self.work, self.bin, self.name, self.port = work, bin_dir, name, port
        self.config = f"{work}/{name}.json"
        with open(self.config, "w") as f:
            json.dump({"listen": {"host": "127.0.0.1", "port": port},
                       "tls": {"ca": "certs/ca.pem", "certificate": f"certs/{certificate}.pem",
                               "key": f"certs/{certificate}.key"},
                       "access_file": "access.json", "database": database,
                       # No compaction while testing: the check reads every record back from the log.
                       "retention": {"compact_interval_seconds": 86400}}, f)
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 60) -> None:
        out_path = f"{self.work}/{self.name}.out"
        before = os.path.getsize(out_path) if os.path.exists(out_path) else 0
        out, err = open(out_path, "a"), open(f"{self.work}/{self.name}.log", "a")
        env = dict(os.environ, SWIFT_BACKTRACE="enable=no")
        self.proc = subprocess.Popen([f"{self.bin}/dudao-ingest", "serve", "--config", self.config],
                                     stdout=out, stderr=err, env=env, cwd=self.work)
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(out_path) as f:
                f.seek(before)
                if "listening" in f.read():
                    return
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}; see {self.work}/{self.name}.log")
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not print 'listening' within {timeout} s")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def freeze_then_kill9(self, progress: Callable[[], int]) -> None:
        """SIGSTOP, wait until the client's answers stop coming (its window is then in flight,
        unanswered), then SIGKILL. A plain kill -9 can land when the ingest has answered all it
        read and the client has not sent more, leaving nothing to re-send."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        last, still_since, deadline = progress(), time.time(), time.time() + 20
        while time.time() - still_since < 0.5 and time.time() < deadline:
            time.sleep(0.05)
            now = progress()
            if now != last:
                last, still_since = now, time.time()
        self.kill9()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class StubServer:
    """A mutual-TLS server presenting a chosen certificate; counts the application bytes it
    receives after the handshake (must be 0 when the client refuses it)."""

    def __init__(self, cert: str, key: str, client_ca: str) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=client_ca)
        self.ctx = ctx
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handshakes = 0
        self.bytes_received = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stop:
            try:
                raw, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            raw.settimeout(5)
            try:
                with self.ctx.wrap_socket(raw, server_side=True) as tls:
                    self.handshakes += 1
                    self._handle(tls)
            except (OSError, ssl.SSLError, ValueError):
                pass

    def _handle(self, tls: ssl.SSLSocket) -> None:
        """One accepted TLS connection: counts what arrives, answers nothing."""
        while True:
            data = tls.recv(65536)
            if not data:
                break
            self.bytes_received += len(data)

    def close(self) -> None:
        self.stop = True
        self.listener.close()
        self.thread.join(timeout=5)


class FakeIngest(StubServer):
    """Speaks the frame protocol with the dudao-ingest certificate: the first time it sees an id
    whose number is divisible by 3 it answers `overloaded` (as dudao-ingest does while shutting
    down), otherwise `accepted`. Exercises the client's overloaded re-send, which the real
    server only produces in a narrow window."""

    def __init__(self, cert: str, key: str, client_ca: str) -> None:
        self.seen: Dict[str, int] = {}
        super().__init__(cert, key, client_ca)

    def _handle(self, tls: ssl.SSLSocket) -> None:
        import struct
        buf = b""
        while True:
            data = tls.recv(65536)
            if not data:
                break
            buf += data
            while len(buf) >= 4 and len(buf) >= 4 + struct.unpack(">I", buf[:4])[0]:
                n = struct.unpack(">I", buf[:4])[0]
                frame, buf = json.loads(buf[4:4 + n]), buf[4 + n:]
                fid = frame["id"]
                self.seen[fid] = self.seen.get(fid, 0) + 1
                if int(fid.rsplit("-", 1)[1]) % 3 == 0 and self.seen[fid] == 1:
                    reply = {"v": 1, "kind": "nack", "id": fid,
                             "error": {"code": "overloaded", "message": "shutting down; retry later"}}
                else:
                    reply = {"v": 1, "kind": "ack", "id": fid, "status": "accepted"}
                out = json.dumps(reply).encode()
                tls.sendall(struct.pack(">I", len(out)) + out)


class Suite:
    def __init__(self, work: str, bin_dir: str, heartbeats: int, results: Results) -> None:
        self.work, self.bin, self.heartbeats, self.r = work, bin_dir, heartbeats, results
        self.certs = f"{work}/certs"
        self.servers: List[Ingest] = []
        run([f"{bin_dir}/dudao", "certs", "init", self.certs, "--integrator", INTEGRATOR, "--integrator", LIMITED])
        with open(f"{ROOT}/deploy/access.json") as f:
            access = json.load(f)
        access["identities"][INTEGRATOR] = {"feeds": ["registry.*", "population.*", "preschool.*", "compulsory.*",
                                                      "special.*", "finance.*", "survey.*", "talent.*", "project.*",
                                                      "safety.*"]}
        access["identities"][LIMITED] = {"feeds": ["safety.heartbeat"]}
        with open(f"{work}/access.json", "w") as f:
            json.dump(access, f)
        self.ingest = self.server("ingest", free_port())

    def server(self, name: str, port: int, **kw: Any) -> Ingest:
        s = Ingest(self.work, self.bin, name, port, **kw)
        self.servers.append(s)
        s.start()
        return s

    def client(self, port: Optional[int] = None, identity: str = INTEGRATOR, **kw: Any) -> Client:
        kw.setdefault("log", lambda text: print(f"      client: {text}", flush=True))
        return Client("127.0.0.1", port or self.ingest.port, ca=f"{self.certs}/ca.pem",
                      cert=f"{self.certs}/{identity}.pem", key=f"{self.certs}/{identity}.key", **kw)

    def stop_all(self) -> None:
        for s in self.servers:
            s.stop()

    # 1 ----------------------------------------------------------------------------------------
    def every_feed_type(self) -> None:
        now = time.time()
        bodies = [
            ("registry.town", {"town_id": "pyc-town", "name": "测试镇", "kind": "town"}),
            ("registry.institution", {"institution_id": "pyc-kg-1", "name": "测试镇中心幼儿园", "town_id": "pyc-town",
                                      "level": "kindergarten", "ownership": "public", "town_central": True}),
            ("registry.institution", {"institution_id": "pyc-ps-1", "name": "测试镇中心小学", "town_id": "pyc-town",
                                      "level": "primary", "ownership": "public"}),
            ("population.cohort", {"town_id": "pyc-town", "year": 2025, "age_3": 120, "age_4": 130, "age_5": 125,
                                   "as_of": "2025-09-01T00:00:00+08:00"}),
            ("preschool.census", {"institution_id": "pyc-kg-1", "year": 2025, "classes": [
                {"class_id": "c1", "level": "small", "children": 25, "teachers": 2, "caregivers": 1},
                {"class_id": "c2", "level": "large", "children": 30, "teachers": 2, "caregivers": 1}],
                "full_time_teachers": 4, "caregivers": 2, "staff_total": 8, "certified_teachers": 4,
                "disabled_children_certified": 1}),
            ("compulsory.census", {"institution_id": "pyc-ps-1", "year": 2025, "students": 90, "migrant_students": 10,
                                   "classes": [{"class_id": "g1-1", "grade": 1, "students": 45},
                                               {"class_id": "g2-1", "grade": 2, "students": 45}]}),
            ("compulsory.retention", {"year": 2025, "grade9_students": 4100, "cohort_entrants": 4200}),
            ("special.population", {"year": 2025, "disabled_school_age": 100, "enrolled": 98, "home_delivered": 5,
                                    "disabled_preschool_age_certified": 20}),
            ("finance.year", {"year": 2025, "preschool_fiscal_wan": 11800.5, "education_fiscal_wan": 168000,
                              "public_kg_per_pupil_yuan": 600, "inclusive_private_subsidy_yuan": 500}),
            ("survey.recognition", {"year": 2025, "respondents": 1000, "satisfied": 900}),
            ("talent.year", {"year": 2025, "county_famous_teachers": 60, "city_excellent_teachers": 10,
                             "studios": {"provincial": 1, "city": 4, "county": 18}}),
            ("project.progress", {"project_id": "pyc-proj-1", "name": "测试幼儿园新建工程", "kind": "kindergarten",
                                  "seats_planned": 360, "seats_delivered": 0, "investment_planned_wan": 3000,
                                  "invested_wan": 1200, "due": "2025-08-31", "status": "building"}),
            ("safety.inventory", {"institution_id": "pyc-kg-1", "alarm_devices": ["pyc-alarm-1"],
                                  "cctv_police_linked": True, "cameras": 12, "cameras_linked": 12,
                                  "closed_management": True, "guards_required": 2, "guards_full_time": 2}),
            ("safety.heartbeat", {"device_id": "pyc-alarm-1", "institution_id": "pyc-kg-1", "device_kind": "alarm",
                                  "at": iso_ms(now - 5), "status": "ok"}),
            ("safety.alarm", {"device_id": "pyc-alarm-1", "institution_id": "pyc-kg-1", "at": iso_ms(now - 4),
                              "note": "测试报警"}),
        ]
        feeds = [make_envelope(t, b, prefix="pyc-1") for t, b in bodies]
        every = os.path.join(self.work, "every-type.jsonl")
        with open(every, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(feed, ensure_ascii=False) + "\n" for feed in feeds)
        schema = subprocess.run([sys.executable, os.path.join(ROOT, "deploy/docs/schemas/validate.py"), every],
                                capture_output=True, text=True)
        self.r.check("1. every feed valid against the JSON Schemas (deploy/docs/schemas, jsonschema draft 2020-12)",
                     schema.returncode == 0 and f"summary: {len(feeds)} valid, 0 invalid" in schema.stdout,
                     (schema.stdout + schema.stderr).strip()[-300:])
        with self.client() as c:
            got = c.send(feeds, window=32)
            types = sorted({t for t, _ in bodies})
            missing = sorted(set(SPEC_FEED_TYPES) - set(types))
            bad = [f"{o.type} {o.status} {o.code} {o.path} {o.message}" for o in got if o.status != "accepted"]
            self.r.check(f"1. every feed type of SPEC section 3 accepted ({len(types)} types, {len(feeds)} feeds, "
                         f"TLS {c.tls_version}, server {c.peer_identity})",
                         len(got) == len(feeds) and not bad and [o.id for o in got] == [f["id"] for f in feeds]
                         and not missing, "; ".join(bad) or (f"types not covered: {missing}" if missing else ", ".join(types)))
            again = c.send(feeds, window=32)
            self.r.check("1. the same feeds re-sent (same stable ids) are each answered duplicate",
                         [o.status for o in again] == ["duplicate"] * len(feeds),
                         ", ".join(sorted({o.status for o in again})))
            older = make_envelope("population.cohort", {"town_id": "pyc-town", "year": 2025, "age_3": 1, "age_4": 1,
                                                        "age_5": 1, "as_of": "2025-01-01T00:00:00+08:00"}, prefix="pyc-1")
            stale = c.send([older])
            self.r.check("1. an older version of a key (as_of before the stored one) is answered stale",
                         [o.status for o in stale] == ["stale"], str(stale[0]))

    # 2 ----------------------------------------------------------------------------------------
    def bad_feeds(self) -> None:
        now = time.time()
        census = {"institution_id": "pyc-kg-1", "year": 2024, "classes": [
            {"class_id": "c1", "level": "small", "children": 500, "teachers": 2, "caregivers": 1}],
            "full_time_teachers": 2, "caregivers": 1, "staff_total": 4, "certified_teachers": 2,
            "disabled_children_certified": 0}
        hb = lambda i, inst="pyc-kg-1", **extra: make_envelope("safety.heartbeat", dict(
            {"device_id": "pyc-alarm-2", "institution_id": inst, "device_kind": "alarm", "at": iso_ms(now - 60 + i),
             "status": "ok"}, **extra), prefix="pyc-2")
        cases = [  # (feed, expected status or code, expected path or None)
            (hb(1), "accepted", None),
            (make_envelope("preschool.census", census, prefix="pyc-2"), "invalid_field", "body.classes[0].children"),
            (hb(2), "accepted", None),
            (hb(3, inst="pyc-kg-never-registered"), "unknown_reference", None),
            (hb(4, colour="blue"), "invalid_field", None),
            (make_envelope("survey.recognition", {"year": 2024, "respondents": 10, "satisfied": 11}, prefix="pyc-2"),
             "invalid_field", None),
            (make_envelope("preschool.census", dict(census, institution_id="pyc-ps-1",
                                                    classes=[dict(census["classes"][0], children=20)]), prefix="pyc-2"),
             "invalid_field", None),
            (make_envelope("no.such.type", {"x": 1}, prefix="pyc-2"), "unknown_type", None),
            (dict(hb(5), v=2), "unsupported_version", None),
            (hb(6), "accepted", None),
        ]
        with self.client() as c:
            got = c.send([f for f, _, _ in cases], window=32)
        lines, ok = [], len(got) == len(cases)
        for (feed, want, path), o in zip(cases, got):
            status = o.status if o.ok else o.code
            good = status == want and (path is None or o.path == path) and o.id == feed["id"]
            ok = ok and good
            lines.append(f"{o.type} -> {status}" + (f" at {o.path}" if o.path else "") + ("" if good else f" (want {want} {path or ''})"))
        self.r.check("2. bad feeds nacked with the right code (and path), in order, between accepted ones", ok,
                     "; ".join(lines))
        first = got[1]
        self.r.check("2. body.classes[0].children = 500 -> nack invalid_field at body.classes[0].children",
                     first.status == "nack" and first.code == "invalid_field" and first.path == "body.classes[0].children",
                     f"{first.code} {first.path}: {first.message}")
        self.r.check("2. the nack carries message_zh beside message, naming the same field",
                     bool(first.message_zh) and "字段" in first.message_zh and "body.classes[0].children" in first.message_zh,
                     f"{first.message_zh!r}")
        with self.client(identity=LIMITED) as c:
            got = c.send([make_envelope("registry.town", {"town_id": "pyc-town-2", "name": "乙镇", "kind": "town"},
                                        prefix="pyc-2"), hb(7)])
        self.r.check("2. a feed type not granted in the access file is nacked forbidden (the next one accepted)",
                     [o.code if not o.ok else o.status for o in got] == ["forbidden", "accepted"],
                     "; ".join(f"{o.code or o.status}: {o.message or ''}" for o in got))
        big = make_envelope("safety.heartbeat", {"device_id": "pyc-alarm-3", "institution_id": "pyc-kg-1",
                                                 "device_kind": "alarm", "at": iso_ms(now - 30), "status": "ok",
                                                 "note": "x" * 1_100_000}, prefix="pyc-2")
        with self.client() as c:
            local = c.send([big, hb(8)])
        self.r.check("2. a frame above max_frame_bytes is refused by the client itself, not sent",
                     local[0].status == "nack" and local[0].code == "frame_too_large" and local[0].local
                     and local[1].status == "accepted", f"{local[0].code}: {local[0].message}; then {local[1].status}")
        with self.client(max_frame_bytes=4 << 20) as c:
            srv = c.send([big, hb(9), hb(10)])
            conns = c.connections
        self.r.check("2. ... and when sent anyway, the server's frame_too_large is reported for it; the client "
                     "reconnects and the feeds after it are accepted",
                     [o.code or o.status for o in srv] == ["frame_too_large", "accepted", "accepted"]
                     and not srv[0].local and conns == 2,
                     f"{'; '.join(f'{o.code or o.status}' for o in srv)}; connections {conns}; {srv[0].message}")

        fake = FakeIngest(f"{self.certs}/dudao-ingest.pem", f"{self.certs}/dudao-ingest.key", f"{self.certs}/ca.pem")
        try:
            with self.client(fake.port, backoff_initial=0.05) as c:
                streamed = list(c.stream([{"id": f"pyc-ov-{i}", "type": "safety.heartbeat", "body": {}} for i in range(30)],
                                         window=8))
        finally:
            fake.close()
        retried = sorted(o.index for o in streamed if o.attempts == 2)
        self.r.check("2. a feed answered overloaded is re-sent after a pause and then acknowledged (a fake server)",
                     len(streamed) == 30 and all(o.status == "accepted" for o in streamed)
                     and sorted(o.index for o in streamed) == list(range(30)) and retried == list(range(0, 30, 3)),
                     f"{len(streamed)} outcomes, all accepted: {all(o.ok for o in streamed)}, sent twice: {retried}")

    # 3 ----------------------------------------------------------------------------------------
    def kill_mid_stream(self) -> None:
        n, base = self.heartbeats, time.time() - 3600
        feeds = [make_envelope("safety.heartbeat", {"device_id": f"pyc-hb-dev-{i % 100}", "institution_id": "pyc-kg-1",
                                                    "device_kind": "alarm", "at": iso_ms(base + i / 1000.0),
                                                    "status": "ok"}, id=f"pyc-hb-{i:06d}") for i in range(n)]
        outcomes: List[Outcome] = []
        errors: List[BaseException] = []
        client = self.client(retries=12)

        def run_stream() -> None:
            try:
                for o in client.stream(feeds, window=64):
                    outcomes.append(o)
            except BaseException as exc:  # reported below
                errors.append(exc)

        t0 = time.time()
        worker = threading.Thread(target=run_stream)
        worker.start()
        kill_at = max(1, n // 4)
        while len(outcomes) < kill_at and worker.is_alive() and time.time() - t0 < 120:
            time.sleep(0.002)
        self.ingest.freeze_then_kill9(lambda: len(outcomes))
        at_kill = len(outcomes)
        killed = time.time()
        time.sleep(1.0)
        self.ingest.start()
        restarted = time.time() - killed
        worker.join(timeout=300)
        client.close()
        elapsed = time.time() - t0
        statuses: Dict[str, int] = {}
        for o in outcomes:
            statuses[o.status] = statuses.get(o.status, 0) + 1
        self.r.check(f"3. {n} heartbeats, window 64, kill -9 of dudao-ingest after {at_kill} answers, restarted on the "
                     f"same port and database after {restarted:.1f} s: the stream completes",
                     not worker.is_alive() and not errors and len(outcomes) == n and 0 < at_kill < n,
                     f"{len(outcomes)} outcomes in {elapsed:.1f} s, {statuses}; errors {errors[:1]}")
        self.r.check("3. the client reconnected and re-sent what was unanswered (same ids)",
                     client.reconnects >= 1 and client.resent >= 1 and client.connections >= 2,
                     f"reconnects {client.reconnects}, frames re-sent {client.resent}, connections {client.connections}, "
                     f"re-sent feeds answered duplicate {sum(1 for o in outcomes if o.attempts > 1 and o.status == 'duplicate')}, "
                     f"accepted {sum(1 for o in outcomes if o.attempts > 1 and o.status == 'accepted')}")
        acked = {o.id: o.status for o in outcomes if o.ok}
        log = self.read_log()
        mine = {fid: k for (sender, fid), k in log.items() if sender == INTEGRATOR and fid.startswith("pyc-hb-")}
        # Every heartbeat has its own `at`, later than the previous one of its device: none is stale.
        stale = [fid for fid, st in acked.items() if st == "stale"]
        once = sum(1 for fid, st in acked.items() if mine.get(fid, 0) == 1)
        lost = [fid for fid, st in acked.items() if st in ("accepted", "duplicate") and mine.get(fid, 0) == 0]
        twice = [fid for fid in acked if mine.get(fid, 0) > 1]
        unexpected = [fid for fid in mine if fid not in acked]
        self.r.check("3. every id reported acknowledged is in the ingest log exactly once (dudao tail)",
                     len(acked) == n and once == n and not lost and not twice and not unexpected and not stale,
                     f"{len(log)} log records read; acknowledged {len(acked)} (stale {len(stale)}), stored once {once}, "
                     f"lost {len(lost)}, "
                     f"stored twice {len(twice)}, stored but not acknowledged {len(unexpected)}"
                     + (f"; e.g. {(lost + twice + unexpected)[:3]}" if lost or twice or unexpected else ""))
        with self.client() as c:
            again = c.send(feeds, window=256)
        dup = sum(1 for o in again if o.status == "duplicate")
        self.r.check(f"3. re-sending all {n} ids afterwards: each is answered duplicate", dup == n,
                     f"duplicate {dup}, other {[str(o) for o in again if o.status != 'duplicate'][:3]}")

    def read_log(self) -> Dict[Any, int]:
        """(sender, feed_id) -> records in the ingest log, read with `dudao tail --to-head`."""
        proc = subprocess.run([f"{self.bin}/dudao", "tail", "--port", str(self.ingest.port), "--certs", self.certs,
                               "--identity", "operator", "--to-head"], capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"dudao tail failed: {proc.stderr[-1000:]}")
        counts: Dict[Any, int] = {}
        for line in proc.stdout.splitlines():
            if line.strip():
                body = json.loads(line)["body"]
                key = (body["sender"], body["feed_id"])
                counts[key] = counts.get(key, 0) + 1
        return counts

    # 4 ----------------------------------------------------------------------------------------
    def wrong_servers(self) -> None:
        pulled: List[int] = []

        def feeds() -> Any:
            for i in range(3):
                pulled.append(i)
                yield make_envelope("safety.heartbeat", {"device_id": "pyc-alarm-9", "institution_id": "pyc-kg-1",
                                                         "device_kind": "alarm", "at": iso_ms(time.time()),
                                                         "status": "ok"}, prefix="pyc-4")

        # (a) the real dudao-ingest, run with the dudao-safety certificate.
        impostor = self.server("ingest-as-safety", free_port(), certificate="dudao-safety",
                               database="data-impostor/ingest.sqlite")
        err = self.refused(impostor.port, feeds, pulled)
        tail = subprocess.run([f"{self.bin}/dudao", "tail", "--port", str(impostor.port), "--certs", self.certs,
                               "--server-identity", "dudao-safety", "--to-head"],
                              capture_output=True, text=True, timeout=60)
        stored = len([line for line in tail.stdout.splitlines() if line.strip()])
        self.r.check("4. dudao-ingest presenting the dudao-safety certificate: refused by the client before any "
                     "feed is sent", isinstance(err, WrongServerError) and not pulled and tail.returncode == 0
                     and stored == 0, f"{type(err).__name__}: {err}; feeds taken from the iterable {len(pulled)}; "
                                      f"records in that server's log {stored}")
        impostor.stop()

        # (b)-(d) stub servers that count the bytes they receive.
        other_ca = f"{self.work}/other-ca"
        run([f"{self.bin}/dudao", "certs", "init", other_ca])
        elsewhere = f"{self.work}/elsewhere"
        shutil.copytree(self.certs, elsewhere)
        run([f"{self.bin}/dudao", "certs", "issue", elsewhere, "dudao-ingest", "--dns", "ingest.elsewhere.test",
             "--force"])
        stubs = [
            ("a server with the dudao-safety certificate", f"{self.certs}/dudao-safety", {}, WrongServerError),
            ("a dudao-ingest certificate whose SAN lacks the host dialled (127.0.0.1)", f"{elsewhere}/dudao-ingest", {},
             TLSError),
            ("a dudao-ingest certificate signed by another CA", f"{other_ca}/dudao-ingest", {}, TLSError),
        ]
        for what, stem, kw, want in stubs:
            stub = StubServer(f"{stem}.pem", f"{stem}.key", f"{self.certs}/ca.pem")
            err = self.refused(stub.port, feeds, pulled, **kw)
            time.sleep(0.2)
            stub.close()
            self.r.check(f"4. {what}: refused before any feed is sent", isinstance(err, want) and not pulled
                         and stub.bytes_received == 0,
                         f"{type(err).__name__}: {err}; application bytes the server received {stub.bytes_received}")
        # The SAN check is what refused the 'elsewhere' one: without it, the CN matches and it is accepted.
        stub = StubServer(f"{elsewhere}/dudao-ingest.pem", f"{elsewhere}/dudao-ingest.key", f"{self.certs}/ca.pem")
        try:
            with self.client(stub.port, check_host=False) as c:
                c.connect()
                self.r.check("4. ... that certificate is accepted with check_host=False (its CN is dudao-ingest)",
                             c.peer_identity == "dudao-ingest", f"peer {c.peer_identity}")
        except Exception as exc:
            self.r.check("4. ... that certificate is accepted with check_host=False (its CN is dudao-ingest)", False,
                         f"{type(exc).__name__}: {exc}")
        stub.close()
        # The CLI says so and exits 2.
        impostor.start()
        path = f"{self.work}/one.jsonl"
        with open(path, "w") as f:
            f.write(json.dumps(next(iter(feeds())), ensure_ascii=False) + "\n")
        pulled.clear()
        proc = subprocess.run([sys.executable, "-m", "dudao_client", "--port", str(impostor.port), *self.cli_tls(), path],
                              capture_output=True, text=True, timeout=60, cwd=HERE)
        self.r.check("4. dudao-send-py against the wrong server: exit 2 and the reason", proc.returncode == 2
                     and "expected identity dudao-ingest, it presented dudao-safety" in proc.stderr,
                     f"exit {proc.returncode}: {proc.stderr.strip()}")
        impostor.stop()

    def refused(self, port: int, feeds: Callable[[], Any], pulled: List[int], **kw: Any) -> Optional[BaseException]:
        pulled.clear()
        try:
            with self.client(port, retries=0, **kw) as c:
                c.send(feeds())
        except Exception as exc:
            return exc
        return None

    def cli_tls(self) -> List[str]:
        return ["--ca", f"{self.certs}/ca.pem", "--cert", f"{self.certs}/{INTEGRATOR}.pem",
                "--key", f"{self.certs}/{INTEGRATOR}.key"]

    # 5 ----------------------------------------------------------------------------------------
    def pip_install(self) -> None:
        pkg, venv = f"{self.work}/pkg", f"{self.work}/venv"
        # A copy, so the build leaves nothing (build/, *.egg-info) in the repository.
        shutil.copytree(HERE, pkg, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "test_*.py"))
        run([sys.executable, "-m", "venv", venv])
        pip = [f"{venv}/bin/python", "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        proc = subprocess.run(pip + [pkg], capture_output=True, text=True, timeout=600)
        how = "pip install DIR"
        if proc.returncode != 0:
            # No network for the isolated build's setuptools: build with the venv's own.
            how = f"pip install --no-build-isolation DIR (plain install failed: {proc.stderr.strip()[-200:]})"
            proc = subprocess.run(pip + ["--no-build-isolation", "--no-index", pkg], capture_output=True, text=True,
                                  timeout=600)
        script = f"{venv}/bin/dudao-send-py"
        self.r.check("5. the package installs with pip into a fresh venv", proc.returncode == 0 and os.access(script, os.X_OK),
                     f"{how}; {proc.stderr.strip()[-300:]}" if proc.returncode else how)
        if proc.returncode != 0:
            return
        where = subprocess.run([f"{venv}/bin/python", "-c", "import dudao_client; print(dudao_client.__file__)"],
                               capture_output=True, text=True, cwd=self.work)
        helped = subprocess.run([script, "--help"], capture_output=True, text=True, cwd=self.work)
        self.r.check("5. dudao-send-py --help runs from the venv (package imported from site-packages)",
                     helped.returncode == 0 and "--server-name" in helped.stdout and "site-packages" in where.stdout,
                     where.stdout.strip())
        good = f"{self.work}/good.jsonl"
        now = time.time()
        with open(good, "w") as f:
            with open(f"{ROOT}/deploy/sample/data/01-towns.jsonl") as towns:
                f.write(towns.read())
            for i in range(3):
                f.write(json.dumps(make_envelope("safety.heartbeat", {
                    "device_id": "pyc-alarm-5", "institution_id": "pyc-kg-1", "device_kind": "alarm",
                    "at": iso_ms(now - 20 + i), "status": "ok"}, prefix="pyc-5"), ensure_ascii=False) + "\n")
        args = ["--port", str(self.ingest.port), *self.cli_tls()]
        first = subprocess.run([script, *args, good], capture_output=True, text=True, timeout=120, cwd=self.work)
        second = subprocess.run([f"{venv}/bin/python", "-m", "dudao_client", *args, "--window", "4", good],
                                capture_output=True, text=True, timeout=120, cwd=self.work)
        summary = lambda p: (p.stdout.strip().splitlines() or ["(no output)"])[-1]
        self.r.check("5. dudao-send-py sends a file: one line per feed, summary, exit 0; python -m dudao_client "
                     "re-sends it: all duplicate",
                     first.returncode == 0 and summary(first).startswith("summary: 14 lines: 14 accepted")
                     and len(first.stdout.strip().splitlines()) == 15 and second.returncode == 0
                     and summary(second).startswith("summary: 14 lines: 0 accepted, 14 duplicate"),
                     f"{summary(first)} (exit {first.returncode}); {summary(second)} (exit {second.returncode}) "
                     f"{first.stderr.strip()[-300:]}{second.stderr.strip()[-300:]}")
        bad = f"{self.work}/bad.jsonl"
        with open(bad, "w") as f:
            f.write(json.dumps({"v": 1, "kind": "feed", "id": "pyc-5-bad", "type": "preschool.census", "body": {
                "institution_id": "pyc-kg-1", "year": 2023, "classes": [
                    {"class_id": "c1", "level": "small", "children": 500, "teachers": 2, "caregivers": 1}],
                "full_time_teachers": 2, "caregivers": 1, "staff_total": 4, "certified_teachers": 2,
                "disabled_children_certified": 0}}) + "\n")
            f.write("{not json\n")
            f.write(json.dumps({"device_id": "pyc-alarm-5", "institution_id": "pyc-kg-1", "device_kind": "alarm",
                                "at": iso_ms(now - 10), "status": "ok"}) + "\n")
        third = subprocess.run([script, *args, bad], capture_output=True, text=True, timeout=120, cwd=self.work)
        bare = subprocess.run([script, *args, "--type", "safety.heartbeat", "--quiet", bad], capture_output=True,
                              text=True, timeout=120, cwd=self.work)
        out = third.stdout
        order = [line.split("\t")[0].rsplit(":", 1)[-1] for line in out.strip().splitlines()[:-1]]
        self.r.check("5. a file with a bad feed: its line is a nack with code and path, lines in file order, exit 1",
                     third.returncode == 1 and "bad.jsonl:1\tpyc-5-bad\tnack\tinvalid_field\tbody.classes[0].children" in out
                     and "bad.jsonl:2\tNone\tnack\tmalformed_json" in out and order == ["1", "2", "3"],
                     " | ".join(out.strip().splitlines()) + f" (exit {third.returncode})")
        self.r.check("5. --type T sends bare bodies with stable ids (--quiet prints nacks and the summary)",
                     bare.returncode == 1 and "1 accepted" in summary(bare) and "\taccepted" not in bare.stdout,
                     " | ".join(bare.stdout.strip().splitlines()) + f" (exit {bare.returncode})")


def run(args: List[str]) -> None:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("DUDAO_BIN", f"{ROOT}/.build/debug"),
                        help="folder with dudao and dudao-ingest (env DUDAO_BIN; default: %(default)s)")
    parser.add_argument("--heartbeats", type=int, default=5000, help="heartbeats in the kill -9 test (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    bin_dir = os.path.abspath(args.bin)
    for exe in ("dudao", "dudao-ingest"):
        if not os.access(f"{bin_dir}/{exe}", os.X_OK):
            print(f"test_python_client: {bin_dir}/{exe} not found (set DUDAO_BIN or --bin)", file=sys.stderr)
            return 2
    work = tempfile.mkdtemp(prefix="dudao-pyclient-")
    print(f"python client tests: binaries {bin_dir}, work folder {work}", flush=True)
    results = Results()
    suite: Optional[Suite] = None
    crashed = None
    try:
        suite = Suite(work, bin_dir, args.heartbeats, results)
        for step in (suite.every_feed_type, suite.bad_feeds, suite.kill_mid_stream, suite.wrong_servers, suite.pip_install):
            try:
                step()
            except Exception as exc:  # a step that blew up is a failed check; go on with the others
                import traceback
                traceback.print_exc()
                results.check(f"{step.__name__} ran to the end", False, f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        crashed = exc
        results.check("setup (certificates, access file, dudao-ingest started)", False, f"{type(exc).__name__}: {exc}")
    finally:
        if suite is not None:
            suite.stop_all()
    failed = len(results.failed)
    print(f"python client tests: {results.count} checks, {failed} failed" + (f" ({', '.join(results.failed)})" if failed else ""))
    if failed or args.keep or crashed:
        print(f"python client tests: work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(f"python client tests: {'FAILED' if failed else 'passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
