"""REST API for group courses, enrolments and session registers. Parsing here; writes are service calls."""

from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from appointments.api import Clashes
from appointments.serializers import NoBodySerializer
from appointments.services import Clash
from common.idempotency import IdempotentCreateMixin
from stepped_care.models import Staff

from . import presenters, services
from .models import CourseSession, Enrolment, GroupCourse, RegisterEntry
from .serializers import (
    CourseSerializer,
    CourseStatusSerializer,
    EnrolmentSerializer,
    EnrolmentWithdrawSerializer,
    RegisterCorrectionSerializer,
    RegisterSerializer,
    RegisterSummarySerializer,
    TakeRegisterSerializer,
)


def _courses(user):
    return (
        GroupCourse.objects.visible_to(user)
        .with_stats(timezone.localdate())
        .prefetch_related(
            Prefetch("facilitators", queryset=Staff.objects.order_by("pk")),
            Prefetch("sessions", queryset=CourseSession.objects.order_by("number")),
        )
        .order_by("-created_at", "-pk")
    )


class CourseViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Courses you facilitate (managers: the team's), with fill and attendance rates."""

    serializer_class = CourseSerializer
    filterset_fields = ["status", "topic", "step", "delivery"]
    ordering_fields = ["created_at", "title"]

    def get_queryset(self):
        return _courses(self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        schedule = data.pop("schedule")
        try:
            course = services.create_course(
                by=self.request.user, sessions=[(s["date"], s.get("time")) for s in schedule], **data
            )
        except Clash as exc:  # a facilitator is booked at a session's time: 409, nothing made
            raise Clashes(exc) from exc
        serializer.instance = _courses(self.request.user).filter(pk=course.pk).first() or course

    @extend_schema(request=CourseStatusSerializer, responses={200: CourseSerializer})
    @action(detail=True, methods=["post"], serializer_class=CourseStatusSerializer)
    def status(self, request, pk=None):
        """Mark the course running, completed or cancelled (cancelling withdraws everyone enrolled)."""
        course = self.get_object()
        body = CourseStatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.set_course_status(
            course=course,
            status=body.validated_data["status"],
            note=body.validated_data.get("note", ""),
            by=request.user,
        )
        return Response(CourseSerializer(self.get_queryset().get(pk=course.pk), context={"request": request}).data)

    @extend_schema(request=None, responses={200: CourseSerializer})
    @action(detail=True, methods=["post"], serializer_class=NoBodySerializer)
    def diaries(self, request, pk=None):
        """Hold the course's sessions to come (with a time) in its facilitators' diaries; 409
        ``appointment_clash`` naming ``sessions`` when a facilitator is booked then (nothing is held)."""
        course = self.get_object()
        try:
            services.hold_diaries(course=course, by=request.user)
        except Clash as exc:
            raise Clashes(exc) from exc
        return Response(CourseSerializer(self.get_queryset().get(pk=course.pk), context={"request": request}).data)


class EnrolmentViewSet(
    IdempotentCreateMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Places on courses: enrol a referral you can see on an open course of your team; withdraw with a reason."""

    serializer_class = EnrolmentSerializer
    filterset_fields = ["course", "referral", "withdrawal_reason"]
    ordering_fields = ["enrolled_on", "created_at"]

    def get_queryset(self):
        return Enrolment.objects.visible_to(self.request.user).order_by("-enrolled_on", "-pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.enrol(
            course=data["course"], referral=data["referral"], on=data.get("enrolled_on"), by=self.request.user
        )

    @extend_schema(request=EnrolmentWithdrawSerializer, responses={200: EnrolmentSerializer})
    @action(detail=True, methods=["post"], serializer_class=EnrolmentWithdrawSerializer)
    def withdraw(self, request, pk=None):
        enrolment = self.get_object()
        body = EnrolmentWithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        enrolment = services.withdraw(
            enrolment=enrolment,
            reason=body.validated_data["reason"],
            note=body.validated_data.get("note", ""),
            on=body.validated_data.get("withdrawn_on"),
            by=request.user,
        )
        return Response(EnrolmentSerializer(enrolment, context={"request": request}).data)


def register_data(session):
    """Every row of a session's register: recorded entries, then the enrolments still due."""
    done = presenters.session_register(session)
    rows = []
    for entry, cell in done:
        contact = entry.contact
        rows.append(
            {
                "enrolment": entry.enrolment_id,
                "referral": entry.enrolment.referral_id,
                "patient_name": str(entry.enrolment.referral.patient),
                "entry": {
                    "id": entry.pk,
                    "contact": contact.pk,
                    "attendance": contact.attendance,
                    "attendance_display": contact.get_attendance_display(),
                    "phq9_total": cell.phq9.total if cell.phq9 else None,
                    "gad7_total": cell.gad7.total if cell.gad7 else None,
                    "group_participants": contact.group_participants,
                    "group_facilitators": contact.group_facilitators,
                },
            }
        )
    due = list(services.register_rows(session))
    rows += [
        {"enrolment": e.pk, "referral": e.referral_id, "patient_name": str(e.referral.patient), "entry": None}
        for e in due
    ]
    data = {
        "session": session.pk,
        "course": session.course_id,
        "number": session.number,
        "date": session.date,
        "time": session.time,
        "rows": rows,
    }
    patients = [e.enrolment.referral.patient_id for e, _ in done] + [e.referral.patient_id for e in due]
    return data, patients


class RegisterViewSet(IdempotentCreateMixin, viewsets.GenericViewSet):
    """Session registers. GET a session's register (ids are session ids); POST one to record every row
    as a group care contact: all rows or none (400 lists the errors row by row, aligned with ``rows``)."""

    serializer_class = RegisterSummarySerializer
    filterset_fields = ["course"]

    def get_queryset(self):
        return (
            CourseSession.objects.visible_to(self.request.user)
            .select_related("course")
            .annotate(
                registered=Count(
                    "entries",
                    filter=Q(entries__entered_in_error=False, entries__contact__entered_in_error=False),
                )
            )
            .order_by("course_id", "number")
        )

    @extend_schema(responses=RegisterSummarySerializer(many=True))
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(RegisterSummarySerializer(page, many=True).data)

    @extend_schema(responses=RegisterSerializer)
    def retrieve(self, request, pk=None):
        session = get_object_or_404(self.get_queryset(), pk=pk)
        data, patients = register_data(session)
        services.record_view(request.user, "register.view", session, patients)
        return Response(RegisterSerializer(data).data)

    @extend_schema(
        request=TakeRegisterSerializer,
        responses={201: RegisterSerializer},
    )
    def create(self, request):
        body = TakeRegisterSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        session = body.validated_data["session"]
        try:
            services.take_register(session=session, rows=body.validated_data["rows"], by=request.user)
        except services.RegisterError as exc:
            detail = {"rows": exc.rows}
            if exc.errors:
                detail["non_field_errors"] = exc.errors
            raise ValidationError(detail) from None
        data, _ = register_data(session)
        return Response(RegisterSerializer(data).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RegisterCorrectionSerializer, responses={200: RegisterSerializer})
    @action(detail=True, methods=["post"], url_path="entered-in-error", serializer_class=RegisterCorrectionSerializer)
    def entered_in_error(self, request, pk=None):
        """Mark one row entered in error (its contact and scores too); the row is due again."""
        session = get_object_or_404(self.get_queryset(), pk=pk)
        body = RegisterCorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = get_object_or_404(RegisterEntry.objects.valid(), pk=body.validated_data["entry"], session=session)
        services.correct_entry(entry=entry, reason=body.validated_data["reason"], by=request.user)
        data, _ = register_data(session)
        return Response(RegisterSerializer(data).data)
