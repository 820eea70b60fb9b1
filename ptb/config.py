"""Loading and validating the workflow config, with errors that name the bad key."""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml
from snakemake.common.configfile import load_configfile
from snakemake.utils import update_config
from snakemake_interface_common.exceptions import WorkflowError

from ptb import grid, tasks
from ptb.grid import AXES, Cell
from ptb.paths import REPO_ROOT

SCHEMA_PATH = REPO_ROOT / "schemas" / "config.schema.yaml"


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
    if error.validator == "propertyNames" or error.validator == "not":  # a key the workflow reserves
        return f"config key {where!r}: {error.instance!r} is set by the workflow and cannot be configured"
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


def validate(config: dict) -> dict:
    """Validate in place against the schema and the registries; return the config."""
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    _coerce_cli_strings(config, validator)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise ConfigError(_describe(best))
    _check_references(config)
    unpinned = unpinned_models(config)
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
    # only what will run must exist on disk; a registry may list tasks not in this sweep
    chosen = selection(config)
    for bench in chosen["benchmarks"]:
        if not (REPO_ROOT / "tasks" / bench / "task.yaml").exists():
            raise ConfigError(f"config key 'benchmarks.{bench}': no task folder tasks/{bench}/task.yaml")
    _check_context_length(config, chosen["benchmarks"])
    for name in chosen["agents"] + list((calibration or {}).get("expected", {})):
        agent = config["agents"][name]
        if not (REPO_ROOT / "agents" / agent["scaffold"] / "solve.sh").exists():
            raise ConfigError(
                f"config key 'agents.{name}.scaffold' = {agent['scaffold']!r}: "
                f"no agents/{agent['scaffold']}/solve.sh"
            )


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


COMMIT = re.compile(r"^[0-9a-f]{40}$")


def unpinned_models(config: dict) -> list[str]:
    """Hub models whose revision is a branch or tag rather than a commit."""
    return [
        f"models.{name}.{variant} ({ref['hf_id']}@{ref.get('revision')})"
        for name, entry in config["models"].items()
        for variant in ("base", "instruct")
        if (ref := entry.get(variant))
        and ref["source"] == "hub"
        and not COMMIT.match(ref.get("revision") or "")
    ]


WORKFLOW_CONFIG = REPO_ROOT / "workflow_config.yaml"  # the Snakefile's `configfile:`


def load(configfiles: Iterable[str | Path] = (), overrides: dict | None = None) -> dict:
    """The config `snakemake --configfile FILES --config OVERRIDES` runs with: the Snakefile's
    workflow_config.yaml, then each of `configfiles` in order, then `overrides`, deep-merged by
    snakemake's own loader and merge; then validated (schema defaults filled)."""
    config: dict = {}
    for path in [WORKFLOW_CONFIG, *configfiles]:
        try:
            update_config(config, load_configfile(str(path)))
        except (WorkflowError, OSError) as error:  # snakemake's loader lets a missing file's OSError out
            raise ConfigError(f"config file {path}: {error}") from None
    update_config(config, overrides or {})
    return validate(config)


def selection(config: dict) -> dict:
    """The axes to run: the grid, narrowed by a named subset, then by `select`."""
    chosen = {axis: list(config["grid"][axis]) for axis in AXES}
    for narrowing in ((config.get("subsets") or {}).get(config.get("subset") or ""), config.get("select")):
        for axis, values in (narrowing or {}).items():
            chosen[axis] = list(values)
    return chosen


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
        "container": config.get("container", "none"),
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
