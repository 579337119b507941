"""The JSON document of a match configuration or trained model (the inverse of parsing it)."""

from __future__ import annotations

from typing import Any

from linkage.config import METHOD_TESTS, BlockingRule, Comparison, MatchConfig


def document_of(config: MatchConfig) -> dict[str, Any]:
    """The JSON-ready document of a configuration; ``build_config`` reads it back unchanged."""
    document: dict[str, Any] = {
        "version": config.version,
        "description": config.description,
        "prior_weight": config.prior_weight,
        "review_threshold": config.review_threshold,
        "auto_link_threshold": config.auto_link_threshold,
        "max_block_size": config.max_block_size,
        **({"conflict_threshold": config.conflict_threshold}
           if config.conflict_threshold is not None else {}),
        "weight_caps": [
            {"name": cap.name, "attributes": list(cap.attributes), "max_weight": cap.max_weight,
             "mode": cap.mode, "person_attributes": list(cap.person_attributes),
             **({"contact_attributes": list(cap.contact_attributes)}
                if cap.contact_attributes else {}),
             **({"contact_conflict_weight": cap.contact_conflict_weight}
                if cap.contact_conflict_weight is not None else {}),
             **({"min_share": cap.min_share} if cap.min_share is not None else {})}
            for cap in config.weight_caps
        ],
        "placeholders": {a: sorted(v) for a, v in config.placeholders.items()},
        "training": dict(config.training.__dict__),
        "blocking_rules": [_rule_document(rule) for rule in config.blocking_rules],
        "comparisons": {c.attribute: _comparison_document(c) for c in config.comparisons},
    }
    if config.trained is not None:
        document["trained"] = config.trained
    return document


def _rule_document(rule: BlockingRule) -> dict[str, Any]:
    item: dict[str, Any] = {"name": rule.name, "attributes": list(rule.attributes)}
    transforms = {a: t for a, t in zip(rule.attributes, rule.transforms, strict=True) if t}
    if transforms:
        item["transforms"] = transforms
    if rule.kind != "exact":
        item.update(kind=rule.kind, window=rule.window, prefix=rule.prefix)
    if not rule.train:
        item["train"] = False
    if rule.unordered:
        item["unordered"] = True
    if rule.description:
        item["description"] = rule.description
    return item


def _comparison_document(comparison: Comparison) -> dict[str, Any]:
    item: dict[str, Any] = {"method": comparison.method, "levels": []}
    if comparison.description:
        item["description"] = comparison.description
    if comparison.term_frequency is not None:
        item["term_frequency"] = {"min_frequency": comparison.term_frequency.min_frequency}
    param_names = METHOD_TESTS[comparison.method]
    for level in comparison.levels:
        entry: dict[str, Any] = {"name": level.name}
        if level.test != level.name:
            entry["test"] = level.test
        param = param_names.get(level.test)
        if param:
            entry[param] = getattr(level, param)
        entry.update(m=level.m, u=level.u)
        if level.neutral:
            entry["neutral"] = True
        if level.conflict:
            entry["conflict"] = True
        if level.first_word:
            entry["first_word"] = True
        if level.description:
            entry["description"] = level.description
        item["levels"].append(entry)
    return item
