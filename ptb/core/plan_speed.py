"""Costs of snakemake's planning that say nothing for this workflow, removed.

Measured on the production grid's dry run (benchmarks/plan_grid.py --profile, snakemake 9.27):

- **Script checks.** Before it runs anything, snakemake checks that each planned job's
  `script:` is readable (snakemake.dag.ScriptProcessor), parsing the path as a URI through
  smart_open per job: about 0.4 ms, a sixth of a fresh plan. A path without wildcards names
  the same file for every job of its rule: it is checked once per rule here. A path with
  wildcards is still checked per job.
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

Each is the engine's own behaviour, unchanged, minus work whose answer is known; all wrap the
pinned snakemake's internals (requirements.txt). `install` returns the names of what it could
not wrap (a snakemake whose internals moved): tests/workflow/test_planning.py fails then, so
that an upgrade is looked at rather than silently slower.
"""

from __future__ import annotations

import copy

from ptb.core import config as ptb_config


def _script_checked_once_per_rule(dag) -> bool:
    processor = getattr(dag, "ScriptProcessor", None)
    check = getattr(processor, "process_job", None)
    if check is None:
        return False
    if getattr(check, "ptb_speedup", False):
        return True

    def process_job(self, job):
        entry = getattr(job.rule, self.script_type, None)
        if entry is None or "{" in str(entry):
            return check(self, job)
        checked = self.__dict__.setdefault("ptb_rules_checked", set())
        if job.rule.name not in checked:
            check(self, job)
            checked.add(job.rule.name)

    process_job.ptb_speedup = True
    processor.process_job = process_job
    return True


def _no_params_for_rules_without_conda(jobs) -> bool:
    job_class = getattr(jobs, "Job", None)
    spec = getattr(job_class, "conda_env_spec", None)
    if not isinstance(spec, property):
        return False
    if getattr(spec.fget, "ptb_speedup", False):
        return True

    def conda_env_spec(self):
        if getattr(self.rule, "_conda_env", True) is None:  # the rule has no `conda:`
            return None
        return spec.fget(self)

    conda_env_spec.ptb_speedup = True
    job_class.conda_env_spec = property(conda_env_spec)
    return True


def _config_files_parsed_once(configfile) -> bool:
    load = getattr(configfile, "load_configfile", None)
    if load is None:
        return False
    if getattr(load, "ptb_speedup", False):
        return True

    def load_configfile(configpath):
        checked = ptb_config.checked(configpath)
        if checked is None or "__use_yte__" in checked:  # a yte template: snakemake renders it
            return load(configpath)
        return copy.deepcopy(checked)

    load_configfile.ptb_speedup = True
    configfile.load_configfile = load_configfile
    return True


def install() -> list[str]:
    """Wrap each; the names of those this snakemake has no place for (empty: all in place)."""
    # snakemake.api first: it imports dag and jobs in the order they need (circular imports)
    import snakemake.api  # noqa: F401, PLC0415 (only where snakemake plans)
    from snakemake import dag, jobs  # noqa: PLC0415
    from snakemake.common import configfile  # noqa: PLC0415

    missing = []
    if not _script_checked_once_per_rule(dag):
        missing.append("script check once per rule")
    if not _no_params_for_rules_without_conda(jobs):
        missing.append("no params for conda-less rules")
    if not _config_files_parsed_once(configfile):
        missing.append("config files parsed once")
    return missing
