"""Statement shapes for the real-time path.

PostgreSQL plans every statement it receives. A statement whose text grows with its values (an
``IN`` list of candidates, a UNION ALL of one lookup per blocking key) is planned anew for each
upsert, and the plan of twenty unioned lookups takes longer than running them (about a
millisecond). The hot statements therefore take their values as arrays on PostgreSQL, which
keeps their text, and their planning, small and the same whatever the number of values.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


def any_of(column: str, values: Sequence) -> tuple[str, list]:
    """A condition "``column`` is one of ``values``" and its parameters: one array parameter on
    PostgreSQL, an ``IN`` list elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)
