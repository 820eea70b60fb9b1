"""The audit pages' HTML building blocks: one page shell with a strict Content-Security-Policy,
escaping, links that can only point at relative paths or checked http(s) URLs, tables and
collapsible sections (<details>: no script anywhere).

The markup lives in jinja2 templates (templates/, autoescaped): blocks.html.j2 holds a macro per
block, which the functions here call. Everything shown comes from files an agent or a model could
have written: a plain string is escaped wherever it lands, only a block's own output (Markup) is
inserted as markup, and every href goes through `href`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape

from ptb.core import page_templates

CSS = """body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1300px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}
th,td{padding:3px 7px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f7f7f7;padding:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-word;
font-size:12px;max-height:40em;overflow-y:auto;margin:.3em 0}
details{margin:.3em 0}summary{cursor:pointer}nav{margin-bottom:1em;font-size:14px}
.ok,.clean,.passed{color:#17692c}.bad,.disqualified,.failed{color:#a4161a;font-weight:600}
.warn,.timeout,.agent_error,.timeout_no_model,.no_model,.eval_error,.judge_error,.infra_error{color:#a35d00}
.missing{color:#888}.muted{color:#666}.event{border-left:3px solid #ddd;padding-left:8px;margin:.4em 0}
.tool_call{border-color:#4a7bd0}.tool_result{border-color:#999}.error{border-color:#a4161a}
.text{border-color:#17692c}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}
dt{font-weight:600}dd{margin:0}code{font-size:12px}"""
CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
# nothing loads or runs but the one stylesheet above (by its hash) and images from this folder
CSP = (
    f"default-src 'none'; style-src 'sha256-{CSS_HASH}'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'"
)
TEXT_CLIP = 4000  # a value shown inline; longer ones collapse with head and tail kept
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

TEMPLATES = page_templates.environment("ptb.audit")
_BLOCKS = TEMPLATES.get_template("blocks.html.j2").module


def render(template: str, **context) -> Markup:
    """A template of templates/ rendered (autoescaped) as a block for another."""
    return Markup(TEMPLATES.get_template(template).render(**context))


def esc(value) -> Markup:
    return escape("" if value is None else str(value))


def join(parts, sep: str = "") -> Markup:
    """Blocks joined (a plain string among them is escaped): "".join would return a str that the
    next block would escape again."""
    return Markup(esc(sep)).join(parts)


def href(target: str) -> Markup | None:
    """An escaped href for a relative path or an http(s) URL with a host; None for anything
    else (javascript:, data:, file:, protocol-relative //host, backslash tricks)."""
    text = str(target).strip()
    if not text or any(ord(c) < 32 for c in text) or "\\" in text:
        return None
    if _SCHEME.match(text) or text.startswith("//"):
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return None
        return esc(text)
    return esc(quote(text, safe="/"))


def relative(target: str | Path, page: str | Path) -> str:
    """`target` as a path relative to the folder of `page` (links that work from file://)."""
    return os.path.relpath(os.path.abspath(target), os.path.dirname(os.path.abspath(page)))


def link(target: str, text, title: str | None = None) -> Markup:
    return _BLOCKS.link(href(target), text, title)


def pre(text) -> Markup:
    return _BLOCKS.pre(text)


def para(text, cls: str = "") -> Markup:
    """A paragraph: `text` escaped unless it is a block's output."""
    return _BLOCKS.para(text, cls)


def heading(level: int, text) -> Markup:
    return _BLOCKS.heading(level, text)


def bold(text) -> Markup:
    return _BLOCKS.bold(text)


def code(text) -> Markup:
    return _BLOCKS.code(text)


def muted(text) -> Markup:
    return _BLOCKS.muted_span(text)


def dl(items) -> Markup:
    """A definition list of (term, description) pairs."""
    return _BLOCKS.dl(list(items))


def br(items) -> Markup:
    """Items one per line."""
    return _BLOCKS.br(list(items))


def clipped(text, limit: int = TEXT_CLIP) -> Markup:
    """A long text as its head and tail, the whole in a collapsed section."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return pre(text)
    head, tail = text[: limit // 2], text[-limit // 4 :]
    return details(
        f"{len(text):,} characters (head and tail shown; open for all)",
        pre(f"{head}\n[... {len(text) - len(head) - len(tail):,} characters ...]\n{tail}"),
    ) + details("all of it", pre(text))


def details(summary, body, open_: bool = False, cls: str = "") -> Markup:
    """`summary` and `body` are escaped unless they are blocks."""
    return _BLOCKS.details(summary, body, open_, cls)


def table(head: list[str], rows: list[list], numeric: set[int] = frozenset()) -> Markup:
    """`rows`: cells of text (escaped) or blocks (link, status, ...)."""
    return _BLOCKS.table(head, rows, numeric)


def status(text, kind: str | None = None) -> Markup:
    """A word coloured by its class (outcome names, passed/failed)."""
    cls = re.sub(r"[^a-z_]", "", str(kind if kind is not None else text).lower())
    return _BLOCKS.status(text, cls)


def section(title, body) -> Markup:
    return _BLOCKS.section(title, body)


def event(label, body, cls: str) -> Markup:
    return _BLOCKS.event(label, body, cls)


def value(data, depth: int = 0) -> Markup:
    """Any JSON value, readably: a list of flat records as a table, a mapping as a definition
    list, long strings collapsed; everything escaped."""
    if isinstance(data, dict):
        if not data:
            return muted("(none)")
        return dl((k, value(v, depth + 1)) for k, v in data.items())
    if isinstance(data, list):
        if not data:
            return muted("(none)")
        if all(isinstance(r, dict) and not any(isinstance(v, dict | list) for v in r.values()) for r in data):
            keys = list(dict.fromkeys(k for r in data for k in r))
            return table(keys, [[value(r.get(k), depth + 1) for k in keys] for r in data])
        if all(not isinstance(v, dict | list) for v in data):
            return esc(", ".join(map(_scalar, data))) if depth else br(_scalar(v) for v in data)
        return _BLOCKS.ol([value(v, depth + 1) for v in data])
    if isinstance(data, str) and (len(data) > 200 or "\n" in data):
        return clipped(data)
    return esc(_scalar(data))


def _scalar(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if v is None or isinstance(v, bool):
        return json.dumps(v)
    return str(v)


def page(title: str, body, nav: list[tuple[str, str]] = ()) -> str:
    """A whole document: CSP, referrer policy, the stylesheet, a nav bar of (href, text) links."""
    return TEMPLATES.get_template("page.html.j2").render(
        title=title, body=body, nav=[link(target, text) for target, text in nav], csp=CSP, css=CSS
    )
