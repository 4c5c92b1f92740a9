"""gunicorn with the kit's settings (`--config python:service_kit.gunicorn_conf`): where its control socket goes."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[1]
APP = "def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n"


@pytest.fixture
def folders(tmp_path):
    made = {name: tmp_path / name for name in ("app", "home", "tmp")}
    for path in made.values():
        path.mkdir()
    (made["app"] / "app.py").write_text(APP)
    return made


def gunicorn_log(folders, home: Path) -> str:
    """gunicorn's log as it starts, up to its control socket's line."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "TMPDIR": str(folders["tmp"]),
        "PYTHONPATH": str(KIT),
        "SERVICE_NAME": "kit",
    }
    argv = [
        sys.executable, "-m", "gunicorn", "app:application", "--chdir", str(folders["app"]),
        "--bind", "127.0.0.1:0", "--workers", "1", "--config", "python:service_kit.gunicorn_conf",
    ]  # fmt: skip
    process = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "Control socket listening" in line or "Control server error" in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    return "".join(lines)


def test_a_home_it_cannot_write_puts_the_control_socket_in_the_temporary_folder(folders):
    # A home where no folder can be made, whoever runs the test (root writes anywhere): one inside a file. In an
    # image, the home (/app) belongs to root and the app user cannot write it.
    (folders["home"] / "file").write_text("")
    log = gunicorn_log(folders, folders["home"] / "file" / "home")

    assert f"Control socket listening at {folders['tmp'] / 'gunicorn.ctl'}" in log, log
    assert "Control server error" not in log


def test_a_home_it_can_write_keeps_gunicorn_s_own_default(folders):
    log = gunicorn_log(folders, folders["home"])

    assert f"Control socket listening at {folders['home'] / '.gunicorn' / 'gunicorn.ctl'}" in log, log
