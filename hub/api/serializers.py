"""Per-operation input and output serializers of the API."""

from django.conf import settings
from rest_framework import serializers

from linkage.attributes import CANONICAL_ATTRIBUTES, MAX_LENGTHS


def split_record_input(validated: dict) -> dict:
    """Separate the key attributes from the record's source key, version and updated-at."""
    data = dict(validated)
    item = {"version": data.pop("version", None), "updated_at": data.pop("updated_at", None)}
    if "source_key" in data:
        item["source_key"] = data.pop("source_key")
    item["attributes"] = data
    return item


class RecordInputSerializer(serializers.Serializer):
    """Key attributes of one source record plus the source's version or updated-at.

    Every attribute is optional; unknown fields are refused rather than silently dropped, so a
    misspelt field name in a source's mapping is noticed at once.
    """

    version = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    updated_at = serializers.DateTimeField(required=False, allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        for name in CANONICAL_ATTRIBUTES:
            fields[name] = serializers.CharField(
                required=False, allow_null=True, allow_blank=True, trim_whitespace=False,
                max_length=MAX_LENGTHS[name])
        return fields

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["expected a JSON object of key attributes"]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
        return super().to_internal_value(data)

    def to_service(self) -> dict:
        """The service's keyword arguments for this record."""
        return split_record_input(self.validated_data)


class BatchItemSerializer(RecordInputSerializer):
    """One record of a batch: its source key, key attributes and version."""

    source_key = serializers.CharField(max_length=255)


class BatchInputSerializer(serializers.Serializer):
    """Up to ``INGEST_BATCH_LIMIT`` records of one source."""

    records = BatchItemSerializer(many=True, allow_empty=False,
                                  max_length=settings.INGEST_BATCH_LIMIT)

    def to_service(self) -> list[dict]:
        """One dict of service arguments per record (source_key, version, updated_at,
        attributes)."""
        return [split_record_input(data) for data in self.validated_data["records"]]


class ReviewTaskRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    candidate_golden_id = serializers.CharField()
    score = serializers.FloatField()
    reason = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    """What an upsert or delete did to one record."""

    source = serializers.CharField()
    source_key = serializers.CharField()
    change = serializers.ChoiceField(
        choices=["created", "updated", "unchanged", "stale", "deleted"])
    golden_id = serializers.CharField(allow_null=True)
    outcome = serializers.ChoiceField(choices=["linked", "new_entity", "review"],
                                      allow_null=True)
    origin = serializers.CharField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    explanation = serializers.JSONField()
    review_tasks = ReviewTaskRefSerializer(many=True)
    warnings = serializers.DictField(
        child=serializers.CharField(),
        help_text="Attributes whose value was unusable and treated as missing, with the reason.")
    message = serializers.CharField(allow_blank=True)


class BatchResultSerializer(serializers.Serializer):
    results = IngestResultSerializer(many=True)


class CrossReferenceSerializer(serializers.Serializer):
    """One source record of an entity, with how it came to be linked."""

    source = serializers.CharField(source="source_record.source.code")
    source_key = serializers.CharField(source="source_record.source_key")
    origin = serializers.CharField()
    outcome = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    linked_at = serializers.DateTimeField(source="created_at")


class EntitySerializer(serializers.Serializer):
    """An entity's state and its cross-references."""

    golden_id = serializers.CharField()
    state = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    merged_into = serializers.CharField(source="merged_into_id", allow_null=True)
    open_review_tasks = serializers.IntegerField()
    records = CrossReferenceSerializer(many=True)


class XrefSerializer(serializers.Serializer):
    """The golden ID behind one source key, with the entity's other cross-references."""

    source = serializers.CharField()
    source_key = serializers.CharField()
    state = serializers.CharField()
    golden_id = serializers.CharField(allow_null=True)
    records = CrossReferenceSerializer(many=True)


class RecordBlockSerializer(serializers.Serializer):
    """One cross-reference's live record, as its source answered (or did not) just now."""

    source = serializers.CharField()
    source_key = serializers.CharField()
    status = serializers.ChoiceField(choices=["ok", "not_found", "timeout", "error",
                                              "circuit_open"])
    record = serializers.JSONField(allow_null=True,
                                   help_text="The source's full record when status is ok.")
    elapsed_ms = serializers.FloatField()
    error = serializers.CharField(allow_blank=True, help_text="A short code, never data.")


class EntityRecordsSerializer(serializers.Serializer):
    """The full records of an entity, fetched live from its sources and never stored."""

    golden_id = serializers.CharField()
    state = serializers.CharField()
    resolved_from = serializers.CharField(
        allow_null=True, help_text="The merged golden ID that was asked for, if any.")
    elapsed_ms = serializers.FloatField()
    records = RecordBlockSerializer(many=True, source="blocks")
