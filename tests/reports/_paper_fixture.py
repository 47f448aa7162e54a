"""The SemanticAudio paper's own numbers (Tables 1-4, 6) as RunResults, for layout tests."""

from __future__ import annotations

from harness.records import Aggregate, ItemScore, MetricInfo, RunPlan, RunResult, SystemInfo, freeze

METRICS = {
    "fd_pann": MetricInfo("fd_pann", False, "panns16k", "c" * 64, "r16k", kind="set"),
    "is_pann": MetricInfo("is_pann", True, "panns16k", "c" * 64, "r16k", kind="set"),
    "clap_laion": MetricInfo("clap_laion", True, "laion_clap", "d" * 64, "r48k"),
    "clap_ms": MetricInfo("clap_ms", True, "ms_clap", "e" * 64, "r44k"),
    "aes_cu": MetricInfo("aes_cu", True, "audiobox", "f" * 64, "r16k"),
    "aes_pq": MetricInfo("aes_pq", True, "audiobox", "f" * 64, "r16k"),
    "mel_loss": MetricInfo("mel_loss", False, None, None, "r44k"),
    "stft_loss": MetricInfo("stft_loss", False, None, None, "r44k"),
    "clap_target": MetricInfo("clap_target", True, "laion_clap", "d" * 64, "r48k"),
    "delta_clap": MetricInfo("delta_clap", True, "laion_clap", "d" * 64, "r48k"),
}


def run(suite: str, label: str, values: dict, *, version: str = "1.0.0", profile: str = "real",
        items: tuple = (), params: dict | None = None, metric_infos: dict | None = None, n: int = 10,
        suite_n: int = 10, limit: int | None = None, planned: bool = True, failures: tuple = (),
        n_by_metric: dict | None = None) -> RunResult:
    """A finished run: `n` items scored per metric (`n_by_metric` overrides) out of a suite of
    `suite_n` prompts (one replicate); `planned=False` gives a result without a run plan."""
    infos = metric_infos or METRICS
    system = SystemInfo(label, "1", "a" * 64, 48000, parameters=freeze(params or {}))
    metrics = tuple(infos[k] for k in values)
    plan = RunPlan(suite=suite, suite_version=version, profile=profile, task="generate", preset="sabench", seed=0,
                   replicates=1, limit=limit, n_prompts=min(limit or suite_n, suite_n), n_suite_prompts=suite_n,
                   inputs=(), system=system, metrics=metrics, backbones=(), samples_sha256="0" * 64,
                   n_samples=min(limit or suite_n, suite_n)) if planned else None
    ns = n_by_metric or {}
    return RunResult(
        run_id=f"{suite}:{label}" if plan is None else plan.run_id, suite=suite, suite_version=version,
        profile=profile, system=system,
        metrics=metrics, aggregates=tuple(Aggregate(k, v, n=ns.get(k, n)) for k, v in values.items() if v is not None),
        items=items, failures=failures, plan=plan)


T1 = [("Resonate", 16.0, 11.04, 0.403, 3.78), ("TangoFlux", 22.6, 12.05, 0.361, 3.85),
      ("Base Model", 25.0, 7.11, 0.318, 3.42), ("Ours (d=32)", 22.5, 7.35, 0.348, 3.48),
      ("Ours (d=64)", 22.2, 7.40, 0.356, 3.52), ("Ours (d=128)", 19.1, 9.13, 0.381, 3.72),
      ("Ours (d=1024)", 20.9, 8.76, 0.373, 3.65), ("Ours (d=1024, rawPE)", 33.8, 6.65, 0.320, 3.18)]
T2 = [("Resonate", 0.459, 5.258, 5.942), ("TangoFlux", 0.464, 5.006, 5.701), ("Base Model", 0.426, 5.119, 5.897),
      ("Ours (d=32)", 0.422, 4.896, 5.648), ("Ours (d=64)", 0.425, 4.911, 5.652),
      ("Ours (d=128)", 0.459, 5.187, 5.936), ("Ours (d=1024)", 0.458, 5.045, 5.735)]
T3 = [("Ours d=1024 (rawPE)", 1.202, 1.670), ("Ours d=1024 (DDT)", 1.256, 1.695), ("Ours (d=128)", 1.413, 1.828),
      ("Ours (d=64)", 1.595, 1.992), ("Ours (d=32)", 1.817, 2.270),
      ("SemanticVocoder (Xie et al., 2025)", 1.927, 2.886)]
T4 = [("Ours (Semantic FlowEdit)", 0.351, 0.094, 3.71), ("TangoFlux FlowEdit", 0.339, 0.081, 3.54),
      ("Resonate FlowEdit", 0.322, 0.065, 3.48), ("Base Model (DAC FlowEdit)", 0.290, 0.054, 3.32),
      ("Original Source", 0.257, None, 3.89)]
T6 = [("Sound Removal", 22, 0.309, 0.160), ("Subject Replace", 31, 0.378, 0.154), ("Other Replace", 18, 0.297, 0.123),
      ("Action Replace", 7, 0.378, 0.115), ("Weather Change", 22, 0.318, 0.109), ("Event Replace", 16, 0.387, 0.099),
      ("Sound Addition", 18, 0.351, 0.084), ("Intensity Change", 6, 0.389, 0.078), ("Material Change", 6, 0.378, 0.076),
      ("Spatial Change", 6, 0.341, 0.071), ("Vehicle Replace", 12, 0.319, 0.059),
      ("Atmosphere Change", 12, 0.335, 0.047),
      ("Environment Add", 14, 0.347, 0.045), ("Temporal Change", 10, 0.390, 0.044)]


def table1_runs():
    runs = [run("audiocaps", n, {"fd_pann": fd, "is_pann": is_, "clap_laion": clap}) for n, fd, is_, clap, _ in T1]
    mos = {n: m for n, *_, m in T1}
    return runs, mos


def table2_runs():
    return [run("ttabench", n, {"clap_ms": a, "aes_cu": b, "aes_pq": c}) for n, a, b, c in T2]


def table3_runs():
    return [run("reconstruction", n, {"mel_loss": a, "stft_loss": b}) for n, a, b in T3]


def table4_runs():
    runs = []
    for n, clap, delta, _ in T4:
        vals = {"clap_target": clap} if delta is None else {"clap_target": clap, "delta_clap": delta}
        runs.append(run("editing", n, vals))
    return runs, {n: m for n, *_, m in T4}


def table6_run():
    """Items whose per-category means equal the paper's numbers (two values around each mean)."""
    from suites.editing.rules import slug

    items = []
    for cat, n, clap, delta in T6:
        for k in range(n):
            sign = 1 if k % 2 == 0 else -1
            spread = 0.01 * sign if n % 2 == 0 else (0.0 if k == n - 1 else 0.01 * sign)
            pid = f"{slug(cat)}-{k + 1:03d}"
            items += [ItemScore(pid, "clap_target", clap + spread), ItemScore(pid, "delta_clap", delta - spread)]
    return run("editing", "Ours (Semantic FlowEdit)", {"clap_target": 0.351, "delta_clap": 0.094}, items=tuple(items))
