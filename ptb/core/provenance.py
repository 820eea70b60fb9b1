"""What a manifest records about the software that produced a result."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata

from ptb.core.paths import REPO_ROOT

PACKAGES = (
    "snakemake",
    "inspect-ai",
    "transformers",
    "torch",
    "trl",
    "peft",
    "datasets",
    "huggingface-hub",
    "pandas",
    "altair",
    "vllm",
)


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    return versions


def software() -> dict:
    return {"workflow_commit": git_commit(), "packages": package_versions()}
