"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against live_server, with
axe-core (from npm) auditing every page a test's ``page`` visits (tests/e2e/a11y.py).

Outside CI a missing browser or axe-core skips these tests with the reason; in CI (CI=true) it fails them.
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.e2e import a11y

# Playwright's sync API runs an event loop in this thread; the ORM calls in the tests are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Pictures go to a temporary folder; `make screenshots` sets SCREENSHOTS_DIR=docs/screenshots to refresh
# the README's pictures (so a test run never rewrites tracked files).
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "stepped-care-screenshots")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing():
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return a11y.missing()


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if reason and not IN_CI:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    reason = _missing()
    if reason:
        if IN_CI:
            pytest.fail(f"Browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings, monkeypatch, request):
    """A fresh browser page; cookies work over plain http on the test server. Every page it visits is
    audited by axe-core, and the test fails at its end if any had a violation."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 1000}, locale="en-GB", timezone_id="Europe/London"
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    request.node.a11y_audit = a11y.install(monkeypatch, page)
    yield page
    leave_quietly(context)
    context.close()


def leave_quietly(context):
    """Leave every open page and let the server answer what leaving sends (the session form's draft
    goes by sendBeacon on pagehide) before the test database is flushed: a request that arrives during
    the flush deadlocks it on PostgreSQL."""
    if not context.pages:
        return
    for open_page in context.pages:
        open_page.close()  # fires pagehide, as closing the tab does
    time.sleep(0.5)


@pytest.fixture
def audit(page, request):
    """The page's accessibility audit: ``audit.check()`` audits what a script changed on the current page."""
    return request.node.a11y_audit


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a test that passed: the page it ended on is audited too, then 0 violations on every page."""
    result = yield
    audit = getattr(item, "a11y_audit", None)
    if audit is not None:
        audit.assert_no_violations()
    return result


@pytest.fixture
def sign_in(page, password):
    """Sign in through the real login form as ``user``."""

    def go(user):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    return go


@pytest.fixture
def screenshot(page):
    """Save a screenshot (NAME.png in SCREENSHOTS; `make screenshots` writes the README's docs/screenshots)."""

    def shoot(name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return shoot
