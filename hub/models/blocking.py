"""Blocking keys: the indexed table that turns candidate retrieval into an index lookup."""

from django.db import models


class BlockingKey(models.Model):
    """One blocking key of one active source record.

    ``key_hash`` is a 64-bit hash of the rule name and the key's value: the index stays small
    and fixed-width on both databases, and no readable personal data sits in it. A hash
    collision only adds a candidate that scoring then rejects.
    """

    # No index of its own: the unique constraint below starts with the record, and serves
    # every lookup by record; a second index would only cost each insert (two dozen per record).
    source_record = models.ForeignKey("hub.SourceRecord", on_delete=models.CASCADE,
                                      related_name="blocking_keys", db_index=False)
    rule = models.CharField(max_length=40)
    key_hash = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["key_hash", "source_record"], name="blocking_key_lookup")]
        constraints = [
            models.UniqueConstraint(fields=["source_record", "rule", "key_hash"],
                                    name="blocking_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.rule}:{self.key_hash}"
