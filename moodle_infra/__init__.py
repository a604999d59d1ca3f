"""Constructs, stacks and typed configuration that make up one Moodle environment."""
