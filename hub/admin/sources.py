"""Admin for source systems: their connector configuration and privacy policy.

The form runs the same validation as ``source_configure`` and shows each problem on its field;
saving goes through that service, so the admin cannot store what the service would refuse.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from connectors import registry
from connectors.base import ConfigurationError
from hub.models import SourceSystem
from hub.services.connections import NoConnector, source_connector
from hub.services.errors import InvalidInput
from hub.services.sources import source_configure, source_problems

SERVICE_FIELDS = ("code", "name", "trust_rank", "is_active", "connector_kind",
                  "connector_settings", "field_mapping", "erase_policy", "legal_basis",
                  "purposes", "data_categories", "recipients")
# An empty JSON box means "nothing", not null.
_EMPTY = {"connector_settings": dict, "field_mapping": dict, "purposes": list,
          "data_categories": list, "recipients": list}


def service_values(cleaned: dict, code: str) -> dict:
    """The form's cleaned data as ``source_configure`` arguments."""
    values = {name: cleaned.get(name) for name in SERVICE_FIELDS}
    for name, empty in _EMPTY.items():
        if values[name] is None or values[name] == "":
            values[name] = empty()
    values["code"] = code
    values["connector_kind"] = values["connector_kind"] or ""
    values["legal_basis"] = values["legal_basis"] or ""
    return values


def declared_settings_help() -> str:
    """Each connector kind's own settings as HTML help: name, required / secret, meaning."""

    def describe(setting):
        flags = [flag for flag, on in (("required", setting.required),
                                       ("secret: name of an environment variable",
                                        setting.secret)) if on]
        if setting.default not in (None, ""):
            flags.append(f"default {setting.default}")
        return (setting.name, f" ({', '.join(flags)})" if flags else "",
                f" - {setting.help}" if setting.help else "")

    parts = []
    for kind in registry.kinds():
        rows = format_html_join("", "<li><code>{}</code>{}{}</li>",
                                (describe(s) for s in registry.connector_class(kind)
                                 .settings_schema))
        parts.append(format_html("<details><summary>{} settings</summary><ul>{}</ul></details>",
                                 kind, rows))
    intro = format_html("{}", "A JSON object of the kind's settings. The field mapping and "
                              "erase policy have fields of their own.")
    return intro + format_html_join("", "{}", ((part,) for part in parts))


class SourceSystemForm(forms.ModelForm):
    """Connector kind, settings, mapping and policy, checked as ``source_configure`` checks."""

    connector_kind = forms.ChoiceField(required=False)

    class Meta:
        model = SourceSystem
        fields = SERVICE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector_kind"].choices = (
            [("", "none (records are pushed through the API)")]
            + [(kind, kind) for kind in registry.kinds()])
        self.fields["connector_settings"].help_text = declared_settings_help()
        self.fields["field_mapping"].help_text = (
            'A JSON object: source field name -> canonical key attribute, e.g. '
            '{"first_name": "given_name", "surname": "family_name"}.')
        for name in ("purposes", "data_categories", "recipients"):
            self.fields[name].help_text = 'A JSON list of texts, e.g. ["billing"].'

    def clean(self):
        cleaned = super().clean()
        if any(name in self.errors for name in SERVICE_FIELDS):
            return cleaned  # the field's own error says it; the service would only repeat it
        code = self.instance.code if self.instance.pk else cleaned.get("code")
        values = service_values(cleaned, code)
        values.pop("is_active")
        problems = source_problems(**values)
        for field, reasons in problems.items():
            self.add_problem(field, reasons)
        return cleaned

    def add_problem(self, field: str, reasons: list[str]) -> None:
        """Show a service problem on its form field (``connector_settings.x`` on the settings)."""
        target, _, setting = field.partition(".")
        if target not in self.fields or target not in self.cleaned_data:
            target = None
        for reason in reasons:
            self.add_error(target, f"{setting}: {reason}" if setting else reason)


@admin.register(SourceSystem)
class SourceSystemAdmin(admin.ModelAdmin):
    """Source systems; adding or changing one goes through ``source_configure``."""

    form = SourceSystemForm
    list_display = ("code", "name", "connector_kind", "erase_policy", "trust_rank", "is_active",
                    "last_synced_at")
    list_filter = ("connector_kind", "erase_policy", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("sync_cursor", "last_synced_at", "created_at", "updated_at")
    actions = ["check_health"]
    fieldsets = (
        (None, {"fields": ("code", "name", "trust_rank", "is_active")}),
        ("Connector", {"fields": ("connector_kind", "connector_settings", "field_mapping")}),
        ("Privacy policy", {"fields": ("erase_policy", "legal_basis", "purposes",
                                       "data_categories", "recipients")}),
        ("Sync", {"fields": ("sync_cursor", "last_synced_at", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # The code is the source's identity in the API and in source_configure: not renamed.
        return self.readonly_fields + (("code",) if obj else ())

    def has_delete_permission(self, request, obj=None):
        return False  # records reference their source; deactivate it instead

    def save_model(self, request, obj, form, change):
        try:
            source, _ = source_configure(**service_values(form.cleaned_data, obj.code),
                                         actor=request.user)
        except InvalidInput as error:  # a concurrent change; the form checked the same rules
            raise ValueError(f"source configuration refused: {sorted(error.errors)}") from None
        obj.pk = source.pk
        obj.refresh_from_db()

    @admin.action(description="Check health of the selected sources")
    def check_health(self, request, queryset):
        for source in queryset:
            try:
                result = source_connector(source).health()
            except NoConnector:
                self.message_user(request, f"{source.code}: no connector configured",
                                  messages.WARNING)
                continue
            except ConfigurationError as error:
                self.message_user(request, f"{source.code}: misconfigured: {error}",
                                  messages.ERROR)
                continue
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(request, f"{source.code}: {'ok' if result.ok else 'failing'} "
                                       f"({result.detail}, {result.elapsed_ms:.0f} ms)", level)
