"""Requirements from the pyprojects, one a line, pinned later by constraints.txt.

`python requirements.py users_svc`: a service's runtime requirements, with service-kit's in its place
(the container images, before anything is installed). `python requirements.py --all`: everything the
repository declares, test and dev extras included (scripts/bootstrap.sh, for the native .venv).
Standard library only.
"""

import sys
import tomllib
from pathlib import Path

KIT = "service-kit"


def dependencies(pyproject: Path, *, extras: bool = False) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    found = list(project.get("dependencies", []))
    if extras:
        for extra in project.get("optional-dependencies", {}).values():
            found.extend(extra)
    return found


def service_requirements(root: Path, service_dir: str) -> list[str]:
    kit = dependencies(root / "libs" / "service_kit" / "pyproject.toml")
    found = []
    for requirement in dependencies(root / service_dir / "pyproject.toml"):
        found.extend(kit if requirement == KIT else [requirement])
    return found


def all_requirements(root: Path) -> list[str]:
    pyprojects = [root / "pyproject.toml", root / "libs" / "service_kit" / "pyproject.toml"]
    pyprojects += sorted(root.glob("*_svc/pyproject.toml"))
    found = {requirement for path in pyprojects for requirement in dependencies(path, extras=True)}
    return sorted(found - {KIT})


if __name__ == "__main__":
    if sys.argv[1] == "--all":
        print("\n".join(all_requirements(Path.cwd())))
    else:
        print("\n".join(service_requirements(Path.cwd(), sys.argv[1])))
