"""Endpoints of the person's rights (export, erasure) and the privacy report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from backend.auth.models import ApiToken
from backend.dependencies import AdminDep, BookerDep, RuntimeDep, SessionDep
from backend.errors import InvalidInput, NotFound
from backend.people import audit
from backend.people.models import User
from backend.privacy import erasure, export, report
from backend.spaces.models import utcnow

router = APIRouter(prefix="/api/v1", tags=["privacy"])
#: A user id as the database can hold it (larger ones would be a database error, not a 404).
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class EraseRequest(BaseModel):
    """Body of an erasure: the account's username, typed again, so it is never an accident."""

    model_config = ConfigDict(extra="forbid")

    confirm: str = Field(min_length=1, max_length=100, description="the account's username")


def _me(session: SessionDep, token: ApiToken) -> User:
    user = erasure.find(session, token.user_id) if token.user_id is not None else None
    if user is None:
        raise NotFound("this token belongs to no person", reason="no_user")
    return user


def _user(session: SessionDep, user_id: int) -> User:
    user = erasure.find(session, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist", reason="user_not_found")
    return user


def _confirmed(user: User, body: EraseRequest) -> None:
    if body.confirm != user.username:
        raise InvalidInput(
            "confirm must be the account's username; nothing was erased", reason="not_confirmed"
        )


def _erase(runtime: RuntimeDep, session: SessionDep, user: User, actor: str) -> dict[str, Any]:
    result = erasure.erase(session, user, utcnow(), actor)
    runtime.tokens.clear()  # the erased tokens must not live on in the cache
    return result.as_dict()


@router.get("/me/export")
def export_me(session: SessionDep, token: BookerDep) -> dict[str, Any]:
    """Everything stored about the caller (AVG art. 15 and 20), as JSON."""
    return export.collect(session, _me(session, token))


@router.post("/me/erase")
def erase_me(
    body: EraseRequest, runtime: RuntimeDep, session: SessionDep, token: BookerDep
) -> dict[str, Any]:
    """Erase the caller's account and every trace of it (AVG art. 17); says what stays."""
    user = _me(session, token)
    _confirmed(user, body)
    return _erase(runtime, session, user, erasure.ERASED)


@router.get("/users/{user_id}/export")
def export_user(user_id: UserId, session: SessionDep, token: AdminDep) -> dict[str, Any]:
    """A person's export for someone who asks at the desk (admin); audited by id only."""
    user = _user(session, user_id)
    audit.record(session, audit.actor_of(token), "user.export", "user", user.id,
                 actor_user_id=token.user_id)  # fmt: skip
    session.commit()
    return export.collect(session, user)


@router.post("/users/{user_id}/erase")
def erase_user(
    user_id: UserId, body: EraseRequest, runtime: RuntimeDep, session: SessionDep, token: AdminDep
) -> dict[str, Any]:
    """Erase a person on their request (admin); the audit record names no one."""
    user = _user(session, user_id)
    _confirmed(user, body)
    own = token.user_id == user.id  # an admin erasing themself leaves no id behind
    return _erase(runtime, session, user, erasure.ERASED if own else audit.actor_of(token))


@router.get("/privacy/report")
def privacy_report(runtime: RuntimeDep, session: SessionDep, _token: AdminDep) -> dict[str, Any]:
    """What is collected, the retention in force, suppression and opt-outs (admin)."""
    return report.build(session, runtime.settings, runtime.settings, utcnow())
