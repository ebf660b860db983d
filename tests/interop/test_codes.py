"""Each measure's FHIR codes, table by table: the SNOMED CT code the data set records and LOINC where it
has the total, checked against a table written here from the reference and against the measures CSV;
and each resource the presenters build, for every measure, parsed back by the FHIR library."""

import csv
import datetime as dt
import uuid
from decimal import Decimal

import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as FhirQuestionnaireResponse

from interop import codes, presenters
from outcomes.models import QuestionnaireResponse
from outcomes.scoring import INSTRUMENTS, score
from tests.paths import REPO

SCT, LOINC = codes.SNOMED_CT, codes.LOINC

# measure → the codes of its total (from ../shared/reference/measures.csv and DOMAIN §9), written out by hand.
TOTAL_CODES = {
    "PHQ9": {(SCT, "720433000"), (LOINC, "44261-6")},
    "GAD7": {(SCT, "445455005"), (LOINC, "70274-6")},
    "MI_ALONE": {(SCT, "473355002")},
    "MI_ACCOMPANIED": {(SCT, "473354003")},
    "SPIN": {(SCT, "445552006")},
    "PDSS": {(SCT, "450326007")},
    "PCL5": {(SCT, "491581000000104")},
    "OCI": {(SCT, "450324005")},
    "HAI": {(SCT, "446793008")},
    "BIQ": {(SCT, "1128221000000100")},
    "IBS_SSS": {(SCT, "1083671000000108")},
    "PHQ15": {(SCT, "1065441000000103")},
    "WSAS": set(),  # no code for the total: its items are coded (below)
    "PSWQ": {(SCT, "446517006")},
}
WSAS_ITEM_CODES = ["932621000000100", "932581000000100", "932611000000106", "932591000000103", "932601000000109"]
PATIENT = {"reference": "urn:uuid:00000000-0000-4000-8000-000000000001", "type": "Patient"}


def test_the_table_covers_every_measure():
    assert set(TOTAL_CODES) == set(INSTRUMENTS)


@pytest.mark.parametrize("measure", sorted(TOTAL_CODES))
def test_total_codes_per_measure(measure):
    assert {(c.system, c.code) for c in codes.total_codings(measure)} == TOTAL_CODES[measure]


def test_snomed_codes_are_the_measures_table():
    """The export codes a total as the monthly submission does (IDS607 CodedAssToolType)."""
    with (REPO / "outcomes" / "data" / "measures.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(INSTRUMENTS)
    for row in rows:
        snomed = {c.code for c in codes.total_codings(row["code"]) if c.system == SCT}
        assert snomed == ({row["snomed_ct"]} if row["snomed_ct"] else set()), row["code"]


def test_wsas_items_carry_their_snomed_codes_in_item_order():
    assert [c.code for c in codes.item_codings("WSAS")] == WSAS_ITEM_CODES
    assert all(c.system == SCT for c in codes.item_codings("WSAS"))
    assert codes.item_codings("PHQ9") == []


@pytest.mark.parametrize(
    ("stated", "fhir"), [("1", "male"), ("2", "female"), ("9", "other"), ("X", "unknown"), ("", None), (None, None)]
)
def test_stated_gender_codes(stated, fhir):
    assert codes.administrative_gender(stated) == fhir


def unsaved(measure):
    """A questionnaire of ``measure`` as the model holds it (not saved: the presenters need no database),
    its answers in range (lowest and highest alternating, one left out where the measure allows it)."""
    inst = INSTRUMENTS[measure]
    items = [inst.item_min if n % 2 else inst.item_max for n in range(inst.item_count)]
    if inst.missing != "none" and items:
        items[-1] = None  # the Mobility Inventory and the OCI allow an item to be left out
    scored = score(measure, items) if inst.has_items else score(measure, total=inst.total_max // 2)
    return QuestionnaireResponse(
        id=uuid.uuid4(),
        measure=measure,
        items=list(scored.items),
        total=scored.total,
        completed_on=dt.date(2026, 10, 5),
    )


@pytest.mark.parametrize("measure", sorted(INSTRUMENTS))
def test_every_measure_makes_valid_resources(measure):
    questionnaire = unsaved(measure)
    response = FhirQuestionnaireResponse.model_validate_json(
        presenters.questionnaire_response_resource(questionnaire, PATIENT).model_dump_json()
    )
    observation = Observation.model_validate_json(
        presenters.observation_resource(questionnaire, PATIENT).model_dump_json()
    )
    inst = INSTRUMENTS[measure]
    items = response.item or []
    assert [i.linkId for i in items] == [str(n) for n in range(1, inst.item_count + 1)]
    answered = [i.answer[0].valueInteger if i.answer else None for i in items]
    assert answered == questionnaire.items
    assert {(c.system, c.code) for c in observation.code.coding or []} == TOTAL_CODES[measure]
    assert observation.code.text
    if inst.scoring == "mean":
        assert observation.valueQuantity.value == Decimal(str(questionnaire.total))
        assert observation.valueInteger is None
    else:
        assert observation.valueInteger == questionnaire.total
    assert observation.derivedFrom[0].reference == f"urn:uuid:{questionnaire.pk}"
    assert observation.meta.profile == [codes.OBSERVATION_PROFILE]
    assert response.meta.profile == [codes.QUESTIONNAIRE_RESPONSE_PROFILE]
    assert observation.subject.reference == response.subject.reference == PATIENT["reference"]
    components = observation.component or []
    if measure == "WSAS":
        assert [c.code.coding[0].code for c in components] == WSAS_ITEM_CODES
        assert [c.valueInteger for c in components] == questionnaire.items
    else:
        assert components == []
