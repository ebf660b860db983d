"""Landing page: sends each role to where its day starts."""

from django.shortcuts import render


def home(request):
    return render(request, "stepped_care/home.html")
