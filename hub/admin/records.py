"""Read-only admin views of the registry: entities, source records, review tasks, events.

Writes to records, links and entities go through services, so these admins are read-only; the
steward workbench (review queue, decisions) builds on this site.
"""

from django.contrib import admin

from hub.models import Entity, Event, Link, ReviewTask, SourceRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows without letting the admin bypass the services that own the writes."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LinkInline(admin.TabularInline):
    model = Link
    fk_name = "entity"
    fields = ("source_record", "origin", "outcome", "score", "created_at", "ended_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Entity)
class EntityAdmin(ReadOnlyAdmin):
    list_display = ("golden_id", "state", "merged_into", "version", "updated_at")
    list_filter = ("state",)
    search_fields = ("golden_id",)
    inlines = [LinkInline]


@admin.register(SourceRecord)
class SourceRecordAdmin(ReadOnlyAdmin):
    list_display = ("id", "source", "source_key", "state", "entity", "source_version",
                    "updated_at")
    list_filter = ("state", "source")
    search_fields = ("source_key", "entity__golden_id")
    list_select_related = ("source",)


@admin.register(ReviewTask)
class ReviewTaskAdmin(ReadOnlyAdmin):
    list_display = ("id", "source_record", "candidate_entity", "reason", "score", "state",
                    "created_at")
    list_filter = ("state", "reason")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "entity_id", "source_record_id", "actor", "created_at")
    list_filter = ("kind",)
    search_fields = ("entity_id",)
