"""Published beside reproduced: every claim computed from a cohort, compared, summarised."""
