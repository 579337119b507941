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


def evaluate(path) -> tuple[dict, str]:
    out, err = StringIO(), StringIO()
    call_command("evaluate", str(path), "--json", stdout=out, stderr=err)
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


def test_evaluate_passes_on_its_warnings_about_the_file(tmp_path, db):
    count = write_labelled_csv(tmp_path / "labelled.csv")

    report, err = evaluate(tmp_path / "labelled.csv")

    assert report["records"] == count
    assert "warning: column 'shoe_size' is not a key attribute; ignored" in err


def test_evaluate_reads_headers_in_any_case_and_spacing(tmp_path, db):
    write_labelled_csv(tmp_path / "labelled.csv")
    text = (tmp_path / "labelled.csv").read_text()
    header, body = text.split("\n", 1)
    header = header.replace("given_name", " Given Name").replace("cluster", "CLUSTER")
    (tmp_path / "shouted.csv").write_text(f"{header}\n{body}")

    plain, _ = evaluate(tmp_path / "labelled.csv")
    shouted, err = evaluate(tmp_path / "shouted.csv")

    assert shouted["auto_links"] == plain["auto_links"]
    assert "column ' Given Name' read as 'given_name'" in err


def test_evaluate_counts_a_row_without_truth_as_a_person_of_its_own(tmp_path, db):
    path = tmp_path / "partly.csv"
    path.write_text("source,source_key,given_name,family_name,birth_date,cluster\n"
                    "crm,1,Ann,Lee,1990-05-05,\n"
                    "billing,2,Bob,Ray,1970-01-01,\n")

    report, err = evaluate(path)

    # Two unlabelled rows are two people, not one person called "".
    assert report["unlabelled_records"] == 2
    assert report["auto_links"]["false_negatives"] == 0
    assert "2 row(s) have no truth value" in err


@pytest.mark.parametrize("row", ["crm,,Ann,1", ",7,Ann,1"])
def test_evaluate_refuses_a_row_without_its_source_or_key(tmp_path, db, row):
    path = tmp_path / "keyless.csv"
    path.write_text(f"source,source_key,given_name,cluster\ncrm,1,Bo,2\n\n{row}\n")

    with pytest.raises(CommandError, match=r"source_key is empty on 1 row\(s\) \(line 4\)"):
        call_command("evaluate", str(path), stdout=StringIO(), stderr=StringIO())


def test_evaluate_matches_a_file_too_small_to_train_on_with_the_model_in_force(tmp_path, db):
    path = tmp_path / "tiny.csv"
    path.write_text("source,source_key,given_name,family_name,birth_date,email,cluster\n"
                    "crm,1,John,Smith,1980-04-12,john.smith@gmail.com,a\n"
                    "billing,2,John,Smith,1980-04-12,johnsmith@gmail.com,a\n"
                    "billing,3,Mary,Smith,1982-01-30,,b\n")

    report, err = evaluate(path)

    assert report["model"] == "default-v13"
    assert report["auto_links"]["f1"] == 1.0
    assert "3 records are too few to train a model (at least 300)" in err


def test_evaluation_reads_national_phone_numbers_in_the_hubs_default_country(db):
    from django.test import override_settings

    from hub.evaluation import load_rows

    with override_settings(MATCH_DEFAULT_COUNTRY="GB"):
        load_rows([{"source": "crm", "source_key": "1", "phone": "07700 900123", "cluster": "a"}],
                  "cluster")

    assert SourceRecord.objects.get().standardised["phone"] == "+447700900123"
