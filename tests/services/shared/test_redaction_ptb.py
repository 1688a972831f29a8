"""python-telegram-bot prints its objects as reprs at DEBUG; the user ids inside must come out hashed."""

from __future__ import annotations

from crypto_observability.shared.redaction import Redactor

REPR = ("Processing update Update(message=Message(chat=Chat(first_name='Al', id=100001, type=<ChatType.PRIVATE>), "
        "date=datetime.datetime(2026, 11, 28, 3, 10, tzinfo=datetime.timezone.utc), "
        "from_user=User(first_name='Al', id=100001, is_bot=False, language_code='en'), message_id=5), update_id=77)")


def test_ids_in_chat_and_user_reprs_are_hashed_consistently() -> None:
    """Chat(id=...) and User(id=...) become the same keyed hash; message and update ids stay."""
    redactor = Redactor(user_salt="s")
    out = redactor.redact_text(REPR)
    assert "100001" not in out and out.count(redactor.mask_user("100001")) == 2
    assert "message_id=5" in out and "update_id=77" in out and "2026, 11, 28" in out


def test_other_reprs_with_ids_are_left_alone() -> None:
    """An id= outside a Chat or User repr is not a person."""
    text = "Order(id=123456, symbol='BTC/USDT:USDT') filled"
    assert Redactor(user_salt="s").redact_text(text) == text
