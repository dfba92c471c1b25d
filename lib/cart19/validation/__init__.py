"""How far can a reconstruction be trusted? The method validated on public trials.

Aggregates a paper like Zhang et al. (Blood Adv 2020) prints are derived from a patient-level
table whose truth is known (``aggregates``), a cohort and an ensemble are reconstructed from
those aggregates alone (:mod:`cart19.reconstruction.general_pipeline`), and every statistic
the reconstruction was not fitted to is compared with the truth (``measures``, ``compare``).
"""
