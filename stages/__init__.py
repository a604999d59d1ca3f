"""Deployable copies of the whole Moodle system."""
