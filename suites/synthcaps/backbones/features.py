"""Front-end features shared by the mini backbones (torch).

- `LogMel`: 16 kHz waveform -> (B, 64, F) natural-log mel power at 100 fps
  (n_fft 1024, Hann window 1024, hop 160, 64 HTK mel bands 30-8000 Hz, floor 1e-5),
  F = T // 160 (the centred STFT's extra last frame is dropped so 4 s -> 400 frames).
- `Spec`: 16 kHz waveform <-> power-compressed complex STFT (n_fft 640, hop 160), used by
  the acoustic VAE. Compression c = X |X|^(alpha - 1), alpha = 0.3; inverse exact.
"""

from __future__ import annotations

import torch
from torch import nn

SR = 16000
HOP = 160
"""100 feature frames per second."""
N_MELS = 64


class LogMel(nn.Module):
    fb: torch.Tensor      # buffer (F, M) mel filterbank
    window: torch.Tensor  # buffer (n_fft,) Hann window

    def __init__(self, n_fft: int = 1024, n_mels: int = N_MELS, fmin: float = 30.0,
                 fmax: float = 8000.0):
        super().__init__()
        from harness.dsp import htk_mel_filterbank  # = torchaudio's melscale_fbanks(norm=None, "htk")

        fb = htk_mel_filterbank(n_fft // 2 + 1, fmin, fmax, n_mels, SR)  # (F, M)
        self.n_fft = n_fft
        self.register_buffer("fb", fb, persistent=False)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """wave (B, T) @ 16 kHz -> (B, 64, T // 160) log mel power."""
        spec = torch.stft(wave, self.n_fft, HOP, window=self.window, center=True,
                          return_complex=True)                    # (B, F, T/160 + 1)
        power = spec.real ** 2 + spec.imag ** 2
        mel = torch.einsum("bft,fm->bmt", power, self.fb)          # (B, 64, frames)
        return torch.log(mel + 1e-5)[..., : wave.shape[-1] // HOP]


class Spec(nn.Module):
    """Compressed complex STFT and its inverse (the VAE's input and output domain)."""

    window: torch.Tensor  # buffer (n_fft,) Hann window

    def __init__(self, n_fft: int = 640, alpha: float = 0.3):
        super().__init__()
        self.n_fft, self.alpha = n_fft, alpha
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, T) -> (B, 2 * (n_fft/2+1), T // 160): real parts then imaginary parts."""
        x = torch.stft(wave, self.n_fft, HOP, window=self.window, center=True,
                       return_complex=True)[..., : wave.shape[-1] // HOP]
        mag = x.abs().clamp_min(1e-7)
        c = x * mag ** (self.alpha - 1.0)
        return torch.cat([c.real, c.imag], dim=1)

    def inverse(self, c: torch.Tensor, length: int) -> torch.Tensor:
        """(B, 2F, frames) compressed -> (B, length) waveform."""
        re, im = c.chunk(2, dim=1)
        z = torch.complex(re, im)
        mag = z.abs().clamp_min(1e-7)
        x = z * mag ** (1.0 / self.alpha - 1.0)
        pad = torch.zeros_like(x[..., :1])
        x = torch.cat([x, pad], dim=-1)                            # the dropped last frame
        return torch.istft(x, self.n_fft, HOP, window=self.window, center=True, length=length)
