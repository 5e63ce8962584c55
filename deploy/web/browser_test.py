#!/usr/bin/env python3
"""Browser test of dudao-web: headless Chromium (selenium) against the real services with the
sample city. Starts dudao-ingest, dudao-indicators, dudao-safety, dudao-notify and dudao-web on
free ports with temporary certificates and configurations, sends deploy/sample/data, then checks
log-in, the overview, live alarms (SSE, no reload), acknowledgement reaching dudao-notify, the
drill-down town → kindergarten → devices, the plan's indicators (SVG history chart,
contributors), the monthly report (view, HTML and CSV download), town scoping (page and API:
403), escaping of a `<script>` town name, CSRF refusals and the lockout.

    deploy/web/browser_test.py [--bin .build/debug] [--shots DIR] [--keep]

Needs: chromium + chromium-driver (Debian), selenium (pip). Final line: `web: N passed, M failed`.
"""
import argparse, http.client, json, os, re, shutil, socket, ssl, struct, subprocess, sys, tempfile, time, traceback, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = f"{ROOT}/deploy/sample/data"
XSS_NAME = "<script>alert(1)</script>"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Wire:
    """One mutual-TLS connection speaking length-prefixed JSON frames (SPEC section 2)."""

    def __init__(self, port, certs, identity):
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=f"{certs}/ca.pem")
        ctx.check_hostname = False
        ctx.load_cert_chain(f"{certs}/{identity}.pem", f"{certs}/{identity}.key")
        self.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
        self.buf = b""

    def query(self, type_, body):
        data = json.dumps({"v": 1, "kind": "query", "id": "t", "type": type_, "body": body}).encode()
        self.sock.sendall(struct.pack(">I", len(data)) + data)
        while len(self.buf) < 4 or len(self.buf) < 4 + struct.unpack(">I", self.buf[:4])[0]:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        n = struct.unpack(">I", self.buf[:4])[0]
        frame, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        reply = json.loads(frame)
        if reply.get("kind") != "result":
            raise RuntimeError(f"{type_}: {reply}")
        return reply["body"]

    def close(self):
        self.sock.close()


class System:
    SERVICES = ["dudao-ingest", "dudao-notify", "dudao-safety", "dudao-indicators"]

    def __init__(self, work, bin_dir):
        self.work, self.bin = work, bin_dir
        self.ports = {s: free_port() for s in self.SERVICES + ["dudao-web"]}
        self.procs = {}
        self.certs = f"{work}/certs"
        subprocess.run([f"{bin_dir}/dudao", "certs", "init", self.certs, "--integrator", "kg-census-system",
                        "--integrator", "alarm-platform", "--integrator", "dudao-web"], check=True, stdout=subprocess.DEVNULL)
        access = json.load(open(f"{ROOT}/deploy/access.json"))
        json.dump(access, open(f"{work}/access.json", "w"))
        tls = lambda name: {"ca": "certs/ca.pem", "certificate": f"certs/{name}.pem", "key": f"certs/{name}.key"}
        listen = lambda name: {"host": "127.0.0.1", "port": self.ports[name]}
        ep = lambda name: {"host": "127.0.0.1", "port": self.ports[name]}
        os.makedirs(f"{work}/data", exist_ok=True)
        configs = {
            "dudao-ingest": {"listen": listen("dudao-ingest"), "tls": tls("dudao-ingest"), "access_file": "access.json",
                             "database": "data/ingest.sqlite"},
            "dudao-safety": {"listen": listen("dudao-safety"), "tls": tls("dudao-safety"), "access_file": "access.json",
                             "database": "data/safety.sqlite", "ingest": ep("dudao-ingest"), "notify": ep("dudao-notify"),
                             "offline_after_seconds": 3600, "check_interval_seconds": 1, "hold_down_seconds": 1},
            "dudao-indicators": {"listen": listen("dudao-indicators"), "tls": tls("dudao-indicators"), "access_file": "access.json",
                                 "database": "data/indicators.sqlite", "catalog": f"{ROOT}/deploy/catalog/enping-2023-2025.json",
                                 "ingest": ep("dudao-ingest"), "notify": ep("dudao-notify"), "current_year": 0},
            "dudao-notify": {"listen": listen("dudao-notify"), "tls": tls("dudao-notify"), "access_file": "access.json",
                             "routes_file": "routes.json", "database": "data/notify.sqlite", "tick_seconds": 0.2},
        }
        for name, config in configs.items():
            json.dump(config, open(f"{work}/{name}.json", "w"))
        routes = {
            "defaults": {"group_by": ["alert_key"], "group_wait_seconds": 0, "group_interval_seconds": 1,
                         "repeat_interval_seconds": 86400, "send_resolved": True},
            "routes": [{"match": {"event": "safety.alarm"}, "to": ["police"]}, {"match": {}, "to": ["education"]}],
            "departments": {d: {"channels": [{"type": "file", "path": f"alerts/{d}.jsonl"}]} for d in ("police", "education")},
        }
        json.dump(routes, open(f"{work}/routes.json", "w"))
        self.passwords = {"zhang": "zhang-secret-1", "dong": "dong-secret-2", "locky": "locky-secret-3"}
        hashes = {u: self.hash(p) for u, p in self.passwords.items()}
        accounts = {"accounts": {
            "zhang": {"password_bcrypt": hashes["zhang"], "role": "bureau", "name": "张三"},
            "dong": {"password_bcrypt": hashes["dong"], "role": "town", "towns": ["dongcheng"], "name": "东成镇李四"},
            "locky": {"password_bcrypt": hashes["locky"], "role": "safety", "name": "王五"},
        }}
        json.dump(accounts, open(f"{work}/accounts.json", "w"), ensure_ascii=False)
        web = {"listen": listen("dudao-web"), "tls": tls("dudao-web"),
               "safety": ep("dudao-safety"), "indicators": ep("dudao-indicators"), "notify": ep("dudao-notify"), "ingest": ep("dudao-ingest"),
               "accounts_file": "accounts.json", "templates_dir": f"{ROOT}/deploy/web/templates",
               "static_dir": f"{ROOT}/deploy/web/static", "poll_seconds": 0.5}
        json.dump(web, open(f"{work}/dudao-web.json", "w"))
        self.base = f"http://127.0.0.1:{self.ports['dudao-web']}"

    def hash(self, password):
        out = subprocess.run([f"{self.bin}/dudao-web", "hash-password", "--cost", "8"], input=password + "\n",
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()

    def start(self, name):
        out = open(f"{self.work}/{name}.out", "a")
        log = open(f"{self.work}/{name}.log", "a")
        args = [f"{self.bin}/{name}"] + (["serve"] if name in ("dudao-indicators", "dudao-notify", "dudao-web") else []) + ["--config", f"{self.work}/{name}.json"]
        self.procs[name] = subprocess.Popen(args, stdout=out, stderr=log, env=dict(os.environ, SWIFT_BACKTRACE="enable=no"))
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.ports[name]), timeout=1).close()
                return
            except OSError:
                if self.procs[name].poll() is not None:
                    raise SystemExit(f"{name} exited; see {self.work}/{name}.log:\n" + open(f"{self.work}/{name}.log").read()[-2000:])
                time.sleep(0.1)
        raise SystemExit(f"{name} did not start")

    def stop_all(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def send(self, identity, files, type_=None):
        args = [f"{self.bin}/dudao", "send", "--host", "127.0.0.1", "--port", str(self.ports["dudao-ingest"]),
                "--certs", self.certs, "--identity", identity, "--quiet"] + (["--type", type_] if type_ else []) + files
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)

    def wire(self, name, identity="operator"):
        return Wire(self.ports[name], self.certs, identity)


class HTTP:
    """A plain HTTP client with one session cookie (for what a browser cannot show: status codes, headers)."""

    def __init__(self, base):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.cookie = None

    def request(self, method, path, form=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        headers = {}
        if self.cookie:
            headers["Cookie"] = self.cookie
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        self.last_headers = {name.lower(): value for name, value in resp.getheaders()}
        data = resp.read().decode("utf-8", "replace")
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie" and value.startswith("dudao_session="):
                self.last_set_cookie = value
                v = value.split(";")[0]
                self.cookie = None if v == "dudao_session=" else v
        conn.close()
        return resp.status, data

    def csrf(self, html):
        m = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
        return m.group(1) if m else None

    def login(self, user, password):
        status, html = self.request("GET", "/login")
        return self.request("POST", "/login", {"csrf": self.csrf(html), "username": user, "password": password})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=f"{ROOT}/.build/debug")
    parser.add_argument("--shots", default=None, help="folder for the screenshots")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.chrome.service import Service as ChromeService
    from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException

    work = tempfile.mkdtemp(prefix="dudao-web-test-")
    shots = args.shots or f"{work}/shots"
    os.makedirs(shots, exist_ok=True)
    system = System(work, args.bin)
    results = []

    def check(name, fn):
        try:
            for attempt in range(3):  # the page may re-render under a read (live updates): read it again
                try:
                    fn()
                    break
                except StaleElementReferenceException:
                    if attempt == 2:
                        raise
                    time.sleep(0.3)
            results.append((name, True))
            print(f"ok    {name}", flush=True)
        except Exception as error:  # noqa: BLE001 — a failed check is reported, the others still run
            results.append((name, False))
            print(f"FAIL  {name}: {error!r}", flush=True)
            traceback.print_exc(limit=3)

    def wait_for(cond, timeout, what):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                value = cond()
                if value:
                    return value
            except Exception as error:  # noqa: BLE001
                last = error
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f" (last error {last!r})" if last else ""))

    driver = None
    try:
        for name in System.SERVICES:
            system.start(name)
        # The sample city, plus a town whose registered name is a script tag.
        xss = f"{work}/xss-town.jsonl"
        with open(xss, "w") as f:
            f.write(json.dumps({"v": 1, "kind": "feed", "id": "test-xss-town", "type": "registry.town",
                                "body": {"town_id": "xss", "name": XSS_NAME, "kind": "town"}}) + "\n")
        system.send("kg-census-system", sorted(f"{SAMPLE}/{n}" for n in os.listdir(SAMPLE) if n[:2] in ("01", "02", "03", "04", "05", "06", "07")) + [xss])
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        beats = f"{work}/heartbeats-now.jsonl"
        with open(f"{SAMPLE}/09-safety-heartbeats.jsonl") as src, open(beats, "w") as dst:
            dst.write(src.read().replace("2026-11-29T08:00:00+08:00", now).replace("sample-safety.heartbeat", f"test-{now}-heartbeat"))
        system.send("alarm-platform", [f"{SAMPLE}/08-safety-inventory.jsonl", beats])
        safety = system.wire("dudao-safety")
        wait_for(lambda: safety.query("safety.rates", {"scope": "town:dongcheng"})["kindergartens"] > 0
                 and safety.query("safety.rates", {"scope": "city"})["alarm_devices"] > 0, 30, "dudao-safety to take the sample city")
        wait_for(lambda: len(safety.query("safety.overview", {})["towns"]) >= 12, 10, "the towns in safety.overview")
        time.sleep(1)  # the heartbeats of the sample
        safety.close()
        system.start("dudao-web")

        options = webdriver.ChromeOptions()
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000", "--lang=zh-CN",
                     "--ignore-certificate-errors"):
            options.add_argument(flag)
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        driver = webdriver.Chrome(service=ChromeService(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(30)
        base = system.base

        def browser_login(user):
            driver.delete_all_cookies()
            driver.get(base + "/login")
            driver.find_element(By.ID, "username").send_keys(user)
            driver.find_element(By.ID, "password").send_keys(system.passwords[user])
            driver.find_element(By.ID, "login-button").click()
            wait_for(lambda: driver.current_url.rstrip("/") == base and driver.find_elements(By.CSS_SELECTOR, "#rates-body tr"),
                     10, f"the overview after {user} logs in")

        def rows():
            return {tr.get_attribute("data-town"): tr for tr in driver.find_elements(By.CSS_SELECTOR, "#rates-body tr")}

        def t_login():
            driver.get(base + "/")
            wait_for(lambda: "/login" in driver.current_url, 5, "the redirect to /login")
            driver.save_screenshot(f"{shots}/01-login.png")
            browser_login("zhang")
            cookie = driver.get_cookie("dudao_session")
            assert cookie and cookie["httpOnly"] and cookie["secure"] and cookie.get("sameSite") == "Strict", cookie
            assert len(cookie["value"]) == 64

        def t_overview():
            wait_for(lambda: driver.find_element(By.ID, "live").text == "实时", 10, "the live stream")
            r = rows()
            assert "city" in r and "dongcheng" in r and "encheng" in r, list(r)
            dong = r["dongcheng"].text
            assert "东成镇" in dong and "%" in dong and ("达标" in dong or "未达标" in dong), dong
            city_cells = r["city"].find_elements(By.CSS_SELECTOR, "td.rate")
            assert len(city_cells) == 5, len(city_cells)
            for cell in city_cells:  # colour (class) and text for every status
                css = cell.get_attribute("class").split()
                assert any(c in css for c in ("ok", "bad", "warn", "none")), css
                assert cell.find_element(By.CSS_SELECTOR, ".s").text in ("达标", "未达标", "全部在线", "有离线", "无数据")
            assert "北京时间" in driver.find_element(By.TAG_NAME, "header").text
            driver.save_screenshot(f"{shots}/02-overview.png")

        def t_xss():
            r = rows()
            assert "xss" in r, list(r)
            assert r["xss"].find_element(By.CSS_SELECTOR, "td.town-name").text == XSS_NAME
            try:
                driver.switch_to.alert
                raise AssertionError("an alert dialog opened")
            except NoAlertPresentException:
                pass
            assert driver.execute_script("return document.querySelectorAll('#rates-body script').length") == 0
            client = HTTP(base)
            client.login("zhang", system.passwords["zhang"])
            status, html = client.request("GET", "/")
            assert status == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in html and XSS_NAME not in html, status
            status, body = client.request("GET", "/api/overview")
            assert status == 200 and any(t["name"] == XSS_NAME for t in json.loads(body)["towns"])

        state = {}

        def t_live_alarm():
            driver.execute_script("window.__noReload = 42;")
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            alarm = f"{work}/alarm.jsonl"
            with open(alarm, "w") as f:
                f.write(json.dumps({"device_id": "alarm-kg-dongcheng-01-1", "institution_id": "kg-dongcheng-01", "at": at,
                                    "note": "门口 <b>test</b>"}, ensure_ascii=False) + "\n")
            started = time.time()
            system.send("alarm-platform", [alarm], type_="safety.alarm")

            def appeared():
                for li in driver.find_elements(By.CSS_SELECTOR, "#alarms li.alarm"):
                    if li.find_element(By.CSS_SELECTOR, ".a-device").text == "alarm-kg-dongcheng-01-1" and "acked" not in li.get_attribute("class"):
                        return li
            li = wait_for(appeared, 5, "the alarm on the page without a reload")
            state["elapsed"] = time.time() - started
            state["alert_id"] = li.get_attribute("data-alert-id")
            assert driver.execute_script("return window.__noReload") == 42, "the page was reloaded"
            assert li.find_element(By.CSS_SELECTOR, ".a-note").text == "门口 <b>test</b>"
            assert "东成镇" in li.find_element(By.CSS_SELECTOR, ".a-town").text
            assert "firing" in driver.find_element(By.ID, "alarm-panel").get_attribute("class")
            print(f"      alarm shown {state['elapsed']:.1f}s after it was sent", flush=True)
            driver.save_screenshot(f"{shots}/03-alarm.png")

        def t_ack():
            alert_id = state["alert_id"]
            li = driver.find_element(By.CSS_SELECTOR, f'#alarms li[data-alert-id="{alert_id}"]')
            li.find_element(By.CSS_SELECTOR, "button.ack").click()
            wait_for(lambda: "已确认：张三" in driver.find_element(By.CSS_SELECTOR, f'#alarms li[data-alert-id="{alert_id}"]').text,
                     10, "the acknowledgement on the page")
            notify = system.wire("dudao-notify")
            alerts = notify.query("alerts.list", {"status": "all", "event": "safety.alarm"})["alerts"]
            notify.close()
            mine = [a for a in alerts if a["alert_id"] == alert_id]
            assert mine and mine[0]["acked_by"] == "张三" and mine[0]["acked_at"], mine
            driver.save_screenshot(f"{shots}/04-acknowledged.png")

        def t_drilldown():
            driver.get(base + "/town/dongcheng")
            kgs = driver.find_elements(By.CSS_SELECTOR, "#kindergartens tbody tr")
            assert kgs, "no kindergartens on the town page"
            labels = {tr.find_elements(By.TAG_NAME, "td")[1].text for tr in kgs}
            assert labels <= {"四项全部达标", "未报送台账", "不达标"}, labels
            for tr in kgs:  # a row that is not compliant says why
                if tr.find_elements(By.TAG_NAME, "td")[1].text == "不达标":
                    assert tr.find_element(By.CSS_SELECTOR, "td.reasons").text.strip() not in ("", "—"), tr.text
            devices = driver.find_elements(By.CSS_SELECTOR, "#problem-devices tbody tr")
            assert devices or driver.find_elements(By.ID, "no-problem-devices")
            for tr in devices:
                cells = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                assert cells[2] in ("离线", "故障", "从未上线"), cells
                assert cells[4] == "从未收到" or re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", cells[4]), cells
            state["problem_devices"] = len(devices)
            driver.save_screenshot(f"{shots}/08-town-drilldown.png")
            link = driver.find_element(By.CSS_SELECTOR, '#kindergartens tr[data-institution="kg-dongcheng-01"] a')
            name = link.text
            link.click()
            wait_for(lambda: "/kindergartens/kg-dongcheng-01" in driver.current_url, 5, "the kindergarten page")
            assert driver.find_element(By.ID, "institution-title").text.startswith(name), (name, driver.find_element(By.ID, "institution-title").text)
            status = driver.find_element(By.ID, "institution-status").text
            assert status in ("四项全部达标", "未报送台账", "不达标"), status
            if status == "不达标":
                assert driver.find_elements(By.CSS_SELECTOR, "#reasons li")
            rows = driver.find_elements(By.CSS_SELECTOR, "#devices tbody tr")
            assert rows, "no devices on the kindergarten page"
            kinds = {tr.find_elements(By.TAG_NAME, "td")[1].text for tr in rows}
            assert "一键报警" in kinds, kinds
            seen = [tr.find_elements(By.TAG_NAME, "td")[3].text for tr in rows]
            assert any(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in seen), seen
            driver.save_screenshot(f"{shots}/09-kindergarten.png")
            client = HTTP(base)
            client.login("zhang", system.passwords["zhang"])
            status, body = client.request("GET", "/api/kindergartens/kg-dongcheng-01")
            assert status == 200 and json.loads(body)["town_id"] == "dongcheng", (status, body[:200])
            assert client.request("GET", "/kindergartens/no-such-school")[0] == 404
            assert client.request("GET", "/api/kindergartens/no-such-school")[0] == 404

        def t_indicators():
            driver.get(base + "/indicators")
            rows = driver.find_elements(By.CSS_SELECTOR, "#indicators tbody tr")
            assert len(rows) >= 20, len(rows)
            ids = [tr.get_attribute("data-indicator") for tr in rows]
            assert "preschool.gross_enrollment_rate" in ids and "safety.alarm_install_rate" in ids, ids
            for tr in rows:
                assert tr.find_elements(By.TAG_NAME, "td")[3].text in ("达标", "未达标", "临界", "跟踪", "无数据"), tr.text
            assert "学前三年毛入园率" in driver.find_element(By.ID, "indicators").text
            assert "条" in driver.find_element(By.ID, "indicators").text or "第" in driver.find_element(By.ID, "indicators").text  # clauses
            driver.save_screenshot(f"{shots}/10-indicators.png")
            driver.find_element(By.CSS_SELECTOR, 'tr[data-indicator="preschool.class_size_compliance"] a').click()
            wait_for(lambda: "/indicators/preschool.class_size_compliance" in driver.current_url, 5, "the indicator page")
            assert driver.find_element(By.ID, "indicator-title").text.startswith("班额达标率")
            svg = driver.find_element(By.ID, "history-chart")
            assert svg.find_element(By.ID, "x-axis") and svg.find_element(By.ID, "y-axis")
            ticks = [t.text for t in svg.find_elements(By.CSS_SELECTOR, "text.tick")]
            assert len(ticks) == 6 and ticks[0] == "0", ticks
            years = [t.text for t in svg.find_elements(By.CSS_SELECTOR, "text.year-label")]
            assert years[:3] == ["2023", "2024", "2025"], years  # and the years after the plan, up to this one
            assert svg.find_elements(By.CSS_SELECTOR, "rect.bar"), "no bars"
            assert len(svg.find_elements(By.CSS_SELECTOR, "line.target")) >= 3 and "目标" in svg.find_element(By.CSS_SELECTOR, "text.target-label").text
            contributors = driver.find_elements(By.CSS_SELECTOR, "#contributors tbody tr")
            assert contributors, "no contributors: 班额 is not met in every class of the sample"
            state["contributors"] = len(contributors)
            driver.save_screenshot(f"{shots}/11-indicator.png")
            client = HTTP(base)
            client.login("zhang", system.passwords["zhang"])
            status, body = client.request("GET", "/api/indicators/preschool.class_size_compliance?year=2025")
            model = json.loads(body)
            assert status == 200 and model["indicator"]["id"] == "preschool.class_size_compliance" and len(model["history"]) >= 3, body[:300]
            assert client.request("GET", "/indicators/no.such.indicator")[0] == 404
            assert client.request("GET", "/indicators?year=1999")[0] == 400

        def t_report():
            driver.get(base + "/report?year=2025&month=11")
            assert "2025年11月" in driver.find_element(By.ID, "report-title").text
            assert len(driver.find_elements(By.CSS_SELECTOR, "#report-indicators tbody tr")) >= 20
            assert driver.find_elements(By.CSS_SELECTOR, "#report-towns tbody tr")
            driver.save_screenshot(f"{shots}/12-report.png")
            client = HTTP(base)
            client.login("zhang", system.passwords["zhang"])
            status, csv = client.request("GET", "/report/download?year=2025&month=11&format=csv")
            assert status == 200 and csv.startswith("\ufeffscope,scope_name,indicator_id"), (status, csv[:60])
            assert "学前三年毛入园率" in csv and "全市" in csv
            disposition = client.last_headers.get("content-disposition", "")
            assert disposition == 'attachment; filename="dudao-report-2025-11.csv"', disposition
            assert client.last_headers["content-type"].startswith("text/csv")
            status, html = client.request("GET", "/report/download?year=2025&month=11&format=html")
            assert status == 200 and "<html" in html and "2025年11月" in html and "attachment" in client.last_headers["content-disposition"]
            assert "script-src" not in client.last_headers["content-security-policy"], client.last_headers["content-security-policy"]
            assert client.request("GET", "/report/download?year=2025&month=11&format=pdf")[0] == 400

        def t_town_scope():
            browser_login("dong")
            r = rows()
            assert list(r) == ["dongcheng"], list(r)
            driver.save_screenshot(f"{shots}/05-town-account.png")
            driver.get(base + "/town/dongcheng")
            assert driver.find_element(By.ID, "town-title").text == "东成镇"
            driver.get(base + "/town/encheng")
            assert "403" in driver.find_element(By.ID, "error-title").text
            driver.save_screenshot(f"{shots}/06-town-forbidden.png")
            client = HTTP(base)
            client.login("dong", system.passwords["dong"])
            assert client.request("GET", "/town/encheng")[0] == 403
            assert client.request("GET", "/api/town/encheng")[0] == 403
            assert client.request("GET", "/events?town=encheng")[0] == 403
            status, body = client.request("GET", "/api/town/dongcheng")
            assert status == 200 and json.loads(body)["town"]["name"] == "东成镇", (status, body)
            overview = json.loads(client.request("GET", "/api/overview")[1])
            assert [t["town_id"] for t in overview["towns"]] == ["dongcheng"] and "city" not in overview, overview.keys()
            # The drill-down, the indicators and the report follow the same rule.
            assert client.request("GET", "/kindergartens/kg-encheng-01")[0] == 403
            assert client.request("GET", "/api/kindergartens/kg-encheng-01")[0] == 403
            assert client.request("GET", "/api/kindergartens/kg-dongcheng-01")[0] == 200
            assert client.request("GET", "/indicators?scope=town:encheng")[0] == 403
            assert client.request("GET", "/api/indicators?scope=city")[0] == 403
            assert client.request("GET", "/indicators/preschool.class_size_compliance?scope=town:encheng")[0] == 403
            status, body = client.request("GET", "/api/indicators")
            assert status == 200 and json.loads(body)["scope"] == "town:dongcheng", (status, body[:200])
            assert client.request("GET", "/report")[0] == 403
            assert client.request("GET", "/report/download?format=csv")[0] == 403
            driver.get(base + "/kindergartens/kg-encheng-01")
            assert "403" in driver.find_element(By.ID, "error-title").text

        def t_csrf():
            client = HTTP(base)
            status, _ = client.request("GET", "/login")
            assert client.request("POST", "/login", {"username": "zhang", "password": system.passwords["zhang"]})[0] == 403
            status, _ = client.login("zhang", system.passwords["zhang"])
            assert status == 303, status
            assert client.request("POST", "/alarms/ack", {"alert_id": state.get("alert_id", "x")})[0] == 403
            assert client.request("POST", "/alarms/ack", {"alert_id": "x", "csrf": "0" * 64})[0] == 403
            assert client.request("POST", "/logout", {})[0] == 403
            assert client.request("GET", "/api/overview")[0] == 200, "still logged in"
            # In the browser: the log-out form with its token removed.
            browser_login("zhang")
            driver.execute_script("document.querySelector('form[action=\"/logout\"] input[name=csrf]').remove();"
                                  "document.querySelector('form[action=\"/logout\"]').submit();")
            wait_for(lambda: "403" in driver.find_element(By.ID, "error-title").text, 5, "the 403 page")
            driver.save_screenshot(f"{shots}/07-csrf-refused.png")
            driver.get(base + "/")
            assert driver.find_elements(By.CSS_SELECTOR, "#rates-body tr"), "the refused log-out logged out"

        def t_logout():
            driver.find_element(By.CSS_SELECTOR, 'form[action="/logout"] button').click()
            wait_for(lambda: "/login" in driver.current_url, 5, "the log-in page after log-out")
            driver.get(base + "/")
            assert "/login" in driver.current_url

        def t_lockout():
            client = HTTP(base)
            for i in range(5):
                status, _ = client.login("locky", "wrong-%d" % i)
                assert status == 401, (i, status)
            status, html = client.login("locky", system.passwords["locky"])
            assert status == 429 and "锁定" in html, status
            cookie = client.last_set_cookie if hasattr(client, "last_set_cookie") else ""
            assert all(flag in cookie for flag in ("HttpOnly", "Secure", "SameSite=Strict")), cookie

        def t_https():
            # A second dudao-web serving HTTPS itself, with a server certificate of its own.
            subprocess.run([f"{system.bin}/dudao", "certs", "issue", system.certs, "dudao-web-https", "--role", "service"],
                           check=True, stdout=subprocess.DEVNULL)
            web = json.load(open(f"{work}/dudao-web.json"))
            system.ports["dudao-web-https"] = free_port()
            web["listen"]["port"] = system.ports["dudao-web-https"]
            web["https"] = {"certificate": "certs/dudao-web-https.pem", "key": "certs/dudao-web-https.key"}
            json.dump(web, open(f"{work}/dudao-web-https.json", "w"))
            out = open(f"{work}/dudao-web-https.out", "a")
            proc = subprocess.Popen([f"{system.bin}/dudao-web", "serve", "--config", f"{work}/dudao-web-https.json"], stdout=out,
                                    stderr=open(f"{work}/dudao-web-https.log", "a"))
            system.procs["dudao-web-https"] = proc
            ctx = ssl.create_default_context(cafile=f"{system.certs}/ca.pem")
            def get():
                conn = http.client.HTTPSConnection("localhost", system.ports["dudao-web-https"], context=ctx, timeout=5)
                conn.request("GET", "/login")
                resp = conn.getresponse()
                return resp.status, resp.getheader("Set-Cookie") or "", resp.read().decode()
            status, cookie, html = wait_for(lambda: get(), 20, "the HTTPS port")
            assert status == 200 and "Secure" in cookie and 'name="csrf"' in html, (status, cookie)
            driver.get(f"https://localhost:{system.ports['dudao-web-https']}/login")  # the browser, certificate errors ignored
            assert driver.find_element(By.ID, "login-button")

        check("log-in (form, CSRF, bcrypt; cookie Secure, HttpOnly, SameSite=Strict)", t_login)
        check("city overview: rates per town, colour and text, Beijing time", t_overview)
        check("a town named <script> is shown as text (page and API)", t_xss)
        check("an alarm sent through the ingest appears within 5 s without a reload", t_live_alarm)
        check("acknowledging reaches dudao-notify as the logged-in person", t_ack)
        check("drill-down town → kindergarten → devices: reasons, problem devices, last heartbeat", t_drilldown)
        check("the plan's indicators: value, target, status, clause; SVG history chart; contributors", t_indicators)
        check("the monthly report: view, HTML and CSV (BOM) download", t_report)
        check("a town account sees only its town; another town is 403 (page and API)", t_town_scope)
        check("a POST without the CSRF token is refused 403", t_csrf)
        check("log-out", t_logout)
        check("lockout after 5 failures", t_lockout)
        check("HTTPS for browsers (its own server certificate)", t_https)
    except SystemExit:
        raise
    except Exception as error:  # noqa: BLE001
        traceback.print_exc()
        results.append(("setup", False))
    finally:
        if driver is not None:
            driver.quit()
        system.stop_all()
        if not args.keep:
            if not args.shots:
                print(f"screenshots were in {shots} (removed; pass --shots DIR to keep them)")
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"web: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
