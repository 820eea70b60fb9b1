"""`validate-task NAME`: check a task folder before it joins the grid.

Checks, each reported with the file and field it concerns:

- the folder: benchmark.txt, task.yaml, task.py, evaluate.py (calling ptb.evaluation.agent_eval.script(NAME));
- task.yaml against schemas/task.schema.yaml: required keys, a pinned dataset revision (a full
  40-hex commit or a release tag, never a branch), the generation settings, name == folder;
- task.py imports and has the @task function NAME(data_dir, limit, ...) and test_texts(record);
- the offline records (data/test.jsonl, or the task's offline_records()) parse, one JSON object
  a line, and convert with record_to_sample (when it takes a record alone); the workflow's cache
  stage (data: local) and the @task build a dataset from them;
- the scorer, on the first --limit samples, against a scripted mockllm model (no network):
  every value lies in the documented range (task.yaml score_range, default [0, 1]; CORRECT and
  INCORRECT count as 1 and 0), no sample errors, an empty reply scores the minimum (or task.yaml
  empty_score, where penalties reach below what saying nothing scores), a reply
  inside <think>...</think> (closed or not) scores as an empty one, and thinking before an
  answer does not change its score. A right answer must score the maximum: the reply is
  task.py's reference_completion(sample) where it defines one; otherwise replies built from the
  sample's target are tried, and a warning says when none scored the maximum. LLM-graded tasks
  (task.yaml `grader`) get a scripted grader that calls every answer a tie / criteria met;
- test_texts(record) gives non-empty strings for every record (the judge's contamination check).

Exit status 1 when any check fails (warnings do not fail).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect as pyinspect
import json
import logging
import os
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml
from inspect_ai.dataset import Sample

from ptb.core import io, tasks
from ptb.core import protocol as protocols
from ptb.core.paths import REPO_ROOT, checkout
from ptb.evaluation import inspect_runner
from ptb.evaluation.scripted_model import by_fragment, scripted
from ptb.inputs.cache import prepare_dataset

SCHEMA_PATH = REPO_ROOT / "schemas" / "task.schema.yaml"
PLACEHOLDER_REVISION = "0" * 40
DEFAULT_RANGE = (0.0, 1.0)
SCRIPTED_GRADER_REPLY = (
    '{"criteria_met": true, "explanation": "validate-task scripted grader"}\nVerdict: [[A=B]]'
)
THINK_NOISE = "Let me think about it. ANSWER: 0 is a first guess, \\boxed{0}, ```python\npass\n```"
VALUE_OF = {"C": 1.0, "I": 0.0, "P": 0.5}


@dataclass
class Report:
    name: str
    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (level, where, message)

    def add(self, level: str, where: str, message: str) -> None:
        self.lines.append((level, where, message))

    def ok(self, where: str, message: str) -> None:
        self.add("ok", where, message)

    def warn(self, where: str, message: str) -> None:
        self.add("warn", where, message)

    def error(self, where: str, message: str) -> None:
        self.add("error", where, message)

    @property
    def errors(self) -> list[tuple[str, str, str]]:
        return [line for line in self.lines if line[0] == "error"]

    @property
    def warnings(self) -> list[tuple[str, str, str]]:
        return [line for line in self.lines if line[0] == "warn"]

    @property
    def passed(self) -> bool:
        return not self.errors

    def render(self) -> str:
        body = [f"  {level:<5} {where}: {message}" for level, where, message in self.lines]
        verdict = "OK" if self.passed else f"FAILED ({len(self.errors)} problem(s))"
        extra = f", {len(self.warnings)} warning(s)" if self.warnings else ""
        return "\n".join([f"validate-task {self.name}", *body, f"{self.name}: {verdict}{extra}"])


@contextlib.contextmanager
def tasks_dir(path: Path | None):
    """Point ptb.core.tasks at another tasks folder (a task outside the repo, tests)."""
    if path is None:
        yield
        return
    saved = tasks.TASKS_DIR
    tasks.TASKS_DIR = Path(path)
    try:
        yield
    finally:
        tasks.TASKS_DIR = saved


def _rel(path: Path) -> str:
    for base in (REPO_ROOT, Path.cwd()):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# --- task.yaml --------------------------------------------------------------------------------


def _schema_message(error: jsonschema.ValidationError) -> tuple[str, str]:
    where = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    if error.validator == "required":
        return where, error.message
    if list(error.absolute_path) == ["dataset", "revision"] and error.validator == "pattern":
        return where, (
            f"{error.instance!r} is not pinned: use the full 40-hex commit of the hub dataset "
            "(or a release tag such as v1.0), never a branch"
        )
    if list(error.absolute_path) == ["dataset", "revision"] and error.validator == "type":
        return where, (
            f"{error.instance!r} is not a string: quote the revision in task.yaml "
            "(YAML reads an all-digit value as a number)"
        )
    if error.validator == "additionalProperties":
        return where, f"{error.message}; allowed: {', '.join(sorted(error.schema.get('properties', {})))}"
    return where, f"{error.instance!r}: {error.message}" if error.validator != "type" else error.message


def check_spec(name: str, folder: Path, report: Report) -> dict | None:
    path = folder / "task.yaml"
    where = _rel(path)
    try:
        settings = io.read_yaml(path.read_text())
    except yaml.YAMLError as error:
        report.error(where, f"not valid YAML: {error}")
        return None
    if not isinstance(settings, dict):
        report.error(where, "must be a mapping of keys (name, version, dataset, ...)")
        return None
    schema = io.read_yaml(SCHEMA_PATH.read_text())
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(settings), key=lambda e: list(e.absolute_path)
    )
    for error in errors:
        field_, message = _schema_message(error)
        report.error(f"{where}: {field_}", message)
    if settings.get("name") not in (None, name):
        report.error(f"{where}: name", f"{settings['name']!r} differs from the folder name {name!r}")
    dataset = settings.get("dataset") or {}
    if dataset.get("revision") == PLACEHOLDER_REVISION:
        report.warn(
            f"{where}: dataset.revision",
            "the all-zero placeholder commit: pin the dataset's real commit before a data: hub run",
        )
    if str(dataset.get("hub_id", "")).startswith("TODO"):
        report.warn(f"{where}: dataset.hub_id", f"{dataset['hub_id']!r} is a placeholder")
    low, high = settings.get("score_range") or DEFAULT_RANGE
    if not low < high:
        report.error(f"{where}: score_range", f"[{low}, {high}] is empty")
    if not errors:
        report.ok(where, "schema: pins, generation settings, version")
    return settings if not errors else None


# --- files and module -------------------------------------------------------------------------


def check_files(name: str, folder: Path, report: Report) -> bool:
    required_ok = True
    for filename in ("benchmark.txt", "task.yaml", "task.py", "evaluate.py"):
        path = folder / filename
        if not path.exists():
            report.error(_rel(path), "missing (new-task NAME writes one)")
            required_ok = required_ok and filename not in ("task.yaml", "task.py")
    bench = folder / "benchmark.txt"
    if bench.exists() and not bench.read_text().strip():
        report.error(_rel(bench), "empty: one line, the benchmark's display name")
    evaluate = folder / "evaluate.py"
    if evaluate.exists() and f'script("{name}")' not in evaluate.read_text():
        report.error(
            _rel(evaluate), f'must call ptb.evaluation.agent_eval.script("{name}") (the agent-facing CLI)'
        )
    return required_ok


def _required_params(function) -> list[str]:
    return [
        p.name
        for p in pyinspect.signature(function).parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def check_module(name: str, folder: Path, report: Report):
    where = _rel(folder / "task.py")
    try:
        loaded = tasks.module(name)
    except Exception as error:
        report.error(where, f"does not import: {_short(error)}")
        return None
    function = getattr(loaded, name, None)
    good = True
    if not callable(function):
        report.error(where, f"no @task function named {name!r} (the folder's name)")
        return None
    params = pyinspect.signature(function).parameters
    for needed in ("data_dir", "limit"):
        if needed not in params:
            report.error(
                f"{where}: {name}()", f"takes no {needed!r} argument (the workflow passes data_dir and limit)"
            )
            good = False
    if not callable(getattr(loaded, "test_texts", None)):
        report.error(where, "no test_texts(record) function (the judge's contamination check needs it)")
        good = False
    if good:
        report.ok(where, f"imports; @task {name}(data_dir, limit, ...) and test_texts(record) defined")
    return loaded


# --- data ------------------------------------------------------------------------------------


def read_records(name: str, folder: Path, loaded, report: Report) -> tuple[dict[int, dict], str, bool] | None:
    """The offline test records by line number (data/test.jsonl, or offline_records()), where they
    come from, and whether every line parsed."""
    path = folder / "data" / "test.jsonl"
    records: dict[int, dict] = {}
    parsed_ok = True
    if path.exists():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                report.error(f"{_rel(path)}:{number}", f"not JSON: {error.msg} (column {error.colno})")
                parsed_ok = False
                continue
            if not isinstance(value, dict):
                report.error(f"{_rel(path)}:{number}", f"a JSON {type(value).__name__}, not an object")
                parsed_ok = False
                continue
            records[number] = value
    offline = getattr(loaded, "offline_records", None)
    if callable(offline):
        try:
            return dict(enumerate(offline(), start=1)), f"{_rel(folder / 'task.py')}: offline_records()", True
        except Exception as error:
            report.error(f"{_rel(folder / 'task.py')}: offline_records()", _short(error))
            return None
    if not path.exists():
        report.error(_rel(path), "missing: the offline test records, one JSON object a line")
        return None
    if not records and parsed_ok:
        report.error(_rel(path), "no records")
        return None
    return records, _rel(path), parsed_ok


def check_conversion(loaded, records: dict[int, dict], source: str, report: Report) -> None:
    convert = getattr(loaded, "record_to_sample", None)
    if not callable(convert):
        report.warn(source, "task.py has no record_to_sample(record): records checked through the @task only")
        return
    if len(_required_params(convert)) != 1:
        report.ok(
            source,
            f"{len(records)} records parse (record_to_sample takes more than a record: "
            "conversion checked through the @task)",
        )
        return
    failed = 0
    for number, record in records.items():
        try:
            sample = convert(record)
        except KeyError as error:
            report.error(
                f"{source}:{number}",
                f"record_to_sample: no field {error.args[0]!r} in the record "
                f"(fields: {', '.join(sorted(record))})",
            )
            failed += 1
            continue
        except Exception as error:
            report.error(f"{source}:{number}", f"record_to_sample failed: {_short(error)}")
            failed += 1
            continue
        if not isinstance(sample, Sample):
            report.error(
                f"{source}:{number}", f"record_to_sample returned {type(sample).__name__}, not a Sample"
            )
            failed += 1
        elif not sample.input:
            report.error(f"{source}:{number}", "record_to_sample gave an empty input")
            failed += 1
        if failed >= 5:
            report.error(source, "stopping after 5 records that do not convert")
            return
    if not failed:
        report.ok(source, f"{len(records)} records parse and convert with record_to_sample")


def build_task(name: str, data_dir: Path, limit: int, report: Report):
    try:
        prepare_dataset(name, "local", data_dir)
    except Exception as error:
        report.error(f"prepare_dataset({name!r}, data: local)", _short(error))
        return None
    try:
        # a sound scorer is checked under the corrected protocol: posttrainbench-v1 keeps
        # PostTrainBench's scoring bugs on purpose (thinking cut off at max_tokens is scored)
        built = tasks.load_task(name, data_dir, protocols.CORRECTED, limit=limit)
    except Exception as error:
        report.error(f"{name}(data_dir, limit={limit})", f"the @task failed: {_short(error)}")
        return None
    if not len(built.dataset):
        report.error(f"{name}(data_dir, limit={limit})", "the task's dataset is empty")
        return None
    strays = sorted({type(s).__name__ for s in built.dataset if not isinstance(s, Sample)})
    if strays:
        report.error(
            f"{name}(data_dir, limit={limit})", f"the dataset holds {', '.join(strays)}, not Samples"
        )
        return None
    ids = [s.id for s in built.dataset]
    if None not in ids and len(set(ids)) != len(ids):
        report.error(f"{name}(data_dir)", "sample ids repeat: inspect needs a unique id per sample")
        return None
    return built


def check_test_texts(
    name: str, loaded, records: dict[int, dict], data_dir: Path, source: str, report: Report
) -> None:
    where = f"{source}: test_texts(record)"
    empty = []
    for number, record in records.items():
        try:
            texts = loaded.test_texts(record)
        except Exception as error:
            report.error(f"{source}:{number}: test_texts(record)", _short(error))
            return
        if not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) for t in texts):
            report.error(
                f"{source}:{number}: test_texts(record)", f"must return a list of strings, got {texts!r:.80}"
            )
            return
        if not any(t.strip() for t in texts):
            empty.append(number)
    if empty:
        report.error(
            where, f"no text for records (lines) {empty[:10]}: the contamination check could not see them"
        )
        return
    try:
        exported = tasks.test_texts(name, data_dir)
        json.dumps(exported)
    except Exception as error:
        report.error(where, f"ptb.core.tasks.test_texts (the judge's export) failed: {_short(error)}")
        return
    report.ok(where, f"{len(exported)} texts from {len(records)} records, exportable for the judge")


# --- scripted scoring ---------------------------------------------------------------------------


def _input_text(sample) -> str:
    if isinstance(sample.input, str):
        return sample.input
    return "\n".join(m.text for m in sample.input)


def _target_text(sample) -> str:
    target = sample.target
    return (target[0] if target else "") if isinstance(target, list) else str(target or "")


def _longest_first(replies: dict[str, str]) -> dict[str, str]:
    """The replies keyed by sample input, longest input first: a prompt that holds one sample's
    input inside another's (a few-shot prompt, say) gets the reply of the longest it holds."""
    return dict(sorted(replies.items(), key=lambda item: len(item[0]), reverse=True))


class Scorer:
    """Runs the task on scripted replies (one eval per probe) and keeps each sample's value."""

    def __init__(self, built, settings: dict, log_dir: Path):
        self.task, self.settings, self.log_dir = built, settings, log_dir
        self.samples = list(built.dataset)
        self.low, self.high = (float(v) for v in settings.get("score_range") or DEFAULT_RANGE)
        self.empty = float(settings.get("empty_score", self.low))
        self.grader_failures = 0

    def run(self, probe: str, reply_for) -> dict:
        """sample index -> value (float), "grader_failed", or ("error", message)."""
        replies = {_input_text(s): reply_for(i, s) for i, s in enumerate(self.samples)}
        index = {_input_text(s): i for i, s in enumerate(self.samples)}
        grader = scripted(lambda prompt: SCRIPTED_GRADER_REPLY, "grader")
        roles = {tasks.GRADER_ROLE: grader} if self.settings.get("grader") else None
        [log] = inspect_runner.run(
            self.task,
            model=scripted(by_fragment(_longest_first(replies), default="")),
            model_roles=roles,
            epochs=1,
            display="none",
            log_dir=str(self.log_dir),
            score_display=False,
            fail_on_error=False,
        )
        by_id = {s.id: i for i, s in enumerate(self.samples)}
        out: dict = {}
        for sample in log.samples or []:
            i = by_id.get(sample.id, index.get(_input_text(sample)))
            if sample.error:
                out[i] = ("error", sample.error.message.splitlines()[0][:300])
            elif not sample.scores:
                out[i] = ("error", "no score")
            else:
                score = next(iter(sample.scores.values()))
                out[i] = "grader_failed" if tasks.grader_failed(score) else score.value
        if log.status != "success" and not out:
            message = log.error.message if log.error else log.status
            out = {i: ("error", message.splitlines()[0][:300]) for i in range(len(self.samples))}
        return out

    def as_number(self, value):
        if isinstance(value, str) and value in VALUE_OF:
            return VALUE_OF[value]
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, (int, float)):
            return float(value)
        return None


def check_scoring(name: str, built, settings: dict, loaded, report: Report, log_dir: Path) -> None:
    where = f"{_rel(tasks.task_dir(name) / 'task.py')}: scorer"
    scorer = Scorer(built, settings, log_dir)
    count = len(scorer.samples)
    problems_before = len(report.errors)

    def values_of(probe: str, reply_for) -> dict:
        """Run one probe; report crashes and out-of-range values; return sample -> number (or None)."""
        try:
            raw = scorer.run(probe, reply_for)
        except Exception as error:
            report.error(
                where, f"the eval crashed on {probe}: {_short(error)}\n{traceback.format_exc(limit=3)}"
            )
            return {}
        numbers = {}
        for i in range(count):
            value = raw.get(i, ("error", "sample missing from the log"))
            sid = scorer.samples[i].id
            if isinstance(value, tuple):
                report.error(where, f"sample {sid!r}, {probe}: error {value[1]}")
                numbers[i] = None
            elif value == "grader_failed":
                scorer.grader_failures += 1
                numbers[i] = None
            else:
                number = scorer.as_number(value)
                if number is None or not scorer.low <= number <= scorer.high:
                    report.error(
                        where,
                        f"sample {sid!r}, {probe}: value {value!r} is outside the documented "
                        f"range [{scorer.low:g}, {scorer.high:g}] (task.yaml score_range)",
                    )
                    numbers[i] = None
                else:
                    numbers[i] = number
        return numbers

    empty = values_of("an empty reply", lambda i, s: "")
    wrong_empty = {scorer.samples[i].id: v for i, v in empty.items() if v is not None and v != scorer.empty}
    if wrong_empty:
        side = "above" if all(v > scorer.empty for v in wrong_empty.values()) else "other than"
        report.error(
            where, f"an empty reply scores {side} {scorer.empty:g} on samples {list(wrong_empty)[:5]}"
        )

    reference = getattr(loaded, "reference_completion", None)
    if callable(reference):
        candidates = [("reference_completion(sample)", lambda i, s: reference(s))]
    else:
        candidates = [
            ("the target", lambda i, s: _target_text(s)),
            ("'ANSWER: <target>'", lambda i, s: f"ANSWER: {_target_text(s)}" if _target_text(s) else ""),
            (
                "the target in a code block",
                lambda i, s: f"```\n{_target_text(s)}\n```" if _target_text(s) else "",
            ),
        ]
        if not any(_target_text(s) for s in scorer.samples):
            candidates = [("a plain reply", lambda i, s: "A plain, scripted answer to the request.")]
    best: dict[int, tuple[float | None, str]] = {}
    per_candidate: list[str] = []
    for label, make in candidates:
        try:
            replies = {i: make(i, s) for i, s in enumerate(scorer.samples)}
        except Exception as error:
            report.error(where, f"{label} failed: {_short(error)}")
            continue
        got = values_of(f"reply = {label}", lambda i, s: replies[i])
        per_candidate.append(
            f"{label} {sum(v is not None and v >= scorer.high for v in got.values())}/{count}"
        )
        for i in range(count):
            value = got.get(i)
            if i not in best or (value is not None and (best[i][0] is None or value > best[i][0])):
                best[i] = (value, replies[i])
    right = {i: v for i, (v, _) in best.items() if v is not None and v >= scorer.high}
    if callable(reference):
        missed = [scorer.samples[i].id for i in range(count) if i not in right]
        if missed:
            report.error(
                where, f"reference_completion does not score {scorer.high:g} on samples {missed[:5]}"
            )
    elif candidates[0][0] != "a plain reply" and not right:
        report.warn(
            where,
            "no reply built from the target scored the maximum; define reference_completion(sample) "
            "in task.py so that right answers are checked",
        )

    chosen = {i: reply for i, (_, reply) in best.items() if reply and isinstance(reply, str)}
    base = {i: value for i, (value, _) in best.items()}
    if chosen:
        think_checks = [
            (
                "'<think>answer</think>'",
                lambda i, s: f"<think>\n{chosen[i]}\n</think>" if i in chosen else "",
                empty,
            ),
            (
                "'<think>answer' (unterminated)",
                lambda i, s: f"<think>\n{chosen[i]}" if i in chosen else "",
                empty,
            ),
            (
                "'<think>noise</think>answer'",
                lambda i, s: f"<think>\n{THINK_NOISE}\n</think>\n{chosen.get(i, '')}",
                base,
            ),
        ]
        for label, make, expected in think_checks:
            got = values_of(f"reply = {label}", make)
            differ = [
                scorer.samples[i].id
                for i, v in got.items()
                if i in chosen and v is not None and expected.get(i) is not None and v != expected[i]
            ]
            if differ:
                report.error(
                    where,
                    f"reply {label} scores differently from the thinking-stripped reply on samples "
                    f"{differ[:5]}: strip <think> blocks before scoring (ptb.core.tasks.strip_thinking)",
                )
    if scorer.grader_failures:
        report.warn(
            where,
            f"the scripted grader's reply did not parse for {scorer.grader_failures} sample runs "
            "(recorded as grader failures, not scored)",
        )
    if len(report.errors) == problems_before:
        if callable(reference):
            right_text = f"reference_completion -> {scorer.high:g} on {len(right)}/{count}"
        elif candidates[0][0] == "a plain reply":
            seen = sorted({v for v, _ in best.values() if v is not None})
            right_text = f"a plain reply -> {', '.join(f'{v:g}' for v in seen) or 'no value'}"
        else:
            right_text = (
                f"replies built from the target -> {scorer.high:g} on {len(right)}/{count} "
                f"({', '.join(per_candidate)})"
            )
        report.ok(
            where,
            f"{count} samples on a scripted model{' and grader' if settings.get('grader') else ''}: "
            f"values in [{scorer.low:g}, {scorer.high:g}], empty -> {scorer.empty:g}, {right_text}, "
            "<think> blocks stripped",
        )


# --- entry points ------------------------------------------------------------------------------


def validate(name: str, tasks_root: str | Path | None = None, limit: int = 5) -> Report:
    """Run every check on tasks/<name>/ (or <tasks_root>/<name>/); never raises."""
    report = Report(name)
    with tasks_dir(Path(tasks_root) if tasks_root else None):
        folder = tasks.task_dir(name)
        if not folder.is_dir():
            known = sorted(p.parent.name for p in tasks.TASKS_DIR.glob("*/task.yaml"))
            report.error(_rel(folder), f"no such task folder (tasks: {', '.join(known)})")
            return report
        if not check_files(name, folder, report):
            return report
        settings = check_spec(name, folder, report)
        loaded = check_module(name, folder, report)
        if loaded is None:
            return report
        found = read_records(name, folder, loaded, report)
        if found is None:
            return report
        records, source, parsed = found
        check_conversion(loaded, records, source, report)
        if not parsed:
            return report
        if settings is None:
            report.warn(
                _rel(folder / "task.yaml"), "the dataset and the scorer are checked once task.yaml is valid"
            )
            return report
        with tempfile.TemporaryDirectory(prefix=f"validate-{name}-") as tmp:
            data_dir = Path(tmp) / "data"
            built = build_task(name, data_dir, limit, report)
            check_test_texts(name, loaded, records, data_dir, source, report)
            if built is not None:
                check_scoring(name, built, settings, loaded, report, Path(tmp) / "logs")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="validate-task", description="Check a task folder before it joins the grid."
    )
    parser.add_argument("names", nargs="+", metavar="NAME", help="task folder name(s) under tasks/")
    parser.add_argument(
        "--tasks-dir",
        default=str(checkout() / "tasks"),
        help="the folder holding the task folders (default: tasks/ of the checkout around the working dir)",
    )
    parser.add_argument(
        "--limit", type=int, default=5, help="samples scored on the scripted model (default: 5)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.getLogger("inspect_ai").setLevel(logging.ERROR)
    failed = False
    for name in args.names:
        report = validate(name, args.tasks_dir, args.limit)
        print(report.render())
        failed = failed or not report.passed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
