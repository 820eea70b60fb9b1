"""Costs of snakemake's planning that say nothing for this workflow, removed.

Measured on the production grid's dry run (benchmarks/plan_grid.py --profile, snakemake 9.27):

- **Script checks.** Before it runs anything, snakemake checks that each planned job's
  `script:` is readable (snakemake.dag.ScriptProcessor), parsing the path as a URI through
  smart_open per job: about 0.4 ms, a sixth of a fresh plan. A path without wildcards names
  the same file for every job of its rule: it is checked once per rule here. A path with
  wildcards is still checked per job.
- **Script languages.** To tell a script's language, snakemake imports its notebook reader
  (nbformat, with traitlets and fastjsonschema: ~12 ms of every plan and every job) before it
  looks at the file's suffix. A `.py` script is Python without it; any other file as before.
- **Conda environments.** To list the conda environments a run needs, snakemake expands every
  job's params (its functions called, its strings filled) before it asks whether the rule has
  a conda env at all (snakemake.jobs.Job.conda_env_spec): about a sixth of a 10x grid's plan.
  No rule here has one: a job of a rule without `conda:` answers None without its params.
  A rule with `conda:` is answered as before.
- **The config file parsed twice.** Before snakemake reads workflow_config.yaml (its
  `configfile:`), the Snakefile reads it strictly (ptb.core.config.check_files: a duplicated
  key or a YAML error names the file and line). Snakemake's loader then parsed it again with
  PyYAML's pure-Python parser, ~25 ms of every plan. It now takes that parse (a copy) for a file
  checked and unchanged since; any other file (a yte template included) is loaded as before.
- **Function signatures.** Before it calls an input function, a params function or a resource
  (threads, tmpdir), snakemake asks which arguments it takes: inspect.signature, per call, five
  to six times per job (about 4% of the production plan, timed in turn with and without). A
  plain function's or a method's parameters do not change once it is defined: each is read
  once per function here (held weakly: a function gone is forgotten). Any other callable (a
  partial, a callable object, a function whose parameters were overwritten through snakemake's
  own attribute) as before.
- **Constant resources.** To expand a job's resources, snakemake passes each through its input
  function machinery (a Wildcards object built, the arguments matched), the threads of every
  job included, and a constant's evaluation is the constant itself. A resource without a
  function is taken as it is here; one with a function is evaluated as before.

- **Flag checks.** snakemake asks whether a file is temp, pipe, in storage and so on through
  is_flagged, an isinstance check against an abstract base class (a Python-level
  __instancecheck__): about 3 million calls in a 10x plan, most of them on plain strings. A
  plain str has no flags, and snakemake's own annotated strings and files answer for themselves:
  those are told by their exact type here. Any other value (a subclass, a class registered as
  annotated) as before.
- **Common prefixes.** The index from output paths to the rules that make them narrows its
  prefix with a letter-by-letter loop in Python, ~200,000 times in a 10x plan. It is found by
  halving here (string comparisons), with the loop's answer: the prefix before the first
  difference, or the shorter string less its last letter where none differs. These two: about
  3% of a plan (production 2.78 -> 2.71 s CPU, 10x 14.21 -> 13.78 s, timed in turn with and
  without).
- **The cyclic garbage collector.** Python's collector scans every object it tracks (the
  engine's and the workflow's modules, classes and functions, then the plan's own files and
  jobs) again and again while the plan grows: a sixth of a production plan, a fifth of a 10x
  one, and more at each full scan as the heap grows (including the one at exit). The objects
  that live for the whole process (what is loaded when the Snakefile installs this) are frozen
  out of the scans (gc.freeze, after one collection, so no garbage is kept), and a scan starts
  every 50,000 new objects instead of 700 (a full one after 2,000 young ones, not 100): cycles
  made while planning and running are still collected. Set once per process. Over a run of
  4,000 local jobs (benchmarks/scheduler_run.py, with the rest) the scheduler spends 114 s CPU,
  not 136, peaks at 220 MB, not 228, and leaves about 3,400 objects of garbage to the end.

Each is the engine's own behaviour, unchanged, minus work whose answer is known; all wrap the
pinned snakemake's internals (requirements.txt). `install` returns the names of what it could
not wrap (a snakemake whose internals moved): tests/workflow/test_planning.py fails then, so
that an upgrade is looked at rather than silently slower.
"""

from __future__ import annotations

import copy
import gc
import inspect
import sys
import types
import weakref

from ptb.core import config as ptb_config

# what install() has wrapped: (owner, name)
_WRAPPED: set[tuple[object, str]] = set()


def _wrap(owner, name: str, wrap, expect=callable) -> bool:
    """owner.name replaced by wrap(what it was), once; False where owner has no such name (or
    not of the kind `expect` tells)."""
    original = getattr(owner, name, None)
    if original is None or not expect(original):
        return False
    if (owner, name) not in _WRAPPED:
        setattr(owner, name, wrap(original))
        _WRAPPED.add((owner, name))
    return True


def _script_checked_once_per_rule(check):
    def process_job(self, job):
        entry = getattr(job.rule, self.script_type, None)
        if entry is None or "{" in str(entry):
            return check(self, job)
        checked = self.__dict__.setdefault("ptb_rules_checked", set())
        if job.rule.name not in checked:
            check(self, job)
            checked.add(job.rule.name)

    return process_job


def _python_scripts_known_without_notebook_reader(language_of):
    def get_language(source_file, source):
        if source_file.get_filename().endswith(".py"):
            return "python"
        return language_of(source_file, source)

    return get_language


def _no_params_for_rules_without_conda(spec):
    def conda_env_spec(self):
        if getattr(self.rule, "_conda_env", True) is None:  # the rule has no `conda:`
            return None
        return spec.fget(self)

    return property(conda_env_spec)


def _config_files_parsed_once(load):
    def load_configfile(configpath):
        checked = ptb_config.checked(configpath)
        if checked is None or "__use_yte__" in checked:  # a yte template: snakemake renders it
            return load(configpath)
        return copy.deepcopy(checked)

    return load_configfile


def _signatures_read_once(read, overwrite_attr: str):
    functions = weakref.WeakKeyDictionary()  # a function -> its parameters
    methods = weakref.WeakKeyDictionary()  # a method's function -> the method's parameters

    def get_function_params(func):
        if hasattr(func, overwrite_attr):
            return getattr(func, overwrite_attr)
        if isinstance(func, types.MethodType) and isinstance(func.__func__, types.FunctionType):
            known, key = methods, func.__func__
        elif isinstance(func, types.FunctionType):
            known, key = functions, func
        else:
            return read(func)
        params = known.get(key)
        if params is None:
            params = known[key] = inspect.signature(func).parameters
        return params

    _rebound("get_function_params", read, get_function_params)  # rules, jobs, ioutils took it
    return get_function_params


def _rebound(name: str, original, replacement) -> None:
    """Each loaded snakemake module that took `name` from its home (`from ... import name`) takes
    the replacement too."""
    for module in list(sys.modules.values()):
        if str(getattr(module, "__name__", "")).startswith("snakemake.") and (
            getattr(module, name, None) is original
        ):
            setattr(module, name, replacement)


def _constant_resources_taken_as_they_are(apply, evaluate):
    def apply_input_function(self, func, *args, **kwargs):
        if getattr(func, "__func__", None) is evaluate and getattr(func.__self__, "_evaluator", True) is None:
            return func.__self__, False  # Resource.evaluate of a constant: itself, complete
        return apply(self, func, *args, **kwargs)

    return apply_input_function


def _flags_read_by_type(is_flagged, annotated: tuple[type, ...]):
    def is_flagged_by_type(value, flag):
        kind = type(value)
        if kind is str:  # a plain path: no flags
            return False
        if kind in annotated:  # snakemake's own annotated strings and files
            return value.is_flagged(flag)
        return is_flagged(value, flag)

    is_flagged_by_type.__wrapped__ = is_flagged
    _rebound("is_flagged", is_flagged, is_flagged_by_type)  # dag, jobs, rules, io.fmt took it
    return is_flagged_by_type


def _annotated_types(io) -> tuple[type, ...] | None:
    """snakemake's own annotated strings and files; None where a plain str counts as annotated
    (registered as such: is_flagged is left as it is)."""
    from snakemake_interface_common.io import AnnotatedStringInterface  # noqa: PLC0415

    if issubclass(str, AnnotatedStringInterface):
        return None
    return tuple(
        kind
        for kind in (getattr(io, "_IOFile", None), getattr(io, "AnnotatedString", None))
        if isinstance(kind, type) and issubclass(kind, AnnotatedStringInterface)
    )


def _common_prefix_by_halving(common_prefix):
    def _common_prefix(self, s1, s2):
        if not s1 or not s2:
            return common_prefix(self, s1, s2)
        # the prefix before the first difference, looked for in the shorter string less its last
        # letter: where they do not differ, that is the answer (as snakemake's loop gives it)
        same, other = 0, min(len(s1), len(s2))  # s1[:same] == s2[:same]; differ, or the shorter
        while other - same > 1:
            half = (same + other) // 2
            if s1[:half] == s2[:half]:
                same = half
            else:
                other = half
        return s1[:same]

    _common_prefix.__wrapped__ = common_prefix
    return _common_prefix


# the cyclic collector's thresholds while planning (and running): a young scan every this many
# new objects, a middle one every 20 young ones, a full one every 100 middle ones (and only when
# the heap grew by a quarter since the last: CPython's own rule); Python's are (700, 10, 10)
COLLECTOR_THRESHOLDS = (50_000, 20, 100)


def _collect_less() -> bool:
    """Freeze what is loaded now (it lives for the whole process) out of the collector's scans,
    and scan less often; once per process."""
    if gc.get_threshold() != COLLECTOR_THRESHOLDS:
        gc.collect()  # garbage now is freed, not frozen
        gc.freeze()
        gc.set_threshold(*COLLECTOR_THRESHOLDS)
    return True


def install() -> list[str]:
    """Wrap each; the names of those this snakemake has no place for (empty: all in place)."""
    # snakemake.api first: it imports dag and jobs in the order they need (circular imports)
    import snakemake.api  # noqa: F401, PLC0415 (only where snakemake plans)
    from snakemake import common, dag, io, jobs, resources, rules, script  # noqa: PLC0415
    from snakemake.common import configfile, prefix_lookup  # noqa: PLC0415

    overwrite_attr = getattr(common, "FUNC_OVERWRITE_PARAMS_ATTR", None)
    evaluate = getattr(getattr(resources, "Resource", None), "evaluate", None)
    annotated = _annotated_types(io)
    in_place = {
        "script check once per rule": _wrap(
            getattr(dag, "ScriptProcessor", None), "process_job", _script_checked_once_per_rule
        ),
        "python scripts known without the notebook reader": _wrap(
            script, "get_language", _python_scripts_known_without_notebook_reader
        ),
        "no params for conda-less rules": _wrap(
            getattr(jobs, "Job", None),
            "conda_env_spec",
            _no_params_for_rules_without_conda,
            expect=lambda spec: isinstance(spec, property),
        ),
        "config files parsed once": _wrap(configfile, "load_configfile", _config_files_parsed_once),
        "signatures read once": overwrite_attr is not None
        and _wrap(common, "get_function_params", lambda read: _signatures_read_once(read, overwrite_attr)),
        "constant resources taken as they are": evaluate is not None
        and _wrap(
            getattr(rules, "Rule", None),
            "apply_input_function",
            lambda apply: _constant_resources_taken_as_they_are(apply, evaluate),
        ),
        "flags read by type": annotated is not None
        and _wrap(io, "is_flagged", lambda check: _flags_read_by_type(check, annotated)),
        "common prefixes found by halving": _wrap(
            getattr(prefix_lookup, "PrefixLookup", None), "_common_prefix", _common_prefix_by_halving
        ),
        "the collector scans less": _collect_less(),
    }
    return [name for name, placed in in_place.items() if not placed]
