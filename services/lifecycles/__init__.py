"""Every lifecycle of the programme as data: for each record, a table of state × action → next
state, who may act, in which campaign phase, and the article it rests on; and the one function
that applies a move (the only code that changes a status)."""
