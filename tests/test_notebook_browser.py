"""Smoke test: JupyterLab serves notebook 07, its widgets render in headless Chromium and react.

Starts ``jupyter lab`` on a free localhost port with a random token, opens the
what-if explorer, runs all cells from the Run menu, waits for the ipywidgets,
moves the CPU-count slider with the keyboard and checks that the summary and
the figure change; then changes the objective, the isolation level and the machine.
The latency of each change, from the input event to the last of the new summary and
the new figure in the page, is measured in the page (a MutationObserver) and printed
(not asserted: benchmarks/bench_explorer.py collects it; ``$PWMODEL_LATENCY_OUT``
names a JSON file to write it to). The server's process group is always stopped. Autosave is
off (settings in a temporary folder), so the committed notebook stays without
outputs; the test also checks that the file is unchanged.

Needs Debian's ``chromium`` and the ``playwright`` Python package (no browser
download: the system chromium is launched by path).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = "notebooks/07_what_if_explorer.ipynb"
CHROMIUM = os.environ.get("PWMODEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
READY_S = 90.0      # server start
WIDGETS_S = 180.0   # kernel start + imports + first evaluation, on busy cores
UPDATE_S = 90.0     # one recomputation after the slider moves
LATENCY_ENV = "PWMODEL_LATENCY_OUT"

# Arms a one-shot probe: t0 at the first input event (captured on the document), then the
# time the summary text and the figure's src each change; done when both have.
_ARM_JS = """() => {
  const root = document.querySelector('.jupyter-widgets img').closest('.jp-OutputArea') || document.body;
  const q = () => [document.querySelector('.jupyter-widgets img').getAttribute('src'),
                   document.querySelector('.pwmodel-summary').textContent];
  const [src0, text0] = q();
  const lat = {t0: null, img: null, summary: null, done: false};
  window.__pwLatency = lat;
  const start = (e) => { if (lat.t0 === null) lat.t0 = performance.now(); };
  for (const ev of ['keydown', 'change', 'input']) document.addEventListener(ev, start, true);
  const obs = new MutationObserver(() => {
    if (lat.t0 === null) return;
    const now = performance.now();
    const [src, text] = q();
    if (lat.img === null && src !== src0) lat.img = now - lat.t0;
    if (lat.summary === null && text !== text0) lat.summary = now - lat.t0;
    if (lat.img !== null && lat.summary !== null) {
      lat.done = true; obs.disconnect();
      for (const ev of ['keydown', 'change', 'input']) document.removeEventListener(ev, start, true);
    }
  });
  obs.observe(root, {subtree: true, attributes: true, childList: true, characterData: true});
}"""


def _measure(page, action, label: str, out: dict) -> None:
    """Run ``action`` (one widget change) and record its in-page latency in ms."""
    page.evaluate(_ARM_JS)
    action()
    page.wait_for_function("() => window.__pwLatency && window.__pwLatency.done",
                           timeout=UPDATE_S * 1000)
    lat = page.evaluate("() => window.__pwLatency")
    out[label] = {"summary_ms": lat["summary"], "figure_ms": lat["img"],
                  "latency_ms": max(lat["summary"], lat["img"])}


def _dropdown(page, description: str):
    return page.locator(".widget-dropdown", has=page.locator(
        "label", has_text=re.compile(rf"^{re.escape(description)}$"))).locator("select").first


def _chromium() -> str:
    """Path of the system chromium (``$PWMODEL_CHROMIUM``, /usr/bin/chromium, or on PATH)."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if not found:
        pytest.skip(f"chromium not installed ({CHROMIUM}): apt-get install -y chromium")
    return found


def _requirements() -> str:
    exe = _chromium()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright Python package is not installed: pip install playwright")
    try:
        import jupyterlab  # noqa: F401
        import jupyterlab_widgets  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"jupyterlab or its widget extension missing: {exc}")
    return exe


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings_dir(tmp: Path) -> Path:
    """User settings that turn off autosave and the news/update fetches."""
    d = tmp / "settings"
    (d / "@jupyterlab" / "docmanager-extension").mkdir(parents=True)
    (d / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings").write_text(
        json.dumps({"autosave": False}))
    (d / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (d / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    return d


def _start_server(tmp: Path, port: int, token: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({
        "JUPYTERLAB_SETTINGS_DIR": str(_settings_dir(tmp)),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "PWMODEL_SMALL": "1",
        "MPLBACKEND": "Agg",
    })
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={REPO}", "--ServerApp.open_browser=False",
           "--ServerApp.port_retries=0", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "server.log", "wb")
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop_server(proc: subprocess.Popen) -> None:
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    for sig, wait_s in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            # the kernel is in the same group; give it a moment to go too
            time.sleep(0.5)
            os.killpg(pgid, 0)
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def _wait_ready(proc: subprocess.Popen, port: int, token: str, tmp: Path) -> None:
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("jupyter lab exited early:\n" + (tmp / "server.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"jupyter lab not ready after {READY_S:.0f} s:\n"
                + (tmp / "server.log").read_text()[-3000:])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _report_latency(latency: dict[str, dict[str, float]], capsys: pytest.CaptureFixture) -> None:
    """Print the per-widget latencies (always, also without -s) and write them if asked."""
    lines = [f"explorer latency in headless chromium (widget change -> updated summary and "
             f"figure), load {os.getloadavg()[0]:.2f}:"]
    for label, v in latency.items():
        lines.append(f"  {label:<20} {v['latency_ms']:7.0f} ms  (summary {v['summary_ms']:.0f} ms, "
                     f"figure {v['figure_ms']:.0f} ms)")
    text = "\n".join(lines)
    with capsys.disabled():
        print("\n" + text)
    dest = os.environ.get(LATENCY_ENV)
    if dest:
        from pwmodel.atomic import write_text
        write_text(Path(dest), json.dumps(latency, indent=1) + "\n")


def test_explorer_renders_and_reacts_in_chromium(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    chromium = _requirements()
    from playwright.sync_api import expect, sync_playwright

    nb_path = REPO / NOTEBOOK
    before = _digest(nb_path)
    checkpoints = nb_path.parent / ".ipynb_checkpoints"
    had_checkpoints = checkpoints.exists()
    port, token = _free_port(), secrets.token_hex(16)
    proc = _start_server(tmp_path, port, token)
    try:
        _wait_ready(proc, port, token, tmp_path)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                page.goto(f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}?token={token}",
                          wait_until="domcontentloaded", timeout=READY_S * 1000)
                page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=READY_S * 1000)
                # run only once the kernel is connected and idle (status bar: "... | Idle")
                page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(
                    timeout=READY_S * 1000)
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

                slider = page.locator(".widget-slider").first
                slider.wait_for(timeout=WIDGETS_S * 1000)
                assert page.locator(".jupyter-widgets").count() > 5, "explorer widgets missing"
                summary = page.locator(".pwmodel-summary")
                expect(summary).to_contain_text("N = 64 CPUs", timeout=WIDGETS_S * 1000)
                img = page.locator(".jupyter-widgets img").first
                expect(img).to_have_attribute("src", re.compile(r"^(blob:|data:)"),
                                              timeout=WIDGETS_S * 1000)
                src0 = img.get_attribute("src")

                # move the CPU-count slider one step with the keyboard
                handle = slider.locator(".noUi-handle").first
                handle.focus()
                latency: dict[str, dict[str, float]] = {}
                _measure(page, lambda: handle.press("ArrowRight"), "CPU count (slider)", latency)
                expect(summary).to_contain_text("N = 65 CPUs", timeout=UPDATE_S * 1000)
                page.wait_for_function(
                    "(s) => { const i = document.querySelector('.jupyter-widgets img');"
                    " return i && i.getAttribute('src') !== s; }", arg=src0,
                    timeout=UPDATE_S * 1000)
                readout = slider.locator(".widget-readout").first
                assert readout.inner_text().strip() == "65"
                for desc, value, label, shows in (
                        ("objective", "victim_worst", "objective", "victim_worst QW"),
                        ("isolation level", "housekeeping, busy SCHED_OTHER", "isolation level",
                         "housekeeping, busy SCHED_OTHER"),
                        ("machine", "amd-epyc-7r13-2s", "machine", "amd-epyc-7r13-2s, N = 65")):
                    sel = _dropdown(page, desc)
                    _measure(page, lambda: sel.select_option(label=value), label, latency)
                    expect(summary).to_contain_text(shows, timeout=UPDATE_S * 1000)
                _report_latency(latency, capsys)
            except Exception:
                shot = tmp_path / "failure.png"
                page.screenshot(path=str(shot))
                print(f"screenshot: {shot}; server log: {tmp_path / 'server.log'}")
                raise
            finally:
                browser.close()
    finally:
        _stop_server(proc)
        if not had_checkpoints:
            shutil.rmtree(checkpoints, ignore_errors=True)
    assert proc.poll() is not None, "jupyter lab still running"
    assert _digest(nb_path) == before, f"{NOTEBOOK} was modified by the browser session"
