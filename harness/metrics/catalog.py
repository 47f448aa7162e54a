"""Metric registry entries: factories `(**args) -> Metric`, registered lazily (no torch import).

Generic factories take the backbone and conventions as arguments (`fd`, `is`, `kl_*`, `fad`,
`clap*`, `aes_*`, `mel_loss`, `stft_loss`); the paper-facing short names are the same
factories with the backbone names fixed (`fd_pann` = `fd` on `panns16k`, ...).
"""

from harness.registry import METRICS

_ENTRIES = (
    # generic factories
    ("fd", "harness.metrics.fd:make_fd",
     "Fréchet distance on clip embeddings (args: backbone, output, reference_stats, preset)"),
    ("kad", "harness.metrics.kad:make_kad",
     "Kernel Audio Distance (kadtk: unbiased MMD, Gaussian kernel, median bandwidth, x100)"),
    ("fad", "harness.metrics.fd:make_fad", "Fréchet distance on pooled frame embeddings (VGGish-style)"),
    ("is", "harness.metrics.classifier:make_is",
     "Inception Score on classifier logits (softmax, 10 splits, seed 2020)"),
    ("kl_ref_to_gen", "harness.metrics.classifier:make_kl_ref_to_gen",
     "paired KL(ref || gen) of softmax class distributions"),
    ("kl_gen_to_ref", "harness.metrics.classifier:make_kl_gen_to_ref",
     "paired KL(gen || ref) of softmax class distributions"),
    ("clap", "harness.metrics.clap:make_clap", "CLAP cosine(output audio, prompt text) (arg: backbone)"),
    ("clap_target", "harness.metrics.clap:make_clap_target", "editing: CLAP cosine(edited audio, target text)"),
    ("delta_clap", "harness.metrics.clap:make_delta_clap", "editing: CLAP(edited, target) - CLAP(source, target)"),
    ("aes", "harness.metrics.aes:make_aes", "Audiobox Aesthetics score on one axis (arg: axis)"),
    ("mel_loss", "harness.metrics.recon:make_mel_loss", "DAC MelSpectrogramLoss (class defaults) @ 44.1 kHz"),
    ("stft_loss", "harness.metrics.recon:make_stft_loss", "DAC MultiScaleSTFTLoss (class defaults) @ 44.1 kHz"),
    ("mel_loss_dac_training", "harness.metrics.recon:make_mel_loss_dac_training",
     "DAC training mel loss (7 scales, pow 1, log term only) @ 44.1 kHz"),
    # paper-facing presets
    ("fd_pann", "harness.metrics.fd:make_fd_pann", "FD on PANNs Cnn14-16k 2048-d embeddings"),
    ("is_pann", "harness.metrics.classifier:make_is_pann", "IS on PANNs Cnn14-16k logits"),
    ("kl_pann_ref_to_gen", "harness.metrics.classifier:make_kl_pann_ref_to_gen", "KL(ref || gen) on PANNs-16k softmax"),
    ("kl_pann_gen_to_ref", "harness.metrics.classifier:make_kl_pann_gen_to_ref", "KL(gen || ref) on PANNs-16k softmax"),
    ("fad_vggish", "harness.metrics.fd:make_fad_vggish", "FAD on VGGish 128-d frames"),
    ("kad_pann", "harness.metrics.kad:make_kad_pann", "KAD on PANNs Cnn14-16k 2048-d clip embeddings"),
    ("kad_vggish", "harness.metrics.kad:make_kad_vggish", "KAD on VGGish 128-d frames"),
    ("clap_laion", "harness.metrics.clap:make_clap_laion", "LAION-CLAP cosine(output, prompt text)"),
    ("clap_ms", "harness.metrics.clap:make_clap_ms", "MS-CLAP 2023 cosine (TTA-Bench)"),
    ("aes_ce", "harness.metrics.aes:make_aes_ce", "Audiobox Aesthetics Content Enjoyment"),
    ("aes_cu", "harness.metrics.aes:make_aes_cu", "Audiobox Aesthetics Content Usefulness"),
    ("aes_pc", "harness.metrics.aes:make_aes_pc", "Audiobox Aesthetics Production Complexity"),
    ("aes_pq", "harness.metrics.aes:make_aes_pq", "Audiobox Aesthetics Production Quality"),
)

for _name, _target, _help in _ENTRIES:
    METRICS.register_lazy(_name, _target, _help)
