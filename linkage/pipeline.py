"""The batch path: a DataFrame of standardised records in, scored candidate pairs out.

    frame (index = record id)
      -> candidate pairs by the union of the blocking rules      (linkage.blocking)
      -> agreement levels of every comparison                    (linkage.comparisons)
      -> optionally: train u, m and the prior on them            (linkage.model)
      -> weights, with term-frequency adjustment                 (linkage.scoring)
      -> DataFrame: left, right, weight, probability, rules, conflict, one level column per
         attribute

Everything is column-at-a-time on arrays; the only Python loops run over *distinct* values
(phonetic codes, nickname groups, ...) or over blocking rules and comparisons. The real-time
path (``linkage.scoring.score_many``) runs the same comparison and weighting code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from linkage import standardise as std
from linkage.attributes import CANONICAL_ATTRIBUTES
from linkage.blocking import block_pairs, rule_names
from linkage.compare import comparison_matrix
from linkage.comparisons import RecordTable
from linkage.config import MISSING_LEVEL, MatchConfig, load_config
from linkage.frequencies import FrequencySource, TermFrequencies
from linkage.model import Labels, train
from linkage.scoring import (
    AttributeScore,
    PairScore,
    conflicting_pairs,
    match_probability,
    match_weights,
    pair_weights,
)

LEVEL_PREFIX = "level_"


@dataclass(eq=False)
class BatchResult:
    """The outcome of a batch run: the model used, the scored pairs and what explains them."""

    config: MatchConfig
    pairs: pd.DataFrame = field(repr=False)
    table: RecordTable = field(repr=False)
    frequencies: FrequencySource | None = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)

    def auto_links(self) -> pd.DataFrame:
        """The pairs at or above the auto-link threshold."""
        return self.pairs[self.pairs["weight"] >= self.config.auto_link_threshold]

    def score(self, row: int) -> PairScore:
        """The PairScore of the pair at position ``row`` of ``pairs`` (for its explanation).

        Identical to ``score_pair`` of the two records with the same frequencies.
        """
        config = self.config
        pair = self.pairs.iloc[row]
        levels = np.array(
            [[pair[LEVEL_PREFIX + c.attribute] for c in config.comparisons]], dtype=np.int8
        )
        left = np.array([self._positions[0][row]])
        weights = pair_weights(config, levels, self.table, left, left, self.frequencies)[0]
        attributes = tuple(
            AttributeScore(c.attribute, _level_name(c, int(levels[0, k])), float(weights[k]))
            for k, c in enumerate(config.comparisons)
        )
        total = float(match_weights(config, weights[None, :])[0])
        rules = tuple(str(pair["rules"]).split("+"))
        return PairScore(
            float(total), match_probability(total), attributes, config.prior_weight,
            config.version, rules, conflict=bool(pair["conflict"]),
        )

    @property
    def _positions(self) -> tuple[np.ndarray, np.ndarray]:
        return self.pairs.attrs["left_position"], self.pairs.attrs["right_position"]


def _level_name(comparison, index: int) -> str:
    return MISSING_LEVEL if index < 0 else comparison.levels[index].name


def link_frame(
    frame: pd.DataFrame,
    config: MatchConfig | None = None,
    *,
    train_model: bool = True,
    labels: pd.DataFrame | None = None,
    frequencies: FrequencySource | None = None,
) -> BatchResult:
    """Block, compare, (train,) and score a DataFrame of standardised records.

    ``frame`` has one row per record (index = record id) and canonical attributes as columns
    (absent columns count as missing). With ``train_model`` the configuration's m, u and prior
    are re-estimated on this data first (``labels``: steward decisions as a DataFrame with
    columns left, right (record ids) and same (bool)). Term frequencies are counted in the
    frame unless ``frequencies`` is given.
    """
    config = config or load_config()
    timings: dict[str, float] = {}
    clock = _Clock(timings)
    frame = frame.reset_index(drop=False) if not frame.index.is_unique else frame
    with clock("block"):
        left, right, masks = block_pairs(frame, config)
    with clock("prepare"):
        table = RecordTable.from_frame(frame, config.attributes)
        if frequencies is None:
            frequencies = TermFrequencies.from_frame(
                frame, [c.attribute for c in config.comparisons if c.term_frequency]
            )
    with clock("compare"):
        levels = comparison_matrix(config, table, left, right)
    if train_model:
        with clock("train"):
            config = train(config, table, left, right, masks, levels,
                           labels=_labels(labels, frame) if labels is not None else None)
    with clock("score"):
        pairs = _pairs_frame(config, frame, table, left, right, masks, levels, frequencies)
    return BatchResult(config, pairs, table, frequencies, timings)


def _labels(labels: pd.DataFrame, frame: pd.DataFrame) -> Labels:
    left = frame.index.get_indexer(labels["left"])
    right = frame.index.get_indexer(labels["right"])
    known = (left >= 0) & (right >= 0)
    return Labels(left[known], right[known], labels["same"].to_numpy(bool)[known])


def _pairs_frame(config, frame, table, left, right, masks, levels, frequencies) -> pd.DataFrame:
    weights = pair_weights(config, levels, table, left, right, frequencies)
    total = match_weights(config, weights)
    distinct_masks, mask_codes = np.unique(masks, return_inverse=True)
    rule_labels = ["+".join(rule_names(int(mask), config)) for mask in distinct_masks]
    columns = {
        "left": frame.index.to_numpy()[left],
        "right": frame.index.to_numpy()[right],
        "weight": total,
        "probability": match_probability(total) if len(total) else np.empty(0),
        # A category per combination of rules: a few distinct labels, one small code per pair.
        "rules": pd.Categorical.from_codes(mask_codes.reshape(-1), rule_labels or ["none"])
        if len(total) else pd.Categorical([]),
        # Two different people whatever the weight (born years apart): never one entity.
        "conflict": conflicting_pairs(config, levels, total),
    }
    for k, comparison in enumerate(config.comparisons):
        columns[LEVEL_PREFIX + comparison.attribute] = levels[:, k]
    pairs = pd.DataFrame(columns)
    pairs.attrs["left_position"] = left
    pairs.attrs["right_position"] = right
    return pairs


class _Clock:
    """Context manager factory that adds the seconds spent in each phase to a dict."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    def __call__(self, phase: str):
        return _Phase(self.timings, phase)


class _Phase:
    def __init__(self, timings: dict[str, float], phase: str) -> None:
        self.timings, self.phase = timings, phase

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc) -> None:
        elapsed = time.perf_counter() - self.started
        self.timings[self.phase] = self.timings.get(self.phase, 0.0) + elapsed


# --- standardisation of a whole frame ---------------------------------------------------------

def standardise_frame(raw: pd.DataFrame, *, default_country: str | None = None) -> pd.DataFrame:
    """Standardise the canonical attributes of a DataFrame as ``standardise_record`` would.

    Each standardiser runs once per distinct value (phones once per distinct value and
    country), which is what makes a million records affordable. Rejected values become None;
    other columns are kept as they are.
    """
    result = raw.copy()
    for attribute in CANONICAL_ATTRIBUTES:
        if attribute not in raw or attribute == "phone":
            continue
        result[attribute] = _per_distinct(raw[attribute], std.STANDARDISERS[attribute])
    if "given_name" in raw:
        _split_whole_names(result)
    if "phone" in raw:
        fallback = std.standardise_country(default_country)
        countries = result["country"] if "country" in result else pd.Series(None, index=raw.index)
        keys = list(zip(raw["phone"].tolist(), countries.tolist(), strict=True))
        mapped = {}
        for value, country in set(keys):
            mapped[(value, country)] = _safe(
                lambda v, c=country: std.standardise_phone(v, c or fallback), value
            )
        result["phone"] = [mapped[key] for key in keys]
    return result


def _split_whole_names(result: pd.DataFrame) -> None:
    """``standardise.split_whole_name`` on the rows with a given name but no family name."""
    given = result["given_name"]
    family = result.get("family_name")
    if family is None:
        family = pd.Series([None] * len(result), index=result.index, dtype=object)
    rows = (family.isna() & given.str.contains(" ", regex=False, na=False)).to_numpy()
    if not rows.any():
        return
    split = [std.split_whole_name(value, None) for value in given[rows].tolist()]
    given, family = given.copy(), family.astype(object).copy()
    given[rows] = [first for first, _ in split]
    family[rows] = [last for _, last in split]
    result["given_name"], result["family_name"] = given, family


def _per_distinct(column: pd.Series, standardiser: Callable[[str | None], str | None]):
    values = column.astype(object).where(column.notna(), None)
    mapping = {value: _safe(standardiser, value) for value in pd.unique(values)}
    return values.map(mapping).astype(object).where(lambda s: s.notna(), None)


def _safe(standardiser: Callable[[str | None], str | None], value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        return standardiser(str(value))
    except std.InvalidValue:
        return None
