"""report.html as a person sees it: a real headless Chromium (Debian's `chromium`) opens the page
a finished run wrote, served over HTTP on 127.0.0.1, and what it renders is read back: the
numbers of summary.json and every plot loaded as an image.

    .venv/bin/python -m pytest -n 0 -q tests/integration/test_report_page.py
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading

import numpy as np
import pytest

from rayscore.eval.plots import plot_score_histogram
from rayscore.report import write_report

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# A page of the same origin that opens report.html in a frame and writes what the browser made of
# it (each image's decoded width, the tables' text) where --dump-dom prints it.
PROBE = """<!doctype html><html><body><pre id="out">waiting</pre>
<iframe id="f" src="report.html" onload="
  const d = document.getElementById('f').contentDocument;
  const imgs = [...d.images].map(i => i.getAttribute('src') + '=' + i.naturalWidth);
  document.getElementById('out').textContent = JSON.stringify({
    title: d.title, h1: d.querySelector('h1').textContent, images: imgs,
    cells: [...d.querySelectorAll('th, td')].map(c => c.textContent)});
"></iframe></body></html>"""


@pytest.fixture(scope="module")
def chromium(tmp_path_factory) -> str:
    """Debian's chromium, installed once per machine when missing (as root, with apt-get, like the
    Label Studio venv the round-trip test builds); the lock keeps xdist workers from racing."""
    from filelock import FileLock

    with FileLock(str(tmp_path_factory.getbasetemp().parent / "chromium-install.lock")):
        if shutil.which("chromium") is None and shutil.which("apt-get") and os.geteuid() == 0:
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
            subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"], env=env,
                           capture_output=True, timeout=1200)
    path = shutil.which("chromium")
    assert path, "Debian's chromium is missing and could not be installed (apt-get install chromium, as root)"
    return path


@pytest.fixture
def served(tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_report_page_renders_the_summary_and_its_plots(chromium, served, tmp_path_factory):
    run, url = served
    (run / "summary.json").write_text(json.dumps({
        "ok": True, "kind": "quality", "rows_in": 4000, "rows_scored": 3990, "rows_quarantined": 10,
        "quarantine_reasons": {"empty_text": 10}, "label_counts": {"正确": 2087, "错误": 1903},
        "gold_metrics": {"overall": {"f1": 0.99691, "automatic": {"coverage": 1.0}}}, "fingerprint": "d4a606a70a90"},
        ensure_ascii=False), encoding="utf-8")
    plot_score_histogram(np.linspace(0, 1, 50), str(run / "p_correct_histogram.png"), title="p_correct")
    write_report(run)
    (run / "probe.html").write_text(PROBE, encoding="utf-8")
    profile = tmp_path_factory.mktemp("chromium-profile")
    done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                           "--dump-dom", f"{url}/probe.html"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S).group(1).replace("&quot;", '"'))
    assert seen["h1"] == "quality ok"
    assert seen["images"] == ["p_correct_histogram.png=" + seen["images"][0].split("=")[1]]
    assert int(seen["images"][0].split("=")[1]) > 100                   # decoded: a real picture
    cells = dict(zip(seen["cells"][::2], seen["cells"][1::2]))
    assert cells["rows_in"] == "4,000" and cells["rows_quarantined"] == "10" and cells["empty_text"] == "10"
    assert cells["正确"] == "2,087" and cells["gold f1"] == "0.9969" and cells["automatic coverage"] == "1"
