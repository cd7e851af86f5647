"""Start a throw-away JupyterLab and a headless Chromium for tests/test_browser.py.

JupyterLab is started by the test itself: loopback only, a free port, no token, ``--allow-root``
(CI runs as root), with its own settings/workspace/runtime directories under a temporary folder and
autosave switched off, so the repository's notebooks are never rewritten by the browser session.
Chromium is Debian's ``/usr/bin/chromium`` driven by Python's playwright (``playwright install`` is
never used; see CONTRACT.md).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REQUIRE_ENV = "BACKPROP_REQUIRE_BROWSER"


def browser_unavailable_reason():
    """None when Chromium and playwright are usable, else the reason (for a skip or a failure)."""
    if not Path(CHROMIUM).exists():
        return (f"{CHROMIUM} not found — install Debian's Chromium "
                f"(apt-get install -y chromium) to run the real-browser test")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        return f"Python playwright is not importable ({e}); pip install -r requirements-dev.txt"
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLabServer:
    """``with JupyterLabServer(tmp_path) as lab: lab.url(...)`` — killed (with its kernels) on exit."""

    def __init__(self, workdir, root=ROOT, startup_timeout=90.0):
        self.workdir = Path(workdir)
        self.root = Path(root)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self.proc = None
        self.log_path = self.workdir / "jupyterlab.log"

    def url(self, path=""):
        return f"{self.base}/{path.lstrip('/')}"

    def __enter__(self):
        settings = self.workdir / "lab-settings"
        plugin = settings / "@jupyterlab" / "docmanager-extension"
        plugin.mkdir(parents=True)
        (plugin / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
        # render every cell (no virtual scrolling), so off-screen widgets keep their text and images
        tracker = settings / "@jupyterlab" / "notebook-extension"
        tracker.mkdir(parents=True)
        (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
        env = dict(os.environ,
                   JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(self.workdir / "workspaces"),
                   JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"),
                   PYTHONUNBUFFERED="1")
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
               f"--ServerApp.root_dir={self.root}", "--allow-root"]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                     cwd=str(self.root), start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self):
        end = time.monotonic() + self.startup_timeout
        last = None
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.proc.returncode}; log:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError) as e:
                last = e
            time.sleep(0.25)
        raise TimeoutError(f"JupyterLab did not answer /api/status within {self.startup_timeout:.0f} s "
                           f"({last}); log:\n{self.log()}")

    def log(self):
        try:
            return self.log_path.read_text()[-4000:]
        except OSError:
            return "(no log)"

    def _shutdown_kernels(self):
        try:
            with urllib.request.urlopen(self.url("api/kernels"), timeout=5) as r:
                kernels = json.load(r)
            for k in kernels:
                req = urllib.request.Request(self.url(f"api/kernels/{k['id']}"), method="DELETE")
                urllib.request.urlopen(req, timeout=10).close()
        except (urllib.error.URLError, OSError, ValueError):
            pass   # the server is already gone: killing its process group below is all that is left

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self._shutdown_kernels()
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if getattr(self, "_log", None):
            self._log.close()
        return False


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
