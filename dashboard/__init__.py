"""The service manager dashboard: caseloads, waits, outcomes, flags and supervision for one team."""
