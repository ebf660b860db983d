"""Shared template components render what the pages that include them expect."""

from django.core.paginator import Paginator
from django.template.loader import render_to_string


def pager(number, **context):
    page = Paginator(range(120), 50).get_page(number)
    return render_to_string("components/pager.html", {"page": page, "label": "Pages of things", **context})


def test_the_pager_keeps_the_list_parameters_and_names_its_links():
    middle = pager(2, query="show=past&sort=patient")  # escaped once, in the template
    assert 'aria-label="Pages of things"' in middle and "Page 2 of 3" in middle
    assert 'href="?show=past&amp;sort=patient&amp;page=1">Previous<' in middle
    assert 'href="?show=past&amp;sort=patient&amp;page=3">Next<' in middle
    first = pager(1, previous="Newer", next="Older")
    assert 'href="?page=2">Older<' in first and "Newer" not in first


def test_one_page_needs_no_pager():
    page = Paginator(range(10), 50).get_page(1)
    assert render_to_string("components/pager.html", {"page": page, "label": "x"}).strip() == ""
