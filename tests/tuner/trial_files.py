"""SIGKILL a running search at a chosen point, judged from the ``trial_*/trial.json`` records it writes."""

import json
import signal
import time


def trial_statuses(folder) -> dict:
    """``{trial folder name: status}`` of the records readable now (a record being replaced is skipped)."""
    statuses = {}
    for path in folder.glob("trial_*/trial.json") if folder.exists() else []:
        try:
            statuses[path.parent.name] = json.loads(path.read_text())["status"]
        except (json.JSONDecodeError, OSError):
            pass
    return statuses


def kill_when(process, folder, ready, timeout: float, interval: float, what: str = "the run") -> None:
    """Poll ``folder`` until ``ready(statuses)`` (a list of statuses), then SIGKILL ``process``; fail when
    it ends first. The process is killed in any case."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if ready(list(trial_statuses(folder).values())):
                break
            assert process.poll() is None, f"{what} finished before it could be killed"
            time.sleep(interval)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
