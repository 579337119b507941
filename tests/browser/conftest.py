"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Chromium is required, not optional: if it is missing or cannot start, these tests fail (CI
installs it in ``.ci/run``). Screenshots go to ``screenshots/`` at the repository root.
"""

import importlib
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission, User

# Playwright's sync API runs an event loop in this thread, which makes Django refuse database
# calls from the test body as "async-unsafe"; the test body never runs concurrently with it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
PASSWORD = "browser-test-password"  # noqa: S105 - a throwaway test login


def chromium_path() -> str:
    """Debian's Chromium (``playwright install`` is not used: its downloads are not allowed)."""
    found = shutil.which("chromium") or ("/usr/bin/chromium"
                                         if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        pytest.fail("Chromium is not installed: apt-get install -y chromium", pytrace=False)
    return found


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
        instance = playwright.chromium.launch(executable_path=chromium_path(),
                                              args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under screenshots/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def steward_groups() -> dict[str, list[str]]:
    """The groups and permission codenames exactly as migration 0005 defines them."""
    return importlib.import_module("hub.migrations.0005_steward_workbench").GROUPS


def staff_user(username: str, group_name: str) -> User:
    """A staff login in one of the groups migration 0005 creates.

    A flush between live-server tests can empty the groups table; a missing group is then
    rebuilt from the migration's own table, so the tests still check the permissions the
    migration really grants.
    """
    group = Group.objects.filter(name=group_name).first()
    if group is None:
        group = Group.objects.create(name=group_name)
        group.permissions.set(Permission.objects.filter(
            content_type__app_label="hub", codename__in=steward_groups()[group_name]))
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(group)
    return user


@pytest.fixture
def login(live_server):
    """Log in through the admin's login form, then open ``path``."""

    def log_in(page, username: str, path: str = "/admin/workbench/"):
        page.goto(f"{live_server.url}/admin/login/?next={path}")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"**{path}")
        return page

    return log_in
