"""Strict configuration: every value a user writes (suite YAML, job YAML, system parameters,
command-line options) of the wrong type or out of range is one line naming the file/key and
the fix, exit 2, through the real CLI. Values that used to change meaning silently are here:
`skip_incapable: "no"` (read as true), `--shard ""` (no sharding), a misspelled `compare_to`
(ignored), `metrics: []`, `synth_steps=0`, `version: 1.10` (became "1.1").
"""

from __future__ import annotations

import json

import pytest

from harness.errors import SabenchError

from _cases import Case, check, run_case

PROMPTS = "\n".join(json.dumps({"id": f"p{i}", "text": f"sound {i}", "duration": 0.25}) for i in range(2)) + "\n"
BASE = {"name": "tiny", "version": "'1'", "task": "generate", "profile": "mini", "loader": "prompt_file",
        "loader_args": "{path: {tmp}/prompts.jsonl}", "metrics": "[mel_loss]"}


def suite(**overrides: str | None) -> dict[str, str]:
    """Files of a tiny suite: BASE with keys replaced (None drops a key, extra keys are added)."""
    keys = {**BASE, **overrides}
    text = "".join(f"{k}: {v}\n" for k, v in keys.items() if v is not None)
    return {"prompts.jsonl": PROMPTS, "suite.yaml": text}


def job(header: str = "", systems: str = "      - sine\n      - noise\n") -> dict[str, str]:
    return {**suite(), "job.yaml": f"{header}runs:\n  - suites: [suite.yaml]\n    systems:\n{systems}"}


GEN = ("generate", "--suite", "suite.yaml", "--out", "o", "--quiet", "--system")
RUN_JOB = ("run", "--job", "job.yaml", "--out", "o", "--quiet", "--no-report")

CASES = [
    # ---- suite YAML: types and values
    Case("suite name of wrong type", (*GEN, "sine"), 2, "name ['a'] (a YAML list) is not a string", files=suite(name="[a]")),
    Case("suite name number", (*GEN, "sine"), 2, "name 123 (a YAML int) is not a string", files=suite(name="123")),
    Case("suite version float", (*GEN, "sine"), 2, "version 1.1 (a YAML float) is not a string or an integer",
         files=suite(version="1.10")),
    Case("suite version mapping", (*GEN, "sine"), 2, "version {'a': 1}", files=suite(version="{a: 1}")),
    Case("suite empty metrics", (*GEN, "sine"), 2, "'metrics' must be a non-empty list", files=suite(metrics="[]")),
    Case("suite no metrics", (*GEN, "sine"), 2, "'metrics' must be a non-empty list", files=suite(metrics=None)),
    Case("suite metric name not a string", (*GEN, "sine"), 2, "metrics name 5 (a YAML int) is not a string",
         files=suite(metrics="[{name: 5}]")),
    Case("suite replicates string", (*GEN, "sine"), 2, "replicates '2' (a YAML str) is not an integer >= 1",
         files=suite(replicates="'2'")),
    Case("suite seed float", (*GEN, "sine"), 2, "seed 1.5 (a YAML float) is not an integer", files=suite(seed="1.5")),
    Case("suite seed bool", (*GEN, "sine"), 2, "seed True (a YAML bool) is not an integer", files=suite(seed="yes")),
    Case("suite batch_size zero", (*GEN, "sine"), 2, "batch_size 0 is not an integer >= 1", files=suite(batch_size="0")),
    Case("suite duration zero", (*GEN, "sine"), 2, "duration 0 is not a number >= 1e-06", files=suite(duration="0")),
    Case("suite task typo", (*GEN, "sine"), 2, "task 'generation' is not one of 'generate'", files=suite(task="generation")),
    Case("suite description list", (*GEN, "sine"), 2, "description ['x'] (a YAML list) is not a string",
         files=suite(description="[x]")),
    Case("suite loader_args not a mapping", (*GEN, "sine"), 2, "loader_args [1] is not a mapping",
         files=suite(loader_args="[1]")),
    Case("suite unknown loader_args key", (*GEN, "sine"), 2, "unknown argument 'bogus'",
         files=suite(loader_args="{path: {tmp}/prompts.jsonl, bogus: 1}")),
    Case("suite missing loader_args key", (*GEN, "sine"), 2, "missing argument 'path'", files=suite(loader_args="{}")),
    Case("suite unknown metric argument", ("run", "--suite", "suite.yaml", "--out", "o", "--quiet", "--no-report",
                                           "--system", "sine"), 2, "metric 'mel_loss': bad arguments (SpectralLossMetric.__init__() got an "
         "unexpected keyword argument 'bogus')", files=suite(metrics="[{name: mel_loss, args: {bogus: 1}}]")),
    Case("suite unknown metric argument named", ("run", "--suite", "suite.yaml", "--out", "o", "--quiet",
                                                 "--no-report", "--system", "sine"), 2,
         "metric 'fd': unknown argument 'bogus'", files=suite(metrics="[{name: fd, args: {bogus: 1}}]")),
    Case("suite metric args not a mapping", (*GEN, "sine"), 2, "metric 'mel_loss' args [1] is not a mapping",
         files=suite(metrics="[{name: mel_loss, args: [1]}]")),
    # ---- job YAML
    Case("job skip_incapable string", RUN_JOB, 2, "skip_incapable 'no' (a YAML str) is not true or false",
         files=job("skip_incapable: 'no'\n")),
    Case("job compare_to misspelled", RUN_JOB, 2, "compare_to 'sinee' is not a system or label of this job",
         files=job("compare_to: sinee\n")),
    Case("job compare_to suggests", RUN_JOB, 2, "did you mean 'sine'?", files=job("compare_to: sinee\n")),
    Case("job title list", RUN_JOB, 2, "title ['a'] (a YAML list) is not a string", files=job("title: [a]\n")),
    Case("job label number", RUN_JOB, 2, "label 5 (a YAML int) is not a string",
         files=job(systems="      - {name: sine, label: 5}\n")),
    Case("job params not a mapping", RUN_JOB, 2, "params [1] is not a mapping",
         files=job(systems="      - {name: sine, params: [1]}\n")),
    Case("job param keeps its type", RUN_JOB, 2, "amplitude 'loud' (a YAML str) is not a number",
         files=job(systems="      - {name: sine, params: {amplitude: loud}}\n")),
    # ---- system parameters
    Case("sine amplitude string", (*GEN, "sine:amplitude=loud"), 2, "amplitude 'loud' (a YAML str) is not a number",
         files=suite()),
    Case("sine sample_rate zero", (*GEN, "sine:sample_rate=0"), 2, "sample_rate 0 is not an integer >= 1", files=suite()),
    Case("sine channels float", (*GEN, "sine:channels=1.5"), 2, "channels 1.5 (a YAML float) is not an integer",
         files=suite()),
    Case("sine batch_size zero", (*GEN, "sine:batch_size=0"), 2, "batch_size 0 is not an integer >= 1", files=suite()),
    Case("sine empty value", (*GEN, "sine:amplitude="), 2, "amplitude '' (a YAML str) is not a number", files=suite()),
    Case("semanticaudio synth_steps zero", (*GEN, "semanticaudio:profile=mini,synth_steps=0"), 2,
         "synth_steps 0 is not an integer >= 1", files=suite()),
    Case("semanticaudio d float", (*GEN, "semanticaudio:profile=mini,d=1.5"), 2, "d 1.5 (a YAML float) is not an integer",
         files=suite()),
    Case("semanticaudio variant", (*GEN, "semanticaudio:variant=big"), 2, "variant 'big' is not one of 'mlp'",
         files=suite()),
    Case("semanticaudio profile", (*GEN, "semanticaudio:profile=tiny"), 2, "profile 'tiny' is not one of 'real', 'mini'",
         files=suite()),
    Case("semanticaudio cfg string", (*GEN, "semanticaudio:planner_cfg=high"), 2, "planner_cfg 'high'", files=suite()),
    Case("base-model edit bounds", (*GEN, "base-model:edit_n_max=60"), 2, "edit_n_max 60 <= edit_steps 50 does not hold",
         files=suite()),
    Case("semanticaudio encoders not registered", (*GEN, "semanticaudio:profile=mini,d=16,encoders=os:system"), 2,
         "encoders 'os:system' is not a registered encoder bundle", files=suite()),
    Case("tangoflux steps zero", (*GEN, "tangoflux:steps=0"), 2, "steps 0 is not an integer >= 1", files=suite()),
    Case("resonate cfg bool", (*GEN, "resonate:cfg=true"), 2, "cfg True (a YAML bool) is not a number", files=suite()),
    Case("semanticvocoder edit_n_avg zero", (*GEN, "semanticvocoder:edit_n_avg=0"), 2,
         "edit_n_avg 0 is not an integer >= 1", files=suite()),
    Case("precomputed empty path", (*GEN, "precomputed:path="), 2, "path '' is not a string (not empty)",
         files=suite()),
    Case("precomputed numeric label", (*GEN, "precomputed:path=x,label=7"), 2, "label 7 (a YAML int) is not a string",
         files=suite()),
    Case("semanticvocoder fixed noise", (*GEN, "semanticvocoder:noise=shared"), 2,
         "noise 'shared' is not one of 'per-request-generator'", files=suite()),
    Case("exponent without a dot is text in YAML", (*GEN, "sine:amplitude=1e-1"), 2,
         "amplitude '1e-1' (a YAML str) is not a number >= 0 (fix: fix 'amplitude': YAML reads '1e-1' as text; "
         "write 0.1)", files=suite()),
    Case("job float parameter passes through", ("generate", "--job", "job.yaml", "--out", "o", "--quiet"), 0,
         "tiny x sine: 2 samples", outcome="handled",
         files=job(systems="      - {name: sine, params: {amplitude: 1.0e-05}}\n")),
    Case("system parameter twice", (*GEN, "sine:amplitude=0.1,amplitude=0.9"), 2,
         "parameter 'amplitude' given twice", files=suite()),
    # ---- command-line options
    Case("empty shard", (*GEN, "sine", "--shard", ""), 2, "expected K/N", files=suite()),
    Case("shard zero", (*GEN, "sine", "--shard", "0/2"), 2, "expected K/N", files=suite()),
    # ---- what must keep working
    Case("valid suite generates", (*GEN, "sine"), 0, "2 samples, 0 failure(s)", outcome="handled", files=suite()),
    Case("integer version accepted", (*GEN, "sine"), 0, "2 samples", outcome="handled", files=suite(version="2")),
    Case("valid shard", (*GEN, "sine", "--shard", "2/2"), 0, "1 samples", outcome="handled", files=suite()),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_config_case(case, tmp_path):
    check(case, run_case(case, tmp_path))


def test_every_message_names_its_file(tmp_path):
    """Suite and job errors name the YAML file they come from."""
    by_name = {c.name: c for c in CASES}
    for name, fname in (("suite name of wrong type", "suite.yaml"), ("job skip_incapable string", "job.yaml")):
        case = by_name[name]
        out = run_case(case, tmp_path / case.name.replace(" ", "_"))
        assert fname in out.stderr, out.stderr


def test_builtin_suites_and_jobs_still_load():
    from harness.job import job_names, load_job
    from harness.registry import SUITES, load_catalog
    from harness.suite import load_suite

    load_catalog()
    assert len([load_suite(n) for n in SUITES.names()]) >= 8
    jobs = {n: load_job(n) for n in job_names()}
    assert jobs["mini"].skip_incapable is True and jobs["mini"].compare_to == "base-model"
    assert jobs["paper"].compare_to == "base-model"


def test_field_helper_table():
    from harness.validate import Field, check_field

    good = [(True, Field("bool"), True), (3, Field("float"), 3.0), (7, Field("version"), "7"),
            (None, Field("int", optional=True), None), ("mlp", Field("str", choices=("mlp",)), "mlp")]
    for value, field, want in good:
        got = check_field(value, field, "k", "f.yaml")
        assert got == want and type(got) is type(want)
    bad = [("no", Field("bool")), (1, Field("bool")), (True, Field("int")), (2.0, Field("int")),
           (float("nan"), Field("float")), (0, Field("int", minimum=1)), (2.5, Field("version")),
           ("  ", Field("str", nonempty=True)), (None, Field("str")), ("x", Field("str", choices=("y",)))]
    for value, field in bad:
        with pytest.raises(SabenchError, match=r"^f\.yaml: k .* \(fix: fix 'k'\)$"):
            check_field(value, field, "k", "f.yaml")


def test_system_parameters_are_checked_but_not_rewritten():
    """An int given for a float parameter stays an int: parameters are part of the run id."""
    from harness.validate import check_params

    got = check_params("x", {"cfg": 3, "steps": 4, "device": "cpu"}, {"cfg": 1.0, "steps": 50, "device": "cpu"})
    assert got == {"cfg": 3, "steps": 4, "device": "cpu"} and type(got["cfg"]) is int
    with pytest.raises(SabenchError, match="system x: steps 0 is not an integer >= 1"):
        check_params("x", {"steps": 0}, {"steps": 50})
