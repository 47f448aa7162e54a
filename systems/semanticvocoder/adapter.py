"""SemanticVocoder (Xie et al., arXiv 2602.23333; zeyuxie29/SemanticVocoder): NOT YET SUPPORTED.

Facts (from the public repository's README and inference code, read for facts only):
- Autoencoder = a semantic *encoder* (Dasheng-base, 768-d frames; audio resampled 24 -> 16 kHz,
  down-mixed to mono) + a *generative vocoder* decoder (a Flow2GAN-style `MaeAudioGenerator`:
  three ConvNeXt branches over STFTs (n_fft 512/256/128), a condition encoder, Euler flow
  sampling from t = 0 (noise x 0.1) to 1, predicting the clean waveform; default 200 steps,
  output clamped to [-1, 1], then peak-normalised to at most 1).
- 24 kHz mono; 25 latent frames/s (downsampling 960); 10 s -> (768, 250).
- Vocoder snapshot: huggingface.co/ZeyuXie/SemanticVocoderSnapshot
  (`semanticVocoder_epoch-270.pt`, generator weights under key "model"; `config.json`, a
  Hydra config). The original reads the .pt with `torch.load(weights_only=False)`.
- Text-to-audio model: huggingface.co/ZeyuXie/SemanticVocoder via
  `AutoModel.from_pretrained(..., trust_remote_code=True)`; defaults 100 DiT steps,
  CFG 3.5 with guidance rescale 0.5, vocoder 200 steps, latent shape (768, 250), seed 42
  through the global RNG.

What sabench is missing to run it (why every call raises a `CapabilityError`):
1. the Dasheng-base encoder network (package `dasheng`, not installed, and its weights);
2. the Flow2GAN generator network (ConvNeXt branches, condition encoder) written and
   key-checked against `semanticVocoder_epoch-270.pt`;
3. the text-to-audio DiT, which ships only as hub remote code (not allowed here);
4. a check that the snapshot loads with `torch.load(weights_only=True)` (the original uses
   `weights_only=False`, which sabench refuses).
This adapter fixes the file layout and the identity so the blocked item is explicit.
"""

from __future__ import annotations

from typing import Any, Sequence

from harness.errors import CapabilityError
from harness.paths import weights_root
from harness.records import Audio, GenerationRequest, ReconstructRequest, SystemInfo, freeze
from harness.system import System

SAMPLE_RATE = 24000
LATENT_DIM = 768
FRAMES_PER_SECOND = 25
VOCODER_FILES = ("semanticvocoder/semanticVocoder_epoch-270.pt", "semanticvocoder/config.json")
SNAPSHOT = "https://huggingface.co/ZeyuXie/SemanticVocoderSnapshot"
MISSING = ("not yet supported: the Dasheng-base semantic encoder and the Flow2GAN generator "
           "(vocoder) networks are not implemented in sabench, and the text-to-audio model "
           "ships only as hub remote code")


class SemanticVocoderSystem(System):
    """Placeholder with the published layout; every capability raises one clear error."""

    name = "semanticvocoder"
    capabilities = frozenset()
    batch_size = 1

    def __init__(self, **params: Any):
        super().__init__(**{"vocoder_steps": 200, **params})

    @property
    def info(self) -> SystemInfo:
        knobs = {k: v for k, v in self.params.items() if k != "weights"}
        return SystemInfo(self.name, "0", "none", SAMPLE_RATE, 1, freeze(knobs))

    def files_present(self) -> dict[str, bool]:
        """Which published vocoder files exist under the weights directory."""
        root = weights_root(self.params.get("weights"))
        return {rel: bool(root and (root / rel).exists()) for rel in VOCODER_FILES}

    def _refuse(self, what: str) -> None:
        have = [rel for rel, ok in self.files_present().items() if ok]
        raise CapabilityError(
            self.name, f"cannot {what}: {MISSING} (snapshot files present: {have or 'none'}; "
            f"published at {SNAPSHOT})",
            "evaluate SemanticVocoder outputs rendered with its own scripts as a folder "
            "system ('precomputed'), or implement the items listed in docs/adapters.md")

    def load(self) -> None:
        self._refuse("load")

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Audio]:
        self._refuse("generate")
        return []

    def reconstruct(self, requests: Sequence[ReconstructRequest], inputs: Sequence[Audio]) -> list[Audio]:
        self._refuse("reconstruct")
        return []
