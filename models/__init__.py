"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from models.audit import AuditHead, AuditRecord
from models.campaigns import Campaign, SelfCheck, SelfCheckStatus, WorkdayOverride
from models.messaging import (
    ActionToken,
    FsmRecord,
    HandledUpdate,
    InboxStatus,
    InboxUpdate,
    OutboxMessage,
    OutboxStatus,
)
from models.nominations import (
    Deficiency,
    Endorsement,
    Nomination,
    NominationMaterial,
    NominationMove,
    Quota,
    Verification,
)
from models.people import Invitation, Organisation, OrganisationKind, Person, Role, RoleAssignment

__all__ = [
    "ActionToken", "AuditHead", "Deficiency", "Endorsement", "Nomination", "NominationMaterial", "NominationMove",
    "Quota", "Verification", "AuditRecord", "Campaign", "SelfCheck", "SelfCheckStatus", "WorkdayOverride", "FsmRecord", "HandledUpdate", "InboxStatus",
    "InboxUpdate", "Invitation", "Organisation", "OrganisationKind", "OutboxMessage", "OutboxStatus",
    "Person", "Role", "RoleAssignment",
]
