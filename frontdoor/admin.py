from django.contrib import admin

from .models import FrontDoor, GPPractice


class GPPracticeInline(admin.TabularInline):
    model = GPPractice
    extra = 1


@admin.register(FrontDoor)
class FrontDoorAdmin(admin.ModelAdmin):
    """A team's self-referral form: its address, whether it is open, and who it is for."""

    list_display = ["team", "slug", "is_open", "min_age", "max_age"]
    inlines = [GPPracticeInline]
