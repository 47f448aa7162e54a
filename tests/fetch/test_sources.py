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
    for name in SYSTEMS.names():
        assert name in NEEDS or name in NO_WEIGHTS, f"system {name}: add it to harness/fetch/sources.py NEEDS"
    for name in BACKBONES.names():
        assert name in NEEDS or name.startswith("mini_"), f"backbone {name}: add it to NEEDS"
    for name, patterns in NEEDS.items():
        assert files_for(name), name


def test_names_select_their_files():
    rels = [wf.relpath for wf in files_for("tangoflux")]
    assert "tangoflux/vae.safetensors" in rels and "flan-t5-large/model.safetensors" in rels
    assert [wf.relpath for wf in files_for("laion_clap:630k-audioset-fusion-best")][0] == \
        "laion_clap/630k-audioset-fusion-best.pt"
    assert files_for("sine") == []
    picked, _ = select(all_files=True)
    assert len(picked) == len(WEIGHT_FILES)
    with pytest.raises(SabenchError, match="is not a backbone, system"):
        files_for("nosuch")
    with pytest.raises(SabenchError, match="nothing to fetch"):
        select()
