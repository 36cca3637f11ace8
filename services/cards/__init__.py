"""Customer evaluation cards (第十条; 第十二条第6项 and 第十三条第6项 ask for service "praised by
customers"): cards, the customer's anonymous rating, the comment filter, the report, and its
attachment to a nomination as supporting evidence."""
