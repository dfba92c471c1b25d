"""The cohort schema: what a (reconstructed) patient-level table must hold, and the input validators."""
