"""Read-only API of questionnaire responses, scoped like every clinical read (outsiders get 404)."""

import django_filters
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from common import audit
from referrals.models import Referral

from .models import Measure, QuestionnaireResponse
from .scoring import INSTRUMENTS
from .serializers import MeasureSerializer, QuestionnaireSerializer


class QuestionnaireFilter(django_filters.FilterSet):
    referral = django_filters.UUIDFilter(field_name="referral_id")
    contact = django_filters.UUIDFilter(field_name="contact_id")
    measure = django_filters.MultipleChoiceFilter(choices=Measure.choices)
    completed_on = django_filters.DateFromToRangeFilter()

    class Meta:
        model = QuestionnaireResponse
        fields = ["referral", "contact", "measure", "entered_in_error", "completed_on"]


class QuestionnaireViewSet(viewsets.ReadOnlyModelViewSet):
    """Completed questionnaires with every item answer; corrections stay visible, marked entered in error."""

    serializer_class = QuestionnaireSerializer
    filterset_class = QuestionnaireFilter
    ordering_fields = ["completed_on", "total", "created_at"]
    ordering = ["completed_on", "created_at", "id"]

    def get_queryset(self):
        visible = Referral.objects.visible_to(self.request.user).values("pk")
        return (
            QuestionnaireResponse.objects.filter(referral__in=visible)
            .select_related("referral")
            .order_by(*self.ordering)
        )

    def retrieve(self, request, *args, **kwargs):
        questionnaire = self.get_object()
        audit.record_view(request, questionnaire, action="questionnaire.view")
        return Response(self.get_serializer(questionnaire).data)


class MeasureViewSet(viewsets.ViewSet):
    """The measures the service records (the measures table): items, answer scales, score ranges,
    caseness and reliable change with their comparison signs, SNOMED CT codes. Not paginated: it is short."""

    serializer_class = MeasureSerializer
    lookup_value_regex = "[A-Z0-9_]+"

    @extend_schema(responses={200: MeasureSerializer(many=True)})
    def list(self, request):
        return Response(MeasureSerializer(INSTRUMENTS.values(), many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, description="Measure code, e.g. SPIN")],
        responses={200: MeasureSerializer},
    )
    def retrieve(self, request, pk=None):
        if pk not in INSTRUMENTS:
            raise Http404
        return Response(MeasureSerializer(INSTRUMENTS[pk]).data)
