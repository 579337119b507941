"""API views: ingest (upsert, delete, batch), lookups (entity, cross-reference) and federated
reads of an entity's full records."""

from dataclasses import asdict

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import MethodNotAllowed, NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api import serializers as s
from hub.models import Entity
from hub.selectors.entities import (
    entity_current_links,
    entity_get,
    entity_open_task_count,
    record_by_xref,
)
from hub.services.federation import entity_records_fetch
from hub.services.ingest import record_delete, record_upsert, records_upsert_batch

BATCH_KEY = "batch"


class SourceRecordView(APIView):
    """``/api/sources/{source}/records/{source_key}``; ``POST .../records/batch`` for batches."""

    @extend_schema(request=s.RecordInputSerializer, responses={200: s.IngestResultSerializer,
                                                               201: s.IngestResultSerializer})
    def put(self, request, source, source_key):
        """Create or update one record and match it; 201 when the record is new."""
        body = s.RecordInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = record_upsert(source_code=source, source_key=source_key, actor=request.user,
                               **body.to_service())
        code = status.HTTP_201_CREATED if result.change == "created" else status.HTTP_200_OK
        return Response(s.IngestResultSerializer(asdict(result)).data, status=code)

    @extend_schema(parameters=[OpenApiParameter("version", int, required=False)],
                   responses={200: s.IngestResultSerializer})
    def delete(self, request, source, source_key):
        """The record was deleted in its source: it leaves its entity."""
        version = s.serializers.IntegerField(min_value=0, required=False)
        raw = request.query_params.get("version")
        try:
            parsed = version.run_validation(raw) if raw is not None else None
        except s.serializers.ValidationError as error:
            raise s.serializers.ValidationError({"version": error.detail}) from error
        result = record_delete(source_code=source, source_key=source_key, version=parsed,
                               actor=request.user)
        return Response(s.IngestResultSerializer(asdict(result)).data)

    @extend_schema(operation_id="sources_records_batch", request=s.BatchInputSerializer,
                   responses={200: s.BatchResultSerializer})
    def post(self, request, source, source_key):
        """Batch upsert (only at ``records/batch``): all records are stored, or none."""
        if source_key != BATCH_KEY:
            raise MethodNotAllowed("POST")
        body = s.BatchInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = records_upsert_batch(source_code=source, items=body.to_service(),
                                       actor=request.user)
        return Response({"results": [s.IngestResultSerializer(asdict(r)).data
                                     for r in results]})


def _entity_payload(entity: Entity) -> dict:
    links = list(entity_current_links(entity.golden_id)) if entity.is_active else []
    return {**{f: getattr(entity, f) for f in ("golden_id", "state", "version", "created_at",
                                               "updated_at", "merged_into_id")},
            "open_review_tasks": entity_open_task_count(entity.golden_id),
            "records": links}


class EntityView(APIView):
    """``/api/entities/{golden_id}``: state and cross-references; a merged ID redirects."""

    @extend_schema(responses={200: s.EntitySerializer, 307: s.EntitySerializer})
    def get(self, request, golden_id):
        entity = entity_get(golden_id)
        if entity is None:
            raise NotFound("no entity with this golden ID")
        data = s.EntitySerializer(_entity_payload(entity)).data
        if entity.state == Entity.State.MERGED:
            location = request.build_absolute_uri(f"/api/entities/{entity.merged_into_id}")
            return Response(data, status=status.HTTP_307_TEMPORARY_REDIRECT,
                            headers={"Location": location})
        return Response(data)


class XrefView(APIView):
    """``/api/xref/{source}/{source_key}``: the golden ID and the entity's other records."""

    @extend_schema(responses={200: s.XrefSerializer})
    def get(self, request, source, source_key):
        record = record_by_xref(source, source_key)
        if record is None:
            raise NotFound("no such source record")
        links = list(entity_current_links(record.entity_id)) if record.entity_id else []
        return Response(s.XrefSerializer({
            "source": record.source.code, "source_key": record.source_key,
            "state": record.state, "golden_id": record.entity_id, "records": links}).data)


class EntityRecordsView(APIView):
    """``/api/entities/{golden_id}/records``: every linked record, fetched live and concurrently.

    A merged ID answers for its survivor and says so in ``resolved_from``.
    """

    @extend_schema(responses={200: s.EntityRecordsSerializer},
                   description="Fetch the full record behind each cross-reference from its "
                               "source, all sources at once. Each block has a status (ok, "
                               "not_found, timeout, error, circuit_open); a slow or failing "
                               "source never fails the request nor delays it past the "
                               "federation timeout. Nothing fetched is stored; the access is "
                               "recorded as an event.")
    def get(self, request, golden_id):
        result = entity_records_fetch(golden_id=golden_id, actor=request.user)
        return Response(s.EntityRecordsSerializer(result).data)
