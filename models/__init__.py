"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from models.audit import AuditHead, AuditRecord
from models.broadcasts import Broadcast
from models.campaigns import Campaign, SelfCheck, SelfCheckStatus, WorkdayOverride
from models.cards import CardRater, CardRating, CardSecret, EvaluationCard
from models.honours import Honour, HonourReview
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
from models.people import (
    TELEGRAM,
    ChannelAccount,
    Invitation,
    Organisation,
    OrganisationKind,
    Person,
    Role,
    RoleAssignment,
)
from models.publicity import Objection, PublicityList  # review committee: 公示
from models.reminders import NominationReminder, ReturnSnapshot  # office side of nominations
from models.reviews import (
    Ballot,
    PanelSeat,
    Recusal,
    ReviewReminder,
    ReviewRound,
    RoundNomination,
)  # review rounds

__all__ = [
    "Broadcast",  # announcements
    "CardRater",
    "CardRating",
    "CardSecret",
    "EvaluationCard",  # customer evaluation cards (第十条)
    "Honour",
    "HonourReview",  # honours and their re-review (第十七条)
    "ActionToken",
    "AuditHead",
    "Deficiency",
    "Endorsement",
    "Nomination",
    "NominationMaterial",
    "NominationMove",
    "Quota",
    "Verification",
    "AuditRecord",
    "Campaign",
    "SelfCheck",
    "SelfCheckStatus",
    "WorkdayOverride",
    "FsmRecord",
    "HandledUpdate",
    "InboxStatus",
    "InboxUpdate",
    "ChannelAccount",
    "Invitation",
    "Organisation",
    "OrganisationKind",
    "OutboxMessage",
    "OutboxStatus",
    "Person",
    "Role",
    "RoleAssignment",
    "TELEGRAM",
    "Ballot",
    "Objection",
    "PanelSeat",
    "PublicityList",
    "Recusal",
    "ReviewReminder",
    "ReviewRound",
    "RoundNomination",
    "NominationReminder",
    "ReturnSnapshot",
]
