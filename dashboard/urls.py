from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("referrals/", views.referrals, name="referrals"),
    path("table/<slug:key>/", views.table, name="table"),
    path("export/<slug:key>.csv", views.export, name="export"),
    path("not-on-track/", views.not_on_track, name="not_on_track"),
]
