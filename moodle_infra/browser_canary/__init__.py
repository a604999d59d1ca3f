"""The browser journey as a CloudWatch Synthetics canary: construct.py deploys python/journey_canary.py."""
