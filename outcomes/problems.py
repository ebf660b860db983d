"""Presenting problems as the national data set keeps them (IDS603): ICD-10 codes, primary or secondary,
each with its date. Pure: no ORM, no clock.

The accepted codes are the problem-descriptor list of the NHS Talking Therapies data set (DOMAIN.md §9);
each code belongs to one problem descriptor (the referral's ``presenting_problem``). Which record decides
the anxiety measure is the guide's rule (§7.7, DOMAIN.md §2): the last recorded presenting problem,
primary before secondary, then the latest date (then the latest entered).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .scoring import ANXIETY_DEFAULT, INSTRUMENTS, adsm_for

PRIMARY = "primary"
SECONDARY = "secondary"
SIGNIFICANCE = {PRIMARY: "1", SECONDARY: "2"}  # PresCompCodSig

# Problem descriptors (the referral's presenting problem), in the order a clinician looks for them.
DESCRIPTORS = {
    "depression": "Depression",
    "gad": "Generalised anxiety disorder",
    "mixed": "Mixed anxiety and depressive disorder",
    "social_anxiety": "Social anxiety disorder",
    "ptsd": "Post-traumatic stress disorder",
    "agoraphobia": "Agoraphobia",
    "ocd": "Obsessive-compulsive disorder",
    "panic": "Panic disorder",
    "health_anxiety": "Health anxiety",
    "specific_phobia": "Specific phobia",
    "other_anxiety": "Other anxiety or stress-related disorder",
    "other": "Other",
}

# ICD-10 code → (WHO title, problem descriptor). DOMAIN.md §9: depression F32.0–3/8/9, F33.0–4/8/9;
# agoraphobia F40.0; social phobia F40.1; specific phobia F40.2; panic F41.0; GAD F41.1; mixed anxiety and
# depression F41.2; OCD F42.x; PTSD F43.1; other anxiety or stress F40.8/9, F41.3/8/9, F43.0/2/8/9;
# hypochondriacal F45.2.
ICD10 = {
    "F32.0": ("Mild depressive episode", "depression"),
    "F32.1": ("Moderate depressive episode", "depression"),
    "F32.2": ("Severe depressive episode without psychotic symptoms", "depression"),
    "F32.3": ("Severe depressive episode with psychotic symptoms", "depression"),
    "F32.8": ("Other depressive episodes", "depression"),
    "F32.9": ("Depressive episode, unspecified", "depression"),
    "F33.0": ("Recurrent depressive disorder, current episode mild", "depression"),
    "F33.1": ("Recurrent depressive disorder, current episode moderate", "depression"),
    "F33.2": ("Recurrent depressive disorder, current episode severe without psychotic symptoms", "depression"),
    "F33.3": ("Recurrent depressive disorder, current episode severe with psychotic symptoms", "depression"),
    "F33.4": ("Recurrent depressive disorder, currently in remission", "depression"),
    "F33.8": ("Other recurrent depressive disorders", "depression"),
    "F33.9": ("Recurrent depressive disorder, unspecified", "depression"),
    "F40.0": ("Agoraphobia", "agoraphobia"),
    "F40.1": ("Social phobia", "social_anxiety"),
    "F40.2": ("Specific (isolated) phobia", "specific_phobia"),
    "F40.8": ("Other phobic anxiety disorders", "other_anxiety"),
    "F40.9": ("Phobic anxiety disorder, unspecified", "other_anxiety"),
    "F41.0": ("Panic disorder", "panic"),
    "F41.1": ("Generalised anxiety disorder", "gad"),
    "F41.2": ("Mixed anxiety and depressive disorder", "mixed"),
    "F41.3": ("Other mixed anxiety disorders", "other_anxiety"),
    "F41.8": ("Other specified anxiety disorders", "other_anxiety"),
    "F41.9": ("Anxiety disorder, unspecified", "other_anxiety"),
    "F42.0": ("Obsessive-compulsive disorder: predominantly obsessional thoughts or ruminations", "ocd"),
    "F42.1": ("Obsessive-compulsive disorder: predominantly compulsive acts", "ocd"),
    "F42.2": ("Obsessive-compulsive disorder: mixed obsessional thoughts and acts", "ocd"),
    "F42.8": ("Other obsessive-compulsive disorders", "ocd"),
    "F42.9": ("Obsessive-compulsive disorder, unspecified", "ocd"),
    "F43.0": ("Acute stress reaction", "other_anxiety"),
    "F43.1": ("Post-traumatic stress disorder", "ptsd"),
    "F43.2": ("Adjustment disorders", "other_anxiety"),
    "F43.8": ("Other reactions to severe stress", "other_anxiety"),
    "F43.9": ("Reaction to severe stress, unspecified", "other_anxiety"),
    "F45.2": ("Hypochondriacal disorder (health anxiety)", "health_anxiety"),
}
CODES = tuple(ICD10)

# The code a referral's problem descriptor stands for when nothing more specific was recorded: the
# "unspecified" code of that problem (the only honest choice); "other" has none.
UNSPECIFIED = {
    "depression": "F32.9",
    "gad": "F41.1",
    "mixed": "F41.2",
    "social_anxiety": "F40.1",
    "ptsd": "F43.1",
    "agoraphobia": "F40.0",
    "ocd": "F42.9",
    "panic": "F41.0",
    "health_anxiety": "F45.2",
    "specific_phobia": "F40.2",
    "other_anxiety": "F41.9",
    "other": "",
}

# The plain words the anxiety-measure explanation uses ("SPIN, for social phobia F40.1").
SHORT = {
    "depression": "depression",
    "gad": "generalised anxiety disorder",
    "mixed": "mixed anxiety and depression",
    "social_anxiety": "social phobia",
    "ptsd": "PTSD",
    "agoraphobia": "agoraphobia",
    "ocd": "OCD",
    "panic": "panic disorder",
    "health_anxiety": "health anxiety",
    "specific_phobia": "specific phobia",
    "other_anxiety": "another anxiety or stress disorder",
    "other": "another problem",
}


def normalise(code) -> str:
    """'f401', 'F40.1 ', 'F40.1' → 'F40.1' (the data set writes ICD-10 codes without the dot)."""
    if not isinstance(code, str):
        return ""
    text = code.strip().upper()
    match = re.fullmatch(r"([A-Z]\d\d)\.?(\d)", text)
    return f"{match.group(1)}.{match.group(2)}" if match else text


def descriptor(code: str) -> str | None:
    entry = ICD10.get(code)
    return entry[1] if entry else None


@dataclass(frozen=True)
class ProblemRecord:
    """One presenting problem as recorded: code ('' when only a descriptor is known), significance, date."""

    code: str
    significance: str
    recorded_on: dt.date
    order: object = 0  # when entered: breaks ties of the same date (later wins)
    problem: str = ""  # the descriptor; derived from the code when empty

    @property
    def descriptor(self) -> str:
        return self.problem or descriptor(self.code) or "other"

    @property
    def words(self) -> str:
        """'social phobia F40.1', as the clinician reads it."""
        return f"{SHORT.get(self.descriptor, self.descriptor)} {self.code}".strip()


def deciding(records) -> ProblemRecord | None:
    """The record that decides the anxiety measure: primary before secondary, then latest date, then latest
    entered."""
    records = list(records)
    if not records:
        return None
    return max(records, key=lambda r: (r.significance == PRIMARY, r.recorded_on, r.order))


def anxiety_measure_called_for(record: ProblemRecord | None) -> str:
    """The ADSM the deciding problem calls for, else GAD-7."""
    return (adsm_for(record.code) if record else None) or ANXIETY_DEFAULT


def measure_words(record: ProblemRecord | None) -> str:
    """'SPIN, for social phobia F40.1' / 'GAD-7, for depression F32.1' / 'GAD-7 (no presenting problem recorded)'."""
    measure = INSTRUMENTS[anxiety_measure_called_for(record)].name
    if record is None:
        return f"{measure} (no presenting problem recorded)"
    return f"{measure}, for {record.words}"
