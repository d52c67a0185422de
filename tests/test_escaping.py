"""Every Markdown and HTML pane of the dashboard is made by one helper that keeps user text inert
(the browser test `tests/e2e/test_injection_browser.py` walks the views with real payloads)."""
from __future__ import annotations

import re
from pathlib import Path

from dashboard.views.common import html_pane, literal, markdown_pane

DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"
PAYLOAD = '<img src=x onerror="alert(1)"><script>alert(2)</script><meta http-equiv="refresh" content="0">'


def _rendered(pane) -> str:
    import html

    return html.unescape(pane._transform_object(pane.object)["object"])


def test_no_view_makes_a_pane_of_its_own() -> None:
    direct = re.compile(r"pn\.pane\.(Markdown|HTML|Alert|Str)\(|\bpane\.(Markdown|HTML|Alert)\(")
    offenders = [f"{p.relative_to(DASHBOARD)}:{i}" for p in DASHBOARD.rglob("*.py") if p.name != "common.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1) if direct.search(line)]
    assert not offenders, offenders


def test_markdown_panes_show_raw_html_as_text() -> None:
    for pane in (markdown_pane(f"**Deleted** {PAYLOAD}"), markdown_pane(PAYLOAD, alert_type="danger"),
                 markdown_pane(f"{literal(PAYLOAD)} [x](javascript:alert(3))")):
        out = _rendered(pane)
        assert "<img" not in out and "<script" not in out and "<meta" not in out, out
        assert 'href="javascript' not in out
    assert "<strong>Deleted</strong>" in _rendered(markdown_pane(f"**Deleted** {PAYLOAD}"))


def test_html_panes_are_sanitized() -> None:
    out = _rendered(html_pane(f'<div class="bar" style="width:5%">{PAYLOAD}<iframe src="x"></iframe></div>'))
    assert 'class="bar"' in out and 'style="width:5%"' in out
    assert not any(bad in out for bad in ("onerror", "<script", "<meta", "<iframe")), out
