"""Exit statuses shared by every command: 0 done, 1 failed (no result, a failing test), 2 bad input."""

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
