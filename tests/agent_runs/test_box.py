"""The agent's box (ptb.agent_runs.box): each line of docs/isolation.md against a planted agent.

The planted agents are shell scripts run as solve.sh through the real runner (run_agent) in a
real bubblewrap box; `isolation: none` runs the same agents unboxed, to show what the box
prevents. The apptainer box is checked through its command line (apptainer does not install
here: tests/inputs/test_containers.py drives a stub of it through the workflow).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from ptb.agent_runs import agent_run, box
from ptb.core import outcomes, tasks
from ptb.core.paths import REPO_ROOT

needs_bwrap = pytest.mark.skipif(
    not box.bwrap_available() and not os.environ.get("PTB_REQUIRE_BWRAP"),
    reason="bubblewrap is not installed (apt-get install bubblewrap; .ci/run installs it)",
)
GSM8K_ITEM = tasks.read_jsonl(REPO_ROOT / "tasks" / "gsm8k" / "data" / "test.jsonl")[0]["question"]


class Planted:
    """A run dir with a handout library whose scaffold `planted` is the given solve.sh."""

    def __init__(self, root: Path, script: str, isolation: str = "bwrap"):
        self.run_dir = root / "run"
        self.job_dir = self.run_dir / "job"
        self.job_dir.mkdir(parents=True)
        (self.job_dir / "evaluate.py").write_text("print('handed out')\n")
        self.library = box.handout_library(self.run_dir / "library", "noop")
        planted = self.library / "agents" / "planted"
        planted.mkdir()
        (planted / "solve.sh").write_text("set -u\n" + script)
        self.view = root / "view"
        (self.view / "hub").mkdir(parents=True)
        self.isolation = isolation

    def run(self, budget_s: float = 30, grace_s: float = 5, fields: dict | None = None) -> dict:
        env = agent_run.agent_environment(
            {"environment": {}, "env": []},
            {"PTB_MARK": uuid.uuid4().hex, **(fields or {})},
            home=self.run_dir / "home",
            library=self.library,
        )
        prefix, env = box.agent_command(
            env,
            isolation=self.isolation,
            image=None,
            view=self.view,
            job_dir=self.job_dir,
            run_dir=self.run_dir,
            library=self.library,
            environ={},
        )
        return agent_run.run_agent(
            scaffold="planted",
            job_dir=self.job_dir,
            run_dir=self.run_dir,
            env=env,
            budget_s=budget_s,
            grace_s=grace_s,
            secrets={},
            library=self.library,
            container=prefix,
            isolation=self.isolation,
        )

    @property
    def log(self) -> str:
        return (self.run_dir / "agent.log").read_text()


# -- the handout library -------------------------------------------------------------------


def test_the_handout_library_holds_no_test_item(tmp_path):
    """Every task's code and settings, the ptb library and the scaffold; no data/ folder, and no
    file in it holds any line of any task's test split."""
    library = box.handout_library(tmp_path / "library", "sft")
    assert (library / "ptb" / "evaluation" / "agent_eval.py").is_file()
    assert (library / "agents" / "sft" / "train.py").is_file() and not (library / "agents" / "cheat").exists()
    for folder in sorted(p for p in tasks.TASKS_DIR.iterdir() if p.is_dir()):
        assert (library / "tasks" / folder.name / "task.py").is_file()
        assert (library / "tasks" / folder.name / "evaluate.py").is_file()
    assert not list(library.rglob("data")), "no task's data/ folder"
    texts = library_texts(library)
    checked = 0
    for test_file in sorted(tasks.TASKS_DIR.glob("*/data/test.jsonl")):
        for record in tasks.read_jsonl(test_file)[:50]:
            for value in record.values():
                if isinstance(value, str) and len(value) > 40:
                    assert value[:200] not in texts, f"{test_file}: a test item is in the library"
                    checked += 1
    assert checked > 100


def library_texts(library: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in library.rglob("*") if p.is_file())


def test_extra_checkout_paths_are_copied_in_only_when_named(tmp_path):
    """The calibration cheats' stand-in for the hub: named per agent entry (box_read_only)."""
    library = box.handout_library(tmp_path / "library", "cheat", extra=("tasks/gsm8k/data",))
    assert (library / "tasks" / "gsm8k" / "data" / "test.jsonl").is_file()
    assert not (library / "tasks" / "humaneval" / "data").exists()


def test_the_handed_out_evaluate_py_imports_the_library_copy(tmp_path):
    """PYTHONPATH is the library: the agent's evaluate.py runs the copied ptb, not the checkout's."""
    library = box.handout_library(tmp_path / "library", "noop")
    env = agent_run.agent_environment({"environment": {}, "env": []}, {}, home=tmp_path, library=library)
    assert env["PYTHONPATH"] == str(library)
    assert str(REPO_ROOT) not in env.values()


# -- the bubblewrap box ----------------------------------------------------------------------


@needs_bwrap
def test_the_agent_sees_neither_the_checkout_nor_results_nor_test_splits(tmp_path):
    checkout = REPO_ROOT
    script = f"""
    for path in {checkout}/tasks/gsm8k/data/test.jsonl {checkout}/workflow_config.yaml {checkout}/ptb \\
                {checkout}/results ../agent.log ../trace.md ../library/../agent.log "$HOME/../agent.log"; do
      if [ -e "$path" ]; then echo "VISIBLE $path"; else echo "absent $path"; fi
    done
    # every readable file outside the runtime and system folders, searched for a test item
    grep -rlsF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir=usr --exclude-dir=etc \\
      --exclude-dir=.venv --exclude-dir=.pyenv --exclude-dir=node_modules -e "$ITEM" / && echo FOUND-ITEM
    python -c "import ptb, sys; print('ptb from', ptb.__file__)"
    mkdir final_model && echo '{{}}' > final_model/config.json
    """
    planted = Planted(tmp_path, script)
    result = planted.run(fields={"ITEM": GSM8K_ITEM[:60]})
    log = planted.log
    assert result["outcome"] == outcomes.OK, log
    assert "VISIBLE" not in log and "FOUND-ITEM" not in log, log
    assert log.count("absent ") == 8, log
    assert f"ptb from {planted.library}/ptb/__init__.py" in log


@needs_bwrap
def test_the_agent_cannot_forge_the_record_or_edit_the_handout(tmp_path):
    script = f"""
    echo forged > ../trace.md || true
    echo forged > ../agent.log || true
    echo forged >> "$PYTHONPATH/tasks/gsm8k/task.py" && echo EDITED-LIBRARY || true
    echo forged >> {REPO_ROOT}/tasks/gsm8k/task.py && echo EDITED-CHECKOUT || true
    echo '{{}}' > "$PTB_VIEW/hub/planted" && echo WROTE-VIEW || true
    echo done
    """
    planted = Planted(tmp_path, script)
    task_py = (REPO_ROOT / "tasks" / "gsm8k" / "task.py").read_bytes()
    library_task = (planted.library / "tasks" / "gsm8k" / "task.py").read_bytes()
    planted.run(fields={"PTB_VIEW": str(planted.view)})
    log = planted.log
    assert "done" in log and "EDITED" not in log and "WROTE-VIEW" not in log, log
    assert "forged" not in log and not (planted.run_dir / "trace.md").exists()
    assert (REPO_ROOT / "tasks" / "gsm8k" / "task.py").read_bytes() == task_py
    assert (planted.library / "tasks" / "gsm8k" / "task.py").read_bytes() == library_task
    assert not (planted.view / "hub" / "planted").exists()


DAEMONS = """
mkdir -p final_model && echo '{}' > final_model/config.json
# a setsid daemon and a double-forked trainer, both rewriting final_model/ forever
setsid bash -c 'while true; do date +%s%N > final_model/daemon.txt; sleep 0.1; done' \
  >/dev/null 2>&1 < /dev/null &
( ( while true; do date +%s%N > final_model/trainer.txt; sleep 0.1; done ) & ) >/dev/null 2>&1
sleep 0.5
echo left behind
"""


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@needs_bwrap
def test_nothing_the_agent_started_outlives_its_run(tmp_path):
    planted = Planted(tmp_path, DAEMONS)
    result = planted.run()
    assert result["outcome"] == outcomes.OK, planted.log
    final = planted.job_dir / "final_model"
    before = snapshot(final)
    assert {"daemon.txt", "trainer.txt"} <= set(before)
    time.sleep(1.0)
    assert snapshot(final) == before, "final_model/ changed after the run ended"
    assert not os.access(final / "config.json", os.W_OK) or os.geteuid() == 0
    assert not (final.stat().st_mode & 0o222), "final_model/ is frozen read-only"


@needs_bwrap
def test_the_budget_kill_takes_every_process_after_the_grace(tmp_path):
    """At the budget the box gets SIGTERM (the agent saves within the grace), then dies whole."""
    script = (
        DAEMONS.replace("echo left behind", "")
        + """
    trap 'echo saved > final_model/saved.txt; exit 0' TERM
    while true; do sleep 0.2; done
    """
    )
    planted = Planted(tmp_path, script)
    result = planted.run(budget_s=3, grace_s=5)
    assert result["outcome"] == outcomes.TIMEOUT and result["timed_out"]
    final = planted.job_dir / "final_model"
    assert (final / "saved.txt").read_text().strip() == "saved", "SIGTERM reached the agent in its box"
    before = snapshot(final)
    time.sleep(1.0)
    assert snapshot(final) == before


@needs_bwrap
def test_the_agents_tmp_is_its_own(tmp_path):
    name = f"ptb-planted-{uuid.uuid4().hex}"
    planted = Planted(tmp_path, f"echo mine > /tmp/{name}; ls /tmp | grep -c . ; echo done")
    planted.run()
    assert "done" in planted.log
    assert not Path("/tmp", name).exists(), "nothing lands in the host's /tmp"
    assert (planted.run_dir / "scratch" / name).read_text() == "mine\n", "the run's scratch is its /tmp"


def test_without_the_box_the_same_agents_reach_out(tmp_path):
    """What the box prevents, shown unboxed (`isolation: none`): the checkout is visible, the
    record forgeable, and a setsid daemon lives on (killed here by the test)."""
    script = (
        f"cat {REPO_ROOT}/tasks/gsm8k/data/test.jsonl | head -c 100; echo forged > ../trace.md\n" + DAEMONS
    )
    planted = Planted(tmp_path, script, isolation="none")
    try:
        planted.run()
        assert GSM8K_ITEM[:40] in planted.log
        final = planted.job_dir / "final_model"
        before = (final / "daemon.txt").read_bytes()
        time.sleep(0.5)
        assert (final / "daemon.txt").read_bytes() != before, "the unboxed daemon outlived its run"
    finally:
        subprocess.run(["pkill", "-f", "final_model/(daemon|trainer).txt"], check=False)


def test_a_host_without_bubblewrap_refuses_unless_told(monkeypatch):
    monkeypatch.setattr(box, "BWRAP", "bwrap-that-is-not-installed")
    with pytest.raises(box.BoxUnavailable, match="apt-get install bubblewrap.*isolation: none"):
        box.isolation_for("none", "bwrap")
    assert box.isolation_for("none", "none") == "none"
    assert box.isolation_for("apptainer", "bwrap") == "apptainer"


def test_the_runtime_binds_never_hand_out_the_checkout(tmp_path):
    venv_bin = shutil.which("python")
    environ = {
        "PATH": os.pathsep.join(
            [
                str(REPO_ROOT),
                str(REPO_ROOT / "scripts"),
                str(REPO_ROOT.parent),
                str(Path(venv_bin).parent),
                "/usr/bin",
            ]
        )
    }
    found = box.runtime_paths(environ)
    checkout = REPO_ROOT.resolve()
    assert all(not checkout.is_relative_to(p) for p in found), found  # no folder at or above it
    inside = [p for p in found if p.is_relative_to(checkout)]
    assert all((p / "pyvenv.cfg").exists() or p.name == "node_modules" for p in inside), inside
    assert checkout / "scripts" not in found


def test_the_apptainer_box_binds_the_same_contract(tmp_path):
    """The cluster's mechanism, through its command line: the job dir is the only writable bind;
    the library (not the checkout), the view and the data are bound read-only."""
    run_dir = tmp_path / "results" / "runs" / "a" / "m" / "b" / "seed1"
    job_dir, home = run_dir / "job", run_dir / "home"
    job_dir.mkdir(parents=True)
    library = box.handout_library(run_dir / "library", "noop")
    (tmp_path / "views" / "m" / "hub").mkdir(parents=True)
    data_view = tmp_path / "results" / "cache" / "agent_view"
    data_view.mkdir(parents=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "ANTHROPIC_API_KEY": "sk-secret-value"}
    prefix, inner = box.agent_command(
        env,
        isolation="apptainer",
        image="containers/agent.sif",
        view=tmp_path / "views" / "m",
        job_dir=job_dir,
        run_dir=run_dir,
        library=library,
        read_only=[data_view],
        environ={"CUDA_VISIBLE_DEVICES": "1"},
    )
    assert prefix[:2] == ["apptainer", "exec"] and prefix[-1].endswith("containers/agent.sif")
    assert {"--cleanenv", "--containall", "--nv"} <= set(prefix)
    options = dict(zip(prefix[2:-1], prefix[3:-1]))
    assert options["--pwd"] == str(job_dir.absolute())
    assert options["--home"] == f"{home.absolute()}:{home.absolute()}"
    assert options["--workdir"] == str(run_dir / "scratch"), "the run's scratch is its /tmp"
    binds = [prefix[i + 1] for i, word in enumerate(prefix) if word == "--bind"]
    assert [b for b in binds if not b.endswith(":ro")] == [f"{job_dir}:{job_dir}:rw"]
    sources = {Path(b.split(":")[0]) for b in binds}
    assert {library, data_view, tmp_path / "views" / "m"} <= sources
    assert not any(s.is_relative_to(REPO_ROOT) for s in sources), "nothing of the checkout"
    assert inner["APPTAINERENV_CUDA_VISIBLE_DEVICES"] == "1", "the GPUs SLURM allocated"
    assert inner["APPTAINERENV_HF_HOME"] == str(home / ".cache" / "huggingface")
    assert not [k for k in inner if k not in ("PATH", "HOME") and not k.startswith("APPTAINERENV_")]
    assert " ".join(prefix).count("sk-secret-value") == 0, "no secret on the command line"


def test_a_long_run_says_it_is_alive(tmp_path):
    """A heartbeat line in the job log while the agent runs: time used, the size and age of its
    output (never its text), its tokens."""
    lines = []

    class Log:
        def info(self, fmt, *args):
            lines.append(fmt % args)

    raw = tmp_path / "agent.log"
    result = agent_run.run_with_budget(
        ["bash", "-c", "echo working; sleep 3.2"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        log_path=raw,
        budget_s=30,
        grace_s=1,
        heartbeat=agent_run._heartbeat(Log(), raw, 30, None),
        heartbeat_s=0.5,
    )
    assert result["exit_code"] == 0 and len(lines) >= 2, lines
    assert re.fullmatch(r"agent running: \d of 30 s; agent.log 8 bytes, last written \d s ago", lines[0])
    assert "working" not in "".join(lines)
