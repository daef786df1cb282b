"""The course in a real browser: JupyterLab in headless Chromium shows run_a_gan's live view.

The test starts JupyterLab (a free port, a token, its own settings and runtime folders)
on a temporary copy of notebook 05, opens it in headless Chromium driven by Selenium,
runs every cell up to and including the training cell (the kernel inherits
``GAN_COURSE_QUICK=1``, so training stops after 20 steps), and reads from the page that
the live training view (gan_helpers.widgets.LiveTraining) rendered and then updated:
its progress bar goes from under 100 % to 100 % and its status line ends with the
summary and images per second. A screenshot is kept in ``artifacts/browser/``.

It needs Debian's ``chromium`` and ``chromium-driver`` packages: ``./course test``
installs them when it can (root and apt-get); without them the test fails and says
how to install them, or, where they cannot be installed (not root, no apt-get), it
is skipped with the reason.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_vanilla_gan_mnist.ipynb"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "apt-get install -y chromium chromium-driver"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1200"]
SERVER_START_S = 60
NOTEBOOK_OPEN_S = 60
TRAINING_S = 150


def _can_install_system_packages():
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def require_browser():
    """Chromium, its driver and Selenium, or a failure (or skip) that says what to do."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        if _can_install_system_packages():
            pytest.fail(f"{' and '.join(missing)} missing: the browser test needs Debian's chromium and "
                        f"chromium-driver. Install them with `{INSTALL}` (./course test does this itself).")
        pytest.skip(f"{' and '.join(missing)} missing and this user cannot install them (needs root and "
                    f"apt-get): ask an administrator for `{INSTALL}`.")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.fail("selenium is missing: install the course's dev extra, pip install -e '.[dev]' "
                    "(./course test does this).")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(folder):
    """JupyterLab user settings: no news, no update checks (there is no network)."""
    plugin = folder / "@jupyterlab" / "apputils-extension"
    plugin.mkdir(parents=True)
    (plugin / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))


class JupyterLab:
    """A JupyterLab server on a folder, in its own process group, with its own config and runtime dirs."""

    def __init__(self, root_dir, home):
        self.port, self.token = free_port(), os.urandom(12).hex()
        self.url = f"http://127.0.0.1:{self.port}"
        for name in ("config", "settings", "workspaces"):
            (home / name).mkdir(parents=True, exist_ok=True)
        _settings(home / "settings")
        # The kernel talks to the server over Unix sockets, so that no other test's kernel can take
        # its TCP ports before it binds them; they live in the runtime folder, whose path must be
        # short (a socket's path has at most 107 characters).
        self.runtime = tempfile.mkdtemp(prefix="lab-")
        env = dict(os.environ, GAN_COURSE_QUICK="1", JUPYTER_CONFIG_DIR=str(home / "config"),
                   JUPYTER_RUNTIME_DIR=self.runtime, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"))
        # The kernel must see what a student's sees: not a test run, widgets decided as usual.
        for name in ("PYTEST_CURRENT_TEST", "GAN_COURSE_WIDGETS"):
            env.pop(name, None)
        self.log = open(home / "jupyterlab.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root_dir}",
             "--ServerApp.port_retries=0", "--KernelManager.transport=ipc", "--LabApp.expose_app_in_browser=True",
             "--LabApp.extension_manager=readonly"] + (["--allow-root"] if os.geteuid() == 0 else []),
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.home = home

    def wait_ready(self, seconds=SERVER_START_S):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({self.process.returncode}):\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer within {seconds} s:\n{self.log_text()}")

    def log_text(self):
        self.log.flush()
        return (self.home / "jupyterlab.log").read_text()[-4000:]

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log.close()
        shutil.rmtree(self.runtime, ignore_errors=True)


def chromium(profile):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_script_timeout(30)
    return driver


def wait_for(driver, script, seconds, what, *args):
    """Run ``script`` in the page until it returns something truthy; that value, or a clear failure."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not seen within {seconds} s")


NOTEBOOK_READY = """
const app = window.jupyterapp;
const panel = app && app.shell.currentWidget;
if (!panel || !panel.content || !panel.context || !panel.context.isReady) return false;
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
return kernel && kernel.status === 'idle' && panel.content.widgets.length === arguments[0];
"""

RUN_UP_TO = """
const app = window.jupyterapp;
const panel = app.shell.currentWidget;
panel.content.activeCellIndex = arguments[0] + 1;   // run every cell above this one
app.commands.execute('notebook:run-all-above');
return panel.content.activeCellIndex;
"""

# What the live view shows now: the progress bar's width, the status line, the samples' label.
VIEW_STATE = """
const view = document.querySelector('.gan-live-training');
if (!view) return null;
const bar = view.querySelector('.widget-hprogress .progress-bar');
const label = view.querySelector('.widget-hprogress .widget-label');
const html = Array.from(view.querySelectorAll('.widget-html-content')).map(e => e.innerText);
const images = Array.from(view.querySelectorAll('img')).map(i => [i.naturalWidth, i.naturalHeight]);
return {width: bar ? bar.style.width : null, done: bar ? bar.classList.contains('progress-bar-success') : false,
        label: label ? label.innerText : null, texts: html, images: images};
"""

IMAGES_LOADED = """
const images = Array.from(document.querySelectorAll('.gan-live-training img'));
return images.length === 2 && images.every(i => i.complete && i.naturalWidth > 0);
"""

TRAINING_OUTPUT_ERRORS = """
const panel = window.jupyterapp.shell.currentWidget;
const errors = document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]');
return Array.from(errors).map(e => e.innerText).filter(t => /Error|Traceback/.test(t)).join('\\n');
"""


def training_cell(path):
    cells = nbformat.read(str(path), as_version=4).cells
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and "run_a_gan(" in cell.source:
            return index, len(cells)
    raise AssertionError(f"{path.name} has no cell that calls run_a_gan(")


def run_live_view_in_browser(notebook, tmp_path):
    """Open ``notebook`` in JupyterLab in Chromium, train, and return the view's states and the screenshot."""
    require_browser()
    work = tmp_path / "notebooks"
    work.mkdir()
    shutil.copy(notebook, work / notebook.name)
    index, count = training_cell(notebook)
    lab = JupyterLab(work, tmp_path / "jupyter")
    driver = None
    shot = ARTIFACTS / f"{notebook.stem}_live_training.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()

    def mark(what):
        print(f"{time.monotonic() - start:5.1f} s  {what}")

    try:
        driver = chromium(tmp_path / "chromium-profile")
        mark("chromium started")
        lab.wait_ready()
        mark("JupyterLab ready")
        driver.get(f"{lab.url}/lab/tree/{notebook.name}?token={lab.token}&reset")
        wait_for(driver, NOTEBOOK_READY, NOTEBOOK_OPEN_S, f"{notebook.name} open with an idle kernel", count)
        mark(f"{notebook.name} open, kernel idle; running cells 0 to {index}")
        driver.execute_script(RUN_UP_TO, index)
        states = [wait_for(driver, VIEW_STATE, TRAINING_S, "the live training view")]
        mark("live view shown")
        deadline = time.monotonic() + TRAINING_S
        while time.monotonic() < deadline:
            state = driver.execute_script(VIEW_STATE)
            if state != states[-1]:
                states.append(state)
            if state and any(text.startswith(("Completed", "Interrupted", "Nan")) for text in state["texts"]):
                break
            time.sleep(0.2)
        mark("training ended")
        try:  # the pictures arrive as blobs and load a moment after the summary
            wait_for(driver, IMAGES_LOADED, 20, "the loss plot and the samples loaded")
        except AssertionError:
            pass  # check_live_view says what is missing
        states.append(driver.execute_script(VIEW_STATE))
        errors = driver.execute_script(TRAINING_OUTPUT_ERRORS)
        driver.execute_script("document.querySelector('.gan-live-training').scrollIntoView({block: 'center'});")
        time.sleep(0.3)
        driver.save_screenshot(str(shot))
        print(f"screenshot: {shot}")
        return states, errors, shot
    except Exception:
        if driver is not None:
            driver.save_screenshot(str(shot))
            print(f"screenshot: {shot}")
        print(lab.log_text())
        raise
    finally:
        if driver is not None:
            driver.quit()
        lab.stop()


def check_live_view(states, errors):
    first, last = states[0], states[-1]
    assert not errors, f"the notebook printed an error:\n{errors}"
    summary = [text for text in last["texts"] if text.startswith("Completed")]
    assert summary and "img/s" in summary[0], f"no summary with images per second in {last['texts']}"
    assert last["width"] == "100%" and last["label"] == "100%" and last["done"], f"the progress bar ended: {last}"
    widths = [state["width"] for state in states]
    assert any(width != "100%" for width in widths), f"the progress bar never showed progress under 100%: {widths}"
    assert any("at step 0" in text for state in states for text in state["texts"]), "no samples at step 0 shown"
    assert any("at step" in text and "at step 0" not in text for text in last["texts"]), last["texts"]
    assert len(last["images"]) == 2 and all(width > 100 for width, _ in last["images"]), last["images"]
    assert first != last


def test_live_training_view_renders_and_updates_in_jupyterlab(tmp_path):
    if not NOTEBOOK.exists():
        pytest.fail(f"{NOTEBOOK.relative_to(ROOT)} does not exist yet: the browser test opens notebook 05.")
    states, errors, shot = run_live_view_in_browser(NOTEBOOK, tmp_path)
    check_live_view(states, errors)
    assert shot.stat().st_size > 10_000
