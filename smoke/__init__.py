"""Post-deployment smoke test of a Moodle site behind CloudFront, WAF and an internal ALB.

Standard library only, so the pipeline's CodeBuild step can run ``python -m smoke`` without
installing anything. See docs/SMOKE.md for what each check proves.
"""
