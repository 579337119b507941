#!/usr/bin/env python3
"""One-command set-up for newcomers and CI: only the Python standard library is used here.

    python3 dev.py demo   create .venv, install, start the demo source systems, migrate,
                          sync the sources into the hub, run the hub and, beside it, the
                          privacy step runner (retries and purges, every 60 seconds)
    python3 dev.py test   create .venv if needed, install, run the whole test suite

The virtual environment is reinstalled only when pyproject.toml changes (a stamp file in .venv
remembers the hash of the file it was installed from), so repeated runs start at once.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import threading
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-from"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _requirements() -> list[str]:
    """Runtime and development dependencies, read from pyproject.toml (one list to maintain)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["dev"]


def ensure_environment() -> None:
    """Create .venv and install the dependencies unless it is already up to date."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing dependencies (first run only) ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, *_requirements()], check=True)
    STAMP.write_text(wanted)


def _run(*args: str, env: dict | None = None) -> None:
    subprocess.run([str(PYTHON), *args], check=True, cwd=ROOT, env=env)


DEMO_DATA = ROOT / "var" / "demo-sources"
DEMO_TOKENS = ("DEMO_CRM_TOKEN", "DEMO_SUPPORT_TOKEN")


def _start_demo_sources(env: dict) -> subprocess.Popen:
    """Start the four demo source systems and wait until they listen."""
    print("Starting the demo source systems (CRM, support desk, billing, web shop) ...",
          flush=True)
    process = subprocess.Popen(
        [str(PYTHON), "-m", "demo_sources", "serve", "--data-dir", str(DEMO_DATA)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        print(f"  {line.rstrip()}", flush=True)
        if line.strip() == "demo sources ready":
            break
    else:
        raise SystemExit("the demo source systems did not start (see the lines above)")
    # Keep reading what they print, so that a full pipe never blocks them.
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    return process


PRIVACY_RUNNER_LOG = ROOT / "var" / "privacy-steps.log"
PRIVACY_RUNNER_INTERVAL = "60"


def _start_privacy_runner(env: dict, log_path: Path = PRIVACY_RUNNER_LOG) -> subprocess.Popen:
    """Run the privacy steps that fall due every minute, beside the hub.

    Without Celery nothing else would retry a source that was down or delete an expired
    export. Its output (counts only) goes to ``log_path`` so the hub's console stays readable.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as log:  # the child keeps its own descriptor of the file
        return subprocess.Popen(
            [str(PYTHON), "manage.py", "run_privacy_steps", "--loop", PRIVACY_RUNNER_INTERVAL],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not ended within ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _demo_environment() -> dict:
    """The environment of the demo processes: fresh API tokens for the REST demo sources,
    shared by the sources (which check them) and the hub (which sends them), and the demo's
    key for the suppression list of erased people (kept in var/, so that hashes written by
    one run still match in the next)."""
    env = dict(os.environ)
    for name in DEMO_TOKENS:
        env.setdefault(name, secrets.token_urlsafe(24))
    if not env.get("PRIVACY_HMAC_KEY") and not env.get("PRIVACY_HMAC_KEY_FILE"):
        key_file = ROOT / "var" / "privacy-hmac.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        env["PRIVACY_HMAC_KEY_FILE"] = str(key_file)
    return env


def demo(extra: list[str]) -> int:
    """Start the demo sources, migrate, configure and sync them into the hub, and serve it."""
    address = extra[0] if extra else "127.0.0.1:8000"
    env = _demo_environment()
    sources = _start_demo_sources(env)
    privacy_runner = None
    try:
        for line in (DEMO_DATA / "sources.env").read_text().splitlines():
            name, _, value = line.partition("=")
            if name:
                env.setdefault(name, value)
        _run("manage.py", "migrate", "--noinput", env=env)
        _run("manage.py", "load_sources", str(DEMO_DATA / "sources.json"), env=env)
        _run("manage.py", "sync", env=env)
        _run("manage.py", "load_demo", env=env)
        privacy_runner = _start_privacy_runner(env)
        print(f"\nThe hub is starting on http://{address}/  (admin: /admin/, API: /api/docs/)"
              f"\nPrivacy steps run every {PRIVACY_RUNNER_INTERVAL} s in the background "
              f"(log: {PRIVACY_RUNNER_LOG.relative_to(ROOT)})\n", flush=True)
        _run("manage.py", "runserver", address, "--noreload", env=env)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(privacy_runner)
        _stop(sources)
    return 0


def test(extra: list[str]) -> int:
    """Run the whole pytest suite with the given extra pytest arguments."""
    return subprocess.run([str(PYTHON), "-m", "pytest", *extra], cwd=ROOT).returncode


COMMANDS = {"demo": demo, "test": test}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    ensure_environment()
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
