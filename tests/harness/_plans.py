"""Hand-made run plans for store and report tests (the real ones come from harness.plan.build_plan)."""

from __future__ import annotations

from harness.records import AudioRecipe, BackboneInfo, MetricInfo, RunPlan, SystemInfo

SYS = SystemInfo("sine", "1", "none", 16000, 1, (("amplitude", 0.5),))
PANNS = BackboneInfo("panns16k", "ab" * 32, 16000, AudioRecipe(16000))


def make_plan(**over) -> RunPlan:
    """A plan of a 2-prompt generation suite with one item metric and one set metric."""
    fields = dict(
        suite="s", suite_version="1", profile="mini", task="generate", preset="sabench", seed=0,
        replicates=1, limit=None, n_prompts=2, n_suite_prompts=2,
        inputs=(("duration", None), ("loader", "m:f"), ("loader_args", [])), system=SYS,
        metrics=(MetricInfo("rms", True),
                 MetricInfo("fd", False, backbone="panns16k", backbone_checkpoint_sha256=PANNS.checkpoint_sha256,
                            recipe=PANNS.recipe.id(), kind="set", backbone_version="1", backbone_device="cpu")),
        backbones=(PANNS,), samples_sha256="0" * 64, n_samples=2)
    fields.update(over)
    return RunPlan(**fields)
