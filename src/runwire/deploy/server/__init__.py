"""The HTTP server: LangServe's protocol over FastAPI and uvicorn.

Layers, outside in: :mod:`.runner` (uvicorn, workers, SIGTERM drain) ->
:mod:`.guard` (API keys, body size, concurrency, metrics) -> :mod:`.app` (routes,
OpenAPI) -> :mod:`.endpoints` (one pipeline's handlers) -> :mod:`.protocol` (bodies,
SSE frames).
"""
