"""ASGI middlewares that guard every request before a route runs, and every answer."""
