"""The judge's verdict on a cell page: the decision, then each check with its evidence.

Every check renders generically (its evidence as tables and lists, whatever keys the judge
writes); four get a view of their own on top: contamination (the matched test items and the
files that matched), model identity (the distances to the base model and to each disallowed
model), tamper (each changed handed-out file with a diff against the original, where the
repository still holds the original) and secrets (file, offset, variable and encoding; never
a value: only those fields are shown, whatever else an entry carries).
"""

from __future__ import annotations

import difflib
from pathlib import Path

from markupsafe import Markup

from ptb.audit.html import (
    details,
    esc,
    heading,
    join,
    link,
    para,
    pre,
    relative,
    section,
    status,
    table,
    value,
)
from ptb.core import io
from ptb.core.paths import REPO_ROOT

DIFF_LINES = 400
SECRET_FIELDS = ("file", "offset", "variable", "encoding")


def _contamination(ev: dict, ctx: dict) -> Markup:
    files = ev.get("matching_files") or []
    rows = [[_job_link(f.get("file", ""), ctx), _text(f.get("items"))] for f in files]
    parts = [
        para(
            f"{_text(ev.get('copied_items'))} test item(s) copied, {_text(ev.get('matched_items'))} of "
            f"{_text(ev.get('test_items'))} share a {_text(ev.get('ngram'))}-gram; largest share of one "
            f"item's n-grams found: {_text(ev.get('largest_share'))}."
        )
    ]
    if rows:
        parts.append(heading(4, "Files that matched") + table(["file", "test items matched"], rows, {1}))
    snippets = ev.get("matched_snippets") or []
    if snippets:
        parts.append(heading(4, "Matched test items") + join(pre(s) for s in snippets))
    return join(parts)


def _text(value) -> str:
    """A value as the pages print it inline (None as empty)."""
    return "" if value is None else str(value)


def _model_identity(ev: dict, ctx: dict) -> Markup:
    rows = [["base model", _text(ev.get("distance_to_base")), "", "", "", "", f"≤ {ev.get('max_distance')}"]]
    for name, ref in (ev.get("disallowed") or {}).items():
        ref = ref if isinstance(ref, dict) else {"distance": ref}
        band = ev.get("ambiguous_band") or ["", ""]
        rows.append(
            [name]
            + [_text(ref.get(k)) for k in ("distance", "position", "merge_floor", "collinear_share", "score")]
            + [f"flag ≥ {band[0]}, disqualify ≥ {band[-1]}"]
        )
    head = [
        "compared with",
        "relative distance",
        "position",
        "merge floor",
        "collinear share",
        "score",
        "threshold",
    ]
    skipped = ev.get("skipped") or {}
    note = para(f"not compared: {skipped}", "muted") if skipped else ""
    return table(head, rows, {1, 2, 3, 4}) + note


def _original(rel: str, ctx: dict) -> Path | None:
    """The handed-out original of a job-dir file, if the repository still holds that exact file."""
    expected = (ctx.get("handout") or {}).get(rel)
    candidate = REPO_ROOT / "tasks" / str(ctx.get("benchmark")) / rel
    if expected and candidate.is_file() and io.sha256_file(candidate) == expected:
        return candidate
    return None


def _diff(rel: str, ctx: dict) -> Markup:
    changed = Path(ctx["run_dir"]) / "job" / rel
    original = _original(rel, ctx)
    if original is None:
        digest = (ctx.get("handout") or {}).get(rel)
        return para(f"{rel}: original (sha256 {digest}) not in the repository", "muted")
    if changed.is_symlink() or not changed.is_file():
        return para(f"{rel}: replaced by a link or not a file any more")
    lines = list(
        difflib.unified_diff(
            original.read_text(errors="replace").splitlines(),
            changed.read_text(errors="replace").splitlines(),
            f"handed out: {rel}",
            f"job dir: {rel}",
            lineterm="",
        )
    )
    shown = "\n".join(lines[:DIFF_LINES]) + (
        f"\n[... {len(lines) - DIFF_LINES} more lines]" if len(lines) > DIFF_LINES else ""
    )
    return details(f"diff of {rel} ({len(lines)} lines)", pre(shown), open_=True)


def _tamper(ev: dict, ctx: dict) -> Markup:
    modified, missing = ev.get("modified") or [], ev.get("missing") or []
    parts = [para(f"{_text(ev.get('checked'))} handed-out files checked.")]
    if missing:
        parts.append(para(f"missing: {', '.join(map(str, missing))}"))
    parts += [_diff(str(rel), ctx) for rel in modified]
    return join(parts)


def _secrets(ev: dict, ctx: dict) -> Markup:
    names = ", ".join(ev.get("secrets") or [])
    scanned = (
        f"{_text(ev.get('files_scanned'))} files scanned for {names}."
        if names
        else ("No secret to look for: this agent was given no key.")
    )
    parts = [para(scanned)]
    for key, title in (("redacted", "Redacted by the runner"), ("leaks", "Found in the run's files")):
        entries = [e for e in ev.get(key) or [] if isinstance(e, dict)]
        if entries:
            fields = [f for f in SECRET_FIELDS if any(f in e for e in entries)]
            rows = [[_text(e.get(f)) for f in fields] for e in entries]
            parts.append(heading(4, title) + table(fields, rows))
    return join(parts)


VIEWS = {
    "contamination": _contamination,
    "model_identity": _model_identity,
    "tamper": _tamper,
    "secrets": _secrets,
}
HIDDEN = {"secrets": {"redacted", "leaks"}}  # the view shows these, field by field


def _job_link(label_path: str, ctx: dict) -> Markup:
    """A finding's 'job/<rel>' as a link into the run's job dir (other roots: plain text)."""
    label, _, rel = str(label_path).partition("/")
    if label == "job" and rel and ctx.get("page"):
        return link(relative(Path(ctx["run_dir"]) / "job" / rel, ctx["page"]), label_path)
    return esc(label_path)


def check_section(check: dict, ctx: dict) -> Markup:
    name = str(check.get("name", "?"))
    evidence = check.get("evidence") if isinstance(check.get("evidence"), dict) else {}
    verdict = "error" if "error" in check else ("passed" if check.get("passed") else "failed")
    view = VIEWS.get(name)
    special = view(evidence, ctx) if view else esc("")
    rest = {k: v for k, v in evidence.items() if k not in HIDDEN.get(name, set())}
    extra = {k: v for k, v in check.items() if k not in ("name", "passed", "summary", "evidence")}
    body = (
        para(_text(check.get("summary")))
        + special
        + details("all evidence", value({**rest, **extra}), open_=not special)
    )
    mark = status(verdict, "ok" if verdict == "passed" else "bad")
    return section(esc(name) + ": " + mark, body)


def verdict_section(verdict: dict | None, ctx: dict) -> Markup:
    if verdict is None:
        return para("no verdict.json yet", "missing")
    facts = {
        k: verdict.get(k)
        for k in ("outcome", "disqualified", "reasons", "review", "judge_version")
        if k in verdict
    }
    checks = [c for c in verdict.get("checks") or [] if isinstance(c, dict)]
    known = {"outcome", "disqualified", "reasons", "review", "judge_version", "checks"}
    other = {k: v for k, v in verdict.items() if k not in known}
    return (
        value(facts)
        + join(check_section(c, ctx) for c in checks)
        + (details("other fields", value(other)) if other else "")
    )
