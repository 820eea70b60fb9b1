"""The jinja2 environment of a package's HTML templates (the leaderboard's, the audit pages'): the
templates ship in the package (pyproject: package-data), every value is autoescaped, and only a
block the code marked as markup (markupsafe.Markup) goes in as is."""

from __future__ import annotations

import jinja2


def environment(package: str) -> jinja2.Environment:
    """package: a ptb package with a templates/ folder (e.g. "ptb.audit")."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
