"""Rules for the response headers the CDN must add (security) and keep (caching)."""

from __future__ import annotations

from smoke.client import Response

ONE_YEAR_SECONDS = 31_536_000
FRAME_OPTIONS_ALLOWED = frozenset({"deny", "sameorigin"})
UNCACHEABLE_DIRECTIVES = ("no-store", "private", "no-cache")


def directives(value: str, separator: str) -> dict[str, str]:
    """``max-age=300; includeSubDomains`` as {"max-age": "300", "includesubdomains": ""}."""
    parsed = {}
    for part in value.split(separator):
        name, _, argument = part.strip().partition("=")
        if name:
            parsed[name.strip().lower()] = argument.strip().strip('"')
    return parsed


def max_age(value: str, separator: str) -> int | None:
    try:
        return int(directives(value, separator)["max-age"])
    except (KeyError, ValueError):
        return None


def csp_directive_names(policy: str) -> set[str]:
    """``default-src 'self'; frame-ancestors 'none'`` as {"default-src", "frame-ancestors"}."""
    return {words[0].lower() for part in policy.split(";") if (words := part.split())}


def list_items(value: str) -> list[str]:
    """A header sent more than once arrives joined by commas; browsers heed its first value."""
    return [item.strip() for item in value.split(",")]


def is_one_allowed_value(frame_options: str) -> bool:
    """Browsers ignore X-Frame-Options when repeated with conflicting values, and accept repeats."""
    values = {item.lower() for item in list_items(frame_options)}
    return len(values) == 1 and values <= FRAME_OPTIONS_ALLOWED


def security_header_problems(response: Response) -> list[str]:
    """Each missing or too weak security header, named with what was expected and what was seen."""
    problems = []
    hsts = response.header("Strict-Transport-Security")
    hsts_max_age = max_age(list_items(hsts)[0], ";") if hsts else None
    if hsts is None:
        problems.append("Strict-Transport-Security missing")
    elif hsts_max_age is None or hsts_max_age < ONE_YEAR_SECONDS:
        problems.append(f"Strict-Transport-Security needs max-age >= {ONE_YEAR_SECONDS}, got {hsts!r}")

    content_type_options = response.header("X-Content-Type-Options")
    if content_type_options is None:
        problems.append("X-Content-Type-Options missing")
    elif list_items(content_type_options)[0].lower() != "nosniff":
        problems.append(f"X-Content-Type-Options must be nosniff, got {content_type_options!r}")

    frame_options = response.header("X-Frame-Options")
    policy = response.header("Content-Security-Policy")
    frame_ancestors = policy is not None and "frame-ancestors" in csp_directive_names(policy)
    if frame_options is None and not frame_ancestors:
        problems.append("X-Frame-Options missing (and no Content-Security-Policy frame-ancestors)")
    elif frame_options is not None and not is_one_allowed_value(frame_options):
        problems.append(f"X-Frame-Options must be DENY or SAMEORIGIN, got {frame_options!r}")

    if not (response.header("Referrer-Policy") or "").strip():
        problems.append("Referrer-Policy missing")
    return problems


def cache_control_problem(cache_control: str | None) -> str | None:
    """Why a response would not be kept by a shared cache (the CDN), or None when it would."""
    if cache_control is None:
        return "no Cache-Control header"
    parsed = directives(cache_control, ",")
    blocking = [name for name in UNCACHEABLE_DIRECTIVES if name in parsed]
    if blocking:
        return f"Cache-Control {cache_control!r} has {', '.join(blocking)}"
    age = max_age(cache_control, ",")
    if age is None or age <= 0:
        return f"Cache-Control {cache_control!r} has no max-age > 0"
    return None


def cdn_cache_evidence(response: Response) -> str:
    """What the response says about the CDN cache; informative only, as local runs have no CDN."""
    seen = [f"{name} {value!r}" for name in ("X-Cache", "Age") if (value := response.header(name))]
    return ", ".join(seen) if seen else "no X-Cache or Age header (not served through a CDN cache?)"
