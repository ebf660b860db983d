"""Static files from npm packages, served by whitenoise like our own: no CDN and no committed copies.

`make install` runs `npm ci` (package.json and its package-lock.json) into node_modules/. A package's
built files are published under a prefix, and only the files settings.NPM_STATIC names: a package's
dist folder also holds its Sass sources, ES modules and type files, which a browser never asks for
(collected, they would add tens of megabytes to every collectstatic). A package not installed yet
is skipped, with a system-check warning that says how to install it.

A file a package ships ready-built but not ready for us (nhsuk-frontend's CSS loads its fonts from
assets.nhs.uk and its images from /assets/) is served rewritten (settings.NPM_BUILT): built from the
package's file into node_modules/.built/ when first asked for, and again whenever the package changes.
"""

import re
from fnmatch import fnmatch
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import utils
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error, Warning
from django.core.files.storage import FileSystemStorage
from django.utils.module_loading import import_string

REMOTE_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*https?://[^}]*\}")


def self_hosted_nhsuk_css(css: str) -> str:
    """nhsuk-frontend's CSS without its fonts from the NHS CDN (the system font follows, as in the NHS
    design system's own fallback) and with its images from our static files."""
    css = REMOTE_FONT_FACE.sub("", css)
    return css.replace("url(/assets/", f"url({settings.STATIC_URL}nhsuk-frontend/assets/")


def built_root():
    return Path(settings.NODE_MODULES) / ".built"


def build(name):
    """Build one file of settings.NPM_BUILT ("prefix/file.css": (source under node_modules, transform)), if
    its source is newer than the built copy. Returns the built path, or None without the package."""
    source_name, transform = settings.NPM_BUILT[name]
    source = Path(settings.NODE_MODULES) / source_name
    target = built_root() / name
    if not source.is_file():
        return None
    if not target.is_file() or target.stat().st_mtime < source.stat().st_mtime:
        target.parent.mkdir(parents=True, exist_ok=True)
        text = import_string(transform)(source.read_text(encoding="utf-8"))
        partial = target.with_suffix(target.suffix + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)  # atomic: a concurrent request never reads half a file
    return target


class NpmFinder(BaseFinder):
    """Finds the files settings.NPM_STATIC lists: {prefix: (folder under node_modules, [glob patterns])}."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.packages = []  # (prefix, root folder, patterns, storage)
        for prefix, (folder, patterns) in getattr(settings, "NPM_STATIC", {}).items():
            root = Path(settings.NODE_MODULES) / folder
            storage = FileSystemStorage(location=root)
            storage.prefix = prefix  # read by collectstatic and whitenoise, as for STATICFILES_DIRS prefixes
            self.packages.append((prefix, root, tuple(patterns), storage))

    def check(self, **kwargs):
        problems = []
        for prefix, (folder, patterns) in getattr(settings, "NPM_STATIC", {}).items():
            if not patterns or isinstance(patterns, str) or "/" in prefix.strip("/"):
                problems.append(
                    Error(
                        f"NPM_STATIC[{prefix!r}] must be (folder, [patterns]) with a one-part prefix.",
                        id="common.E201",
                    )
                )
            elif not (Path(settings.NODE_MODULES) / folder).is_dir():
                problems.append(
                    Warning(
                        f"The npm package folder node_modules/{folder} is not installed, so /static/{prefix}/ "
                        "serves nothing.",
                        hint="Run `make install` (it runs `npm ci` from package-lock.json).",
                        id="common.W201",
                    )
                )
        return problems

    @staticmethod
    def _listed(relative, patterns):
        return any(fnmatch(relative, pattern) for pattern in patterns)

    def find(self, path, find_all=False, **kwargs):
        find_all = find_all or kwargs.get("all", False)  # Django < 6 may still pass `all`
        found = []
        if path in getattr(settings, "NPM_BUILT", {}):
            built = build(path)
            if built is not None:
                return [str(built)] if find_all else str(built)
        for prefix, root, patterns, _storage in self.packages:
            head = f"{prefix}/"
            if not path.startswith(head):
                continue
            relative = path.removeprefix(head)
            candidate = (root / relative).resolve()
            if (
                self._listed(relative, patterns)
                and candidate.is_file()
                and candidate.is_relative_to(root.resolve())  # no ../ out of the package
            ):
                if not find_all:
                    return str(candidate)
                found.append(str(candidate))
        return found

    def list(self, ignore_patterns):
        for name in getattr(settings, "NPM_BUILT", {}):
            built = build(name)
            if built is not None:
                prefix, _, relative = name.partition("/")
                storage = FileSystemStorage(location=built_root() / prefix)
                storage.prefix = prefix
                yield relative, storage
        for _prefix, root, patterns, storage in self.packages:
            if not root.is_dir():
                continue
            for path in utils.get_files(storage, ignore_patterns):
                if self._listed(path.replace("\\", "/"), patterns):
                    yield path, storage
