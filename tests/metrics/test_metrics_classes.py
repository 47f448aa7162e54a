"""Metric classes end to end with a fake MetricContext and a tiny deterministic fake backbone.

The fake context yields batches in *reverse* order so any metric that pairs by listing order
instead of by index / item id gets wrong values.
"""

import numpy as np
import pytest

import harness.metrics.catalog  # noqa: F401  (registers the metric factories)
from harness.errors import SabenchError
from harness.metrics.base import EvalItem, Metric
from harness.metrics.numerics import cosine, frechet_distance, inception_score, kl_softmax
from harness.records import AudioRecipe, BackboneInfo, Prompt
from harness.registry import METRICS

RECIPE = AudioRecipe(16000, mono="mean", length="crop", max_seconds=10.0)


class FakeBackbone:
    def __init__(self, name, table, sha="sha-" + "0" * 8, recipe=RECIPE):
        self.table = table  # path or text -> output dict / vector
        self.info = BackboneInfo(name, sha, recipe.sample_rate, recipe)


class FakeContext:
    profile = "mini"

    def __init__(self, backbones, batch=3):
        self.backbones, self.batch, self.calls = backbones, batch, []

    def backbone(self, name):
        return self.backbones[name]

    def embed_audio(self, name, paths):
        self.calls.append((name, list(paths)))
        table = self.backbones[name].table
        chunks = [list(range(i, min(i + self.batch, len(paths)))) for i in range(0, len(paths), self.batch)]
        for idx in reversed(chunks):
            rows = [table[paths[i]] for i in idx]
            keys = rows[0].keys()
            out = {}
            for k in keys:
                vals = [r[k] for r in rows]
                same = len({np.shape(v) for v in vals}) == 1
                out[k] = np.stack(vals) if same else vals
            yield idx, out

    def embed_text(self, name, texts):
        return np.stack([self.backbones[name].table["text:" + t] for t in texts])


def _item(i, text="a dog barks", **paths):
    return EvalItem(i, Prompt(i, text), **paths)


# ------------------------------------------------------------------ FD / FAD

def _fd_world(n=12, d=4, shift=(1.0, 0, 0, 2.0)):
    rng = np.random.default_rng(0)
    base = rng.standard_normal((n, d))
    table = {}
    items = []
    for i in range(n):
        table[f"ref/{i}.wav"] = {"embedding": base[i]}
        table[f"out/{i}.wav"] = {"embedding": base[i] + np.asarray(shift)}
        items.append(_item(f"id{i}", output=f"out/{i}.wav", reference=f"ref/{i}.wav"))
    return items, FakeContext({"panns16k": FakeBackbone("panns16k", table)}), base


def test_fd_shifted_copy_gives_squared_shift():
    items, ctx, _ = _fd_world()
    from harness.plan import bind

    m = METRICS.get("fd_pann")()
    static = m.info
    out = m.compute(ctx, items)
    # identical covariances: FD = ||shift||^2 = 5 up to sqrtm rounding
    assert out.value == pytest.approx(5.0, abs=1e-9)
    assert m.info == static  # computing never rewrites a metric's identity (the run plan holds it)
    bound = bind(m, ctx.backbone("panns16k").info, "sabench")
    assert bound.kind == "set" and bound.backbone == "panns16k" and not bound.higher_is_better
    assert bound.backbone_checkpoint_sha256 == "sha-00000000" and bound.recipe == RECIPE.id()
    assert out.extras["convention_id"] == "fd_panns16k_4"
    assert out.extras["n_gen_rows"] == 12 and out.extras["preset_recipe_match"] is False


def test_fd_reference_stats_file(tmp_path):
    from harness.metrics.fd import embedding_stats

    items, ctx, _ = _fd_world()
    refs = [it.reference for it in items]
    embedding_stats(ctx, "panns16k", refs, "embedding", False).save(tmp_path / "ref.npz")
    no_refs = [_item(it.item_id, output=it.output) for it in items]
    out = METRICS.get("fd")(backbone="panns16k", reference_stats=str(tmp_path / "ref.npz")).compute(ctx, no_refs)
    assert out.value == pytest.approx(5.0, abs=1e-9)
    ctx.backbones["panns16k"] = FakeBackbone("panns16k", ctx.backbones["panns16k"].table, sha="other")
    with pytest.raises(SabenchError, match="checkpoint_sha256"):
        METRICS.get("fd")(backbone="panns16k", reference_stats=str(tmp_path / "ref.npz")).compute(ctx, no_refs)


def test_fad_pools_frames_of_all_clips():
    rng = np.random.default_rng(1)
    table, items, gen_rows, ref_rows = {}, [], [], []
    n_max = 8
    for i in range(6):
        g, r = rng.standard_normal((2 + i, 3)), rng.standard_normal((3, 3)) + 0.5  # (frames, D)
        # the vggish backbone's layout: "frames" padded to n_max with garbage + "n_frames"
        pad = lambda f: np.concatenate([f, np.full((n_max - len(f), 3), 99.0)])  # noqa: E731
        table[f"o{i}"] = {"frames": pad(g), "n_frames": len(g), "embedding": g.mean(0)}
        table[f"r{i}"] = {"frames": pad(r), "n_frames": len(r), "embedding": r.mean(0)}
        table[f"lo{i}"], table[f"lr{i}"] = {"embedding": g}, {"embedding": r}  # list-of-blocks layout
        gen_rows.append(g), ref_rows.append(r)
        items.append(_item(f"x{i}", output=f"o{i}", reference=f"r{i}"))
    ctx = FakeContext({"vggish": FakeBackbone("vggish", table)})
    out = METRICS.get("fad_vggish")().compute(ctx, items)
    G, R = np.concatenate(gen_rows), np.concatenate(ref_rows)
    expect = frechet_distance(G.mean(0), np.cov(G, rowvar=False), R.mean(0), np.cov(R, rowvar=False)).value
    assert out.value == pytest.approx(expect, rel=1e-10)  # padding rows (99.0) were dropped
    assert out.extras["n_gen_rows"] == len(G) and out.extras["n_ref_rows"] == len(R)
    assert out.extras["convention_id"] == "fad_vggish_3"
    list_items = [_item(f"x{i}", output=f"lo{i}", reference=f"lr{i}") for i in range(6)]
    assert METRICS.get("fad")(backbone="vggish", output="embedding").compute(ctx, list_items).value == \
        pytest.approx(expect, rel=1e-10)
    # a clip-level FD on per-frame outputs is refused rather than silently pooled
    with pytest.raises(SabenchError, match="frames per clip"):
        METRICS.get("fd")(backbone="vggish", output="embedding").compute(ctx, list_items)
    # ... while the per-clip mean embedding is a valid clip-level FD input
    assert np.isfinite(METRICS.get("fd")(backbone="vggish", output="embedding").compute(ctx, items).value)


# ------------------------------------------------------------------ IS / KL

def test_is_metric_balanced_one_hot():
    k, table, items = 4, {}, []
    for i in range(40):
        logits = np.zeros(527)
        logits[i % k] = 60.0
        table[f"o{i}"] = {"logits": logits, "embedding": np.zeros(2)}
        items.append(_item(f"i{i}", output=f"o{i}"))
    ctx = FakeContext({"panns16k": FakeBackbone("panns16k", table)})
    out = METRICS.get("is")(splits=1).compute(ctx, items)
    assert out.value == pytest.approx(k, rel=1e-9)
    out10 = METRICS.get("is_pann")().compute(ctx, items)
    logits = np.stack([table[f"o{i}"]["logits"] for i in range(40)])
    assert out10.value == pytest.approx(inception_score(logits, 10, 2020)[0], rel=1e-12)
    assert out10.extras["splits"] == 10 and out10.extras["shuffle_seed"] == 2020


def test_kl_pairs_by_item_id_and_direction():
    rng = np.random.default_rng(2)
    table, items, expect = {}, [], {}
    for i in range(7):
        g, r = rng.standard_normal(527), rng.standard_normal(527)
        table[f"o{i}"], table[f"r{i}"] = {"logits": g}, {"logits": r}
        items.append(_item(f"k{i}", output=f"o{i}", reference=f"r{i}"))
        expect[f"k{i}"] = kl_softmax(g[None], r[None], "ref_to_gen")[0]
    items = items[::-1]  # item order differs from table order
    ctx = FakeContext({"panns16k": FakeBackbone("panns16k", table)}, batch=2)
    fwd = METRICS.get("kl_pann_ref_to_gen")().compute(ctx, items)
    bwd = METRICS.get("kl_pann_gen_to_ref")().compute(ctx, items)
    for k, v in expect.items():
        assert fwd.per_item[k] == pytest.approx(v, rel=1e-12)
    assert bwd.per_item != fwd.per_item
    assert fwd.extras["direction"] == "KL(ref||gen)" and bwd.extras["direction"] == "KL(gen||ref)"
    swapped = [_item(it.item_id, output=it.reference, reference=it.output) for it in items]
    back = METRICS.get("kl_pann_gen_to_ref")().compute(ctx, swapped)
    for k in expect:
        assert back.per_item[k] == pytest.approx(fwd.per_item[k], rel=1e-12)


def test_kl_audioldm_eval_preset_uses_eps():
    table = {"o": {"logits": np.log(np.array([.3, .1, .2, .1, .1, .02, .08, .1]))},
             "r": {"logits": np.log(np.array([.05, .1, .2, .05, .15, .25, .08, .12]))}}
    ctx = FakeContext({"panns16k": FakeBackbone("panns16k", table)})
    metric = METRICS.get("kl_pann_ref_to_gen")(preset="audioldm_eval")
    out = metric.compute(ctx, [_item("a", output="o", reference="r")])
    assert out.extras["eps"] == 1e-6
    assert out.per_item["a"] == pytest.approx(0.5898663401603699, abs=1e-6)  # reference/metrics.md §11


def test_missing_reference_names_the_item():
    ctx = FakeContext({"panns16k": FakeBackbone("panns16k", {"o": {"logits": np.zeros(3)}})})
    with pytest.raises(SabenchError, match="^lonely: .*reference"):
        METRICS.get("kl_ref_to_gen")().compute(ctx, [_item("lonely", output="o")])


# ------------------------------------------------------------------ CLAP

def _clap_ctx():
    e = np.eye(4)
    table = {"text:dog": e[0], "text:rain": e[1], "text:bell": e[2],
             "out/dog.wav": {"embedding": 2 * e[0] + e[1]}, "out/rain.wav": {"embedding": e[1]},
             "out/bell.wav": {"embedding": e[3]}, "src/x.wav": {"embedding": e[1] + e[2]},
             "src/y.wav": {"embedding": e[2]}}
    return FakeContext({"laion_clap": FakeBackbone("laion_clap", table),
                        "ms_clap": FakeBackbone("ms_clap", table)}, batch=2)


def test_clap_scores_by_id():
    ctx = _clap_ctx()
    items = [_item("b", "bell", output="out/bell.wav"), _item("d", "dog", output="out/dog.wav"),
             _item("r", "rain", output="out/rain.wav")]
    out = METRICS.get("clap_laion")().compute(ctx, items)
    assert out.per_item["d"] == pytest.approx(2 / np.sqrt(5), abs=1e-12)
    assert out.per_item["r"] == pytest.approx(1.0, abs=1e-12) and out.per_item["b"] == 0.0
    assert out.extras["convention_id"] == "clap_laion_clap_cos"
    ms = METRICS.get("clap_ms")()
    assert ms.compute(ctx, items).per_item == out.per_item and ms.info.backbone == "ms_clap"


def test_clap_target_and_delta_clap_sign():
    ctx = _clap_ctx()
    items = [  # edit toward "dog": output moves toward dog, source x has no dog -> positive delta
        EvalItem("up", Prompt("up", "dog", source="src/x.wav"), output="out/dog.wav", source="src/x.wav"),
        # edit toward "bell": output lost the bell the source had -> negative delta
        EvalItem("down", Prompt("down", "bell", source="src/y.wav"), output="out/rain.wav", source="src/y.wav"),
    ]
    tgt = METRICS.get("clap_target")().compute(ctx, items)
    delta = METRICS.get("delta_clap")().compute(ctx, items)
    assert delta.per_item["up"] > 0 > delta.per_item["down"]
    src_up = cosine(np.array([0, 1.0, 1, 0]), np.eye(4)[0])[0]
    assert delta.per_item["up"] == pytest.approx(tgt.per_item["up"] - src_up, abs=1e-12)
    assert delta.per_item["down"] == pytest.approx(0.0 - 1.0, abs=1e-12)
    with pytest.raises(SabenchError, match="source"):
        METRICS.get("delta_clap")().compute(ctx, [_item("nosrc", "dog", output="out/dog.wav")])


# ------------------------------------------------------------------ AES, catalog

def test_aes_axes_by_id():
    table = {f"o{i}": {"CE": 1.0 + i, "CU": 2.0 + i, "PC": 3.0 + i, "PQ": 4.0 + i} for i in range(5)}
    ctx = FakeContext({"aesthetics": FakeBackbone("aesthetics", table)}, batch=2)
    items = [_item(f"a{i}", output=f"o{i}") for i in (3, 0, 4, 1, 2)]
    for axis, off in (("ce", 1), ("cu", 2), ("pc", 3), ("pq", 4)):
        out = METRICS.get(f"aes_{axis}")().compute(ctx, items)
        assert out.per_item == {f"a{i}": off + i for i in range(5)}


def test_catalog_entries_build_metrics():

    expected = {"fd_pann": "panns16k", "is_pann": "panns16k", "kl_pann_ref_to_gen": "panns16k",
                "kl_pann_gen_to_ref": "panns16k", "fad_vggish": "vggish", "clap_laion": "laion_clap",
                "clap_ms": "ms_clap", "clap_target": "laion_clap", "delta_clap": "laion_clap",
                "aes_ce": "aesthetics", "aes_cu": "aesthetics", "aes_pc": "aesthetics", "aes_pq": "aesthetics",
                "mel_loss": None, "stft_loss": None}
    for name, backbone in expected.items():
        m = METRICS.get(name)()
        assert isinstance(m, Metric) and m.info.name == name and m.info.backbone == backbone
    for name in ("fd", "fad", "is", "kl_ref_to_gen", "kl_gen_to_ref", "clap", "aes", "mel_loss_dac_training"):
        assert isinstance(METRICS.get(name)(), Metric)
    with pytest.raises(SabenchError, match="unknown"):
        METRICS.get("fd")(preset="no_such_preset")
