#!/usr/bin/env python3
"""Opens capsim's report.html in headless Chromium and checks what a reader would see.

Builds a short run and a short sweep with the release binary, opens each report.html from
file:// through chromedriver's W3C WebDriver HTTP API (Python's standard library only), and
checks: no console error (browser log level SEVERE), no network request but the file itself
(performance log, Network.requestWillBeSent), as many <svg> elements as the folder has charts,
as many rows in the services table as summary.json has services and in the points table as
points.csv has points, and that a click on a header sorts the table. Saves a screenshot of each
report. Exits 0 when all hold, 1 with a message when one does not; prints "skipped: no
chromium" and exits 0 when /usr/bin/chromium or chromedriver is missing.

Usage: tests/browser/check_report.py [--screenshots DIR]
"""

import base64
import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Failure(Exception):
    """A check that did not hold."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    """A WebDriver session on chromedriver, spoken to over HTTP."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--window-size=1400,2000",
                            "--hide-scrollbars",
                        ],
                    },
                }
            }
        }
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method,
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as e:
            value = json.loads(e.read() or b"{}").get("value", {})
            raise Failure(f"webdriver {method} {path}: {value.get('message', e)}") from e

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def open(self, url):
        self.s("POST", "/url", {"url": url})

    def script(self, source, *args):
        return self.s("POST", "/execute/sync", {"script": source, "args": list(args)})

    def log(self, kind):
        return self.s("POST", "/se/log", {"type": kind})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.s("GET", "/screenshot")))

    def quit(self):
        try:
            self.s("DELETE", "")
        except OSError:
            pass


def capsim(*args):
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")),
                          "release", "capsim")
    if not os.path.exists(binary):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    result = subprocess.run([binary, *args], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise Failure(f"capsim {' '.join(args)} failed: {result.stderr.strip()}")


def check(condition, message):
    if not condition:
        raise Failure(message)


def open_report(driver, folder):
    """Opens folder/report.html; checks the console and the network; returns its URL."""
    driver.log("browser")
    driver.log("performance")
    url = "file://" + os.path.join(folder, "report.html")
    driver.open(url)
    errors = [e["message"] for e in driver.log("browser") if e.get("level") == "SEVERE"]
    check(not errors, f"{url}: console errors: {errors}")
    requested = []
    for entry in driver.log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    others = [u for u in requested if u != url]
    check(not others, f"{url}: requests other than the file itself: {others}")
    return url


def charts_in(folder):
    return len([f for f in os.listdir(os.path.join(folder, "plots")) if f.endswith(".svg")])


def rows(driver, table_id):
    return driver.script(
        "var t=document.getElementById(arguments[0]);return t?t.tBodies[0].rows.length:-1;",
        table_id)


def column(driver, table_id, index):
    return driver.script(
        "var t=document.getElementById(arguments[0]),i=arguments[1];"
        "return Array.prototype.map.call(t.tBodies[0].rows,"
        "function(r){return r.cells[i]?r.cells[i].textContent:'';});",
        table_id, index)


def click_header(driver, table_id, index):
    driver.script(
        "document.getElementById(arguments[0]).tHead.rows[0].cells[arguments[1]].click();",
        table_id, index)


def check_sorting(driver, table_id, index):
    before = column(driver, table_id, index)
    click_header(driver, table_id, index)
    first = column(driver, table_id, index)
    click_header(driver, table_id, index)
    second = column(driver, table_id, index)
    check(sorted(before) == sorted(first), f"{table_id}: sorting lost or added rows")
    numbers = [re.match(r"-?[0-9.]+(e[-+]?[0-9]+)?", t.strip()) for t in first]
    if all(numbers):
        keys = [float(m.group()) for m in numbers]
        check(keys == sorted(keys), f"{table_id}: header {index} did not sort ascending: {first}")
    check(first != second or len(set(before)) < 2,
          f"{table_id}: a second click on header {index} did not reverse the order")
    check(first != before or second != before,
          f"{table_id}: clicking header {index} did not change the order")


def check_run(driver, folder, shots):
    open_report(driver, folder)
    svgs = driver.script("return document.querySelectorAll('svg').length;")
    check(svgs == charts_in(folder), f"run: {svgs} <svg> elements, {charts_in(folder)} charts")
    with open(os.path.join(folder, "summary.json")) as f:
        summary = json.load(f)
    services = rows(driver, "services")
    check(services == len(summary["services"]),
          f"run: {services} service rows, summary.json has {len(summary['services'])}")
    pools = rows(driver, "pools")
    check(pools == len(summary["node_pools"]), f"run: {pools} pool rows")
    check_sorting(driver, "services", 1)
    driver.screenshot(os.path.join(shots, "run-report.png"))
    return svgs, services


def check_sweep(driver, folder, shots):
    open_report(driver, folder)
    svgs = driver.script("return document.querySelectorAll('svg').length;")
    check(svgs == charts_in(folder), f"sweep: {svgs} <svg> elements, {charts_in(folder)} charts")
    with open(os.path.join(folder, "points.csv"), newline="") as f:
        points = len(list(csv.reader(f))) - 1
    shown = rows(driver, "points")
    check(shown == points, f"sweep: {shown} point rows, points.csv has {points}")
    headers = driver.script(
        "return Array.prototype.map.call(document.getElementById('points').tHead.rows[0].cells,"
        "function(c){return c.textContent;});")
    # The metric column with the most distinct values, so that sorting must move rows.
    first_metric = headers.index("runs") + 1
    distinct = [len(set(column(driver, "points", i))) for i in range(len(headers))]
    best = max(range(first_metric, len(headers)), key=lambda i: (distinct[i], -i))
    check(distinct[best] > 1, "sweep: every metric column holds one value")
    check_sorting(driver, "points", best)
    driver.screenshot(os.path.join(shots, "sweep-report.png"))
    return svgs, shown


def main():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        print("skipped: no chromium")
        return 0
    shots = tempfile.gettempdir()
    if "--screenshots" in sys.argv:
        shots = sys.argv[sys.argv.index("--screenshots") + 1]
        os.makedirs(shots, exist_ok=True)
    work = tempfile.mkdtemp(prefix="capsim-browser-")
    port = free_port()
    server = subprocess.Popen([CHROMEDRIVER, f"--port={port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver = None
    try:
        run_dir = os.path.join(work, "run")
        sweep_dir = os.path.join(work, "sweep")
        capsim("run", "--duration", "20m", "--quiet", "--out", run_dir)
        capsim("sweep", "scenarios/mmc.yaml", "--duration", "15m",
               "--param", "services.queue.server.concurrency=8,9,10",
               "--param", "services.queue.replicas=1,2", "--quiet", "--out", sweep_dir)
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        driver = Driver(port)
        run = check_run(driver, run_dir, shots)
        sweep = check_sweep(driver, sweep_dir, shots)
        print(f"ok: run report {run[0]} charts, {run[1]} services; "
              f"sweep report {sweep[0]} charts, {sweep[1]} points; screenshots in {shots}")
        return 0
    except Failure as e:
        print(f"check_report: {e}", file=sys.stderr)
        return 1
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
