"""The ``--sources`` and ``--dry-run`` options that commands working on whole sources share."""

from django.core.management.base import CommandError

from hub.models import SourceSystem


def add_scope_arguments(parser) -> None:
    """Add ``--sources CODE ...`` (default: every source) and ``--dry-run``."""
    parser.add_argument("--sources", nargs="+", metavar="CODE")
    parser.add_argument("--dry-run", action="store_true")


def check_sources(sources: list[str] | None) -> None:
    """Refuse source codes the hub does not know, naming the option and the codes."""
    if sources:
        unknown = set(sources) - set(SourceSystem.objects.values_list("code", flat=True))
        if unknown:
            raise CommandError(f"--sources: unknown source(s) {', '.join(sorted(unknown))}")
