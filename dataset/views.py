"""The managers' data set pages: the runs, a new export or import, a run's progress and failures, the
download. The team's service managers only; anyone else gets 404 (the page does not exist for them)."""

import csv

from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from common import permissions
from common.csv_export import csv_response

from . import imports, queries, services
from .forms import ExportForm, ImportForm

RUNS_SHOWN = 50


def _team(request, action="export_dataset"):
    team = request.user.team
    if team is None or not permissions.may(request.user, action, team):
        raise Http404
    return team


def _page(request, team, *, export_form=None, import_form=None, status=200):
    runs = list(queries.runs_for(team)[:RUNS_SHOWN])
    return render(
        request,
        "dataset/index.html",
        {
            "team": team,
            "runs": runs,
            "export_form": export_form or ExportForm(),
            "import_form": import_form or ImportForm(),
            "keep_days": settings.DATASET_KEEP_DAYS,
        },
        status=status,
    )


@require_GET
def index(request):
    return _page(request, _team(request))


@require_POST
def start_export(request):
    team = _team(request)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _page(request, team, export_form=form, status=400)
    run = services.start_export(team=team, period=form.cleaned_data["period"], by=request.user)
    return redirect("dataset:run", pk=run.pk)


@require_POST
def start_import(request):
    team = _team(request, "import_dataset")
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, team, import_form=form, status=400)
    run = imports.start_import(
        team=team, upload=form.cleaned_data["extract"], dry_run=form.cleaned_data["dry_run"], by=request.user
    )
    return redirect("dataset:run", pk=run.pk)


@require_GET
def run_detail(request, pk):
    team = _team(request)
    run = queries.run_for(team, pk)
    if run is None:
        raise Http404
    return render(request, "dataset/run.html", {"team": team, "run": run})


@require_GET
def download(request, pk):
    team = _team(request)
    run = queries.run_for(team, pk)
    if run is None:
        raise Http404
    path = services.export_file(run, by=request.user)
    if path is None:
        raise Http404("This run has no file to download (refused, failed, or past its keeping period).")
    if path.suffix != ".zip":  # an import's report: for people, so through the one CSV helper (Excel-safe)
        return csv_response(path.name, _report_rows(path), stream=True)
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=path.name, content_type="application/zip")  # noqa: SIM115 (FileResponse closes it)
    response["Cache-Control"] = "no-store"
    return response


def _report_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        yield from csv.reader(handle)
