"""SemanticVocoder's explicit refusal, and the catalog entries of the adapters."""

from __future__ import annotations

import pytest

from _adapter_kit import gen, rec_req
from harness.errors import CapabilityError
from harness.records import Audio


def test_semanticvocoder_refuses_with_what_is_missing(weights_dir):
    import numpy as np

    from systems.semanticvocoder.adapter import SemanticVocoderSystem

    (weights_dir / "semanticvocoder").mkdir()
    (weights_dir / "semanticvocoder" / "config.json").write_text("{}")
    s = SemanticVocoderSystem()
    assert s.info.sample_rate == 24000 and s.info.channels == 1 and s.capabilities == frozenset()
    with pytest.raises(CapabilityError, match="not yet supported.*Dasheng.*Flow2GAN") as e:
        s.generate([gen("a dog barks", 1)])
    assert "semanticvocoder/config.json" in str(e.value)        # lists what is present
    with pytest.raises(CapabilityError, match="cannot reconstruct"):
        s.reconstruct([rec_req()], [Audio(np.zeros((1, 10), np.float32), 24000)])


@pytest.mark.parametrize("name,cls", [("tangoflux", "TangoFluxSystem"), ("resonate", "ResonateSystem"),
                                      ("semanticvocoder", "SemanticVocoderSystem")])
def test_catalog_resolves(name, cls):
    from harness.registry import SYSTEMS, load_catalog

    load_catalog()
    assert SYSTEMS.get(name).__name__ == cls and SYSTEMS.help(name)
