"""The review committee in chat (第十六条第2、3项): reviewers vote from their prompts and see what is
waiting with /review; the office opens rounds, follows progress, reminds, closes and reads results."""
