"""Checkpoint-free test systems: plumbing tests and sanity rows for every report.

- `silence`: digital silence.
- `sine`: one sine per request; its frequency (110-1760 Hz) and phase come from the request
  seed, so different seeds give different clips and equal seeds equal clips.
- `noise`: seeded white noise (uniform in [-amplitude, amplitude]).
- `reference-echo`: returns the prompt's reference audio (an oracle: FD(echo, ref) ~ 0).

They can also edit and reconstruct (the output has the source's length; `reference-echo`
returns the edit target / the input), so every suite type has cheap sanity rows.

Parameters (all recorded in `info.parameters`, hence in every cache key), except `sleep`:
seconds to wait per item, which changes timing only (used by the kill-and-resume test).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.records import Audio, EditRequest, GenerationRequest, Prompt, ReconstructRequest, SystemInfo, freeze
from harness.seeding import numpy_rng
from harness.system import System


class _SignalSystem(System):
    """Shared plumbing: parameters, info, batching, per-item sleep."""

    name = "signal"
    capabilities = frozenset({"generate", "edit", "reconstruct"})
    batch_size = 4
    _defaults: dict[str, Any] = {"sample_rate": 16000, "channels": 1, "amplitude": 0.5}

    def __init__(self, sleep: float = 0.0, batch_size: int | None = None, **params: Any):
        unknown = set(params) - set(self._defaults)
        if unknown:
            from harness.errors import SabenchError

            raise SabenchError(f"system {self.name}", f"unknown parameter {sorted(unknown)[0]!r}",
                               f"use: {', '.join(sorted(self._defaults))}, sleep, batch_size")
        from harness.validate import Field, check_params

        fields = {"sample_rate": Field("int", minimum=1), "channels": Field("int", minimum=1),
                  "amplitude": Field("float", minimum=0.0), "sleep": Field("float", minimum=0.0),
                  "batch_size": Field("int", minimum=1, optional=True)}
        checked = check_params(f"{self.name}", {**params, "sleep": sleep, "batch_size": batch_size},
                               self._defaults, fields)
        super().__init__(**{**self._defaults, **{k: checked[k] for k in params}})
        self.sleep = float(checked["sleep"])
        if batch_size is not None:
            self.batch_size = checked["batch_size"]

    @property
    def info(self) -> SystemInfo:
        return SystemInfo(self.name, "1", "none", int(self.params["sample_rate"]), int(self.params["channels"]),
                          freeze(self.params))

    def _frames(self, seconds: float) -> int:
        return max(1, int(round(seconds * self.params["sample_rate"])))

    def _render(self, prompt: Prompt, seed: int, frames: int) -> np.ndarray:
        raise NotImplementedError

    def _out(self, prompt: Prompt, seed: int, frames: int) -> Audio:
        if self.sleep:
            time.sleep(self.sleep)
        mono = self._render(prompt, seed, frames).astype(np.float32)  # (T,)
        x = np.repeat(mono[None, :], int(self.params["channels"]), axis=0)  # (C, T)
        return Audio(x, int(self.params["sample_rate"]))

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Audio]:
        return [self._out(r.prompt, r.seed, self._frames(r.prompt.duration)) for r in requests]

    def edit(self, requests: Sequence[EditRequest], sources: Sequence[Audio]) -> list[Audio]:
        return [self._out(r.prompt, r.seed, self._frames(s.duration)) for r, s in zip(requests, sources, strict=True)]

    def reconstruct(self, requests: Sequence[ReconstructRequest], inputs: Sequence[Audio]) -> list[Audio]:
        return [self._out(r.prompt, r.seed, self._frames(s.duration)) for r, s in zip(requests, inputs, strict=True)]


class SilenceSystem(_SignalSystem):
    name = "silence"
    _defaults = {"sample_rate": 16000, "channels": 1}

    def _render(self, prompt: Prompt, seed: int, frames: int) -> np.ndarray:
        return np.zeros(frames, dtype=np.float32)  # (T,)


class SineSystem(_SignalSystem):
    name = "sine"

    def _render(self, prompt: Prompt, seed: int, frames: int) -> np.ndarray:
        rng = numpy_rng(seed)
        freq = rng.uniform(110.0, 1760.0)  # Hz
        phase = rng.uniform(0.0, 2 * np.pi)
        t = np.arange(frames, dtype=np.float64) / self.params["sample_rate"]  # (T,) seconds
        return self.params["amplitude"] * np.sin(2 * np.pi * freq * t + phase)


class NoiseSystem(_SignalSystem):
    name = "noise"

    def _render(self, prompt: Prompt, seed: int, frames: int) -> np.ndarray:
        a = self.params["amplitude"]
        return numpy_rng(seed).uniform(-a, a, size=frames)  # (T,)


class ReferenceEchoSystem(_SignalSystem):
    """Returns the prompt's reference audio unchanged (its native rate and channels)."""

    name = "reference-echo"
    _defaults = {}

    @property
    def info(self) -> SystemInfo:
        return SystemInfo(self.name, "1", "none", 0, 0, freeze(self.params))

    def _echo(self, prompt: Prompt) -> Audio:
        from harness import audio
        from harness.errors import SabenchError

        if not prompt.reference:
            raise SabenchError(f"prompt {prompt.id}", "has no reference audio to echo",
                               "use reference-echo only on suites with references")
        if self.sleep:
            time.sleep(self.sleep)
        return audio.read(prompt.reference)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Audio]:
        return [self._echo(r.prompt) for r in requests]

    def edit(self, requests: Sequence[EditRequest], sources: Sequence[Audio]) -> list[Audio]:
        return [self._echo(r.prompt) for r in requests]

    def reconstruct(self, requests: Sequence[ReconstructRequest], inputs: Sequence[Audio]) -> list[Audio]:
        return list(inputs)


class SourceEchoSystem(ReferenceEchoSystem):
    """Edit = the source clip unchanged: the "original source" row of an editing table (its
    CLAP to the target is the unedited baseline; its delta-CLAP is 0 by construction)."""

    name = "source-echo"
    capabilities = frozenset({"edit"})

    def edit(self, requests: Sequence[EditRequest], sources: Sequence[Audio]) -> list[Audio]:
        if len(requests) != len(sources):
            from harness.errors import SabenchError

            raise SabenchError(self.name, f"{len(requests)} requests but {len(sources)} sources",
                               "pass one source per request")
        return list(sources)


__all__ = ["SilenceSystem", "SineSystem", "NoiseSystem", "ReferenceEchoSystem", "SourceEchoSystem"]
