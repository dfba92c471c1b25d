"""The published record: the paper's numbers (claims.csv), its design and our readings, and the audit."""
