"""The review committee's rounds (第十六条第2、3项): the office opens a round over the nominations
that passed the preliminary check; each reviewer on the panel is prompted per nomination and votes
同意 / 不同意 / 弃权 until the closing time; conflicts of interest are recused (回避); non-voters are
reminded; at the close (or early, or when everyone voted) each nomination is counted and moves to
SHORTLISTED or NOT_SELECTED, or is flagged for the office when there was no quorum.

Use cases follow services/nominations/: (session, actor, plain args, now) → rules → change →
audit → outbox → one commit. The count itself is services/rules/tally.py."""
