"""What a drill found, and the table `make chaos` prints at the end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class DrillResult:
    """One drill: the answers callers got, the figures worth quoting, and what went wrong.

    `answers` counts "OK" and "<CODE> <ErrorInfo reason>" (reason "-" when there was none);
    `findings` are violated expectations, one line each: a drill passes when it has none.
    """

    name: str
    seconds: float = 0.0
    calls: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    figures: dict[str, str] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)

    def answer(self, key: str) -> None:
        self.calls += 1
        self.answers[key] += 1

    def find(self, finding: str) -> None:
        self.findings.append(finding)


def table(results: list[DrillResult]) -> str:
    """A Markdown table, pasted as is into the README's Reliability section."""
    rows = [
        "| drill | seconds | calls | answers | figures | findings |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        answers = ", ".join(f"{key}: {count}" for key, count in result.answers.most_common())
        figures = ", ".join(f"{key} {value}" for key, value in result.figures.items())
        findings = str(len(result.findings)) if not result.findings else "; ".join(result.findings[:5])
        cells = (
            result.name,
            f"{result.seconds:.0f}",
            str(result.calls),
            answers or "-",
            figures or "-",
            findings,
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)
