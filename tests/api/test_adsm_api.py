"""The API of issue 15: presenting problems, questionnaires by measure code, step dates, the outcome's
anxiety measure and the measures table. Bad input answers 400 naming the field, and nothing is saved."""

import datetime as dt

import pytest
from django.utils import timezone
from knox.models import AuthToken

from outcomes.models import QuestionnaireResponse
from outcomes.scoring import INSTRUMENTS
from referrals.models import CareContact, PresentingProblemRecord, Referral
from stepped_care.models import StepAssignment
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of(api):
    def sign_in(user):
        api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
        return api

    return sign_in


def days_ago(n):
    return (timezone.localdate() - dt.timedelta(days=n)).isoformat()


@pytest.fixture
def social(pwp):
    """A referral for social phobia (F40.1): SPIN is its anxiety measure."""
    referral = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, presenting_problem="social_anxiety")
    return referral


def contact_body(referral, day, questionnaires, **extra):
    return {
        "referral": str(referral.pk),
        "date": day,
        "appointment_type": "01",
        "attendance": "5",
        "questionnaires": questionnaires,
        **extra,
    }


def spread(measure, raw):
    inst = INSTRUMENTS[measure]
    out, rest = [inst.item_min] * inst.item_count, raw - inst.item_min * inst.item_count
    for i in range(inst.item_count):
        step = min(inst.item_max - inst.item_min, rest)
        out[i] += step
        rest -= step
    return out


def saved(referral):
    return (
        CareContact.objects.filter(referral=referral).count(),
        QuestionnaireResponse.objects.filter(referral=referral).count(),
        PresentingProblemRecord.objects.filter(referral=referral).count(),
        StepAssignment.objects.filter(referral=referral).count(),
        Referral.objects.get(pk=referral.pk).version,
    )


# --- presenting problems --------------------------------------------------------------------------------


def test_a_presenting_problem_is_recorded_and_listed(client_of, pwp, referral):
    api = client_of(pwp)
    url = f"/api/v1/referrals/{referral.pk}/presenting-problems/"
    response = api.post(url, {"code": "F40.1", "significance": "primary", "recorded_on": days_ago(5)}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["code"], body["problem"], body["significance"]) == ("F40.1", "social_anxiety", "primary")
    assert body["title"] == "Social phobia" and body["recorded_by"] == str(pwp)
    listed = api.get(url).json()
    assert [p["code"] for p in listed] == ["F32.9", "F40.1"]  # the referral's first problem, then the new one
    referral.refresh_from_db()
    assert referral.presenting_problem == "social_anxiety"  # the latest primary decides the descriptor
    assert api.get(f"/api/v1/referrals/{referral.pk}/outcome/").json()["adsm"] == "SPIN"


def test_a_code_without_its_dot_is_read_as_icd10(client_of, pwp, referral):
    response = client_of(pwp).post(
        f"/api/v1/referrals/{referral.pk}/presenting-problems/",
        {"code": "f421", "significance": "secondary", "recorded_on": days_ago(1)},
        format="json",
    )
    assert response.status_code == 201 and response.json()["code"] == "F42.1"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "F99.9", "significance": "primary", "recorded_on": days_ago(1)}, "code"),
        ({"code": "K58.0", "significance": "primary", "recorded_on": days_ago(1)}, "code"),
        ({"code": "", "significance": "primary", "recorded_on": days_ago(1)}, "code"),
        ({"code": "F40.1", "significance": "tertiary", "recorded_on": days_ago(1)}, "significance"),
        ({"code": "F40.1", "significance": "primary", "recorded_on": days_ago(-1)}, "recorded_on"),
        ({"code": "F40.1", "significance": "primary", "recorded_on": days_ago(400)}, "recorded_on"),
        ({"code": "F40.1", "significance": "primary"}, "recorded_on"),
    ],
)
def test_a_bad_presenting_problem_names_the_field_and_saves_nothing(client_of, pwp, referral, body, field):
    before = saved(referral)
    response = client_of(pwp).post(f"/api/v1/referrals/{referral.pk}/presenting-problems/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert saved(referral) == before


def test_only_clinicians_on_the_case_record_problems(client_of, pwp, manager, outsider, referral):
    body = {"code": "F40.1", "significance": "primary", "recorded_on": days_ago(1)}
    url = f"/api/v1/referrals/{referral.pk}/presenting-problems/"
    assert client_of(manager).post(url, body, format="json").status_code == 403
    assert client_of(outsider).post(url, body, format="json").status_code == 404
    assert client_of(manager).get(url).status_code == 200  # managers read them
    assert PresentingProblemRecord.objects.filter(referral=referral).count() == 1


def test_a_referral_made_with_an_icd10_code_starts_with_that_problem(client_of, pwp, referral):
    api = client_of(pwp)
    body = {"patient": str(referral.patient_id), "received_on": days_ago(2), "source": "gp"}
    response = api.post("/api/v1/referrals/", body | {"presenting_problem_code": "F43.1"}, format="json")
    # the descriptor is required
    assert response.status_code == 400 and "presenting_problem" in response.json()["errors"]
    made = api.post(
        "/api/v1/referrals/",
        body | {"presenting_problem": "ptsd", "presenting_problem_code": "F43.1"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["presenting_problem"] == "ptsd"
    problems = api.get(f"/api/v1/referrals/{made.json()['id']}/presenting-problems/").json()
    assert [(p["code"], p["significance"], p["recorded_on"]) for p in problems] == [("F43.1", "primary", days_ago(2))]
    clash = api.post(
        "/api/v1/referrals/",
        body | {"presenting_problem": "depression", "presenting_problem_code": "F43.1"},
        format="json",
    )
    assert clash.status_code == 400 and "presenting_problem_code" in clash.json()["errors"]


# --- questionnaires by measure code ---------------------------------------------------------------------


def test_a_contact_takes_any_measure_of_the_table_with_every_item_stored(client_of, pwp, social):
    mi = [3] * 22 + [None] * 5  # five skipped: the mean of the 22 answered
    oci = [2] * 40 + [None, None]  # two missing: each takes the mean of the others
    body = contact_body(
        social,
        days_ago(3),
        [
            {"measure": "SPIN", "items": spread("SPIN", 40)},
            {"measure": "MI_ALONE", "items": mi},
            {"measure": "OCI", "items": oci},
            {"measure": "BIQ", "score": 40},
            {"measure": "PHQ9", "items": [1] * 9},
        ],
        risk_note="Passive thoughts, no plan; safety plan agreed.",
    )
    response = client_of(pwp).post("/api/v1/contacts/", body, format="json")
    assert response.status_code == 201, response.json()
    scores = {q["measure"]: q for q in response.json()["questionnaires"]}
    assert scores["SPIN"]["total"] == 40 and scores["SPIN"]["caseness"] is True
    assert scores["SPIN"]["items"] == spread("SPIN", 40) and scores["SPIN"]["snomed_ct"] == "445552006"
    assert scores["MI_ALONE"]["items"] == mi and scores["MI_ALONE"]["total"] == 3
    assert scores["MI_ALONE"]["score_display"] == "3.00" and scores["MI_ALONE"]["caseness"] is True
    assert scores["OCI"]["items"] == oci and scores["OCI"]["total"] == 84
    assert scores["BIQ"]["items"] == [] and scores["BIQ"]["total"] == 40 and scores["BIQ"]["caseness"] is None
    assert scores["PHQ9"]["risk"] is True
    assert QuestionnaireResponse.objects.get(referral=social, measure="OCI").items == oci


def test_a_mobility_inventory_mean_keeps_two_decimals(client_of, pwp, social):
    body = contact_body(social, days_ago(3), [{"measure": "MI_ALONE", "items": spread("MI_ALONE", 62)}])
    response = client_of(pwp).post("/api/v1/contacts/", body, format="json")
    assert response.status_code == 201
    (mi,) = response.json()["questionnaires"]
    assert mi["total"] == 2.3 and mi["score_display"] == "2.30" and mi["caseness"] is False  # 2.30 is not above 2.3


@pytest.mark.parametrize(
    ("questionnaires", "field", "fragment"),
    [
        ([{"measure": "SPAN", "items": [0] * 17}], "questionnaires[0].measure", "Unknown measure"),
        ([{"items": [0] * 17}], "questionnaires[0].measure", "Unknown measure"),
        ([{"measure": "SPIN", "items": [0] * 16}], "questionnaires[0].items", "SPIN item 17 is missing"),
        ([{"measure": "SPIN", "items": [0] * 18}], "questionnaires[0].items", "17 items"),
        ([{"measure": "PCL5", "items": [0] * 19 + [5]}], "questionnaires[0].items", "item 20 must be between 0 and 4"),
        ([{"measure": "MI_ALONE", "items": [2] * 21 + [None] * 6}], "questionnaires[0].items", "6 items skipped"),
        ([{"measure": "OCI", "items": [1] * 39 + [None] * 3}], "questionnaires[0].items", "3 items missing"),
        ([{"measure": "BIQ", "score": 80}], "questionnaires[0].score", "between 0 and 72"),
        ([{"measure": "BIQ", "items": [1, 2]}], "questionnaires[0].score", "recorded as a score"),
        (
            [{"measure": "SPIN", "items": [0] * 17}, {"measure": "SPIN", "items": [1] * 17}],
            "questionnaires[1].measure",
            "given twice",
        ),
        ([{"measure": "PHQ9", "items": [0] * 9}], "questionnaires[0].measure", "given twice"),
    ],
)
def test_a_bad_questionnaire_names_the_field_and_saves_nothing(client_of, pwp, social, questionnaires, field, fragment):
    before = saved(social)
    body = contact_body(social, days_ago(3), questionnaires)
    if fragment == "given twice" and questionnaires[0]["measure"] == "PHQ9":
        body["phq9"] = [0] * 9  # the same measure in the old array and in the list
    response = client_of(pwp).post("/api/v1/contacts/", body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors, errors
    assert fragment in " ".join(errors[field])
    assert saved(social) == before


def test_questionnaires_that_are_not_a_list_of_objects_are_refused(client_of, pwp, social):
    before = saved(social)
    for bad in ("SPIN", [1, 2], {"measure": "SPIN"}):
        response = client_of(pwp).post("/api/v1/contacts/", contact_body(social, days_ago(3), bad), format="json")
        assert response.status_code == 400 and "questionnaires" in response.json()["errors"]
    assert saved(social) == before


# --- the step's date --------------------------------------------------------------------------------------


def test_a_step_takes_its_effective_date(client_of, pwp, referral):
    api = client_of(pwp)
    url = f"/api/v1/referrals/{referral.pk}/steps/"
    before = saved(referral)
    for day, field in ((days_ago(-1), "started_on"), (days_ago(400), "started_on"), ("someday", "started_on")):
        response = api.post(url, {"step": 2, "reason": "Assessed", "started_on": day}, format="json")
        assert response.status_code == 400 and field in response.json()["errors"]
    assert saved(referral) == before
    response = api.post(url, {"step": 2, "reason": "Assessed", "started_on": days_ago(30)}, format="json")
    assert response.status_code == 201 and response.json()["started_on"] == days_ago(30)
    assert StepAssignment.objects.get(referral=referral).started_on.isoformat() == days_ago(30)


# --- the outcome and the measures table -------------------------------------------------------------------


def test_the_outcome_names_its_anxiety_measure_and_says_when_it_is_not_assessed(client_of, pwp, social):
    api = client_of(pwp)
    url = f"/api/v1/referrals/{social.pk}/outcome/"
    first = [{"measure": "PHQ9", "items": [2] * 9}, {"measure": "SPIN", "items": spread("SPIN", 40)}]
    first.append({"measure": "GAD7", "items": [2] * 7})
    body = contact_body(social, days_ago(20), first, risk_note="Passive thoughts, no plan; safety plan agreed.")
    assert api.post("/api/v1/contacts/", body, format="json").status_code == 201
    out = api.get(url).json()
    assert out["assessed"] is False and out["recovered"] is None and out["caseness_at_start"] is None
    assert out["anxiety_measure"] is None and out["reason"] == (
        "only one PHQ-9 score; only one SPIN score and only one GAD-7 score"
    )
    later = [{"measure": "PHQ9", "items": [0] * 9}, {"measure": "SPIN", "items": spread("SPIN", 15)}]
    body = contact_body(social, days_ago(10), later, appointment_type="02")
    assert api.post("/api/v1/contacts/", body, format="json").status_code == 201
    out = api.get(url).json()
    assert (out["assessed"], out["anxiety_measure"], out["anxiety_first"], out["anxiety_last"]) == (
        True,
        "SPIN",
        40,
        15,
    )
    assert out["recovered"] is True and out["reliable_improvement"] is True
    assert out["anxiety_basis"] == "SPIN, for social phobia F40.1: 2 scores"
    assert (out["gad7_first"], out["gad7_last"]) == (14, 14)  # one GAD-7 score: shown, not used


def test_the_measures_table_is_served(client_of, pwp):
    api = client_of(pwp)
    measures = {m["code"]: m for m in api.get("/api/v1/measures/").json()}
    assert set(measures) == set(INSTRUMENTS)
    spin = measures["SPIN"]
    assert (spin["item_count"], spin["item_min"], spin["item_max"], spin["total_max"]) == (17, 0, 4, 68)
    assert spin["caseness"] == {"value": 19, "op": ">="} and spin["reliable_change"] == {"value": 10, "op": ">="}
    assert spin["is_adsm"] and spin["presenting_problem"] == "F40.1" and spin["snomed_ct"] == "445552006"
    assert measures["PDSS"]["reliable_change"] == {"value": 5, "op": ">"}
    mi = measures["MI_ALONE"]
    assert (mi["scoring"], mi["missing"], mi["max_missing"]) == ("mean", "skipped", 5)
    assert mi["caseness"] == {"value": 2.3, "op": ">"} and mi["reliable_change"] == {"value": 0.73, "op": ">="}
    assert measures["PHQ9"]["items"][8]["text"].startswith("Thoughts that you would be better off dead")
    assert measures["SPIN"]["items"][0] == {"number": 1, "text": "Item 1"} and not measures["SPIN"]["worded"]
    assert measures["BIQ"]["decides_outcomes"] is False and measures["BIQ"]["item_count"] == 0
    assert api.get("/api/v1/measures/OCI/").json()["max_missing"] == 2
    assert api.get("/api/v1/measures/NOPE/").status_code == 404


def test_a_malformed_questionnaire_is_refused_naming_its_place(client_of, pwp, social):
    before = saved(social)
    body = contact_body(social, days_ago(3), [{"measure": "SPIN", "items": [0] * 17}, {"measure": "OCI", "items": 3}])
    response = client_of(pwp).post("/api/v1/contacts/", body, format="json")
    assert response.status_code == 400
    messages = response.json()["errors"]["questionnaires"]
    assert any(m.startswith("questionnaires[1].items: ") for m in messages), response.json()
    assert saved(social) == before
