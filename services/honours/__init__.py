"""Honours (第十七条): award from the approved list, certificates, public verification and registry,
the three-year validity with reminders and re-review (复议), revocation, national recommendation."""
