"""lab/isolate.py on its own: the verdict comes from what the child sends, never from how it ends."""
import os
import time

from lab import isolate


def _targets():
    def fine(job, src, send):
        send({"stage": "working"})
        send({"partial": {"step": 1}})
        return {"cwd": os.getcwd(), "src": src, "home": os.environ.get("HOME"), "env": sorted(os.environ)}

    def exits(job, src, send):
        send({"stage": "about to exit"})
        os._exit(0)

    def hangs(job, src, send):
        send({"stage": "looping"})
        send({"partial": {"step": 1}})
        while True:
            pass

    return dict(fine=fine, exits=exits, hangs=hangs)


def run(kind, tmp_path, **kw):
    path = tmp_path / "sub.py"
    path.write_text("# a submission\n")
    targets = _targets()
    return isolate.run_isolated([dict(path=str(path))], lambda job, src, send: targets[kind](job, src, send), **kw)[0]


def test_a_result_comes_back_with_stage_partials_and_a_private_cwd(tmp_path):
    out = run("fine", tmp_path)
    assert out.reason is None and out.stage == "working" and out.partial == [{"step": 1}]
    assert out.result["cwd"] != os.getcwd() and "backprop-check-" in out.result["cwd"]
    assert out.result["src"].endswith("sub.py") and out.result["src"] != str(tmp_path / "sub.py")   # a private copy
    assert out.result["home"] == out.result["cwd"]
    assert "CUDA_VISIBLE_DEVICES" in out.result["env"] and len(out.result["env"]) < 20           # a minimal env
    assert out.exit_status == "exit 0" and out.unenforced == []


def test_exit_status_zero_without_a_result_is_not_a_pass(tmp_path):
    out = run("exits", tmp_path)
    assert out.result is None and out.exit_status == "exit 0"
    assert out.reason.startswith("the process ended (exit status 0) (during about to exit) before the checker could report")


def test_the_time_limit_kills_and_keeps_the_partial_work(tmp_path):
    t0 = time.perf_counter()
    out = run("hangs", tmp_path, timeout=1.5)
    assert time.perf_counter() - t0 < 4
    assert out.result is None and out.reason.startswith("time limit of 1.5 s exceeded (during looping)")
    assert out.partial == [{"step": 1}] and out.exit_status == "signal SIGKILL"


def test_a_memory_limit_that_cannot_be_measured_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(isolate, "_vm_size", lambda: 0)
    out = run("fine", tmp_path)
    assert out.result is not None
    assert out.unenforced and out.unenforced[0].startswith("memory")
    assert any(n.startswith("limits not enforced on this platform: memory") for n in out.notes())
