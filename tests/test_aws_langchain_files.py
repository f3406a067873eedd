"""Files langchain-aws 1.9 wrote: they load, dump back byte-identical and run as LangChain
ran them (Bedrock calls against runwire's emulator), without langchain-aws installed.

The literal fixtures below were written by langchain-aws (see
``tests/test_aws_langchain_peer.py``, which rewrites nothing but fails when langchain-aws
writes or answers differently). ``KEPT_DIFFERENCES`` lists, per file, what runwire does
differently on purpose.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.testing.bedrock import BedrockEmulator

ENDPOINT = "http://127.0.0.1:8"
"""The endpoint_url written in the files; tests swap in the emulator's."""

TEXTS: dict[str, str] = {
    "chat_anthropic": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain",
    "chat_models",
    "bedrock",
    "ChatBedrock"
  ],
  "kwargs": {
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
    "model_kwargs": {},
    "endpoint_url": "http://127.0.0.1:8",
    "provider_stop_sequence_key_name_map": {
      "anthropic": "stop_sequences",
      "amazon": "stopSequences",
      "ai21": "stop_sequences",
      "cohere": "stop_sequences",
      "mistral": "stop_sequences"
    },
    "provider_stop_reason_key_map": {
      "anthropic": "stop_reason",
      "amazon": "completionReason",
      "ai21": "finishReason",
      "cohere": "finish_reason",
      "mistral": "stop_reason"
    },
    "guardrails": {
      "trace": null,
      "guardrailIdentifier": null,
      "guardrailVersion": null
    }
  },
  "name": "ChatBedrock"
}""",
    "chat_anthropic_fields": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain",
    "chat_models",
    "bedrock",
    "ChatBedrock"
  ],
  "kwargs": {
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "timeout": 30,
    "max_retries": 2,
    "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
    "model_kwargs": {
      "top_p": 0.9,
      "top_k": 5
    },
    "endpoint_url": "http://127.0.0.1:8",
    "provider_stop_sequence_key_name_map": {
      "anthropic": "stop_sequences",
      "amazon": "stopSequences",
      "ai21": "stop_sequences",
      "cohere": "stop_sequences",
      "mistral": "stop_sequences"
    },
    "provider_stop_reason_key_map": {
      "anthropic": "stop_reason",
      "amazon": "completionReason",
      "ai21": "finishReason",
      "cohere": "finish_reason",
      "mistral": "stop_reason"
    },
    "guardrails": {
      "trace": null,
      "guardrailIdentifier": null,
      "guardrailVersion": null
    },
    "temperature": 0.2,
    "max_tokens": 300,
    "service_tier": "priority",
    "request_metadata": {
      "team": "search"
    },
    "system_prompt_with_tools": "You may use tools.",
    "stop_sequences": [
      "\n\nHuman:"
    ]
  },
  "name": "ChatBedrock"
}""",
    "chat_api_key": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain",
    "chat_models",
    "bedrock",
    "ChatBedrock"
  ],
  "kwargs": {
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "bedrock_api_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_BEARER_TOKEN_BEDROCK"
      ]
    },
    "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
    "model_kwargs": {},
    "endpoint_url": "http://127.0.0.1:8",
    "provider_stop_sequence_key_name_map": {
      "anthropic": "stop_sequences",
      "amazon": "stopSequences",
      "ai21": "stop_sequences",
      "cohere": "stop_sequences",
      "mistral": "stop_sequences"
    },
    "provider_stop_reason_key_map": {
      "anthropic": "stop_reason",
      "amazon": "completionReason",
      "ai21": "finishReason",
      "cohere": "finish_reason",
      "mistral": "stop_reason"
    },
    "guardrails": {
      "trace": null,
      "guardrailIdentifier": null,
      "guardrailVersion": null
    }
  },
  "name": "ChatBedrock"
}""",
    "chat_llama3": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain",
    "chat_models",
    "bedrock",
    "ChatBedrock"
  ],
  "kwargs": {
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "model_id": "meta.llama3-8b-instruct-v1:0",
    "model_kwargs": {},
    "endpoint_url": "http://127.0.0.1:8",
    "provider_stop_sequence_key_name_map": {
      "anthropic": "stop_sequences",
      "amazon": "stopSequences",
      "ai21": "stop_sequences",
      "cohere": "stop_sequences",
      "mistral": "stop_sequences"
    },
    "provider_stop_reason_key_map": {
      "anthropic": "stop_reason",
      "amazon": "completionReason",
      "ai21": "finishReason",
      "cohere": "finish_reason",
      "mistral": "stop_reason"
    },
    "guardrails": {
      "trace": null,
      "guardrailIdentifier": null,
      "guardrailVersion": null
    },
    "temperature": 0.5,
    "max_tokens": 64
  },
  "name": "ChatBedrock"
}""",
    "chat_mistral_kwargs": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain",
    "chat_models",
    "bedrock",
    "ChatBedrock"
  ],
  "kwargs": {
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "model_id": "mistral.mistral-7b-instruct-v0:2",
    "model_kwargs": {},
    "endpoint_url": "http://127.0.0.1:8",
    "provider_stop_sequence_key_name_map": {
      "anthropic": "stop_sequences",
      "amazon": "stopSequences",
      "ai21": "stop_sequences",
      "cohere": "stop_sequences",
      "mistral": "stop_sequences"
    },
    "provider_stop_reason_key_map": {
      "anthropic": "stop_reason",
      "amazon": "completionReason",
      "ai21": "finishReason",
      "cohere": "finish_reason",
      "mistral": "stop_reason"
    },
    "guardrails": {
      "trace": null,
      "guardrailIdentifier": null,
      "guardrailVersion": null
    },
    "temperature": 0.1,
    "max_tokens": 99
  },
  "name": "ChatBedrock"
}""",
    "chat_nova": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain",
    "chat_models",
    "bedrock",
    "ChatBedrock"
  ],
  "kwargs": {
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "model_id": "us.amazon.nova-lite-v1:0",
    "model_kwargs": {},
    "endpoint_url": "http://127.0.0.1:8",
    "provider_stop_sequence_key_name_map": {
      "anthropic": "stop_sequences",
      "amazon": "stopSequences",
      "ai21": "stop_sequences",
      "cohere": "stop_sequences",
      "mistral": "stop_sequences"
    },
    "provider_stop_reason_key_map": {
      "anthropic": "stop_reason",
      "amazon": "completionReason",
      "ai21": "finishReason",
      "cohere": "finish_reason",
      "mistral": "stop_reason"
    },
    "guardrails": {
      "trace": null,
      "guardrailIdentifier": null,
      "guardrailVersion": null
    },
    "temperature": 0.3,
    "max_tokens": 100,
    "beta_use_converse_api": true
  },
  "name": "ChatBedrock"
}""",
    "chat_openai": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain",
    "chat_models",
    "bedrock",
    "ChatBedrock"
  ],
  "kwargs": {
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "model_id": "openai.gpt-oss-120b-1:0",
    "model_kwargs": {},
    "endpoint_url": "http://127.0.0.1:8",
    "provider_stop_sequence_key_name_map": {
      "anthropic": "stop_sequences",
      "amazon": "stopSequences",
      "ai21": "stop_sequences",
      "cohere": "stop_sequences",
      "mistral": "stop_sequences"
    },
    "provider_stop_reason_key_map": {
      "anthropic": "stop_reason",
      "amazon": "completionReason",
      "ai21": "finishReason",
      "cohere": "finish_reason",
      "mistral": "stop_reason"
    },
    "guardrails": {
      "trace": null,
      "guardrailIdentifier": null,
      "guardrailVersion": null
    },
    "temperature": 0.2,
    "max_tokens": 50
  },
  "name": "ChatBedrock"
}""",
    "converse": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain_aws",
    "chat_models",
    "ChatBedrockConverse"
  ],
  "kwargs": {
    "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "provider": "anthropic",
    "endpoint_url": "http://127.0.0.1:8",
    "supports_tool_choice_values": [
      "auto",
      "any",
      "tool"
    ]
  },
  "name": "ChatBedrockConverse"
}""",
    "converse_fields": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain_aws",
    "chat_models",
    "ChatBedrockConverse"
  ],
  "kwargs": {
    "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
    "system": [
      "Be brief."
    ],
    "max_tokens": 256,
    "stop_sequences": [
      "END"
    ],
    "temperature": 0.1,
    "top_p": 0.8,
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "provider": "anthropic",
    "endpoint_url": "http://127.0.0.1:8",
    "timeout": 20,
    "max_retries": 1,
    "additional_model_request_fields": {
      "top_k": 10
    },
    "supports_tool_choice_values": [
      "auto",
      "any",
      "tool"
    ],
    "performance_config": {
      "latency": "optimized"
    },
    "service_tier": "flex",
    "request_metadata": {
      "team": "search"
    }
  },
  "name": "ChatBedrockConverse"
}""",
    "llm_cohere_stop_map": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain",
    "llms",
    "bedrock",
    "BedrockLLM"
  ],
  "kwargs": {
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "model_id": "cohere.command-text-v14",
    "endpoint_url": "http://127.0.0.1:8",
    "provider_stop_sequence_key_name_map": {
      "anthropic": "stop_sequences",
      "amazon": "stopSequences",
      "ai21": "stop_sequences",
      "cohere": "stop_sequences",
      "mistral": "stop"
    },
    "provider_stop_reason_key_map": {
      "anthropic": "stop_reason",
      "amazon": "completionReason",
      "ai21": "finishReason",
      "cohere": "finish_reason",
      "mistral": "stop_reason"
    },
    "guardrails": {
      "trace": null,
      "guardrailIdentifier": null,
      "guardrailVersion": null
    }
  },
  "name": "BedrockLLM"
}""",
    "llm_llama3": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain",
    "llms",
    "bedrock",
    "BedrockLLM"
  ],
  "kwargs": {
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "model_id": "meta.llama3-8b-instruct-v1:0",
    "endpoint_url": "http://127.0.0.1:8",
    "streaming": true,
    "provider_stop_sequence_key_name_map": {
      "anthropic": "stop_sequences",
      "amazon": "stopSequences",
      "ai21": "stop_sequences",
      "cohere": "stop_sequences",
      "mistral": "stop_sequences"
    },
    "provider_stop_reason_key_map": {
      "anthropic": "stop_reason",
      "amazon": "completionReason",
      "ai21": "finishReason",
      "cohere": "finish_reason",
      "mistral": "stop_reason"
    },
    "guardrails": {
      "guardrailIdentifier": "g1",
      "guardrailVersion": "1",
      "trace": null
    }
  },
  "name": "BedrockLLM"
}""",
    "llm_titan": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain",
    "llms",
    "bedrock",
    "BedrockLLM"
  ],
  "kwargs": {
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "model_id": "amazon.titan-text-express-v1",
    "endpoint_url": "http://127.0.0.1:8",
    "provider_stop_sequence_key_name_map": {
      "anthropic": "stop_sequences",
      "amazon": "stopSequences",
      "ai21": "stop_sequences",
      "cohere": "stop_sequences",
      "mistral": "stop_sequences"
    },
    "provider_stop_reason_key_map": {
      "anthropic": "stop_reason",
      "amazon": "completionReason",
      "ai21": "finishReason",
      "cohere": "finish_reason",
      "mistral": "stop_reason"
    },
    "guardrails": {
      "trace": null,
      "guardrailIdentifier": null,
      "guardrailVersion": null
    },
    "temperature": 0.3,
    "max_tokens": 40
  },
  "name": "BedrockLLM"
}""",
    "llm_writer": r"""{
  "lc": 1,
  "type": "constructor",
  "id": [
    "langchain",
    "llms",
    "bedrock",
    "BedrockLLM"
  ],
  "kwargs": {
    "region_name": "us-east-1",
    "aws_access_key_id": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_ACCESS_KEY_ID"
      ]
    },
    "aws_secret_access_key": {
      "lc": 1,
      "type": "secret",
      "id": [
        "AWS_SECRET_ACCESS_KEY"
      ]
    },
    "model_id": "writer.palmyra-x5-v1:0",
    "endpoint_url": "http://127.0.0.1:8",
    "provider_stop_sequence_key_name_map": {
      "anthropic": "stop_sequences",
      "amazon": "stopSequences",
      "ai21": "stop_sequences",
      "cohere": "stop_sequences",
      "mistral": "stop_sequences"
    },
    "provider_stop_reason_key_map": {
      "anthropic": "stop_reason",
      "amazon": "completionReason",
      "ai21": "finishReason",
      "cohere": "finish_reason",
      "mistral": "stop_reason"
    },
    "guardrails": {
      "trace": null,
      "guardrailIdentifier": null,
      "guardrailVersion": null
    },
    "temperature": 0.2,
    "max_tokens": 50
  },
  "name": "BedrockLLM"
}""",
}

INPUTS: dict[str, Any] = {
    "chat_anthropic": [["system", "Answer in kind."], ["human", "hello there friend"]],
    "chat_anthropic_fields": [["system", "Answer in kind."], ["human", "hello there friend"]],
    "chat_api_key": [["system", "Answer in kind."], ["human", "hello there friend"]],
    "chat_llama3": [["human", "hello there friend"]],
    "chat_mistral_kwargs": [["human", "hello there friend"]],
    "chat_nova": [["system", "Answer in kind."], ["human", "hello there friend"]],
    "chat_openai": [["system", "Answer in kind."], ["human", "hello there friend"]],
    "converse": [["system", "Answer in kind."], ["human", "hello there friend"]],
    "converse_fields": [["system", "Answer in kind."], ["human", "hello there friend"]],
    "llm_cohere_stop_map": "hello there friend",
    "llm_llama3": "hello there friend",
    "llm_titan": "hello there friend",
    "llm_writer": "hello there friend",
}

OUTPUTS: dict[str, Any] = {
    "chat_anthropic": {
        "additional_kwargs": {
            "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
            "stop_reason": "end_turn",
            "usage": {
                "cache_read_input_tokens": 0,
                "cache_write_input_tokens": 0,
                "completion_tokens": 3,
                "prompt_tokens": 6,
                "total_tokens": 9,
            },
        },
        "content": "hello there friend",
        "invalid_tool_calls": [],
        "name": None,
        "response_metadata": {
            "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
            "model_name": "anthropic.claude-3-haiku-20240307-v1:0",
            "model_provider": "bedrock",
            "stop_reason": "end_turn",
            "usage": {
                "cache_read_input_tokens": 0,
                "cache_write_input_tokens": 0,
                "completion_tokens": 3,
                "prompt_tokens": 6,
                "total_tokens": 9,
            },
        },
        "tool_calls": [],
        "type": "ai",
        "usage_metadata": {
            "input_token_details": {"cache_creation": 0, "cache_read": 0},
            "input_tokens": 6,
            "output_tokens": 3,
            "total_tokens": 9,
        },
    },
    "chat_anthropic_fields": {
        "additional_kwargs": {
            "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
            "stop_reason": "end_turn",
            "usage": {
                "cache_read_input_tokens": 0,
                "cache_write_input_tokens": 0,
                "completion_tokens": 3,
                "prompt_tokens": 10,
                "total_tokens": 13,
            },
        },
        "content": "hello there friend",
        "invalid_tool_calls": [],
        "name": None,
        "response_metadata": {
            "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
            "model_name": "anthropic.claude-3-haiku-20240307-v1:0",
            "model_provider": "bedrock",
            "stop_reason": "end_turn",
            "usage": {
                "cache_read_input_tokens": 0,
                "cache_write_input_tokens": 0,
                "completion_tokens": 3,
                "prompt_tokens": 10,
                "total_tokens": 13,
            },
        },
        "tool_calls": [],
        "type": "ai",
        "usage_metadata": {
            "input_token_details": {"cache_creation": 0, "cache_read": 0},
            "input_tokens": 10,
            "output_tokens": 3,
            "total_tokens": 13,
        },
    },
    "chat_llama3": {
        "additional_kwargs": {
            "model_id": "meta.llama3-8b-instruct-v1:0",
            "stop_reason": "stop",
            "thinking": {},
            "usage": {
                "cache_read_input_tokens": 0,
                "cache_write_input_tokens": 0,
                "completion_tokens": 3,
                "prompt_tokens": 5,
                "total_tokens": 8,
            },
        },
        "content": "hello there friend",
        "invalid_tool_calls": [],
        "name": None,
        "response_metadata": {
            "model_id": "meta.llama3-8b-instruct-v1:0",
            "model_name": "meta.llama3-8b-instruct-v1:0",
            "model_provider": "bedrock",
            "stop_reason": "stop",
            "thinking": {},
            "usage": {
                "cache_read_input_tokens": 0,
                "cache_write_input_tokens": 0,
                "completion_tokens": 3,
                "prompt_tokens": 5,
                "total_tokens": 8,
            },
        },
        "tool_calls": [],
        "type": "ai",
        "usage_metadata": {
            "input_token_details": {"cache_creation": 0, "cache_read": 0},
            "input_tokens": 5,
            "output_tokens": 3,
            "total_tokens": 8,
        },
    },
    "chat_mistral_kwargs": {
        "additional_kwargs": {
            "model_id": "mistral.mistral-7b-instruct-v0:2",
            "stop_reason": None,
            "thinking": {},
            "usage": {
                "cache_read_input_tokens": 0,
                "cache_write_input_tokens": 0,
                "completion_tokens": 3,
                "prompt_tokens": 5,
                "total_tokens": 8,
            },
        },
        "content": "hello there friend",
        "invalid_tool_calls": [],
        "name": None,
        "response_metadata": {
            "model_id": "mistral.mistral-7b-instruct-v0:2",
            "model_name": "mistral.mistral-7b-instruct-v0:2",
            "model_provider": "bedrock",
            "stop_reason": None,
            "thinking": {},
            "usage": {
                "cache_read_input_tokens": 0,
                "cache_write_input_tokens": 0,
                "completion_tokens": 3,
                "prompt_tokens": 5,
                "total_tokens": 8,
            },
        },
        "tool_calls": [],
        "type": "ai",
        "usage_metadata": {
            "input_token_details": {"cache_creation": 0, "cache_read": 0},
            "input_tokens": 5,
            "output_tokens": 3,
            "total_tokens": 8,
        },
    },
    "chat_nova": {
        "additional_kwargs": {},
        "content": "hello there friend",
        "invalid_tool_calls": [],
        "name": None,
        "response_metadata": {
            "metrics": {"latencyMs": [100]},
            "model_name": "us.amazon.nova-lite-v1:0",
            "model_provider": "bedrock_converse",
            "stopReason": "end_turn",
        },
        "tool_calls": [],
        "type": "ai",
        "usage_metadata": {
            "input_token_details": {"cache_creation": 0, "cache_read": 0},
            "input_tokens": 6,
            "output_tokens": 3,
            "total_tokens": 9,
        },
    },
    "chat_openai": {
        "additional_kwargs": {
            "model_id": "openai.gpt-oss-120b-1:0",
            "stop_reason": None,
            "thinking": {},
            "usage": {
                "cache_read_input_tokens": 0,
                "cache_write_input_tokens": 0,
                "completion_tokens": 3,
                "prompt_tokens": 6,
                "total_tokens": 9,
            },
        },
        "content": "hello there friend",
        "invalid_tool_calls": [],
        "name": None,
        "response_metadata": {
            "model_id": "openai.gpt-oss-120b-1:0",
            "model_name": "openai.gpt-oss-120b-1:0",
            "model_provider": "bedrock",
            "stop_reason": None,
            "thinking": {},
            "usage": {
                "cache_read_input_tokens": 0,
                "cache_write_input_tokens": 0,
                "completion_tokens": 3,
                "prompt_tokens": 6,
                "total_tokens": 9,
            },
        },
        "tool_calls": [],
        "type": "ai",
        "usage_metadata": {
            "input_token_details": {"cache_creation": 0, "cache_read": 0},
            "input_tokens": 6,
            "output_tokens": 3,
            "total_tokens": 9,
        },
    },
    "converse": {
        "additional_kwargs": {},
        "content": "hello there friend",
        "invalid_tool_calls": [],
        "name": None,
        "response_metadata": {
            "metrics": {"latencyMs": [100]},
            "model_name": "anthropic.claude-3-haiku-20240307-v1:0",
            "model_provider": "bedrock_converse",
            "stopReason": "end_turn",
        },
        "tool_calls": [],
        "type": "ai",
        "usage_metadata": {
            "input_token_details": {"cache_creation": 0, "cache_read": 0},
            "input_tokens": 6,
            "output_tokens": 3,
            "total_tokens": 9,
        },
    },
    "converse_fields": {
        "additional_kwargs": {},
        "content": "hello there friend",
        "invalid_tool_calls": [],
        "name": None,
        "response_metadata": {
            "metrics": {"latencyMs": [100]},
            "model_name": "anthropic.claude-3-haiku-20240307-v1:0",
            "model_provider": "bedrock_converse",
            "stopReason": "end_turn",
        },
        "tool_calls": [],
        "type": "ai",
        "usage_metadata": {
            "input_token_details": {"cache_creation": 0, "cache_read": 0},
            "input_tokens": 8,
            "output_tokens": 3,
            "total_tokens": 11,
        },
    },
    "llm_cohere_stop_map": "hello there friend",
    "llm_llama3": "hello there friend",
    "llm_titan": "hello there friend",
    "llm_writer": "hello there friend",
}

REQUESTS: dict[str, Any] = {
    "chat_anthropic": {
        "body": {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 1024,
            "messages": [{"content": "hello there friend", "role": "user"}],
            "system": "Answer in kind.",
        },
        "headers": {},
        "operation": "InvokeModel",
    },
    "chat_anthropic_fields": {
        "body": {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 300,
            "messages": [{"content": "hello there friend", "role": "user"}],
            "system": "You may use tools.\nAnswer in kind.",
            "temperature": 0.2,
            "top_k": 5,
            "top_p": 0.9,
        },
        "headers": {
            "x-amzn-bedrock-request-metadata": '{"team": "search"}',
            "x-amzn-bedrock-service-tier": "priority",
        },
        "operation": "InvokeModel",
    },
    "chat_llama3": {
        "body": {
            "max_gen_len": 64,
            "prompt": "<|begin_of_text|>\n"
            "<|start_header_id|>user<|end_header_id|>hello there "
            "friend<|eot_id|>\n"
            "<|start_header_id|>assistant<|end_header_id|>\n"
            "\n",
            "temperature": 0.5,
        },
        "headers": {},
        "operation": "InvokeModel",
    },
    "chat_mistral_kwargs": {
        "body": {
            "max_tokens": 99,
            "prompt": "[INST] hello there friend [/INST]",
            "temperature": 0.1,
        },
        "headers": {},
        "operation": "InvokeModel",
    },
    "chat_nova": {
        "body": {
            "inferenceConfig": {"maxTokens": 100, "temperature": 0.3},
            "messages": [{"content": [{"text": "hello there friend"}], "role": "user"}],
            "system": [{"text": "Answer in kind."}],
        },
        "headers": {},
        "operation": "Converse",
    },
    "chat_openai": {
        "body": {
            "max_completion_tokens": 50,
            "messages": [
                {"content": "Answer in kind.", "role": "system"},
                {"content": "hello there friend", "role": "user"},
            ],
            "temperature": 0.2,
        },
        "headers": {},
        "operation": "InvokeModel",
    },
    "converse": {
        "body": {
            "messages": [{"content": [{"text": "hello there friend"}], "role": "user"}],
            "system": [{"text": "Answer in kind."}],
        },
        "headers": {},
        "operation": "Converse",
    },
    "converse_fields": {
        "body": {
            "additionalModelRequestFields": {"top_k": 10},
            "inferenceConfig": {
                "maxTokens": 256,
                "stopSequences": ["END"],
                "temperature": 0.1,
                "topP": 0.8,
            },
            "messages": [{"content": [{"text": "hello there friend"}], "role": "user"}],
            "performanceConfig": {"latency": "optimized"},
            "requestMetadata": {"team": "search"},
            "serviceTier": {"type": "flex"},
            "system": [{"text": "Be brief."}, {"text": "Answer in kind."}],
        },
        "headers": {},
        "operation": "Converse",
    },
    "llm_cohere_stop_map": {
        "body": {"prompt": "hello there friend"},
        "headers": {},
        "operation": "InvokeModel",
    },
    "llm_llama3": {
        "body": {"prompt": "hello there friend"},
        "headers": {
            "x-amzn-bedrock-accept": "application/json",
            "x-amzn-bedrock-guardrailidentifier": "g1",
            "x-amzn-bedrock-guardrailversion": "1",
        },
        "operation": "InvokeModelWithResponseStream",
    },
    "llm_titan": {
        "body": {
            "inputText": "hello there friend",
            "textGenerationConfig": {"maxTokenCount": 40, "temperature": 0.3},
        },
        "headers": {},
        "operation": "InvokeModel",
    },
    "llm_writer": {
        "body": {"max_tokens": 50, "prompt": "hello there friend", "temperature": 0.2},
        "headers": {},
        "operation": "InvokeModel",
    },
}


# -- what runwire does differently, on purpose ---------------------------------------------
KEPT_DIFFERENCES: dict[str, dict[str, str]] = {
    "chat_anthropic_fields": {
        "request": "runwire sends the stop_sequences field (stop=) over InvokeModel; "
        "langchain-aws 1.9 drops it there (it only passes it to Converse)",
    },
    "chat_llama3": {
        "request": "runwire renders Meta's documented Llama 3 template (a blank line after "
        "each header); langchain-aws leaves it out",
        "usage": "the emulator counts the words of the rendered prompt",
    },
    "chat_openai": {
        "stop_reason": "langchain-aws reads a top-level stop_reason chat completions lack "
        "(None); runwire reads choices[0].finish_reason",
    },
    "chat_mistral_kwargs": {
        "request": "runwire starts Mistral prompts with <s> (Mistral's template)",
        "stop_reason": "langchain-aws reads a top-level stop_reason Mistral bodies lack "
        "(None); runwire reads outputs[0].stop_reason",
    },
}
"""Per file: what differs from LangChain's run, and why (everything else is compared)."""

SECRETS = {
    "AWS_ACCESS_KEY_ID": EMULATOR_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET,
    "AWS_BEARER_TOKEN_BEDROCK": "bedrock-api-key-example",
}
LEGACY_IDS = {
    ("langchain", "chat_models", "bedrock", "BedrockChat"): "ChatBedrock",
    ("langchain_aws", "chat_models", "ChatBedrock"): "ChatBedrock",
    ("langchain_aws", "chat_models", "bedrock", "ChatBedrock"): "ChatBedrock",
    ("langchain", "llms", "bedrock", "Bedrock"): "BedrockLLM",
    ("langchain_aws", "llms", "BedrockLLM"): "BedrockLLM",
    ("langchain_aws", "chat_models", "bedrock_converse", "ChatBedrockConverse"): (
        "ChatBedrockConverse"
    ),
}


def load(text: str, endpoint: str = ENDPOINT) -> Any:
    """A LangChain file as a LangChain user loads it: untrusted, keys from secrets_map."""
    return runwire.loads(
        text.replace(ENDPOINT, endpoint),
        allowed_objects="all",
        secrets_map=SECRETS,
        allowed_endpoints=[endpoint],
    )


def normalized(output: Any) -> Any:
    """An invoke result without what changes per run (message id, HTTP details)."""
    if isinstance(output, str):
        return output
    data = output.model_dump()
    data.pop("id", None)
    data["response_metadata"].pop("ResponseMetadata", None)
    return data


def request_of(emulator: Any) -> dict[str, Any]:
    """The last request as REQUESTS records it (empty top-level values left out)."""
    request = emulator.requests[-1]
    return {
        "operation": request.operation,
        "body": {k: v for k, v in request.body.items() if v not in ({}, [], None)},
        "headers": {
            k: v for k, v in sorted(request.headers.items()) if k.startswith("x-amzn-bedrock-")
        },
    }


def _without(data: dict[str, Any], kept: dict[str, str]) -> dict[str, Any]:
    """``data`` without the parts a kept difference names."""
    data = copy.deepcopy(data)
    for where in ("additional_kwargs", "response_metadata"):
        for key in ("usage", "stop_reason"):
            if key in kept:
                data[where].pop(key, None)
    if "usage" in kept:
        data.pop("usage_metadata", None)
    return data


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    with BedrockEmulator(credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}) as emu:
        yield emu


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_file_loads_and_dumps_back_byte_identical(name: str) -> None:
    model = load(TEXTS[name])
    assert type(model).__name__ == json.loads(TEXTS[name])["id"][-1]
    assert runwire.dumps(model, dialect="langchain", pretty=True) == TEXTS[name]


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_file_round_trips_in_runwire_dialect(name: str) -> None:
    model = load(TEXTS[name])
    again = runwire.loads(
        runwire.dumps(model),
        allowed_objects="all",
        secrets_map=SECRETS,
        allowed_endpoints=[ENDPOINT],
    )
    assert runwire.dumps(again, dialect="langchain", pretty=True) == TEXTS[name]


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_file_runs_as_langchain_ran_it(name: str, emulator: Any) -> None:
    emulator.reset()
    model = load(TEXTS[name], emulator.endpoint_url)
    source = INPUTS[name]
    output = model.invoke([tuple(m) for m in source] if isinstance(source, list) else source)
    kept = KEPT_DIFFERENCES.get(name, {})
    if isinstance(output, str):
        assert output == OUTPUTS[name]
    else:
        assert _without(normalized(output), kept) == _without(OUTPUTS[name], kept)
        assert output.id is not None and output.id.startswith("lc_run-")
    if "request" not in kept:
        assert request_of(emulator) == REQUESTS[name]
    else:  # the same call, parameters and headers; only the kept difference in the body
        sent, recorded = request_of(emulator), REQUESTS[name]
        assert sent["operation"] == recorded["operation"]
        assert sent["headers"] == recorded["headers"]
        for key in ("temperature", "max_tokens", "max_gen_len", "top_p", "top_k"):
            assert sent["body"].get(key) == recorded["body"].get(key)


def test_kept_differences_are_real(emulator: Any) -> None:
    """Each kept difference still shows (else it should leave the table)."""
    emulator.reset()
    load(TEXTS["chat_anthropic_fields"], emulator.endpoint_url).invoke("hi")
    assert request_of(emulator)["body"]["stop_sequences"] == ["\n\nHuman:"]
    assert "stop_sequences" not in REQUESTS["chat_anthropic_fields"]["body"]
    for name in ("chat_llama3", "chat_mistral_kwargs"):
        emulator.reset()
        load(TEXTS[name], emulator.endpoint_url).invoke([tuple(m) for m in INPUTS[name]])
        assert request_of(emulator)["body"]["prompt"] != REQUESTS[name]["body"]["prompt"]
    for name in ("chat_mistral_kwargs", "chat_openai"):
        assert OUTPUTS[name]["response_metadata"]["stop_reason"] is None


@pytest.mark.parametrize(("ident", "cls"), sorted(LEGACY_IDS.items()))
def test_legacy_ids_load_and_dump_as_langchain_aws_writes(ident: tuple[str, ...], cls: str) -> None:
    name = {"ChatBedrock": "chat_anthropic", "BedrockLLM": "llm_titan"}.get(cls, "converse")
    node = json.loads(TEXTS[name])
    written = node["id"]
    node["id"] = list(ident)
    model = load(json.dumps(node, indent=2))
    assert type(model).__name__ == cls
    node["id"] = written
    assert runwire.dumps(model, dialect="langchain", pretty=True) == json.dumps(node, indent=2)


def test_api_key_file_loads_as_a_secret() -> None:
    model = load(TEXTS["chat_api_key"])
    assert model.bedrock_api_key.get_secret_value() == "bedrock-api-key-example"
    assert "bedrock-api-key-example" not in repr(model)
    assert "bedrock-api-key-example" not in runwire.dumps(model, dialect="langchain")
