"""Group free-text log messages into templates (``<*>`` for variables) without any per-source tuning.

Four steps, one global setting for every log source (see ``docs/pattern_miner.md``):

1. mask value-shaped spans (numbers, ids, addresses, paths, ...; ``_masking.py``) and split on
   whitespace;
2. put each masked token sequence into a cluster of the same length whose tokens agree with it on
   at least ``similarity`` of its known (unmasked) tokens; an inverted index finds candidates;
3. inside a cluster, a position turns variable once it has held a value (a masked span in
   punctuation, ``true``/``false``/``null``) and anything else, or once it has shown
   ``max_values`` distinct tokens (never the first token by count: it usually names the event);
   positions with fewer alternatives stay constant and split the cluster into templates;
4. (``refine``, done by ``mine_templates``) positions whose alternative names recur as
   alternatives in another cluster turn variable: they name entities, not wording.

``mine_templates`` feeds the distinct masked forms most frequent first (ties by value), so its
result depends on the set of messages, not their order. Memory is bounded: at most
``max_clusters`` clusters, fewer than ``max_values`` remembered tokens per position, and capped
caches. Results do not depend on hash seeds or dictionary order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from crypto_observability.log_analyzer._masking import VARIABLE, mask

__all__ = ["TemplateMiner", "mine_templates"]

Signature = tuple[str, ...]

SIMILARITY = 0.5
MAX_VALUES = 6
MAX_CLUSTERS = 20_000
_CACHE_LIMIT = 50_000


class _Cluster:
    """Messages of one length that agree on most positions; tracks the tokens seen per position."""

    __slots__ = ("affixes", "counts", "length", "values", "variable")

    def __init__(self, signature: Signature) -> None:
        self.length = len(signature)
        self.values: list[set[str]] = [{token} for token in signature]
        self.variable = [token == VARIABLE for token in signature]
        self.affixes: dict[int, tuple[str, str]] = {}
        self.counts: dict[Signature, int] = {}

    def template_of(self, signature: Signature) -> Signature:
        """Mask the positions this cluster has learned to be variable."""
        variable = self.variable
        return tuple(VARIABLE if variable[i] else token for i, token in enumerate(signature))

    def make_variable(self, position: int) -> None:
        """Turn ``position`` variable, keeping the punctuation its tokens share, e.g. ``(<*>)``."""
        tokens = sorted(self.values[position])
        self.affixes[position] = (_common(_lead(t) for t in tokens), _common(_trail(t) for t in tokens))
        self.variable[position] = True
        self.values[position] = set()

    def widen(self, position: int, token: str) -> None:
        """Shrink the shared punctuation of a variable position to what ``token`` also has.

        Affixes are kept as (prefix, reversed suffix) so both shrink by common prefix.
        """
        prefix, suffix = self.affixes.get(position, ("", ""))
        if (prefix or suffix) and not (token.startswith(prefix) and token.endswith(suffix[::-1])
                                       and len(token) >= len(prefix) + len(suffix)):
            self.affixes[position] = (_common((prefix, _lead(token))), _common((suffix, _trail(token))))

    def render(self, key: Signature) -> str:
        """Write a template key as text, variables wrapped in their shared punctuation."""
        if not self.affixes:
            return " ".join(key)
        affixes = self.affixes
        return " ".join(
            f"{affixes[i][0]}{VARIABLE}{affixes[i][1][::-1]}" if i in affixes and token == VARIABLE else token
            for i, token in enumerate(key))


# a boolean or null literal, alone or after a key: "true", "ret:false", "(null)"
_LITERAL = re.compile(r"(?:^|[^A-Za-z])(?:true|false|null)[^A-Za-z]*$", re.IGNORECASE)


def _is_value(token: str) -> bool:
    """Say whether a token is a value: masked spans in punctuation only (``<*>,``), or a literal."""
    if VARIABLE in token and not any(c.isalnum() for c in token.replace(VARIABLE, "")):
        return True
    return _LITERAL.search(token) is not None


def _holds_values(seen: set[str]) -> bool:
    """A position that has held a value and something else is a variable slot, whatever its count."""
    return len(seen) >= 2 and any(_is_value(token) for token in seen)


def _word(token: str) -> str:
    """Return ``token`` without the punctuation around it."""
    return token.strip(_PUNCTUATION)


_PUNCTUATION = ",;:'\"()[]{}<>"
# a name: letters, possibly joined by / . : _ - (okx, BTC/USDT:USDT, com.example.app)
_NAME = re.compile(r"[A-Za-z]+(?:[/.:_-][A-Za-z]+)*")


def _lead(token: str) -> str:
    """Return the run of punctuation that starts ``token`` (a ``<*>`` inside counts as a value)."""
    token = token.replace(VARIABLE, "0")
    end = 0
    while end < len(token) and not token[end].isalnum():
        end += 1
    return token[:end]


def _trail(token: str) -> str:
    """Return the run of punctuation that ends ``token``, reversed so runs compare as prefixes."""
    return _lead(token[::-1].replace(VARIABLE[::-1], "0"))


def _common(parts: Iterable[str]) -> str:
    """Return the longest common prefix of ``parts``."""
    items = list(parts)
    if not items:
        return ""
    first, last = min(items), max(items)
    end = 0
    while end < len(first) and first[end] == last[end]:
        end += 1
    return first[:end]


class TemplateMiner:
    """Incremental template miner: ``add`` a message, get its template; ``templates`` lists counts."""

    def __init__(self, similarity: float = SIMILARITY, max_values: int = MAX_VALUES,
                 max_clusters: int = MAX_CLUSTERS) -> None:
        self.similarity = similarity
        self.max_values = max_values
        self.max_clusters = max_clusters
        self._clusters: list[_Cluster] = []
        self._index: dict[tuple[int, int, str], list[_Cluster]] = {}
        self._routes: dict[Signature, _Cluster | None] = {}
        self._masked: dict[str, Signature] = {}

    def add(self, message: str) -> str:
        """Learn from ``message`` and return its template as known so far."""
        signature = self._signature(message)
        cluster = self._route(signature)
        if cluster is None:
            return " ".join(signature)
        self._learn(cluster, signature)
        key = cluster.template_of(signature)
        cluster.counts[key] = cluster.counts.get(key, 0) + 1
        return cluster.render(key)

    def template(self, message: str) -> str:
        """Return the current template of ``message`` without learning from it."""
        signature = self._signature(message)
        cluster = self._routes.get(signature) or self._find(signature)
        return " ".join(signature) if cluster is None else cluster.render(cluster.template_of(signature))

    def templates(self) -> list[tuple[str, int]]:
        """List (template, count) pairs, most frequent first, ties in first-seen order."""
        merged: dict[str, int] = {}
        for cluster in self._clusters:
            for key, count in cluster.counts.items():
                text = cluster.render(key)
                merged[text] = merged.get(text, 0) + count
        return sorted(merged.items(), key=lambda item: -item[1])

    # ------------------------------------------------------------------ internals
    def _signature(self, message: str) -> Signature:
        """Mask and split ``message`` (cached: logs repeat themselves)."""
        cached = self._masked.get(message)
        if cached is None:
            if len(self._masked) >= _CACHE_LIMIT:
                self._masked.clear()
            cached = tuple(mask(message).split())
            self._masked[message] = cached
        return cached

    def _route(self, signature: Signature) -> _Cluster | None:
        """Find or create the cluster of ``signature``; ``None`` once the cluster cap is reached."""
        if signature in self._routes:
            return self._routes[signature]
        cluster = self._find(signature)
        if cluster is None and len(self._clusters) < self.max_clusters:
            cluster = _Cluster(signature)
            self._clusters.append(cluster)
            self._index_cluster(cluster, signature)
        if len(self._routes) >= _CACHE_LIMIT:
            self._routes.clear()
        self._routes[signature] = cluster
        return cluster

    def _find(self, signature: Signature) -> _Cluster | None:
        """Return the most similar cluster of the same length, if similar enough."""
        length = len(signature)
        if length == 0:
            return None
        hits: dict[int, int] = {}
        by_id: dict[int, _Cluster] = {}
        index = self._index
        for position, token in enumerate(signature):
            if token == VARIABLE:
                continue  # masked values say nothing about the kind of message
            for cluster in index.get((length, position, token), ()):
                key = id(cluster)
                hits[key] = hits.get(key, 0) + 1
                by_id[key] = cluster
        best, best_score = None, -1.0
        known = sum(1 for token in signature if token != VARIABLE) or length
        for key in hits:
            cluster = by_id[key]
            values, variable = cluster.values, cluster.variable
            same = sum(1 for i, token in enumerate(signature)
                       if token != VARIABLE and (variable[i] or token in values[i]))
            score = same / known
            if score > best_score:
                best, best_score = cluster, score
        return best if best_score >= self.similarity else None

    def _learn(self, cluster: _Cluster, signature: Signature) -> None:
        """Record the tokens of ``signature``; a position with too many distinct tokens turns variable."""
        changed = False
        for position, token in enumerate(signature):
            if cluster.variable[position]:
                if position in cluster.affixes:
                    cluster.widen(position, token)
                continue
            seen = cluster.values[position]
            if token in seen:
                continue
            seen.add(token)
            if (len(seen) >= self.max_values and position > 0) or _holds_values(seen):
                cluster.make_variable(position)
                changed = True
            elif token != VARIABLE:
                self._index.setdefault((cluster.length, position, token), []).append(cluster)
        if changed:
            self._rekey(cluster)

    def _index_cluster(self, cluster: _Cluster, signature: Signature) -> None:
        """Make the tokens of a new cluster findable by position."""
        for position, token in enumerate(signature):
            if token != VARIABLE:
                self._index.setdefault((cluster.length, position, token), []).append(cluster)

    def refine(self, min_shared: int = 2) -> int:
        """Second pass: turn variable the positions sharing alternative words with another cluster.

        A position changes when ``min_shared`` of its alternatives are also alternatives at one
        position of another cluster: a word taking the same few values in different kinds of
        message (user names) names an entity, not wording, while wording alternatives
        (Started/Stopped) belong to one kind of message. The first position counts too (ccxt
        prefixes its messages with the venue). Only names count: letters, possibly joined by
        ``/ . : _ -`` (``BTC/USDT:USDT``, ``com.example.app``), without the punctuation around them
        (``okx:`` is ``okx``); words with digits (en0, x+) tend to be fixed device names.
        Returns the number of positions changed.
        """
        owners: dict[str, list[tuple[_Cluster, int]]] = {}
        for cluster in self._clusters:
            for position in range(cluster.length):
                values = cluster.values[position]
                if not cluster.variable[position] and len(values) >= 2:
                    for word in {_word(token) for token in values}:
                        if _NAME.fullmatch(word):
                            owners.setdefault(word, []).append((cluster, position))
        shared: dict[tuple[int, int, int, int], int] = {}
        slots: dict[tuple[int, int], tuple[_Cluster, int]] = {}
        for places in owners.values():
            for first, at in places:
                for second, other in places:
                    if first is not second:
                        pair = (id(first), at, id(second), other)
                        shared[pair] = shared.get(pair, 0) + 1
                        slots[(id(first), at)] = (first, at)
        entities = {(pair[0], pair[1]) for pair, count in shared.items() if count >= min_shared}
        changed = 0
        for key in entities:
            cluster, position = slots[key]
            cluster.make_variable(position)
            self._rekey(cluster)
            changed += 1
        return changed

    def _rekey(self, cluster: _Cluster) -> None:
        """Fold the per-template counts after a position became variable."""
        folded: dict[Signature, int] = {}
        for key, count in cluster.counts.items():
            new_key = cluster.template_of(key)
            folded[new_key] = folded.get(new_key, 0) + count
        cluster.counts = folded


def mine_templates(messages: list[str], *, similarity: float = SIMILARITY,
                   max_values: int = MAX_VALUES) -> list[str]:
    """Return one template per message, variables written ``<*>``, from the whole batch.

    The result depends on the set of messages, not their order. The keywords exist for the
    benchmark's leave-one-system-out selection; callers keep the global defaults.
    """
    miner = TemplateMiner(similarity, max_values)
    signatures = [miner._signature(message) for message in messages]
    unique = _canonical_order(signatures)
    routes = {}
    for signature in unique:
        cluster = miner._route(signature)
        if cluster is not None:
            miner._learn(cluster, signature)
        routes[signature] = cluster
    miner.refine()
    rendered: dict[Signature, str] = {}
    out = []
    for signature in signatures:
        text = rendered.get(signature)
        if text is None:
            cluster = routes[signature]
            text = " ".join(signature) if cluster is None else cluster.render(cluster.template_of(signature))
            rendered[signature] = text
        out.append(text)
    return out


def _canonical_order(items: list[Signature]) -> list[Signature]:
    """Distinct signatures, most frequent first, ties by value: the input's order cannot matter."""
    counts = Counter(items)
    return sorted(counts, key=lambda sig: (-counts[sig], sig))
