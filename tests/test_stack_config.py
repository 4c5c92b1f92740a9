"""The native stack's process list, read without running it."""

from stack.config import ROOT, StackConfig
from stack.processes import all_processes


def test_a_process_run_as_another_user_starts_in_a_folder_of_its_own(tmp_path):
    # As root, PostgreSQL runs as `postgres`, which cannot enter a clone in a closed home folder (/root):
    # supervisord would fail to start it in the repository's folder.
    cfg = StackConfig(var=tmp_path / "var", port_base=30000, gateway_port=30080)
    for process in all_processes(cfg):
        if process.role == "postgres":
            assert process.directory is not None and ROOT not in [process.directory, *process.directory.parents]
            assert process.directory == cfg.pg_data(process.service)
