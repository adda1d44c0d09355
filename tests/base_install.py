"""Run a console script as it runs after `pip install .` with no extras.

    python tests/base_install.py htlm-pipeline --help
    python tests/base_install.py --import-all

Every top-level module whose distribution is not in the base requirements of `htlm` (its
`install_requires` and theirs, recursively; extras left out) is made unimportable before the
script starts, so the dev install this runs in behaves as a base install would.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.metadata as metadata
import pkgutil
import sys

from packaging.requirements import Requirement


def base_closure(root: str = "htlm") -> set[str]:
    """Normalised names of the distributions a base install of ``root`` brings."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def blocked_modules() -> set[str]:
    closure = base_closure()
    return {
        module
        for module, dists in metadata.packages_distributions().items()
        if module not in sys.stdlib_module_names
        and not any(dist.lower().replace("_", "-") in closure for dist in dists)
    }


class Blocker(importlib.abc.MetaPathFinder):
    def __init__(self, blocked: set[str]) -> None:
        self.blocked = blocked

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".", 1)[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {fullname!r} (not in a base install)", name=fullname)
        return None


def main() -> int:
    blocked = blocked_modules()
    assert {"torch", "fairseq", "pytest"} <= blocked, sorted(blocked)
    sys.meta_path.insert(0, Blocker(blocked))
    if sys.argv[1] == "--import-all":
        import htlm.pipeline

        for module in pkgutil.walk_packages(htlm.pipeline.__path__, "htlm.pipeline."):
            if not module.name.endswith(".__main__"):
                importlib.import_module(module.name)
        return 0
    script = sys.argv[1]
    (entry,) = [e for e in metadata.entry_points(group="console_scripts") if e.name == script]
    sys.argv = [script, *sys.argv[2:]]
    return entry.load()()


if __name__ == "__main__":
    sys.exit(main())
