"""One page of a long list, and what its Previous and Next links need (no Flask)."""

import math
from dataclasses import dataclass


@dataclass
class Page:
    """One page of a long list, with what the page links need."""

    items: list
    number: int
    count: int
    total: int

    @classmethod
    def of(cls, query, page_number, per_page):
        """Return the page of the query with this number, the nearest one if there is no such
        page (so an old link still shows something)."""
        total = query.count()
        count = max(1, math.ceil(total / per_page))
        number = max(1, min(page_number or 1, count))
        return cls(list(query.paginate(number, per_page)), number, count, total)
