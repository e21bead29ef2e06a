"""Write docs/protocols.md from octopus.protocols.fidelity (the test pins the result)."""

from __future__ import annotations

from pathlib import Path

from octopus.protocols.fidelity import render

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocols.md"


def main() -> None:
    DOC.write_text(render())
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
