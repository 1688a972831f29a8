"""The template miner on logs it was not written against: our own errors, reordering, value evidence."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.error_corpus import crypto_error_corpus
from crypto_observability.log_analyzer.patterns import mine_templates


def grouping_accuracy(truth: list[str], predicted: list[str]) -> float:
    """Share of messages whose predicted group holds exactly the messages of their true group."""
    true_groups: dict[str, set[int]] = {}
    predicted_groups: dict[str, set[int]] = {}
    for index, (true, guess) in enumerate(zip(truth, predicted, strict=True)):
        true_groups.setdefault(true, set()).add(index)
        predicted_groups.setdefault(guess, set()).add(index)
    correct = sum(len(members) for members in predicted_groups.values()
                  if members == true_groups[truth[next(iter(members))]])
    return correct / len(truth)


CORPUS = crypto_error_corpus(3_000, seed=7)


def test_every_crypto_assistant_error_template_is_one_group() -> None:
    """ccxt (three venues), Telegram and market-data errors: one group per true template, GA 1.0."""
    messages = [message for message, _ in CORPUS]
    truth = [template for _, template in CORPUS]
    assert len(set(truth)) >= 30
    assert grouping_accuracy(truth, mine_templates(messages)) == 1.0


def test_corpus_is_reproducible_and_labelled() -> None:
    """The same seed gives the same corpus; every slot is written <*> and each message fits its template."""
    assert crypto_error_corpus(200, seed=3) == crypto_error_corpus(200, seed=3)
    assert not any(re.search(r"\{[a-z]+\}", template) for _, template in CORPUS)  # every slot became <*>
    assert all(re.fullmatch(re.escape(t).replace(re.escape("<*>"), ".+?"), m) for m, t in CORPUS[:500])


SAMPLE = [message for message, _ in CORPUS[:200]]


@settings(max_examples=25, deadline=None, derandomize=True)
@given(order=st.randoms(use_true_random=False))
def test_templates_do_not_depend_on_message_order(order: random.Random) -> None:
    """The same messages in another order get the same template each."""
    shuffled = list(SAMPLE)
    order.shuffle(shuffled)
    expected = dict(zip(SAMPLE, mine_templates(SAMPLE), strict=True))
    assert dict(zip(shuffled, mine_templates(shuffled), strict=True)) == expected


def test_a_position_that_holds_values_is_variable_whatever_its_count() -> None:
    """One unusual value among many numbers (LOCAL(0) among addresses) does not split the template."""
    messages = [f"synchronized to 10.0.{n}.250, stratum {n % 4}" for n in range(30)]
    messages.append("synchronized to LOCAL(0), stratum 10")
    assert len(set(mine_templates(messages))) == 1


def test_boolean_literals_are_values() -> None:
    """A flag printed as true/false is a variable, not two kinds of message."""
    messages = [f"clipping update isOverlap:{flag} padding {n}" for n in range(6) for flag in ("true", "false")]
    assert set(mine_templates(messages)) == {"clipping update <*> padding <*>"}


def test_names_followed_by_punctuation_are_recognised_across_messages() -> None:
    """Venue names seen as ``okx:`` in one message and ``okx`` in another are one variable slot."""
    venues = ("binanceusdm", "bybit", "okx")
    messages = [f"stale price for BTC/USDT:USDT on {venue}: last update {n} s ago"
                for n in range(3) for venue in venues]
    messages += [f"circuit open for {venue} after {n} failures" for n in range(3) for venue in venues]
    assert set(mine_templates(messages)) == {"stale price for BTC/USDT:USDT on <*>: last update <*> s ago",
                                             "circuit open for <*> after <*> failures"}


def test_a_venue_prefixing_several_kinds_of_message_is_variable() -> None:
    """ccxt's "<venue> ..." messages group across venues when the venue prefixes several messages."""
    venues = ("binanceusdm", "bybit", "okx")
    bases = ("BTC", "ETH", "SOL", "XRP", "ADA", "DOT")
    messages = [f"{venue} does not have market symbol {base}/USDT:USDT" for venue in venues for base in bases]
    messages += [f"{venue} fetchOrder() requires a symbol argument" for venue in venues]
    assert set(mine_templates(messages)) == {"<*> does not have market symbol <*>",
                                             "<*> fetchOrder() requires a symbol argument"}


def test_dotted_and_slashed_names_shared_by_two_messages_are_variable() -> None:
    """Three trading pairs seen in two kinds of message are a symbol slot, not three templates each."""
    symbols = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")
    messages = [f"no venue lists {symbol}" for symbol in symbols]
    messages += [f"open interest for {symbol} missing from okx" for symbol in symbols]
    assert set(mine_templates(messages)) == {"no venue lists <*>", "open interest for <*> missing from okx"}


def test_hex_ids_after_a_prefix_are_masked() -> None:
    """Request ids like req-ec197ad3b13c are one id shape, whether they start with a digit or a letter."""
    templates = mine_templates(["request req-ec197ad3b13c cancelled", "request req-0a1b2c3d4e5f cancelled"])
    assert templates == ["request req-<*> cancelled", "request req-<*> cancelled"]
