"""The TTA key lists in systems/semanticvocoder/keys/tta/ (derived from the ORIGINAL
SingleTaskCrossAttentionAudioFlowMatching by derive.py's `tta` mode): their structure against
facts computed by hand from each file's own config, and (optional, needs the original code)
that re-deriving from the stored config reproduces the stored keys exactly."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from harness.paths import REPO_ROOT

from _adapter_kit import export_original

KEYS = REPO_ROOT / "systems" / "semanticvocoder" / "keys"
TTA_LISTS = sorted((KEYS / "tta").glob("*.json"))
# A git directory of the original zeyuxie29/SemanticVocoder code (never committed).
ORIGINAL = Path(os.environ.get("SABENCH_SEMANTICVOCODER_SRC", "/nonexistent"))
BB = "model.backbone."


def _doc(path: Path) -> dict:
    return json.loads(path.read_text())


def _numel(keys: dict, prefix: str) -> int:
    return sum(torch.Size(s).numel() for k, s in keys.items() if k.startswith(prefix))


def test_probe_set_is_present():
    assert {p.stem for p in TTA_LISTS} >= {"tiny", "token", "ada", "single", "full"}


@pytest.mark.parametrize("path", TTA_LISTS, ids=lambda p: p.stem)
def test_document_layout(path):
    doc = _doc(path)
    cfg = doc["config"]["model_config"]
    assert doc["count"] == len(doc["keys"])
    assert cfg["backbone"]["_target_"].endswith("UDiT")
    assert doc["t5"] in {"tiny", "flan-t5-large"}
    assert all(k.startswith("model.") for k in doc["keys"])
    assert doc["keys"]["model.dummy_param"] == [0]
    assert cfg["autoencoder"]["encoder_name"] == "none"


@pytest.mark.parametrize("path", TTA_LISTS, ids=lambda p: p.stem)
def test_autoencoder_keys_are_the_vocoder_probe(path):
    """encoder_name "none" builds no Dasheng and an Identity proj_out, so the autoencoder's keys
    are exactly the generator's; compare with the separately derived vocoder probe list."""
    doc = _doc(path)
    voc = {k: v for k, v in doc["config"]["model_config"]["autoencoder"]["vocoder"].items()
           if k != "_target_"}
    probe = next(_doc(p) for p in KEYS.glob("probe_*.json") if _doc(p)["config"] == voc)
    prefix = "model.autoencoder."
    ours = {k[len(prefix + "generator."):]: v for k, v in doc["keys"].items() if k.startswith(prefix)}
    assert len(ours) == sum(k.startswith(prefix) for k in doc["keys"])
    assert ours == probe["keys"]


def _t5_facts(doc: dict) -> tuple[int, int, list]:
    """(encoder blocks, d_model, shared shape) of the adapterkit config named by "t5"."""
    return (24, 1024, [32128, 1024]) if doc["t5"] == "flan-t5-large" else (1, 32, [64, 32])


@pytest.mark.parametrize("path", TTA_LISTS, ids=lambda p: p.stem)
def test_text_encoder_keys(path):
    doc = _doc(path)
    n_blocks, d_model, shared = _t5_facts(doc)
    dc = doc["config"]["model_config"]["content_encoder"]["embed_dim"]
    pre = "model.content_encoder.text_encoder."
    keys = doc["keys"]
    blocks = {k.split(".")[6] for k in keys if k.startswith(pre + "model.encoder.block.")}
    assert blocks == {str(i) for i in range(n_blocks)}
    # T5EncoderModel shares one embedding between `shared` and `encoder.embed_tokens`:
    # state_dict() lists both names.
    assert keys[pre + "model.shared.weight"] == keys[pre + "model.encoder.embed_tokens.weight"] == shared
    assert keys[pre + "proj.weight"] == [dc, d_model]
    assert not any(k.startswith("model.content_encoder.") and not k.startswith(pre) for k in keys)


def _expected_block_keys(b: dict, where: str) -> dict:
    """A few DiT-block keys whose presence/shape follows from the UDiT options."""
    d, rope = b["embed_dim"], b["rope_mode"]
    hd = d // b["num_heads"]
    exp = {f"{where}.attn.to_q.weight": [d, d], f"{where}.cross_attn.to_k.weight": [d, d],
           f"{where}.attn.rotary.inv_freq": [hd // 2] if rope in ("shared", "x_only") else None,
           f"{where}.attn.rotary_x.inv_freq": [hd // 2] if rope == "dual" else None,
           f"{where}.cross_attn.rotary.inv_freq": None,          # cross attention has no rope
           f"{where}.attn.to_q.bias": [d] if b["qkv_bias"] else None,
           f"{where}.norm_context.weight": [d] if b["context_norm"] else None,
           f"{where}.mlp.net.2.weight": [d, int(d * b["mlp_ratio"])]}
    gated = b["act_layer"] in ("geglu", "gesnake")
    exp[f"{where}.mlp.net.0.proj.weight"] = [int(d * b["mlp_ratio"]) * (2 if gated else 1), d]
    tf = b["time_fusion"]
    exp[f"{where}.adaln.time_ada.weight"] = [6 * d, d] if tf == "ada" else None
    exp[f"{where}.adaln.scale_shift_table"] = [6, d] if tf in ("ada_single", "ada_sola_bias") else None
    exp[f"{where}.adaln.lora_b.weight"] = ([6 * d, 6 * b["ada_sola_rank"]] if tf.startswith("ada_sola")
                                           else None)
    return exp


def _expected_top_keys(b: dict) -> dict:
    d, p = b["embed_dim"], b["patch_size"]
    out = b["out_chans"] or b["in_chans"]
    n, m = b["img_size"] // p, b["context_max_length"]

    def pe(name, method, length):
        return {f"{name}.abs_pe": [1, length, d] if method == "abs" else None,
                f"{name}.sinu_pe.pe": [1, length, d] if method == "sinu" else None,
                f"{name}.conv_pe.conv1d.0.weight": [d, d // 16, 31] if method == "conv" else None}

    tok = b["time_fusion"] == "token"
    return {"patch_embed.proj.weight": [d, b["in_chans"], p], "context_embed.0.weight": [d, b["context_dim"]],
            "final_block.linear.weight": [p * out, d],
            "final_block.final_layer.weight": [out, out, 3] if b["use_conv"] else None,
            "time_pe.abs_pe": [1, 1, d] if tok else None,
            "time_ada_final.weight": None if tok else [2 * d, d],
            "time_ada.weight": [6 * d, d] if b["time_fusion"] not in ("token", "ada") else None,
            **pe("x_pe", b["pe_method"], n), **pe("context_pe", b["context_pe_method"], m)}


@pytest.mark.parametrize("path", TTA_LISTS, ids=lambda p: p.stem)
def test_backbone_structure_follows_config(path):
    doc = _doc(path)
    b, keys = doc["config"]["model_config"]["backbone"], doc["keys"]
    half = b["depth"] // 2
    for part in ("in_blocks", "out_blocks"):
        found = {k.split(".")[3] for k in keys if k.startswith(f"{BB}{part}.")}
        assert found == {str(i) for i in range(half)}
    where = ["in_blocks.0", "mid_block", f"out_blocks.{half - 1}"] if half else ["mid_block"]
    exp = {k: v for w in where for k, v in _expected_block_keys(b, w).items()}
    exp.update(_expected_top_keys(b))
    for k, v in exp.items():
        assert keys.get(BB + k) == v, k
    skip = any(k.startswith(BB) and "skip_linear" in k for k in keys)
    assert skip == b["skip"] and not any(k.startswith(f"{BB}in_blocks.") and "skip" in k for k in keys)
    skip_norm = any(k.startswith(BB) and "skip_norm" in k for k in keys)
    assert skip_norm == (b["skip"] and b["skip_norm"])


def _full_backbone_values(b: dict) -> int:
    """Hand count for the `full` probe (ada_sola_bias, cross, geglu, layernorm, qk layernorm,
    no qkv bias, shared rope, skip + skip_norm, conv out, no x/context pe), buffers included."""
    d, c, r = b["embed_dim"], b["in_chans"], b["ada_sola_rank"]
    hd, inner = d // b["num_heads"], int(d * b["mlp_ratio"])
    attn = 3 * d * d + 4 * hd + d * d + d                  # q,k,v (no bias), qk norms, proj
    block = (2 * attn + 4 * 2 * d                           # self + cross, norm1/2/3/context
             + d * 2 * inner + 2 * inner + inner * d + d    # GEGLU in, out
             + 6 * d + d * 6 * r + 6 * r * 6 * d)           # scale_shift_table, lora_a, lora_b
    rope = hd // 2                                          # inv_freq buffer of the self attention
    skip = 2 * 2 * d + 2 * d * d + d                        # skip_norm, skip_linear
    top = (c * d + d + 256 * d + d + d * d + d              # patch_embed, time_embed
           + 2 * d * d + 2 * d + 6 * d * d + 6 * d          # time_ada_final, time_ada
           + 2 * (d * d + d)                                # context_embed
           + 2 * d + d * c + c + c * c * 3 + c)             # final norm, linear, conv
    n = b["depth"] + 1
    return n * (block + rope) + (b["depth"] // 2) * skip + top


def test_full_probe_counts_by_hand():
    doc = _doc(KEYS / "tta" / "full.json")
    b, keys = doc["config"]["model_config"]["backbone"], doc["keys"]
    assert keys[BB + "patch_embed.proj.weight"] == [1024, 768, 1]
    blocks = {".".join(k.split(".")[2:4]) for k in keys if "_blocks." in k} | \
             {"mid_block" for k in keys if k.startswith(BB + "mid_block.")}
    assert len(blocks) == 24 // 2 + 1 + 24 // 2
    assert _numel(keys, BB) == _full_backbone_values(b)
    # flan-t5-large encoder (one relative-attention table, in block 0), tied embedding listed
    # twice in the state dict, then the 1024 -> 1024 projection.
    d, ff, vocab = 1024, 2816, 32128
    t5 = 2 * vocab * d + 24 * (4 * d * d + 2 * d + 3 * ff * d) + 32 * 16 + d
    assert _numel(keys, "model.content_encoder.") == t5 + d * d + d


@pytest.fixture(scope="module")
def original_src(tmp_path_factory):
    dest = export_original("SABENCH_SEMANTICVOCODER_SRC", "SemanticVocoder", ("src",), tmp_path_factory)
    return dest


def test_backbone_config_names_every_udit_argument(original_src):
    """Read (not import) the original UDiT.__init__ signature."""
    tree = ast.parse((original_src / "src/inference/models/dit/mask_dit.py").read_text())
    udit = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "UDiT")
    init = next(n for n in udit.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    params = {a.arg for a in init.args.args} - {"self"}
    for path in TTA_LISTS:
        assert set(_doc(path)["config"]["model_config"]["backbone"]) - {"_target_"} == params, path.name


@pytest.mark.parametrize("path", TTA_LISTS, ids=lambda p: p.stem)
def test_derive_reproduces_committed_tta(original_src, tmp_path, path):
    doc = _doc(path)
    config = tmp_path / path.name
    config.write_text(json.dumps(doc["config"]))
    out = tmp_path / "out.json"
    subprocess.run([sys.executable, str(KEYS / "derive.py"), "tta", str(original_src), "x",
                    str(config), doc["t5"], str(out)], check=True, capture_output=True, cwd=tmp_path)
    new = json.loads(out.read_text())
    assert new["keys"] == doc["keys"] and new["config"] == doc["config"] and new["t5"] == doc["t5"]
