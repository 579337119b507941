"""Scalar comparisons: the level of one record pair, in plain Python, for the real-time path.

``linkage.comparisons`` puts many pairs on their levels at once with numpy; for one record
against a handful of candidates its fixed cost (tables, factorisation, ``cpdist`` set-up) is
milliseconds. This module runs the same level tests pair by pair instead. Every test here
mirrors one of ``linkage.comparisons._TESTS`` (the binders of ``linkage.scalar_checks``) and
reads the same features of ``linkage.features`` (cached per value), so a pair reaches the same
level either way; the tests in ``tests/linkage/test_scalar.py`` check that on thousands of
pairs.

A configuration is compiled once (cached per config) into, per comparison, one binder per level
test; ``levels_of`` binds them to the record's values once per call and runs the bound checks on
each candidate, with ``MISSING`` where a value is absent on either side.
"""

from __future__ import annotations

from linkage.config import ELSE_TEST, EXACT_TEST, Comparison, MatchConfig
from linkage.features import first_word, several_words
from linkage.scalar_checks import TESTS, Binder, Record

MISSING = -1  # as linkage.comparisons.MISSING: the attribute is absent on either side

Compiled = tuple[str, bool, tuple[tuple[int, Binder], ...], int]

__all__ = ["MISSING", "compile_config", "level_functions", "level_vector", "levels_of"]


# --- compilation -------------------------------------------------------------------------------


def compile_comparison(comparison: Comparison) -> Compiled:
    """(attribute, first level is "exact", binders of the other levels, else index).

    Nearly every comparison starts with "exact" and most candidate values agree or are
    missing, so ``levels_of`` tests equality inline instead of calling a test.
    """
    binders: list[tuple[int, Binder]] = []
    for index, level in enumerate(comparison.levels):
        if level.test == ELSE_TEST:
            break
        bind = TESTS[level.test](comparison, level)
        binders.append((index, _with_first_words(bind) if level.first_word else bind))
    exact_first = bool(binders) and comparison.levels[0].test == EXACT_TEST
    if exact_first:
        binders = binders[1:]
    # As in the batch path: a pair no test claims is on the last level ("else").
    return comparison.attribute, exact_first, tuple(binders), len(comparison.levels) - 1


def _with_first_words(bind: Binder) -> Binder:
    """A ``first_word`` level's binder: its test on the values, or on their first words where
    one value has several words and the first words differ (``comparisons._first_words_pass``).
    """
    def bind_both(a, ra):
        whole, first_a = bind(a, ra), first_word(a)
        # A one-word value is its own first word: bound once, not twice (real-time hot path).
        first = bind(first_a, ra) if several_words(a) else whole
        if whole is None and first is None:
            return None

        def check(b, rb):
            if whole is not None and whole(b, rb):
                return True
            if first is None or not (several_words(a) or several_words(b)):
                return False
            first_b = first_word(b)
            return first_b != first_a and first(first_b, rb)

        return check

    return bind_both


def compile_config(config: MatchConfig) -> tuple[Compiled, ...]:
    """The compiled comparisons of ``config``, in the order of its comparisons."""
    return tuple(compile_comparison(c) for c in config.comparisons)


# Compiled configurations by id; the config is kept alongside so a recycled id (the config was
# garbage-collected and another one took its address) is never mistaken for it.
_COMPILED: dict[int, tuple[MatchConfig, tuple[Compiled, ...]]] = {}
_MAX_COMPILED = 16


def level_functions(config: MatchConfig) -> tuple[Compiled, ...]:
    """``compile_config(config)``, compiled on first use and cached."""
    entry = _COMPILED.get(id(config))
    if entry is None or entry[0] is not config:
        if len(_COMPILED) >= _MAX_COMPILED:
            # Few configurations live in one process (the active model and a candidate one);
            # dropping all is simpler than LRU bookkeeping and only costs a recompile.
            _COMPILED.clear()
        entry = (config, compile_config(config))
        _COMPILED[id(config)] = entry
    return entry[1]


def level_vector(left: Record, right: Record, config: MatchConfig) -> list[int]:
    """The level index per comparison of one pair of records; MISSING where a value is absent."""
    return levels_of(left, [right], config)[0]


def levels_of(record: Record, candidates: list[Record], config: MatchConfig) -> list[list[int]]:
    """Levels of ``record`` against each candidate: one row per candidate, one column per
    comparison, as ``comparison_matrix`` gives them for a table of the record and candidates.
    """
    columns = []
    for attribute, exact_first, binders, else_index in level_functions(config):
        a = record.get(attribute)
        # A source that sends an empty field knows nothing: "" is missing, like None.
        if not a:
            columns.append([MISSING] * len(candidates))
            continue
        checks = [(i, check) for i, bind in binders if (check := bind(a, record)) is not None]
        column = []
        for candidate in candidates:
            b = candidate.get(attribute)
            if not b:
                column.append(MISSING)
            elif exact_first and a == b:
                column.append(0)
            else:
                # A plain loop: a generator per pair costs more than most of the tests.
                for index, check in checks:
                    if check(b, candidate):
                        column.append(index)
                        break
                else:
                    column.append(else_index)
        columns.append(column)
    return [list(row) for row in zip(*columns, strict=True)] if columns else [[]] * len(candidates)
