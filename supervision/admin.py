from django.contrib import admin

from .models import SupervisionRelationship


@admin.register(SupervisionRelationship)
class SupervisionRelationshipAdmin(admin.ModelAdmin):
    list_display = ["supervisor", "supervisee", "kind", "frequency_days", "minutes", "started_on", "ended_on"]
    list_filter = ["kind"]
