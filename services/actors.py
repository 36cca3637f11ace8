"""The acting user as a plain value, loaded once per update."""

from dataclasses import dataclass, field

from models import Role


@dataclass(frozen=True)
class RoleGrant:
    role: Role
    organisation_id: int | None = None


@dataclass(frozen=True)
class Address:
    """Where someone is reached: a channel and their id on it. Only that channel's edge knows what
    the id means; services keep it to find the person again."""

    channel: str
    id: str


@dataclass(frozen=True)
class Actor:
    address: Address
    person_id: int | None = None  # None until the person has agreed to the privacy notice
    name: str = ""
    language: str = "zh_CN"
    grants: tuple[RoleGrant, ...] = field(default_factory=tuple)

    @property
    def registered(self) -> bool:
        return self.person_id is not None

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.grants)

    def has(self, role: Role) -> bool:
        return role in self.roles

    def organisations(self, role: Role = Role.RECOMMENDER) -> frozenset[int]:
        return frozenset(g.organisation_id for g in self.grants if g.role == role and g.organisation_id)
