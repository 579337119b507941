"""The ``any`` lookup: ``Model.objects.filter(id__any=ids)``, "the field is one of these".

Django's ``__in`` writes one placeholder per value, and with psycopg's client-side binding (how
Django talks to PostgreSQL) every placeholder of a statement is found and filled in Python:
for the batch path's chunks of thousands of ids that costs more than running the statement.
``__any`` sends the values as one array on PostgreSQL (``= ANY(%s)``) and as an ``IN`` list
elsewhere. The values must already be what the column holds (ints for ids, strings for golden
IDs): they are not converted one by one, which is the other half of the saving.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    """``field__any=values``: true where the field equals one of ``values``."""

    lookup_name = "any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            raise EmptyResultSet  # as __in does: the condition matches nothing
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


# Relations keep their own lookups (``__in`` on a foreign key compares related objects' keys),
# so the lookup is registered on them too; ``field_id__any=`` then compares the column's values.
Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)
