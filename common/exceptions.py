"""Errors the services raise for the views and the API to translate (400 / 409)."""


class Conflict(Exception):
    """The record changed since the caller read it: a stale version must not overwrite it.

    Subclasses name other conflicts with the records as they are (a duplicate contact, a patient
    already registered): ``code`` is the problem document's code, ``extra`` its further members."""

    code = "conflict"

    def __init__(
        self,
        message="This record was changed by someone else since you opened it. Reload it and make your change again.",
    ):
        super().__init__(message)
        self.message = message

    @property
    def extra(self):
        return {}
