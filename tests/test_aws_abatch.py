"""``abatch`` of the AWS runnables: worker threads in the AWS pool pull inputs themselves."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from runwire.errors import ProviderError
from runwire.providers.aws import ChatBedrockConverse
from runwire.providers.aws.client import provider_error

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


class CountingClient:
    """A stand-in boto3 client: answers after a short wait, counts calls in flight."""

    def __init__(self, fail_on: set[str] = frozenset()) -> None:
        self.fail_on = fail_on
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.calls: list[str] = []
        self.threads: set[str] = set()

    def converse(self, **params: Any) -> dict[str, Any]:
        text = params["messages"][0]["content"][0]["text"]
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.calls.append(text)
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep(0.005)
            if text in self.fail_on:
                from botocore.exceptions import ClientError

                response = {
                    "Error": {"Code": "ThrottlingException", "Message": "slow down"},
                    "ResponseMetadata": {"RequestId": "req-1", "HTTPStatusCode": 429},
                }
                raise ClientError(response, "Converse")
            return {
                "output": {"message": {"role": "assistant", "content": [{"text": text.upper()}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
            }
        finally:
            with self.lock:
                self.in_flight -= 1


def model_with(client: CountingClient) -> ChatBedrockConverse:
    return ChatBedrockConverse(model=MODEL, client=client, region_name="us-east-1")


def test_results_keep_input_order_and_run_in_the_aws_pool() -> None:
    client = CountingClient()
    texts = [f"q{i}" for i in range(20)]
    out = asyncio.run(model_with(client).abatch(texts))
    assert [m.content for m in out] == [t.upper() for t in texts]
    assert sorted(client.calls) == sorted(texts)
    assert all(name.startswith("runwire-aws") for name in client.threads)


def test_max_concurrency_bounds_the_calls_in_flight() -> None:
    client = CountingClient()
    asyncio.run(model_with(client).abatch([f"q{i}" for i in range(12)], {"max_concurrency": 3}))
    assert client.most == 3


def test_return_exceptions_puts_the_provider_error_in_place() -> None:
    client = CountingClient(fail_on={"q1"})
    out = asyncio.run(model_with(client).abatch(["q0", "q1", "q2"], return_exceptions=True))
    assert out[0].content == "Q0" and out[2].content == "Q2"
    assert isinstance(out[1], ProviderError) and out[1].code == "ThrottlingException"
    assert out[1].request_id == "req-1"


def test_a_failure_raises_and_stops_further_calls() -> None:
    client = CountingClient(fail_on={"q0"})
    texts = [f"q{i}" for i in range(30)]
    with pytest.raises(ProviderError):
        asyncio.run(model_with(client).abatch(texts, {"max_concurrency": 1}))
    assert client.calls == ["q0"]  # the one worker stopped at its failure


def test_an_empty_batch_calls_nothing() -> None:
    client = CountingClient()
    assert asyncio.run(model_with(client).abatch([])) == []
    assert client.calls == []


def test_provider_error_codes_are_capitalised() -> None:
    class StreamError(Exception):
        response = {"Error": {"Code": "throttlingException", "Message": "m"}}

    assert provider_error(StreamError(), "bedrock-runtime", "ConverseStream").retryable
