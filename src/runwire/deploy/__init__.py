"""runwire.deploy: settings, secret sources, deployment files and the HTTP server.

Names load on first use (the server pulls in FastAPI and uvicorn only when asked).
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "RunwireSettings",
            "SecretSettings",
            "ServerSettings",
            "SettingsError",
            "load_settings",
            "settings_report",
        ),
        "runwire.deploy.settings",
    ),
    **dict.fromkeys(
        (
            "AwsSecretsManagerSource",
            "AwsSsmSource",
            "DotenvSource",
            "EnvSource",
            "ExplicitSource",
            "SecretResolver",
            "SecretSource",
            "SecretsDirSource",
            "secret_resolver",
        ),
        "runwire.deploy.secrets",
    ),
    **dict.fromkeys(
        (
            "Deployment",
            "DeploymentError",
            "deployment_for_files",
            "deployment_json_schema",
            "read_deployment",
        ),
        "runwire.deploy.deployment",
    ),
    "open_checkpointer": "runwire.deploy.checkpointers",
    "open_async_checkpointer": "runwire.deploy.checkpointers",
    "Pipeline": "runwire.deploy.pipelines",
    "build_pipelines": "runwire.deploy.pipelines",
    "create_app": "runwire.deploy.server.app",
    "ServeSpec": "runwire.deploy.server.runner",
    "build_service": "runwire.deploy.server.runner",
    "serve": "runwire.deploy.server.runner",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
