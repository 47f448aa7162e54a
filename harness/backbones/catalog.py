"""The real metric backbones, registered lazily (importing this module imports no torch).

Each entry is a factory `(**args) -> Backbone`; construction is cheap and reads nothing,
`load()` reads the weights directory (docs/weights.md). Other backbones (the mini world's
stand-ins) are registered by their own package's catalog (`suites.catalog`).

| name | args | outputs |
|---|---|---|
| panns16k / panns32k | weights, recipe, device | embedding (B, 2048), logits (B, 527) |
| laion_clap | checkpoint = 630k-audioset-best \\| 630k-audioset-fusion-best \\| music_speech_audioset_epoch_15_esc_89.98 | embedding (B, 512); embed_text (B, 512) |
| ms_clap | weights, recipe, device | embedding (B, 1024); embed_text (B, 1024) |
| aesthetics | weights, recipe, device | CE, CU, PC, PQ (B,) |
| vggish | weights, recipe, device | embedding (B, 128), frames (B, n_max, 128), n_frames (B,) |
"""  # noqa: E501 - Markdown table rows cannot be wrapped

from harness.registry import BACKBONES

BACKBONES.register_lazy("panns16k", "harness.backbones.panns:panns16k",
                        help="PANNs Cnn14 16 kHz (Cnn14_16k_mAP=0.438.pth): 2048-d fc1 + 527 logits")
BACKBONES.register_lazy("panns32k", "harness.backbones.panns:panns32k",
                        help="PANNs Cnn14 32 kHz (Cnn14_mAP=0.431.pth): 2048-d fc1 + 527 logits")
BACKBONES.register_lazy("laion_clap", "harness.backbones.laion_clap:laion_clap_backbone",
                        help="LAION-CLAP 512-d audio/text, 48 kHz; checkpoint chosen by name")
BACKBONES.register_lazy("ms_clap", "harness.backbones.ms_clap:MsClap",
                        help="MS-CLAP 2023 1024-d audio/text, 44.1 kHz, first 7 s")
BACKBONES.register_lazy("aesthetics", "harness.backbones.aesthetics:AudioboxAesthetics",
                        help="Audiobox Aesthetics CE/CU/PC/PQ, 16 kHz, 10 s windows")
BACKBONES.register_lazy("vggish", "harness.backbones.vggish:VGGishBackbone",
                        help="VGGish 128-d pre-activation frames (0.96 s), 16 kHz")
