"""``dev.py demo`` runs the privacy step runner beside the hub and stops it with the hub."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dev  # noqa: E402 - dev.py lives at the repository root, outside any package


class Recorder:
    """Stands in for the steps of ``dev.demo`` that start or run processes."""

    def __init__(self):
        self.log, self.runner, self.sources = [], None, None

    def run(self, *args, env=None):
        self.log.append(("run", args[1]))
        if args[1] == "runserver":
            assert self.runner is not None and self.runner.poll() is None  # running beside it
            raise KeyboardInterrupt  # the developer stops the hub with Ctrl-C

    def start_runner(self, env):
        self.log.append(("start", "run_privacy_steps"))
        self.runner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        return self.runner

    def start_sources(self, env):
        self.log.append(("start", "demo_sources"))
        self.sources = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        return self.sources


def test_demo_starts_the_runner_after_the_sync_and_stops_it_with_the_hub(monkeypatch, tmp_path):
    recorder = Recorder()
    monkeypatch.setattr(dev, "_run", recorder.run)
    monkeypatch.setattr(dev, "_start_privacy_runner", recorder.start_runner)
    monkeypatch.setattr(dev, "_start_demo_sources", recorder.start_sources)
    monkeypatch.setattr(dev, "DEMO_DATA", tmp_path)
    monkeypatch.setenv("PRIVACY_HMAC_KEY", "test-key")  # no key file written into var/
    (tmp_path / "sources.env").write_text("")

    assert dev.demo([]) == 0

    assert recorder.log == [("start", "demo_sources"), ("run", "migrate"),
                            ("run", "load_sources"), ("run", "sync"), ("run", "load_demo"),
                            ("start", "run_privacy_steps"), ("run", "runserver")]
    assert recorder.runner.poll() is not None  # stopped when the hub stopped
    assert recorder.sources.poll() is not None


@pytest.fixture
def migrated(tmp_path):
    """The environment of a hub whose SQLite database is migrated."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite3'}",
           "CELERY_BROKER_URL": ""}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                   cwd=ROOT, env=env, check=True, timeout=300)
    return env


def test_the_runner_runs_its_passes_into_the_log_and_stops_cleanly_on_sigterm(
        migrated, tmp_path):
    log = tmp_path / "privacy-steps.log"
    runner = dev._start_privacy_runner(migrated, log)
    try:
        deadline = time.monotonic() + 60
        while "privacy steps run: 0" not in log.read_text() and time.monotonic() < deadline:
            assert runner.poll() is None, log.read_text()
            time.sleep(0.2)
        assert "privacy steps run: 0; expired exports deleted: 0" in log.read_text()
        assert runner.poll() is None  # waiting for its next pass
        assert runner.args[-3:] == ["run_privacy_steps", "--loop", "60"]
    finally:
        started = time.monotonic()
        dev._stop(runner)
    assert runner.returncode == 0 and time.monotonic() - started < 10
    assert log.read_text().rstrip().endswith("privacy step runner stopped")
