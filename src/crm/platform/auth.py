"""Authentication (JWT, optional external OIDC) and the access rule every route must declare.

Tokens are HS256 JWTs signed with the platform key (settings or the data folder), so each
service verifies them locally and can mint a short-lived SYSTEM token for its calls to another
service. With ``CRM_OIDC_JWKS_URL`` set, tokens from the bank's identity provider are accepted too.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crm.platform.errors import Forbidden, Unauthorized
from crm.platform.openapi import problem_responses, with_problems
from crm.platform.problems import declare
from crm.platform.settings import PlatformSettings

TOKEN_MALFORMED = declare("auth.token_malformed", "The token is malformed.")
TOKEN_ALGORITHM = declare("auth.token_algorithm", "The token's signing algorithm is not accepted.")
TOKEN_EXPIRED = declare("auth.token_expired", "The token has expired; sign in again.")
TOKEN_INVALID = declare("auth.token_invalid", "The token is not valid.")
TOKEN_REQUIRED = declare("auth.token_required", "A bearer token is required.")
ROLE_REQUIRED = declare("auth.role_required", "This action needs one of the roles: {roles}.")


class Role(StrEnum):
    AGENT = "AGENT"
    SUPERVISOR = "SUPERVISOR"
    ADMIN = "ADMIN"
    SYSTEM = "SYSTEM"
    PAYMENT_PROCESSOR = "PAYMENT_PROCESSOR"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, roles and, for agents, their agent id."""

    subject: str
    roles: frozenset[Role]
    agent_id: str | None = None

    def has_any(self, roles: Iterable[Role]) -> bool:
        return bool(self.roles.intersection(roles))


ANONYMOUS = Principal(subject="anonymous", roles=frozenset())
_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)


def current_principal() -> Principal | None:
    """The caller of the request or message being handled (used by the audit trail)."""
    return _current.get()


def set_current_principal(principal: Principal | None) -> contextvars.Token[Principal | None]:
    return _current.set(principal)


class TokenService:
    """Issues and verifies the platform's JWTs; verifies external OIDC tokens through JWKS."""

    ALGORITHM = "HS256"

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        self._key = settings.jwt_signing_key()
        self._jwks: jwt.PyJWKClient | None = (
            jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True, lifespan=3600)
            if settings.oidc_jwks_url
            else None
        )

    def issue(
        self, subject: str, roles: Iterable[str], *, agent_id: str | None = None, ttl: int | None = None
    ) -> tuple[str, int]:
        ttl = ttl or self.settings.jwt_ttl_seconds
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": subject,
            "roles": sorted(str(r) for r in roles),
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
        }
        if agent_id:
            claims["agentId"] = agent_id
        return jwt.encode(claims, self._key, algorithm=self.ALGORITHM), ttl

    def system_token(self, service: str) -> str:
        """A short-lived token a service presents when it calls another service."""
        token, _ = self.issue(f"system:{service}", [Role.SYSTEM], ttl=self.settings.system_token_ttl_seconds)
        return token

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized.of(TOKEN_MALFORMED) from exc
        try:
            if header.get("alg") == self.ALGORITHM:
                claims = jwt.decode(
                    token,
                    self._key,
                    algorithms=[self.ALGORITHM],
                    audience=self.settings.jwt_audience,
                    issuer=self.settings.jwt_issuer,
                    options={"require": ["exp", "sub"]},
                )
                roles_claim = "roles"
            elif self._jwks is not None:
                signing_key = self._jwks.get_signing_key_from_jwt(token)
                claims = jwt.decode(
                    token,
                    signing_key.key,
                    algorithms=["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"],
                    audience=self.settings.oidc_audience or self.settings.jwt_audience,
                    issuer=self.settings.oidc_issuer,
                    options={"require": ["exp", "sub"], "verify_iss": bool(self.settings.oidc_issuer)},
                )
                roles_claim = self.settings.oidc_roles_claim
            else:
                raise Unauthorized.of(TOKEN_ALGORITHM)
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized.of(TOKEN_EXPIRED) from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized.of(TOKEN_INVALID) from exc
        roles = _claim_path(claims, roles_claim) or []
        if isinstance(roles, str):
            roles = roles.split()
        known = frozenset(Role(r) for r in roles if r in Role.__members__)
        agent_id = claims.get("agentId")
        return Principal(
            subject=str(claims["sub"]), roles=known, agent_id=str(agent_id) if agent_id else None
        )


def _claim_path(claims: dict[str, Any], path: str) -> Any:
    """Read a claim such as ``realm_access.roles`` (Keycloak puts roles there)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


_bearer = HTTPBearer(auto_error=False, description="A JWT from POST /api/auth/token")


@dataclass(frozen=True)
class Access:
    """Who may call a route. Every route declares one; the app refuses to start otherwise."""

    roles: frozenset[Role] = field(default_factory=frozenset)
    public: bool = False
    scheme: str | None = None
    header: str | None = None  # the header a signed route reads its signature from

    @classmethod
    def anyone(cls) -> Access:
        return cls(public=True)

    @classmethod
    def signed(cls, header: str, scheme: str) -> Access:
        """No bearer token: the route itself authenticates its caller by ``header``, as ``scheme``
        says (a signed webhook), and must refuse with 401 before it reads or stores anything."""
        return cls(public=True, scheme=f"{header} ({scheme})", header=header)

    @classmethod
    def of(cls, *roles: Role) -> Access:
        return cls(roles=frozenset(roles))

    @classmethod
    def session(cls, *roles: Role) -> Access:
        """No bearer token: a web page, whose router checks the signed-in session and its roles
        (``crm.web.session``) before the page runs."""
        return cls(roles=frozenset(roles), public=True, scheme="session")

    def describe(self) -> str:
        if self.scheme == "session":
            return f"session: {', '.join(sorted(self.roles)) or 'signed-in user'}"
        if self.scheme:
            return f"signed: {self.scheme}"
        return "public" if self.public else ", ".join(sorted(self.roles))

    def dependency(self) -> Callable[..., Any]:
        if self.public:
            return self._optional_caller
        access = self

        async def check_access(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        ) -> AsyncIterator[Principal]:
            if credentials is None:
                raise Unauthorized.of(TOKEN_REQUIRED)
            principal = request.app.state.tokens.verify(credentials.credentials)
            if not principal.has_any(access.roles):
                raise Forbidden.of(ROLE_REQUIRED, roles=access.describe())
            with _as_current(request, principal):
                yield principal

        return check_access

    @staticmethod
    async def _optional_caller(request: Request) -> AsyncIterator[Principal]:
        """A public route's caller: who a valid bearer token says, else anonymous. It reads the
        header itself, not through ``HTTPBearer``, so the document does not ask for a token."""
        principal = ANONYMOUS
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credentials:
            try:
                principal = request.app.state.tokens.verify(credentials.strip())
            except Unauthorized:
                principal = ANONYMOUS
        with _as_current(request, principal):
            yield principal


@contextmanager
def _as_current(request: Request, principal: Principal) -> Iterator[None]:
    """The caller of this request, for ``get_principal`` and for the audit trail."""
    request.state.principal = principal
    token = set_current_principal(principal)
    try:
        yield
    finally:
        _current.reset(token)


async def get_principal(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:  # pragma: no cover - guarded by the access check
        raise Unauthorized.of(TOKEN_REQUIRED)
    return principal


Caller = Annotated[Principal, Depends(get_principal)]
"""The authenticated caller of a route (after its access check)."""


class SecureRouter(APIRouter):
    """An APIRouter whose routes must say who may call them: ``@router.get(path, access=...)``."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        access = kwargs.pop("access", None)
        if not isinstance(access, Access):
            raise TypeError(f"Route {path} must declare access=Access.of(...) or Access.anyone().")
        kwargs["dependencies"] = [Depends(access.dependency()), *(kwargs.get("dependencies") or [])]
        openapi_extra = dict(kwargs.get("openapi_extra") or {})
        openapi_extra["x-access"] = access.describe()
        if access.header:
            openapi_extra["x-signed-by"] = access.header
        kwargs["openapi_extra"] = openapi_extra
        platform = problem_responses(
            authenticated=not access.public or access.header is not None,
            needs_role=not access.public,
            path=path,
            methods=kwargs.get("methods") or ["GET"],
        )
        kwargs["responses"] = with_problems(kwargs.get("responses") or {}, platform)
        description = kwargs.get("description") or (endpoint.__doc__ or "").strip()
        kwargs["description"] = f"{description}\n\nAccess: {access.describe()}."
        super().add_api_route(path, endpoint, **kwargs)

    def api_route(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:  # type: ignore[override]
        def decorator(func: Any) -> Any:
            self.add_api_route(path, func, **kwargs)
            return func

        return decorator

    def get(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:  # type: ignore[override]
        return self.api_route(path, methods=["GET"], **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:  # type: ignore[override]
        return self.api_route(path, methods=["POST"], **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:  # type: ignore[override]
        return self.api_route(path, methods=["PUT"], **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:  # type: ignore[override]
        return self.api_route(path, methods=["PATCH"], **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:  # type: ignore[override]
        return self.api_route(path, methods=["DELETE"], **kwargs)


def assert_every_route_declares_access(app: FastAPI) -> None:
    """Fail at start-up if any API route was added without an access rule."""
    missing = [
        route.path
        for route in app.routes
        if isinstance(route, APIRoute)
        and route.include_in_schema
        and "x-access" not in (route.openapi_extra or {})
    ]
    if missing:
        raise RuntimeError(f"Routes without a declared access rule: {missing}")
