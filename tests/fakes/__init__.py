"""Stand-ins for outside services that tests and benchmarks talk to over real sockets."""

from .llm_server import FakeLLMServer, RecordedRequest

__all__ = ["FakeLLMServer", "RecordedRequest"]
