"""Audit pages (ptb.audit): what a researcher reads after a sweep, checked as text and in a real
browser (headless Chromium over the DevTools protocol: tests/audit/browser.py).

The browser tests skip without chromium, and fail instead when PTB_REQUIRE_CHROMIUM=1 (.ci/run).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import audit_tree
import browser
import pytest
from inspect_ai.log import read_eval_log
from markupsafe import Markup

from ptb.audit import evallog, html
from ptb.core import io

SCREENSHOTS = os.environ.get("PTB_AUDIT_SCREENSHOTS")  # keep the screenshots in this folder


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("audit")
    return audit_tree.build(root / "results", root / "scratch")


@pytest.fixture(scope="module")
def chromium():
    binary = browser.executable()
    if binary is None:
        if os.environ.get("PTB_REQUIRE_CHROMIUM") == "1":
            pytest.fail("PTB_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH (apt-get install chromium); PTB_REQUIRE_CHROMIUM=1 makes this fail")
    driver = browser.Browser(binary)
    yield driver
    driver.close()


def url(path) -> str:
    return Path(path).resolve().as_uri()


# --- escaping and links, on the HTML text --------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "//evil.example/x",
        "http:evil",
        "vbscript:x",
        "\\\\evil\\share",
    ],
)
def test_unsafe_links_render_as_text(target):
    assert html.href(target) is None
    assert "<a " not in html.link(target, "x")


def test_safe_links_are_relative_paths_or_http_urls():
    assert html.href("../runs/a b/trace.md") == "../runs/a%20b/trace.md"
    assert html.href("https://example.org/x?a=1&b=2") == "https://example.org/x?a=1&amp;b=2"
    assert html.href('x"onclick="y') == "x%22onclick%3D%22y"


def test_hostile_text_never_becomes_markup(tree):
    for page in [*tree["pages"], tree["agent_page"], tree["leaderboard"]]:
        text = Path(page).read_text()
        assert "<script" not in text and "onerror=" not in text.replace("onerror=&#34;", "")
        assert not re.search(r"<[^>]+\son\w+\s*=", text), page  # no event handler attribute anywhere
        assert 'href="javascript' not in text.lower()
    cell = Path(tree["pages"][0]).read_text()
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in cell  # shown, escaped


def test_a_secret_value_never_reaches_the_page_whatever_the_finding_carries(tree):
    cell = Path(tree["pages"][0]).read_text()
    assert "SHOULD-NEVER-SHOW" not in cell
    assert "ANTHROPIC_API_KEY" in cell and ">1234<" in cell  # the variable and the offset are shown


def test_the_csp_allows_the_stylesheet_by_hash_and_nothing_else():
    assert "script-src" not in html.CSP and "default-src 'none'" in html.CSP and "unsafe" not in html.CSP
    assert f"'sha256-{html.CSS_HASH}'" in html.CSP
    assert f'content="{html.esc(html.CSP)}"' in html.page("t", "<p>x</p>")


def test_samples_match_inspects_own_reader(tree):
    """The zip reader (no inspect import per page) agrees with inspect_ai.log.read_eval_log."""
    log_file = io.read_json(tree["cells"][0]["metrics"])["log_file"]
    ours = evallog.read_samples(log_file)
    theirs = read_eval_log(log_file)
    assert ours["status"] == theirs.status and ours["task"] == theirs.eval.task
    expected = [
        (str(s.id), s.epoch, s.target, name, score.value, score.answer, s.output.completion)
        for s in sorted(theirs.samples, key=lambda s: (str(s.id), s.epoch))
        for name, score in s.scores.items()
    ]
    got = [
        (str(r["id"]), r["epoch"], r["target"], r["scorer"], r["value"], r["answer"], r["completion"])
        for r in ours["rows"]
    ]
    assert got == expected and len(got) == 3


def test_the_cell_page_shows_the_canonical_model_or_why_it_was_refused(tree):
    pages = [Path(p).read_text() for p in tree["pages"]]
    assert sum("d" * 64 in page for page in pages) == len(pages) - 1, "the served tensors' digest"
    assert sum("lm_head unlike the embeddings" in page for page in pages) == 1
    assert all("model.json (the canonical model)" in page for page in pages)


def test_the_cell_summary_counts_a_disqualified_run_as_the_base_model(tree):
    summary = io.read_json(tree["summaries"][0])
    assert summary["outcome"] == "disqualified"
    assert summary["score"] == 0.1 and summary["own_score"] == pytest.approx(1 / 3)
    assert summary["tool_calls"] == 3 and summary["cost_usd"] is not None


# --- in the browser ------------------------------------------------------------------------


def shot(driver, name: str, tmp_path: Path) -> Path:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    driver.screenshot(path)
    assert path.stat().st_size > 5000  # a rendered page, not an empty canvas
    return path


def test_leaderboard_to_agent_to_cell_and_back(tree, chromium, tmp_path):
    b = chromium
    b.goto(url(tree["leaderboard"]))
    assert b.evaluate("document.title") == "PostTrainBench leaderboard"
    shot(b, "leaderboard", tmp_path)
    b.click("table a")  # the agent's name in its row
    assert b.url() == url(tree["agent_page"])
    assert b.evaluate("document.querySelector('h1').textContent") == "Claude <X> (claude-x)"
    cells = b.evaluate(
        "[...document.querySelectorAll('table')[0].querySelectorAll('td')].map(t => t.innerText)"
    )
    assert cells[0] == "tiny-qwen3" and "seed 1: 10.0" in cells[1] and "disqualified" in cells[1]
    shot(b, "agent", tmp_path)
    b.click("a[href$='seed1.html']")
    assert b.url() == url(tree["pages"][0])
    headings = b.evaluate("[...document.querySelectorAll('h3')].map(h => h.innerText)")
    assert headings == [
        "tamper: failed",
        "contamination: failed",
        "model_identity: passed",
        "secrets: failed",
    ]
    # per-sample rows as rendered: item, target, answer, correct mark
    rows = b.evaluate(
        "[...document.querySelectorAll('h2')].find(h => h.innerText === 'Evaluation')"
        ".nextElementSibling.nextElementSibling.nextElementSibling.querySelectorAll('tr').length"
    )
    assert rows == 4  # header + 3 samples
    shot(b, "cell", tmp_path)
    # the raw files are real links that resolve from file://
    raw = b.evaluate("[...document.querySelectorAll('p a')].map(a => [a.innerText, a.href])")
    targets = {text: href for text, href in raw}
    for name in ("agent.json", "verdict.json", "metrics.json", "agent.log (raw trace)", "the .eval log"):
        assert Path(targets[name].removeprefix("file://")).exists(), name
    b.back()
    assert b.url() == url(tree["agent_page"])
    b.click("nav a")
    assert b.url() == url(tree["leaderboard"])


def test_no_script_runs_in_the_pages(tree, chromium):
    """The trace, the model's output and the findings carry <script>, onerror= and javascript:
    links; if any ran it would change the title. The browser sees no script element at all."""
    b = chromium
    for page in [*tree["pages"], tree["agent_page"], tree["leaderboard"]]:
        b.goto(url(page))
        b.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")  # render everything
        title = b.evaluate("document.title")
        assert "pwned" not in title
        assert b.evaluate("document.scripts.length") == 0
        assert b.evaluate("document.querySelectorAll('[onerror],[onclick],[onload]').length") == 0
        hrefs = b.evaluate("[...document.querySelectorAll('a')].map(a => a.href)")
        assert all(h.startswith(("file://", "http://", "https://")) for h in hrefs), hrefs
    b.goto(url(tree["pages"][0]))
    body = b.evaluate("document.body.innerText")
    assert "<script>document.title='pwned'</script>" in body  # shown as text, for the auditor


def test_the_csp_blocks_a_script_that_slipped_through(tmp_path, chromium):
    """Defence in depth: were escaping ever missed (hostile text passed on as markup), the page's
    policy still refuses inline script."""
    page = tmp_path / "leak.html"
    slipped = Markup("<script>document.title='pwned'</script><img src=x onerror=\"document.title='x'\">")
    page.write_text(html.page("safe", slipped))
    chromium.goto(url(page))
    assert chromium.evaluate("document.title") == "safe"
    assert any("Content Security Policy" in m for m in chromium.messages())


def test_a_run_without_a_key_says_so_instead_of_scanning_for_nothing():
    from ptb.audit import findings  # noqa: PLC0415

    text = findings._secrets({"files_scanned": 0, "secrets": []}, {})
    assert "No secret to look for" in text and "files scanned for ." not in text
    assert "12 files scanned for ANTHROPIC_API_KEY." in findings._secrets(
        {"files_scanned": 12, "secrets": ["ANTHROPIC_API_KEY"]}, {}
    )


HTML_TEXT = "<script>alert(1)</script> R&D \"quoted\" 'single'"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; R&amp;D &#34;quoted&#34; &#39;single&#39;"


def test_every_page_escapes_text_once_and_keeps_the_markup_it_builds(tmp_path):
    """Text from any input (an agent's display name, a benchmark's, a finding's summary, a trace
    line, a reason, a leaderboard row) is escaped exactly once on every page; the links, marks and
    sections the pages build on purpose stay markup (autoescaping must not escape them again)."""
    from ptb.audit import findings, pages, trace_view  # noqa: PLC0415
    from ptb.leaderboard import leaderboard  # noqa: PLC0415

    summary = {"model": "m", "benchmark": "gsm8k", "seed": 1, "score": 0.5, "own_score": 0.5}
    summary.update(outcome="ok", wall_seconds=3600, cost_usd=None, tokens=None, reason=HTML_TEXT)
    agent = pages.agent_page(
        "a", HTML_TEXT, {"gsm8k": HTML_TEXT}, [(summary, str(tmp_path / "cells" / "a b.html"))],
        tmp_path / "agents" / "a.html", str(tmp_path / "leaderboard.html"),
    )  # fmt: skip
    check = {"name": "tamper", "passed": False, "summary": HTML_TEXT, "evidence": {"note": HTML_TEXT}}
    verdict = findings.verdict_section({"outcome": "disqualified", "checks": [check]}, {})
    raw_log = tmp_path / "agent.log"
    raw_log.write_text(f"step 1\n{HTML_TEXT}\n")
    trace, _ = trace_view.render("no-parser-scaffold", raw_log)
    board = leaderboard.Page(
        head=["Rank", "Agent"], body=[["1", HTML_TEXT]], baseline=[False],
        links=[leaderboard.agent_page_href("a&b")], footer=[f"`weights` {HTML_TEXT}"],
        sections=[(HTML_TEXT, (["x"], [[HTML_TEXT]]))],
    )  # fmt: skip
    for text in (agent, str(verdict), str(trace), leaderboard.to_html(board, {})):
        assert "<script" not in text and "&amp;amp;" not in text and "&amp;lt;" not in text
        assert ESCAPED in text
    # the markup built on purpose: links, outcome marks, sections, collapsed blocks
    assert '<a href="../cells/a%20b.html">seed 1: 50.0</a> <span class="ok">ok</span>' in agent
    assert '<h3>tamper: <span class="bad">failed</span></h3>' in str(verdict)
    assert "<details><summary>all evidence</summary><dl><dt>note</dt>" in str(verdict)
    assert f"<pre>step 1\n{ESCAPED}\n</pre>" in str(trace)
    assert '<a href="agents/a%26b.html">' + ESCAPED + "</a>" in leaderboard.to_html(board, {})


def test_a_display_name_with_markup_is_text_on_the_leaderboard_and_agent_page(tree):
    for page in (tree["leaderboard"], tree["agent_page"]):
        text = Path(page).read_text()
        assert "Claude &lt;X&gt;" in text and "Claude <X>" not in text


def test_a_template_edit_reruns_the_pages(tmp_path, monkeypatch):
    """The rules' code hashes (ptb.core.code_hash) cover the templates: an edited one re-renders."""
    from ptb.core import code_hash  # noqa: PLC0415

    template = tmp_path / "ptb" / "audit" / "templates" / "page.html.j2"
    template.parent.mkdir(parents=True)
    template.write_text("<p>{{ x }}</p>")
    monkeypatch.setattr(code_hash, "REPO_ROOT", tmp_path)
    try:  # a process hashes a path once (each planning is a new process): cleared around the edit
        code_hash.source_hash.cache_clear()
        before = code_hash.source_hash("ptb/audit")
        template.write_text("<p>{{ x }}!</p>")
        code_hash.source_hash.cache_clear()
        assert code_hash.source_hash("ptb/audit") != before
    finally:
        code_hash.source_hash.cache_clear()
