"""REST API of the diaries: appointments (book, a weekly series, reschedule, cancel, a one-click outcome)
and working patterns. Reads go through the referrals the caller may see (outsiders get 404); writes
are the services the pages call. A clash or a stale ``version`` is 409."""

from datetime import timedelta

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common import audit
from common.exceptions import Conflict
from common.idempotency import IdempotentCreateMixin
from common.scoping import team_scope

from . import queries, services
from .models import Leave, WorkingPattern
from .serializers import (
    AppointmentSerializer,
    CancelSerializer,
    LeaveSerializer,
    NoBodySerializer,
    OutcomeSerializer,
    PatternEndSerializer,
    RescheduleSerializer,
    SeriesSerializer,
    WorkingPatternSerializer,
)


class Clashes(Conflict):
    """409: the clinician is booked then, or the appointment changed since it was read."""

    code = "appointment_clash"

    def __init__(self, clash):
        self.errors = clash.message_dict
        super().__init__(" ".join(m for ms in self.errors.values() for m in ms))

    @property
    def extra(self):
        return {"errors": self.errors}


def _calling(call, **kwargs):
    try:
        return call(**kwargs)
    except services.Clash as exc:
        raise Clashes(exc) from exc


class AppointmentViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Appointments of referrals you may see, soonest first; ``?clinician=`` and ``?status=`` filter."""

    serializer_class = AppointmentSerializer
    filterset_fields = ["clinician", "status", "referral", "appointment_type"]
    ordering_fields = ["starts_at", "created_at"]
    ordering = ["starts_at", "id"]

    def get_queryset(self):
        return queries.appointments_visible_to(self.request.user).order_by(*self.ordering)

    def retrieve(self, request, *args, **kwargs):
        appointment = self.get_object()
        audit.record_view(request, appointment)
        return Response(self.get_serializer(appointment).data)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = _calling(services.book, by=self.request.user, **data)

    def _answer(self, appointment, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=appointment.pk)
        return Response(AppointmentSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=SeriesSerializer, responses={201: AppointmentSerializer(many=True)})
    @action(detail=True, methods=["post"], serializer_class=SeriesSerializer)
    def series(self, request, pk=None):
        """Book ``count`` weekly appointments like this one from a week after it: all, or none on a clash."""
        first = self.get_object()
        body = SeriesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        booked = _calling(
            services.book_series,
            referral=first.referral,
            clinician=first.clinician,
            starts_at=first.starts_at + timedelta(days=7),
            appointment_type=first.appointment_type,
            mechanism=first.mechanism,
            count=body.validated_data["count"],
            by=request.user,
        )
        data = AppointmentSerializer(booked, many=True, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CancelSerializer, responses={200: AppointmentSerializer})
    @action(detail=True, methods=["post"], serializer_class=CancelSerializer)
    def cancel(self, request, pk=None):
        """Cancel by the patient or the provider, with a reason; the time is free again."""
        appointment = self.get_object()
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _calling(services.cancel, appointment=appointment, by=request.user, **body.validated_data)
        return self._answer(appointment)

    @extend_schema(request=RescheduleSerializer, responses={201: AppointmentSerializer})
    @action(detail=True, methods=["post"], serializer_class=RescheduleSerializer)
    def reschedule(self, request, pk=None):
        """Move it: this one is cancelled as rescheduled, the new one is the answer (201)."""
        appointment = self.get_object()
        body = RescheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        moved = _calling(services.reschedule, appointment=appointment, by=request.user, **body.validated_data)
        return self._answer(moved, status.HTTP_201_CREATED)

    @extend_schema(request=OutcomeSerializer, responses={200: AppointmentSerializer, 201: AppointmentSerializer})
    @action(detail=True, methods=["post"], serializer_class=OutcomeSerializer)
    def outcome(self, request, pk=None):
        """Record a did-not-attend, a cancellation or arrived late and not seen as the appointment's contact:
        201 when made now, 200 with the contact already made (once, whatever is retried)."""
        appointment = self.get_object()
        body = OutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _, created = services.record_appointment_outcome(
            appointment=appointment, attendance=body.validated_data["attendance"], by=request.user
        )
        return self._answer(appointment, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class WorkingPatternViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """The team's working patterns (clinicians see their team's, to book; superusers every team's)."""

    serializer_class = WorkingPatternSerializer
    filterset_fields = ["clinician", "weekday", "location"]
    ordering = ["clinician", "weekday", "start", "id"]

    def get_queryset(self):
        user = self.request.user
        scoped = team_scope(WorkingPattern.objects.all(), user)
        if scoped is None:
            scoped = WorkingPattern.objects.filter(team_id=user.team_id)
        return scoped.order_by(*self.ordering)

    def perform_create(self, serializer):
        serializer.instance = services.add_working_pattern(by=self.request.user, **serializer.validated_data)

    @extend_schema(request=PatternEndSerializer, responses={200: WorkingPatternSerializer})
    @action(detail=True, methods=["post"], serializer_class=PatternEndSerializer)
    def end(self, request, pk=None):
        """These hours stop after ``valid_until`` (their last day); 400 naming ``valid_until`` if before
        they start or after they already end."""
        body = PatternEndSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pattern = services.end_working_pattern(
            pattern=self.get_object(), on=body.validated_data["valid_until"], by=request.user
        )
        return Response(WorkingPatternSerializer(pattern, context=self.get_serializer_context()).data)


class LeaveViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """The team's leave with cover (the free slots leave those days out)."""

    serializer_class = LeaveSerializer
    filterset_fields = ["clinician", "cover"]
    ordering = ["starts_on", "id"]

    def get_queryset(self):
        user = self.request.user  # the team's, as working patterns (leave has no team of its own)
        if not user.is_authenticated or (user.team_id is None and not user.is_superuser):
            return Leave.objects.none()
        leave = Leave.objects.all() if user.is_superuser else Leave.objects.filter(clinician__team_id=user.team_id)
        return leave.order_by(*self.ordering)

    def perform_create(self, serializer):
        serializer.instance = services.record_leave(by=self.request.user, **serializer.validated_data)

    @extend_schema(request=None, responses={200: LeaveSerializer, 204: None})
    @action(detail=True, methods=["post"], serializer_class=NoBodySerializer)
    def withdraw(self, request, pk=None):
        """Take the leave back: not begun yet, it is removed (204); under way, it ends yesterday (200,
        the leave as it now is); ended, it stays (400 naming ``leave``)."""
        kept = services.withdraw_leave(leave=self.get_object(), by=request.user)
        if kept is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(LeaveSerializer(kept, context=self.get_serializer_context()).data)
