"""Honours in chat: the office awards, revokes and recommends nationally; anyone verifies a
certificate (/verify or the QR deep link) and browses the public registry (/honours); the holder
or their recommending body starts a re-review (复议) and uploads new evidence."""
