"""Patient searches that keep names and NHS numbers out of URLs.

A name or NHS number in a URL is written to web-server and proxy logs, browser history and Referer
headers. List pages therefore take their search box by POST: the text is kept in the session, for
that list only, and the browser is sent back (303) to the list's URL, which carries only the filters
that identify nobody (status, step, sort ...). The list reads the text back from the session.
"""

import unicodedata
from urllib.parse import urlencode

from django.http import HttpResponseRedirect

SESSION_KEY = "patient_search"
MAX_LENGTH = 100


def _printable(text):
    """Control characters and broken surrogates dropped: a NUL in a search made PostgreSQL refuse the
    list's query (a server error); nobody searches for them."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cs"))


def current(request, key):
    """The search text this user last gave list ``key`` ("" when none)."""
    return request.session.get(SESSION_KEY, {}).get(key, "")


def remember(request, key, *, keep=()):
    """Take a POSTed search for list ``key`` and redirect to the list.

    ``keep`` names the form's other, non-identifying fields, which go into the redirect's query
    string. A POST with ``clear`` forgets the search and every filter.
    """
    searches = dict(request.session.get(SESSION_KEY, {}))
    clear = "clear" in request.POST
    text = "" if clear else _printable(request.POST.get("q", "")).strip()[:MAX_LENGTH]
    if text:
        searches[key] = text
    else:
        searches.pop(key, None)
    request.session[SESSION_KEY] = searches
    params = {} if clear else {name: request.POST[name] for name in keep if request.POST.get(name)}
    response = HttpResponseRedirect(request.path + (f"?{urlencode(params)}" if params else ""))
    response.status_code = 303  # see other: the list is read with GET
    return response
