"""API of privacy requests: ``/api/privacy-requests/`` (open, follow, act on) and the export
download link. Views parse, call a service or selector, render; state errors answer 409."""

from __future__ import annotations

from django.http import HttpResponse
from django.template.loader import render_to_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.models import PrivacyRequest
from hub.services import privacy as services
from hub.services.errors import NotFound
from hub.services.privacy_export import ExportExpired, privacy_export_download
from hub.services.privacy_search import privacy_subject_search
from linkage.attributes import CANONICAL_ATTRIBUTES


class PrivacyOfficerAccess(BasePermission):
    """Reading needs ``view_privacyrequest``; acting needs ``change_privacyrequest`` (approving
    an erasure is checked by the service: ``approve_privacyrequest``)."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        needed = "view" if request.method in ("GET", "HEAD", "OPTIONS") else "change"
        return user.has_perm(f"hub.{needed}_privacyrequest")


class StepSerializer(serializers.Serializer):
    """One source's part of a request: state, attempts, schedule and answer (counts only)."""

    source = serializers.CharField(source="source.code")
    state = serializers.CharField()
    skip_reason = serializers.CharField()
    skip_detail = serializers.CharField(help_text="The legal basis of a legal hold.")
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    retry_until = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    records = serializers.SerializerMethodField()
    rows_affected = serializers.IntegerField()
    last_error = serializers.CharField(help_text="A short code, never data.")

    def get_records(self, step) -> int:
        return len(step.targets)


class PrivacyRequestSerializer(serializers.Serializer):
    """A request with its audit trail (who and when) and its steps."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    state = serializers.CharField()
    golden_id = serializers.CharField(source="subject_id", allow_null=True)
    reference = serializers.CharField()
    received_at = serializers.DateTimeField()
    received_by = serializers.CharField(source="received_by.username", default=None)
    due_at = serializers.DateTimeField()
    extension_months = serializers.IntegerField()
    extension_reason = serializers.CharField()
    verified_at = serializers.DateTimeField(allow_null=True)
    verified_by = serializers.CharField(source="verified_by.username", default=None)
    verification_method = serializers.CharField()
    approved_at = serializers.DateTimeField(allow_null=True)
    approved_by = serializers.CharField(source="approved_by.username", default=None)
    closed_at = serializers.DateTimeField(allow_null=True)
    close_reason = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    hub_erasure = serializers.JSONField(help_text="Counts of what the hub removed.")
    export_url = serializers.SerializerMethodField()
    export_expires_at = serializers.DateTimeField(allow_null=True)
    steps = StepSerializer(many=True, source="steps.all")

    def get_export_url(self, request_row) -> str | None:
        if not request_row.export_token or request_row.export_bundle is None:
            return None
        path = f"/api/privacy-requests/exports/{request_row.export_token}"
        http_request = self.context.get("request")
        return http_request.build_absolute_uri(path) if http_request else path


class ReceiveSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PrivacyRequest.Kind.values)
    golden_id = serializers.CharField(required=False, allow_blank=True, default="")
    reference = serializers.CharField(required=False, allow_blank=True, default="",
                                      max_length=100)


class VerifySerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=PrivacyRequest.VerificationMethod.values)
    golden_id = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ExtendSerializer(serializers.Serializer):
    months = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class SearchSerializer(serializers.Serializer):
    """A golden ID, or any identifying key attributes of the person."""

    golden_id = serializers.CharField(required=False, allow_blank=True, default="")
    attributes = serializers.DictField(child=serializers.CharField(allow_blank=True),
                                       required=False, default=dict)

    def validate_attributes(self, value):
        unknown = sorted(set(value) - set(CANONICAL_ATTRIBUTES))
        if unknown:
            raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
        return value


class CandidateSerializer(serializers.Serializer):
    golden_id = serializers.CharField()
    state = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    band = serializers.CharField()
    sources = serializers.ListField(child=serializers.CharField())
    record_count = serializers.IntegerField()
    matched_on = serializers.ListField(child=serializers.CharField())


def _request_answer(http_request, request_id, code=status.HTTP_200_OK) -> Response:
    row = PrivacyRequest.objects.filter(pk=request_id).select_related(
        "received_by", "verified_by", "approved_by").first()
    if row is None:
        raise NotFound("no such privacy request")
    return Response(PrivacyRequestSerializer(row, context={"request": http_request}).data,
                    status=code)


class PrivacyRequestListView(APIView):
    """``/api/privacy-requests/``: list requests (filter by ``state``, ``kind``) or open one."""

    permission_classes = [PrivacyOfficerAccess]

    @extend_schema(parameters=[OpenApiParameter("state", str), OpenApiParameter("kind", str)],
                   responses={200: PrivacyRequestSerializer(many=True)})
    def get(self, request):
        rows = PrivacyRequest.objects.select_related("received_by", "verified_by",
                                                     "approved_by")
        for name in ("state", "kind"):
            if request.query_params.get(name):
                rows = rows.filter(**{name: request.query_params[name]})
        return Response(PrivacyRequestSerializer(rows[:500], many=True,
                                                 context={"request": request}).data)

    @extend_schema(request=ReceiveSerializer, responses={201: PrivacyRequestSerializer})
    def post(self, request):
        body = ReceiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = services.privacy_request_receive(actor=request.user, **body.validated_data)
        return _request_answer(request, created.pk, status.HTTP_201_CREATED)


class PrivacyRequestView(APIView):
    """``/api/privacy-requests/{id}``: a request with its audit trail and steps."""

    permission_classes = [PrivacyOfficerAccess]

    @extend_schema(responses={200: PrivacyRequestSerializer})
    def get(self, request, request_id):
        return _request_answer(request, request_id)


def _action_view(name: str, body_serializer, call, summary: str):
    """A POST view for one state transition: parse the body, call the service, answer."""

    class ActionView(APIView):
        permission_classes = [PrivacyOfficerAccess]

        @extend_schema(operation_id=f"privacy_requests_{name}", request=body_serializer,
                       responses={200: PrivacyRequestSerializer}, description=summary)
        def post(self, request, request_id):
            arguments = {}
            if body_serializer is not None:
                body = body_serializer(data=request.data)
                body.is_valid(raise_exception=True)
                arguments = dict(body.validated_data)
            call(request_id=request_id, actor=request.user, **arguments)
            return _request_answer(request, request_id)

    ActionView.__name__ = f"PrivacyRequest{name.title().replace('_', '')}View"
    return ActionView


ACTION_VIEWS = {
    "verify": _action_view("verify", VerifySerializer, services.privacy_request_verify,
                           "Record how the requester's identity was checked."),
    "approve": _action_view("approve", None, services.privacy_request_approve,
                            "Approve; an erasure needs the privacy-officer permission."),
    "reject": _action_view("reject", ReasonSerializer, services.privacy_request_reject,
                           "Refuse a request that has not run (a reason is required)."),
    "cancel": _action_view("cancel", ReasonSerializer, services.privacy_request_cancel,
                           "Withdraw a request that has not run."),
    "extend": _action_view("extend", ExtendSerializer, services.privacy_request_extend,
                           "Extend the due date by up to two months in all, with a reason."),
    "run": _action_view("run", None, services.privacy_request_run,
                        "Start an approved request: one step per source, in the background."),
    "retry": _action_view("retry", None, services.privacy_request_retry_failed,
                          "Run the failed steps again, and only those."),
}


class SubjectSearchView(APIView):
    """``/api/privacy-requests/subject-search``: candidate entities for a data subject."""

    permission_classes = [PrivacyOfficerAccess]

    @extend_schema(request=SearchSerializer, responses={200: CandidateSerializer(many=True)})
    def post(self, request):
        body = SearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        found = privacy_subject_search(**body.validated_data)
        return Response(CandidateSerializer(found, many=True).data)


def _flatten(value, prefix: str = "") -> list[tuple[str, object]]:
    """Nested record fields as ("tickets 1 subject", value) rows for the readable page."""
    if isinstance(value, dict):
        rows = []
        for key, item in value.items():
            rows += _flatten(item, f"{prefix} {key}".strip())
        return rows
    if isinstance(value, list) and value and any(isinstance(i, dict | list) for i in value):
        rows = []
        for index, item in enumerate(value, start=1):
            rows += _flatten(item, f"{prefix} {index}".strip())
        return rows
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    return [(prefix or "value", "" if value is None else value)]


def _readable(bundle: dict) -> dict:
    sources = [{**source, "records": [{**entry, "rows": _flatten(entry["record"] or {})}
                                      for entry in source["records"]]}
               for source in bundle["sources"]]
    return {**bundle, "sources": sources}


class ExportDownloadView(APIView):
    """``/api/privacy-requests/exports/{token}``: the export bundle for the data subject.

    The random token is the credential (the link is sent to the person), so no login is
    needed; ``?view=html`` gives a readable page. An expired link answers 410.
    """

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(parameters=[OpenApiParameter("view", str, enum=["json", "html"])],
                   responses={200: OpenApiTypes.OBJECT, 404: None, 410: None})
    def get(self, request, token):
        try:
            bundle = privacy_export_download(token=token)
        except ExportExpired as expired:
            return Response({"detail": str(expired)}, status=status.HTTP_410_GONE)
        if request.query_params.get("view") == "html":
            html = render_to_string("privacy/export.html", {"bundle": _readable(bundle)})
            return HttpResponse(html, content_type="text/html; charset=utf-8")
        return Response(bundle, headers={
            "Content-Disposition": f'attachment; filename="export-{bundle["request_id"]}.json"'})
