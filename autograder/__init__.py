"""The course autograder: release, grade, feedback, export, check (see ``cnncourse --help``)."""
