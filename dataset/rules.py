"""The NHS Talking Therapies data set v2.1 as rules: its tables and fields (read from the published
field list, ``data/ids_v2_1_fields.csv``), the code lists it validates against, how a value is written,
and the checks NHS England applies, which an export applies first (DOMAIN.md §9).

Pure: no ORM, no clock. A row is a dict of field name → the text written in the CSV; a check returns
``Finding``s naming the field, its value and what is wrong, so a manager can find and fix the record.
"""

import calendar
import csv
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from outcomes.problems import ICD10
from outcomes.scoring import INSTRUMENTS, MEAN, ScoringError

DATA_SET_VERSION = "2.1"
FIELDS_CSV = Path(__file__).with_name("data") / "ids_v2_1_fields.csv"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # str, date, datetime, int
    uid: str  # the data dictionary's id, e.g. I101010
    dictionary_name: str
    primary_key: bool
    foreign_key: str  # "IDS101.ServiceRequestId" or ""


@dataclass(frozen=True)
class Table:
    code: str  # IDS101
    name: str  # IDS101Referral
    fields: tuple[Field, ...]

    @property
    def file_name(self):
        return f"{self.name}.csv"

    @property
    def field_names(self):
        return [f.name for f in self.fields]

    def field(self, name):
        return next(f for f in self.fields if f.name == name)


def load_tables(path=FIELDS_CSV) -> dict[str, Table]:
    """Every table of the published field list, its fields in the published order."""
    rows = {}
    names = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            names[row["table_code"]] = row["table_name"]
            rows.setdefault(row["table_code"], []).append(
                Field(
                    row["field"],
                    row["type"],
                    row["tos_uid"],
                    row["nhs_data_dictionary_name"],
                    row["primary_key"] == "Y",
                    row["foreign_key"],
                )
            )
    return {code: Table(code, names[code], tuple(fields)) for code, fields in sorted(rows.items())}


TABLES = load_tables()
# The tables this system fills, in the order they are written (parents before children).
EXPORTED = ("IDS000", "IDS001", "IDS101", "IDS201", "IDS202", "IDS602", "IDS603", "IDS606", "IDS607")
# Each table's own key, and the key of the row it hangs off (what a referral's rows join by).
KEYS = {
    "IDS001": "LocalPatientId",
    "IDS101": "ServiceRequestId",
    "IDS201": "CareContactId",
    "IDS202": "CareActId",
}
PARENTS = {
    "IDS101": ("IDS001", "LocalPatientId"),
    "IDS201": ("IDS101", "ServiceRequestId"),
    "IDS202": ("IDS201", "CareContactId"),
    "IDS602": ("IDS101", "ServiceRequestId"),
    "IDS603": ("IDS101", "ServiceRequestId"),
    "IDS606": ("IDS101", "ServiceRequestId"),
    "IDS607": ("IDS202", "CareActId"),
}
TABLE_BY_FILE = {table.file_name: table for table in TABLES.values()}


# --- code lists (DOMAIN.md §9, the NHS Data Dictionary) ------------------------------------------

END_CODES = frozenset({"10", "11", "12", "13", "14", "16", "17", "46", "47", "48", "49", "50", "95", "96"})
APP_TYPES = frozenset(f"0{n}" for n in range(1, 9))
PREV_DIAG = frozenset({"U", "N", "Y", "Z"})
ATTENDANCE = frozenset({"2", "3", "4", "5", "6", "7"})
ATTENDED = frozenset({"5", "6"})
CONSULTATION_MECHANISMS = frozenset({"01", "02", "03", "04", "05", "06", "09", "10", "11", "12", "13", "98"})
THERAPY_MODES = frozenset({"1", "2", "3"})
YES_NO = frozenset({"Y", "N"})
NHS_NUMBER_STATUS = frozenset({f"0{n}" for n in range(1, 9)})
FIND_SCHEME_ICD10 = "01"
FIND_SCHEME_SNOMED = "04"
PRES_COMP_SIGNIFICANCE = {"primary": "1", "secondary": "2"}
# Sources of referral: this system records three (self, GP, another professional); the data set's
# list is longer, so other systems' codes are checked for their shape (a letter and a digit) only.
SOURCE_OF_REFERRAL = {"self": "B1", "gp": "A1", "other": "A3"}
SOURCE_OF_REFERRAL_SHAPE = re.compile(r"^[A-Z][0-9]$")

# IDS202 CodeProcAndProcStatus: the therapy types (SNOMED CT), as referrals.codes.TherapyType.
THERAPY_TYPES = frozenset(
    {
        "748051000000105",
        "748041000000107",
        "748101000000105",
        "748091000000102",
        "748061000000108",
        "702545008",
        "1026111000000108",
        "975131000000104",
        "1127281000000100",
        "1129471000000105",
        "842901000000108",
        "286711000000107",
        "314034001",
        "449030000",
        "933221000000107",
        "304891004",
        "443730003",
        "1026131000000100",
        "1098051000000103",
    }
)

# IDS602 LongTermCondition (SNOMED CT) for the conditions this system records (referrals.codes.
# LongTermCondition). "other" has no one code: it is not exported (docs/dataset-blank-fields.md).
LONG_TERM_CONDITIONS = {
    "diabetes": "73211009",  # diabetes mellitus
    "copd": "13645005",  # chronic obstructive lung disease
    "cardiac": "53741008",  # coronary arteriosclerosis (coronary heart disease)
    "chronic_pain": "82423001",  # chronic pain
    "ibs": "10743008",  # irritable bowel syndrome
    "asthma": "195967001",  # asthma
    "cancer": "363346000",  # malignant neoplastic disease
    "msk": "928000",  # disorder of musculoskeletal system
    "long_covid": "1119303003",  # post-COVID-19 syndrome
    "cfs": "52702003",  # chronic fatigue syndrome
    "neurological": "118940003",  # disorder of nervous system
}
LONG_TERM_CONDITION_BY_SNOMED = {code: name for name, code in LONG_TERM_CONDITIONS.items()}

# IDS606/IDS607 CodedAssToolType: each measure with a SNOMED CT code, by that code.
MEASURE_BY_SNOMED = {inst.snomed_ct: code for code, inst in INSTRUMENTS.items() if inst.snomed_ct}
# WSAS has no total code: the data set codes its five items, each scored 0-8 (work 0-9 accepted:
# the measures table's note), in the measure's item order.
WSAS = "WSAS"
WSAS_ITEMS = ("932621000000100", "932581000000100", "932611000000106", "932591000000103", "932601000000109")
WSAS_ITEM_BY_SNOMED = {code: number for number, code in enumerate(WSAS_ITEMS, start=1)}
WSAS_ITEM_MAX = {1: 9}

SNOMED_SHAPE = re.compile(r"^[1-9][0-9]{5,17}$")
DATE_SHAPE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
TIME_SHAPE = re.compile(r"^[0-9]{2}:[0-9]{2}:[0-9]{2}$")
DATETIME_SHAPE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$")
INT_SHAPE = re.compile(r"^[0-9]{1,6}$")
POSTCODE_SHAPE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
MAX_KEY = 100  # a key longer than this is not an identifier


# --- the reporting period ------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    def __contains__(self, day):
        return self.start <= day <= self.end

    @property
    def label(self):
        if (self.start.year, self.start.month) == (self.end.year, self.end.month):
            return f"{self.start:%Y-%m}"
        return f"{self.start:%Y-%m}..{self.end:%Y-%m}"


def month(text):
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"{text!r} is not a month: write it YYYY-MM, e.g. 2026-10.")
    return int(match.group(1)), int(match.group(2))


def parse_period(text):
    """``2026-10`` is that calendar month; ``2025-11..2026-10`` the months from one to the other."""
    first, _, last = str(text).partition("..")
    (y1, m1), (y2, m2) = month(first), month(last or first)
    start = dt.date(y1, m1, 1)
    end = dt.date(y2, m2, calendar.monthrange(y2, m2)[1])
    if end < start:
        raise ValueError(f"The period {text!r} ends before it starts.")
    return Period(start, end)


# --- writing values ------------------------------------------------------------------------------


def text(value):
    """A value as the CSV holds it: dates ISO, times hh:mm:ss, None empty, booleans Y/N."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0, tzinfo=None).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.replace(microsecond=0).isoformat()
    return str(value)


def score_text(measure, total):
    """PersScore as the data set writes it: whole numbers, the Mobility Inventory as d.dd."""
    return INSTRUMENTS[measure].format(total)


def care_activity_key(contact_key):
    """The one care activity this system records per contact (its therapy and its scores)."""
    return f"{contact_key}-1"


# --- checks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    field: str
    value: str
    message: str


def nhs_number_is_valid(value: str) -> bool:
    """Ten digits whose last is the Modulus 11 check digit of the first nine."""
    if not re.fullmatch(r"[0-9]{10}", value or ""):
        return False
    total = sum(int(d) * w for d, w in zip(value[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(value[9])


def parse_date(value):
    if not DATE_SHAPE.match(value or ""):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def check_score(snomed, score):
    """The Finding for a score that is not in its measure's range and format, else None."""
    if snomed in WSAS_ITEM_BY_SNOMED:
        number = WSAS_ITEM_BY_SNOMED[snomed]
        top = WSAS_ITEM_MAX.get(number, INSTRUMENTS[WSAS].item_max)
        if not re.fullmatch(r"[0-9]", score or "") or int(score) > top:
            return Finding("PersScore", score, f"A WSAS item {number} score is a whole number from 0 to {top}.")
        return None
    measure = MEASURE_BY_SNOMED.get(snomed)
    if measure is None:
        return Finding("CodedAssToolType", snomed, "Not a known assessment tool (SNOMED CT) of the data set.")
    inst = INSTRUMENTS[measure]
    shape = r"[0-9]\.[0-9]{2}" if inst.scoring == MEAN else r"[0-9]{1,3}"
    written = "d.dd" if inst.scoring == MEAN else "a whole number"
    if not re.fullmatch(shape, score or ""):
        return Finding("PersScore", score, f"A {inst.name} score is written as {written}.")
    try:
        inst.check_total(Decimal(score))
    except (ScoringError, InvalidOperation) as exc:
        return Finding("PersScore", score, getattr(exc, "message", str(exc)))
    return None


def _shape(table, row):
    """Each field's own format: dates, times, whole numbers, key lengths, mandatory keys."""
    found = []
    for field in TABLES[table].fields:
        value = row.get(field.name, "")
        if value == "":
            if field.primary_key or field.foreign_key:
                found.append(Finding(field.name, value, "A key field must not be empty."))
            continue
        if field.type == "date" and parse_date(value) is None:
            found.append(Finding(field.name, value, "Not a date written YYYY-MM-DD."))
        elif field.type == "datetime" and not (TIME_SHAPE.match(value) or DATETIME_SHAPE.match(value)):
            found.append(Finding(field.name, value, "Not a time written hh:mm:ss (or a date and time)."))
        elif field.type == "int" and not INT_SHAPE.match(value):
            found.append(Finding(field.name, value, "Not a whole number."))
        elif (field.primary_key or field.foreign_key) and (len(value) > MAX_KEY or "," in value):
            found.append(Finding(field.name, value, f"A key is at most {MAX_KEY} characters, without commas."))
    return found


def _in_list(row, field, allowed, what, *, required=False):
    value = row.get(field, "")
    if value == "":
        return [Finding(field, value, f"{what} must be given.")] if required else []
    if value not in allowed:
        return [Finding(field, value, f"Not a code of the {what} list ({', '.join(sorted(allowed))}).")]
    return []


def _in_period(row, field, period, *, required=True, after_start=True):
    value = row.get(field, "")
    day = parse_date(value)
    if day is None:
        return [Finding(field, value, "A date is needed here.")] if required and value == "" else []
    if day > period.end or (after_start and day < period.start):
        inside = f"between {period.start} and {period.end}" if after_start else f"on or before {period.end}"
        return [Finding(field, value, f"The date must fall {inside} (the reporting period).")]
    return []


def check_row(table, row, period):
    """Every Finding for one row of ``table`` within ``period`` (field formats, code lists, scores,
    dates). Keys that join are checked by the caller, who knows which keys were written."""
    found = _shape(table, row)
    if table == "IDS001":
        number = row.get("NHSNumber", "")
        if number and not nhs_number_is_valid(number):
            found.append(Finding("NHSNumber", number, "Not a valid NHS number: the check digit does not match."))
        found += _in_list(row, "NHSNumberStatus", NHS_NUMBER_STATUS, "NHS number status", required=True)
        found += _in_period(row, "PersonBirthDate", period, after_start=False)
        postcode = row.get("Postcode", "")
        if postcode and not POSTCODE_SHAPE.match(postcode):
            found.append(Finding("Postcode", postcode, "Not a UK postcode (e.g. LS1 4AP)."))
    elif table == "IDS101":
        source = row.get("SourceOfReferralIAPT", "")
        if not SOURCE_OF_REFERRAL_SHAPE.match(source):
            found.append(Finding("SourceOfReferralIAPT", source, "A source of referral code is a letter and a digit."))
        found += _in_period(row, "ReferralRequestReceivedDate", period, after_start=False)
        found += _in_list(row, "PrevDiagCondInd", PREV_DIAG, "previous diagnosed condition")
        found += _in_list(row, "EndCode", END_CODES, "end code")
        found += _in_period(row, "ServDischDate", period, required=False)
        if bool(row.get("EndCode")) != bool(row.get("ServDischDate")):
            found.append(Finding("EndCode", row.get("EndCode", ""), "An end code and a discharge date go together."))
        received, discharged = parse_date(row.get("ReferralRequestReceivedDate")), parse_date(row.get("ServDischDate"))
        if received and discharged and discharged < received:
            found.append(Finding("ServDischDate", row["ServDischDate"], "Discharged before the referral was received."))
    elif table == "IDS201":
        found += _in_period(row, "CareContDate", period)
        found += _in_list(row, "AttendOrDNACode", ATTENDANCE, "attendance", required=True)
        found += _in_list(row, "AppType", APP_TYPES, "appointment type", required=True)
        found += _in_list(row, "ConsMechanism", CONSULTATION_MECHANISMS, "consultation mechanism")
        found += _in_list(row, "CareContPatientTherMode", THERAPY_MODES, "therapy mode")
        found += _in_list(row, "IAPTLTCServiceInd", YES_NO, "Y/N")
    elif table == "IDS202":
        found += _in_list(row, "CodeProcAndProcStatus", THERAPY_TYPES, "therapy type (SNOMED CT)")
    elif table == "IDS602":
        found += _in_list(row, "FindSchemeInUse", {FIND_SCHEME_SNOMED}, "finding scheme", required=True)
        code = row.get("LongTermCondition", "")
        if not SNOMED_SHAPE.match(code):
            found.append(Finding("LongTermCondition", code, "A long-term condition is a SNOMED CT code."))
    elif table == "IDS603":
        scheme = row.get("FindSchemeInUse", "")
        found += _in_list(
            row, "FindSchemeInUse", {FIND_SCHEME_ICD10, FIND_SCHEME_SNOMED}, "finding scheme", required=True
        )
        code = row.get("PresComp", "")
        if scheme == FIND_SCHEME_ICD10 and code not in ICD10:
            found.append(Finding("PresComp", code, "Not an ICD-10 code of the data set's problem descriptors."))
        elif scheme == FIND_SCHEME_SNOMED and not SNOMED_SHAPE.match(code):
            found.append(Finding("PresComp", code, "Not a SNOMED CT code."))
        found += _in_list(
            row, "PresCompCodSig", set(PRES_COMP_SIGNIFICANCE.values()), "coding significance", required=True
        )
        found += _in_period(row, "PresCompDate", period, after_start=False)
    elif table in ("IDS606", "IDS607"):
        problem = check_score(row.get("CodedAssToolType", ""), row.get("PersScore", ""))
        if problem:
            found.append(problem)
        if table == "IDS606":
            found += _in_period(row, "AssToolCompDate", period)
    return found


def check_header(table, row):
    """The fields of a file's header row: every field of the table, none unknown, none twice."""
    expected = TABLES[table].field_names
    found = []
    for name in row:
        if name not in expected:
            found.append(Finding(name, name, f"Not a field of {TABLES[table].name}."))
    for name in expected:
        if name not in row:
            found.append(Finding(name, "", f"The field {name} is missing from the header."))
    if len(set(row)) != len(row):
        found.append(Finding("", ",".join(row), "A field is named twice in the header."))
    return found
