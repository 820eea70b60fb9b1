"""The last good leaderboard survives any failed rebuild (ptb.leaderboard.publish): the rule's declared
outputs, which snakemake deletes before the job, are a build copy; the published pages change only
when a build is whole. A rebuild is killed (SIGKILL, no cleanup) at random points of its file
operations and fails on a full disk (ENOSPC) at random writes: every published file is still there
and is a whole version."""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO
from test_result_values import baseline, cell_files

from ptb.core import io, paths
from ptb.leaderboard import leaderboard, publish

SEED = random.randrange(1 << 30)  # printed on failure: rerun a failing draw with it

# Runs one rebuild as the leaderboard rule's script does (render into the build folder, then
# publish); with KILL_AT=N, SIGKILLs itself at its Nth fsync or rename, so no cleanup runs.
REBUILD = """
import json, os, shutil, signal, sys
from ptb.leaderboard import leaderboard, publish

kill_at, done = int(os.environ.get("KILL_AT", "0")), [0]
def counted(real):
    def wrapper(*args, **kwargs):
        done[0] += 1
        if done[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return wrapper
os.fsync, os.replace = counted(os.fsync), counted(os.replace)
args = json.loads(sys.argv[1])
shutil.rmtree(args["build"], ignore_errors=True)  # snakemake deletes the outputs first
leaderboard.write(args["build"], **args["inputs"])
outputs = [str(p) for p in __import__("pathlib").Path(args["build"]).rglob("*") if p.is_file()]
publish.publish(publish.mirror(outputs, args["build"], args["published"]))
"""


def inputs(root: Path, own: float) -> dict:
    bases = [baseline(root, m, "base", 0.02) for m in ("m1", "m2")]
    cells = [cell_files(root, a, m, own=own) for a in ("sft", "noop") for m in ("m1", "m2")]
    return {
        "cells": cells,
        "baselines": bases,
        "agents": {a: {"display_name": a.upper(), "scaffold": "x"} for a in ("sft", "noop")},
        "benchmarks": {"gsm8k": "GSM8K"},
        "weights": {"gsm8k": 1.0},
        "budget_hours": 1.0,
    }


def snapshot(folder: Path) -> dict[str, bytes]:
    """The published files (a killed publish's hidden staged copies are not published files:
    the next publish overwrites them)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".publishing")
    }


def rebuild_here(args: dict) -> int:
    """REBUILD in this process (its imports are paid already); returns its count of operations."""
    count = {"n": 0}
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        count["n"] += 1
        return real_fsync(fd)

    def replace(*a, **k):
        count["n"] += 1
        return real_replace(*a, **k)

    shutil.rmtree(args["build"], ignore_errors=True)
    os.fsync, os.replace = fsync, replace
    try:
        leaderboard.write(args["build"], **args["inputs"])
        outputs = [p for p in Path(args["build"]).rglob("*") if p.is_file()]
        publish.publish(publish.mirror(outputs, args["build"], args["published"]))
    finally:
        os.fsync, os.replace = real_fsync, real_replace
    return count["n"]


def rebuild(args: dict, kill_at: int = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "KILL_AT": str(kill_at), "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", REBUILD, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_a_rebuild_killed_at_random_points_leaves_whole_pages(tmp_path):
    root = tmp_path / "results"
    build = paths.fill(paths.LEADERBOARD_BUILD_DIR, str(root))
    published = Path(paths.fill(paths.LEADERBOARD_DIR, str(root)))
    first = {"build": build, "published": str(published), "inputs": inputs(root, own=0.3)}
    rebuild_here(first)
    old = snapshot(published)
    assert {"leaderboard.html", "leaderboard.csv", "charts/ranking.svg", "charts/ranking.png"} <= set(old)
    second = {**first, "inputs": inputs(root, own=0.6)}  # new scores: every page changes
    ops = rebuild_here(second)
    newest = snapshot(published)
    assert newest["leaderboard.csv"] != old["leaderboard.csv"]
    files = len(old)
    # kill points (a subprocess each): one in the render, one among the publish's copies and renames
    draw = random.Random(SEED)
    points = [draw.randint(1, ops - 2 * files), draw.randint(ops - 2 * files + 1, ops)]
    for kill_at in points:
        shutil.rmtree(published)  # start each kill from the first version
        for name, data in old.items():
            io.write_bytes_atomic(published / name, data)
        killed = rebuild(second, kill_at)
        assert killed.returncode == -signal.SIGKILL, (SEED, kill_at, killed.stderr[-2000:])
        after = snapshot(published)
        assert set(after) == set(old), (SEED, kill_at)  # nothing published is missing or left over
        # each file is whole: the old version or the killed run's own (its build copy: the charts'
        # SVG is not byte-identical from one render to the next)
        built = snapshot(Path(build))
        for name, data in after.items():
            assert data in (old[name], built.get(name)), (SEED, kill_at, name)
        if kill_at <= ops - files:  # killed before the renames: the old pages, untouched
            assert after == old, (SEED, kill_at)


def test_a_full_disk_or_a_bad_value_during_a_rebuild_keeps_the_published_pages(tmp_path, monkeypatch):
    root = tmp_path / "results"
    build = Path(paths.fill(paths.LEADERBOARD_BUILD_DIR, str(root)))
    published = Path(paths.fill(paths.LEADERBOARD_DIR, str(root)))
    leaderboard.write(build, **inputs(root, own=0.3))
    files = [p for p in build.rglob("*") if p.is_file()]
    publish.publish(publish.mirror(files, build, published))
    old = snapshot(published)

    calls = {"n": 0, "fail_at": 0}
    real_copy = shutil.copyfile

    def full_disk(*args, **kwargs):  # ENOSPC at the chosen write of the build or the publish
        calls["n"] += 1
        if calls["n"] == calls["fail_at"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_copy(*args, **kwargs)

    real_write = io.write_bytes_atomic

    def full_disk_write(path, data):
        calls["n"] += 1
        if calls["n"] == calls["fail_at"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(shutil, "copyfile", full_disk)
    monkeypatch.setattr(io, "write_bytes_atomic", full_disk_write)
    draw = random.Random(SEED)
    for fail_at in sorted({draw.randint(1, 2 * len(files)) for _ in range(3)} | {2 * len(files) - 1}):
        shutil.rmtree(build)  # as snakemake does before the job
        calls.update(n=0, fail_at=fail_at)
        with pytest.raises(OSError, match="No space"):
            leaderboard.write(build, **inputs(root, own=0.6))
            publish.publish(publish.mirror([p for p in build.rglob("*") if p.is_file()], build, published))
        assert snapshot(published) == old, (SEED, fail_at)
        assert not list(published.rglob(".*.publishing")), "a failed publish leaves no staged copy"
    monkeypatch.undo()

    # a value that stops the build (weights from a corrupt baseline): nothing is published
    shutil.rmtree(build)
    bad = {**inputs(root, own=0.6), "weights": "baselines"}
    with pytest.raises(ValueError, match="corrupt baseline result files"):
        Path(bad["baselines"][0]["metrics"]).write_text("{")
        leaderboard.write(build, **bad)
    assert snapshot(published) == old


def test_the_rules_declare_the_build_copy_and_publish_the_readme_paths():
    rules = (REPO / "rules" / "leaderboard.smk").read_text()
    assert 'f"{LEADERBOARD}/' not in rules, (
        "a published page declared as an output is deleted before a rebuild"
    )
    assert "paths.built(paths.AUDIT_CELL)" in rules and "paths.built(paths.AUDIT_AGENT)" in rules
    readme = (REPO / "README.md").read_text()
    assert "`leaderboard/leaderboard.{csv,md,html}`" in readme
