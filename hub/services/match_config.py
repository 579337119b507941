"""The match configuration in force: the shipped (or configured) file plus threshold overrides."""

import functools

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from linkage.config import MatchConfig, load_config


@functools.cache
def active_match_config() -> MatchConfig:
    """Load the configuration once per process; settings may override both thresholds."""
    config = load_config(settings.MATCH_CONFIG_PATH)
    return config.with_thresholds(review=settings.MATCH_REVIEW_THRESHOLD,
                                  auto_link=settings.MATCH_AUTO_LINK_THRESHOLD)


@receiver(setting_changed)
def _forget_config(*, setting, **kwargs):
    # Tests change thresholds with override_settings; the cached config must follow.
    if setting.startswith("MATCH_"):
        active_match_config.cache_clear()
