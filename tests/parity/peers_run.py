"""Each peer's own pipeline on two folders of clips, and sabench's CLI on the same folders.

Used by tests/parity/test_parity.py and benchmarks/peers.py. Every peer function runs that
toolkit's own file loading, resampling, padding, model forward and statistics; the only code
here is the glue a user of the toolkit writes (which objects to build, in which order).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import peer_env

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PAIRS = (("audioldm2", "ezaudio"), ("makeanaudio", "mmaudio"), ("semanticvocoder", "stableaudio"),
                ("tangoflux", "gt"))
"""Per realset-dev prompt folder: (generated, reference) = two different systems' clips, so every
rate (16/24/32/44.1 kHz), channel count and sample format appears on both sides."""


def build_sets(realset: Path, out: Path) -> tuple[Path, Path, Path]:
    """gen/ and ref/ with the same 20 file names (audioldm_eval pairs KL by name) + prompts.jsonl."""
    gen, ref = out / "gen", out / "ref"
    gen.mkdir(parents=True, exist_ok=True)
    ref.mkdir(parents=True, exist_ok=True)
    rows = []
    for j, folder in enumerate(sorted(p for p in realset.iterdir() if p.is_dir())):
        for k, (g, r) in enumerate(SYSTEM_PAIRS):
            name = f"c{j}{k}.wav"
            shutil.copyfile(folder / f"{g}.wav", gen / name)
            shutil.copyfile(folder / f"{r}.wav", ref / name)
            rows.append({"id": name[:-4], "text": folder.name.split("_", 2)[-1].replace("_", " "),
                         "reference": f"ref/{name}"})
    (out / "prompts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return gen, ref, out / "prompts.jsonl"


# --------------------------------------------------------------------------- audioldm_eval

def _audioldm_eval_modules():
    """audioldm_eval's submodules without its __init__ (which imports eval.py -> skimage and
    ssr_eval, used only for LSD/PSNR/SSIM, which sabench does not report)."""
    if "audioldm_eval" not in sys.modules:
        spec = importlib.util.find_spec("audioldm_eval")
        pkg = types.ModuleType("audioldm_eval")
        pkg.__path__ = list(spec.submodule_search_locations)
        sys.modules["audioldm_eval"] = pkg
    names = ("datasets.load_mel", "metrics.fid", "metrics.isc", "metrics.kl", "feature_extractors.panns")
    return [importlib.import_module(f"audioldm_eval.{n}") for n in names]


def _featuresdict(model, loader):
    """EvaluationHelper.get_featuresdict: one clip per batch, outputs concatenated, file names kept."""
    import torch

    out, names = None, []
    for waveform, filename in loader:
        with torch.no_grad():
            feats = model(waveform.squeeze(1).float())
        feats = {k: [v.cpu()] for k, v in feats.items()}
        out = feats if out is None else {k: out[k] + feats[k] for k in out}
        names += list(filename)
    return {**{k: torch.cat(v, dim=0) for k, v in out.items()}, "file_path_": names}


def run_audioldm_eval(gen: Path, ref: Path, ckpt_parent: Path, sample_rate: int = 16000) -> dict:
    """EvaluationHelper.calculate_metrics' FD / IS / KL path (backbone cnn14) at `sample_rate`."""
    import torch
    from torch.utils.data import DataLoader

    load_mel, fid, isc, kl, panns = _audioldm_eval_modules()
    for d in (gen, ref):  # it lists every entry of the folder: no fadtk/kadtk cache folders
        _clean(d)
    _, args = peer_env.CNN14_FILES[sample_rate]
    with peer_env.chdir(ckpt_parent), peer_env.soundfile_torchaudio():
        model = panns.Cnn14(features_list=["2048", "logits"], sample_rate=args[0], window_size=args[1],
                            hop_size=args[2], mel_bins=args[3], fmin=args[4], fmax=args[5], classes_num=args[6])
        model.eval()
        torch.manual_seed(0)  # as calculate_metrics
        f_ref = _featuresdict(model, DataLoader(load_mel.WaveDataset(str(ref), sample_rate), batch_size=1))
        f_gen = _featuresdict(model, DataLoader(load_mel.WaveDataset(str(gen), sample_rate), batch_size=1))
    kl_rg, _, _ = kl.calculate_kl(f_gen, f_ref, "logits", True)
    kl_gr, _, _ = kl.calculate_kl(f_ref, f_gen, "logits", True)  # arguments swapped: KL(gen || ref)
    out = {"fd": fid.calculate_fid(f_gen, f_ref, feat_layer_name="2048")["frechet_distance"],
           "kl_ref_to_gen": kl_rg["kullback_leibler_divergence_softmax"],
           "kl_gen_to_ref": kl_gr["kullback_leibler_divergence_softmax"]}
    ic = isc.calculate_isc(f_gen, feat_layer_name="logits", splits=10, samples_shuffle=True, rng_seed=2020)
    out.update(is_mean=ic["inception_score_mean"], is_std=ic["inception_score_std"])
    return out


# --------------------------------------------------------------------------- frechet_audio_distance

def run_frechet_audio_distance(gen: Path, ref: Path, hub_dir: Path, model_name: str = "vggish",
                               sample_rate: int = 16000) -> float:
    """gudgud96's FrechetAudioDistance(ckpt_dir=hub dir).score(background=ref, eval=gen)."""
    for d in (gen, ref):  # it reads every entry of the folder: no fadtk/kadtk cache folders
        _clean(d)
    with peer_env.offline_hub(hub_dir):
        import_laion_clap_offline()
        from frechet_audio_distance import FrechetAudioDistance

        fad = FrechetAudioDistance(ckpt_dir=str(hub_dir), model_name=model_name, sample_rate=sample_rate,
                                   use_pca=False, use_activation=False, verbose=False, audio_load_worker=2)
        if model_name == "pann":
            fad.model = _KeepClipAxis(fad.model)
        value = fad.score(str(ref), str(gen))
    if value == -1:  # the toolkit prints and returns -1 on any exception
        raise RuntimeError("frechet_audio_distance returned -1 (an exception inside score())")
    return float(value)


class _KeepClipAxis:
    """frechet_audio_distance 0.3.4's PANN path takes `out['embedding'].data[0]`, a (2048,) vector per
    clip, and concatenates those into one (N*2048,) vector: its mean and covariance are scalars and
    score() fails inside sqrtm and returns -1 for every input (gudgud96/frechet-audio-distance#37,
    open). This wrapper returns the embedding as (1, 1, 2048), so `.data[0]` is the (1, 2048) row the
    issue's proposed fix (`embd.unsqueeze(0)`) gives; nothing else of the peer's pipeline changes."""

    def __init__(self, model):
        self.model = model

    def __call__(self, audio, mixup_lambda=None):
        out = self.model(audio, mixup_lambda)
        return {**out, "embedding": out["embedding"].unsqueeze(0)}  # (1, B=1, 2048)

    def __getattr__(self, name):
        return getattr(self.model, name)


def import_laion_clap_offline() -> None:
    """frechet_audio_distance imports laion_clap, whose import loads three hub tokenizers:
    sabench's own offline import (local tokenizer folders in the published format)."""
    if "laion_clap" in sys.modules:
        return
    sys.path.insert(0, str(REPO / "tests" / "backbones"))
    from harness.backbones.offline import import_laion_clap

    import backbone_testkit

    root = Path(os.environ.get("SABENCH_PARITY_TMP", "/tmp")) / "parity_laion_tokenizers"
    backbone_testkit.write_laion_tokenizers(root)
    import_laion_clap(root / "laion_clap" / "tokenizers")


# --------------------------------------------------------------------------- fadtk / kadtk

def _clean(folder: Path) -> None:
    for sub in ("convert", "embeddings", "stats", "kernel_stats", "fad_stats"):
        shutil.rmtree(folder / sub, ignore_errors=True)


def run_fadtk(gen: Path, ref: Path, hub_dir: Path) -> float:
    """fadtk's CLI flow: cache_embedding_files(dir, VGGishModel()) for both dirs, then
    FrechetAudioDistance(ml).score(baseline=ref, eval=gen), in process (workers=1)."""
    with peer_env.offline_hub(hub_dir), peer_env.soundfile_torchaudio(), peer_env.keep_grad_mode():
        import fadtk

        ml = fadtk.VGGishModel()
        for d in (ref, gen):
            _clean(d)
            fad = fadtk.FrechetAudioDistance(ml, audio_load_worker=1, load_model=True)
            for f in sorted(d.glob("*.*")):
                fad.cache_embedding_file(f)
        return float(fadtk.FrechetAudioDistance(ml, audio_load_worker=1, load_model=False).score(ref, gen))


def run_kadtk(gen: Path, ref: Path, model: str, kadtk_ckpt: Path | None = None, hub_dir: Path | None = None) -> float:
    """kadtk's CLI flow (`kadtk <model> ref gen`): embeddings cached per file by EmbeddingLoader,
    then KernelAudioDistance(ml, 'cpu').score(baseline=ref, eval=gen)."""
    import logging

    import torch

    with contextlib_nullable(hub_dir), peer_env.soundfile_torchaudio(), peer_env.keep_grad_mode():
        import kadtk
        from kadtk.emb_loader import EmbeddingLoader

        ml = kadtk.VGGishModel() if model == "vggish" else kadtk.PANNsModel(model)
        if kadtk_ckpt is not None:
            place_kadtk_checkpoint(model, kadtk_ckpt)
        loader = EmbeddingLoader(ml, load_model=True)
        for d in (ref, gen):
            _clean(d)
            for f in sorted(d.glob("*.*")):
                loader.cache_embedding_file(f)
        kad = kadtk.KernelAudioDistance(ml, "cpu", logger=logging.getLogger("kadtk"))
        with torch.no_grad():
            return float(kad.score(ref, gen))


def contextlib_nullable(hub_dir):
    import contextlib

    return peer_env.offline_hub(hub_dir) if hub_dir is not None else contextlib.nullcontext()


def place_kadtk_checkpoint(variant: str, src: Path) -> Path:
    """kadtk downloads into `<package>/.model-checkpoints/`; the same bytes go there."""
    spec = importlib.util.find_spec("kadtk")
    dst = Path(spec.origin).parent / ".model-checkpoints" / src.name
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists() or dst.read_bytes() != src.read_bytes():
        shutil.copyfile(src, dst)
    return dst


# --------------------------------------------------------------------------- sabench

def write_suite(folder: Path, prompts: Path, preset: str, metrics: list[str]) -> Path:
    y = folder / f"suite_{preset}.yaml"
    y.write_text(f"name: parity_{preset}\nversion: '1'\ntask: generate\nprofile: real\n"
                 f"loader: harness.suite:load_prompt_file\nloader_args: {{path: {prompts}}}\n"
                 f"metrics: [{', '.join(metrics)}]\nseed: 1\nreplicates: 1\npreset: {preset}\n")
    return y


def run_sabench(suite: Path, gen: Path, weights: Path, out: Path, cache: Path) -> dict[str, float]:
    """`sabench score --suite S --path gen/` in a subprocess; the run's set/mean values by metric."""
    env = dict(os.environ, SABENCH_WEIGHTS=str(weights), SABENCH_CACHE=str(cache), PYTHONPATH=str(REPO),
               SABENCH_ALLOW_CODE="1")
    cmd = [sys.executable, "-m", "harness.cli", "score", "--suite", str(suite), "--path", str(gen),
           "--out", str(out), "--quiet", "--label", "parity"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"sabench score failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return read_results(out)


def read_results(out: Path) -> dict[str, float]:
    from harness.results import ResultsStore

    store = ResultsStore(out / "results.sqlite")
    run = store.runs()[-1]
    return {a.metric: a.value for a in run.aggregates}
