"""``python -m demo_sources serve`` as dev.py starts it: a subprocess that says when it is ready."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.demo_sources.conftest import TOKENS

ROOT = Path(__file__).resolve().parents[2]


def serve_command(data_dir):
    return [sys.executable, "-m", "demo_sources", "serve", "--data-dir", str(data_dir),
            "--people", "30", "--crm-port", "0", "--support-port", "0"]


def test_serve_prints_ready_writes_the_configuration_and_stops_on_sigterm(tmp_path):
    env = {**os.environ, **TOKENS}
    env.pop("DEMO_BILLING_DATABASE_URL", None)
    process = subprocess.Popen(serve_command(tmp_path), cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = []
        for line in process.stdout:  # bounded: the process prints two lines, then waits
            lines.append(line.strip())
            if line.strip() == "demo sources ready":
                break
        assert lines[-1] == "demo sources ready"
        document = json.loads((tmp_path / "sources.json").read_text())
        assert [s["code"] for s in document["sources"]] == ["crm", "billing", "support",
                                                             "webshop"]
        assert TOKENS["DEMO_CRM_TOKEN"] not in (tmp_path / "sources.json").read_text()
        crm_url = document["sources"][0]["connector_settings"]["base_url"]
        assert httpx.get(f"{crm_url}/health").json()["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_refuses_to_start_without_tokens(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEMO_")}

    finished = subprocess.run(serve_command(tmp_path), cwd=ROOT, env=env, text=True,
                              capture_output=True, timeout=60)

    assert finished.returncode == 2
    assert "DEMO_CRM_TOKEN" in finished.stderr and "demo sources ready" not in finished.stdout
