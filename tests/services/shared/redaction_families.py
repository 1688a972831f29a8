"""The redaction corpus, by family: secrets as services log them (must leave masked) and ordinary crypto
values (must leave as they came). Each family crosses names, shapes and roads (context, key=value text,
JSON, reprs), so a rule that fixes one example but not its family shows up here.

Run ``python -m tests.services.shared.redaction_families`` to print the leak and over-mask counts.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import orjson

from crypto_observability.shared.redaction import Redactor

try:
    from crypto_observability.shared.redaction import secrets_from_environment
except ImportError:  # before redaction owned it (for the "before" count)
    from crypto_observability.shared.pipeline import secrets_from_environment  # type: ignore[attr-defined,no-redef]


class Case(NamedTuple):
    """One corpus entry: a text or a context, and the secrets (empty: must come out unchanged)."""

    family: str
    name: str
    payload: Any
    secrets: tuple[str, ...] = ()
    environ: tuple[tuple[str, str], ...] = ()


def secret(seed: str, length: int = 28) -> str:
    """A deterministic credential-shaped value: mixed case and digits, unique per seed."""
    raw = base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()
    core = "".join(ch for ch in raw if ch.isalnum())[: length - 3]
    return "Zq7" + core


def aws_secret(seed: str) -> str:
    """40 characters of base64 with "/" inside, as AWS secret access keys look."""
    raw = base64.b64encode(hashlib.sha256(seed.encode()).digest() * 2).decode().replace("=", "")
    return (raw[:12] + "/" + raw[12:25] + "/" + raw[25:39])[:40]


def spellings(name: str) -> list[str]:
    """A name in snake_case, UPPER_CASE, camelCase and Title-Kebab."""
    words = name.replace("-", "_").split("_")
    camel = words[0] + "".join(w.title() for w in words[1:])
    return [name, name.upper(), camel, "-".join(w.title() for w in words)]


def _text_roads(key: str, value: str) -> dict[str, str]:
    return {
        "kv": f"login {key}={value} ok",
        "kv_colon": f"login {key}: {value}, ok",
        "json": f'{{"{key}": "{value}", "symbol": "BTC/USDT"}}',
        "repr": f"{{'{key}': '{value}', 'symbol': 'BTC/USDT'}}",
        "kv_quoted": f'login {key}="{value}" ok',
        "query": f"GET https://api.example.com/v1/x?symbol=BTCUSDT&{key}={value}&ts=1",
    }


# --- leaks ------------------------------------------------------------------------------------------------

SECRET_KEY_NAMES = ["db_pass", "seed", "pk", "sk", "x_auth", "webhook_url", "hmac", "sig", "private", "password",
                    "api_key", "secret", "access_token", "x_mbx_apikey", "passphrase", "smtp_pass", "wallet_seed",
                    "hmac_key", "signing_key", "session", "cookie", "jwt", "otp", "sentry_dsn", "client_secret",
                    "private_key", "mnemonic", "x_sig", "db_pwd", "auth_token"]  # fmt: skip


def secret_keys() -> Iterator[Case]:
    """Secret key names in every spelling, on every road."""
    for base in SECRET_KEY_NAMES:
        for key in spellings(base):
            value = secret(key)
            yield Case("secret key names", f"{key}/context", {"request": {"headers": {key: value}}}, (value,))
            for road, text in _text_roads(key, value).items():
                yield Case("secret key names", f"{key}/{road}", text, (value,))


PAIR_NAMES = ["X-MBX-APIKEY", "DB_PASS", "api_token", "password", "WALLET_SEED", "x-auth", "OK-ACCESS-SIGN"]


def _pair_forms(name: str, value: str) -> dict[str, Any]:
    return {
        "har_headers": {"request": {"headers": [{"name": "Accept", "value": "json"}, {"name": name, "value": value}]}},
        "k8s_env": {"spec": {"env": [{"name": "LOG_LEVEL", "value": "INFO"}, {"name": name, "value": value}]}},
        "aws_tags": {"Tags": [{"Key": "env", "Value": "prod"}, {"Key": name, "Value": value}]},
        "tuples": {"headers": [("Accept", "json"), (name, value)]},
        "lists": {"headers": [["Accept", "json"], [name, value]]},
        "bytes_tuples": {"headers": [(b"accept", b"json"), (name.encode(), value.encode())]},
    }


def pair_lists() -> Iterator[Case]:
    """Lists of name/value pairs (HAR headers, k8s env, AWS tags, tuples) in a context and as text."""
    for name in PAIR_NAMES:
        value = secret("pair" + name)
        for form, structure in _pair_forms(name, value).items():
            yield Case("name/value pairs", f"{name}/{form}/context", structure, (value,))
            yield Case("name/value pairs", f"{name}/{form}/repr", f"request {structure!r}", (value,))
            if form != "bytes_tuples":
                yield Case("name/value pairs", f"{name}/{form}/json", orjson.dumps(structure).decode(), (value,))


def _credential_urls(c: str) -> dict[str, str]:
    u1, u2 = "3f2b8c1d-9e4a-4b5c-8d7e-6f5a4b3c2d1e", "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
    hexsig = hashlib.sha256(c.encode()).hexdigest()
    return {
        "slack": f"https://hooks.slack.com/services/T0{c[3:11].upper()}/B0{c[5:13].upper()}/{c}",
        "slack_workflow": f"https://hooks.slack.com/workflows/T01ABCDEF/A02GHIJKL/4567891230/{c}",
        "discord": f"https://discord.com/api/webhooks/1234567890123456789/{c}",
        "discordapp": f"https://discordapp.com/api/webhooks/1234567890123456789/{c}",
        "teams": f"https://contoso.webhook.office.com/webhookb2/{u1}@{u2}/IncomingWebhook/{c}/{u2}",
        "teams_legacy": f"https://outlook.office.com/webhook/{u1}@{u2}/IncomingWebhook/{c}/{u2}",
        "mattermost": f"https://chat.example.com/hooks/{c}",
        "reset_path": f"https://app.example.com/reset-password/{c}",
        "reset_django": f"https://app.example.com/accounts/reset/MQ/{c}/",
        "reset_nested": f"https://app.example.com/password/reset/{c}?next=/home",
        "verify_email": f"https://app.example.com/verify-email/{c}",
        "magic_link": f"https://app.example.com/auth/magic-link/{c}",
        "reset_query": f"https://app.example.com/reset?token={c}",
        "s3_presigned": "https://bucket.s3.amazonaws.com/report.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250115%2Fus-east-1%2Fs3%2Faws4_request"
                        f"&X-Amz-Date=20250115T103000Z&X-Amz-Expires=3600&X-Amz-Security-Token={c}"
                        f"&X-Amz-SignedHeaders=host&X-Amz-Signature={hexsig}",
        "s3_v2": f"https://bucket.s3.amazonaws.com/a.csv?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1736937000"
                 f"&Signature={c}",
        "gcs": f"https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Date=20250115T103000Z"
               f"&X-Goog-Signature={hexsig}{c}",
        "azure_sas": f"https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&se=2025-01-16&sr=b&sp=r&sig={c}",
        "cloudfront": f"https://d111111abcdef8.cloudfront.net/v.mp4?Expires=1736937000&Signature={c}"
                      "&Key-Pair-Id=K2JCJMDEHXQW5F",
        "power_automate": "https://prod-12.westus.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke"
                          f"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={c}",
    }  # fmt: skip


def credential_urls() -> Iterator[Case]:
    """URLs whose path or query is the credential: webhooks, reset links, presigned links."""
    for kind in _credential_urls("x"):
        c = secret("url" + kind)
        url = _credential_urls(c)[kind]
        yield Case("credential URLs", f"{kind}/text", f"POST {url} failed: 404", (c,))
        yield Case("credential URLs", f"{kind}/json", orjson.dumps({"url": url, "status": 404}).decode(), (c,))
        yield Case("credential URLs", f"{kind}/context", {"target": url, "status": 404}, (c,))


def command_lines() -> Iterator[Case]:
    """curl -u user:pass in every spelling."""
    for i, form in enumerate(["curl -u admin:{c} https://x.io", "curl --user admin:{c} https://x.io",
                              "curl --user=admin:{c} https://x.io", "curl -u 'admin:{c}' https://x.io",
                              'curl -u "admin:{c}" https://x.io', "curl -sS -u admin:{c} -X POST https://x.io",
                              "exec: curl -u :{c} https://x.io"]):  # fmt: skip
        c = secret(f"curl{i}")
        yield Case("curl -u", f"form{i}", form.format(c=c), (c,))


def aws_pairs() -> Iterator[Case]:
    """An AWS secret key after its key id, however they are joined."""
    key_id = "AKIA" + "QWERTYUIOPASDFGH"
    for i, form in enumerate(["{k} {s}", "{k}:{s}", "{k},{s}", "key {k} secret {s}", "credentials: {k} / {s}",
                              "AWS_ACCESS_KEY_ID={k} AWS_SECRET_ACCESS_KEY={s}", "('{k}', '{s}')",
                              "{{'aws_access_key_id': '{k}', 'aws_secret_access_key': '{s}'}}"]):  # fmt: skip
        s = aws_secret(f"aws{i}")
        yield Case("AWS key id + secret", f"form{i}", form.format(k=key_id, s=s), (key_id, s))


def format_arguments() -> Iterator[Case]:
    """A secret passed as the %s argument of a key=%s message."""
    shapes = {"mixed": secret("fmt"), "hex64": hashlib.sha256(b"fmt").hexdigest(), "b64": aws_secret("fmt")}
    for template in ["key=%s", "key: %s", "using key=%s for binance", "api_key=%s", "signing_key=%s",
                     "secret=%s", "token=%s"]:  # fmt: skip
        for shape, value in shapes.items():
            yield Case("key=%s arguments", f"{template}/{shape}", template % value, (value,))


ENV_SECRETS = {"DB_PASS": "pg-Hunter2-prod", "SMTP_PASSWORD": "mail-Pa55word", "BINANCE_SECRET": secret("bs"),
               "WALLET_SEED": "abandon ability able about above", "HMAC_KEY": secret("hk"), "X_AUTH": secret("xa"),
               "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T01/B02/" + secret("sw"),
               "OKX_PASSPHRASE": "okx phrase 77", "SENTRY_DSN": "https://" + secret("sd") + "@o1.ingest.sentry.io/2",
               "API_SIG": secret("as"), "PRIVATE_KEY": "0x" + hashlib.sha256(b"pk").hexdigest(),
               "GITHUB_TOKEN": "ghp_" + secret("gh"), "REDIS_PASS": "r3dis-pass", "DB_PWD": "db-pwd-2025",
               "MASTER_KEY": secret("mk"), "SESSION_SECRET": secret("ss")}  # fmt: skip


def environment_secrets() -> Iterator[Case]:
    """The value of any variable whose name says secret, masked wherever it appears, whatever its shape."""
    env = tuple(ENV_SECRETS.items())
    for name, value in ENV_SECRETS.items():
        yield Case("secret variables", name, f"start-up failed with {value} in the config", (value,), env)


# --- ordinary values that must survive --------------------------------------------------------------------

ASSETS = ["ETH", "USDT", "1INCH", "WBTC", "stETH", "USDC.e", "BTC/USDT", "BTC/USDT:USDT", "ETH-PERP",
          "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"]  # fmt: skip


def asset_tokens() -> Iterator[Case]:
    """token as an asset: token="ETH", base_token, quote_token, token: USDT."""
    for key in ["token", "base_token", "quote_token", "fee_token", "quoteToken", "TOKEN"]:
        for asset in ASSETS:
            yield Case("token as an asset", f"{key}={asset}/context", {key: asset, "amount": "1.5"})
            yield Case("token as an asset", f"{key}={asset}/kv_quoted", f'swap {key}="{asset}" amount=1.5')
            yield Case("token as an asset", f"{key}={asset}/kv", f"swap {key}={asset} amount=1.5")
            yield Case("token as an asset", f"{key}={asset}/kv_colon", f"swap {key}: {asset}, amount 1.5")
            yield Case("token as an asset", f"{key}={asset}/json", f'{{"{key}": "{asset}", "amount": "1.5"}}')


METADATA = [("password_changed_at", "2025-01-15T10:30:00.000Z"), ("credentials_path", "/etc/crypto/credentials.json"),
            ("token_count", "5"), ("secret_name", "binance-api"), ("signature_valid", "true"),
            ("api_key_name", "trading-bot"), ("private_key_path", "/run/keys/signer.pem"),
            ("token_expires_at", "2025-01-16T10:30:00Z"), ("auth_method", "hmac-sha256"),
            ("password_length", "16"), ("key_file", "/etc/ssl/private/server.key"),
            ("token_type", "Bearer"), ("seed_phrase_length", "24")]  # fmt: skip


def metadata_keys() -> Iterator[Case]:
    """Names that describe a secret without holding it: times, paths, names, counts, methods."""
    for key, value in METADATA:
        yield Case("about a secret", f"{key}/context", {key: value})
        yield Case("about a secret", f"{key}/kv", f"rotated {key}={value}, done")
        yield Case("about a secret", f"{key}/json", f'{{"{key}": "{value}"}}')


ORDINARY_URLS = ["wss://stream.binance.com:9443/ws/btcusdt@trade",
                 "wss://stream.binance.com:9443/stream?streams=btcusdt@aggTrade/ethusdt@depth@100ms",
                 "wss://fstream.binance.com/ws/btcusdt@markPrice@1s", "wss://ws.okx.com:8443/ws/v5/public",
                 "wss://stream.bybit.com/v5/public/linear", "https://api.binance.com:443/api/v3/ticker/24hr?symbol=BTCUSDT",
                 "https://www.okx.com/api/v5/market/ticker?instId=BTC-USDT-SWAP", "https://docs.example.com/webhooks",
                 "https://github.com/org/repo/settings/hooks", "redis://cache:6379/0",
                 "ws://127.0.0.1:9443/market/ws/0"]  # fmt: skip


def stream_urls() -> Iterator[Case]:
    """WebSocket streams and exchange endpoints (host:port/path@stream is not a login)."""
    for url in ORDINARY_URLS:
        yield Case("stream and API URLs", f"{url}/text", f"connected to {url} in 12 ms")
        yield Case("stream and API URLs", f"{url}/context", {"url": url, "exchange": "binance"})


AMOUNTS = ["balance delta +150000000", "pnl +1234.56 USDT", "change=+5.23%", "funding +0.0100%",
           "delta +15000000000 wei", "position size +2.5 BTC", "oi change +150000000 (+3.2%)",
           "fee +0.00012 BNB", "offset +05:30", "pnl: +987654321", "balance +1500000000000 sat",
           "amount +250000000"]  # fmt: skip


def amounts() -> Iterator[Case]:
    """Signed amounts are not phone numbers."""
    for text in AMOUNTS:
        yield Case("signed amounts", text, text)
        yield Case("signed amounts", f"{text}/context", {"note": text})


CHAIN_VALUES = ["tx 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060 confirmed",
                "to 0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                "block 19000000 nonce 42", "order 1234567890123 filled", "request 3f2b8c1d-9e4a-4b5c-8d7e-6f5a4b3c2d1e",
                "key=ticker:BTC/USDT hit=true", "cache key=ohlcv:binance:BTC/USDT:1h hit=true",
                "idempotency_key=3f2b8c1d-9e4a-4b5c-8d7e-6f5a4b3c2d1e", "key=BTC-USDT-SWAP", "sort key=timestamp",
                "sig verified for 0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe",
                "python -u main.py started", "sort -u symbols.txt"]  # fmt: skip


def chain_values() -> Iterator[Case]:
    """Hashes, addresses, ids, cache keys and commands."""
    for text in CHAIN_VALUES:
        yield Case("chain values and ids", text, text)
    for key, value in [("tx_hash", "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"),
                       ("address", "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe"), ("order_id", "1234567890123"),
                       ("key", "ticker:BTC/USDT"), ("cache_key", "ohlcv:binance:BTC/USDT:1h")]:  # fmt: skip
        yield Case("chain values and ids", f"{key}/context", {key: value})


def ordinary_pairs() -> Iterator[Case]:
    """Name/value pairs with ordinary names keep their values."""
    structure = {"headers": [{"name": "Accept", "value": "application/json"}, ("Content-Type", "text/plain")],
                 "Tags": [{"Key": "env", "Value": "production"}], "env": [{"name": "LOG_LEVEL", "value": "INFO"}],
                 "metric": {"name": "latency", "value": 12.5}}  # fmt: skip
    yield Case("ordinary pairs", "context", structure)
    yield Case("ordinary pairs", "repr", repr(structure))
    yield Case("ordinary pairs", "json", orjson.dumps(structure).decode())


ORDINARY_ENV = {"PWD": "/work/app", "OLDPWD": "/work", "HOME": "/home/app", "PATH": "/usr/local/bin:/usr/bin",
                "LANG": "C.UTF-8", "SSH_AUTH_SOCK": "/tmp/ssh-XXXXabcd/agent.1234",
                "GOOGLE_APPLICATION_CREDENTIALS": "/run/secrets/gcp.json", "BASE_TOKEN": "ETH",
                "PASSWORD_STORE_DIR": "/home/app/.password-store", "LOG_DIR": "/work/app/logs"}  # fmt: skip


def working_directory() -> Iterator[Case]:
    """Paths under the working directory and other non-secret variables stay readable."""
    env = tuple(ORDINARY_ENV.items())
    for text in ['loaded /work/app/config/monitor.yml', 'File "/work/app/services/main.py", line 3, in run',
                 "writing /work/app/logs/market-data.log", "cwd /work", "home /home/app/.cache",
                 "credentials from /run/secrets/gcp.json", "quote in ETH"]:  # fmt: skip
        yield Case("non-secret variables", text, text, (), env)


LEAK_FAMILIES: tuple[Callable[[], Iterator[Case]], ...] = (
    secret_keys, pair_lists, credential_urls, command_lines, aws_pairs, format_arguments, environment_secrets)
ORDINARY_FAMILIES: tuple[Callable[[], Iterator[Case]], ...] = (
    asset_tokens, metadata_keys, stream_urls, amounts, chain_values, ordinary_pairs, working_directory)


def leak_cases() -> list[Case]:
    """Every secret case of every family."""
    return [case for family in LEAK_FAMILIES for case in family()]


def ordinary_cases() -> list[Case]:
    """Every ordinary case of every family."""
    return [case for family in ORDINARY_FAMILIES for case in family()]


def redact(case: Case) -> Any:
    """Redact a case as the pipeline would: a text as a message, a dict as a context."""
    redactor = Redactor(user_salt="corpus", known_secrets=secrets_from_environment(dict(case.environ)))
    if isinstance(case.payload, str):
        return redactor.redact_text(case.payload)
    return redactor.redact_context(case.payload)


def leaked(case: Case) -> list[str]:
    """The case's secrets still present after redaction."""
    out = redact(case)
    text = out if isinstance(out, str) else orjson.dumps(out, option=orjson.OPT_NON_STR_KEYS).decode()
    return [s for s in case.secrets if s in text]


def over_masked(case: Case) -> bool:
    """Whether an ordinary case came out changed."""
    return redact(case) != case.payload


def counts() -> dict[str, tuple[int, int]]:
    """(failures, cases) per family: leaks for secret families, over-masks for ordinary ones."""
    result: dict[str, tuple[int, int]] = {}
    for case in leak_cases():
        bad, total = result.get(case.family, (0, 0))
        result[case.family] = (bad + bool(leaked(case)), total + 1)
    for case in ordinary_cases():
        bad, total = result.get(case.family, (0, 0))
        result[case.family] = (bad + over_masked(case), total + 1)
    return result


if __name__ == "__main__":
    leak_names = {case.family for case in leak_cases()}
    table = counts()
    for family, (bad, total) in table.items():
        print(f"{'leaks' if family in leak_names else 'over-masked':12} {family:28} {bad:4} of {total}")
    leaks = sum(bad for family, (bad, _) in table.items() if family in leak_names)
    over = sum(bad for family, (bad, _) in table.items() if family not in leak_names)
    print(f"total: {leaks} leaks of {len(leak_cases())} secret cases, "
          f"{over} over-masked of {len(ordinary_cases())} ordinary cases")


# --- adversarial input: what makes a careless pattern quadratic ---------------------------------------------

# Each unit repeated to the wanted size: runs that a pattern could rescan from every position (a long
# word with no "=", "eyJeyJ...", "-----BEGIN" without END, "http://" chains, open quotes, digit runs).
ADVERSARIAL_UNITS = {
    "pairs": "a=", "colon-space": "a: ", "quoted-keys": "'a': ", "escaped-keys": '\\"a\\": ', "at-signs": "a.b@",
    "plus-digits": "+1 ", "bot-ids": "1234567:", "schemes": "http://a:b@", "scheme-chain": "http://",
    "bearer": "Bearer ", "pem": "-----BEGIN PRIVATE KEY-----", "jwt": "eyJ", "webhook-paths": "https://hooks.x/",
    "tuples": "('a', ", "name-pairs": '{"name": "a", ', "curl": "-u a:", "aws": "AKIAIOSFODNN7EXAMPLE ",
    "digits": "1", "words": "x", "domain": "b.", "open-quote-secret": 'password="a ', "reprs": "Chat(",
    "escaped-quote": '\\"a', "newlines": "\n",
}  # fmt: skip
ADVERSARIAL_TAILS = {"words": "@=:", "digits": ":x", "newlines": "x\n"}


def adversarial(family: str, size: int) -> str:
    """``size`` characters of one adversarial family, ending with what makes its patterns try hardest."""
    unit = ADVERSARIAL_UNITS[family]
    return unit * (size // len(unit)) + ADVERSARIAL_TAILS.get(family, "")


def cpu_seconds(work: Callable[[], object], repeats: int = 1) -> float:
    """The least CPU time this thread spends on ``work`` over a few runs (other processes do not count)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.thread_time()
        work()
        best = min(best, time.thread_time() - started)
    return best


def linear_budget_exceeded(work: Callable[[str], object], family: str, small: int, large: int) -> str | None:
    """Say how ``work`` on ``large`` characters exceeded a linear budget from ``small`` ones, else None.

    Linear costs large/small times as much; quadratic, that squared. The budget is twice the linear
    ratio plus 20 ms, measured in CPU time and retried, so a loaded machine cannot fail it.
    """
    small_text, large_text = adversarial(family, small), adversarial(family, large)
    allowed = 2 * large / small
    for _ in range(3):
        t_small = cpu_seconds(lambda: work(small_text))
        t_large = cpu_seconds(lambda: work(large_text))
        if t_large <= allowed * t_small + 0.02:
            return None
    return f"{family}: {large:,} chars {t_large * 1e3:.1f} ms vs {small:,} chars {t_small * 1e3:.1f} ms"
