"""Admin pages of privacy requests: find the subject, open a request, follow and act on it.

Every button calls a service (``hub.services.privacy``); an action the request's state does not
allow shows the service's message instead of doing anything. Steps and the suppression list
are read-only: only the services write them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from hub.admin.records import ReadOnlyAdmin
from hub.models import PrivacyRequest, PrivacyStep, ReviewTask, SuppressionEntry
from hub.services import privacy as services
from hub.services.errors import Conflict, InvalidInput, NotFound
from hub.services.privacy_search import privacy_subject_search
from hub.services.privacy_suppression_review import (
    suppressed_record_discard,
    suppressed_record_release,
)
from linkage.attributes import CANONICAL_ATTRIBUTES


class SubjectSearchForm(forms.Form):
    """A golden ID, or what the person told us about themselves."""

    golden_id = forms.CharField(required=False, max_length=17)
    given_name = forms.CharField(required=False)
    family_name = forms.CharField(required=False)
    birth_date = forms.CharField(required=False, help_text="YYYY-MM-DD")
    email = forms.CharField(required=False)
    phone = forms.CharField(required=False)
    postcode = forms.CharField(required=False)
    national_id = forms.CharField(required=False)

    def attributes(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items()
                if name in CANONICAL_ATTRIBUTES and value}


class PrivacyStepInline(admin.TabularInline):
    model = PrivacyStep
    fields = ("source", "state", "skip_reason", "skip_detail", "attempts", "next_attempt_at",
              "retry_until", "rows_affected", "last_error", "finished_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


ACTIONS = {
    # action: (service, form fields it takes from the POST)
    "verify": (services.privacy_request_verify, ("method", "golden_id")),
    "approve": (services.privacy_request_approve, ()),
    "reject": (services.privacy_request_reject, ("reason",)),
    "cancel": (services.privacy_request_cancel, ("reason",)),
    "extend": (services.privacy_request_extend, ("months", "reason")),
    "run": (services.privacy_request_run, ()),
    "retry": (services.privacy_request_retry_failed, ()),
}


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(admin.ModelAdmin):
    """Requests with their audit trail and steps; actions are buttons on the request page."""

    list_display = ("id", "kind", "state", "subject", "received_at", "due_at", "is_overdue",
                    "received_by", "approved_by")
    list_filter = ("kind", "state")
    search_fields = ("subject__golden_id", "reference")
    date_hierarchy = "received_at"
    inlines = [PrivacyStepInline]
    change_form_template = "privacy/admin_request.html"
    readonly_fields = [f.name for f in PrivacyRequest._meta.fields
                       if f.name not in ("export_bundle", "export_token")] + ["export_link"]
    exclude = ("export_bundle", "export_token")

    @admin.display(boolean=True, description="overdue")
    def is_overdue(self, obj):
        open_states = (*services.OPEN_STATES,)
        return obj.state in open_states and obj.due_at < timezone.now()

    @admin.display(description="export link")
    def export_link(self, obj):
        if not obj.export_token or obj.export_bundle is None:
            return "-"
        return f"/api/privacy-requests/exports/{obj.export_token} (until {obj.export_expires_at})"

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("hub.change_privacyrequest")

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail of a request is kept

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("search/", view(self.search_view), name="hub_privacyrequest_search"),
            path("<int:request_id>/act/<str:action>/", view(self.act_view),
                 name="hub_privacyrequest_act"),
            path("suppressed/", view(self.suppressed_view), name="hub_privacyrequest_suppressed"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        # A request starts from finding its subject, so "add" opens the search page.
        return redirect("admin:hub_privacyrequest_search")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"privacy_actions": ACTIONS, "verification_methods":
                 PrivacyRequest.VerificationMethod.choices, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)

    def search_view(self, request):
        """Find candidate entities, then open an export or erasure request for one of them.

        The search is a POST (with its CSRF token), never a GET: what the person told us
        (name, e-mail, phone) must not end up in URLs, browser history or access logs. Query
        parameters are ignored. The forms that open a request post ``kind``.
        """
        if not request.user.has_perm("hub.add_privacyrequest"):
            raise PermissionDenied
        searching = request.method == "POST" and request.POST.get("action") == "search"
        if request.method == "POST" and not searching:
            try:
                created = services.privacy_request_receive(
                    kind=request.POST.get("kind", ""), golden_id=request.POST.get("golden_id", ""),
                    reference=request.POST.get("reference", ""), actor=request.user)
            except (InvalidInput, Conflict, NotFound) as error:
                self.message_user(request, _describe(error), messages.ERROR)
                return redirect("admin:hub_privacyrequest_search")
            self.message_user(request, f"Privacy request {created.pk} received.")
            return redirect("admin:hub_privacyrequest_change", created.pk)
        form = SubjectSearchForm(request.POST if searching else None)
        candidates, problem = [], ""
        if form.is_bound and form.is_valid():
            try:
                candidates = privacy_subject_search(
                    golden_id=form.cleaned_data["golden_id"], attributes=form.attributes())
            except (InvalidInput, NotFound) as error:
                problem = _describe(error)
        context = {**self.admin_site.each_context(request), "title": "Find the data subject",
                   "form": form, "candidates": candidates, "problem": problem,
                   "opts": self.model._meta, "kinds": PrivacyRequest.Kind.choices}
        return TemplateResponse(request, "privacy/admin_search.html", context)

    def suppressed_view(self, request):
        """Records held because they matched the suppression list: discard or release each."""
        if not request.user.has_perm("hub.change_privacyrequest"):
            raise PermissionDenied
        if request.method == "POST":
            answer = {"discard": suppressed_record_discard,
                      "release": suppressed_record_release}.get(request.POST.get("answer"))
            task_id = request.POST.get("task_id", "")
            if answer is not None and task_id.isdigit():
                try:
                    answer(task_id=int(task_id), actor=request.user)
                    self.message_user(request, f"Review task {task_id}: done.")
                except (Conflict, NotFound) as error:
                    self.message_user(request, _describe(error), messages.ERROR)
            return redirect("admin:hub_privacyrequest_suppressed")
        tasks = (ReviewTask.objects.filter(reason=ReviewTask.Reason.SUPPRESSED,
                                           state=ReviewTask.State.OPEN)
                 .select_related("source_record__source").order_by("created_at"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": "Records held by the suppression list", "tasks": tasks}
        return TemplateResponse(request, "privacy/admin_suppressed.html", context)

    def act_view(self, request, request_id, action):
        """One state transition from a button on the request page (POST only)."""
        get_object_or_404(PrivacyRequest, pk=request_id)
        if request.method != "POST" or action not in ACTIONS:
            return redirect("admin:hub_privacyrequest_change", request_id)
        if not request.user.has_perm("hub.change_privacyrequest"):
            raise PermissionDenied
        service, fields = ACTIONS[action]
        arguments = {name: request.POST.get(name, "") for name in fields}
        if "months" in arguments:
            arguments["months"] = int(arguments["months"]) if arguments["months"].isdigit() else 0
        try:
            service(request_id=request_id, actor=request.user, **arguments)
        except (InvalidInput, Conflict, NotFound, PermissionDenied) as error:
            self.message_user(request, _describe(error), messages.ERROR)
        else:
            self.message_user(request, f"{action}: done.")
        return redirect(reverse("admin:hub_privacyrequest_change", args=[request_id]))


def _describe(error: Exception) -> str:
    if isinstance(error, InvalidInput):
        return "; ".join(f"{field}: {', '.join(map(str, reasons))}"
                         for field, reasons in error.errors.items())
    return str(error) or type(error).__name__


@admin.register(SuppressionEntry)
class SuppressionEntryAdmin(ReadOnlyAdmin):
    """The suppression list: which kinds of identifier of which erased golden ID, hashed."""

    list_display = ("id", "kind", "golden_id", "request", "created_at")
    list_filter = ("kind",)
    search_fields = ("golden_id",)
