"""gunicorn with the kit's settings (`--config python:service_kit.gunicorn_conf`): no control socket, anywhere."""

import os
import select
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
    """gunicorn's log from its start to two seconds after its worker's (its control server, when on, starts
    beside the worker)."""
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
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([process.stderr], [], [], left)[0]:
                break
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "Booting worker" in line:
                deadline = min(deadline, time.monotonic() + 2)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return "".join(lines)


@pytest.mark.parametrize("writable_home", [True, False], ids=["native", "image"])
def test_gunicorn_opens_no_control_socket(folders, writable_home):
    # A home where no folder can be made, whoever runs the test (root writes anywhere): one inside a file. In an
    # image, the home (/app) belongs to root and the app user cannot write it.
    (folders["home"] / "file").write_text("")
    home = folders["home"] if writable_home else folders["home"] / "file" / "home"

    log = gunicorn_log(folders, home)

    assert "Booting worker" in log, log
    assert "Control" not in log, log
    assert not (folders["home"] / ".gunicorn").exists()


def test_master_preloads_libraries_and_no_code_of_a_service():
    """What a web's master imports before it forks its workers (SHARED_LIBRARIES) reads no settings and imports
    no code of a service or of the kit: a graceful reload (HUP) must start its workers on the new code."""
    script = (
        "import sys\n"
        "from service_kit import gunicorn_conf\n"
        "before = set(sys.modules)\n"
        "gunicorn_conf.preload_libraries()\n"
        "from django.conf import settings\n"
        "new = set(sys.modules) - before\n"
        "ours = sorted(m for m in new if m.split('.')[0] in ('service_kit', 'tests', 'config'))\n"
        "print(settings.configured, len(new), ours)\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(KIT),
        # Importable here: a library that read a setting as it is imported would load it.
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "SERVICE_NAME": "kit",
    }
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=KIT, capture_output=True, text=True, timeout=120, check=True
    ).stdout.split(" ", 2)

    configured, count, ours = out
    assert configured == "False"
    assert ours.strip() == "[]"
    assert int(count) > 500  # Django, DRF, Celery, psycopg ... are in the master
