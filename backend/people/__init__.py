"""People and access: users with roles, local and OpenID Connect login, audit log."""
