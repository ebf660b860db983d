"""axe-core on every page the browser journeys visit (WCAG 2.2 AA), asserted at 0 violations.

axe-core comes from npm (package.json; `make install` runs `npm ci` into node_modules/), never from a CDN
or a committed copy. Its script is evaluated in the page through the DevTools protocol, which our
content security policy does not see (an injected <script> tag would be refused, rightly).

How every page is reached: while a test runs, the Playwright calls that act on the test's page (goto,
back, reload, wait_for_url, and clicking, typing, choosing on the page or a locator, the keyboard) audit
the current document before and after they act. A document is audited once, when it has loaded; an
action that navigates waits for the new document to commit, so the page it opens is audited before the
test goes on. The violations of every page are collected, and the test fails at its end listing each
page with each rule, the elements (targets) and axe's summary of what to fix. `audit.check()` audits
a state a script produced (an alert shown, an error summary) on the current document again.
"""

from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Keyboard, Locator, Page

AXE_PATH = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe has no wcag22a tag: 2.2's new A criteria are not automatable).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

RUN_AXE = """async (tags) => {
  window.__a11yAudited = true;
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return {
    url: location.pathname + location.search,
    title: document.title,
    violations: results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.map(String).join(" "),
        summary: (n.failureSummary || "").replace(/\\s+/g, " ").trim(),
      })),
    })),
  };
}"""

# Calls that act on the page; each audits the current document before and after it acts.
PAGE_ACTIONS = [
    "goto",
    "go_back",
    "go_forward",
    "reload",
    "wait_for_url",
    "click",
    "dblclick",
    "tap",
    "fill",
    "type",
    "press",
    "check",
    "uncheck",
    "set_checked",
    "select_option",
    "set_input_files",
    "focus",
    "hover",
    "dispatch_event",
    "emulate_media",
]
LOCATOR_ACTIONS = [
    "click",
    "dblclick",
    "tap",
    "fill",
    "clear",
    "type",
    "press",
    "press_sequentially",
    "check",
    "uncheck",
    "set_checked",
    "select_option",
    "set_input_files",
    "focus",
    "blur",
    "hover",
    "dispatch_event",
]
KEYBOARD_ACTIONS = ["press", "type", "insert_text", "down", "up"]


# What Playwright says when the document under audit went away (a navigation began meanwhile).
NAVIGATED = ("context was destroyed", "navigat", "Cannot find context", "detached")


def missing():
    """Why axe-core cannot run here, or None."""
    if not AXE_PATH.exists():
        return f"axe-core is not installed at {AXE_PATH} (run `make install`: it runs `npm ci`)"
    return None


class Audit:
    """The accessibility audit of one test's page: which documents were audited and what axe found."""

    def __init__(self, page):
        self.page = page
        self.source = AXE_PATH.read_text(encoding="utf-8")
        self.pages = []  # every audited document: {"url", "title", "violations"}
        self.busy = False

    def check(self, again=True):
        """Audit the current document (``again=False``: only if it has not been audited yet)."""
        if self.busy or self.page.is_closed():
            return
        self.busy = True
        try:
            for _attempt in range(5):
                try:
                    self.page.wait_for_load_state("load")
                    if not self.page.url.startswith("http"):
                        return  # about:blank before the first page
                    if not again and self.page.evaluate("() => window.__a11yAudited === true"):
                        return
                    if self.page.evaluate("() => typeof window.axe !== 'object'"):
                        self.page.evaluate(self.source)
                    self.pages.append(self.page.evaluate(RUN_AXE, TAGS))
                    return
                except PlaywrightError as error:
                    # The page navigated while it was being audited: audit the new one.
                    if not any(sign in str(error) for sign in NAVIGATED):
                        raise
            raise AssertionError(f"axe-core could not audit {self.page.url}: it kept navigating")
        finally:
            self.busy = False

    def pending(self):
        self.check(again=False)

    @property
    def failures(self):
        return [p for p in self.pages if p["violations"]]

    def report(self):
        lines = [
            f"axe-core ({', '.join(TAGS)}) found violations on {len(self.failures)} of {len(self.pages)} pages audited:"
        ]
        for page in self.failures:
            lines.append(f"\n{page['url']}  ({page['title']})")
            for violation in page["violations"]:
                lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}")
                # Elements failing the same way (same colours, same missing name) are listed together.
                by_summary = {}
                for node in violation["nodes"]:
                    by_summary.setdefault(node["summary"], []).append(node["target"])
                for summary, targets in by_summary.items():
                    more = f" (and {len(targets) - 6} more)" if len(targets) > 6 else ""
                    lines.append(f"    - {' | '.join(targets[:6])}{more}\n      {summary}")
        return "\n".join(lines)

    def assert_no_violations(self):
        self.pending()  # the page the test ended on
        assert self.pages, "no page was audited"
        if self.failures:
            raise AssertionError(self.report())


def _hooked(method, audit_of):
    def action(self, *args, **kwargs):
        audit = audit_of(self)
        if audit is None:
            return method(self, *args, **kwargs)
        audit.pending()
        result = method(self, *args, **kwargs)
        audit.pending()
        return result

    action.__name__ = method.__name__
    action.__doc__ = method.__doc__
    return action


def install(monkeypatch, page):
    """Audit ``page`` through every action taken on it during this test (undone by monkeypatch)."""
    audit = Audit(page)
    keyboard = page.keyboard

    def page_audit(obj):
        return audit if obj is page else None

    def locator_audit(obj):
        return audit if obj.page is page else None

    def keyboard_audit(obj):
        return audit if obj is keyboard else None

    for cls, names, audit_of in (
        (Page, PAGE_ACTIONS, page_audit),
        (Locator, LOCATOR_ACTIONS, locator_audit),
        (Keyboard, KEYBOARD_ACTIONS, keyboard_audit),
    ):
        for name in names:
            monkeypatch.setattr(cls, name, _hooked(getattr(cls, name), audit_of))
    return audit
