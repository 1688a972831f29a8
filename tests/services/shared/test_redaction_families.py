"""The redaction corpus by family (redaction_families.py): no secret leaks, no ordinary value is masked;
and property searches per family, so the next example of a family is found before a user finds it."""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_observability.shared._redaction_patterns import METADATA_WORDS
from crypto_observability.shared.logging_config import setup_service_logging
from crypto_observability.shared.redaction import MASK, Redactor, secrets_from_environment
from crypto_observability.shared.testing import capture_logs
from tests.services.shared import redaction_families as corpus

SEARCH = settings(max_examples=80, deadline=None, derandomize=True)
REDACTOR = Redactor(user_salt="families")


@pytest.mark.parametrize("family", corpus.LEAK_FAMILIES, ids=lambda f: f.__name__)
def test_no_secret_of_any_family_leaks(family: Callable[[], Iterator[corpus.Case]]) -> None:
    """Secret key names, name/value lists, credential URLs, curl -u, AWS pairs, key=%s and secret variables."""
    assert [(case.name, corpus.leaked(case)) for case in family() if corpus.leaked(case)] == []


@pytest.mark.parametrize("family", corpus.ORDINARY_FAMILIES, ids=lambda f: f.__name__)
def test_no_ordinary_value_is_masked(family: Callable[[], Iterator[corpus.Case]]) -> None:
    """Assets under token keys, names about secrets, stream URLs, amounts, hashes, paths and ordinary pairs."""
    assert [(case.name, corpus.redact(case)) for case in family() if corpus.over_masked(case)] == []


def test_a_secret_passed_as_a_format_argument_is_masked() -> None:
    """log.info("key=%s", secret) through the stdlib road comes out masked; a cache key does not."""
    value = corpus.secret("fmt-arg")
    with capture_logs("INFO") as logs:
        log = setup_service_logging("market-data", "main")
        log.info("key=%s", value)
        log.info("key=%s", "ticker:BTC/USDT")
    assert [orjson.loads(line)["message"] for line in logs.lines] == [f"key={MASK}", "key=ticker:BTC/USDT"]


def test_secret_variables_are_chosen_by_name_and_value_shape() -> None:
    """DB_PASS and …_SECRET are secrets; PWD, paths and an asset under BASE_TOKEN are not."""
    env = {**corpus.ENV_SECRETS, **corpus.ORDINARY_ENV}
    assert sorted(secrets_from_environment(env)) == sorted(corpus.ENV_SECRETS.values())


# --- property searches, one per family -------------------------------------------------------------------

_WORDS = st.sampled_from(["db", "smtp", "wallet", "x", "okx", "binance", "prod", "main", "app", "redis"])
_SECRET_WORD = st.sampled_from(["pass", "pwd", "password", "secret", "seed", "pk", "sk", "auth", "hmac", "sig",
                                "private", "passphrase", "mnemonic", "credentials", "apikey"])  # fmt: skip
_VALUES = st.text(string.ascii_letters + string.digits + "-_./+", min_size=12, max_size=40).map(lambda v: "Q9" + v)


def _spell(words: list[str], style: int) -> str:
    if style == 0:
        return "_".join(words)
    if style == 1:
        return "_".join(words).upper()
    if style == 2:
        return words[0] + "".join(w.title() for w in words[1:])
    return "-".join(w.title() for w in words)


@SEARCH
@given(prefix=st.lists(_WORDS, max_size=2), word=_SECRET_WORD, style=st.integers(0, 3), value=_VALUES,
       road=st.sampled_from(["context", "kv", "json", "repr", "pair", "tuple"]))
def test_any_name_with_a_secret_word_hides_its_value(prefix: list[str], word: str, style: int, value: str,
                                                      road: str) -> None:
    """<words>_<secret word> in any spelling, as a key, in text, or as the name of a name/value pair."""
    key = _spell([*prefix, word], style)
    payload = {"context": {key: value}, "kv": f"{key}={value} ok", "json": orjson.dumps({key: value}).decode(),
               "repr": repr({key: value}), "pair": {"env": [{"name": key, "value": value}]},
               "tuple": repr([(key, value)])}[road]  # fmt: skip
    out = REDACTOR.redact_text(payload) if isinstance(payload, str) else orjson.dumps(REDACTOR.redact_context(payload))
    assert (value not in out) if isinstance(out, str) else (value.encode() not in out)


@SEARCH
@given(word=_SECRET_WORD, meta=st.sampled_from(sorted(METADATA_WORDS - {"hint"})), value=st.sampled_from(
    ["2025-01-15T10:30:00.000Z", "/etc/app/creds.json", "12", "binance-api", "hmac-sha256"]))
def test_a_name_about_a_secret_keeps_its_value(word: str, meta: str, value: str) -> None:
    """<secret word>_<at|path|count|name|...> describes a secret: its value stays."""
    key = f"{word}_{meta}"
    assert REDACTOR.redact_context({key: value}) == {key: value}
    assert REDACTOR.redact_text(f"{key}={value}, done") == f"{key}={value}, done"


_ASSET = st.from_regex(r"\A(?:[A-Z]{2,6}|1INCH|st[A-Z]{3}|[A-Z]{3,5}/[A-Z]{3,5}(?::[A-Z]{3,5})?)\Z")


@SEARCH
@given(key=st.sampled_from(["token", "base_token", "quote_token", "fee_token", "quoteToken", "TOKEN"]),
       asset=_ASSET, road=st.sampled_from(['{k}="{v}"', "{k}={v}", "{k}: {v}", '"{k}": "{v}"']))
def test_token_as_an_asset_survives(key: str, asset: str, road: str) -> None:
    """token="ETH", base_token=BTC/USDT, token: USDT: an asset symbol is not a secret."""
    text = "swap " + road.format(k=key, v=asset) + ", amount 1.5"
    assert REDACTOR.redact_text(text) == text
    assert REDACTOR.redact_context({key: asset}) == {key: asset}


@SEARCH
@given(host=st.sampled_from(["https://hooks.slack.com/services/", "https://discord.com/api/webhooks/123456789/",
                             "https://x.webhook.office.com/webhookb2/", "https://app.example.com/reset-password/",
                             "https://app.example.com/accounts/reset/MQ/", "https://chat.example.com/hooks/"]),
       credential=st.text(string.ascii_letters + string.digits + "-_", min_size=12, max_size=48).map(lambda v: "W" + v),
       tail=st.sampled_from(["", "/", "/abc", "?x=1", " failed", '"']))  # fmt: skip
def test_a_url_whose_path_is_the_credential_is_masked(host: str, credential: str, tail: str) -> None:
    """Webhook and reset links lose their credential part wherever it sits in the text."""
    assert credential not in REDACTOR.redact_text(f"POST {host}{credential}{tail}")


@SEARCH
@given(word=st.sampled_from(sorted(["delta", "change", "pnl", "balance", "amount", "qty", "volume", "fee", "by"])),
       digits=st.integers(1, 10**15), sep=st.sampled_from([" ", ": ", "="]))
def test_a_signed_amount_is_not_a_phone_number(word: str, digits: int, sep: str) -> None:
    """"balance delta +150000000" keeps its number at any magnitude."""
    text = f"{word}{sep}+{digits} units"
    assert REDACTOR.redact_text(text) == text


@SEARCH
@given(key_id=st.from_regex(r"\AAKIA[0-9A-Z]{16}\Z"),
       secret=st.from_regex(r"\A[A-Za-z0-9+][A-Za-z0-9/+]{39}\Z"),
       glue=st.sampled_from([" ", ":", ", ", " / ", "', '", " secret ", " AWS_SECRET_ACCESS_KEY="]))
def test_an_aws_secret_after_its_key_id_is_masked(key_id: str, secret: str, glue: str) -> None:
    """The 40-character secret key that follows its key id is masked with it."""
    out = REDACTOR.redact_text(f"using {key_id}{glue}{secret} now")
    assert key_id not in out and secret not in out
