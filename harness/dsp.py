"""The two signal-processing kernels of the core that torchaudio used to provide.

torchaudio is not a core dependency (a researcher's torch build often has no matching
torchaudio release), so the mini world computes these itself, in float32, with the same
arithmetic as `torchaudio.functional` so that every stored number is unchanged
(tests/harness/test_dsp.py compares bit for bit whenever torchaudio is installed):

- `htk_mel_filterbank(n_freqs, f_min, f_max, n_mels, sample_rate) -> (n_freqs, n_mels)`:
  triangular filters on the HTK mel scale, no normalisation (= `melscale_fbanks(...,
  norm=None, mel_scale="htk")`).
- `SincResampler(sr_in, sr_out, width, rolloff, window, beta, kernel)`: windowed-sinc
  polyphase resampling (Hann or Kaiser window) as one strided convolution; output length
  ceil(T * sr_out / sr_in) (= `torchaudio.transforms.Resample` with dtype float32; with
  kernel "float64", = Resample without dtype: kernel computed in float64, stored as float32).
"""

from __future__ import annotations

import math

import torch

KAISER_BETA = 14.769656459379492
"""Default Kaiser beta (the value torchaudio and resampy's "kaiser_best" use)."""


def _hz_to_htk_mel(hz: float) -> float:
    return 2595.0 * math.log10(1.0 + hz / 700.0)


def htk_mel_filterbank(n_freqs: int, f_min: float, f_max: float, n_mels: int,
                       sample_rate: int) -> torch.Tensor:
    """(n_freqs, n_mels) float32 weights mapping a power spectrum's bins to mel bands."""
    bins = torch.linspace(0, sample_rate // 2, n_freqs)                       # (F,) Hz
    mels = torch.linspace(_hz_to_htk_mel(f_min), _hz_to_htk_mel(f_max), n_mels + 2)
    edges = 700.0 * (10.0 ** (mels / 2595.0) - 1.0)                          # (M + 2,) Hz
    spacing = edges[1:] - edges[:-1]                                         # (M + 1,)
    offset = edges.unsqueeze(0) - bins.unsqueeze(1)                          # (F, M + 2)
    rising = (-1.0 * offset[:, :-2]) / spacing[:-1]                          # (F, M)
    falling = offset[:, 2:] / spacing[1:]                                    # (F, M)
    return torch.max(torch.zeros(1), torch.min(rising, falling))             # (F, M)


class SincResampler(torch.nn.Module):
    """Resample (..., T) float32 from `sr_in` to `sr_out` (integer rates).

    `window` is "hann" or "kaiser" (then `beta`, default `KAISER_BETA`); `width` is the number
    of zero crossings of the low-pass sinc kept on each side; `rolloff` scales its cut-off
    below the lower Nyquist frequency.
    """

    kernel: torch.Tensor  # buffer (up, 1, 2 * pad + down): one filter per output phase

    def __init__(self, sr_in: int, sr_out: int, *, width: int = 6, rolloff: float = 0.99,
                 window: str = "hann", beta: float | None = None, kernel: str = "float32"):
        super().__init__()
        if window not in ("hann", "kaiser"):
            raise ValueError(f"window must be 'hann' or 'kaiser', not {window!r}")
        if kernel not in ("float32", "float64"):
            raise ValueError(f"kernel must be 'float32' or 'float64', not {kernel!r}")
        if width <= 0:
            raise ValueError("width must be positive")
        g = math.gcd(int(sr_in), int(sr_out))
        self.up, self.down = int(sr_out) // g, int(sr_in) // g  # output / input phases
        taps_dtype = torch.float64 if kernel == "float64" else torch.float32
        weights, self.pad = self._kernel(width, rolloff, window, beta, taps_dtype)
        self.register_buffer("kernel", weights.to(torch.float32), persistent=False)  # (up, 1, 2 * pad + down)

    def _kernel(self, width: int, rolloff: float, window: str, beta: float | None,
                taps_dtype: torch.dtype) -> tuple[torch.Tensor, int]:
        """Float64 taps (kernel "float64") promote the whole computation to float64, as in
        torchaudio's Resample without dtype; the phases stay float32 in both cases."""
        cutoff = min(self.down, self.up) * rolloff  # in units of the reduced rates
        pad = math.ceil(width * self.down / cutoff)
        taps = torch.arange(-pad, pad + self.down, dtype=taps_dtype)[None, None] / self.down
        phase = torch.arange(0, -self.up, -1, dtype=torch.float32)[:, None, None] / self.up
        t = (phase + taps) * cutoff                                  # (up, 1, K) zero crossings
        t = t.clamp_(-width, width)
        if window == "hann":
            win = torch.cos(t * math.pi / width / 2) ** 2
        else:
            b = torch.tensor(float(KAISER_BETA if beta is None else beta))
            win = torch.i0(b * torch.sqrt(1 - (t / width) ** 2)) / torch.i0(b)
        t *= math.pi
        sinc = torch.where(t == 0, torch.tensor(1.0).to(t), t.sin() / t)
        sinc *= win * (cutoff / self.down)
        return sinc, pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., T) -> (..., ceil(T * sr_out / sr_in))."""
        lead, n = x.shape[:-1], x.shape[-1]
        flat = torch.nn.functional.pad(x.reshape(-1, n), (self.pad, self.pad + self.down))
        y = torch.nn.functional.conv1d(flat[:, None], self.kernel, stride=self.down)  # (B, up, T/down)
        y = y.transpose(1, 2).reshape(flat.shape[0], -1)             # (B, phases interleaved)
        keep = int(torch.ceil(torch.as_tensor(self.up * n / self.down)))
        return y[:, :keep].reshape(*lead, -1)
