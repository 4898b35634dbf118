"""Small check sets for tests of the generic check seam (rayscore.checks): deterministic, tiny."""

from rayscore.checks import CheckResult


class LengthChecks:
    """Flags texts longer than `limit` characters and texts with a digit."""

    name = "length"
    flags = ("too_long", "has_digit")
    certain = frozenset({"too_long"})
    examples = ("short", "a text that is far too long", "x1")

    def __init__(self, limit: int = 10, version: str = "1", wording: str = "长度"):
        self.limit, self.version, self.wording = limit, version, wording

    def run(self, texts: list[str]) -> list[CheckResult]:
        out = []
        for text in texts:
            flags = tuple(f for f, failed in (("too_long", len(text) > self.limit),
                                               ("has_digit", any(c.isdigit() for c in text))) if failed)
            out.append(CheckResult(flags, f"[{self.wording}:{'超' if 'too_long' in flags else '好'}]"))
        return out


LENGTH_CHECKS = LengthChecks()
OTHER_CHECKS = LengthChecks(limit=3)
