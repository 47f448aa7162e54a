"""The four real suites are registered lazily and their specs load strictly."""

from __future__ import annotations

import pytest

from harness.registry import SUITES, load_catalog
from harness.suite import load_suite

EXPECTED = {
    "audiocaps": ("generate",
                  ["fd_pann", "is_pann", "kl_pann_ref_to_gen", "kl_pann_gen_to_ref", "fad_vggish", "clap_laion"]),
    "ttabench": ("generate", ["clap_ms", "aes_ce", "aes_cu", "aes_pc", "aes_pq"]),
    "reconstruction": ("reconstruct", ["mel_loss", "stft_loss"]),
    "editing": ("edit", ["clap_target", "delta_clap"]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_suite_registered_and_loads(name: str):
    load_catalog()
    assert name in SUITES
    spec = load_suite(name)
    task, metrics = EXPECTED[name]
    assert (spec.name, spec.task, spec.profile) == (name, task, "real")
    assert [m.name for m in spec.metrics] == metrics
    assert spec.version == ("1.1.0" if name == "audiocaps" else "1.0.0")
    assert spec.loader.startswith(f"suites.{name}.loader:")


def test_metric_names_exist_in_metric_registry():
    from harness.registry import METRICS

    load_catalog()
    for _, metrics in EXPECTED.values():
        for m in metrics:
            assert m in METRICS, m


def test_other_suite_folders_are_discovered(tmp_path, monkeypatch):
    import suites.catalog as cat

    (tmp_path / "minisuite").mkdir()
    (tmp_path / "minisuite" / "suite.yaml").write_text("name: minisuite\n")
    (tmp_path / "_private").mkdir()
    (tmp_path / "_private" / "suite.yaml").write_text("name: x\n")
    monkeypatch.setattr(cat, "_HERE", tmp_path)
    found = cat._discovered()
    assert found == {"minisuite": tmp_path / "minisuite" / "suite.yaml"}
    monkeypatch.setattr(cat, "_EXTRA", found)
    assert cat.SPEC_minisuite == found["minisuite"]
    with pytest.raises(AttributeError):
        cat.SPEC_nothing  # noqa: B018
