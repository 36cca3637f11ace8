"""The five member units that founded the programme (第一条) are the first recommending bodies.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MEMBER_UNITS = [
    ("GDAQ", "广东质协", "Guangdong Association for Quality"),
    ("GDFTU", "省总工会", "Guangdong Federation of Trade Unions"),
    ("GDCYL", "团省委", "Communist Youth League Guangdong Committee"),
    ("GDWF", "省妇联", "Guangdong Women's Federation"),
    ("GDAST", "省科协", "Guangdong Association for Science and Technology"),
]

organisation = sa.table(
    "organisation",
    sa.column("code", sa.String),
    sa.column("name_zh", sa.String),
    sa.column("name_en", sa.String),
    sa.column("kind", sa.String),
)


def upgrade() -> None:
    op.bulk_insert(
        organisation,
        [
            {"code": code, "name_zh": zh, "name_en": en, "kind": "member_unit"}
            for code, zh, en in MEMBER_UNITS
        ],
    )


def downgrade() -> None:
    op.execute(organisation.delete().where(organisation.c.code.in_([code for code, _, _ in MEMBER_UNITS])))
