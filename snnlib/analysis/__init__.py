"""Analysis of recorded runs: statistics, claims and verdicts, report tables, figures."""
