"""What keeps planning cheap (benchmarks/plan_grid.py, issue 31), held to the behaviour it must keep."""

from __future__ import annotations

import functools
import gc
import inspect
import re
import runpy
import subprocess
import sys
import weakref

import pytest
from helpers import REPO, SNAKEMAKE, dry_run_jobs, snakemake

from ptb.core import config as ptb_config
from ptb.core import paths, plan_speed

SELECT = "select={agents: [noop], models: [tiny-qwen3, smollm2-135m], benchmarks: [gsm8k], seeds: [1]}"


def test_the_judge_waits_for_every_disallowed_model_through_one_index(tmp_path):
    """One input per judge job for the disallowed models; the index job takes all their manifests.
    With snakemake's full default resources (a cluster's), no un-awaited coroutine either."""
    proc = snakemake(
        "-n", "--default-resources", "--configfile", "config/demo.yaml",
        "--config", SELECT, "calibration=", f"results_dir={tmp_path}",
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert "never awaited" not in output
    jobs = dry_run_jobs(output)
    index = paths.fill(paths.JUDGED_MODELS_INDEX, str(tmp_path))
    (indexer,) = [j for j in jobs if j["rule"] == "judged_models"]
    manifests = set(indexer["input"].split(", "))
    assert (
        manifests
        == {
            paths.fill(paths.MODEL_MANIFEST, str(tmp_path), model=m, variant=v)
            for m in ("tiny-qwen3", "smollm2-135m")
            for v in ("base", "instruct")
        }
        & manifests
    )  # the instruct ones where the config has them
    assert {m for m in manifests if m.endswith("/base.json")} == {
        paths.fill(paths.MODEL_MANIFEST, str(tmp_path), model=m, variant="base")
        for m in ("tiny-qwen3", "smollm2-135m")
    }
    judges = [j for j in jobs if j["rule"] == "judge"]
    assert len(judges) == 2
    for judge in judges:
        # the index and the canonical record only: no manifest per model, and nothing the run
        # already waits for (its base model, the dataset, the agent's view: read by path)
        model = judge["wildcards"].split("model=")[1].split(",")[0]
        cell = {"agent": "noop", "model": model, "benchmark": "gsm8k", "seed": 1}
        assert set(judge["input"].split(", ")) == {
            index,
            paths.fill(paths.SERVED_JSON, str(tmp_path), **cell),
        }


def test_a_config_file_checked_once_is_not_parsed_again(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    path.write_text("a: 1\n")
    parsed = []
    real = ptb_config.read_file
    monkeypatch.setattr(ptb_config, "read_file", lambda p: parsed.append(p) or real(p))
    ptb_config.check_files([path])
    ptb_config.check_files([path])
    assert parsed == [path]
    path.write_text("a: 1\na: 2\n")  # edited since: read again, and its duplicated key found
    with pytest.raises(ptb_config.ConfigError, match="line 2"):
        ptb_config.check_files([path])
    assert parsed == [path, path]


def test_snakemake_takes_the_checked_parse_of_a_config_file(tmp_path, monkeypatch):
    """`configfile:` reads a file that check_files read (and that is unchanged since) from that
    parse, a copy of it; a file not checked, or edited since, or a yte template, as before."""
    import yte  # noqa: PLC0415 (snakemake's YAML loader, only here)
    from snakemake.common import configfile  # noqa: PLC0415

    assert plan_speed.install() == []
    loaded_by_snakemake = []
    real = yte.process_yaml
    monkeypatch.setattr(
        yte, "process_yaml", lambda f, **kw: loaded_by_snakemake.append(f.name) or real(f, **kw)
    )
    checked = tmp_path / "checked.yaml"
    checked.write_text("grid: {seeds: [1, 2]}\n")
    ptb_config.check_files([checked])
    first = configfile.load_configfile(str(checked))
    assert first == {"grid": {"seeds": [1, 2]}} and loaded_by_snakemake == []
    first["grid"]["seeds"].append(3)  # snakemake merges --config into what it gets
    assert configfile.load_configfile(str(checked)) == {"grid": {"seeds": [1, 2]}}
    checked.write_text("grid: {seeds: [7]}\n")  # edited since the check
    assert configfile.load_configfile(str(checked)) == {"grid": {"seeds": [7]}}
    template = tmp_path / "template.yaml"
    template.write_text("__use_yte__: true\nseeds: ?list(range(2))\n")
    ptb_config.check_files([template])
    assert configfile.load_configfile(str(template)) == {"seeds": [0, 1]}
    assert loaded_by_snakemake == [str(checked), str(template)]


WORKFLOW = """
import sys
sys.path.insert(0, {repo!r})
from ptb.core import plan_speed
assert plan_speed.install() == []
rule all:
    input: expand("out/{{name}}.txt", name=["a", "b", "c"])
rule make:
    output: "out/{{name}}.txt"
    params: seen=lambda w: open("params_called", "a").write(w.name)
    script: {script!r}
"""


def plan_tiny(tmp_path, script: str) -> subprocess.CompletedProcess:
    """A dry run of three jobs of one script rule, with the rerun triggers of the profiles."""
    (tmp_path / "Snakefile").write_text(WORKFLOW.format(repo=str(REPO), script=script))
    return subprocess.run(
        [SNAKEMAKE, "-n", "--cores", "1", "--rerun-triggers", "mtime", "params", "input", "software-env"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_plan_speedups_are_in_place_on_the_pinned_snakemake():
    """Each wraps snakemake's internals (ptb/core/plan_speed.py): an upgrade that moved them fails here."""
    assert plan_speed.install() == []
    assert plan_speed.install() == []  # installing twice wraps once


@pytest.mark.parametrize("script", ["missing.py", "scripts/{wildcards.name}.py"])
def test_a_missing_script_still_stops_the_plan(tmp_path, script):
    """Checked once per rule, or per job where the path has wildcards (here: only c's is missing)."""
    (tmp_path / "scripts").mkdir()
    for name in ("a", "b"):
        (tmp_path / "scripts" / f"{name}.py").write_text("")
    proc = plan_tiny(tmp_path, script)
    assert proc.returncode != 0
    assert ("c.py" if "{" in script else "missing.py") in proc.stdout + proc.stderr


def test_a_rule_without_conda_plans_without_its_params(tmp_path):
    """Snakemake expanded every job's params to ask for a conda env the rule does not have; now
    only the rule's one script check does, for its first job."""
    (tmp_path / "make.py").write_text("")
    proc = plan_tiny(tmp_path, "make.py")
    assert proc.returncode == 0, proc.stderr
    assert "make" in proc.stdout and "3" in proc.stdout
    assert len((tmp_path / "params_called").read_text()) == 1  # one job's params of three


def test_a_rule_with_conda_still_has_its_env_resolved():
    """The wrapped property defers to snakemake's own for a rule with `conda:`."""
    plan_speed.install()
    calls = []

    class Rule:
        _conda_env = "envs/x.yaml"

        def expand_conda_env(self, wildcards, params, input):
            calls.append(params)
            return "spec"

    class FakeJob:
        _conda_env_spec = None
        rule = Rule()
        wildcards_dict = {}
        input = []

        @property
        def params(self):
            return "expanded"

    from snakemake import jobs  # noqa: PLC0415 (after install: snakemake's import order)

    assert jobs.Job.conda_env_spec.fget(FakeJob()) == "spec"
    assert calls == ["expanded"]
    Rule._conda_env = None
    assert jobs.Job.conda_env_spec.fget(FakeJob()) is None
    assert calls == ["expanded"]  # no params expanded for a rule without one


def test_a_functions_parameters_are_read_once_as_snakemake_reads_them(monkeypatch):
    """Snakemake asks a function's parameters before each call; a plain function's and a method's
    are read once (held weakly), anything else each time, and parameters overwritten through
    snakemake's own attribute (its subpath, prepend_param) win even after a read."""
    plan_speed.install()
    from snakemake import common, rules  # noqa: PLC0415 (after install: snakemake's import order)

    read = []  # how many reads (not the functions: holding them would keep them alive)
    real = inspect.signature
    monkeypatch.setattr(inspect, "signature", lambda f, *a, **kw: read.append(1) or real(f, *a, **kw))

    def input_function(wildcards, input, attempt):
        return []

    class Resource:
        def evaluate(self, wildcards, threads=1, **kwargs):
            return 1

    for params_of in (common.get_function_params, rules.get_function_params):
        for _ in range(3):
            assert list(params_of(input_function)) == ["wildcards", "input", "attempt"]
            # bound to another object each time, as snakemake's resources are: self is not a parameter
            assert list(params_of(Resource().evaluate)) == ["wildcards", "threads", "kwargs"]
    assert len(read) == 2
    # what a job's resource function gets from the parameters: only what it takes
    assert common.get_input_function_aux_params(input_function, {"input": 1, "threads": 2}) == {"input": 1}
    partial = functools.partial(input_function, input=[])
    assert list(common.get_function_params(partial)) == ["wildcards", "input", "attempt"]
    assert list(common.get_function_params(partial)) == ["wildcards", "input", "attempt"]
    assert len(read) == 4  # a partial's are read each time, as before
    common.overwrite_function_params(input_function, ["wildcards"])
    assert common.get_function_params(input_function) == ["wildcards"]

    def one_job():
        def per_job(wildcards):
            return []

        return per_job

    function = one_job()
    common.get_function_params(function)
    gone = weakref.ref(function)
    del function
    gc.collect()
    assert gone() is None  # a function made per job is not kept alive by what was read of it


LANGUAGES = """
import sys
sys.path.insert(0, {repo!r})
from ptb.core import plan_speed
assert plan_speed.install() == []
from snakemake.script import get_language
from snakemake.sourcecache import LocalSourceFile
notebook = (
    '{{"cells": [], "metadata": {{"language_info": {{"name": "R"}}}}, "nbformat": 4, "nbformat_minor": 5}}'
)
print(get_language(LocalSourceFile("scripts/judge.py"), ""), "nbformat" in sys.modules)
print(get_language(LocalSourceFile("plot.R"), ""), get_language(LocalSourceFile("a.ipynb"), notebook))
"""


def test_a_python_scripts_language_is_known_without_the_notebook_reader():
    """A .py script is Python without importing nbformat; a notebook is still read for its
    kernel's language, and any other suffix named as snakemake names it."""
    proc = subprocess.run(
        [sys.executable, "-c", LANGUAGES.format(repo=str(REPO))],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert proc.stdout.split("\n")[:2] == ["python False", "r jupyter_r"]


RESOURCES = """
import sys
sys.path.insert(0, {repo!r})
if {speedups}:
    from ptb.core import plan_speed
    assert plan_speed.install() == []
rule all:
    input: expand("out/{{name}}.txt", name=["a", "b"])
rule make:
    input: "in/{{name}}.txt"
    output: "out/{{name}}.txt"
    threads: lambda wildcards: 8 if wildcards.name == "a" else 1
    resources:
        mem_mb=lambda wildcards, input, attempt: 1000 * attempt + len(input),
        runtime=30,
        gpu=1,
    shell: "touch {{output}}"
rule source:
    output: "in/{{name}}.txt"
    threads: 3
    resources: runtime=5
    shell: "touch {{output}}"
"""


def test_the_plan_keeps_every_jobs_resources_and_threads(tmp_path):
    """Constant resources are taken as they are (no input-function call per job); each job's
    threads and resources, constant, from a function, capped by --cores and filled from the
    cluster defaults, are the same as snakemake's own plan's."""
    listings = []
    for speedups in (True, False):
        work = tmp_path / str(speedups)
        work.mkdir()
        (work / "Snakefile").write_text(RESOURCES.format(repo=str(REPO), speedups=speedups))
        proc = subprocess.run(
            [SNAKEMAKE, "-n", "--cores", "4", "--default-resources"],
            cwd=work, capture_output=True, text=True, check=True,
        )  # fmt: skip
        jobs = sorted(dry_run_jobs(proc.stdout), key=lambda j: (j["rule"], j.get("wildcards", "")))
        listings.append(
            [
                (j["rule"], j.get("wildcards"), j.get("threads"), sorted(j.get("resources", "").split(", ")))
                for j in jobs
            ]
        )
    assert listings[0] == listings[1]
    make = {
        wildcards: (threads, resources)
        for rule, wildcards, threads, resources in listings[0]
        if rule == "make"
    }
    assert make["name=a"][0] == "4"  # 8, capped by --cores
    assert "mem_mb=1001" in make["name=a"][1] and "gpu=1" in make["name=a"][1]
    assert any(r.startswith("disk_mb=") for r in make["name=b"][1])  # the default resources, evaluated


FLAGS = """
import sys
sys.path.insert(0, {repo!r})
if {speedups}:
    from ptb.core import plan_speed
    assert plan_speed.install() == []
rule all:
    input: expand("kept/{{name}}.txt", name=["old", "new"]), "read/p.txt", "tree/t"
rule make:
    output: temp("made/{{name}}.txt")
    shell: "touch {{output}}"
rule keep:
    input: ancient("made/{{name}}.txt")
    output: protected("kept/{{name}}.txt")
    shell: "cp {{input}} {{output}}"
rule write_pipe:
    output: pipe("piped/{{name}}.fifo")
    shell: "echo x > {{output}}"
rule read_pipe:
    input: "piped/{{name}}.fifo"
    output: "read/{{name}}.txt"
    shell: "cat {{input}} > {{output}}"
rule tree:
    input: "made/new.txt"
    output: directory("tree/{{name}}")
    shell: "mkdir -p {{output}}"
"""


def test_flags_plan_as_snakemake_plans_them(tmp_path):
    """temp, ancient, protected, pipe and directory files are planned alike with and without
    the speedups (is_flagged told by type): the same jobs, reasons and groups."""
    listings = []
    for speedups in (True, False):
        work = tmp_path / str(speedups)
        (work / "made").mkdir(parents=True)
        (work / "kept").mkdir()
        (work / "kept" / "old.txt").write_text("kept\n")
        (work / "made" / "old.txt").write_text("made after the file it makes, but ancient\n")
        (work / "Snakefile").write_text(FLAGS.format(repo=str(REPO), speedups=speedups))
        proc = subprocess.run(
            [SNAKEMAKE, "-n", "--cores", "2"], cwd=work, capture_output=True, text=True, check=True,
            timeout=300,  # a lookup that never ends (a prefix that stops shrinking) fails here
        )  # fmt: skip
        assert "Group job" in proc.stdout  # the pipe's two ends, one group (indented)
        listing = re.sub(r"^    (?=rule \w+:$|    \w+: )", "", proc.stdout, flags=re.MULTILINE)
        listings.append(sorted(tuple(sorted(j.items())) for j in dry_run_jobs(listing) if j["rule"] != "all"))
    assert listings[0] == listings[1]
    jobs = [dict(j) for j in listings[0]]
    assert {(j["rule"], j.get("wildcards")) for j in jobs} == {
        ("make", "name=new"),  # old.txt's maker is not run again: its input is ancient
        ("keep", "name=new"),
        ("write_pipe", "name=p"),
        ("read_pipe", "name=p"),
        ("tree", "name=t"),
    }
    (writer,) = [j for j in jobs if j["rule"] == "write_pipe"]
    assert "(pipe)" in writer["output"]


def test_flags_read_by_type_answer_as_snakemake_does():
    """Every kind of value is_flagged is given answers as snakemake's own: plain strings and
    paths, annotated strings flagged or not (or flagged False), files, callables, lists, a
    subclass of snakemake's strings and a class registered as annotated after install."""
    from pathlib import Path  # noqa: PLC0415

    assert plan_speed.install() == []  # first: it imports snakemake in the order it needs
    from snakemake import dag, io, jobs  # noqa: PLC0415
    from snakemake.io import fmt  # noqa: PLC0415
    from snakemake_interface_common.io import AnnotatedStringInterface  # noqa: PLC0415

    by_type = io.is_flagged
    own = by_type.__wrapped__
    assert by_type is not own and dag.is_flagged is jobs.is_flagged is fmt.is_flagged is by_type

    class Derived(io.AnnotatedString):
        pass

    class Registered(str):
        flags = {"temp": True}

        def is_flagged(self, flag):
            return flag in self.flags

    AnnotatedStringInterface.register(Registered)
    values = [
        "a/b.txt", Path("a/b.txt"), None, ["a", "b"], lambda wildcards: "a",
        io.temp("a.txt"), io.AnnotatedString("a.txt"), io.flag("a.txt", "temp", False),
        io.IOFile("a.txt"), io.IOFile(io.temp("a.txt")), io.IOFile(io.pipe("a.fifo")),
        Derived("a.txt"), Registered("a.txt"),
    ]  # fmt: skip
    values[-2].flags["temp"] = True
    for value in values:
        for flag in ("temp", "pipe", "storage_object", "sourcecache_entry"):
            assert by_type(value, flag) == own(value, flag), (value, flag)
    assert by_type(values[5], "temp") and by_type(values[9], "temp") and by_type(values[-1], "temp")
    assert not by_type(values[7], "temp")


def test_common_prefixes_found_by_halving_match_snakemakes():
    """The output index's common prefix (the first difference, or the shorter string less its
    last letter where there is none) as snakemake's loop finds it, and its lookups, which
    match every prefix of a path and nothing else."""
    import random  # noqa: PLC0415

    from snakemake.common.prefix_lookup import PrefixLookup  # noqa: PLC0415

    assert plan_speed.install() == []
    halving = PrefixLookup._common_prefix
    loop = halving.__wrapped__
    assert halving is not loop
    rng = random.Random(31)
    alphabet = "ab/é_"
    cases = [("a", "a"), ("abc", "abc"), ("ab", "abc"), ("abc", "ab"), ("a", "b"), ("é", "éé")]
    for _ in range(3000):
        shared = "".join(rng.choices(alphabet, k=rng.randint(0, 12)))
        cases.append(
            (
                shared + "".join(rng.choices(alphabet, k=rng.randint(0, 4))),
                shared + "".join(rng.choices(alphabet, k=rng.randint(0, 4))),
            )
        )
    for s1, s2 in cases:
        if s1 and s2:
            assert halving(None, s1, s2) == loop(None, s1, s2), (s1, s2)
    keys = ["".join(rng.choices(alphabet, k=rng.randint(0, 6))) for _ in range(300)]
    lookup = PrefixLookup([(key, i) for i, key in enumerate(keys)])
    for _ in range(500):
        query = "".join(rng.choices(alphabet, k=rng.randint(0, 9)))
        assert lookup.match(query) == {i for i, key in enumerate(keys) if query.startswith(key)}, query


COLLECTOR = """
import gc, sys, weakref
sys.path.insert(0, {repo!r})
from ptb.core import plan_speed


class Node:
    freed = 0

    def __init__(self):
        self.me = self  # a cycle: only the collector frees it

    def __del__(self):
        Node.freed += 1


import snakemake.api  # what install imports, loaded first: no young scan between here and there

old = Node()
gc.collect()  # old survives into the oldest generation
garbage = weakref.ref(old)
del old  # garbage already there when the Snakefile installs: only a full scan frees it
assert plan_speed.install() == []
assert garbage() is None, "garbage frozen for the whole process"
frozen = gc.get_freeze_count()
assert frozen > 10_000 and gc.get_threshold() == plan_speed.COLLECTOR_THRESHOLDS
before, made = Node.freed, 200_000
for _ in range(made):  # the cycles a plan and a run make: collected without a gc.collect()
    Node()
assert made - (Node.freed - before) < 60_000, Node.freed - before
assert plan_speed.install() == [] and gc.get_freeze_count() == frozen  # installing twice freezes once
print("ok")
"""


def test_the_collector_scans_less_and_still_frees_cycles():
    """What lives for the whole process is frozen out of the collector's scans (garbage there
    at that moment freed first, not frozen), scans are rarer, and cycles made while planning
    or running are still freed as the plan goes, without anyone calling gc.collect()."""
    proc = subprocess.run(
        [sys.executable, "-c", COLLECTOR.format(repo=str(REPO))], capture_output=True, text=True
    )
    assert proc.stdout.strip() == "ok", proc.stderr[-2000:]


@pytest.fixture(scope="module")
def plan_grid():
    return runpy.run_path(str(REPO / "benchmarks" / "plan_grid.py"))


@pytest.mark.parametrize(
    ("inputs", "outputs", "logs"), [(3.32, 1.59, True), (3.32, 1.59, False), (1.0, 1.0, True)]
)
def test_the_floor_of_a_plans_shape_has_that_shape(tmp_path, plan_grid, inputs, outputs, logs):
    """benchmarks/plan_grid.py --shaped: its floor plans about the jobs, inputs and outputs per job
    asked for (within a quarter: each of its four rules declares whole files), and a log and a
    benchmark file per job where asked."""
    (tmp_path / "Snakefile").write_text(plan_grid["shaped_floor"](400, inputs, outputs, logs))
    proc = subprocess.run(
        [SNAKEMAKE, "-n", "--cores", "1"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    jobs = dry_run_jobs(proc.stdout)
    assert abs(len(jobs) - 400) <= 16
    assert plan_grid["listing_shape"](proc.stdout) == pytest.approx((inputs, outputs), abs=0.25)
    assert all(("log" in j and "benchmark" in j) == logs for j in jobs if j["rule"] != "all")
