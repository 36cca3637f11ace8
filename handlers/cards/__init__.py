"""Customer evaluation cards (第十条): the owner makes and manages cards and reads the report; the
customer rates through the card's link without registering; the office rules on held comments
and sees the flags."""
