"""What FHIR calls our records: code systems, UK Core profiles, and each measure's codes. Pure: no ORM.

Each measure's SNOMED CT code is the one the national data set records (IDS606/IDS607
CodedAssToolType), read from the measures table (``outcomes.scoring``), so the FHIR export and the
monthly submission never disagree. LOINC is added where LOINC has the total (DOMAIN §9). The WSAS has
no SNOMED CT code for its total, only one per item (the measures table's note): its Observation carries
the item scores as components, each coded.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from outcomes.scoring import INSTRUMENTS, MEAN, WSAS

SNOMED_CT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"
PATIENT_PROFILE = UK_CORE + "UKCore-Patient"
QUESTIONNAIRE_RESPONSE_PROFILE = UK_CORE + "UKCore-QuestionnaireResponse"
OBSERVATION_PROFILE = UK_CORE + "UKCore-Observation"

# LOINC codes of questionnaire totals (DOMAIN §9): only where LOINC has the total as such.
LOINC_TOTALS = {
    "PHQ9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
    "GAD7": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),
}

# NHS Data Dictionary PERSON STATED GENDER CODE (IDS001 Gender) → FHIR administrative gender.
ADMINISTRATIVE_GENDER = {"1": "male", "2": "female", "9": "other", "X": "unknown"}

_SCTID = re.compile(r"\b\d{6,18}\b")


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str = ""

    def as_fhir(self):
        return {"system": self.system, "code": self.code} | ({"display": self.display} if self.display else {})


def total_codings(measure):
    """The codes of a measure's total: SNOMED CT (when the measures table has one), then LOINC."""
    inst = INSTRUMENTS[measure]
    codings = [Coding(SNOMED_CT, inst.snomed_ct)] if inst.snomed_ct else []
    if measure in LOINC_TOTALS:
        codings.append(Coding(LOINC, *LOINC_TOTALS[measure]))
    return codings


def item_codings(measure):
    """SNOMED CT codes of each item, in item order, for measures the data set records item by item
    (the WSAS); empty for the others."""
    if measure != WSAS:
        return []
    codes = _SCTID.findall(INSTRUMENTS[WSAS].source)  # "work 932621000000100 (0-9 accepted); home ..."
    return [Coding(SNOMED_CT, code) for code in codes]


def total_text(measure):
    inst = INSTRUMENTS[measure]
    return f"{inst.name} total score" if inst.scoring != MEAN else f"{inst.name} mean item score"


def link_id(number):
    """The QuestionnaireResponse linkId of item ``number`` (1-based): its number, as on the paper form."""
    return str(number)


def is_mean(measure):
    """A mean score (the Mobility Inventory, d.dd) is a Quantity; a sum is an integer."""
    return INSTRUMENTS[measure].scoring == MEAN


def score_quantity(measure, total):
    """A mean score as written in the data set (the Mobility Inventory's d.dd: 3.00, not 3)."""
    places = Decimal(1).scaleb(-INSTRUMENTS[measure].decimals)
    return {"value": Decimal(str(total)).quantize(places), "unit": "score", "system": UCUM, "code": "{score}"}


def administrative_gender(code):
    """FHIR's gender for a stated gender code; None when not recorded."""
    return ADMINISTRATIVE_GENDER.get(str(code or "").upper())
