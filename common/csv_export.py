"""The one way a page hands out a CSV file, so that every export opens correctly in Excel.

- UTF-8 with a byte-order mark: without it Excel reads the file as the local code page, and names
  such as "Siobhán" or "Zoë" arrive garbled.
- Every cell spreadsheet-safe: text starting with = + - @ (or a tab or carriage return) is a formula
  to a spreadsheet, so it gets a leading apostrophe and is shown as text.
- A download (attachment with a file name) that no cache keeps: exports hold patient data.
"""

import csv

from django.http import HttpResponse, StreamingHttpResponse

BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A value as spreadsheet-safe text: a cell must never start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value):
        return value


def _lines(rows):
    writer = csv.writer(_Echo())
    yield BOM
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def csv_response(filename, rows, *, stream=False):
    """A CSV download of ``rows`` (the header first; each row an iterable of values) named ``filename``.

    ``stream=True`` writes rows as they are read (an audit export of a year), otherwise the file is
    built in memory (a page's table).
    """
    if stream:
        response = StreamingHttpResponse(_lines(rows), content_type=CONTENT_TYPE)
    else:
        response = HttpResponse("".join(_lines(rows)), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
