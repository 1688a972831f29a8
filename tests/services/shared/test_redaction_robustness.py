"""Redaction under load: adversarial text stays linear, caches stay bounded and correct, threads agree."""

from __future__ import annotations

import threading
import time

import pytest

from crypto_observability.shared.redaction import MASK, Redactor

BOT_TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw8"

# Shapes that make a careless regex (or a rescan per key=value) quadratic or worse.
ADVERSARIAL = {
    "pairs": "a=" * 20_000,
    "colon-space": "a: " * 13_000,
    "quoted-keys": "'a': " * 8_000,
    "escaped-keys": '\\"a\\": ' * 6_000,
    "at-signs": "a.b@" * 10_000,
    "plus": "+1 " * 13_000,
    "bot-ids": "1234567:" * 5_000,
    "schemes": "http://a:b@" * 4_000,
    "bearer": "Bearer " * 6_000,
    "pem": "-----BEGIN PRIVATE KEY-----" * 1_500,
    "long-word-then-at": "x" * 40_000 + "@",
    "long-key": "a" * 40_000 + "=1",
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_text_is_redacted_in_linear_time(text: str) -> None:
    """40 kB of pathological input is redacted in well under a second (it was ~10 s before the fix)."""
    redactor = Redactor(user_salt="s", max_field_chars=1_000_000)
    started = time.perf_counter()
    redactor.redact_text(text)
    assert time.perf_counter() - started < 1.0


def test_huge_field_costs_only_its_kept_part() -> None:
    """A 5 MB string is scanned only up to the limit plus a margin, then cut with a marker."""
    redactor = Redactor(user_salt="s")
    text = f"token={BOT_TOKEN} " + "lorem ipsum " * 450_000
    started = time.perf_counter()
    out = redactor.redact_text(text)
    assert time.perf_counter() - started < 1.0
    assert out.startswith("token=*** lorem")
    assert out.endswith("chars]") and len(out) <= 8192


def test_caches_stay_correct_after_they_fill() -> None:
    """Thousands of distinct keys and strings (more than the caches hold) are still redacted right."""
    redactor = Redactor(user_salt="s")
    for i in range(10_000):
        ctx = {f"field_{i}": f"value {i}", f"api_key_{i}": f"k{i}", "note": f"password=p{i}"}
        assert redactor.redact_context(ctx) == {f"field_{i}": f"value {i}", f"api_key_{i}": MASK,
                                                "note": "password=***"}  # fmt: skip


def test_keys_that_hold_secrets_are_redacted_too() -> None:
    """A dict keyed by a URL with a token in it gets its key redacted, not only its values."""
    redactor = Redactor(user_salt="s")
    key = f"https://api.telegram.org/bot{BOT_TOKEN}/getMe"
    assert redactor.redact_context({key: 3}) == {"https://api.telegram.org/bot***/getMe": 3}


def test_threads_share_one_redactor_safely() -> None:
    """Several threads redacting at once through shared caches all get the right answers."""
    redactor = Redactor(user_salt="s")
    expected_user = redactor.mask_user(42)
    errors: list[str] = []

    def work(worker: int) -> None:
        for i in range(3_000):
            out = redactor.redact_context({"chat_id": 42, "msg": f"w{worker} token={BOT_TOKEN} #{i}"})
            if out != {"chat_id": expected_user, "msg": f"w{worker} token=*** #{i}"}:
                errors.append(repr(out))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_repeated_context_is_redacted_the_same_every_time() -> None:
    """The cached fast road for known plain keys gives what the first, full walk gave, as a new dict."""
    redactor = Redactor(user_salt="s")
    ctx = {"symbol": "BTC-USDT", "count": 6, "ok": True, "note": f"url https://api.telegram.org/bot{BOT_TOKEN}/x",
           "nothing": None, "ms": 1.5}  # fmt: skip
    expected = {"symbol": "BTC-USDT", "count": 6, "ok": True, "note": "url https://api.telegram.org/bot***/x",
                "nothing": None, "ms": 1.5}  # fmt: skip
    for _ in range(3):
        out = redactor.redact_context(ctx)
        assert expected == out
        assert list(expected) == list(out)
        assert out is not ctx
    assert ctx["note"].endswith(f"bot{BOT_TOKEN}/x")


@pytest.mark.parametrize("value", [[BOT_TOKEN], {"password": "p"}, b"token=" + BOT_TOKEN.encode(), ("a", BOT_TOKEN)])
def test_containers_under_known_plain_keys_still_get_the_full_walk(value: object) -> None:
    """Only strings and plain scalars take the fast road; containers and bytes under a known key are walked."""
    redactor = Redactor(user_salt="s")
    redactor.redact_context({"field": "warm"})
    out = redactor.redact_context({"field": value})
    assert BOT_TOKEN not in repr(out) and "'p'" not in repr(out)


def test_secret_and_personal_keys_never_take_the_fast_road() -> None:
    """Once seen, a secret or personal key still masks its value, beside known plain keys."""
    redactor = Redactor(user_salt="s")
    for _ in range(3):
        out = redactor.redact_context({"symbol": "BTC-USDT", "api_key": "abc", "user_id": 7})
        assert {"symbol": "BTC-USDT", "api_key": MASK, "user_id": redactor.mask_user(7)} == out


def test_known_text_answers_only_what_redact_text_already_worked_out() -> None:
    """known_text never scans: None for an unseen text, then exactly redact_text's answer."""
    redactor = Redactor(user_salt="s")
    text = f"calling /bot{BOT_TOKEN}/getMe"
    assert redactor.known_text(text) is None
    assert redactor.redact_text(text) == redactor.known_text(text) == "calling /bot***/getMe"
    assert redactor.known_text("x" * 10_000) is None
