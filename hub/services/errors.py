"""Errors that services raise for the API and admin to render."""


class ServiceError(Exception):
    """Base class: something the caller asked for cannot be done; nothing was written."""


class InvalidInput(ServiceError):
    """Bad input: ``errors`` maps each offending field to its reasons (no personal data)."""

    def __init__(self, errors: dict):
        super().__init__("invalid input")
        self.errors = errors


class Conflict(ServiceError):
    """The request contradicts the stored state (e.g. same version, different content)."""


class NotFound(ServiceError):
    """The named object does not exist."""
