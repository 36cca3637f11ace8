"""The office's preliminary check (初审): the queue of endorsed and resubmitted nominations by
honour; a nomination's dossier with its files (sent protected); 通过 / 退回补充 / 不通过; a
verification (核实); exports of one dossier (ZIP) and of the campaign's list (Excel)."""
