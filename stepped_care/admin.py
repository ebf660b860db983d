from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from common.admin import ReadOnlyAdmin

from .models import ReviewFlag, Staff, StepAssignment, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "require_two_factor"]


@admin.register(Staff)
class StaffAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "team", "is_supervisor", "is_active"]
    list_filter = ["role", "team", "is_supervisor", "is_active"]
    fieldsets = [*UserAdmin.fieldsets, ("Clinical role", {"fields": ["team", "role", "is_supervisor"]})]
    add_fieldsets = [*UserAdmin.add_fieldsets, ("Clinical role", {"fields": ["team", "role", "is_supervisor"]})]


@admin.register(StepAssignment)
class StepAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["referral", "step", "started_on", "ended_on", "source", "decided_by"]
    list_filter = ["step", "source"]


@admin.register(ReviewFlag)
class ReviewFlagAdmin(ReadOnlyAdmin):
    list_display = ["referral", "rule", "recommendation", "severity", "status", "raised_at"]
    list_filter = ["rule", "status", "severity"]
