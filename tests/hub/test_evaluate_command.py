"""``manage.py evaluate`` measures quality on labelled data in a throwaway database."""

import csv
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hub.models import SourceRecord
from hub.services.ingest import record_upsert
from linkage.attributes import CANONICAL_ATTRIBUTES
from linkage.synthetic import generate_records


def write_labelled_csv(path, people=150):
    rows = generate_records(people=people, seed=11)
    columns = ["source", "source_key", *CANONICAL_ATTRIBUTES, "cluster", "shoe_size"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for i, row in enumerate(rows):
            out = {c: row.get(c) or "" for c in columns if c not in ("cluster", "shoe_size")}
            out["cluster"], out["shoe_size"] = row["person_id"], "42"
            if i == 0:
                out["birth_date"] = "1999-02-30"  # impossible: counted, treated as missing
            writer.writerow(out)
    return len(rows)


def test_evaluate_reports_metrics_and_never_touches_the_hub(tmp_path, sources, person):
    record_upsert(source_code="crm", source_key="HUB-1", attributes=person)
    count = write_labelled_csv(tmp_path / "labelled.csv")
    out, err = StringIO(), StringIO()
    call_command("evaluate", str(tmp_path / "labelled.csv"), "--json", "--assignments-out",
                 str(tmp_path / "out.csv"), stdout=out, stderr=err)
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert report["records"] == count
    assert report["bad_values"]["birth_date"] >= 1
    assert report["ignored_columns"] == ["shoe_size"]
    assert 0.8 <= report["auto_links"]["precision"] <= 1.0
    assert report["auto_links"]["recall"] <= report["with_review_decided"]["recall"]
    assert 0 < report["bcubed"]["f1"] <= 1
    assert 0 < report["blocking"]["pairs_completeness"] <= 1
    assert report["blocking"]["reduction_ratio"] > 0.5
    assert {"train", "match", "write"} <= set(report["timings"])
    assert report["peak_memory_mb"] > 0
    with (tmp_path / "out.csv").open() as handle:
        assignments = list(csv.DictReader(handle))
    assert len(assignments) == count
    assert set(assignments[0]) == {"source", "source_key", "golden_id", "in_review"}
    assert list(SourceRecord.objects.values_list("source_key", flat=True)) == ["HUB-1"]


def test_evaluate_names_a_missing_column(tmp_path, db):
    path = tmp_path / "bad.csv"
    path.write_text("source,given_name\ncrm,Ann\n")
    with pytest.raises(CommandError, match="missing column"):
        call_command("evaluate", str(path), stdout=StringIO())
