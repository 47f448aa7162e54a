"""The SynthCaps sound sources: one synthesis recipe per source (numpy only).

Every recipe is `fn(rng, n, pitch, speed, material) -> (n,) float64` at 16 kHz:
`pitch` scales frequencies (0.67 low, 1 normal, 1.5 high), `speed` scales repetition or
modulation rates (0.6 slow, 1 normal, 1.6 fast), `material` ("wood"/"metal") is used by
"knock" only. Loudness, distance and room are applied later by the renderer, so an event
rendered with the same seed differs between two scenes only in what its attributes say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from suites.synthcaps.dsp import SR, bandpass, decay_env, fade, harmonic, lowpass, noise, normalize_rms, place


def _grains(rng, n: int, rate: float, grain: Callable[[], np.ndarray], jitter: float = 0.08):
    """Repeat `grain()` at `rate` per second from the event start, with seeded jitter."""
    out = np.zeros(n)
    period = SR / rate
    t = 0.0
    while t < n - 0.02 * SR:
        place(out, grain(), int(t))
        t += period * (1.0 + jitter * rng.uniform(-1, 1))
    return out


def dog_bark(rng, n, pitch, speed, material):
    def bark():
        m = int(0.16 * SR)
        f0 = 430.0 * pitch * rng.uniform(0.92, 1.08) * np.linspace(1.15, 0.8, m)
        tone = harmonic(f0, [1.0, 0.8, 0.6, 0.4, 0.25, 0.15])
        grit = bandpass(noise(rng, m), 500 * pitch, 2500 * pitch)
        return (tone + 0.5 * grit / (np.std(grit) + 1e-9)) * decay_env(m, 0.06, 0.008)
    return _grains(rng, n, 2.4 * speed, bark, 0.15)


def cat_meow(rng, n, pitch, speed, material):
    def meow():
        m = int(0.65 * SR)
        u = np.linspace(0, 1, m)
        f0 = 520.0 * pitch * rng.uniform(0.95, 1.05) * (0.85 + 0.45 * np.sin(np.pi * u) - 0.2 * u)
        tone = harmonic(f0, [0.6, 1.0, 0.7, 0.5, 0.3, 0.2, 0.1])
        return tone * np.sin(np.pi * u) ** 0.7
    return _grains(rng, n, 1.1 * speed, meow, 0.1)


def siren(rng, n, pitch, speed, material):
    t = np.arange(n) / SR
    ph = rng.uniform(0, 2 * np.pi)
    f = 900.0 * pitch + 320.0 * pitch * np.sin(2 * np.pi * 0.9 * speed * t + ph)
    return fade(harmonic(f, [1.0, 0.35, 0.15]), 0.05)


def rain(rng, n, pitch, speed, material):
    bed = bandpass(noise(rng, n), 1200 * pitch, 7000, 1.5)
    bed /= np.std(bed) + 1e-9
    drops = np.zeros(n)
    k = int(40 * n / SR)
    for at in rng.integers(0, max(n - 1, 1), k):
        m = int(0.01 * SR)
        drop = noise(rng, m) * decay_env(m, 0.002, 0.0005)
        place(drops, 2.5 * drop, int(at))
    return fade(bed + bandpass(drops, 2000, 7900), 0.08)


def bell(rng, n, pitch, speed, material):
    ratios, amps = [1.0, 2.0, 2.76, 5.4, 8.93], [1.0, 0.6, 0.45, 0.25, 0.12]
    def strike():
        m = int(1.1 * SR)
        t = np.arange(m) / SR
        f0 = 780.0 * pitch * rng.uniform(0.99, 1.01)
        s = sum(a * np.sin(2 * np.pi * min(f0 * r, 7800) * t) * np.exp(-t * (2.5 + 1.5 * i))
                for i, (r, a) in enumerate(zip(ratios, amps, strict=True)))
        return s * decay_env(m, 10.0, 0.002)
    return _grains(rng, n, 1.3 * speed, strike, 0.05)


def engine(rng, n, pitch, speed, material):
    t = np.arange(n) / SR
    f0 = 42.0 * pitch * (1 + 0.06 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 6.3)))
    saw = harmonic(f0, [1.0 / (k + 1) for k in range(30)])
    rumble = lowpass(noise(rng, n), 300 * pitch)
    rumble /= np.std(rumble) + 1e-9
    am = 1.0 + 0.35 * np.sin(2 * np.pi * 7.0 * speed * t)
    return fade((saw + 0.6 * rumble) * am, 0.1)


def beep(rng, n, pitch, speed, material):
    def tone():
        m = int(0.12 * SR)
        t = np.arange(m) / SR
        return fade(np.sin(2 * np.pi * 1500.0 * pitch * t), 0.005)
    return _grains(rng, n, 3.0 * speed, tone, 0.0)


def knock(rng, n, pitch, speed, material):
    def hit():
        m = int(0.3 * SR)
        t = np.arange(m) / SR
        burst = noise(rng, m)
        if material == "metal":
            s = sum(a * np.sin(2 * np.pi * 1250.0 * pitch * r * t) * np.exp(-t * 14)
                    for r, a in ((1.0, 1.0), (2.31, 0.6), (3.93, 0.4), (5.2, 0.25)))
            return s + 0.3 * bandpass(burst, 2000, 6000) * decay_env(m, 0.004)
        body = np.sin(2 * np.pi * 190.0 * pitch * t) * np.exp(-t * 55)
        return body + 0.8 * bandpass(burst, 150 * pitch, 900 * pitch) * decay_env(m, 0.015)
    def double():
        g = np.zeros(int(0.45 * SR))
        place(g, hit(), 0)
        place(g, hit(), int(0.16 * SR))
        return g
    return _grains(rng, n, 1.5 * speed, double, 0.1)


def whistle(rng, n, pitch, speed, material):
    t = np.arange(n) / SR
    steps = np.array([0, 2, 4, 5, 7, 9])
    note_len = int(SR * 0.35 / speed)
    notes = rng.choice(steps, size=n // max(note_len, 1) + 1)
    semis = np.repeat(notes, note_len)[:n]
    smooth = lowpass(semis.astype(float), 12.0)
    f = 1900.0 * pitch * 2 ** (smooth / 12.0) * (1 + 0.012 * np.sin(2 * np.pi * 5.5 * t))
    breath = bandpass(noise(rng, n), 1500 * pitch, 4000 * pitch)
    return fade(harmonic(f, [1.0, 0.08]) + 0.05 * breath / (np.std(breath) + 1e-9), 0.04)


def footsteps(rng, n, pitch, speed, material):
    def step():
        m = int(0.12 * SR)
        thud = lowpass(noise(rng, m), 500 * pitch) * decay_env(m, 0.025, 0.004)
        scuff = bandpass(noise(rng, m), 1500, 4000) * decay_env(m, 0.01, 0.01)
        return thud / (np.std(thud) + 1e-9) + 0.4 * scuff / (np.std(scuff) + 1e-9)
    return _grains(rng, n, 2.0 * speed, step, 0.06)


def bird_chirp(rng, n, pitch, speed, material):
    def trill():
        out = np.zeros(int(0.5 * SR))
        for k in range(int(rng.integers(3, 6))):
            m = int(0.06 * SR)
            f = np.linspace(3000, 5000, m) * pitch * rng.uniform(0.95, 1.05)
            place(out, np.sin(2 * np.pi * np.cumsum(np.minimum(f, 7800)) / SR)
                  * np.sin(np.linspace(0, np.pi, m)), int(k * 0.085 * SR))
        return out
    return _grains(rng, n, 1.4 * speed, trill, 0.2)


def clock_tick(rng, n, pitch, speed, material):
    state = {"k": 0}
    def tick():
        m = int(0.03 * SR)
        t = np.arange(m) / SR
        f = (4000.0 if state["k"] % 2 == 0 else 3000.0) * pitch
        state["k"] += 1
        click = bandpass(noise(rng, m), 2000, 7000) * decay_env(m, 0.002, 0.0003)
        return np.sin(2 * np.pi * min(f, 7600) * t) * np.exp(-t * 300) + click
    return _grains(rng, n, 2.5 * speed, tick, 0.0)


def wind(rng, n, pitch, speed, material):
    gust = lowpass(noise(rng, n), 0.6 * speed)
    gust = 0.55 + 0.45 * np.tanh(2.5 * gust / (np.std(gust) + 1e-9))
    low = bandpass(noise(rng, n), 150 * pitch, 700 * pitch, 1.5)
    howl = bandpass(noise(rng, n), 600 * pitch, 900 * pitch, 4.0)
    x = low / (np.std(low) + 1e-9) + 0.5 * howl / (np.std(howl) + 1e-9)
    return fade(x * gust, 0.15)


def drum(rng, n, pitch, speed, material):
    def hit():
        m = int(0.35 * SR)
        t = np.arange(m) / SR
        f = (55.0 + 90.0 * np.exp(-t * 30)) * pitch
        body = np.sin(2 * np.pi * np.cumsum(f) / SR) * np.exp(-t * 9)
        skin = bandpass(noise(rng, m), 200, 3000) * decay_env(m, 0.02, 0.001)
        return body + 0.3 * skin
    return _grains(rng, n, 2.2 * speed, hit, 0.03)


@dataclass(frozen=True)
class Source:
    """One vocabulary entry: its synthesis recipe and which attributes apply to it."""

    name: str
    synth: Callable
    group: str
    """"animal", "vehicle", "weather", "device", "human": drives the editing categories."""
    continuous: bool
    """True for beds (rain, wind, engine, siren) that can span the whole clip."""
    pitched: bool = True
    rhythmic: bool = True


SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("dog_bark", dog_bark, "animal", False),
    Source("cat_meow", cat_meow, "animal", False),
    Source("bird_chirp", bird_chirp, "animal", False),
    Source("siren", siren, "vehicle", True),
    Source("engine", engine, "vehicle", True, rhythmic=False),
    Source("rain", rain, "weather", True, pitched=False, rhythmic=False),
    Source("wind", wind, "weather", True, pitched=False, rhythmic=False),
    Source("bell", bell, "device", False),
    Source("beep", beep, "device", False),
    Source("clock_tick", clock_tick, "device", False),
    Source("knock", knock, "human", False),
    Source("whistle", whistle, "human", False),
    Source("footsteps", footsteps, "human", False, pitched=False),
    Source("drum", drum, "human", False),
)}

SOURCE_NAMES: tuple[str, ...] = tuple(SOURCES)
"""Index order of the label vector (frame labels and classifier logits)."""

PITCH = {"low": 0.67, "normal": 1.0, "high": 1.5}
SPEED = {"slow": 0.6, "normal": 1.0, "fast": 1.6}
LOUDNESS_DB = {"quiet": -14.0, "normal": -6.0, "loud": 0.0}
FAR_DB = -8.0
FAR_LOWPASS_HZ = 2000.0
EVENT_RMS = 0.1
"""RMS (linear) of every event at "loud", "near", before the room."""


def synthesize(source: str, rng: np.random.Generator, n: int, pitch: str, speed: str,
               material: str) -> np.ndarray:
    """(n,) float64 dry event at EVENT_RMS, before loudness/distance/room."""
    s = SOURCES[source]
    x = s.synth(rng, n, PITCH[pitch], SPEED[speed], material)
    return normalize_rms(fade(x, 0.01), EVENT_RMS)
