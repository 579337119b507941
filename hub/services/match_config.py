"""The match model in force, and storing new versions of it.

The active ``MatchModel`` row wins; without one, the configuration file (``MATCH_CONFIG_PATH``
or the one shipped in linkage/) is used. Settings may override both thresholds.
"""

import functools

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.dispatch import receiver
from django.utils import timezone

from hub.models import MatchModel
from hub.services.errors import Conflict, NotFound
from hub.services.events import event_record
from linkage.config import MatchConfig, load_config, parse_config


@functools.cache
def _file_config() -> MatchConfig:
    return load_config(settings.MATCH_CONFIG_PATH)


@functools.lru_cache(maxsize=8)
def _stored_config(version: str) -> MatchConfig:
    # A version's document never changes, so it is parsed once per process.
    return parse_config(MatchModel.objects.get(version=version).document)


@functools.lru_cache(maxsize=16)
def _config_in_force(version: str | None, review: float | None,
                     auto_link: float | None) -> MatchConfig:
    # Cached, so every call returns the same object: real-time matching caches its compiled
    # comparisons per configuration object, and an equal copy per call would miss every time.
    base = _stored_config(version) if version else _file_config()
    return base.with_thresholds(review=review, auto_link=auto_link)


ACTIVE_VERSION_SQL = (f"SELECT version FROM {MatchModel._meta.db_table} WHERE is_active "
                      "ORDER BY created_at DESC LIMIT 1")


def active_match_config() -> MatchConfig:
    """The configuration to match with now (one indexed query to learn the active version, so
    a model activated by another process is picked up at once)."""
    # A plain statement: this runs on every real-time upsert, where the ORM's own work
    # costs more than the indexed lookup. (Ingest reads the version with other facts in one
    # statement, ACTIVE_VERSION_SQL, and calls match_config_of.)
    with connection.cursor() as cursor:
        cursor.execute(ACTIVE_VERSION_SQL)
        row = cursor.fetchone()
    return match_config_of(row[0] if row else None)


def match_config_of(version: str | None) -> MatchConfig:
    """The configuration of an active model version (None: the configuration file), with the
    settings' threshold overrides."""
    return _config_in_force(version, settings.MATCH_REVIEW_THRESHOLD,
                            settings.MATCH_AUTO_LINK_THRESHOLD)


@transaction.atomic
def match_model_store(*, config: MatchConfig, report: dict, activate: bool = False,
                      actor=None) -> MatchModel:
    """Store a trained configuration as a new model version, and activate it if asked."""
    if MatchModel.objects.filter(version=config.version).exists():
        raise Conflict(f"model version {config.version} already exists")
    model = MatchModel.objects.create(version=config.version, document=config.to_dict(),
                                      report=report, created_by=_user(actor))
    event_record(kind="match_model.stored", actor=actor, payload={"model_id": model.pk})
    if activate:
        match_model_activate(version=model.version, actor=actor)
    return model


@transaction.atomic
def match_model_activate(*, version: str, actor=None) -> MatchModel:
    """Make ``version`` the model in force (the previous one is kept, inactive)."""
    model = MatchModel.objects.select_for_update().filter(version=version).first()
    if model is None:
        raise NotFound(f"no model version {version}")
    MatchModel.objects.filter(is_active=True).exclude(pk=model.pk).update(is_active=False)
    model.is_active, model.activated_at = True, timezone.now()
    model.save(update_fields=["is_active", "activated_at"])
    event_record(kind="match_model.activated", actor=actor, payload={"model_id": model.pk})
    return model


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


@receiver(setting_changed)
def _forget_config(*, setting, **kwargs):
    # Tests change the configuration path with override_settings; the cache must follow.
    if setting.startswith("MATCH_"):
        _file_config.cache_clear()
        _config_in_force.cache_clear()
