"""公示 (第十六条第2项): the office publishes the proposed list for the campaign's publicity period
in working days; anyone may lodge a real-name objection during it; each objection is a case with
an owner and a deadline, upheld (the nomination leaves the list, which is published again) or
dismissed, always with a reason; after the period with no open case the list goes to the leading
group, whose members (or the office on their behalf, with the approval document) approve it."""
