"""Where the shared protocol recordings live: `shared/` stands beside the repository."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROTOCOL_FIXTURES = REPO.parent / "shared" / "fixtures" / "protocols"
