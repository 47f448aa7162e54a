"""Side-by-side wall time: each peer's own pipeline vs `sabench score`, same clips, same backbone.

    PYTHONPATH=. .venv/bin/python benchmarks/peers.py [--reps 3] [--out benchmarks/peers.json]

Backbones: PANNs Cnn14 16 kHz (audioldm_eval FD/IS/KL vs sabench preset audioldm_eval; kadtk KAD
vs preset kadtk) and VGGish (frechet_audio_distance FAD vs preset frechet_audio_distance). Clips:
the 20 realset-dev pairs of tests/parity; random-init checkpoints (tests/parity/peer_env.py).
"cold" = fresh caches (sabench: empty SABENCH_CACHE; fadtk/kadtk: embeddings/convert folders
removed); "warm" = the same command again (sabench reuses its embedding cache; peers without a
cache recompute). Repetitions are interleaved (peer, sabench, peer, sabench, ...); each command
runs end to end in a fresh process so imports and model loading count. Every command runs with
one BLAS/OpenMP/torch thread (OMP_NUM_THREADS=MKL_NUM_THREADS=OPENBLAS_NUM_THREADS=1), both sides
alike, so a shared machine's other load hurts them equally. Prints min/median seconds and the
ratios peer/sabench; --out also records the machine, threads, date and command. Not a test:
numbers depend on the machine. Results and analysis: docs/metrics.md, "Speed against the peers".
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "parity"))

PEER_SNIPPET = """
import sys; sys.path.insert(0, {parity!r})
from pathlib import Path
import peers_run as r
S, W = Path({sets!r}), Path({w!r})
{call}
"""
PEERS = {
    "audioldm_eval": ("audioldm_eval", ["fd_pann", "is_pann", "kl_pann_ref_to_gen"],
                      "r.run_audioldm_eval(S/'gen', S/'ref', W/'audioldm_eval')"),
    "frechet_audio_distance": ("frechet_audio_distance", ["fad_vggish"],
                               "r.run_frechet_audio_distance(S/'gen', S/'ref', W/'torch_hub', 'vggish')"),
    "kadtk": ("kadtk", ["kad_pann"],
              "r.run_kadtk(S/'gen', S/'ref', 'cnn14-16k', kadtk_ckpt=W/'sabench/panns/Cnn14_16k_mAP=0.438.pth')"),
}


THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
"""One thread for both sides (torch reads OMP_NUM_THREADS at import; numpy/scipy BLAS too)."""


def machine(argv: list[str]) -> dict:
    """Where and how the table was measured (stored next to it in --out)."""
    import os
    import platform

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu, "cores": os.cpu_count(),
            "load_avg_1min_at_start": os.getloadavg()[0], "python": platform.python_version(),
            "threads": THREADS, "command": "benchmarks/peers.py " + " ".join(argv)}


def _timed(cmd: list[str], env: dict | None = None) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    took = time.perf_counter() - t
    if proc.returncode != 0:
        head = " ".join(cmd[:4])
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {head} ...\n{proc.stderr[-3000:]}")
    return took


def main(argv=None) -> int:
    import os

    import peer_env
    import peers_run

    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="sabench-peers-bench-"))
    os.environ["SABENCH_PARITY_TMP"] = str(root)
    peer_env.write_weights(root / "w")
    sets = root / "sets"
    peers_run.build_sets(REPO.parent / "shared" / "data" / "realset-dev", sets)
    py = sys.executable
    env = dict(os.environ, PYTHONPATH=str(REPO), **THREADS)
    table: dict = {"_meta": machine(list(sys.argv[1:] if argv is None else argv)) | {"reps": a.reps}}
    print(f"{a.reps} interleaved reps; both sides run with 1 thread "
          f"({', '.join(f'{k}={v}' for k, v in THREADS.items())})", flush=True)
    for name in a.peers.split(","):
        preset, metrics, call = PEERS[name]
        suite = peers_run.write_suite(root, sets / "prompts.jsonl", preset, metrics)
        peer_cmd = [py, "-c", PEER_SNIPPET.format(parity=str(REPO / "tests" / "parity"), sets=str(sets),
                                                  w=str(root / "w"), call=call)]
        times = {"peer_cold": [], "peer_warm": [], "sabench_cold": [], "sabench_warm": []}
        for k in range(a.reps):
            cache, out = root / f"cache_{name}_{k}", root / f"out_{name}_{k}"
            sab = [py, "-m", "harness.cli", "score", "--suite", str(suite), "--path", str(sets / "gen"),
                   "--quiet", "--out", str(out)]
            senv = dict(env, SABENCH_CACHE=str(cache), SABENCH_WEIGHTS=str(root / "w" / "sabench"),
                        SABENCH_ALLOW_CODE="1")
            for d in (sets / "gen", sets / "ref"):
                peers_run._clean(d)
            times["peer_cold"].append(_timed(peer_cmd, env))
            times["sabench_cold"].append(_timed(sab, senv))
            times["peer_warm"].append(_timed(peer_cmd, env))
            shutil.rmtree(out)  # a new run over the same cache: embeddings are reused
            times["sabench_warm"].append(_timed(sab, senv))
        row = {k: {"min": min(v), "median": statistics.median(v)} for k, v in times.items()}
        for mode in ("cold", "warm"):
            row[f"ratio_{mode}"] = {s: row[f"peer_{mode}"][s] / row[f"sabench_{mode}"][s] for s in ("min", "median")}
        table[name] = row
        print(f"{name:24s} cold peer {row['peer_cold']['median']:.1f}s sabench {row['sabench_cold']['median']:.1f}s "
              f"x{row['ratio_cold']['median']:.2f} | warm peer {row['peer_warm']['median']:.1f}s "
              f"sabench {row['sabench_warm']['median']:.1f}s x{row['ratio_warm']['median']:.2f}", flush=True)
    if a.out:
        Path(a.out).write_text(json.dumps(table, indent=2))
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
