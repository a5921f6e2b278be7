"""The SQL the processors run, kept apart from the loop that runs it."""
