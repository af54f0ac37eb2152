"""Run axe-core in a Playwright page and fail on its serious and critical findings.

axe-core is vendored under tests/vendor/axe-core for the tests only (the app never serves it):
Playwright injects it into the page as it stands, so it judges what a user's browser renders,
after htmx and the page's own scripts have run.

The app's Content-Security-Policy (`script-src 'self'`) refuses the inline <script> that
Playwright's `page.add_script_tag(path=...)` writes: the page would log a CSP violation (which the
browser tests count as a page problem) and axe would never load. So the same file is evaluated
through the DevTools protocol instead, which no page policy governs, and the page stays untouched
apart from the `axe` global.
"""

from pathlib import Path

AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA: what the portal promises.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = ("serious", "critical")
_AXE_SOURCE = None


def _axe_source():
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        _AXE_SOURCE = AXE_JS.read_text(encoding="utf-8")
    return _AXE_SOURCE


def axe_violations(page, tags=WCAG_TAGS):
    """Every violation axe finds in the page as it is now, as axe reports them."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source() + "\n;true")
    result = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary})),
            }));
        }""",
        tags,
    )
    return result


def describe(violations):
    """The violations as lines a failing test prints: rule, impact, help, then each node."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            selector = " ".join(
                " >> ".join(part) if isinstance(part, list) else part for part in node["target"]
            )
            summary = (node["summary"] or "").replace("\n", " ")
            lines.append(f"    {selector}: {summary}")
    return "\n".join(lines)


def assert_accessible(page, name):
    """Fail when axe finds a serious or critical WCAG 2.0/2.1 A/AA violation in the page.

    `name` says which page it was (the message names it, since one test may check several).
    Moderate and minor findings are left out: they are advice, not barriers.
    """
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (
        f"{name} ({page.url}) has {len(blocking)} serious or critical accessibility "
        f"violation(s):\n{describe(blocking)}"
    )
