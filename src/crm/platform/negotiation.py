"""Which of a route's representations a client asked for (the ``Accept`` header, RFC 9110)."""

from __future__ import annotations


def _quality(accept: str, media_type: str) -> float:
    """The q-value ``accept`` gives ``media_type``, from its most specific matching range."""
    kind = media_type.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for part in accept.split(","):
        media_range, *params = (p.strip() for p in part.split(";"))
        specificity = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(media_range.lower())
        if specificity is None or specificity < best[0]:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = (specificity, q)
    return best[1]


def preferred(accept: str | None, offers: list[str]) -> str:
    """The offer the client prefers; the first offer (the route's default) wins ties and a missing
    or unmatched ``Accept``."""
    if not accept:
        return offers[0]
    best = max(offers, key=lambda offer: _quality(accept, offer))  # max keeps the first of equals
    return best if _quality(accept, best) > 0 else offers[0]
