"""docs/protocols.md is the generated fidelity matrix; the package exports exactly its API."""

from __future__ import annotations

from pathlib import Path

import octopus.protocols
from octopus.protocols import WireFormat, fidelity
from octopus.protocols import embeddings as emb

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocols.md"


def test_committed_doc_equals_generated_matrix():
    assert DOC.read_text() == fidelity.render(), (
        "run: .venv/bin/python scripts/gen_protocols_doc.py"
    )


def test_matrix_has_twelve_directions():
    assert len(fidelity.directions()) == 12
    for source, target in fidelity.directions():
        assert f"## {source.value} client → {target.value} upstream" in DOC.read_text()


def test_declared_features_are_known():
    known = set(fidelity.REQUEST) | set(fidelity.RESPONSE)
    for fmt in WireFormat:
        assert fidelity.FEATURES[fmt] <= known, fmt


def test_opaque_reasoning_never_crosses_formats():
    for source, target in fidelity.directions():
        kept, _ = fidelity.response_fidelity(source, target)
        assert "reasoning.opaque" not in kept


def test_public_api():
    assert sorted(octopus.protocols.__all__) == [
        "CODECS",
        "Codec",
        "Loss",
        "StreamDecoder",
        "StreamEncoder",
        "UsageTap",
        "WireFormat",
        "canonical",
        "events",
        "get_codec",
    ]
    assert set(octopus.protocols.CODECS) == set(WireFormat)
    assert [f.value for f in WireFormat] == ["openai", "openai_responses", "anthropic", "gemini"]
    for fmt in WireFormat:
        assert octopus.protocols.get_codec(fmt).format == fmt


def test_embeddings_matrix_matches_the_losses_recorded_at_runtime() -> None:
    assert "## Embeddings" in DOC.read_text()
    given = {
        WireFormat.OPENAI_CHAT: emb.EmbedRequest([], single=True, user="u"),
        WireFormat.GEMINI: emb.EmbedRequest([], single=True, task_type="T", title="t"),
    }
    for source, target in [(s, t) for s in given for t in given if s is not t]:
        table = fidelity.embeddings_fidelity(source, target)
        recorded = [loss.field for loss in emb.losses(given[source], source, target)]
        assert recorded == [f"embeddings.{name}" for name in table["dropped"]]
    assert fidelity.embeddings_fidelity(WireFormat.OPENAI_CHAT, WireFormat.GEMINI)[
        "refused (member skipped)"
    ] == ["tokens"]
