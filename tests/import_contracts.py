"""An import-linter contract type that lists what a package MAY import (an allow-list).

`[tool.importlinter] contract_types` registers it as `allow_list`. Every module under
`source_modules` may import the standard library, its own package, and what `allowed_modules`
names (a package allows its descendants); any other direct import breaks the contract.
"""

from __future__ import annotations

import sys

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output
from importlinter.domain.imports import Module


class AllowListContract(Contract):
    type_name = "allow_list"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        sources: list[Module] = self.source_modules  # type: ignore[assignment]
        listed: list[str] = self.allowed_modules  # type: ignore[assignment]
        refused: list[tuple[str, str]] = []
        for source in sources:
            allowed = (source.name, *listed)
            for module in sorted({source.name} | graph.find_descendants(source.name)):
                imported = sorted(graph.find_modules_directly_imported_by(module))
                refused.extend((module, i) for i in imported if not permitted(i, allowed))
        return ContractCheck(kept=not refused, metadata={"refused": refused})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported in check.metadata["refused"]:
            output.print_error(f"{importer} imports {imported}, which is not on the allow-list")
            output.new_line()


def permitted(imported: str, allowed: tuple[str, ...]) -> bool:
    top = imported.split(".")[0]
    if top in sys.stdlib_module_names:
        return True
    return any(imported == name or imported.startswith(name + ".") for name in allowed)
