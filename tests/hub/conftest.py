"""Fixtures shared by the hub's test modules (pytest finds them here by name)."""

from tests.hub.test_privacy_support import (  # noqa: F401
    officer,
    privacy_settings,
    servers,
    subject,
)
