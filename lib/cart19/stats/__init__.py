"""Statistics: survival (Kaplan-Meier, log-rank, Prism HRs, Cox), crosstab tests, printed-number algebra."""
