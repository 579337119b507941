"""Re-estimate the m, u and prior shipped in ``default_match_config.json`` from synthetic customers.

    python -m linkage.retrain_default [--people 95694] [--seed 42] [--write]

The shipped values are what a hub matches with before it has trained a model of its own (the
demo, a first real-time load). They come from ``linkage.model.train`` on synthetic customers
(``linkage.synthetic``): this command trains on them and copies each level's m and u and the
prior into the shipped document, leaving everything else (levels, rules, caps, thresholds,
descriptions, the version) as it is. Without ``--write`` it only prints what would change.
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

from linkage.config import MatchConfig, load_config, loads_config
from linkage.pipeline import link_frame, standardise_frame
from linkage.synthetic import generate_records_dataframe, people_for

SIGNIFICANT = 6


def trained_defaults(people: int, seed: int) -> MatchConfig:
    """The shipped configuration trained on ``people`` synthetic customers."""
    frame = generate_records_dataframe(people=people, seed=seed)
    frame = standardise_frame(frame.drop(columns=["person_id"]))
    return link_frame(frame, load_config(), train_model=True).config


def with_trained_values(document: dict, trained: MatchConfig) -> dict:
    """The document with the trained model's m, u (per level) and prior."""
    document = json.loads(json.dumps(document))  # a deep copy
    document["prior_weight"] = _rounded(trained.prior_weight)
    for comparison in trained.comparisons:
        levels = document["comparisons"][comparison.attribute]["levels"]
        for entry, level in zip(levels, comparison.levels, strict=True):
            entry["m"], entry["u"] = _rounded(level.m), _rounded(level.u)
        # The file must hold distributions: rounding may leave them a hair off.
        for key in ("m", "u"):
            levels[-1][key] = _rounded(1.0 - sum(entry[key] for entry in levels[:-1]))
    return document


def _rounded(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT}g}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=people_for(200_000),
                        help="about 200,000 records")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--write", action="store_true", help="rewrite the shipped file")
    args = parser.parse_args(argv)
    path = Path(str(resources.files("linkage").joinpath("default_match_config.json")))
    document = json.loads(path.read_text(encoding="utf-8"))
    trained = trained_defaults(args.people, args.seed)
    updated = with_trained_values(document, trained)
    print(f"prior {document['prior_weight']} -> {updated['prior_weight']}")
    for attribute, comparison in updated["comparisons"].items():
        for old, new in zip(document["comparisons"][attribute]["levels"], comparison["levels"],
                            strict=True):
            print(f"{attribute:<14}{new['name']:<24}m {old['m']:<12g} -> {new['m']:<12g}"
                  f"u {old['u']:<12g} -> {new['u']:g}")
    text = json.dumps(updated, indent=2, ensure_ascii=False) + "\n"
    loads_config(text)  # refuse to write a document that does not validate
    if args.write:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
