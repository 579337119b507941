"""The hub's admin site: read-only registry views, source configuration, steward workbench.

Each module registers its own pages; importing them here is what puts them on the site.
"""

from hub.admin import privacy, records, sources, workbench  # noqa: F401
