"""Named metric presets: the conventions that reproduce one public toolkit, in one place.

A preset is a frozen record of every convention that changes a number (backbone and
checkpoint, audio recipe, KL direction and eps, IS splits and seed, CLAP checkpoint).
Metric factories take `preset=` and read their defaults from it; the backbone's actual
recipe is compared with the preset's and the difference is written into the result
(`preset_recipe_match`), because recipes belong to backbones (harness.backbones).

`sabench` (the default) follows av-benchmark, the toolkit behind MeanAudio's evaluation,
which the SemanticAudio paper says it follows for AudioCaps (docs/metrics.md, "Presets").
Sources: reference/metrics.md §2-§7, commits listed in `toolkit`.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import SabenchError
from harness.records import AudioRecipe

TORCHAUDIO = "sinc_hann_default"
"""harness.audio name of torchaudio's resample defaults (sinc, Hann, width 6, rolloff 0.99)."""
LIBROSA = "soxr_hq"
"""librosa.load(sr=...) default (soxr 'HQ'); NOT in harness.audio.RESAMPLERS, so presets using it
report preset_recipe_match False until that resampler is added."""


@dataclass(frozen=True)
class BackboneConvention:
    """Which backbone a metric family uses under a preset, and how its audio is shaped."""

    backbone: str
    """harness backbone registry name (e.g. "panns16k")."""
    checkpoint: str
    """Checkpoint as the backbone spells it (sha256 is recorded from the loaded backbone)."""
    output: str = "embedding"
    recipe: AudioRecipe | None = None
    """Recipe the toolkit applies; None when not pinned down."""
    backbone_args: tuple[tuple[str, object], ...] = ()
    """Constructor args (besides `recipe`) that select the checkpoint, e.g. LAION-CLAP's name."""


@dataclass(frozen=True)
class MetricPreset:
    """Every convention of one toolkit's FD / IS / KL / FAD / CLAP numbers."""

    name: str
    toolkit: str
    fd: BackboneConvention
    classifier: BackboneConvention | None
    """IS and KL classifier (logits); None when the toolkit computes neither."""
    kl_direction: str
    """"ref_to_gen" = KL(ref || gen); "gen_to_ref" = KL(gen || ref)."""
    kl_eps: float | None
    """None: exact log-softmax; else added to the second distribution inside the log."""
    is_splits: int = 10
    is_seed: int | None = 2020
    fad: BackboneConvention | None = None
    clap: BackboneConvention | None = None
    clap_eps: float = 1e-8
    kad: BackboneConvention | None = None
    """Kernel Audio Distance backbone (harness.metrics.kad)."""
    kad_precision: str = "float64"
    """KAD arithmetic: "float32" (kadtk's default) or "float64"."""
    embedding_float16: bool = False
    """Embeddings rounded to float16 before FD/FAD/KAD statistics (fadtk and kadtk store them so)."""
    peer: str = ""
    """The installable peer (package==version) this preset is checked against in tests/parity."""
    notes: str = ""


_PANN16 = "Cnn14_16k_mAP=0.438.pth"
_CLAP_MS_AS = "music_speech_audioset_epoch_15_esc_89.98"

_AVB_PANNS = AudioRecipe(16000, mono="mean", resampler=TORCHAUDIO, length="truncate", max_seconds=10.0, dc_remove=True)
_AVB_VGGISH = AudioRecipe(16000, mono="mean", resampler=TORCHAUDIO, length="truncate", max_seconds=10.0)
_AVB_CLAP = AudioRecipe(48000, mono="mean", resampler=TORCHAUDIO, length="truncate", max_seconds=10.0)
_ALE_PANNS = AudioRecipe(16000, mono="first", resampler=TORCHAUDIO, length="pad_min", min_seconds=2.0, dc_remove=True,
                         dc_before_resample=True)


def _av_benchmark_like(name: str, toolkit: str, notes: str) -> MetricPreset:
    return MetricPreset(
        name=name, toolkit=toolkit,
        fd=BackboneConvention("panns16k", _PANN16, "embedding", _AVB_PANNS),
        classifier=BackboneConvention("panns16k", _PANN16, "logits", _AVB_PANNS),
        kl_direction="ref_to_gen", kl_eps=None,
        fad=BackboneConvention("vggish", "vggish-10086976.pth", "frames", _AVB_VGGISH),
        clap=BackboneConvention("laion_clap", _CLAP_MS_AS, "embedding", _AVB_CLAP, (("checkpoint", _CLAP_MS_AS),)),
        kad=BackboneConvention("panns16k", _PANN16, "embedding", _AVB_PANNS),
        notes=notes)


SABENCH = _av_benchmark_like(
    "sabench", "sabench 1 = av-benchmark conventions (hkchengrex/av-benchmark@050a5cd)",
    "The default. Numerically the av_benchmark preset (SemanticAudio follows MeanAudio, which evaluates "
    "with av-benchmark); kept as its own name so the default can change with a version bump while "
    "av_benchmark stays pinned. Truncate to 10 s, never pad; mean mono; DC removed for PANNs.")

AV_BENCHMARK = _av_benchmark_like(
    "av_benchmark", "hkchengrex/av-benchmark@050a5cd",
    "audio truncated to --audio_length (10 s for AudioCaps), no padding; torchaudio Resample defaults; "
    "KL = kl_div(log_softmax(gen), log_softmax(ref), log_target=True) = KL(ref||gen), no eps.")

AUDIOLDM_EVAL = MetricPreset(
    name="audioldm_eval", toolkit="haoheliu/audioldm_eval@8dc07ee (backbone='cnn14')",
    fd=BackboneConvention("panns16k", _PANN16, "embedding", _ALE_PANNS),
    classifier=BackboneConvention("panns16k", _PANN16, "logits", _ALE_PANNS),
    kl_direction="ref_to_gen", kl_eps=1e-6,
    fad=BackboneConvention("vggish", "vggish-10086976.pth", "frames", recipe=None),
    clap=None,
    kad=BackboneConvention("panns16k", _PANN16, "embedding", _ALE_PANNS),
    peer="audioldm-eval==0.0.3",
    notes="Pass backbone='cnn14' (HEAD defaults to MERT). Whole clip, first channel, DC removed (before "
          "resampling), zero-padded to >= 2 s. KL = kl_div(log(softmax(gen)+1e-6), softmax(ref)). No CLAP "
          "score on main. Checked against audioldm-eval 0.0.3 (tests/parity): FD, IS, KL both directions.",
)

# frechet_audio_distance (gudgud96): soundfile float32, channel mean, resampy kaiser_best, whole clip.
_GUD = AudioRecipe(16000, mono="mean", resampler="resampy_kaiser_best")
FRECHET_AUDIO_DISTANCE = MetricPreset(
    name="frechet_audio_distance", toolkit="gudgud96/frechet-audio-distance 0.3.4",
    fd=BackboneConvention("panns16k", _PANN16, "embedding", _GUD),
    classifier=None, kl_direction="ref_to_gen", kl_eps=None,
    fad=BackboneConvention("vggish", "vggish-10086976.pth", "frames", _GUD),
    kad=BackboneConvention("panns16k", _PANN16, "embedding", _GUD),
    peer="frechet-audio-distance==0.3.4",
    notes="FrechetAudioDistance(model_name='vggish'|'pann', sample_rate=16000, use_pca=False, "
          "use_activation=False): soundfile float32, np.mean over channels, resampy kaiser_best, whole clip, "
          "VGGish 0.96 s frames pooled / one PANNs fc1 embedding per clip; pytorch-fid sqrtm. Its 32 kHz "
          "PANNs uses fmax=16 kHz (panns_inference: 14 kHz), so only 16 kHz is reproduced. No IS/KL.",
)

# fadtk / kadtk: torchaudio mean -> transforms.Resample(kaiser_best; float64-computed kernel) -> 16-bit WAV
# -> int16/32768; float16 embeddings.
_FADTK = AudioRecipe(16000, mono="mean", resampler="sinc_kaiser_best_f64kernel", length="pad_min", min_seconds=1.0,
                     int16_roundtrip=True)
_KADTK = AudioRecipe(16000, mono="mean", resampler="sinc_kaiser_best_f64kernel", int16_roundtrip=True)
FADTK = MetricPreset(
    name="fadtk", toolkit="microsoft/fadtk 1.1.0",
    fd=BackboneConvention("panns16k", _PANN16, "embedding", _FADTK),
    classifier=None, kl_direction="ref_to_gen", kl_eps=None,
    fad=BackboneConvention("vggish", "vggish-10086976.pth", "frames", _FADTK),
    kad=BackboneConvention("vggish", "vggish-10086976.pth", "frames", _FADTK),
    embedding_float16=True, peer="fadtk==1.1.0",
    notes="fadtk `vggish`: channel mean, torchaudio Resample kaiser_best, written as 16-bit WAV and read "
          "back (int16/32768), zero-padded to >= 1 s, VGGish frames stored as float16. fadtk has no PANNs "
          "model: the fd convention only shares its audio recipe. No IS/KL.",
)
KADTK = MetricPreset(
    name="kadtk", toolkit="YoonjinXD/kadtk 1.1.0",
    fd=BackboneConvention("panns16k", _PANN16, "embedding", _KADTK),
    classifier=None, kl_direction="ref_to_gen", kl_eps=None,
    fad=BackboneConvention("vggish", "vggish-10086976.pth", "frames", _KADTK),
    kad=BackboneConvention("panns16k", _PANN16, "embedding", _KADTK),
    kad_precision="float32", embedding_float16=True, peer="kadtk==1.1.0",
    notes="kadtk `panns-cnn14-16k` / `vggish`: fadtk's file path without the 1 s padding; KAD in float32 "
          "with the median pairwise distance of the generated set as bandwidth, x100. No IS/KL.",
)

STABLE_AUDIO_METRICS = MetricPreset(
    name="stable_audio_metrics", toolkit="Stability-AI/stable-audio-metrics@fd55536",
    fd=BackboneConvention("openl3", "openl3 mel256 env 512", "embedding",
                          AudioRecipe(48000, mono="mean", resampler=LIBROSA)),
    classifier=BackboneConvention("passt32k", "passt-s-f128-p16-s10-ap.476-swa", "logits",
                                  AudioRecipe(32000, mono="mean", resampler=LIBROSA, peak_normalize_db=-1.0)),
    kl_direction="gen_to_ref", kl_eps=1e-6, is_splits=10, is_seed=2020,
    fad=None,
    clap=BackboneConvention("laion_clap", "630k-audioset-fusion-best", "embedding",
                            AudioRecipe(48000, mono="mean", resampler=LIBROSA, peak_normalize_db=-1.0,
                                        int16_roundtrip=True),
                            (("checkpoint", "630k-audioset-fusion-best"),)),
    notes="FD on OpenL3 and KL on PaSST (10 s windows, 5 s hop, logits averaged); those backbones are "
          "not shipped by sabench, so only its KL direction/eps and CLAP conventions are usable here.",
)

PRESETS: dict[str, MetricPreset] = {p.name: p for p in (SABENCH, AUDIOLDM_EVAL, AV_BENCHMARK, STABLE_AUDIO_METRICS,
                                                         FRECHET_AUDIO_DISTANCE, FADTK, KADTK)}
DEFAULT_PRESET = "sabench"


def get_preset(name: str | None) -> MetricPreset:
    """The preset called `name` (None: the default)."""
    key = name or DEFAULT_PRESET
    if key not in PRESETS:
        raise SabenchError(f"metric preset {key!r}", "unknown", f"use one of {sorted(PRESETS)}")
    return PRESETS[key]


def backbone_args(preset: str | None = None) -> dict[str, dict]:
    """Constructor kwargs per backbone name that make the backbones follow `preset`.

    For `RunContext(backbone_args=...)`: each backbone gets the preset's `recipe` (and e.g. the
    LAION-CLAP checkpoint name). Conventions whose backbone is not in the registry are included
    too; the context only uses names the metrics ask for.
    """
    p = get_preset(preset)
    out: dict[str, dict] = {}
    for conv in (p.fd, p.classifier, p.fad, p.clap, p.kad):
        if conv is None:
            continue
        args = dict(conv.backbone_args)
        if conv.recipe is not None:
            args["recipe"] = conv.recipe
        prev = out.setdefault(conv.backbone, args)
        if prev != args:
            raise SabenchError(f"preset {p.name}", f"two conventions configure {conv.backbone} differently",
                               "give each convention its own backbone name")
    return out
