#!/usr/bin/env python3
"""Multi-host test (issue 9, "How it is shown"): the services on four hosts of their own.

Five network namespaces made here with iproute2 (root required), joined by a bridge that lives
in its own namespace, so nothing is added to the machine's own network:

    dd-sw    bridge br0 (veths sw-edu, sw-psb, sw-town, sw-hook)
    dd-edu   10.231.0.10  ingest.edu.test indicators.edu.test notify.edu.test   the education bureau
    dd-psb   10.231.0.20  safety.psb.test                                       the public security bureau
    dd-town  10.231.0.30  town.test                                             integrators (town office, alarm platform)
    dd-hook  10.231.0.40  hook.test                                             the departments' webhook receiver

Host names come from /etc/netns/<ns>/hosts (`ip netns exec` bind-mounts it over /etc/hosts).
Certificates are made as an operator would: a key and a request on each host
(`dudao certs request`), signed on the CA host (`dudao certs sign`), ca.pem and the certificate
copied back; keys never leave the host folder they were made in.

Then: feeds end to end to the webhook; the link of the safety host cut for longer than
offline_after while heartbeats keep being acknowledged (no acked feed lost, no storm of offline
alerts); impostor servers presenting another identity's valid certificate refused by every
client (CLI, dudao-safety, dudao-indicators); an integrator revoked and refused after SIGHUP,
with the same ingest PID.

    deploy/multihost/multihost.py [--bin .build/debug] [--keep] [--timeout 600]

Everything it made (namespaces, /etc/netns/dd-*, processes, the temp folder unless --keep) is
removed at exit, and leftovers of an aborted run are removed at start. Final line:
`multihost: N passed, M failed`; exit 1 on any failure.
"""
import argparse, atexit, ctypes, hashlib, hmac, http.client, http.server, json, os, queue, shutil, signal, socket, ssl, struct, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, f"{ROOT}/deploy/soak")
import soak  # noqa: E402  (the independent Python client of the soak: framing and replies)
EXECUTABLES = ["dudao", "dudao-ingest", "dudao-indicators", "dudao-safety", "dudao-notify"]

SWITCH = "dd-sw"
HOSTS = {  # namespace -> (veth in the switch, address, host names)
    "dd-edu": ("sw-edu", "10.231.0.10", ["ingest.edu.test", "indicators.edu.test", "notify.edu.test", "edu.test"]),
    "dd-psb": ("sw-psb", "10.231.0.20", ["safety.psb.test"]),
    "dd-town": ("sw-town", "10.231.0.30", ["town.test"]),
    "dd-hook": ("sw-hook", "10.231.0.40", ["hook.test"]),
}
NAMESPACES = [SWITCH] + list(HOSTS)
EDU, PSB, TOWN, HOOK = (HOSTS[n][1] for n in ("dd-edu", "dd-psb", "dd-town", "dd-hook"))
PORTS = {"dudao-ingest": 7401, "dudao-indicators": 7402, "dudao-safety": 7403, "dudao-notify": 7404}
METRICS = {"dudao-ingest": 9401, "dudao-indicators": 9402, "dudao-safety": 9403, "dudao-notify": 9404}
HOOK_PORT = 8080
HOOK_SECRET = "multihost-secret"
OFFLINE_AFTER = 10  # s; the consumer takes 5 s of silence (no record, no keepalive) as a lost link
CUT_SECONDS = 20
QUIET_BEFORE_ALARM = 40
TOWN_ID = "dongcheng"
KINDERGARTENS = [f"mh-kg-{i}" for i in (1, 2, 3)]
DEVICES = [(kg, f"{kg}-alarm-{s}") for kg in KINDERGARTENS for s in ("a", "b")]


def log(msg):
    print(f"multihost: {msg}", flush=True)


def run(args, check=True, timeout=60, **kw):
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {result.returncode}: {result.stderr.strip() or result.stdout.strip()}")
    return result


def utc(t=None, ms=None):
    t = time.time() if t is None else t
    ms = int(t * 1000) % 1000 if ms is None else ms
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{ms:03d}Z"


def feed(fid, ftype, body):
    return {"v": 1, "kind": "feed", "id": fid, "type": ftype, "body": body}


# ---------------------------------------------------------------- results

class Results:
    def __init__(self):
        self.passed, self.failed, self.lock = 0, [], threading.Lock()

    def check(self, name, ok, detail=""):
        with self.lock:
            if ok:
                self.passed += 1
                print(f"  ok    {name}{' — ' + detail if detail else ''}", flush=True)
            else:
                self.failed.append(name)
                print(f"  FAIL  {name}{' — ' + detail if detail else ''}", flush=True)
        return ok


# ---------------------------------------------------------------- network namespaces

_libc = ctypes.CDLL(None, use_errno=True)
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
CLONE_NEWNET = 0x40000000


class Netns:
    """A thread that has joined a network namespace: sockets it creates belong to that namespace
    (a socket keeps the namespace it was made in), so this process can be a client or server on
    any of the test's hosts without `ip netns exec`."""
    _all = {}

    @classmethod
    def get(cls, name):
        if name not in cls._all:
            cls._all[name] = Netns(name)
        return cls._all[name]

    def __init__(self, name):
        self.name, self.q = name, queue.Queue()
        ready = threading.Event()
        self.error = None

        def loop():
            fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    self.error = OSError(ctypes.get_errno(), f"setns({name})")
            finally:
                os.close(fd)
            ready.set()
            while True:
                fn, box = self.q.get()
                try:
                    box["result"] = fn()
                except BaseException as e:  # handed to the caller
                    box["error"] = e
                box["done"].set()

        threading.Thread(target=loop, daemon=True, name=f"netns-{name}").start()
        ready.wait()
        if self.error:
            raise self.error

    def call(self, fn):
        box = {"done": threading.Event()}
        self.q.put((fn, box))
        box["done"].wait()
        if "error" in box:
            raise box["error"]
        return box["result"]

    def connect(self, host, port, timeout=5):
        return self.call(lambda: socket.create_connection((host, port), timeout=timeout))

    def listen(self, host, port):
        return self.call(lambda: socket.create_server((host, port), reuse_port=False))


def http_get(ns, host, port, path, timeout=5):
    """GET from inside a namespace: (status, body)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.sock = Netns.get(ns).connect(host, port, timeout=timeout)
    conn.sock.settimeout(timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def ns_exists(name):
    return os.path.exists(f"/run/netns/{name}")


def cleanup_namespaces(quiet=False):
    for ns in NAMESPACES:
        if ns_exists(ns):
            # Processes left in our own namespaces by an aborted run of this test.
            pids = [int(p) for p in run(["ip", "netns", "pids", ns], check=False).stdout.split()]
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            deadline = time.time() + 5
            while pids and time.time() < deadline:
                pids = [p for p in pids if os.path.exists(f"/proc/{p}")]
                time.sleep(0.1)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            run(["ip", "netns", "del", ns], check=False)
            if not quiet:
                log(f"removed namespace {ns}")
        shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)
    try:
        os.rmdir("/etc/netns")  # only if we left it empty
    except OSError:
        pass


def build_network():
    for ns in NAMESPACES:
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
    run(["ip", "-n", SWITCH, "link", "add", "br0", "type", "bridge"])
    run(["ip", "-n", SWITCH, "link", "set", "br0", "up"])
    hosts_lines = ["127.0.0.1 localhost", "::1 localhost"] + [f"{addr} {' '.join(names)}" for _, addr, names in HOSTS.values()]
    for ns, (veth, addr, names) in HOSTS.items():
        # Both ends are made inside namespaces: sw-* in the switch, eth0 in the host.
        run(["ip", "-n", SWITCH, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        run(["ip", "-n", SWITCH, "link", "set", veth, "master", "br0"])
        run(["ip", "-n", SWITCH, "link", "set", veth, "up"])
        run(["ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        os.makedirs(f"/etc/netns/{ns}", exist_ok=True)
        with open(f"/etc/netns/{ns}/hosts", "w") as f:
            f.write("\n".join(hosts_lines + [f"127.0.1.1 {names[0]}"]) + "\n")


def set_link(ns, up):
    veth = HOSTS[ns][0]
    run(["ip", "-n", SWITCH, "link", "set", veth, "up" if up else "down"])


# ---------------------------------------------------------------- wire client (SPEC section 2)

class Wire(soak.Wire):
    """One mutual-TLS connection from a namespace: the soak's independent client, dialled inside `ns`."""

    def __init__(self, ns, host, port, certs, identity, timeout=10):
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=f"{certs}/ca.pem")
        ctx.check_hostname = False  # the product's own clients are what this test judges
        ctx.load_cert_chain(f"{certs}/{identity}.pem", f"{certs}/{identity}.key")
        raw = Netns.get(ns).connect(host, port, timeout=timeout)
        raw.settimeout(timeout)
        self.sock = ctx.wrap_socket(raw)
        self.buf = b""


def query(ns, host, port, certs, identity, qtype, body=None, timeout=10):
    wire = Wire(ns, host, port, certs, identity, timeout=timeout)
    try:
        reply = wire.request({"v": 1, "kind": "query", "id": "q", "type": qtype, "body": body or {}})
    finally:
        wire.close()
    if reply.get("kind") != "result":
        raise RuntimeError(f"{qtype}: {reply}")
    return reply["body"]


# ---------------------------------------------------------------- webhook receiver (runs in dd-hook)

def hook_serve(port, out, secret):
    """`ip netns exec dd-hook multihost.py --hook-serve`: records every POST as a JSON line."""
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            sig = self.headers.get("X-Dudao-Signature", "")
            good = hmac.compare_digest(sig[7:], hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())
            try:
                payload = json.loads(body)
            except ValueError:
                payload = {"unparsable": body.decode(errors="replace")}
            line = json.dumps({"t": time.time(), "path": self.path, "signature_ok": good,
                               "delivery": self.headers.get("X-Dudao-Delivery"), "event": self.headers.get("X-Dudao-Event"),
                               "peer": self.client_address[0], "body": payload}, ensure_ascii=False)
            with lock, open(out, "a") as f:
                f.write(line + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
    server.daemon_threads = True
    print(f"hook listening on {port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server.serve_forever()


def hook_posts(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------- impostor server

class Impostor:
    """A TLS server in a namespace presenting someone else's valid, CA-signed certificate.
    A client that completes the handshake with it has accepted it; one that sends a frame has
    trusted it with data."""

    def __init__(self, ns, host, port, cert, key, ca, label):
        self.label, self.host, self.port = label, host, port
        self.lock = threading.Lock()
        self.handshakes, self.frames, self.errors, self.peers = 0, 0, [], []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.load_verify_locations(ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        self.ctx = ctx
        self.sock = Netns.get(ns).listen(host, port)
        self.sock.settimeout(0.5)
        self.stopped = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while not self.stopped:
            try:
                conn, addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn, addr), daemon=True).start()

    def serve(self, conn, addr):
        conn.settimeout(5)
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            with self.lock:
                self.errors.append(f"{addr[0]}: {e}")
            conn.close()
            return
        with self.lock:
            self.handshakes += 1
            peer = tls.getpeercert() or {}
            cn = dict(x[0] for x in peer.get("subject", ())).get("commonName")
            self.peers.append(f"{addr[0]} as {cn}")
        try:
            data = tls.recv(65536)
            if data:
                with self.lock:
                    self.frames += 1
                # Answer like an ingest would, so a client that trusts us goes on talking.
                reply = json.dumps({"v": 1, "kind": "error", "error": {"code": "internal", "message": "impostor"}}).encode()
                tls.sendall(struct.pack(">I", len(reply)) + reply)
        except (ssl.SSLError, OSError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def summary(self):
        with self.lock:
            return f"{self.label}: {self.handshakes} handshakes completed, {self.frames} frames received, {len(self.errors)} refused"

    def stop(self):
        self.stopped = True
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- the system

class System:
    def __init__(self, work, bin_dir, results):
        self.work, self.bin, self.results = work, bin_dir, results
        self.procs = {}     # key -> (Popen, namespace, stderr path)
        self.started = {}
        self.ca = f"{work}/ca"
        self.dirs = {ns: f"{work}/hosts/{ns[3:]}" for ns in HOSTS}
        for d in self.dirs.values():
            os.makedirs(f"{d}/data", exist_ok=True)
        self.edu, self.psb, self.town, self.hook = (self.dirs[n] for n in ("dd-edu", "dd-psb", "dd-town", "dd-hook"))
        help_text = run([f"{bin_dir}/dudao", "certs", "--help"], check=False).stdout
        self.new_certs = "request" in help_text and "sign" in help_text
        self.has_revoke = "revoke" in help_text

    # certificates -------------------------------------------------------
    def make_certificates(self):
        dudao = f"{self.bin}/dudao"
        plan = [  # (namespace, identity, dns, ip)
            ("dd-edu", "dudao-ingest", ["ingest.edu.test"], [EDU]),
            ("dd-edu", "dudao-indicators", ["indicators.edu.test"], [EDU]),
            ("dd-edu", "dudao-notify", ["notify.edu.test"], [EDU]),
            ("dd-edu", "operator", [], []),
            ("dd-psb", "dudao-safety", ["safety.psb.test"], [PSB]),
            ("dd-town", "town-dongcheng", ["town.test"], [TOWN]),
            ("dd-town", "alarm-platform", [], []),
            ("dd-town", "kg-census-system", [], []),
        ]
        if not self.new_certs:
            # Waiting on `certs request/sign`: the old way, keys made at the CA and copied.
            run([dudao, "certs", "init", self.ca, "--integrator", "town-dongcheng", "--integrator", "alarm-platform",
                 "--integrator", "kg-census-system"])
            for ns, name, _, _ in plan:
                for ext in ("pem", "key"):
                    shutil.copy(f"{self.ca}/{name}.{ext}", f"{self.dirs[ns]}/{name}.{ext}")
                shutil.copy(f"{self.ca}/ca.pem", f"{self.dirs[ns]}/ca.pem")
            self.results.check("certificates made per host by `dudao certs request` + `dudao certs sign`", False,
                               "this build's `dudao certs --help` has no request/sign; used `certs init` and copied keys")
            return
        os.makedirs(f"{self.ca}/requests", exist_ok=True)
        for ns, name, dns, ips in plan:
            host = self.dirs[ns]
            args = [dudao, "certs", "request", name, "--out", host]
            for d in dns:
                args += ["--dns", d]
            for a in ips:
                args += ["--ip", a]
            # Made on the department's host (in its namespace, as its operator would).
            run(["ip", "netns", "exec", ns] + args)
            # The request travels to the CA host; the CA keeps what it signed (DIR/NAME.pem, for revoke).
            shutil.copy(f"{host}/{name}.csr", f"{self.ca}/{name}.csr")
            run([dudao, "certs", "sign", self.ca, f"{self.ca}/{name}.csr"])
            shutil.copy(f"{self.ca}/{name}.pem", f"{host}/{name}.pem")
            shutil.copy(f"{self.ca}/ca.pem", f"{host}/ca.pem")
        keys_in_ca = [f for f in os.listdir(self.ca) if f.endswith(".key") and f != "ca.key"]
        keys_ok = all(os.path.exists(f"{self.dirs[ns]}/{name}.key") and oct(os.stat(f"{self.dirs[ns]}/{name}.key").st_mode & 0o777) == "0o600"
                      for ns, name, _, _ in plan)
        self.results.check("certificates made per host by `dudao certs request` + `dudao certs sign`",
                           not keys_in_ca and keys_ok,
                           f"{len(plan)} identities; keys 0600 on their hosts; private keys in the CA folder besides ca.key: {keys_in_ca or 'none'}")
        # What the certificates say (openssl when present; informational).
        if shutil.which("openssl"):
            for ns, name in (("dd-edu", "dudao-ingest"), ("dd-town", "town-dongcheng")):
                text = run(["openssl", "x509", "-in", f"{self.dirs[ns]}/{name}.pem", "-noout", "-ext",
                            "subjectAltName,extendedKeyUsage"], check=False).stdout
                log(f"{name}.pem: {' '.join(text.split())}")
            town_eku = run(["openssl", "x509", "-in", f"{self.town}/town-dongcheng.pem", "-noout", "-ext", "extendedKeyUsage"], check=False).stdout
            ingest_eku = run(["openssl", "x509", "-in", f"{self.edu}/dudao-ingest.pem", "-noout", "-ext", "extendedKeyUsage"], check=False).stdout
            self.results.check("integrator certificate is clientAuth only, service certificate serverAuth + clientAuth",
                               "Client Authentication" in town_eku and "Server Authentication" not in town_eku
                               and "Server Authentication" in ingest_eku and "Client Authentication" in ingest_eku,
                               f"town-dongcheng: {' '.join(town_eku.split()[1:])}; dudao-ingest: {' '.join(ingest_eku.split()[1:])}")

    # configuration ------------------------------------------------------
    def write_configs(self):
        new = self.new_certs  # the build with issue 9's keys (strict configs may refuse unknown keys otherwise)
        access = json.load(open(f"{ROOT}/deploy/access.json"))
        for d in (self.edu, self.psb):
            json.dump(access, open(f"{d}/access.json", "w"), indent=1)
        with open(f"{self.edu}/revoked.json", "w") as f:
            json.dump({"serials": [], "identities": []}, f)

        def tls(name, revoked=False):
            t = {"ca": "ca.pem", "certificate": f"{name}.pem", "key": f"{name}.key"}
            if revoked and new:
                t["revoked"] = "revoked.json"
            return t

        def metrics(name, addr):
            return {"metrics": {"host": addr, "port": METRICS[name]}} if new else {}

        configs = {
            (self.edu, "dudao-ingest"): {
                "listen": {"host": EDU, "port": PORTS["dudao-ingest"]}, "tls": tls("dudao-ingest", revoked=True),
                "access_file": "access.json", "database": "data/ingest.sqlite",
                "consumers": ["dudao-indicators", "dudao-safety"],
                # No compaction during the test: every acked feed is read back from the log.
                "retention": {"event_days": 90, "compact_interval_seconds": 86400}, **metrics("dudao-ingest", EDU)},
            (self.edu, "dudao-indicators"): {
                "listen": {"host": EDU, "port": PORTS["dudao-indicators"]}, "tls": tls("dudao-indicators"),
                "access_file": "access.json", "database": "data/indicators.sqlite",
                "catalog": f"{ROOT}/deploy/catalog/enping-2023-2025.json",
                "ingest": {"host": "ingest.edu.test", "port": PORTS["dudao-ingest"]},
                "notify": {"host": "notify.edu.test", "port": PORTS["dudao-notify"]},
                "current_year": 2025, **metrics("dudao-indicators", EDU)},
            (self.edu, "dudao-notify"): {
                "listen": {"host": EDU, "port": PORTS["dudao-notify"]}, "tls": tls("dudao-notify"),
                "access_file": "access.json", "routes_file": "routes.json", "database": "data/notify.sqlite",
                "tick_seconds": 0.2,
                "delivery": {"concurrency": 8, "max_attempts": 1000, "backoff_initial_seconds": 0.5, "backoff_max_seconds": 2, "jitter": 0.2},
                **metrics("dudao-notify", EDU)},
            (self.psb, "dudao-safety"): {
                "listen": {"host": PSB, "port": PORTS["dudao-safety"]}, "tls": tls("dudao-safety"),
                "access_file": "access.json", "database": "data/safety.sqlite",
                "ingest": {"host": "ingest.edu.test", "port": PORTS["dudao-ingest"], **({"identity": "dudao-ingest"} if new else {})},
                "notify": {"host": "notify.edu.test", "port": PORTS["dudao-notify"], **({"identity": "dudao-notify"} if new else {})},
                "offline_after_seconds": OFFLINE_AFTER, "check_interval_seconds": 1, "hold_down_seconds": 2,
                **metrics("dudao-safety", PSB)},
        }
        if getattr(self, "notify_frame_timeout", None):
            configs[(self.edu, "dudao-notify")]["frame_timeout_seconds"] = self.notify_frame_timeout
        for (d, name), config in configs.items():
            json.dump(config, open(f"{d}/{name}.json", "w"), indent=1)
        hook = lambda dept: {"channels": [{"type": "webhook", "url": f"http://hook.test:{HOOK_PORT}/{dept}",
                                           "secret": HOOK_SECRET, "timeout_seconds": 10}]}
        # One message per alert, at once (no grouping, no inhibition): every offline alert is counted.
        routes = {
            "defaults": {"group_by": ["alert_key"], "group_wait_seconds": 0, "group_interval_seconds": 0.5,
                         "repeat_interval_seconds": 86400, "send_resolved": True},
            "routes": [{"match": {"event": "safety.*"}, "to": ["police", "town:*"]}, {"match": {}, "to": ["education"]}],
            "departments": {"police": hook("police"), "education": hook("education"),
                            "town:*": {"name": "{town_name}政府", "channels": hook("town-{town}")["channels"]}},
            "town_names": {TOWN_ID: "东成镇"},
        }
        json.dump(routes, open(f"{self.edu}/routes.json", "w"), indent=1, ensure_ascii=False)

    # processes ----------------------------------------------------------
    def start(self, key, ns, args, out_name, wait_for="listening on", timeout=60, env=None):
        host_dir = self.dirs[ns]
        out_path, err_path = f"{host_dir}/{out_name}.out", f"{host_dir}/{out_name}.log"
        out, err = open(out_path, "a"), open(err_path, "a")
        e = dict(os.environ, SWIFT_BACKTRACE="enable=no", **(env or {}))
        proc = subprocess.Popen(["ip", "netns", "exec", ns] + args, stdout=out, stderr=err, env=e, cwd=host_dir)
        self.procs[key] = (proc, ns, err_path)
        self.started[key] = time.time()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if wait_for is None:
                return proc
            if wait_for in open(out_path).read():
                return proc
            if proc.poll() is not None:
                raise RuntimeError(f"{key} exited {proc.returncode}: {open(err_path).read()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"{key} did not print '{wait_for}' within {timeout} s; see {err_path}")

    def start_service(self, name, ns, config=None, key=None):
        args = [f"{self.bin}/{name}"] + (["serve"] if name in ("dudao-indicators", "dudao-notify") else [])
        args += ["--config", config or f"{self.dirs[ns]}/{name}.json"]
        return self.start(key or name, ns, args, key or name)

    def stop(self, key, timeout=10):
        proc = self.procs.pop(key)[0]
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self):
        for key in list(self.procs):
            try:
                self.stop(key)
            except Exception:
                pass

    def log_text(self, key):
        return open(self.procs[key][2]).read() if key in self.procs else ""

    def cli(self, ns, args, certs, identity, timeout=30):
        return run(["ip", "netns", "exec", ns, f"{self.bin}/dudao"] + args + ["--certs", certs, "--identity", identity],
                   check=False, timeout=timeout)

    # queries ------------------------------------------------------------
    def ingest_status(self):
        return query("dd-edu", EDU, PORTS["dudao-ingest"], self.edu, "operator", "ingest.status")

    def safety(self, qtype, body=None):
        # From the safety host itself: answers also while its link is cut.
        return query("dd-psb", PSB, PORTS["dudao-safety"], self.edu, "operator", qtype, body)

    def notify_alerts(self, event):
        body = query("dd-edu", EDU, PORTS["dudao-notify"], self.edu, "operator", "alerts.list",
                     {"status": "all", "event": event, "limit": 1000})
        return body.get("alerts", [])


# ---------------------------------------------------------------- heartbeats from the alarm platform

class Heartbeats:
    """alarm-platform in dd-town: one heartbeat per device every second, pipelined on one
    connection; what is not acknowledged is sent again (same id) on a new connection."""

    def __init__(self, system, prefix):
        self.system, self.prefix = system, prefix
        self.lock = threading.Lock()
        self.acked = {}       # id -> (status, time acked, device, at)
        self.nacked = {}
        self.errors = []
        self.stop_event = threading.Event()
        self.round = 0
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def start(self):
        self.thread.start()

    def loop(self):
        wire, pending = None, []
        while not self.stop_event.is_set():
            started = time.time()
            if not pending:
                self.round += 1
                now = time.time()
                pending = [feed(f"{self.prefix}-{dev}-{self.round}", "safety.heartbeat",
                                {"device_id": dev, "institution_id": kg, "device_kind": "alarm", "at": utc(now), "status": "ok"})
                           for kg, dev in DEVICES]
            try:
                if wire is None:
                    wire = Wire("dd-town", EDU, PORTS["dudao-ingest"], self.system.town, "alarm-platform", timeout=5)
                wire.send_many(pending)
                while pending:
                    reply = wire.recv()
                    frame = pending.pop(0)
                    with self.lock:
                        if reply.get("kind") == "ack" and reply.get("id") == frame["id"]:
                            self.acked[frame["id"]] = (reply.get("status"), time.time(), frame["body"]["device_id"], frame["body"]["at"])
                        else:
                            self.nacked[frame["id"]] = reply
            except (OSError, ConnectionError, ValueError, ssl.SSLError) as e:
                with self.lock:
                    self.errors.append((time.time(), repr(e)))
                if wire:
                    wire.close()
                wire = None
                time.sleep(0.5)
                continue
            time.sleep(max(0.0, 1.0 - (time.time() - started)))
        if wire:
            wire.close()

    def acked_between(self, t0, t1):
        with self.lock:
            return sum(1 for s, t, _, _ in self.acked.values() if t0 <= t <= t1 and s == "accepted")

    def errors_since(self, t0):
        with self.lock:
            return [e for t, e in self.errors if t >= t0]


def read_log(system):
    """Every record of the ingest log, through a subscription as the operator."""
    wire = Wire("dd-edu", EDU, PORTS["dudao-ingest"], system.edu, "operator", timeout=20)
    wire.send({"v": 1, "kind": "subscribe", "id": "check", "body": {"from": 1, "credit": 1000000}})
    head = wire.recv()["body"]["head"]
    counts, seq = {}, 0
    while seq < head:
        frame = wire.recv()
        seq = frame["body"]["seq"]
        key = (frame["body"]["sender"], frame["body"]["feed_id"])
        counts[key] = counts.get(key, 0) + 1
    wire.close()
    return counts, head


def wait_for(predicate, seconds, interval=0.5):
    deadline = time.time() + seconds
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ConnectionError, ValueError, KeyError, TypeError, RuntimeError, ssl.SSLError):
            pass
        time.sleep(interval)
    return last


def offline_posts(posts, since=0):
    return [p for p in posts if p["t"] >= since and p["body"].get("event") in ("safety.device_offline", "safety.institution_offline")
            and p["body"].get("status", "firing") == "firing"]


# ---------------------------------------------------------------- scenario

def scenario(system, results, work):
    r = results
    hook_file = f"{system.hook}/posts.jsonl"

    # 1. hosts ------------------------------------------------------------
    names = run(["ip", "netns", "exec", "dd-psb", "getent", "hosts", "ingest.edu.test"], check=False).stdout.split()
    ping = run(["ip", "netns", "exec", "dd-psb", "ping", "-c", "1", "-W", "2", "notify.edu.test"], check=False) if shutil.which("ping") else None
    r.check("namespaces, bridge and host names: dd-psb resolves ingest.edu.test to 10.231.0.10",
            names[:1] == [EDU], f"getent: {' '.join(names)}" + (f"; ping notify.edu.test: rc {ping.returncode}" if ping else ""))
    root_links = [line.split(": ")[1].split("@")[0] for line in run(["ip", "-o", "link"]).stdout.splitlines() if ": " in line]
    ours = [l for l in root_links if l in ("br0",) or l.startswith("sw-")]
    r.check("no interface of the test in the root namespace", not ours, f"root namespace links: {' '.join(root_links)}")

    # 2. certificates and configuration ------------------------------------
    system.make_certificates()
    system.write_configs()

    # 3. services ----------------------------------------------------------
    system.start("hook", "dd-hook", [sys.executable, os.path.abspath(__file__), "--hook-serve", str(HOOK_PORT), hook_file, HOOK_SECRET],
                 "hook", wait_for="hook listening")
    system.start_service("dudao-ingest", "dd-edu")
    system.start_service("dudao-notify", "dd-edu")
    system.start_service("dudao-indicators", "dd-edu")
    system.start_service("dudao-safety", "dd-psb")
    ingest_pid = system.procs["dudao-ingest"][0].pid
    comm = open(f"/proc/{ingest_pid}/comm").read().strip()
    log(f"services up: ingest pid {ingest_pid} ({comm}) in dd-edu, safety in dd-psb, hook in dd-hook")

    if system.new_certs:
        for name, ns, addr in (("dudao-ingest", "dd-edu", EDU), ("dudao-safety", "dd-psb", PSB)):
            def get(path, ns=ns, addr=addr, name=name):
                return http_get(ns, addr, METRICS[name], path)
            try:
                ready = wait_for(lambda: get("/ready")[0] == 200, 20)
                st_ready, st_health = get("/ready"), get("/health")
                r.check(f"{name} /ready and /health on its own address ({addr}:{METRICS[name]})",
                        bool(ready) and st_health[0] == 200, f"/ready {st_ready[0]} {st_ready[1].strip()[:40]}, /health {st_health[0]} {st_health[1].strip()[:40]}")
            except OSError as e:
                r.check(f"{name} /ready and /health on its own address ({addr}:{METRICS[name]})", False, repr(e))

    # 4. feeds from the town host: registry and inventory through `dudao send` ---------
    with open(f"{system.town}/town.jsonl", "w") as f:
        f.write(json.dumps({"town_id": TOWN_ID, "name": "东成镇", "kind": "town"}, ensure_ascii=False) + "\n")
    with open(f"{system.town}/institutions.jsonl", "w") as f:
        for i, kg in enumerate(KINDERGARTENS):
            f.write(json.dumps({"institution_id": kg, "name": f"东成镇测试幼儿园{i + 1}", "town_id": TOWN_ID,
                                "level": "kindergarten", "ownership": "public", "town_central": i == 0}, ensure_ascii=False) + "\n")
    with open(f"{system.town}/inventory.jsonl", "w") as f:
        for kg in KINDERGARTENS:
            f.write(json.dumps({"institution_id": kg, "alarm_devices": [d for k, d in DEVICES if k == kg], "cctv_police_linked": True,
                                "cameras": 8, "cameras_linked": 8, "closed_management": True, "guards_required": 1, "guards_full_time": 1}) + "\n")
    target = ["--host", "ingest.edu.test", "--port", str(PORTS["dudao-ingest"])]
    sends = [("kg-census-system", "registry.town", "town.jsonl"), ("town-dongcheng", "registry.institution", "institutions.jsonl"),
             ("town-dongcheng", "safety.inventory", "inventory.jsonl")]
    outs = []
    for identity, ftype, fname in sends:
        res = system.cli("dd-town", ["send", "--type", ftype, f"{system.town}/{fname}"] + target, system.town, identity)
        outs.append((identity, ftype, res))
    r.check("`dudao send` from dd-town to ingest.edu.test (town, 3 kindergartens, 3 inventories)",
            all(res.returncode == 0 for _, _, res in outs),
            "; ".join(f"{i} {t}: rc {res.returncode} {' '.join((res.stdout + res.stderr).split())[:160]}" for i, t, res in outs))

    hb = Heartbeats(system, "hb1")
    hb.start()
    online = wait_for(lambda: system.safety("safety.status")["online"] == len(DEVICES), 30)
    st = system.safety("safety.status")
    r.check(f"heartbeats from dd-town reach dudao-safety in dd-psb: {len(DEVICES)} devices online",
            bool(online), f"safety.status online {st.get('online')} offline {st.get('offline')} position {st.get('position')}")

    # 5. an alarm, end to end to the webhook in dd-hook ----------------------------------
    # Pressed after a quiet spell longer than the servers' frame_timeout (30 s): safety's outbox
    # connection to notify has carried nothing since it opened, as in a quiet city at night.
    quiet = QUIET_BEFORE_ALARM - (time.time() - system.started["dudao-safety"])
    if quiet > 0:
        log(f"waiting {quiet:.0f} s: the alarm comes {QUIET_BEFORE_ALARM} s after dudao-safety started (nothing else for notify since)")
        time.sleep(quiet)
    alarm_dev = DEVICES[0]
    alarm_at = utc()
    pressed = time.time()
    wire = Wire("dd-town", EDU, PORTS["dudao-ingest"], system.town, "alarm-platform")
    reply = wire.request(feed("alarm-1", "safety.alarm", {"device_id": alarm_dev[1], "institution_id": alarm_dev[0], "at": alarm_at, "note": "multihost 门口"}))
    wire.close()
    r.check("safety.alarm acknowledged by the ingest", reply.get("status") == "accepted", json.dumps(reply, ensure_ascii=False))

    def alarm_posts():
        return [p for p in hook_posts(hook_file) if p["body"].get("event") == "safety.alarm"]
    got = wait_for(lambda: {p["path"] for p in alarm_posts()} >= {"/police", f"/town-{TOWN_ID}"}, 30)
    posts = alarm_posts()
    first = min((p["t"] for p in posts), default=None)
    r.check("the alarm reaches the webhook in dd-hook (police and the town), signed",
            bool(got) and all(p["signature_ok"] for p in posts),
            f"{len(posts)} POSTs to {sorted({p['path'] for p in posts})} from {sorted({p['peer'] for p in posts})}"
            + (f", {first - pressed:.2f} s after the press" if first else "")
            + (f"; summary: {posts[0]['body'].get('summary')}" if posts else ""))
    if not got:
        # What became of it: safety's outbox, notify's alerts, notify's log.
        try:
            held = system.notify_alerts("safety.alarm")
        except Exception as e:
            held = repr(e)
        cut = [l for l in system.log_text("dudao-notify").splitlines() if "slow peer" in l]
        log(f"alarm lost? safety open_alarms {system.safety('safety.status').get('open_alarms')}, safety outbox_pending "
            f"{system.safety('safety.status').get('outbox_pending')}, notify safety.alarm alerts {held}; "
            f"notify log: {' | '.join(cut) or 'no slow-peer cut'}; alarm pressed {time.time() - system.started['dudao-safety'] - (time.time() - pressed):.0f} s after dudao-safety started")

    # 6. the safety host's link cut for longer than offline_after ------------------------
    time.sleep(2)
    posts_before = offline_posts(hook_posts(hook_file))
    r.check("no offline alert while every link is up", not posts_before, f"{len(posts_before)} offline POSTs before the cut")
    base_head = system.ingest_status()["head"]
    t_cut = time.time()
    set_link("dd-psb", False)
    log(f"cut sw-psb (dd-psb <-> bridge) for {CUT_SECONDS} s; offline_after is {OFFLINE_AFTER} s; ingest head {base_head}")
    during = []
    while time.time() - t_cut < CUT_SECONDS:
        try:
            s = system.safety("safety.status")
            during.append((round(time.time() - t_cut, 1), s["online"], s["offline"], s.get("held_back"), s.get("outbox_pending")))
        except Exception as e:
            during.append((round(time.time() - t_cut, 1), "query failed", repr(e)))
        time.sleep(1)
    t_restore = time.time()
    set_link("dd-psb", True)
    acked_during = hb.acked_between(t_cut, t_restore)
    errors_during = hb.errors_since(t_cut)
    log("safety.status during the cut (s after cut, online, offline, held_back, outbox): "
        + "; ".join(str(x) for x in during))
    r.check("heartbeats acknowledged by the ingest all through the cut",
            acked_during >= (CUT_SECONDS - 3) * len(DEVICES) and not errors_during,
            f"{acked_during} heartbeats accepted in {t_restore - t_cut:.1f} s, client errors {len(errors_during)}")
    offline_seen = max((x[2] for x in during if isinstance(x[2], int)), default=0)

    # catch-up: the consumer reaches the log head again
    head_after = system.ingest_status()["head"]
    caught = wait_for(lambda: system.safety("safety.status")["position"] >= head_after, 60)
    caught_at = time.time()
    r.check("dudao-safety catches up with the ingest log after the link is restored",
            bool(caught), f"head {head_after} at restore+{caught_at - t_restore:.1f} s (position {system.safety('safety.status')['position']})")
    all_online = wait_for(lambda: system.safety("safety.status")["online"] == len(DEVICES), 30)
    # Leave time for what the cut might have queued to be delivered (safety outbox -> notify -> webhook).
    wait_for(lambda: system.safety("safety.status")["outbox_pending"] == 0 and time.time() - caught_at > OFFLINE_AFTER + 3, 40)
    st = system.safety("safety.status")
    devices = system.safety("safety.devices", {"scope": "city", "state": "all", "limit": 100})["devices"]
    r.check("every device online again after catch-up", bool(all_online),
            f"online {st['online']} offline {st['offline']}; " + ", ".join(f"{d['device_id']} {d['state']} last {d.get('last_seen')}" for d in devices))

    hb_state = {}
    with hb.lock:
        for fid, (status, t, dev, at) in hb.acked.items():
            if status == "accepted" and t <= caught_at - 2 and at > hb_state.get(dev, ""):
                hb_state[dev] = at
    behind = [f"{d['device_id']}: safety has {d.get('last_heartbeat_at')}, acked {hb_state.get(d['device_id'])}"
              for d in devices if d.get("last_heartbeat_at", "") < hb_state.get(d["device_id"], "")[:23]]
    r.check("dudao-safety holds every device's latest acknowledged heartbeat", not behind, "; ".join(behind) or f"{len(hb_state)} devices checked")

    off = offline_posts(hook_posts(hook_file), since=t_cut)
    alerts_off = []
    for event in ("safety.device_offline", "safety.institution_offline"):
        try:
            alerts_off += [(event, a.get("alert_key") or a.get("alert_id")) for a in system.notify_alerts(event)]
        except Exception as e:
            alerts_off.append((event, f"alerts.list failed: {e!r}"))
    r.check("no storm of offline alerts at the webhook after a cut longer than offline_after",
            not off,
            f"{len(off)} offline POSTs since the cut ({', '.join(sorted({p['body'].get('event') + ' ' + p['path'] for p in off}))}); "
            f"notify holds {len(alerts_off)} offline alerts {alerts_off[:8]}; safety counted up to {offline_seen} devices offline during the cut")

    # no acked feed lost: every accepted feed in the log exactly once
    hb.stop_event.set()
    hb.thread.join(timeout=10)
    counts, head = read_log(system)
    with hb.lock:
        accepted = [fid for fid, (s, _, _, _) in hb.acked.items() if s == "accepted"]
        nacked = dict(hb.nacked)
    missing = [fid for fid in accepted if counts.get(("alarm-platform", fid), 0) != 1]
    r.check("no acknowledged feed lost: every accepted heartbeat is in the ingest log once",
            not missing and not nacked, f"{len(accepted)} accepted, {len(missing)} missing or doubled {missing[:5]}, {len(nacked)} refused, log head {head}")
    final_head = system.ingest_status()
    r.check("both consumers reach the head", all(final_head["consumers"].get(c, 0) >= final_head["head"] for c in ("dudao-indicators", "dudao-safety")) or
            bool(wait_for(lambda: all((s := system.ingest_status())["consumers"].get(c, 0) >= s["head"] for c in ("dudao-indicators", "dudao-safety")), 30)),
            f"{system.ingest_status()}")
    hb = Heartbeats(system, "hb2")
    hb.start()

    # 7. wrong identity: impostors with valid CA-signed certificates ---------------------
    impostor_a = Impostor("dd-edu", EDU, 7501, f"{system.edu}/dudao-notify.pem", f"{system.edu}/dudao-notify.key", f"{system.edu}/ca.pem",
                          "impostor A (dd-edu 10.231.0.10:7501, dudao-notify's certificate)")
    impostor_b = Impostor("dd-town", TOWN, 7501, f"{system.town}/town-dongcheng.pem", f"{system.town}/town-dongcheng.key", f"{system.town}/ca.pem",
                          "impostor B (dd-town town.test:7501, town-dongcheng's certificate)")
    impostor_n = Impostor("dd-town", TOWN, 7504, f"{system.town}/town-dongcheng.pem", f"{system.town}/town-dongcheng.key", f"{system.town}/ca.pem",
                          "impostor N (dd-town town.test:7504, town-dongcheng's certificate, posing as dudao-notify)")
    try:
        for ns, host, imp, certs, ident, who in (("dd-edu", EDU, impostor_a, system.edu, "operator", "dudao-notify"),
                                                  ("dd-edu", "town.test", impostor_b, system.edu, "operator", "town-dongcheng")):
            for args in (["--ingest", f"{host}:7501", "--ingest-only"], ["--host", host, "--port", "7501", "--ingest-only"],
                         ["--ingest", f"{host}:7501", "--indicators", "indicators.edu.test:7402", "--safety", "safety.psb.test:7403",
                          "--notify", "notify.edu.test:7404"]):
                before = (imp.handshakes, imp.frames, len(imp.errors))
                res = system.cli(ns, ["status"] + args, certs, ident, timeout=30)
                text = " ".join((res.stdout + res.stderr).split())
                # Refused = it dialled the impostor (a handshake, completed or not) and sent it nothing.
                reached = imp.handshakes + len(imp.errors) > before[0] + before[2]
                r.check(f"`dudao status {' '.join(args)}` refuses {imp.label.split(' (')[0]} ({who}'s certificate)",
                        res.returncode != 0 and reached and imp.frames == before[1],
                        f"rc {res.returncode}; impostor reached: {reached}, +{imp.handshakes - before[0]} handshakes completed, +{imp.frames - before[1]} frames; says: {text[:300]}")
                r.check(f"  ... `dudao status {' '.join(args[:2])}` names the expected (dudao-ingest) and presented ({who}) identity",
                        "dudao-ingest" in text and who in text, text[:300])
        before = (impostor_b.handshakes, impostor_b.frames, len(impostor_b.errors))
        res = system.cli("dd-town", ["send", "--type", "registry.town", f"{system.town}/town.jsonl", "--host", "town.test", "--port", "7501"],
                         system.town, "kg-census-system", timeout=30)
        text = " ".join((res.stdout + res.stderr).split())
        r.check("`dudao send` (integrator kg-census-system) refuses impostor B and sends it nothing",
                res.returncode != 0 and impostor_b.frames == before[1] and impostor_b.handshakes + len(impostor_b.errors) > before[0] + before[2],
                f"rc {res.returncode}; impostor: +{impostor_b.handshakes - before[0]} handshakes, +{impostor_b.frames - before[1]} frames; says: {text[:300]}")
        r.check("  ... `dudao send` names the expected (dudao-ingest) and presented (town-dongcheng) identity",
                "dudao-ingest" in text and "town-dongcheng" in text, text[:300])

        # Services pointed at impostors: each in its own folder and database, then stopped.
        mis = []
        base_safety = json.load(open(f"{system.psb}/dudao-safety.json"))
        base_ind = json.load(open(f"{system.edu}/dudao-indicators.json"))
        def variant(base, d, name, port, changes):
            c = json.loads(json.dumps(base))
            c["listen"]["port"] = port
            c["database"] = f"data/{name}.sqlite"
            c.pop("metrics", None)
            for k, v in changes.items():
                c[k] = v
            path = f"{d}/{name}.json"
            json.dump(c, open(path, "w"), indent=1)
            return path
        plans = [
            ("safety-to-impostor-a", "dudao-safety", "dd-psb", system.psb, base_safety,
             {"ingest": {"host": EDU, "port": 7501}}, impostor_a, "dudao-ingest", "dudao-notify"),
            ("indicators-to-impostor-b", "dudao-indicators", "dd-edu", system.edu, base_ind,
             {"ingest": {"host": "town.test", "port": 7501}}, impostor_b, "dudao-ingest", "town-dongcheng"),
            ("safety-notify-impostor-n", "dudao-safety", "dd-psb", system.psb, base_safety,
             {"notify": {"host": "town.test", "port": 7504}}, impostor_n, "dudao-notify", "town-dongcheng"),
        ]
        for i, (key, exe, ns, d, base, changes, imp, expected, presented) in enumerate(plans):
            path = variant(base, d, key, 7411 + i, changes)
            try:
                system.start_service(exe, ns, config=path, key=key)
                mis.append((key, exe, imp, expected, presented))
            except RuntimeError as e:
                r.check(f"{exe} pointed at {imp.label.split(' (')[0]} starts (to be refused)", False, str(e)[:300])
        # safety-notify-impostor-n replays the real log (with the alarm) and must refuse to hand its events over.
        time.sleep(12)
        for key, exe, imp, expected, presented in mis:
            text = system.log_text(key)
            lines = [l for l in text.splitlines() if expected in l and presented in l]
            alive = system.procs[key][0].poll() is None
            # Refused = not one frame sent to it (a CN check after a completed handshake is a refusal too).
            r.check(f"{exe} refuses {imp.label}", imp.frames == 0 and (imp.handshakes or imp.errors),
                    f"{imp.summary()}; still running: {alive}")
            r.check(f"  ... and logs a refusal naming expected {expected} and presented {presented}", bool(lines),
                    (lines[0][:300] if lines else f"no such line in {system.procs[key][2]}; last lines: {' | '.join(text.splitlines()[-3:])[:400]}"))
        for key, *_ in mis:
            system.stop(key)
        # The misdirected safety followed the real ingest as dudao-safety; the real one goes on.
    finally:
        for imp in (impostor_a, impostor_b, impostor_n):
            imp.stop()

    # and the product's clients do accept the real servers under their names (positive control)
    res = system.cli("dd-town", ["status", "--ingest", "ingest.edu.test:7401", "--indicators", "indicators.edu.test:7402",
                                 "--safety", "safety.psb.test:7403", "--notify", "notify.edu.test:7404"], system.edu, "operator")
    r.check("`dudao status` from dd-town reaches the four real services under their host names", res.returncode == 0,
            f"rc {res.returncode}: {' '.join((res.stdout + res.stderr).split())[:200]}")

    # 8. revocation with SIGHUP ------------------------------------------------------------
    def sends_ok(identity, fid):
        """A new connection as `identity` (from dd-town): the ingest's answer, or the refusal."""
        try:
            w = Wire("dd-town", EDU, PORTS["dudao-ingest"], system.town, identity, timeout=5)
            try:
                body = {"institution_id": KINDERGARTENS[1], "alarm_devices": [d for k, d in DEVICES if k == KINDERGARTENS[1]],
                        "cctv_police_linked": True, "cameras": 8, "cameras_linked": 8, "closed_management": True,
                        "guards_required": 1, "guards_full_time": 1, "as_of": utc()}
                ftype = "safety.inventory"
                if identity == "kg-census-system":
                    ftype, body = "registry.town", {"town_id": TOWN_ID, "name": "东成镇", "kind": "town", "as_of": utc()}
                reply = w.request(feed(fid, ftype, body))
                return reply.get("kind") == "ack", json.dumps(reply, ensure_ascii=False)[:160]
            finally:
                w.close()
        except (OSError, ConnectionError, ssl.SSLError, ValueError) as e:
            return False, repr(e)[:200]

    ok_t, detail_t = sends_ok("town-dongcheng", "rev-before")
    r.check("town-dongcheng sends before revocation", ok_t, detail_t)
    open_town = Wire("dd-town", EDU, PORTS["dudao-ingest"], system.town, "town-dongcheng")
    open_alarm = Wire("dd-town", EDU, PORTS["dudao-ingest"], system.town, "alarm-platform")
    open_alarm.request(feed("rev-open-0", "safety.heartbeat", {"device_id": DEVICES[1][1], "institution_id": DEVICES[1][0],
                                                               "device_kind": "alarm", "at": utc(), "status": "ok"}))
    if not system.has_revoke:
        r.check("`dudao certs revoke` + SIGHUP cut town-dongcheng off", False, "this build's `dudao certs --help` has no revoke")
        return
    res = run([f"{system.bin}/dudao", "certs", "revoke", system.ca, "town-dongcheng"], check=False)
    log(f"certs revoke: {' '.join((res.stdout + res.stderr).split())}")
    r.check("`dudao certs revoke CADIR town-dongcheng` writes CADIR/revoked.json", res.returncode == 0 and os.path.exists(f"{system.ca}/revoked.json"),
            open(f"{system.ca}/revoked.json").read().replace("\n", " ") if os.path.exists(f"{system.ca}/revoked.json") else res.stderr)
    shutil.copy(f"{system.ca}/revoked.json", f"{system.edu}/revoked.json.new")
    os.replace(f"{system.edu}/revoked.json.new", f"{system.edu}/revoked.json")
    proc = system.procs["dudao-ingest"][0]
    log_before = len(system.log_text("dudao-ingest"))
    os.kill(ingest_pid, signal.SIGHUP)
    refused = wait_for(lambda: not sends_ok("town-dongcheng", f"rev-after-{time.time()}")[0], 10)
    ok_t, detail_t = sends_ok("town-dongcheng", "rev-after")
    r.check("after SIGHUP the ingest refuses revoked town-dongcheng at handshake", bool(refused) and not ok_t, detail_t)
    res = system.cli("dd-town", ["send", "--type", "safety.inventory", f"{system.town}/inventory.jsonl"] + target, system.town, "town-dongcheng")
    r.check("`dudao send` as town-dongcheng fails after revocation", res.returncode != 0,
            f"rc {res.returncode}: {' '.join((res.stdout + res.stderr).split())[:200]}")
    for ident in ("alarm-platform", "kg-census-system"):
        ok_o, detail_o = sends_ok(ident, f"rev-other-{ident}")
        r.check(f"{ident} still accepted after the reload", ok_o, detail_o)
    try:
        reply = open_alarm.request(feed("rev-open-1", "safety.heartbeat", {"device_id": DEVICES[1][1], "institution_id": DEVICES[1][0],
                                                                           "device_kind": "alarm", "at": utc(), "status": "ok"}))
        r.check("an alarm-platform connection open across the reload keeps working", reply.get("kind") == "ack", json.dumps(reply)[:160])
    except (OSError, ConnectionError, ssl.SSLError) as e:
        r.check("an alarm-platform connection open across the reload keeps working", False, repr(e))
    try:
        reply = open_town.request(feed("rev-open-town", "safety.inventory", {"institution_id": KINDERGARTENS[2], "alarm_devices": [d for k, d in DEVICES if k == KINDERGARTENS[2]],
                                                                            "cctv_police_linked": True, "cameras": 8, "cameras_linked": 8, "closed_management": True,
                                                                            "guards_required": 1, "guards_full_time": 1, "as_of": utc()}))
        r.check("town-dongcheng's connection open before the reload is closed by it", False, f"answered: {json.dumps(reply)[:160]}")
    except (OSError, ConnectionError, ssl.SSLError) as e:
        r.check("town-dongcheng's connection open before the reload is closed by it", True, repr(e)[:120])
    r.check("the ingest was reloaded, not restarted (same PID, still running)",
            proc.poll() is None and os.path.exists(f"/proc/{ingest_pid}") and str(ingest_pid) in run(["ip", "netns", "pids", "dd-edu"]).stdout.split(),
            f"pid {ingest_pid} before and after; log: {' | '.join(l for l in system.log_text('dudao-ingest')[log_before:].splitlines() if 'revo' in l.lower() or 'reload' in l.lower())[:300]}")

    # A bad revocation file: refused with its name, the old list stays in force.
    with open(f"{system.edu}/revoked.json", "w") as f:
        f.write('{"serials": ["AB",\n  oops]}\n')
    log_before = len(system.log_text("dudao-ingest"))
    os.kill(ingest_pid, signal.SIGHUP)
    time.sleep(2)
    new_lines = system.log_text("dudao-ingest")[log_before:]
    named = [l for l in new_lines.splitlines() if "revoked.json" in l]
    ok_t, detail_t = sends_ok("town-dongcheng", "rev-bad-file")
    ok_o, _ = sends_ok("alarm-platform", "rev-bad-file-other")
    r.check("a bad revoked.json on SIGHUP is refused with its name; the old list stays in force",
            bool(named) and not ok_t and ok_o and proc.poll() is None,
            f"log: {named[0][:200] if named else 'no line naming revoked.json: ' + new_lines[-300:]}; town-dongcheng {'accepted!' if ok_t else 'still refused'}")
    shutil.copy(f"{system.ca}/revoked.json", f"{system.edu}/revoked.json")
    open_town.close()
    open_alarm.close()
    hb.stop_event.set()
    hb.thread.join(timeout=10)
    r.check("heartbeats kept flowing through the reloads", not hb.nacked and len(hb.acked) > 0,
            f"{len(hb.acked)} acked, {len(hb.nacked)} refused, client errors {len(hb.errors)}")


def stable_binaries(bin_dir, dest):
    """Copies the executables once they are complete (a rebuild may be writing them)."""
    deadline = time.time() + 900
    while time.time() < deadline:
        paths = [f"{bin_dir}/{e}" for e in EXECUTABLES]
        if all(os.access(p, os.X_OK) for p in paths):
            before = [(os.stat(p).st_size, os.stat(p).st_mtime) for p in paths]
            time.sleep(3)
            after = [(os.stat(p).st_size, os.stat(p).st_mtime) for p in paths if os.path.exists(p)]
            if before == after and time.time() - max(m for _, m in after) > 3:
                os.makedirs(dest, exist_ok=True)
                for p in paths:
                    shutil.copy2(p, dest)
                return dest
        log(f"waiting for the executables in {bin_dir}")
        time.sleep(10)
    raise SystemExit(f"multihost: the executables in {bin_dir} are missing or keep changing")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--hook-serve":
        hook_serve(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=f"{ROOT}/.build/debug")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--timeout", type=int, default=600, help="the whole test stops after this many seconds")
    parser.add_argument("--notify-frame-timeout", type=float, default=None,
                        help="diagnosis: notify's frame_timeout_seconds (default: the product's 30 s)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("multihost: needs root (ip netns)")
    if not shutil.which("ip"):
        raise SystemExit("multihost: needs iproute2 (apt-get install iproute2)")

    cleanup_namespaces()
    work = tempfile.mkdtemp(prefix="dudao-multihost-")
    results = Results()
    system = None

    def cleanup():
        if system:
            system.stop_all()
        cleanup_namespaces(quiet=True)
        if args.keep or results.failed:
            print(f"multihost: work folder kept: {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)

    atexit.register(cleanup)

    def on_signal(signum, _frame):
        print(f"multihost: {signal.Signals(signum).name}, stopping", flush=True)
        results.failed.append(f"interrupted by {signal.Signals(signum).name}")
        print(f"multihost: {results.passed} passed, {len(results.failed)} failed", flush=True)
        sys.exit(1)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, on_signal)
    signal.alarm(args.timeout)

    started = time.time()
    bin_dir = stable_binaries(args.bin, f"{work}/bin")
    build_network()
    system = System(work, bin_dir, results)
    system.notify_frame_timeout = args.notify_frame_timeout
    log(f"work folder {work}; certs request/sign in this build: {system.new_certs}; revoke: {system.has_revoke}")
    try:
        scenario(system, results, work)
    except Exception as e:
        import traceback
        traceback.print_exc()
        results.check("scenario ran to the end", False, repr(e)[:400])
    signal.alarm(0)
    log(f"took {time.time() - started:.0f} s")
    print(f"multihost: {results.passed} passed, {len(results.failed)} failed", flush=True)
    for name in results.failed:
        print(f"multihost: failed: {name}", flush=True)
    sys.exit(1 if results.failed else 0)


if __name__ == "__main__":
    main()
