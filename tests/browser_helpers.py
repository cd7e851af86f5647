"""Start a throw-away JupyterLab or Voilà server and a headless Chromium for the browser tests.

Both servers are started by the test itself: loopback only, a free port picked once and pinned
(``port_retries=0``), no token, with their runtime directories under a temporary folder, and
stopped (with their kernels) when the ``with`` block ends. JupyterLab runs with ``--allow-root``
(CI runs as root) and autosave switched off, so the repository's notebooks are never rewritten by
the browser session; Voilà never writes notebooks. Chromium is Debian's ``/usr/bin/chromium`` driven
by Python's playwright (``playwright install`` is never used; see CONTRACT.md).
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


def _children(pid):
    """Process ids whose parent is ``pid`` (read from /proc; empty where /proc is missing)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue      # the process ended while we looked
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


class _Server:
    """A server process in its own session: ``with Server(tmp_path) as s: s.url(...)``.

    Subclasses give ``name``, ``command()``, ``environment()`` and ``ready_path`` (a cheap URL
    that answers 200 once the server listens). On exit: ``_before_stop()``, SIGTERM to the
    server's process group, SIGKILL if it lingers, then SIGKILL to any kernel it had started
    (jupyter_client starts kernels in sessions of their own, out of the group's reach)."""

    name = "server"
    ready_path = "/"

    def __init__(self, workdir, root=ROOT, startup_timeout=90.0):
        self.workdir = Path(workdir)
        self.root = Path(root)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self.proc = None
        self.log_path = self.workdir / f"{self.name.lower()}.log"

    def url(self, path=""):
        return f"{self.base}/{path.lstrip('/')}"

    def command(self):
        raise NotImplementedError

    def environment(self):
        return dict(os.environ, JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"), PYTHONUNBUFFERED="1")

    def __enter__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT, env=env,
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
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}; log:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url(self.ready_path), timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError) as e:
                last = e
            time.sleep(0.25)
        raise TimeoutError(f"{self.name} did not answer {self.ready_path} within {self.startup_timeout:.0f} s "
                           f"({last}); log:\n{self.log()}")

    def log(self):
        try:
            return self.log_path.read_text()[-4000:]
        except OSError:
            return "(no log)"

    def _before_stop(self):
        pass

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self._before_stop()
            kernels = _children(self.proc.pid)
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
            for pid in kernels:          # normally already shut down by the server itself
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if getattr(self, "_log", None):
            self._log.close()
        return False


class JupyterLabServer(_Server):
    """JupyterLab on the repository, autosave off, every cell rendered (no virtual scrolling)."""

    name = "JupyterLab"
    ready_path = "api/status"

    def environment(self):
        settings = self.workdir / "lab-settings"
        plugin = settings / "@jupyterlab" / "docmanager-extension"
        plugin.mkdir(parents=True)
        (plugin / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
        # render every cell (no virtual scrolling), so off-screen widgets keep their text and images
        tracker = settings / "@jupyterlab" / "notebook-extension"
        tracker.mkdir(parents=True)
        (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
        return dict(super().environment(), JUPYTERLAB_SETTINGS_DIR=str(settings),
                    JUPYTERLAB_WORKSPACES_DIR=str(self.workdir / "workspaces"))

    def command(self):
        return [sys.executable, "-m", "jupyter", "lab", "--no-browser",
                "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                f"--ServerApp.root_dir={self.root}", "--allow-root"]

    def _before_stop(self):
        """Ask JupyterLab to shut its kernels down (cleanly) before the server goes."""
        try:
            with urllib.request.urlopen(self.url("api/kernels"), timeout=5) as r:
                kernels = json.load(r)
            for k in kernels:
                req = urllib.request.Request(self.url(f"api/kernels/{k['id']}"), method="DELETE")
                urllib.request.urlopen(req, timeout=10).close()
        except (urllib.error.URLError, OSError, ValueError):
            pass   # the server is already gone: killing its process group and kernels is all that is left


class VoilaServer(_Server):
    """Voilà serving one notebook (``notebook``, relative to the repository) as a page without code.

    Voilà starts one kernel per page view, runs the notebook in it and keeps it for the page's
    widgets; on SIGTERM it shuts its kernels down itself."""

    name = "Voila"
    ready_path = "voila/static/voila.js"     # a static file: answers without starting a kernel

    def __init__(self, workdir, notebook, **kw):
        super().__init__(workdir, **kw)
        self.notebook = notebook

    def command(self):
        return [sys.executable, "-m", "voila", str(self.notebook), "--no-browser",
                "--Voila.ip=127.0.0.1", f"--Voila.port={self.port}", "--Voila.port_retries=0",
                "--VoilaConfiguration.show_tracebacks=True"]


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
