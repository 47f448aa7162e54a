"""The sources table covers the weights table, and every system/backbone name resolves."""

from __future__ import annotations

import pytest

from harness.errors import SabenchError
from harness.fetch.sources import NEEDS, NO_WEIGHTS, SOURCES, files_for, select
from harness.weights import WEIGHT_FILES


def test_every_table_file_has_exactly_one_source():
    assert sorted(SOURCES) == sorted(wf.relpath for wf in WEIGHT_FILES)
    for rel, src in SOURCES.items():
        assert bool(src.repo) != bool(src.url), rel
        assert not src.repo or src.file


def test_every_registered_system_and_real_backbone_is_known():
    from harness.registry import BACKBONES, SYSTEMS, load_catalog

    load_catalog()

    def production(registry) -> list[str]:
        """Names the project's catalogs register (lazily); other test folders register eager
        test-only entries in the same process, which are not the project's."""
        return [n for n in registry.names() if registry.target(n) is not None]
    for name in production(SYSTEMS):
        assert name in NEEDS or name in NO_WEIGHTS, f"system {name}: add it to harness/fetch/sources.py NEEDS"
    for name in production(BACKBONES):
        assert name in NEEDS or name.startswith("mini_"), f"backbone {name}: add it to NEEDS"
    for name in NEEDS:
        assert files_for(name), name


def test_names_select_their_files():
    rels = [wf.relpath for wf in files_for("tangoflux")]
    assert "tangoflux/vae.safetensors" in rels and "flan-t5-large/model.safetensors" in rels
    assert [wf.relpath for wf in files_for("laion_clap:630k-audioset-fusion-best")][0] == \
        "laion_clap/630k-audioset-fusion-best.pt"
    assert files_for("sine") == []
    # bare laion_clap = what the default preset's CLAP reads (the music/speech checkpoint)
    assert [wf.relpath for wf in files_for("laion_clap")][0] == "laion_clap/music_speech_audioset_epoch_15_esc_89.98.pt"
    with pytest.raises(SabenchError, match="no LAION-CLAP checkpoint 'nope'"):
        files_for("laion_clap:nope")
    picked, _ = select(all_files=True)
    assert len(picked) == len(WEIGHT_FILES)
    with pytest.raises(SabenchError, match="is not a backbone, system"):
        files_for("nosuch")
    with pytest.raises(SabenchError, match="nothing to fetch"):
        select()


def test_paper_job_needs_the_checkpoints_its_presets_read():
    rels = {wf.relpath for wf in select(job="paper")[0]}
    assert "laion_clap/music_speech_audioset_epoch_15_esc_89.98.pt" in rels     # sabench preset's CLAP
    assert "laion_clap/630k-audioset-best.pt" not in rels
    assert {"panns/Cnn14_16k_mAP=0.438.pth", "vggish/vggish-10086976.pth", "ms_clap/CLAP_weights_2023.pth",
            "audiobox_aesthetics/checkpoint.pt", "tangoflux/tangoflux.safetensors", "dacvae/weights.pth",
            "semanticvocoder/tta/model.safetensors"} <= rels
    assert "panns/Cnn14_mAP=0.431.pth" not in rels
