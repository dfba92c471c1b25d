"""cart19: reproduction of Zhang et al., Blood Adv 2020;4(10):2325-2338.

Modules each have one job (see README): claims (the published record), audit,
reconstruct (pseudo patient-level cohort), cohort (its schema), survival,
stats, tables, figures, scorecard, build (the book pipeline).
"""
__version__ = "0.1.0"
