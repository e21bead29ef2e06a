"""After `coverage run -m pytest`: fail under the line-coverage floors, naming the least-covered
modules so the next test has an obvious target.

Floors: 90 % for the whole package, 98 % for octopus/protocols (pure code, cheap to test).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import coverage

FLOORS = (("octopus", "/octopus/", 90.0), ("octopus.protocols", "/octopus/protocols/", 98.0))
LEAST = 12


@dataclass(frozen=True)
class Module:
    path: str
    statements: int
    missing: int

    @property
    def percent(self) -> float:
        return (
            100.0 * (self.statements - self.missing) / self.statements if self.statements else 100.0
        )


def measured() -> list[Module]:
    cov = coverage.Coverage()
    cov.load()
    modules = []
    for path in sorted(cov.get_data().measured_files()):
        _name, statements, _excluded, missing, _text = cov.analysis2(path)
        modules.append(Module(path, len(statements), len(missing)))
    return modules


def ratio(statements: int, missing: int) -> float:
    return 100.0 * (statements - missing) / statements if statements else 100.0


def percent(modules: list[Module]) -> float:
    return ratio(sum(m.statements for m in modules), sum(m.missing for m in modules))


def short(path: str) -> str:
    return path[path.rfind("/octopus/") + 1 :]


def main() -> int:
    modules = measured()
    print(f"least-covered modules (of {len(modules)}):")
    for module in sorted(modules, key=lambda m: (m.percent, -m.missing))[:LEAST]:
        print(f"  {module.percent:5.1f} %  {module.missing:4d} lines unrun  {short(module.path)}")
    failed = False
    for name, marker, floor in FLOORS:
        value = percent([m for m in modules if marker in m.path])
        verdict = "ok" if value >= floor else "UNDER THE FLOOR"
        print(f"{name}: {value:.2f} % (floor {floor:.0f} %) {verdict}")
        failed |= value < floor
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
