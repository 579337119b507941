#!/usr/bin/env python3
"""One-command set-up for newcomers and CI: only the Python standard library is used here.

    python3 dev.py demo   create .venv, install, migrate, load the demo data, run the hub
    python3 dev.py test   create .venv if needed, install, run the whole test suite

The virtual environment is reinstalled only when pyproject.toml changes (a stamp file in .venv
remembers the hash of the file it was installed from), so repeated runs start at once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
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


def _run(*args: str) -> None:
    subprocess.run([str(PYTHON), *args], check=True, cwd=ROOT)


def demo(extra: list[str]) -> int:
    """Migrate the default database, load the demo data and serve the hub."""
    address = extra[0] if extra else "127.0.0.1:8000"
    _run("manage.py", "migrate", "--noinput")
    _run("manage.py", "load_demo")
    print(f"\nThe hub is starting on http://{address}/  (admin: /admin/, API: /api/docs/)\n",
          flush=True)
    try:
        _run("manage.py", "runserver", address, "--noreload")
    except KeyboardInterrupt:
        pass
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
