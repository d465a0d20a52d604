"""API tokens with roles; only their sha256 hashes are stored."""
