"""npm packages' built files are static files: found and served by whitenoise, only the files listed."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from common.npm_static import NpmFinder

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture
def node_modules(tmp_path, settings):
    dist = tmp_path / "node_modules" / "kit" / "dist"
    (dist / "assets" / "images").mkdir(parents=True)
    (dist / "kit.min.js").write_text("window.kit = 1;")
    (dist / "kit.scss").write_text("$x: 1;")
    (dist / "assets" / "images" / "tick.svg").write_text("<svg/>")
    (tmp_path / "node_modules" / "secret.txt").write_text("outside the package")
    settings.NODE_MODULES = tmp_path / "node_modules"
    settings.NPM_STATIC = {"kit": ("kit/dist", ["kit.min.js", "assets/*"])}
    return dist


def test_finds_only_the_listed_files_under_the_prefix(node_modules):
    finder = NpmFinder()
    assert finder.find("kit/kit.min.js") == str((node_modules / "kit.min.js").resolve())
    assert finder.find("kit/assets/images/tick.svg", find_all=True) == [
        str((node_modules / "assets" / "images" / "tick.svg").resolve())
    ]
    assert finder.find("kit/kit.scss") == []  # in the package, not listed
    assert finder.find("kit.min.js") == []  # without its prefix
    assert finder.find("kit/../../secret.txt") == []
    assert finder.find("kit/missing.js") == []


def test_lists_the_listed_files_with_the_prefix_for_collectstatic_and_whitenoise(node_modules):
    listed = {(path, storage.prefix) for path, storage in NpmFinder().list([])}
    assert listed == {("kit.min.js", "kit"), ("assets/images/tick.svg", "kit")}


def test_a_package_not_installed_is_skipped_with_a_warning_that_says_how(node_modules, settings):
    settings.NPM_STATIC = {**settings.NPM_STATIC, "gone": ("gone/dist", ["*.js"])}
    finder = NpmFinder()
    assert {storage.prefix for _path, storage in finder.list([])} == {"kit"}
    assert finder.find("gone/x.js") == []
    (warning,) = finder.check()
    assert warning.id == "common.W201"
    assert "node_modules/gone/dist" in warning.msg and "make install" in warning.hint


def test_a_malformed_entry_is_a_configuration_error(node_modules, settings):
    settings.NPM_STATIC = {"kit": ("kit/dist", "kit.min.js")}
    assert [e.id for e in NpmFinder().check()] == ["common.E201"]


INSTALLED = (Path(settings.NODE_MODULES) / "nhsuk-frontend" / "package.json").exists()


@pytest.mark.skipif(not INSTALLED and not IN_CI, reason="npm packages not installed (make install runs npm ci)")
def test_whitenoise_serves_nhsuk_frontend_from_node_modules(client):
    """The real package, installed by `make install`; in CI its absence fails here."""
    assert INSTALLED, "node_modules/nhsuk-frontend is missing: `make install` runs `npm ci`"
    assert finders.find("nhsuk-frontend/nhsuk-frontend.min.js")
    response = client.get("/static/nhsuk-frontend/nhsuk-frontend.min.js")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    assert client.get("/static/nhsuk-frontend/assets/images/nhsuk-icon-tick.svg").status_code == 200
    assert client.get("/static/nhsuk-frontend/index.scss").status_code == 404  # sources are not served
