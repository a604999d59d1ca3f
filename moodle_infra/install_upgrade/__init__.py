"""Install or upgrade Moodle before every rollout: a custom resource construct and its Lambda handler.

``handler.py`` is deployed on its own (stdlib and boto3 only), so it imports nothing from this project.
"""
