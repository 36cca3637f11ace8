"""Nominations (第十六条第1项): the applicant's dossier and materials, the recommending body's
endorsement with its stamped opinion, and the office's preliminary check (初审)."""
