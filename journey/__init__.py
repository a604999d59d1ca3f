"""One student's journey through Moodle in a real browser (Chromium driven by Selenium).

The same steps run in CI against the built image, after every deploy, and every few minutes as a
CloudWatch Synthetics canary (journey/canary.py). See docs/JOURNEY.md.
"""
