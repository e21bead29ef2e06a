"""The allow-list contract type refuses what it does not list (checked on a graph built here)."""

from __future__ import annotations

from grimp import ImportGraph

from tests.import_contracts import AllowListContract


def _graph(*imports: tuple[str, str]) -> ImportGraph:
    graph = ImportGraph()
    for module in ("pkg", "pkg.protocols", "pkg.protocols.codec", "pkg.errors", "pkg.store"):
        graph.add_module(module)
    for external in ("msgspec", "orjson", "json", "__future__"):
        graph.add_module(external, is_squashed=True)
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported)
    return graph


def _contract() -> AllowListContract:
    return AllowListContract(
        name="protocols",
        session_options={"root_packages": ["pkg"]},
        contract_options={
            "source_modules": ["pkg.protocols"],
            "allowed_modules": ["msgspec", "pkg.errors"],
        },
    )


def test_listed_stdlib_and_own_imports_keep_the_contract() -> None:
    graph = _graph(
        ("pkg.protocols.codec", "msgspec"),
        ("pkg.protocols.codec", "json"),
        ("pkg.protocols.codec", "__future__"),
        ("pkg.protocols.codec", "pkg.errors"),
        ("pkg.protocols.codec", "pkg.protocols"),
    )
    assert _contract().check(graph, verbose=False).kept


def test_anything_else_breaks_it() -> None:
    graph = _graph(("pkg.protocols.codec", "orjson"), ("pkg.protocols", "pkg.store"))
    check = _contract().check(graph, verbose=False)
    assert not check.kept
    assert check.metadata["refused"] == [
        ("pkg.protocols", "pkg.store"),
        ("pkg.protocols.codec", "orjson"),
    ]
