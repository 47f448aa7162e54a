"""SemanticAudio's encoder interfaces over the mini backbones (the mini world's T5 + CLAP,
PE-A-Frame and DAC-VAE).

| role                       | mini backbone   | output                                   |
|----------------------------|-----------------|------------------------------------------|
| `TextEncoder` tokens       | `mini_clap` text tower: word embedding -> bi-GRU states | (B, L, 192), mask (B, L) |
| `TextEncoder` global       | `mini_clap.embed_text` (unit norm)                     | (B, 128)                 |
| `SemanticEncoder`          | `mini_semantic` frames                                  | (B, T, 64) @ 25 fps      |
| `AcousticVAE`              | `mini_vae` posterior mean / decode                      | (B, T, 32) @ 25 Hz       |

All audio is 16 kHz mono; one frame = 640 samples, so semantic frames and latents share the
25 fps grid the synthesizer needs. Checkpoints name the bundle as
`suites.synthcaps.mini_encoders:mini_encoders` (`Encoders.spec`); its `sha256` combines the
three backbones' manifest-verified weight hashes, so retrained backbones change every mini
system's fingerprint (with the `mini_clap` backbone version: version 2 runs the text GRU
packed, so token states no longer depend on the batch's longest caption). Weights come from
`suites.synthcaps.backbones.checkpoints.checkpoint_dir()`
(`$SABENCH_MINI_CHECKPOINTS` overrides); the `root` argument (a real weights folder) is unused.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from harness.hashing import sha256_json
from systems.semanticaudio.encoders import AcousticVAE, Encoders, SemanticEncoder, TextEncoder, TextFeatures, pad_frames

SR = 16000
HOP = 640
"""Samples per 25 fps frame (semantic frames and VAE latents)."""
SPEC = "suites.synthcaps.mini_encoders:mini_encoders"


class MiniTextEncoder(TextEncoder):
    """Token states of the mini CLAP text tower (the T5 role) + its pooled embedding (CLAP)."""

    def __init__(self, backbone):
        self.bb = backbone                                  # harness MiniClap backbone
        self.bb.load()
        clap = self.bb.model
        self.token_dim = 2 * clap.text.gru.hidden_size      # bidirectional GRU: 192
        self.global_dim = clap.text.out.out_features        # 128

    def encode(self, texts: Sequence[str]) -> TextFeatures:
        from suites.synthcaps.backbones.models import encode_texts

        ids = encode_texts([str(t) for t in texts])          # (B, L) int64, 0 = pad
        with torch.no_grad():
            h, _, mask = self.bb.model.text.states(ids)     # (B, L, 192) packed GRU, (B, L) bool
            glob = self.bb.model.embed_text(ids)            # (B, 128) unit norm
        return TextFeatures(h.float() * mask[..., None], mask, glob.float())


class MiniSemanticEncoder(SemanticEncoder):
    """`mini_semantic` frames: (B, N) @ 16 kHz -> (B, ceil(N / 640), 64) @ 25 fps."""

    sample_rate = SR
    frame_rate = 25.0

    def __init__(self, backbone):
        self.bb = backbone
        self.bb.load()
        self.dim = int(self.bb.model.proj.out_channels)     # 64

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        x = pad_frames(audio.float(), HOP)                  # (B, T * 640) @ 16 kHz
        with torch.no_grad():
            return self.bb.model.frames(x).transpose(1, 2).contiguous()   # (B, T, 64)


class MiniVAE(AcousticVAE):
    """`mini_vae`: posterior mean (B, ceil(N / 640), 32) @ 25 Hz; decode -> (B, T * 640)."""

    sample_rate = SR
    hop = HOP

    def __init__(self, backbone):
        self.bb = backbone
        self.bb.load()
        self.dim = int(self.bb.model.dec[0].in_channels)    # 32

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        x = pad_frames(audio.float(), HOP)                  # (B, T * 640) @ 16 kHz
        with torch.no_grad():
            mu, _ = self.bb.model.encode(x)                 # (B, 32, T)
        return mu.transpose(1, 2).contiguous()              # (B, T, 32)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.bb.model.decode(z.float().transpose(1, 2))        # (B, T * 640) @ 16 kHz


def mini_encoders(_root: str | None = None) -> Encoders:
    """The mini bundle (weights verified against the mini manifest when loaded)."""
    from suites.synthcaps.backbones.backbones import MiniClap, MiniSemantic
    from suites.synthcaps.backbones.backbones import MiniVAE as VAEBackbone

    text, sem, vae = MiniTextEncoder(MiniClap()), MiniSemanticEncoder(MiniSemantic()), MiniVAE(VAEBackbone())
    sha = sha256_json({"mini_clap": text.bb.info.checkpoint_sha256, "mini_clap_version": text.bb.info.version,
                       "mini_semantic": sem.bb.info.checkpoint_sha256,
                       "mini_vae": vae.bb.info.checkpoint_sha256})
    return Encoders(text, sem, vae, spec=SPEC, sha256=sha)
