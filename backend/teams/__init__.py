"""Teams (from the identity provider's groups or made by an admin) and opt-in plan sharing."""
