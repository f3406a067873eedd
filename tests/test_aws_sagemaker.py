"""SagemakerEndpoint, its declarative content handlers and the SageMaker runtime emulator:
fields as langchain-aws has them, request shapes (botocore Stubber), InvokeEndpoint and
response streams end to end through boto3 against the emulator, a registered user
handler, `runwire emulate sagemaker`, and langchain-aws as the peer."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from pydantic import SecretStr, ValidationError

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.errors import ProviderError
from runwire.providers.aws.sagemaker import SagemakerEndpoint, payload_lines
from runwire.providers.aws.sagemaker_handlers import (
    CONTENT_HANDLERS,
    JsonContentHandler,
    LLMContentHandler,
)
from runwire.testing.sagemaker import SageMakerEmulator

KEYS = {
    "aws_access_key_id": SecretStr(EMULATOR_KEY_ID),
    "aws_secret_access_key": SecretStr(EMULATOR_SECRET),
}
PROMPT = "Tell me about the sea and the sky"
STREAMING = ["tgi", "openai_chat", "openai_completions"]


@pytest.fixture(scope="module")
def module_sagemaker() -> Iterator[SageMakerEmulator]:
    with SageMakerEmulator(credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}) as emulator:
        yield emulator


@pytest.fixture
def sm(module_sagemaker: SageMakerEmulator) -> Iterator[SageMakerEmulator]:
    module_sagemaker.reset()
    module_sagemaker.endpoints = None
    yield module_sagemaker
    module_sagemaker.reset()
    module_sagemaker.endpoints = None


def endpoint(emulator: SageMakerEmulator, **kwargs: Any) -> SagemakerEndpoint:
    settings = {
        "endpoint_name": "my-endpoint",
        "content_handler": "tgi",
        "region_name": "us-east-1",
        "endpoint_url": emulator.endpoint_url,
        "config": {"retries": {"total_max_attempts": 1}},
        **KEYS,
    }
    return SagemakerEndpoint(**{**settings, **kwargs})


# -- fields and handlers ------------------------------------------------------------------
def test_fields_and_defaults() -> None:
    m = SagemakerEndpoint(content_handler="tgi")
    assert (m.endpoint_name, m.inference_component_name, m.streaming) == ("", None, False)
    assert (m.model_kwargs, m.endpoint_kwargs) == (None, None)
    assert m.aws_service == "sagemaker-runtime"
    with pytest.raises(ValidationError, match="content_handler"):
        SagemakerEndpoint()  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="unknown content handler 'nope'"):
        SagemakerEndpoint(content_handler="nope")
    with pytest.raises(ValidationError, match="unknown endpoint_kwargs \\['Colour'\\]"):
        SagemakerEndpoint(content_handler="tgi", endpoint_kwargs={"Colour": "red"})


def test_json_handler_checks_its_template_and_paths() -> None:
    with pytest.raises(ValidationError, match="must contain the string"):
        JsonContentHandler(request_template={"inputs": "x"}, output_path="a")
    with pytest.raises(ValidationError, match="not a JMESPath expression"):
        JsonContentHandler(request_template={"inputs": "{prompt}"}, output_path="[[")


@pytest.mark.parametrize(
    ("name", "kwargs", "body"),
    [
        ("tgi", {"max_new_tokens": 5}, {"inputs": "hi", "parameters": {"max_new_tokens": 5}}),
        ("tgi", {}, {"inputs": "hi", "parameters": {}}),
        (
            "openai_chat",
            {"max_tokens": 5},
            {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5},
        ),
        ("openai_completions", {"stop": ["x"]}, {"prompt": "hi", "stop": ["x"]}),
        ("jumpstart_text2text", {"max_length": 9}, {"text_inputs": "hi", "max_length": 9}),
    ],
)
def test_preset_request_bodies(name: str, kwargs: dict[str, Any], body: dict[str, Any]) -> None:
    assert json.loads(CONTENT_HANDLERS[name].transform_input("hi", kwargs)) == body


def test_output_and_stream_lines_are_read_with_jmespath() -> None:
    tgi = CONTENT_HANDLERS["tgi"]
    assert tgi.transform_output(b'[{"generated_text": "a"}]') == "a"
    assert tgi.transform_output(b'{"generated_text": "b"}') == "b"  # LMI's single object
    assert tgi.transform_stream_line(b'data:{"token": {"text": " c"}}') == " c"
    assert tgi.transform_stream_line(b'{"token": {"text": "d"}}') == "d"  # JSON lines
    assert tgi.transform_stream_line(b"") == ""
    chat = CONTENT_HANDLERS["openai_chat"]
    assert chat.transform_stream_line(b"data: [DONE]") == ""
    assert chat.transform_stream_line(b'data: {"choices": [{"delta": {}}]}') == ""
    with pytest.raises(ValueError, match="not JSON"):
        tgi.transform_output(b"<html>")
    with pytest.raises(NotImplementedError, match="stream_path"):
        CONTENT_HANDLERS["jumpstart_text2text"].transform_stream_line(b"{}")


def test_payload_lines_join_bytes_split_between_events() -> None:
    events = [
        {"PayloadPart": {"Bytes": b'{"a": '}},
        {"Other": {}},
        {"PayloadPart": {"Bytes": b'1}\n{"b"'}},
        {"PayloadPart": {"Bytes": b": 2}\n\n"}},
        {"PayloadPart": {"Bytes": b"tail"}},
    ]
    assert list(payload_lines(events)) == [b'{"a": 1}', b'{"b": 2}', b"", b"tail"]


def test_secrets_never_reach_dumps_and_presets_stay_names() -> None:
    m = SagemakerEndpoint(endpoint_name="e", content_handler="openai_chat", **KEYS)
    text = runwire.dumps(m)
    assert EMULATOR_SECRET not in text and EMULATOR_SECRET not in repr(m)
    assert json.loads(text)["kwargs"]["content_handler"] == "openai_chat"
    secrets = {"AWS_ACCESS_KEY_ID": EMULATOR_KEY_ID, "AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET}
    assert runwire.loads(text, allowed_objects="all", secrets_map=secrets) == m


# -- request shapes (Stubber) ---------------------------------------------------------------
def test_invoke_endpoint_request_shape() -> None:
    client = boto3.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        aws_access_key_id="A",
        aws_secret_access_key="s",
    )
    m = SagemakerEndpoint(
        endpoint_name="ep",
        inference_component_name="ic-1",
        content_handler="tgi",
        model_kwargs={"max_new_tokens": 8, "temperature": 0.5},
        endpoint_kwargs={"CustomAttributes": "accept_eula=true", "TargetVariant": "v2"},
        client=client,
    )
    answer = b'[{"generated_text": "fine, and you? STOP more"}]'
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(__import__("io").BytesIO(answer), len(answer))},
            {
                "EndpointName": "ep",
                "Body": json.dumps(
                    {"inputs": "how?", "parameters": {"max_new_tokens": 8, "temperature": 0.9}}
                ).encode(),
                "ContentType": "application/json",
                "Accept": "application/json",
                "CustomAttributes": "accept_eula=true",
                "TargetVariant": "v2",
                "InferenceComponentName": "ic-1",
            },
        )
        assert m.invoke("how?", stop=["STOP"], temperature=0.9) == "fine, and you? "
        stub.assert_no_pending_responses()


# -- end to end against the emulator ------------------------------------------------------
@pytest.mark.parametrize("handler", sorted(CONTENT_HANDLERS))
def test_each_preset_invokes_its_server_format(sm: SageMakerEmulator, handler: str) -> None:
    assert endpoint(sm, content_handler=handler).invoke(PROMPT) == PROMPT  # the model echoes
    (call,) = sm.requests
    assert (call.operation, call.endpoint_name, call.access_key_id) == (
        "InvokeEndpoint",
        "my-endpoint",
        EMULATOR_KEY_ID,
    )
    assert call.headers["content-type"] == "application/json"


@pytest.mark.parametrize("handler", STREAMING)
def test_streams_arrive_in_pieces_that_join_to_the_answer(
    sm: SageMakerEmulator, handler: str
) -> None:
    m = endpoint(sm, content_handler=handler)
    pieces = list(m.stream(PROMPT))
    assert len(pieces) == len(PROMPT.split()) and "".join(pieces) == PROMPT
    assert sm.requests[-1].operation == "InvokeEndpointWithResponseStream"
    assert asyncio.run(_collect(m.astream(PROMPT))) == pieces
    streamed = endpoint(sm, content_handler=handler, streaming=True)
    assert streamed.invoke(PROMPT) == PROMPT
    assert sm.requests[-1].operation == "InvokeEndpointWithResponseStream"


async def _collect(stream: Any) -> list[str]:
    return [piece async for piece in stream]


def test_model_kwargs_and_stop_sequences(sm: SageMakerEmulator) -> None:
    m = endpoint(sm, model_kwargs={"max_new_tokens": 3})
    assert m.invoke(PROMPT) == "Tell me about"
    assert m.invoke(PROMPT, max_new_tokens=2) == "Tell me"  # call kwargs win
    assert sm.requests[-1].json == {"inputs": PROMPT, "parameters": {"max_new_tokens": 2}}
    assert endpoint(sm).invoke(PROMPT, stop=["sea"]) == "Tell me about the "
    pieces = list(endpoint(sm).stream(PROMPT, stop=["the sky"]))  # "the" and "sky" arrive apart
    assert "".join(pieces) == "Tell me about the sea and "
    assert pieces[:2] == ["Tell", " me"]  # a piece ending in "t" waits: "the sky"?


def test_inference_components_and_endpoint_kwargs_reach_the_endpoint(sm: SageMakerEmulator) -> None:
    m = endpoint(
        sm,
        inference_component_name="ic-7",
        endpoint_kwargs={"CustomAttributes": "trace=1", "InferenceId": "run-1"},
    )
    m.invoke(PROMPT)
    headers = sm.requests[-1].headers
    assert headers["x-amzn-sagemaker-inference-component"] == "ic-7"
    assert headers["x-amzn-sagemaker-custom-attributes"] == "trace=1"
    assert headers["x-amzn-sagemaker-inference-id"] == "run-1"


def test_a_handler_without_streams_refuses_before_calling(sm: SageMakerEmulator) -> None:
    m = endpoint(sm, content_handler="jumpstart_text2text")
    with pytest.raises(NotImplementedError, match="does not stream"):
        list(m.stream(PROMPT))
    assert sm.requests == []


def test_async_and_batch(sm: SageMakerEmulator) -> None:
    m = endpoint(sm, content_handler="openai_chat")
    assert asyncio.run(m.ainvoke(PROMPT)) == PROMPT
    prompts = [f"prompt number {i}" for i in range(6)]
    assert asyncio.run(m.abatch(prompts)) == prompts
    assert m.batch(prompts[:2]) == prompts[:2]


@pytest.mark.parametrize(
    ("setup", "kwargs", "code", "status"),
    [
        ({"endpoints": {"other"}}, {}, "ValidationError", 400),
        (
            {},
            {
                "content_handler": JsonContentHandler(
                    request_template={"question": "{prompt}"}, output_path="answer"
                )
            },
            "ModelError",
            424,
        ),
    ],
)
def test_aws_errors_are_provider_errors(
    sm: SageMakerEmulator, setup: dict[str, Any], kwargs: dict[str, Any], code: str, status: int
) -> None:
    sm.endpoints = setup.get("endpoints")
    with pytest.raises(ProviderError) as caught:
        endpoint(sm, **kwargs).invoke(PROMPT)
    assert (caught.value.code, caught.value.status, caught.value.provider) == (
        code,
        status,
        "sagemaker-runtime",
    )


def test_throttling_mid_stream_failures_and_credentials(sm: SageMakerEmulator) -> None:
    sm.fail(status=429, code="ThrottlingException", operation="InvokeEndpoint")
    with pytest.raises(ProviderError) as caught:
        endpoint(sm).invoke(PROMPT)
    assert caught.value.code == "ThrottlingException" and caught.value.retryable
    sm.fail(mid_stream=True, operation="InvokeEndpointWithResponseStream")
    pieces: list[str] = []
    with pytest.raises(ProviderError) as caught:
        pieces.extend(endpoint(sm).stream(PROMPT))
    assert caught.value.code == "ModelStreamError"
    assert 0 < len(pieces) < len(PROMPT.split())
    with pytest.raises(ProviderError) as caught:
        endpoint(sm, aws_secret_access_key=SecretStr("bad-secret")).invoke(PROMPT)
    assert caught.value.code == "InvalidSignatureException"
    assert "bad-secret" not in str(caught.value)


def test_a_registered_user_handler_is_a_file_too(
    sm: SageMakerEmulator, id_table_snapshot: object
) -> None:
    @runwire.register
    class ShoutingHandler(LLMContentHandler):
        """Sends TGI bodies, answers in capitals."""

        @classmethod
        def get_lc_namespace(cls) -> list[str]:
            return ["tests", "sagemaker"]

        def transform_input(self, prompt: str, model_kwargs: dict[str, Any]) -> bytes:
            return json.dumps({"inputs": prompt, "parameters": model_kwargs}).encode()

        def transform_output(self, output: bytes) -> str:
            return str(json.loads(output)[0]["generated_text"]).upper()

    m = endpoint(sm, content_handler=ShoutingHandler())
    assert m.invoke("quiet words") == "QUIET WORDS"
    text = runwire.dumps(m)
    assert json.loads(text)["kwargs"]["content_handler"]["id"] == [
        "tests",
        "sagemaker",
        "ShoutingHandler",
    ]
    secrets = {"AWS_ACCESS_KEY_ID": EMULATOR_KEY_ID, "AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET}
    back = runwire.loads(
        text,
        allowed_objects="all",
        secrets_map=secrets,
        valid_namespaces=["tests"],
        allowed_endpoints=["http://127.0.0.1"],
    )
    assert back == m and back.invoke("again") == "AGAIN"
    with pytest.raises(NotImplementedError, match="ShoutingHandler does not stream"):
        list(back.stream("x"))


def test_runwire_emulate_sagemaker_runs_an_endpoint_file(tmp_path: Path) -> None:
    path = tmp_path / "sm.yaml"
    path.write_text(
        "_type: SagemakerEndpoint\n"
        "endpoint_name: my-tgi\n"
        "endpoint_url: ${SAGEMAKER_ENDPOINT_URL}\n"
        "region_name: us-east-1\n"
        "content_handler: tgi\n"
        "model_kwargs: {max_new_tokens: 2}\n"
    )
    command = [sys.executable, "-m", "runwire.cli.main"]
    done = subprocess.run(
        [*command, "emulate", "sagemaker", "--", *command, "run", str(path), "--input", '"a b c"'],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[0] == '"a b"'


# -- LangChain -----------------------------------------------------------------------------
def test_langchain_aws_with_a_python_handler_gets_the_same_text(sm: SageMakerEmulator) -> None:
    pytest.importorskip("langchain_aws")
    from langchain_aws.llms import SagemakerEndpoint as LcEndpoint
    from langchain_aws.llms.sagemaker_endpoint import LLMContentHandler as LcHandler
    from langchain_core.load import dumpd

    class Tgi(LcHandler):
        content_type = "application/json"
        accepts = "application/json"

        def transform_input(self, prompt: str, model_kwargs: dict[str, Any]) -> bytes:
            return json.dumps({"inputs": prompt, "parameters": model_kwargs}).encode()

        def transform_output(self, output: Any) -> str:
            return json.loads(output.read())[0]["generated_text"]

    lc = LcEndpoint(
        endpoint_name="my-endpoint",
        region_name="us-east-1",
        endpoint_url=sm.endpoint_url,
        content_handler=Tgi(),
        model_kwargs={"max_new_tokens": 4},
        **KEYS,
    )
    ours = endpoint(sm, model_kwargs={"max_new_tokens": 4})
    assert ours.invoke(PROMPT) == lc.invoke(PROMPT) == "Tell me about the"
    theirs, mine = sm.requests[-1], sm.requests[-2]
    assert json.loads(theirs.body) == json.loads(mine.body)
    assert (theirs.headers["content-type"], theirs.headers["accept"]) == (
        mine.headers["content-type"],
        mine.headers["accept"],
    )
    data = dumpd(lc)
    assert data["type"] == "not_implemented"  # a Python handler: LangChain cannot write it
    assert runwire.load(data, allowed_objects="all", ignore_unserializable_fields=True) is None
