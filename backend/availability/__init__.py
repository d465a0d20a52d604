"""Live availability: gateway space state combined with the registry, pushed over SSE."""
