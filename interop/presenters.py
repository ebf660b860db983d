"""A referral as a FHIR R4 (UK Core) Bundle: the Patient, one QuestionnaireResponse per completed
questionnaire with every item answer, and one Observation per total, ``derivedFrom`` its response.

Built with the ``fhir.resources`` models (its R4B package: the Patient, QuestionnaireResponse,
Observation and Bundle of R4B are those of R4, which UK Core profiles), so an invalid resource fails
here, not in the receiving system. Entries refer to each other by ``urn:uuid`` full URLs: the patient's
and each response's own ids, and for each total an id derived from its response's, so exporting twice
gives the same references. No queries here: the records come from ``interop.queries``.
"""

import uuid

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from . import codes

FHIR_JSON = "application/fhir+json"


def urn(pk):
    return f"urn:uuid:{pk}"


def total_id(questionnaire):
    """The id of a questionnaire's total Observation: stable, derived from the response's id."""
    return uuid.uuid5(questionnaire.pk, "total")


def patient_resource(patient):
    identifiers = [{"system": codes.NHS_NUMBER, "value": patient.nhs_number}] if patient.nhs_number else []
    # Stated gender (IDS001 Gender) is not held on the patient yet; the national data set work adds it.
    gender = codes.administrative_gender(getattr(patient, "gender", ""))
    return Patient(
        id=str(patient.pk),
        meta={"profile": [codes.PATIENT_PROFILE]},
        identifier=identifiers or None,
        name=[{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
        birthDate=patient.date_of_birth,
        gender=gender,
    )


def _item(inst, number, answer):
    item = {"linkId": codes.link_id(number), "text": inst.items[number - 1]}
    if answer is not None:  # an item the measure allows to be skipped has no answer
        item["answer"] = [{"valueInteger": int(answer)}]
    return item


def questionnaire_response_resource(questionnaire, patient_ref):
    inst = questionnaire.instrument
    by_patient = questionnaire.completed_by_patient
    return QuestionnaireResponse(
        id=str(questionnaire.pk),
        meta={"profile": [codes.QUESTIONNAIRE_RESPONSE_PROFILE]},
        status="completed",
        subject=patient_ref,
        authored=questionnaire.completed_on,
        author=patient_ref if by_patient else None,
        source=patient_ref,  # the patient answers the questions, with the clinician or on their own
        item=[_item(inst, n, answer) for n, answer in enumerate(questionnaire.items, start=1)] or None,
    )


def observation_resource(questionnaire, patient_ref):
    measure = questionnaire.measure
    value = (
        {"valueQuantity": codes.score_quantity(measure, questionnaire.total)}
        if codes.is_mean(measure)
        else {"valueInteger": int(questionnaire.total)}
    )
    components = [
        {"code": {"coding": [coding.as_fhir()], "text": text}, "valueInteger": int(answer)}
        for coding, text, answer in zip(
            codes.item_codings(measure), questionnaire.instrument.items, questionnaire.items, strict=False
        )
        if answer is not None
    ]
    return Observation(
        id=str(total_id(questionnaire)),
        meta={"profile": [codes.OBSERVATION_PROFILE]},
        status="final",
        category=[{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        code={"coding": [c.as_fhir() for c in codes.total_codings(measure)] or None, "text": codes.total_text(measure)},
        subject=patient_ref,
        effectiveDateTime=questionnaire.completed_on,
        derivedFrom=[{"reference": urn(questionnaire.pk), "type": "QuestionnaireResponse"}],
        component=components or None,
        **value,
    )


def referral_bundle(referral, questionnaires, *, at):
    """The Bundle of one referral (its patient loaded with it) and its completed ``questionnaires``;
    ``at`` is the export's time (Bundle.timestamp)."""
    patient = referral.patient
    patient_ref = {"reference": urn(patient.pk), "type": "Patient"}
    entries = [BundleEntry(fullUrl=urn(patient.pk), resource=patient_resource(patient))]
    for questionnaire in questionnaires:
        entries.append(
            BundleEntry(
                fullUrl=urn(questionnaire.pk), resource=questionnaire_response_resource(questionnaire, patient_ref)
            )
        )
        entries.append(
            BundleEntry(fullUrl=urn(total_id(questionnaire)), resource=observation_resource(questionnaire, patient_ref))
        )
    return Bundle(
        id=str(uuid.uuid4()),
        type="collection",
        timestamp=at,
        entry=entries,
    )
