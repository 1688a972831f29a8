"""Every pattern that reads log text is linear in its input: 1 MB of adversarial text costs at most
a linear budget (twice the linear ratio, in CPU time) from 256 kB, for the library's patterns, its
bounded redact_text, the analyzer's and the monitor's use of it, and the analyzer's value masking."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crypto_observability.log_analyzer import _masking
from crypto_observability.log_analyzer import redact as analyzer_redact
from crypto_observability.log_monitor import _redact as monitor_redact
from crypto_observability.shared import _redaction_patterns as patterns
from crypto_observability.shared import redaction
from crypto_observability.shared.redaction import Redactor
from tests.services.shared import redaction_families as corpus

SMALL, LARGE = 256_000, 1_000_000
FAMILIES = sorted(corpus.ADVERSARIAL_UNITS)



def _whole_text_patterns(text: str) -> None:
    """Run the patterns that read a whole text, as the Redactor chooses them, finding every match in C.

    The Redactor's other patterns run only where these matched (a value after a secret key, the name
    inside a pair); the end-to-end runs below cover them.
    """
    patterns.build_secret_re(patterns.trigger_mask(text)).subn("", text)
    redaction._PTB_REPR_ID.subn("", text)


def _unbounded_redactor(text: str) -> str:
    return Redactor(user_salt="linear", max_field_chars=LARGE).redact_text(text)


def _fresh_redactor(text: str) -> str:
    return Redactor(user_salt="linear").redact_text(text)  # fresh: no memo answers for it


# (what runs, small size, large size): 1 MB against 256 kB; the Redactor's whole scan without its
# field bound and the analyzer's clustering mask (not a redaction pattern) on 128 kB against 32 kB.
WORK: dict[str, tuple[Callable[[str], object], int, int]] = {
    "library patterns": (_whole_text_patterns, SMALL, LARGE),
    "library redact_text": (_fresh_redactor, SMALL, LARGE),
    "library scan without the field bound": (_unbounded_redactor, 32_000, 128_000),
    "analyzer redact": (lambda text: analyzer_redact.redact(text + " "), SMALL, LARGE),  # new string: no memo
    "monitor redact": (lambda text: monitor_redact.redact(text + " "), SMALL, LARGE),
    "analyzer value masking": (_masking.mask, 32_000, 128_000),
}


@pytest.mark.parametrize("work", WORK, ids=str)
def test_adversarial_text_costs_a_linear_budget(work: str) -> None:
    """No family of adversarial text makes a pattern rescan its input (issue 19: 29 s on one 200 kB message)."""
    run, small, large = WORK[work]
    over = [corpus.linear_budget_exceeded(run, family, small, large) for family in FAMILIES]
    assert [line for line in over if line] == []
