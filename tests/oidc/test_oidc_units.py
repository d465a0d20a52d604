"""Single sign-on parts that need no provider: settings, names, roles, the cookies."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend.auth.oidc_cookies import Sealer, pkce_pair
from backend.auth.oidc_users import role_for
from backend.config import Settings

GROUPS = {"werkplek-facilitair": "facility", "werkplek-beheer": "admin"}


def test_half_a_sign_on_configuration_refuses_to_start():
    with pytest.raises(ValidationError, match="together"):
        Settings(oidc_client_id="werkplek")
    with pytest.raises(ValidationError, match="together"):
        Settings(oidc_issuer="https://idp.example", oidc_client_id="werkplek")
    with pytest.raises(ValidationError, match="http"):
        Settings(
            oidc_issuer="idp.example",
            oidc_client_id="werkplek",
            oidc_redirect_url="https://werkplek.example/api/v1/auth/oidc/callback",
        )
    with pytest.raises(ValidationError):  # groups can grant no machine role
        Settings(oidc_role_groups={"screens": "panel"})


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        (None, "employee"),
        ([], "employee"),
        (["sales"], "employee"),
        (["werkplek-facilitair"], "facility"),
        ("werkplek-beheer", "admin"),
        (["werkplek-facilitair", "werkplek-beheer"], "admin"),
        ([{"odd": 1}, 7, ["werkplek-beheer"]], "employee"),
        ({"werkplek-beheer": True}, "employee"),
    ],
)
def test_the_role_is_the_highest_one_the_groups_map_to(groups, role):
    assert role_for({"groups": groups}, "groups", GROUPS) == role


def test_sealed_cookies_refuse_edits_other_keys_and_age():
    sealer = Sealer(b"k" * 32)
    sealed = sealer.seal({"state": "s1"}, 60)
    assert sealer.open(sealed)["state"] == "s1"
    body, signature = sealed.split(".")
    assert sealer.open(body[:-2] + "xx." + signature) is None
    assert Sealer(b"o" * 32).open(sealed) is None
    assert sealer.open(sealer.seal({"state": "s1"}, -1)) is None
    for junk in (None, "", "a.b.c", "no-dot", "!!.!!"):
        assert sealer.open(junk) is None


def test_pkce_pair_is_s256():
    verifier, challenge = pkce_pair()
    # RFC 7636 appendix B: S256 is base64url(sha256(verifier)) without padding.
    import base64
    import hashlib

    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge == expected.decode() and 43 <= len(verifier) <= 128
