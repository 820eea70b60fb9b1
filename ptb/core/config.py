"""Loading and validating the workflow config, with errors that name the bad key."""

from __future__ import annotations

import copy
import math
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from ptb.core import grid, io, tasks
from ptb.core.grid import AXES, Cell
from ptb.core.paths import REPO_ROOT

SCHEMA_PATH = REPO_ROOT / "schemas" / "config.schema.yaml"
NAME_RULE = (
    "names are letters, digits, '_', '.' and '-' (no space or control character), start with a letter "
    "or digit, hold no '..' and have at most 100 characters (they become folders under results/)"
)
SEED_MAX = 2**32 - 1  # numpy's and torch's seeds take 32 bits (the SFT agent seeds both)


class ConfigError(ValueError):
    """A config that cannot run; the message names the key and what is allowed."""


def _path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    where = _path(error)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        key = extra[0] if where == "<top level>" else f"{where}.{extra[0]}"
        return f"config key {key!r} is not allowed{hint}"
    if error.validator == "required":
        return f"config section {where!r}: {error.message}"
    if "propertyNames" in error.relative_schema_path:
        reserved = error.validator == "not" and "enum" in error.validator_value
        if reserved:
            return f"config key {where!r}: {error.instance!r} is set by the workflow and cannot be configured"
        return f"config key {where!r}: the name {error.instance!r} is not allowed; {NAME_RULE}"
    if error.validator in ("pattern", "not", "maxLength") and where.endswith("hf_id"):
        return (
            f"config key {where!r} = {error.instance!r}: not a hub repo id "
            "(owner/name, no '..', no control character, at most 200 characters)"
        )
    if error.validator == "pattern" and where.endswith("display_name"):
        return f"config key {where!r} = {error.instance!r}: a display name is one line, no control character"
    if error.validator in ("pattern", "not", "maxLength") and where.split(".")[0] in (
        "grid",
        "select",
        "subsets",
        "calibration",
        "profiling",
    ):
        return f"config key {where!r}: {error.instance!r} is not allowed; {NAME_RULE}"
    if "then" in error.relative_schema_path and where.startswith("resources."):
        return f"config key {where!r} = {error.instance!r}: a gpu_model is set, so gpu must be 1 or more"
    if error.validator == "enum":
        allowed = ", ".join(map(repr, error.validator_value))
        return f"config key {where!r} = {error.instance!r}; allowed: {allowed}"
    return f"config key {where!r}: {error.message}"


def _with_defaults(validator_class):
    """Fill schema defaults while validating (as snakemake.utils.validate does)."""
    validate_props = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(key, copy.deepcopy(sub["default"]))
        yield from validate_props(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _parse_scalar(text: str, expected: set[str]):
    """A string from `--config` where the schema wants a number, boolean or null."""
    lowered = text.strip().lower()
    if "null" in expected and lowered in ("null", "none", "~", ""):
        return None
    if "boolean" in expected and lowered in ("true", "false"):
        return lowered == "true"
    for kind, parse in (("integer", int), ("number", float)):
        if kind in expected:
            try:
                return parse(text)
            except ValueError:
                pass
    return text


def _coerce_cli_strings(config: dict, validator) -> None:
    """snakemake --config passes nested values as strings ('{seeds: [1]}' gives '1'): convert
    them where the schema expects a number, boolean or null; anything else stays an error."""
    for _ in range(100):
        changed = False
        for error in validator.iter_errors(config):
            for sub in [error, *error.context]:
                expected = sub.validator_value if sub.validator == "type" else None
                if not isinstance(sub.instance, str) or not expected:
                    continue
                expected = {expected} if isinstance(expected, str) else set(expected)
                value = _parse_scalar(sub.instance, expected)
                if value is sub.instance or not sub.absolute_path:
                    continue
                *parents, last = sub.absolute_path
                target = config
                for key in parents:
                    target = target[key]
                target[last] = value
                changed = True
        if not changed:
            return


def _check_finite(value, where: str = "") -> None:
    """YAML's .nan and .inf are floats that pass every minimum (NaN compares false): refuse
    them anywhere, naming the key."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"config key {where or '<top level>'!r} = {value}: not a finite number")
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        _check_finite(item, f"{where}.{key}" if where else str(key))


def _check_results_dir(config: dict) -> None:
    """Every output goes under results_dir: an empty one or the root would write at /."""
    results = config["results_dir"]
    if not results.strip() or re.search(r"[\x00-\x1f\x7f]", results):
        raise ConfigError(
            f"config key 'results_dir' = {results!r}: give a folder (not empty, no control character)"
        )
    if Path(os.path.expanduser(results)).resolve() == Path("/"):
        raise ConfigError(
            f"config key 'results_dir' = {results!r}: the filesystem root; give a folder under it"
        )


def _schema() -> dict:
    return io.read_yaml(SCHEMA_PATH.read_text())


def validate(config: dict) -> dict:
    """Validate in place against the schema and the registries; return the config."""
    schema = _schema()
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    _coerce_cli_strings(config, validator)
    _check_finite(config)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        while best.validator in ("oneOf", "anyOf") and best.context:
            # "null or a section": say what is wrong inside the section, not "no branch matched"
            inner = [e for e in best.context if e.validator != "type"] or best.context
            best = jsonschema.exceptions.best_match(inner)
        raise ConfigError(_describe(best))
    _check_results_dir(config)
    _check_references(config)
    _check_weights(config)
    subset, select = (
        config["subset"],
        {k: v for k, v in (config.get("select") or {}).items() if k != "calibration"},
    )
    if subset and not config["subsets"][subset]["calibration"]:
        config["calibration"] = None  # a subset runs its own cells only (schema: subsets)
    if select and config["calibration"] and not config["select"].get("calibration"):
        config["calibration"] = None  # so does an ad-hoc slice: say so, since the grid would calibrate
        print(
            "note: select= plans the selected cells only, without the judge's calibration runs "
            "(select: {..., calibration: true} adds them)",
            file=sys.stderr,
        )
    warn_api_agents_on_host(config)
    warn_select_beyond_grid(config)
    warn_collisions(config)
    warn_unset_keys(config)
    # the models this run uses: a demo's own models are not the production grid's unpinned ones
    in_play = selection(config)["models"] + list((config.get("calibration") or {}).get("models") or [])
    unpinned = unpinned_models(config, in_play)
    if unpinned:
        print(
            f"warning: {len(unpinned)} model(s) not pinned to a commit "
            "(the cache manifest records the commit each resolved to): "
            f"{', '.join(unpinned[:3])}{' ...' if len(unpinned) > 3 else ''}",
            file=sys.stderr,
        )
    return config


def _check_references(config: dict) -> None:
    selections = {"grid": config["grid"], "select": config.get("select") or {}}
    for name, sel in (config.get("subsets") or {}).items():
        selections[f"subsets.{name}"] = sel
    calibration = config.get("calibration")
    if calibration:
        selections["calibration"] = {**calibration, "agents": list(calibration["expected"])}
    for where, sel in selections.items():
        for axis in ("agents", "models", "benchmarks"):
            known = config[axis]
            for name in sel.get(axis, []):
                if name not in known:
                    raise ConfigError(
                        f"config key '{where}.{axis}' names unknown {axis[:-1]} {name!r}; "
                        f"allowed: {', '.join(sorted(known))}"
                    )
    subset = config.get("subset")
    if subset and subset not in (config.get("subsets") or {}):
        raise ConfigError(
            f"config key 'subset' = {subset!r}; "
            f"allowed: {', '.join(sorted(config.get('subsets') or {})) or '(no subsets defined)'}"
        )
    chosen = selection(config)
    _check_not_empty(config, chosen)
    # only what will run must exist on disk; a registry may list tasks not in this sweep
    for bench in chosen["benchmarks"]:
        if not (REPO_ROOT / "tasks" / bench / "task.yaml").exists():
            raise ConfigError(f"config key 'benchmarks.{bench}': no task folder tasks/{bench}/task.yaml")
    _check_context_length(config, chosen["benchmarks"])
    _check_task_args(
        config, list(dict.fromkeys(chosen["benchmarks"] + (calibration or {}).get("benchmarks", [])))
    )
    for name in chosen["agents"] + list((calibration or {}).get("expected", {})):
        agent = config["agents"][name]
        if not (REPO_ROOT / "agents" / agent["scaffold"] / "solve.sh").exists():
            raise ConfigError(
                f"config key 'agents.{name}.scaffold' = {agent['scaffold']!r}: "
                f"no agents/{agent['scaffold']}/solve.sh"
            )
        for rel in agent["box_read_only"]:
            if not (REPO_ROOT / rel).exists():
                raise ConfigError(
                    f"config key 'agents.{name}.box_read_only' names {rel!r}: not in the checkout"
                )


def _check_not_empty(config: dict, chosen: dict) -> None:
    """An axis with nothing left plans no cell and breaks the leaderboard: refuse it, naming
    the key that emptied it (the grid itself, the named subset, or `select`)."""
    for axis in AXES:
        if chosen[axis]:
            continue
        culprit = "grid"
        subset = config.get("subset")
        if subset and (config["subsets"][subset].get(axis) == []):
            culprit = f"subsets.{subset}"
        if (config.get("select") or {}).get(axis) == []:
            culprit = "select"
        raise ConfigError(f"config key '{culprit}.{axis}' selects no {axis}: the sweep would have no cell")
    calibration = config.get("calibration")
    for axis in ("expected", "models", "benchmarks", "seeds"):
        if calibration and not calibration[axis]:
            raise ConfigError(
                f"config key 'calibration.{axis}' is empty: give it entries, or set calibration: null"
            )


def _check_task_args(config: dict, benchmarks: list[str]) -> None:
    """A task_args key the task's @task function does not take would fail every evaluation of
    the benchmark, baselines included: refuse it at load, naming the key and what is taken."""
    for bench in benchmarks:
        given = config["benchmarks"][bench].get("task_args") or {}
        accepted = tasks.task_arguments(bench)
        if accepted is None:
            continue  # **kwargs, or a task.py that the evaluation will report itself
        allowed = accepted - set(tasks.WORKFLOW_ARGUMENTS)
        for key in given:
            if key not in allowed:
                why = "is set by the workflow" if key in tasks.WORKFLOW_ARGUMENTS else "is not an argument"
                raise ConfigError(
                    f"config key 'benchmarks.{bench}.task_args.{key}' {why} of {bench}() in "
                    f"tasks/{bench}/task.py; allowed: {', '.join(sorted(allowed)) or '(none)'}"
                )


def warn_select_beyond_grid(config: dict) -> None:
    """`select` narrows the sweep; naming what the grid (or the named subset) does not run widens
    it. That is a documented use (a new agent or task tried alone, more seeds: docs/adding-a-task.md),
    so it is said, naming the entries, not refused: a slip (`seeds: [1, 7]`) is seen before any job."""
    select = config.get("select") or {}
    subset = config.get("subset")
    base = {axis: list(config["grid"][axis]) for axis in AXES}
    narrowed_by = "grid"
    if subset:
        narrowed_by = f"grid narrowed by subsets.{subset}"
        for axis in AXES:
            if axis in config["subsets"][subset]:
                base[axis] = list(config["subsets"][subset][axis])
    for axis in AXES:
        outside = [v for v in select.get(axis, []) if v not in base[axis]]
        if outside:
            print(
                f"warning: config key 'select.{axis}' names {', '.join(map(repr, outside))}, not in the "
                f"{narrowed_by} ({', '.join(map(str, base[axis]))}): the run widens the sweep with them",
                file=sys.stderr,
            )


def _check_weights(config: dict) -> None:
    """Pinned leaderboard weights: one per benchmark of the grid, summing to more than 0 (else the
    leaderboard would fail after every run, or divide by zero)."""
    weights = config["leaderboard"]["weights"]
    if not isinstance(weights, dict):
        return
    unknown = [b for b in weights if b not in config["benchmarks"]]
    if unknown:
        raise ConfigError(
            f"config key 'leaderboard.weights' names unknown benchmark(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(config['benchmarks']))}"
        )
    planned = selection(config)["benchmarks"]
    missing = [b for b in dict.fromkeys(config["grid"]["benchmarks"] + planned) if b not in weights]
    if missing:
        raise ConfigError(
            f"config key 'leaderboard.weights' pins no weight for {', '.join(map(repr, missing))} "
            "(a benchmark of the grid or of this run's selection)"
        )
    for where, benches in (
        ("grid", config["grid"]["benchmarks"]),
        ("selection", selection(config)["benchmarks"]),
    ):
        if sum(weights[b] for b in benches) <= 0:
            raise ConfigError(
                f"config key 'leaderboard.weights': the weights of the {where}'s benchmarks "
                f"({', '.join(benches)}) sum to 0; give at least one a positive weight"
            )


def warn_collisions(config: dict) -> None:
    """Two models of one hub repo and revision evaluate the same weights twice; two names that
    differ only by case share one folder on a case-insensitive filesystem (macOS, some shares)."""
    refs: dict[tuple, list[str]] = {}
    for name, entry in config["models"].items():
        for variant in ("base", "instruct"):
            ref = entry.get(variant)
            if ref and ref["source"] == "hub":
                refs.setdefault((ref["hf_id"], ref.get("revision")), []).append(f"models.{name}.{variant}")
    for (hf_id, revision), users in refs.items():
        if len(users) > 1:
            print(
                f"warning: {' and '.join(users)} are the same hub model {hf_id}@{revision}", file=sys.stderr
            )
    for registry in ("agents", "models", "benchmarks"):
        folded: dict[str, list[str]] = {}
        for name in config[registry]:
            folded.setdefault(name.casefold(), []).append(name)
        for names in folded.values():
            if len(names) > 1:
                print(
                    f"warning: {registry} {' and '.join(map(repr, names))} differ only by case: they "
                    "share one results folder on a case-insensitive filesystem",
                    file=sys.stderr,
                )


def warn_unset_keys(config: dict, environ=os.environ) -> None:
    """The key variables (`env:`) of the agents this run plans that are unset here: warn at load
    (a dry run, ptb-status and the leaderboard need no key). An API agent's job refuses to start
    without its key (ptb.agent_runs.agent_run.missing_keys: an infrastructure failure, not the
    agent's); a calibration leak cheat would run with nothing to leak."""
    planned = selection(config)["agents"] + calibration_agents(config)
    unset: dict[str, list[str]] = {}
    for name in dict.fromkeys(planned):
        for var in config["agents"][name]["env"]:
            if not environ.get(var):
                unset.setdefault(var, []).append(name)
    if unset:
        listed = "; ".join(f"{var} (agents {', '.join(names)})" for var, names in sorted(unset.items()))
        print(
            f"warning: key variable(s) unset here: {listed}. An API agent's run refuses to start "
            "without its key (docs/faults.md)",
            file=sys.stderr,
        )


def calibration_agents(config: dict) -> list[str]:
    """The calibration agents this run plans: `calibration.agents`, else all of `expected`."""
    calibration = config.get("calibration") or {}
    return list(calibration.get("agents") or calibration.get("expected") or [])


def _check_context_length(config: dict, benchmarks: list[str]) -> None:
    """vLLM rejects every request whose max_tokens leaves no room in max_model_len: catch it at load."""
    max_len = config["evaluation"].get("max_model_len")
    if not max_len:
        return
    for bench in benchmarks:
        wanted = tasks.spec(bench)["generation"].get("max_tokens") or 0
        if wanted >= max_len:
            raise ConfigError(
                f"config key 'evaluation.max_model_len' = {max_len} leaves no room for the prompt: {bench} "
                f"generates up to {wanted} tokens (tasks/{bench}/task.yaml generation.max_tokens)"
            )


class _StrictLoader(io.YAML_SAFE_LOADER):
    """YAML that refuses a key given twice in one mapping (PyYAML keeps the last silently).
    A merge key (`<<: *anchor`) is not a key of its own: the safe loader's merge fills in what
    the mapping does not set itself, so a key set beside a merge is no duplicate."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} is given twice (first on line {seen[key] + 1}): "
                    "the last would win silently",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def read_file(path: str | Path) -> dict:
    """One config file, strictly: a syntax error or a duplicated key names the file and the line."""
    try:
        loaded = yaml.load(Path(path).read_text(), Loader=_StrictLoader)  # noqa: S506 (a SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        raise ConfigError(f"config file {where}: {error.problem or error.context}") from None
    except OSError as error:
        raise ConfigError(f"config file {path}: {error.strerror}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path}: expected a mapping of keys at the top level")
    return loaded


# (path, mtime, size) -> what check_files read from the file: the Snakefile checks
# workflow_config.yaml before snakemake loads it (which then takes this parse: ptb.core.plan_speed)
# and rules/common.smk every config file after, so a dry run would parse it three times
# (benchmarks/plan_grid.py)
_CHECKED: dict[tuple[str, int, int], dict] = {}


def _file_key(path: str | Path) -> tuple[str, int, int] | None:
    try:
        stat = Path(path).stat()
    except OSError:
        return None  # read_file names the file
    return (str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


def check_files(paths: list[str | Path]) -> None:
    """Read every config file strictly (snakemake's own loader keeps duplicated keys silently)."""
    for path in paths:
        key = _file_key(path)
        if key in _CHECKED:
            continue
        loaded = read_file(path)
        if key:
            _CHECKED[key] = loaded


def checked(path: str | Path) -> dict | None:
    """What check_files read from the file as it is now (None: not checked, or edited since).
    Shared: copy it before changing it."""
    return _CHECKED.get(_file_key(path))


COMMIT = re.compile(r"[0-9a-f]{40}")  # fullmatch


def unpinned_models(config: dict, models: list[str] | None = None) -> list[str]:
    """Hub models (of `models`, default all) whose revision is a branch or tag, not a commit."""
    return [
        f"models.{name}.{variant} ({ref['hf_id']}@{ref.get('revision')})"
        for name, entry in config["models"].items()
        if models is None or name in models
        for variant in ("base", "instruct")
        if (ref := entry.get(variant))
        and ref["source"] == "hub"
        and not COMMIT.fullmatch(ref.get("revision") or "")
    ]


def resolve_section(name: str, values: dict) -> dict:
    """Config section `name` made of `values`: validated against the schema, its defaults filled.

    For tools that run without the workflow config (the agent-facing evaluate.py), so that
    their defaults are the schema's, as the workflow's are.
    """
    schema = _schema()
    wrapper = {
        "$defs": schema.get("$defs", {}),
        "type": "object",
        "properties": {name: schema["properties"][name]},
    }
    instance = {name: copy.deepcopy(values)}
    _check_finite(instance)
    errors = list(_with_defaults(jsonschema.Draft202012Validator)(wrapper).iter_errors(instance))
    if errors:
        raise ConfigError(_describe(jsonschema.exceptions.best_match(errors)))
    return instance[name]


WORKFLOW_CONFIG = REPO_ROOT / "workflow_config.yaml"  # the Snakefile's `configfile:`


def warn_api_agents_on_host(config: dict) -> None:
    """`isolation: none` runs what a hosted model writes on this host, unboxed, as this user: say
    so once, naming the selected agents that take an API key (the offline agents run our own code)."""
    if config["container"] != "none" or config["isolation"] != "none":
        return
    hosted = [a for a in selection(config)["agents"] if config["agents"][a]["env"]]
    if hosted:
        print(
            f"warning: isolation: none runs API agent(s) {', '.join(hosted)} on this host: the code "
            "their models write runs unconfined, as you, next to your files and keys "
            "(isolation: bwrap or container: apptainer box them; docs/isolation.md)",
            file=sys.stderr,
        )


def merge(config: dict, update: dict) -> dict:
    """Merge `update` into `config` as snakemake merges config files and --config (its
    snakemake.utils.update_config: mappings merge key by key, anything else replaces). Here,
    not imported: the agent-facing evaluate.py imports this module where snakemake is not
    installed (the agent image, vLLM's own venv)."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            merge(config[key], value)
        else:
            config[key] = value
    return config


def load(configfiles: Iterable[str | Path] = (), overrides: dict | None = None) -> dict:
    """The config `snakemake --configfile FILES --config OVERRIDES` runs with: the Snakefile's
    workflow_config.yaml, then each of `configfiles` in order, then `overrides`, deep-merged by
    snakemake's own loader and merge; then validated (schema defaults filled)."""
    config: dict = {}
    for path in [WORKFLOW_CONFIG, *configfiles]:
        merge(config, read_file(path))  # strictly: file and line of a YAML error
    merge(config, overrides or {})
    return validate(config)


def selection(config: dict) -> dict:
    """The axes to run: the grid, narrowed by a named subset, then by `select`."""
    chosen = {axis: list(config["grid"][axis]) for axis in AXES}
    for narrowing in ((config.get("subsets") or {}).get(config.get("subset") or ""), config.get("select")):
        for axis in AXES:
            if axis in (narrowing or {}):
                chosen[axis] = list(narrowing[axis])
    return chosen


def shards(config: dict) -> dict[str, dict]:
    """The shards of a sharded sweep (shard_seeds; docs/sweeps.md): name -> {agents, seeds}
    of the selection, narrowed by no shard; {} when the grid is one DAG."""
    per_shard = config.get("shard_seeds")
    return grid.shards(selection(config), per_shard) if per_shard else {}


def cache_dirs(config: dict) -> dict[str, Path]:
    """The `cache:` paths ({results} filled in): hf_home and agent_hf_home. Relative ones stay
    relative to the workdir (rule params hold them: a moved checkout re-runs nothing); what
    hands one to a process absolutizes it at run time."""
    return {key: Path(value.format(results=config["results_dir"])) for key, value in config["cache"].items()}


def instruct_models(config: dict) -> list[str]:
    """Models with an official instruct variant (their instruct baselines are evaluated)."""
    return [name for name, entry in config["models"].items() if entry.get("instruct")]


def cell_config(config: dict, cell: Cell) -> dict:
    """The resolved config of one cell: what its manifest records and its rules depend on."""
    return {
        "cell": cell.as_dict(),
        "agent": config["agents"][cell.agent],
        "model": config["models"][cell.model],
        "benchmark": config["benchmarks"][cell.benchmark],
        "budget": config["budget"],
        "container": config["container"],
        "isolation": config["isolation"],
        # the credential proxy's settings: the price of every model (a CLI may use more than one)
        "prices": config["prices"],
        "provider_failures": config["provider_failures"],
    }


@dataclass(frozen=True)
class Sweep:
    """What the command-line tools look at, read off a loaded config as plain values."""

    results: str  # results_dir
    selection: dict  # axis -> names, as selection() resolves them
    cells: list[Cell]
    baselines: list[tuple[str, str, str]]  # (model, variant, benchmark)
    models: dict  # selected model -> its registry entry (base and instruct refs, display_name)


def sweep(config: dict) -> Sweep:
    chosen = selection(config)
    return Sweep(
        results=config["results_dir"],
        selection=chosen,
        cells=grid.cells(chosen),
        baselines=grid.baselines(chosen, instruct_models(config)),
        models={name: config["models"][name] for name in chosen["models"]},
    )
