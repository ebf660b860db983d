"""The REST API as a client sees it: token auth, scoping (outsiders get 404), labels on codes, filters,
optimistic concurrency (stale version → 409) and bad input (400 naming the field, nothing saved)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.models import AuditEvent
from outcomes.models import QuestionnaireResponse
from referrals import services
from referrals.models import CareContact, Patient, Referral
from stepped_care.models import StepAssignment
from tests.api.conftest import PHQ9_START, days_ago
from tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of(api):
    """An API client holding a member of staff's token, as an external client would."""

    def sign_in(user):
        from knox.models import AuthToken

        api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=user)[1]}")
        return api

    return sign_in


def ids(response):
    return {row["id"] for row in response.json()["results"]}


# --- who am I, token, labels -------------------------------------------------------------------------


def test_me_names_the_caller(client_of, pwp):
    body = client_of(pwp).get("/api/v1/me/").json()
    assert body["id"] == pwp.pk and body["username"] == "pwp_a"
    assert body["role"] == "pwp" and body["role_display"] == "Psychological Wellbeing Practitioner"
    assert body["team"] == pwp.team_id


def test_requests_without_credentials_are_refused(api, world):
    assert api.get("/api/v1/referrals/").status_code in (401, 403)
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get("/api/v1/referrals/")
    assert response.status_code in (401, 403) and response.json()["detail"] == "Invalid token."


def test_coded_fields_carry_their_labels(client_of, pwp, world):
    api = client_of(pwp)
    mine = world.ids["referrals"][0]
    referral = api.get(f"/api/v1/referrals/{mine}/").json()
    assert referral["source_display"] == "GP"
    assert referral["presenting_problem_display"] == "Depression"
    assert referral["status"] == "in_treatment" and referral["status_display"] == "In treatment"
    assert referral["current_step"] == 2 and referral["current_step_display"] == "Step 2: low intensity"
    assert referral["care_coordinator"] == pwp.pk and referral["care_coordinator_name"] == str(pwp)
    contact = api.get(f"/api/v1/contacts/{world.ids['contacts'][0]}/").json()
    assert contact["appointment_type"] == "01" and contact["appointment_type_display"] == "Assessment"
    assert contact["attendance"] == "5" and contact["attendance_display"] == "Attended on time"
    assert contact["mechanism_display"] == "Face to face" and contact["therapy_mode_display"] == "Individual"
    assert contact["phq9"] == PHQ9_START
    scores = {q["measure"]: q for q in contact["questionnaires"]}
    assert scores["PHQ9"]["total"] == 12 and scores["PHQ9"]["severity"] == "moderate"
    assert scores["PHQ9"]["measure_display"] == "PHQ-9: Patient Health Questionnaire 9"
    assert scores["PHQ9"]["measure_name"] == "PHQ-9"
    assert scores["WSAS"]["total"] == 10 and scores["WSAS"]["severity"] == "significant impairment"
    assert scores["WSAS"]["caseness"] is None  # WSAS has no caseness cut-off


def test_questionnaires_list_items_total_and_severity(client_of, pwp, world):
    api = client_of(pwp)
    mine = world.ids["referrals"][0]
    body = api.get(f"/api/v1/questionnaires/?referral={mine}&measure=PHQ9").json()
    assert [(q["total"], q["severity"], q["caseness"]) for q in body["results"]] == [
        (12, "moderate", True),
        (4, "minimal", False),
    ]
    first = body["results"][0]
    assert first["items"] == PHQ9_START and first["risk"] is False and first["entered_in_error"] is False
    assert api.get(f"/api/v1/questionnaires/{first['id']}/").json()["total"] == 12
    both = api.get(f"/api/v1/questionnaires/?referral={mine}&measure=PHQ9&measure=GAD7&ordering=-total").json()
    totals = [q["total"] for q in both["results"]]
    assert len(totals) == 4 and totals == sorted(totals, reverse=True)


# --- scoping -----------------------------------------------------------------------------------------


def test_a_clinicians_token_sees_only_what_the_clinician_may_see(client_of, pwp, world):
    api = client_of(pwp)
    mine, waiting, ended, theirs = world.ids["referrals"]
    assert ids(api.get("/api/v1/referrals/")) == {mine, waiting, ended}
    assert ids(api.get("/api/v1/referrals/?caseload=true")) == {mine}
    assert ids(api.get("/api/v1/referrals/?unallocated=true")) == {waiting}
    assert ids(api.get("/api/v1/referrals/?status=discharged")) == {ended}
    assert ids(api.get("/api/v1/referrals/?status=discharged&status=awaiting_assessment")) == {ended, waiting}
    their_patient = world.ids["patients"][2]
    assert their_patient not in ids(api.get("/api/v1/patients/"))
    assert world.ids["contacts"][2] not in ids(api.get("/api/v1/contacts/"))
    assert ids(api.get(f"/api/v1/contacts/?referral={theirs}")) == set()
    assert ids(api.get(f"/api/v1/questionnaires/?referral={theirs}")) == set()
    assert len(ids(api.get("/api/v1/questionnaires/"))) == 5


def test_a_colleague_sees_the_waiting_list_but_not_the_caseload(client_of, colleague, world):
    api = client_of(colleague)
    mine, waiting, *_ = world.ids["referrals"]
    assert ids(api.get("/api/v1/referrals/")) == {waiting}
    assert api.get(f"/api/v1/referrals/{mine}/").status_code == 404


def test_supervisor_and_manager_see_more(client_of, supervisor, manager, world):
    mine, waiting, ended, _ = world.ids["referrals"]
    assert ids(client_of(supervisor).get("/api/v1/referrals/")) == {mine, waiting, ended}
    assert ids(client_of(manager).get("/api/v1/referrals/")) == {mine, waiting, ended}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/patients/{patient}/"),
        ("patch", "/api/v1/patients/{patient}/"),
        ("get", "/api/v1/referrals/{referral}/"),
        ("get", "/api/v1/referrals/{referral}/outcome/"),
        ("get", "/api/v1/referrals/{referral}/steps/"),
        ("post", "/api/v1/referrals/{referral}/steps/"),
        ("post", "/api/v1/referrals/{referral}/discharge/"),
        ("post", "/api/v1/referrals/{referral}/allocate/"),
        ("get", "/api/v1/contacts/{contact}/"),
        ("post", "/api/v1/contacts/{contact}/entered-in-error/"),
        ("get", "/api/v1/questionnaires/{questionnaire}/"),
    ],
)
def test_outsiders_get_404_on_every_detail_route(client_of, outsider, pwp, world, method, path):
    """The other service's clinician holds a valid token, yet our records do not exist for them."""
    api = client_of(outsider)
    url = path.format(
        patient=world.ids["patients"][0],
        referral=world.ids["referrals"][0],
        contact=world.ids["contacts"][0],
        questionnaire=world.ids["questionnaires"][0],
    )
    body = {"version": 1, "step": 3, "reason": "x", "end_code": "46", "care_coordinator": outsider.pk}
    response = getattr(api, method)(url, body, format="json") if method != "get" else api.get(url)
    assert response.status_code == 404, response.content
    assert "detail" in response.json()


def test_outsiders_cannot_point_new_records_at_our_referrals(client_of, outsider, world):
    api = client_of(outsider)
    before = CareContact.objects.count()
    response = api.post(
        "/api/v1/contacts/",
        {"referral": world.ids["referrals"][0], "date": str(days_ago(1)), "appointment_type": "02", "attendance": "5"},
        format="json",
    )
    assert response.status_code == 400
    assert "referral" in response.json()["errors"]
    assert "does not exist" in response.json()["errors"]["referral"][0]
    assert CareContact.objects.count() == before


def test_record_views_are_audited(client_of, pwp, world):
    api = client_of(pwp)
    api.get(f"/api/v1/referrals/{world.ids['referrals'][0]}/")
    api.get(f"/api/v1/patients/{world.ids['patients'][0]}/")
    actions = set(AuditEvent.objects.filter(actor=pwp).values_list("action", flat=True))
    assert {"referral.view", "patient.view"} <= actions


# --- optimistic concurrency --------------------------------------------------------------------------


def test_patient_update_with_the_version_read_succeeds_and_bumps_it(client_of, pwp, world):
    api = client_of(pwp)
    url = f"/api/v1/patients/{world.ids['patients'][0]}/"
    read = api.get(url).json()
    response = api.patch(url, {"version": read["version"], "phone": "01632 960001"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "01632 960001"
    assert response.json()["version"] == read["version"] + 1
    event = AuditEvent.objects.get(action="patient.update")
    assert event.changes == {"fields": ["phone"]}  # names of fields, not the personal details themselves


def test_two_clients_edit_the_same_patient_the_second_gets_409(client_of, pwp, supervisor, world):
    url = f"/api/v1/patients/{world.ids['patients'][0]}/"
    first = client_of(pwp)
    version = first.get(url).json()["version"]
    assert first.patch(url, {"version": version, "family_name": "Ashworth"}, format="json").status_code == 200
    second = client_of(supervisor)  # read the same version before the first client saved
    response = second.patch(url, {"version": version, "family_name": "Ashcroft"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "changed by someone else" in response.json()["detail"]
    patient = Patient.objects.get(pk=world.ids["patients"][0])
    assert patient.family_name == "Ashworth" and patient.version == version + 1  # never silently overwritten


def test_patient_update_needs_a_version(client_of, pwp, world):
    url = f"/api/v1/patients/{world.ids['patients'][0]}/"
    response = client_of(pwp).patch(url, {"phone": "01632 960002"}, format="json")
    assert response.status_code == 400
    assert "version" in response.json()["errors"]
    assert client_of(pwp).put(url, {"version": 1}, format="json").status_code == 405


def test_patient_update_rejects_an_nhs_number_already_registered(client_of, pwp, world):
    other = Patient.objects.get(pk=world.ids["patients"][1])
    response = client_of(pwp).patch(
        f"/api/v1/patients/{other.pk}/", {"version": other.version, "nhs_number": "943 476 5919"}, format="json"
    )
    assert response.status_code == 400
    assert "already registered" in response.json()["errors"]["nhs_number"][0]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("steps/", {"step": 3, "reason": "Not improving at session 6"}),
        ("discharge/", {"end_code": "46"}),
        ("allocate/", {"care_coordinator": "me"}),
    ],
)
def test_stale_referral_writes_get_409_and_change_nothing(client_of, pwp, world, path, body):
    api = client_of(pwp)
    mine = world.ids["referrals"][0]
    read = api.get(f"/api/v1/referrals/{mine}/").json()
    api.post(f"/api/v1/referrals/{mine}/steps/", {"step": 3, "reason": "Stepped up"}, format="json")  # someone else
    body = {k: (pwp.pk if v == "me" else v) for k, v in body.items()}
    steps_before = StepAssignment.objects.count()
    response = api.post(f"/api/v1/referrals/{mine}/{path}", {**body, "version": read["version"]}, format="json")
    assert response.status_code == 409, response.content
    referral = Referral.objects.get(pk=mine)
    assert referral.version == read["version"] + 1 and referral.status != "discharged"
    assert StepAssignment.objects.count() == steps_before


def test_stale_contact_gets_409_and_saves_nothing(client_of, pwp, world):
    api = client_of(pwp)
    mine = world.ids["referrals"][0]
    stale = api.get(f"/api/v1/referrals/{mine}/").json()["version"] - 1
    counts = CareContact.objects.count(), QuestionnaireResponse.objects.count()
    response = api.post(
        "/api/v1/contacts/",
        {
            "referral": mine,
            "date": str(days_ago(1)),
            "appointment_type": "02",
            "attendance": "5",
            "phq9": [1] * 9,
            "risk_note": "Passive thoughts; safety plan reviewed",
            "version": stale,
        },
        format="json",
    )
    assert response.status_code == 409
    assert (CareContact.objects.count(), QuestionnaireResponse.objects.count()) == counts


# --- bad input: 400 naming the field and item, nothing saved ------------------------------------------


def contact_body(referral, **changes):
    return {
        "referral": referral,
        "date": str(days_ago(1)),
        "appointment_type": "02",
        "attendance": "5",
        "mechanism": "02",
        "phq9": [1, 1, 1, 1, 1, 1, 1, 1, 0],
        "gad7": [1, 1, 1, 1, 1, 1, 1],
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phq9": [1, 1, 4, 1, 1, 1, 1, 1, 0]}, "phq9", "PHQ-9 item 3 must be between 0 and 3 (got 4)."),
        ({"gad7": [1, 1, 1, 1, 1, 1, -1]}, "gad7", "GAD-7 item 7 must be between 0 and 3 (got -1)."),
        ({"phq9": [1, 1, 1, 1, 1, 1, 1, 1]}, "phq9", "PHQ-9 item 9 is missing."),
        ({"phq9": [1, 1, 1, None, 1, 1, 1, 1, 0]}, "phq9", "PHQ-9 item 4 is missing."),
        ({"wsas": [1, 2, 9, 0, 0]}, "wsas", "WSAS item 3 must be between 0 and 8 (got 9)."),
        ({"gad7": [1, 1, "a", 1, 1, 1, 1]}, "gad7", "GAD-7 item 3 must be a whole number."),
        ({"phq9": "1,1,1"}, "phq9", "Give a list of 9 answers, item 1 first."),
        ({"date": str(days_ago(200))}, "date", "before the referral was received"),
        ({"date": str(timezone.localdate() + dt.timedelta(days=1))}, "date", "future"),
        ({"attendance": "9"}, "attendance", "not a valid choice"),
        ({"phq9": [0, 0, 0, 0, 0, 0, 0, 0, 2]}, "risk_note", "PHQ-9 item 9 is above 0"),
    ],
)
def test_bad_contact_is_refused_naming_field_and_item(client_of, pwp, world, changes, field, message):
    api = client_of(pwp)
    mine = world.ids["referrals"][0]
    counts = CareContact.objects.count(), QuestionnaireResponse.objects.count()
    version = Referral.objects.get(pk=mine).version
    response = api.post("/api/v1/contacts/", contact_body(mine, **changes), format="json")
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()["errors"][field])
    assert field in response.json()["detail"]  # the summary names the field too
    assert (CareContact.objects.count(), QuestionnaireResponse.objects.count()) == counts
    assert Referral.objects.get(pk=mine).version == version


def test_a_good_contact_is_saved_with_its_questionnaires(client_of, pwp, world):
    api = client_of(pwp)
    mine = world.ids["referrals"][0]
    response = api.post("/api/v1/contacts/", contact_body(mine), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phq9"] == [1, 1, 1, 1, 1, 1, 1, 1, 0] and body["attendance_display"] == "Attended on time"
    assert {q["measure"]: q["total"] for q in body["questionnaires"]} == {"PHQ9": 8, "GAD7": 7}
    assert Referral.objects.get(pk=mine).status == "in_treatment"


@pytest.mark.parametrize(
    ("nhs_number", "message"),
    [("943 476 5918", "check digit"), ("12345", "exactly 10 digits"), ("94347659190", "")],
)
def test_invalid_nhs_number_is_refused_and_nothing_saved(client_of, pwp, nhs_number, message):
    before = Patient.objects.count()
    response = client_of(pwp).post(
        "/api/v1/patients/",
        {"nhs_number": nhs_number, "given_name": "Ada", "family_name": "Byron", "date_of_birth": "1990-12-10"},
        format="json",
    )
    assert response.status_code == 400
    assert message in response.json()["errors"]["nhs_number"][0]
    assert Patient.objects.count() == before


def test_patient_and_referral_created_through_the_api(client_of, pwp):
    api = client_of(pwp)
    patient = api.post(
        "/api/v1/patients/",
        {"nhs_number": "943-476-5919", "given_name": "Ada", "family_name": "Byron", "date_of_birth": "1990-12-10"},
        format="json",
    )
    assert patient.status_code == 201, patient.content
    assert patient.json()["nhs_number"] == "9434765919" and patient.json()["version"] == 1
    referral = api.post(
        "/api/v1/referrals/",
        {
            "patient": patient.json()["id"],
            "received_on": str(days_ago(3)),
            "source": "self",
            "presenting_problem": "gad",
        },
        format="json",
    )
    assert referral.status_code == 201, referral.content
    body = referral.json()
    assert body["care_coordinator"] == pwp.pk  # the creating clinician coordinates it
    assert body["status"] == "awaiting_assessment" and body["current_step"] is None
    assert body["end_code"] == "" and body["presenting_problem_display"] == "Generalised anxiety disorder"


# --- filters -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/referrals/?status=", "status"),
        ("/api/v1/referrals/?caseload=maybe", "caseload"),
        ("/api/v1/referrals/?received_on_after=", "received_on_after"),
        ("/api/v1/referrals/?received_on_after=yesterday", "received_on"),
        ("/api/v1/referrals/?current_step=7", "current_step"),
        ("/api/v1/contacts/?referral=not-a-uuid", "referral"),
        ("/api/v1/questionnaires/?measure=BDI", "measure"),
        ("/api/v1/questionnaires/?entered_in_error=", "entered_in_error"),
        ("/api/v1/patients/?page_size=0", "page_size"),
        ("/api/v1/patients/?page_size=lots", "page_size"),
    ],
)
def test_a_filter_it_cannot_use_is_a_400_naming_it(client_of, pwp, world, url, parameter):
    response = client_of(pwp).get(url)
    assert response.status_code == 400, response.content
    assert parameter in response.json()["errors"]


def test_pages(client_of, pwp, world):
    api = client_of(pwp)
    first = api.get("/api/v1/referrals/?page_size=2&ordering=received_on").json()
    assert first["count"] == 3 and len(first["results"]) == 2 and "page=2" in first["next"]
    assert len(api.get("/api/v1/referrals/?page_size=2&page=2").json()["results"]) == 1
    assert api.get("/api/v1/referrals/?page=3").status_code == 404
    assert api.get("/api/v1/referrals/?page=").status_code == 404


def test_filters_by_date_range_and_ordering(client_of, pwp, world):
    api = client_of(pwp)
    since = days_ago(60)
    contacts = api.get(f"/api/v1/contacts/?date_after={since}&entered_in_error=false").json()["results"]
    assert [c["date"] for c in contacts] == [str(days_ago(40))]
    oldest_first = api.get("/api/v1/referrals/?ordering=received_on").json()["results"]
    assert [r["received_on"] for r in oldest_first] == sorted(r["received_on"] for r in oldest_first)
    found = api.post("/api/v1/patients/search/", {"nhs_number": "943 476 5919"}, format="json")
    assert [p["id"] for p in found.json()] == [world.ids["patients"][0]]


# --- a fixed number of queries, whatever the length of the list ---------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/referrals/", "/api/v1/contacts/", "/api/v1/questionnaires/", "/api/v1/patients/"]
)
def test_lists_run_a_fixed_number_of_queries(client_of, pwp, world, django_assert_num_queries, url):
    api = client_of(pwp)
    api.get(url)  # warm caches (content types and the like)
    with CaptureQueriesContext(connection) as few:
        api.get(url)
    for _ in range(3):
        extra = ReferralFactory(patient__team=pwp.team, care_coordinator=pwp, received_on=days_ago(30))
        services.log_contact(
            referral=extra, by=pwp, date=days_ago(20), appointment_type="01", attendance="5", phq9=PHQ9_START
        )
    with django_assert_num_queries(len(few)):
        response = api.get(url)
    assert response.json()["count"] > 3
