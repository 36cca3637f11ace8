"""公示 (第十六条第2项): the office publishes the proposed list for the campaign's publicity period
in working days; anyone may lodge a real-name objection during it; each objection is a case with
an owner and a deadline, upheld (the nomination leaves the list, which is published again) or
dismissed, always with a reason; after the period with no open case the list goes to the leading
group, whose members (or the office on their behalf, with the approval document) approve it.

Only nominations whose nominee agreed to publication (Nomination.publish_consent_at, PIPL) are
published; the announcement chat is a plain argument (the caller passes the configured one)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Campaign, Nomination, Objection, Organisation, Person, PublicityList, Role
from services import audit, campaigns, outbox, people, tokens
from services.actors import Actor
from services.catalogue import load_catalogue
from services.errors import DomainError
from services.reviews import advance, holders, local_time, nominee_name
from services.rules import dossier
from services.rules import publicity_rules as rules
from services.rules.nomination_flow import Mover, Stage

ARTICLE = "第十六条第2项"


@dataclass(frozen=True)
class Entry:
    nomination: Nomination
    organisation_zh: str
    organisation_en: str

    def line(self, language: str) -> str:
        honour = load_catalogue().honours[self.nomination.honour].name
        if language == "en":
            return f"{nominee_name(self.nomination)} · {self.organisation_en} · {honour.en}"
        return f"{nominee_name(self.nomination)} · {self.organisation_zh} · {honour.zh}"


async def entries(session: AsyncSession, listing: PublicityList) -> list[Entry]:
    found = []
    for nomination_id in listing.nomination_ids:
        nomination = await session.get(Nomination, nomination_id)
        if nomination is None or nomination.stage not in (Stage.SHORTLISTED.value, Stage.APPROVED.value):
            continue
        organisation = (
            await session.get(Organisation, nomination.organisation_id)
            if nomination.organisation_id
            else None
        )
        found.append(
            Entry(
                nomination,
                organisation.name_zh if organisation else "—",
                organisation.name_en if organisation else "—",
            )
        )
    return found


async def _announce(
    session: AsyncSession, listing: PublicityList, now: datetime, announcement_chat_id: int | None
) -> int:
    """The list to everyone subscribed, and to the announcement channel if one is configured."""
    listed = await entries(session, listing)
    lines = {
        lang: "\n".join(f"{i}. {e.line(lang)}" for i, e in enumerate(listed, 1)) for lang in ("zh_CN", "en")
    }
    params = {"edition": listing.edition, "ends": local_time(listing.ends_at), "count": len(listed)}
    readers = (
        await session.exec(
            select(Person).where(
                Person.subscribed == True,  # noqa: E712
                col(Person.blocked_at).is_(None),
            )
        )
    ).all()
    for reader in readers:
        await outbox.enqueue(
            session,
            chat_id=reader.telegram_id,
            template="publicity.announcement",
            now=now,
            params={**params, "entries": lines["en" if reader.language == "en" else "zh_CN"]},
        )
    if announcement_chat_id:
        await outbox.enqueue(
            session,
            chat_id=announcement_chat_id,
            template="publicity.announcement",
            now=now,
            params={**params, "entries": lines["zh_CN"]},
        )
    return len(readers) + (1 if announcement_chat_id else 0)


async def publish(
    session: AsyncSession,
    actor: Actor,
    campaign_id: int,
    now: datetime,
    announcement_chat_id: int | None = None,
) -> PublicityList:
    people.require_role(actor, Role.OFFICE)
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise DomainError("campaign.not_found")
    if (await session.exec(select(PublicityList).where(PublicityList.campaign_id == campaign_id))).first():
        raise DomainError("publicity.already_published")
    shortlisted = (
        await session.exec(
            select(Nomination)
            .where(
                Nomination.campaign_id == campaign_id,
                Nomination.stage == Stage.SHORTLISTED.value,
                col(Nomination.publish_consent_at).is_not(None),
            )
            .order_by(Nomination.honour, col(Nomination.id))
        )
    ).all()
    if not shortlisted:
        raise DomainError("publicity.nothing_to_publish")
    ends_at = rules.period_end(now, campaign.publicity_workdays, await campaigns.workdays(session))
    listing = PublicityList(
        campaign_id=campaign_id,
        nomination_ids=[n.id for n in shortlisted],
        published_by=actor.person_id or 0,
        published_at=now,
        ends_at=ends_at,
    )
    session.add(listing)
    await session.flush()
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="publicity.published",
        subject=f"publicity:{listing.id}",
        now=now,
        reason=ARTICLE,
        nominations=listing.nomination_ids,
        ends_at=ends_at.isoformat(),
        workdays=campaign.publicity_workdays,
    )
    await _announce(session, listing, now, announcement_chat_id)
    await session.commit()
    return listing


async def latest(session: AsyncSession) -> PublicityList | None:
    return (await session.exec(select(PublicityList).order_by(col(PublicityList.id).desc()).limit(1))).first()


def objections_open(listing: PublicityList, now: datetime) -> bool:
    """Objections are taken while the publicity period runs."""
    return rules.in_period(listing.published_at, listing.ends_at, now)


async def awaiting_approval(session: AsyncSession, actor: Actor) -> tuple[PublicityList, int] | None:
    """The list the leading group (or the office on its behalf) is to approve, with its open objections."""
    if not (actor.has(Role.LEADING_GROUP) or actor.has(Role.OFFICE)):
        raise DomainError("role.required", role_key=f"role.{Role.LEADING_GROUP.value}")
    listing = await latest(session)
    if listing is None or listing.approved_at is not None:
        return None
    return listing, await open_cases(session, listing.id or 0)


async def _listing(session: AsyncSession, publicity_id: int) -> PublicityList:
    listing = (
        await session.exec(select(PublicityList).where(PublicityList.id == publicity_id).with_for_update())
    ).first()
    if listing is None:
        raise DomainError("publicity.not_found")
    return listing


async def open_cases(session: AsyncSession, publicity_id: int) -> int:
    return int(
        (
            await session.exec(
                select(func.count())
                .select_from(Objection)
                .where(
                    Objection.publicity_id == publicity_id, Objection.status == rules.CaseStatus.OPEN.value
                )
            )
        ).one()
    )


def normalise_phone(raw: str) -> str:
    """The objector's phone, normalised (full-width digits and spaces allowed), or a refusal."""
    return str(dossier.validate_field(dossier.FieldSpec("phone", dossier.Kind.PHONE), raw))


async def lodge_objection(
    session: AsyncSession,
    actor: Actor,
    nomination_id: int,
    *,
    grounds: str,
    contact_name: str,
    contact_phone: str,
    now: datetime,
    organisation: str = "",
    letter_sha256: str | None = None,
    evidence_sha256: str | None = None,
) -> Objection:
    people.require_registered(actor)
    nomination = await session.get(Nomination, nomination_id)
    listing = (
        await session.exec(
            select(PublicityList).where(
                PublicityList.campaign_id == (nomination.campaign_id if nomination else -1)
            )
        )
    ).first()
    if nomination is None or listing is None:
        raise DomainError("publicity.not_on_list")
    rules.check_objection(
        now=now,
        published_at=listing.published_at,
        ends_at=listing.ends_at,
        on_list=nomination_id in listing.nomination_ids and nomination.stage == Stage.SHORTLISTED,
        grounds=grounds,
        contact_name=contact_name,
        contact_phone=contact_phone,
        organisation=organisation,
        letter=letter_sha256,
    )
    phone = normalise_phone(contact_phone)
    office = await holders(session, Role.OFFICE)
    if not office:
        raise DomainError("publicity.no_office")
    load = {
        p.id: int(
            (
                await session.exec(
                    select(func.count())
                    .select_from(Objection)
                    .where(Objection.owner_id == p.id, Objection.status == rules.CaseStatus.OPEN.value)
                )
            ).one()
        )
        for p in office
    }
    owner = min(office, key=lambda p: (load[p.id], p.id or 0))  # the least busy office member owns the case
    objection = Objection(
        publicity_id=listing.id or 0,
        nomination_id=nomination_id,
        lodged_by=actor.person_id or 0,
        contact_name=dossier.clean_text(contact_name, 64),
        contact_phone=phone,
        organisation=dossier.clean_text(organisation, 128) if organisation.strip() else "",
        letter_sha256=letter_sha256,
        evidence_sha256=evidence_sha256,
        grounds=dossier.clean_text(grounds, 2000),
        lodged_at=now,
        owner_id=owner.id,
        deadline=rules.case_deadline(now, await campaigns.workdays(session)),
    )
    session.add(objection)
    await session.flush()
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="objection.lodged",
        subject=f"objection:{objection.id}",
        now=now,
        reason=ARTICLE,
        nomination_id=nomination_id,
        owner_id=owner.id,
        deadline=objection.deadline.isoformat(),
        organisation=objection.organisation,
    )
    buttons = []
    for action, label in (
        ("objection.uphold", "objection.uphold"),
        ("objection.dismiss", "objection.dismiss"),
    ):
        token = await tokens.issue(
            session, telegram_id=owner.telegram_id, action=action, now=now, objection_id=objection.id
        )
        buttons.append(outbox.button(label, token))
    await outbox.enqueue(
        session,
        chat_id=owner.telegram_id,
        template="objection.new_case",
        now=now,
        buttons=[buttons],
        params={
            "case": objection.id,
            "id": nomination_id,
            "name": nominee_name(nomination),
            "grounds": objection.grounds,
            "contact": objection.contact_name,
            "phone": objection.contact_phone,
            "organisation": objection.organisation or "—",
            "deadline": local_time(objection.deadline),
        },
    )
    await session.commit()
    return objection


async def open_case(session: AsyncSession, actor: Actor, objection_id: int) -> Objection:
    """The case the office is about to rule on, refused at once if it was ruled already."""
    people.require_role(actor, Role.OFFICE)
    objection = await session.get(Objection, objection_id)
    if objection is None:
        raise DomainError("publicity.case_not_found")
    if objection.status != rules.CaseStatus.OPEN:
        raise DomainError("publicity.already_ruled")
    return objection


async def rule(
    session: AsyncSession,
    actor: Actor,
    objection_id: int,
    upheld: bool,
    reason: str,
    now: datetime,
    announcement_chat_id: int | None = None,
) -> Objection:
    people.require_role(actor, Role.OFFICE)
    objection = (
        await session.exec(select(Objection).where(Objection.id == objection_id).with_for_update())
    ).first()
    if objection is None:
        raise DomainError("publicity.case_not_found")
    rules.check_ruling(objection.status, reason)
    reason = dossier.clean_text(reason, 2000)
    listing = await _listing(session, objection.publicity_id)
    status = rules.CaseStatus.UPHELD if upheld else rules.CaseStatus.DISMISSED
    objection.status, objection.ruling, objection.ruled_by, objection.ruled_at = (
        status.value,
        reason,
        actor.person_id,
        now,
    )
    session.add(objection)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action=f"objection.{status.value}",
        subject=f"objection:{objection.id}",
        now=now,
        reason=reason,
        article=ARTICLE,
        nomination_id=objection.nomination_id,
    )
    nomination = await session.get(Nomination, objection.nomination_id)
    assert nomination is not None
    if upheld and nomination.stage == Stage.SHORTLISTED.value:
        await advance(
            session,
            nomination,
            Stage.WITHDRAWN_ON_OBJECTION,
            Mover.OFFICE,
            actor.person_id,
            now,
            reason=reason,
            objection_id=objection.id,
        )
        listing.nomination_ids = [n for n in listing.nomination_ids if n != nomination.id]
        listing.edition += 1
        session.add(listing)
        await audit.append(
            session,
            actor_id=actor.person_id,
            action="publicity.republished",
            subject=f"publicity:{listing.id}",
            now=now,
            reason=ARTICLE,
            edition=listing.edition,
            nominations=listing.nomination_ids,
        )
        await _announce(session, listing, now, announcement_chat_id)
        await outbox.notify_person(
            session,
            nomination.applicant_id,
            "objection.withdrawn_notice",
            now,
            params={"id": nomination.id, "reason": reason},
        )
    await outbox.notify_person(
        session,
        objection.lodged_by,
        "objection.ruled_notice",
        now,
        params={"case": objection.id, "status_key": f"objection.status.{status.value}", "reason": reason},
    )
    await _forward_if_ready(session, listing, now)
    await session.commit()
    return objection


async def _forward_if_ready(session: AsyncSession, listing: PublicityList, now: datetime) -> bool:
    if not rules.may_forward(
        now=now,
        ends_at=listing.ends_at,
        open_cases=await open_cases(session, listing.id or 0),
        forwarded_at=listing.forwarded_at,
    ):
        return False
    listing.forwarded_at = now
    session.add(listing)
    await audit.append(
        session,
        actor_id=None,
        action="publicity.forwarded",
        subject=f"publicity:{listing.id}",
        now=now,
        reason=ARTICLE,
        nominations=listing.nomination_ids,
    )
    for member in await holders(session, Role.LEADING_GROUP):
        token = await tokens.issue(
            session,
            telegram_id=member.telegram_id,
            action="publicity.approve",
            now=now,
            publicity_id=listing.id,
        )
        await outbox.enqueue(
            session,
            chat_id=member.telegram_id,
            template="publicity.for_approval",
            now=now,
            params={"count": len(listing.nomination_ids), "edition": listing.edition},
            buttons=[[outbox.button("publicity.approve", token)]],
        )
    return True


REMIND_BEFORE = timedelta(days=1)  # the case's owner hears once, a day before its deadline


async def sweep(session: AsyncSession, now: datetime) -> int:
    """The periodic job: each open case's owner is reminded once before its deadline; lists whose
    period ended with no open objection go to the leading group."""
    await _remind_owners(session, now)
    forwarded = 0
    for listing in (
        await session.exec(
            select(PublicityList).where(
                col(PublicityList.forwarded_at).is_(None), col(PublicityList.ends_at) <= now
            )
        )
    ).all():
        forwarded += await _forward_if_ready(session, await _listing(session, listing.id or 0), now)
        await session.commit()
    return forwarded


async def _remind_owners(session: AsyncSession, now: datetime) -> None:
    due = (
        await session.exec(
            select(Objection, Person)
            .join(Person, col(Person.id) == Objection.owner_id)
            .where(
                Objection.status == "open",
                col(Objection.reminded_at).is_(None),
                col(Objection.deadline) <= now + REMIND_BEFORE,
            )
        )
    ).all()
    for objection, owner in due:
        # Claimed by the update itself, so two sweeps at once remind the owner once.
        claimed = await session.exec(  # type: ignore[call-overload]
            update(Objection)
            .where(col(Objection.id) == objection.id, col(Objection.reminded_at).is_(None))
            .values(reminded_at=now)
        )
        if claimed.rowcount == 1:
            await outbox.notify_person(
                session,
                owner.id or 0,
                "objection.deadline_reminder",
                now,
                params={"case": objection.id, "deadline": local_time(objection.deadline)},
            )
        await session.commit()


async def require_unapproved(session: AsyncSession, publicity_id: int) -> None:
    """Before the office is asked for the approval document: a list approved already needs none."""
    listing = await session.get(PublicityList, publicity_id)
    if listing is None:
        raise DomainError("publicity.not_found")
    if listing.approved_at is not None:
        raise DomainError("publicity.already_approved")


async def approve(
    session: AsyncSession,
    actor: Actor,
    publicity_id: int,
    now: datetime,
    approval_document: str | None = None,
) -> PublicityList:
    """The leading group approves the final list; the office may do it on its behalf, with the
    approval document attached. Each nomination on the list becomes APPROVED."""
    if actor.has(Role.LEADING_GROUP):
        on_behalf = False
    elif actor.has(Role.OFFICE):
        if not approval_document:
            raise DomainError("publicity.document_required")
        on_behalf = True
    else:
        raise DomainError("role.required", role_key=f"role.{Role.LEADING_GROUP.value}")
    listing = await _listing(session, publicity_id)
    rules.check_approval(
        now=now,
        ends_at=listing.ends_at,
        open_cases=await open_cases(session, publicity_id),
        approved_at=listing.approved_at,
    )
    for nomination_id in listing.nomination_ids:
        nomination = await session.get(Nomination, nomination_id)
        if nomination is not None and nomination.stage == Stage.SHORTLISTED.value:
            await advance(
                session,
                nomination,
                Stage.APPROVED,
                Mover.LEADING_GROUP,
                actor.person_id,
                now,
                on_behalf=on_behalf,
                publicity_id=publicity_id,
            )
            await outbox.notify_person(
                session,
                nomination.applicant_id,
                "publicity.approved_notice",
                now,
                params={"id": nomination_id, "honour_key": f"honour.{nomination.honour}"},
            )
    listing.approved_at, listing.approved_by, listing.approval_document = (
        now,
        actor.person_id,
        approval_document,
    )
    session.add(listing)
    await audit.append(
        session,
        actor_id=actor.person_id,
        action="publicity.approved",
        subject=f"publicity:{listing.id}",
        now=now,
        reason=ARTICLE,
        on_behalf=on_behalf,
        document=approval_document,
        nominations=listing.nomination_ids,
    )
    for member in await holders(session, Role.OFFICE):
        await outbox.enqueue(
            session,
            chat_id=member.telegram_id,
            template="publicity.approved_office",
            now=now,
            params={"count": len(listing.nomination_ids)},
        )
    await session.commit()
    return listing
