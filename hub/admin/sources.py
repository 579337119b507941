"""Admin for source systems: their connector configuration and privacy policy."""

from django.contrib import admin

from hub.models import SourceSystem


@admin.register(SourceSystem)
class SourceSystemAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "trust_rank", "is_active", "created_at")
    search_fields = ("code", "name")
