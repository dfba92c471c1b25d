"""The reconstruction: a pseudo patient-level cohort built to agree with the published aggregates."""
