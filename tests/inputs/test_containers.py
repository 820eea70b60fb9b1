"""Containers: the .def files parse and pin every version; the workflow plans and wires the images.

apptainer cannot run here, so a stub `apptainer` on PATH stands in for it: for planning
(`--sdm apptainer` dry run), and for one small real run in which the stub "builds" the
images and executes `apptainer exec` on the host with apptainer's environment rules
(--cleanenv passes only APPTAINERENV_* variables), recording every call.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml
from helpers import REPO, dry_run_jobs, snakemake

from ptb.core import io

DEFS = {name: REPO / "containers" / f"{name}.def" for name in ("agent", "eval")}
AGENT_CLIS = ("@anthropic-ai/claude-code", "@openai/codex", "@google/gemini-cli", "opencode-ai")
AGENT_PACKAGES = ("torch", "transformers", "trl", "peft", "vllm", "inspect-ai")
EVAL_PACKAGES = ("vllm", "inspect-ai", "inspect-evals")
SEMVER = r"\d+\.\d+\.\d+"


def recipe(name: str):
    from spython.main.parse.parsers import SingularityParser  # noqa: PLC0415 (test-only parser)

    return SingularityParser(str(DEFS[name])).recipe["spython-base"]


def commands(name: str) -> list[list[str]]:
    """The shell commands of %post, continuation lines joined, as word lists."""
    out, current = [], ""
    for line in recipe(name).install:
        current += " " + line.strip()
        if current.endswith("\\"):
            current = current[:-1]
            continue
        out.append(current.split())
        current = ""
    return [words for words in out if words]


def installed(name: str, tool: str) -> list[str]:
    """The package arguments of every `<tool> install` command (options skipped)."""
    args = []
    for words in commands(name):
        if "install" in words and any(
            w == tool or w.endswith(f"/{tool}") for w in words[: words.index("install")]
        ):
            args += [w for w in words[words.index("install") + 1 :] if not w.startswith("-")]
    return args


def pip_pins(name: str) -> dict[str, str]:
    """package -> pinned version of every `pip install` in %post ('' when unpinned)."""
    return {arg.partition("==")[0].lower(): arg.partition("==")[2] for arg in installed(name, "pip")}


def npm_pins(name: str) -> dict[str, str]:
    """package -> version of every `npm install` ('' when unpinned)."""
    pins = {}
    for arg in installed(name, "npm"):
        package, at, version = arg[1:].partition("@") if arg.startswith("@") else arg.partition("@")
        pins[("@" if arg.startswith("@") else "") + package] = version
    return pins


# -- the definition files -------------------------------------------------------------


@pytest.mark.parametrize("name", ["agent", "eval"])
def test_definition_parses_and_pins_its_base_image(name):
    r = recipe(name)
    assert r.install, "%post parsed"
    image, _, tag = r.fromHeader.rpartition(":")
    assert image and tag and tag != "latest" and "cuda" in image, f"base image pinned by tag: {r.fromHeader}"
    assert re.match(rf"{SEMVER}-", tag), "a full CUDA version in the tag"
    assert "Bootstrap: docker" in DEFS[name].read_text()


@pytest.mark.parametrize("name", ["agent", "eval"])
def test_every_python_package_is_pinned_exactly(name):
    pins = pip_pins(name)
    assert pins, "found the pip installs"
    loose = {p: v for p, v in pins.items() if not re.fullmatch(r"\d+(\.\d+)*(\.post\d+)?", v)}
    assert not loose, f"unpinned packages in {name}.def: {loose}"
    wanted = AGENT_PACKAGES if name == "agent" else EVAL_PACKAGES
    assert set(wanted) <= set(pins), f"{name}.def lacks {set(wanted) - set(pins)}"


def test_agent_clis_are_pinned_by_exact_npm_version():
    pins = npm_pins("agent")
    assert set(pins) == set(AGENT_CLIS)
    assert all(re.fullmatch(SEMVER, v) for v in pins.values()), pins
    node = re.search(r"NODE_VERSION=(\S+)", DEFS["agent"].read_text())
    assert node and re.fullmatch(SEMVER, node.group(1)), "Node pinned by version"


def test_images_agree_with_each_other_and_the_host():
    agent, eval_ = pip_pins("agent"), pip_pins("eval")
    for package in set(agent) & set(eval_):
        assert agent[package] == eval_[package], f"{package} differs between the images"
    host = dict(
        line.split("==")
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert agent["inspect-ai"] == eval_["inspect-ai"] == host["inspect-ai"], "one inspect-ai everywhere"
    assert "spython" in host


def test_eval_image_can_run_snakemake_rule_scripts():
    text = DEFS["eval"].read_text()
    assert "snakemake==" in text, "the rule scripts unpickle snakemake's job object"
    assert re.search(r"PYTHONPATH=.*\$\{?PWD", text), "the workflow's ptb/ importable from the workdir"
    assert "/usr/local/bin/python" in text, "snakemake calls `python`"


# the agent's apptainer command: tests/agent_runs/test_box.py (the box's two mechanisms)


# -- planning and wiring through snakemake ---------------------------------------------

STUB = """\
#!{python}
# A stand-in for apptainer: logs each call; `build` writes a fake image; `exec` runs the
# command on the host with apptainer's environment rules (--cleanenv/--containall: only
# APPTAINERENV_* variables, prefix stripped; HOME from --home; cwd from --pwd).
import json, os, subprocess, sys

LOG = {log!r}
args = sys.argv[1:]
entry = {{"argv": args}}
if args and args[0] == "--version":
    with open(LOG, "a") as log:
        log.write(json.dumps(entry) + "\\n")
    print("apptainer version 1.4.5")
    sys.exit(0)
while args and args[0] in ("--quiet", "--silent", "-q", "-s"):
    args = args[1:]
command = args[0] if args else ""
if command == "build":
    positional = [a for a in args[1:] if not a.startswith("-")]
    sif, definition = positional
    with open(definition, "rb") as handle:
        content = b"stub image of " + handle.read()
    with open(sif, "wb") as handle:
        handle.write(content)
elif command == "exec":
    with_value = {{"--home", "--workdir", "--pwd", "--bind", "-B", "--env", "--env-file", "-W"}}
    options, rest = [], args[1:]
    while rest and rest[0].startswith("-"):
        if rest[0] in with_value:
            options.append((rest[0], rest[1]))
            rest = rest[2:]
        else:
            options.append((rest[0], None))
            rest = rest[1:]
    image, cmd = rest[0], rest[1:]
    flags = {{name for name, _ in options}}
    clean = bool({{"--cleanenv", "--containall", "-e", "-C"}} & flags)
    env = {{}} if clean else dict(os.environ)
    env.update({{k[13:]: v for k, v in os.environ.items() if k.startswith("APPTAINERENV_")}})
    env["PATH"] = os.environ["PATH"]
    cwd = None
    for name, value in options:
        if name == "--home":
            env["HOME"] = value.split(":")[0]
        if name == "--pwd":
            cwd = value
    entry.update(image=image, command=cmd, options=options, clean=clean,
                 inner_env=sorted(k for k in env if k != "PATH"))
    with open(LOG, "a") as log:
        log.write(json.dumps(entry) + "\\n")
    sys.exit(subprocess.run(cmd, env=env, cwd=cwd).returncode)
with open(LOG, "a") as log:
    log.write(json.dumps(entry) + "\\n")
"""


@pytest.fixture
def stub_apptainer(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "apptainer"
    log = tmp_path / "apptainer-calls.jsonl"
    log.touch()
    stub.write_text(STUB.format(python=sys.executable, log=str(log)))
    stub.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}", "PTB_MARKER": "host-only"}
    return env, log


def calls(log: Path) -> list[dict]:
    out = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    for call in out:
        call["options"] = [tuple(option) for option in call.get("options", [])]
    return out


def test_dry_run_with_apptainer_plans_each_rules_image(tmp_path, stub_apptainer):
    env, log = stub_apptainer
    images = f"images={{agent: {tmp_path}/img/agent.sif, eval: {tmp_path}/img/eval.sif}}"
    proc = snakemake(
        "-n", "--sdm", "apptainer", "--config", "subset=smoke", f"results_dir={tmp_path}/r", images, env=env
    )
    jobs = dry_run_jobs(proc.stdout + proc.stderr)
    by_rule = {}
    for job in jobs:
        by_rule.setdefault(job["rule"], []).append(job)
    assert [(j["input"], j["output"]) for j in by_rule["build_agent_image"]] == [
        ("containers/agent.def", f"{tmp_path}/img/agent.sif")
    ]
    assert [(j["input"], j["output"]) for j in by_rule["build_eval_image"]] == [
        ("containers/eval.def", f"{tmp_path}/img/eval.sif")
    ]
    assert {j["wildcards"] for j in by_rule["image_digest"]} == {"image=agent", "image=eval"}
    for rule in ("evaluate", "baseline"):
        assert by_rule[rule] and all(
            f"{tmp_path}/r/containers/eval.json" in j["input"] for j in by_rule[rule]
        )
        assert not any("agent.json" in j["input"].split("containers/")[-1] for j in by_rule[rule])
    assert all(f"{tmp_path}/r/containers/agent.json" in j["input"] for j in by_rule["agent_run"])
    assert not any("eval.json" in j["input"] for j in by_rule["judge"] + by_rule["agent_run"])
    assert ["--version"] in [c["argv"] for c in calls(log)], "snakemake checked the (stub) apptainer"


def test_demo_config_plans_no_images(tmp_path):
    proc = snakemake("-n", "--profile", "profiles/demo", "--config", f"results_dir={tmp_path}")
    jobs = dry_run_jobs(proc.stdout + proc.stderr)
    assert jobs and not [j for j in jobs if "image" in j["rule"]]
    assert not any("containers/" in j.get("input", "") for j in jobs)


def test_a_run_with_apptainer_uses_the_eval_image_and_wraps_solve_sh(tmp_path, stub_apptainer):
    """One noop cell end to end, with the stub apptainer building and executing."""
    env, log = stub_apptainer
    results, images = tmp_path / "results", tmp_path / "images"
    overrides = tmp_path / "containers.yaml"
    overrides.write_text(
        yaml.safe_dump(
            {
                "container": "apptainer",
                "images": {"agent": str(images / "agent.sif"), "eval": str(images / "eval.sif")},
                "benchmarks": {"gsm8k": {"data": "local", "limit": 2, "task_args": {"fewshot": 0}}},
            }
        )
    )
    snakemake(
        "--profile",
        "profiles/demo",
        "--sdm",
        "apptainer",
        "--configfile",
        "workflow_config.yaml",
        "config/demo.yaml",
        str(overrides),
        "--config",
        "select={agents: [noop], models: [tiny-qwen3], benchmarks: [gsm8k], seeds: [1]}",
        f"results_dir={results}",
        "calibration=",
        env=env,
        timeout=1500,
    )

    log_calls = calls(log)
    builds = [c["argv"] for c in log_calls if c["argv"][:1] == ["build"]]
    assert sorted(b[-1] for b in builds) == ["containers/agent.def", "containers/eval.def"]
    execs = [c for c in log_calls if c["argv"][:1] == ["exec"] or "exec" in c["argv"][:3]]
    by_image = {}
    for c in execs:
        by_image.setdefault(Path(c["image"]).name, []).append(c)
    assert set(by_image) == {"agent.sif", "eval.sif"}

    evals = by_image["eval.sif"]
    assert len(evals) == 2, "evaluate and baseline ran in the eval image"
    assert all(not c["clean"] for c in evals) and all(
        " python " in f" {' '.join(c['command'])} " for c in evals
    )

    (agent,) = by_image["agent.sif"]
    job_dir = results / "runs" / "noop" / "tiny-qwen3" / "gsm8k" / "seed1" / "job"
    library = job_dir.parent / "library"  # the handout library (ptb.agent_runs.box), bound read-only
    assert agent["command"] == ["bash", str(library / "agents" / "noop" / "solve.sh")], (
        "only solve.sh runs inside"
    )
    assert ("--bind", f"{library}:{library}:ro") in agent["options"]
    assert not any(v and v.startswith(str(REPO)) for _, v in agent["options"]), "nothing of the checkout"
    assert (
        agent["clean"] and ("--containall", None) in agent["options"] and ("--nv", None) in agent["options"]
    )
    assert ("--pwd", str(job_dir)) in agent["options"]
    assert {"PTB_BASE_MODEL", "PTB_PROMPT_FILE", "HF_HOME", "HOME", "PYTHONPATH"} <= set(agent["inner_env"])
    assert "PTB_MARKER" not in agent["inner_env"], "--cleanenv: nothing of the job's environment leaks in"
    assert all("PTB_MARKER" in c["inner_env"] for c in evals), "(the eval image keeps the job's environment)"

    run = results / "runs" / "noop" / "tiny-qwen3" / "gsm8k" / "seed1"
    assert io.read_json(run / "agent.json")["outcome"] == "ok", "solve.sh saw its PTB_* variables"
    manifest = io.read_json(run / "manifest.json")
    sha = hashlib.sha256((images / "agent.sif").read_bytes()).hexdigest()
    assert manifest["images"]["agent"]["sha256"] == sha
    assert manifest["images"]["agent"]["definition"] == "containers/agent.def"
    eval_digest = io.read_json(results / "containers" / "eval.json")
    assert eval_digest["sha256"] == hashlib.sha256((images / "eval.sif").read_bytes()).hexdigest()
    assert (results / "leaderboard" / "leaderboard.csv").exists()
