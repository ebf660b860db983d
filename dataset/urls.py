from django.urls import path

from . import views

app_name = "dataset"

urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.start_export, name="export"),
    path("import/", views.start_import, name="import"),
    path("runs/<uuid:pk>/", views.run_detail, name="run"),
    path("runs/<uuid:pk>/download/", views.download, name="download"),
]
