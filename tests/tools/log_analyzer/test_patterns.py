"""Behaviour of the log template miner on small cases of our own."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_observability.log_analyzer import patterns
from crypto_observability.log_analyzer.patterns import TemplateMiner, mine_templates

VALUES = {
    "id": ("req-0001", "req-7781"),
    "number": ("42", "1337"),
    "decimal": ("0.25", "13.5"),
    "negative": ("-7", "-128"),
    "hex": ("0x1f3a", "0xdeadbeef"),
    "bare_hex": ("a489c868f0c37da9", "54fadb412c4e40cd"),
    "ipv4": ("10.0.0.1", "192.168.12.200"),
    "ip_port": ("10.0.0.1:8080", "172.16.5.4:443"),
    "host_port": ("api.binance.com:443", "ws.kraken.com:9443"),
    "path": ("/var/log/app.log", "/tmp/x/y.json"),
    "url": ("https://api.binance.com/api/v3/ticker?symbol=BTCUSDT", "http://localhost:8000/health"),
    "uuid": ("0673dd71-34c5-4fbb-86c4-40623fbe45b4", "d6b7bd36-2943-4363-9235-fffdd89ea40e"),
    "duration": ("123ms", "4.5s"),
    "spaced_duration": ("12 ms", "900 ms"),
    "size": ("2.65 KB", "17 MB"),
    "iso_time": ("2024-05-01T12:00:03Z", "2023-12-31 23:59:59.123"),
    "single_quoted": ("'BTC-USDT'", "'ETH-EUR'"),
    "double_quoted": ('"alice"', '"bob"'),
    "key_value": ("user=alice", "user=bob"),
    "symbol_pair": ("BTC-USDT", "ETH-USDT"),
}
SHAPE_NAMES = sorted(VALUES)


def _same_template(first: str, second: str) -> bool:
    """Mine two messages together and say whether they share one template."""
    a, b = mine_templates([first, second])
    return a == b


@pytest.mark.parametrize("shape", [s for s in SHAPE_NAMES if s != "symbol_pair"])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_value_shapes_are_masked_in_any_position(shape: str, where: str) -> None:
    """Two messages differing only in one value of a known shape get one template with <*>."""
    a, b = VALUES[shape]
    words = ["order", "sync", "failed", "for", "account"]
    slot = {"first": 0, "middle": 2, "last": len(words)}[where]
    first = " ".join([*words[:slot], a, *words[slot:]])
    second = " ".join([*words[:slot], b, *words[slot:]])
    template_a, template_b = mine_templates([first, second])
    assert template_a == template_b
    assert "<*>" in template_a
    assert a not in template_a


def test_symbols_become_variable_once_they_vary_enough() -> None:
    """Trading pairs that vary from line to line end up as one <*> slot."""
    pairs = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "ADA-USDT", "DOGE-USDT"]
    templates = mine_templates([f"ticker fetched for {pair} from binance" for pair in pairs])
    assert {"ticker fetched for <*> from binance"} == set(templates)


def test_different_constant_words_give_different_templates() -> None:
    """Messages whose constant words differ are not merged."""
    messages = [
        "VM Started (Lifecycle Event)",
        "VM Paused (Lifecycle Event)",
        "VM Stopped (Lifecycle Event)",
        "Link error",
        "Link ok",
        "normal",
        "warning",
    ]
    templates = mine_templates(messages * 3)
    assert len(set(templates)) == len(messages)


def test_event_name_in_first_position_is_never_merged_by_count() -> None:
    """Six commands sharing a tail keep six templates: the first word names the event."""
    commands = ["boot", "wait", "halt", "reboot", "shutdown", "probe"]
    messages = [f"{command} (command {n})" for n in range(3) for command in commands]
    assert len(set(mine_templates(messages))) == len(commands)


def test_names_shared_by_two_kinds_of_message_become_variable() -> None:
    """A few user names seen in two different messages are recognised as a variable slot."""
    users = ["alice", "bob", "carol"]
    messages = [f"session opened for user {u} by uid {n}" for n, u in enumerate(users)]
    messages += [f"session closed for user {u}" for u in users]
    assert set(mine_templates(messages)) == {
        "session opened for user <*> by uid <*>", "session closed for user <*>"}


def test_wording_alternatives_stay_constant() -> None:
    """Words alternating in one kind of message only (Started/Stopped) are kept as constants."""
    messages = [f"[instance: {n}] VM {state} (Lifecycle Event)"
                for n in range(4) for state in ("Started", "Stopped", "Paused", "Resumed")]
    assert len(set(mine_templates(messages))) == 4


def test_seed_variables_are_masked() -> None:
    """Ids, IPs, sizes, durations and snake-case ids of real logs are masked in place."""
    templates = mine_templates([
        "Received block blk_-1608999687919862906 of size 67108864 from /10.250.19.102",
        "proxy.example.org:5070 close, 2717 bytes (2.65 KB) sent, 276 bytes received, lifetime <1 sec",
        "Ido chip status changed: FF:F2:9F:16:EB:27:00:0D:60:E9:14:D8 ip=10.0.2.192",
    ])
    assert templates == [
        "Received block <*> of size <*> from <*>",
        "<*> close, <*> sent, <*> received, lifetime <*>",
        "Ido chip status changed: <*> ip=<*>",
    ]


@pytest.mark.parametrize("unit", ["a1_", "a.", "a-", "a_", "1.", "0x", "'a", "a.b:", "12 ", "(1 KB) "])
def test_masking_time_is_linear_on_hostile_input(unit: str) -> None:
    """A 40,000-character run of a repeated fragment is masked in well under a second."""
    message = unit * (40_000 // len(unit))
    start = time.perf_counter()
    mine_templates([message])
    assert time.perf_counter() - start < 1.0


def test_one_template_per_message_in_order() -> None:
    """The output has one template per input line, aligned with the input."""
    messages = ["cache miss for key 12", "exchange timeout after 30 s", "cache miss for key 13"]
    templates = mine_templates(messages)
    assert len(templates) == 3
    assert templates[0] == templates[2] == "cache miss for key <*>"
    assert templates[1] != templates[0]


def test_empty_input_and_blank_message() -> None:
    """No messages give no templates; a blank message gets an empty template."""
    assert mine_templates([]) == []
    assert mine_templates([""]) == [""]


def test_mining_is_deterministic() -> None:
    """The same input gives the same templates, run after run."""
    users = ["ann", "bob", "cy", "dee", "eve", "fay"]
    messages = [f"user {users[i % 6]} placed order {i} on {('kraken', 'binance')[i % 2]}" for i in range(18)]
    assert mine_templates(messages) == mine_templates(list(messages))


def test_incremental_miner_counts_templates() -> None:
    """TemplateMiner.add returns the template so far and templates() counts them, biggest first."""
    miner = TemplateMiner()
    assert miner.add("request took 12ms") == "request took <*>"
    miner.add("request took 340ms")
    miner.add("bot started")
    assert miner.templates() == [("request took <*>", 2), ("bot started", 1)]
    assert miner.template("request took 9ms") == "request took <*>"


def test_cluster_cap_bounds_memory() -> None:
    """Beyond max_clusters, new shapes are not tracked; they get their masked form as template."""
    miner = TemplateMiner(max_clusters=2)
    miner.add("alpha beta gamma")
    miner.add("one two")
    assert miner.add("delta epsilon zeta eta 5") == "delta epsilon zeta eta <*>"
    assert len(miner.templates()) == 2


def test_public_surface() -> None:
    """The module exports exactly the miner class and the batch function."""
    assert patterns.__all__ == ["TemplateMiner", "mine_templates"]


UNIT_WORDS = {"sec", "secs", "min", "mins", "hrs", "bytes"}
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8).filter(
    lambda word: word not in UNIT_WORDS)
MASKED_SHAPES = [shape for shape in SHAPE_NAMES if shape != "symbol_pair"]


@settings(max_examples=40, deadline=None)
@given(
    skeletons=st.lists(st.lists(WORDS, min_size=2, max_size=6, unique=True), min_size=1, max_size=4,
                       unique_by=tuple),
    data=st.data(),
)
def test_generated_templates_are_recovered(skeletons: list[list[str]], data: st.DataObject) -> None:
    """Messages made from distinct word skeletons plus masked values give one group per skeleton."""
    messages, origin = [], []
    for number, words in enumerate(skeletons):
        slot = data.draw(st.integers(0, len(words)), label=f"slot{number}")
        shape = data.draw(st.sampled_from(MASKED_SHAPES), label=f"shape{number}")
        for value in (*VALUES[shape], VALUES[shape][0]):
            messages.append(" ".join([*words[:slot], value, *words[slot:]]))
            origin.append(number)
    templates = mine_templates(messages)
    groups: dict[str, set[int]] = {}
    for number, template in zip(origin, templates, strict=True):
        groups.setdefault(template, set()).add(number)
    assert all(len(members) == 1 for members in groups.values())
    assert len(groups) == len(skeletons)
