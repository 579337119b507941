"""The hub's models, one module per concept (DESIGN.md section 2)."""

from hub.models.blocking import BlockingKey
from hub.models.decisions import Decision
from hub.models.entities import Entity, new_golden_id
from hub.models.events import AppendOnlyError, Event
from hub.models.links import Link
from hub.models.match_models import MatchModel
from hub.models.privacy import PrivacyRequest, PrivacyStep
from hub.models.records import SourceRecord
from hub.models.review import ReviewTask
from hub.models.sources import SourceSystem
from hub.models.suppression import SuppressionEntry

__all__ = [
    "AppendOnlyError",
    "BlockingKey",
    "Decision",
    "Entity",
    "Event",
    "Link",
    "MatchModel",
    "ReviewTask",
    "SourceRecord",
    "SourceSystem",
    "new_golden_id",
    "PrivacyRequest",
    "PrivacyStep",
    "SuppressionEntry",
]
