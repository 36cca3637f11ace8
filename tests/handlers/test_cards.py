"""Customer evaluation cards in chat (第十条): the owner's card, the customer's anonymous rating,
the 30-day rule and refusals, held comments, flags against staged ratings, and the report."""

import hashlib
import re
import subprocess
from datetime import timedelta
from pathlib import Path

from aiogram.methods import EditMessageText, SendDocument, SendPhoto
from sqlmodel import func, select

from handlers.channel import address
from models import CardRater, CardRating, EvaluationCard, NominationMaterial, OutboxMessage
from services import people
from services.cards import rating as card_rating
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_office import registered
from tests.handlers.test_selfcheck import open_campaign
from tests.support.client import UserClient
from tests.support.people import chat_of

LINK = re.compile(r"https://t\.me/servicestar_bot\?start=(c-[A-Za-z0-9_-]+)")
LEVELS = ["很满意", "满意", "基本满意", "不太满意", "不满意"]


async def new_card(
    world: BotWorld,
    owner: UserClient,
    name: str = "李娜",
    unit: str = "广州地铁",
    label: str = "为个人新建评价卡",
) -> str:
    await owner.send("/cards")
    await owner.press(label)
    await owner.send(name)
    await owner.send(unit)
    match = LINK.search("\n".join(owner.texts()))
    assert match, owner.texts()
    return match.group(1)


async def rate(
    customer: UserClient,
    payload: str,
    overall: str = "很满意",
    aspects: tuple[str, ...] = ("满意",) * 4,
    recommend: str = "9",
    comment: str | None = None,
) -> None:
    await customer.send(f"/start {payload}")
    await customer.press(overall)
    for level in aspects:
        await customer.press(level)
    await customer.press(recommend)
    if comment is None:
        await customer.press("跳过")
    else:
        await customer.send(comment)


async def ratings(world: BotWorld) -> list[CardRating]:
    async with world.sessions() as session:
        return list((await session.exec(select(CardRating).order_by(CardRating.id))).all())


async def test_a_card_is_made_and_a_customer_rates_without_registering(world: BotWorld) -> None:
    await open_campaign(world)
    owner = await registered(world, 5001, "李娜")
    await owner.press("评价卡")  # in everyone's menu
    assert owner.last_text.startswith("您还没有评价卡") and "为班组新建评价卡" in owner.buttons()
    payload = await new_card(world, owner)
    assert len(payload) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", payload)
    photo = next(r for r in owner.replies if isinstance(r, SendPhoto))
    document = next(r for r in owner.replies if isinstance(r, SendDocument))
    assert "李娜（广州地铁）的评价二维码" in (photo.caption or "")
    assert owner.session.files  # the QR photo and the A6 PDF were uploaded
    assert "使用中" in owner.last_text and {"暂停", "关闭（不可恢复）"} <= set(owner.buttons())
    assert document.document.filename == "card-1.pdf"

    customer = world.user(7001, "顾客")
    await customer.send(f"/start {payload}")
    first = customer.last_text
    assert "为 李娜（广州地铁）的服务评价" in first and "无法还原的 Telegram 账号哈希值" in first
    assert "第 1/7 题" in first and customer.buttons() == LEVELS
    assert "个人信息说明" not in "\n".join(customer.texts())  # no privacy-notice registration
    await customer.press_data("ca:999:0:0")  # a forged answer for another card
    assert customer.last_text == "这个问题已经回答过或已过期。"
    await customer.press_data("ca:1:0:7")  # a level that does not exist
    assert customer.last_text == "这个问题已经回答过或已过期。"
    await customer.press("很满意")
    assert (
        isinstance(customer.replies[-1], EditMessageText) and "服务态度" in customer.last_text
    )  # same message, edited
    await customer.send("挺好的")  # text where a button is expected: asked again, nothing saved
    assert customer.texts()[0] == "请点击下方按钮作答。" and "服务态度" in customer.last_text
    for level in ("满意", "基本满意", "满意", "很满意"):
        await customer.press(level)
    assert "推荐" in customer.last_text and customer.buttons() == [str(v) for v in range(11)]
    await customer.send("十分")  # still a button question
    assert "请点击下方按钮作答" in customer.texts()[0]
    await customer.press("9")
    assert "评语" in customer.last_text and customer.buttons() == ["跳过"]
    await customer.send("服务  周到\u202e，谢谢")
    assert customer.last_text == "评价已提交，感谢您的宝贵意见！"
    [rating] = await ratings(world)
    assert (
        rating.overall,
        rating.attitude,
        rating.skill,
        rating.efficiency,
        rating.promise,
        rating.recommend,
    ) == (0, 1, 2, 1, 0, 9)
    assert rating.comment == "服务 周到,谢谢" and rating.comment_status == "shown"
    # Keyed: not the plain SHA-256 of the id, which anyone could recompute from the small id space.
    assert len(rating.rater_hash) == 64 and rating.rater_hash != hashlib.sha256(b"7001").hexdigest()
    async with world.sessions() as session:
        assert (await session.exec(people.at(address(7001)))).first() is None
        assert (await session.exec(select(func.count()).select_from(CardRater))).one() == 1
    await customer.press("跳过")  # the old keyboard again: nothing more is saved
    assert len(await ratings(world)) == 1

    # One rating per customer, card and 30 days; the date to come back is given.
    world.clock.advance(days=10)
    await customer.send(f"/start {payload}")
    assert "您可在 2026-04-01 起再次评价" in customer.last_text
    world.clock.advance(days=20, hours=1)
    await rate(customer, payload, overall="满意")
    assert len(await ratings(world)) == 2

    # The owner cannot rate their own card.
    await owner.send(f"/start {payload}")
    assert owner.last_text == "不能评价自己的评价卡。"


async def test_paused_closed_stale_and_forged_links_change_nothing(world: BotWorld) -> None:
    await open_campaign(world)
    owner = await registered(world, 5002, "王芳")
    payload = await new_card(world, owner, "王芳")
    customer = world.user(7002, "顾客")
    await owner.press("暂停")
    assert "已暂停" in owner.last_text and "恢复" in owner.buttons()
    await customer.send(f"/start {payload}")
    assert customer.last_text == "感谢您的关注！这张评价卡暂停使用，请稍后再试。"
    await owner.press("恢复")
    await customer.send(f"/start {payload}")
    assert "第 1/7 题" in customer.last_text
    await owner.press("关闭（不可恢复）")  # closed while the customer is half-way, after a confirmation
    assert "关闭后链接和二维码永久失效" in owner.last_text
    await owner.press("确认关闭")
    assert "已关闭" in owner.last_text
    for level in ["很满意"] * 5:
        await customer.press(level)
    await customer.press("10")
    await customer.press("跳过")
    assert "这张评价卡已停止使用" in customer.texts()[-1]
    await customer.send("很好")  # the refused survey is over: no longer asked for a comment
    assert "停止使用" not in customer.last_text and "评语" not in customer.last_text
    await customer.send(f"/start {payload}")
    assert "这张评价卡已停止使用" in customer.last_text
    await customer.send("/start c-AAAAAAAAAAAAAAAAAAAAAAAA")
    assert "这个评价链接无效" in customer.last_text
    await customer.send("/start c-<script>")
    assert "这个评价链接无效" in customer.last_text
    english = world.user(7003, "Customer", language_code="en")
    await english.send("/start c-AAAAAAAAAAAAAAAAAAAAAAAA")
    assert english.last_text.startswith("Sorry, this rating link is not valid")
    assert await ratings(world) == []

    # A card of a campaign that has ended: a polite message.
    fresh = await new_card(world, owner, "王芳二")
    world.clock.advance(days=365)
    await customer.send(f"/start {fresh}")
    assert "属于已结束的活动年度" in customer.last_text
    async with world.sessions() as session:
        statuses = [
            c.status for c in (await session.exec(select(EvaluationCard).order_by(EvaluationCard.id))).all()
        ]
    assert statuses == ["closed", "active"]


async def test_an_english_customer_rates_in_english(world: BotWorld) -> None:
    await open_campaign(world)
    owner = await registered(world, 5003, "Li Na")
    payload = await new_card(world, owner, "Li Na", "Metro")
    customer = world.user(7004, "Customer", language_code="en")
    await customer.send(f"/start {payload}")
    assert (
        "Rate the service of Li Na (Metro)" in customer.last_text
        and "irreversible hash" in customer.last_text
    )
    assert customer.buttons()[0] == "Very satisfied"
    await customer.press("Very satisfied")
    for _ in range(4):
        await customer.press("Satisfied")
    await customer.press("10")
    await customer.press("Skip")
    assert customer.last_text == "Your rating is saved. Thank you for your feedback!"


async def test_abusive_comments_are_held_for_the_office(world: BotWorld) -> None:
    await open_campaign(world)
    office = world.user(OFFICE_ID, "王主任")
    owner = await registered(world, 5004, "陈强")
    payload = await new_card(world, owner, "陈强")
    await rate(world.user(7005), payload, comment="你们都是王八蛋")
    assert "评语将由工作人员审核后再展示" in world.user(7005).texts(all_requests=True)[-1]
    await rate(world.user(7006), payload, comment="耐心细致")
    async with world.sessions() as session:
        notice = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.template == "cards.comment_held_notice")
            )
        ).one()
        assert await chat_of(session, notice) == OFFICE_ID
    await owner.send("/cards")
    await owner.press("#1 陈强")
    await owner.press("满意度报告")
    report = owner.last_text
    assert "“耐心细致”" in report and "王八蛋" not in report
    await owner.send("/heldcomments")
    assert owner.last_text == "此功能仅限办公室工作人员使用。"
    await office.send("/cardflags")
    assert office.last_text == "没有疑似刷评的评价卡。"
    await office.send("/heldcomments")
    assert "你们都是王八蛋" in office.last_text
    await office.press("放行")
    assert "已放行" in office.last_text
    await office.press("放行")  # a second press changes nothing
    [held, _] = await ratings(world)
    assert held.comment_status == "released"
    await owner.press("满意度报告")
    assert "你们都是王八蛋" in owner.last_text


async def test_two_hundred_customers_and_a_staged_burst(world: BotWorld, tmp_path: Path) -> None:
    """200 customers over four weeks: 188 genuine ones through the service layer (the Dispatcher path
    is the same code, tested above, and 200 full surveys would make this test slow), then twelve
    through the real Dispatcher within six minutes, three with the same words: flagged, shown, and
    still counted."""
    await open_campaign(world)
    owner = await registered(world, 5005, "赵敏")
    payload = await new_card(world, owner, "赵敏", "广州供电局")
    start = world.clock.now()
    async with world.sessions() as session:
        for i in range(188):  # genuine: one every three hours or so
            world.clock.current = now = start + timedelta(hours=3 * i + (i % 3))
            card = await card_rating.open_for_rating(
                session, address(20000 + i), payload.removeprefix("c-"), now
            )
            level = [0, 0, 1, 1, 2][i % 5]
            await card_rating.rate(
                session,
                address(20000 + i),
                card.id or 0,
                card_rating.Answers(level, (level, 1, 1, 1), 10 - i % 4),
                "",
                now,
            )
    world.clock.current = start + timedelta(days=30)
    for i in range(12):
        world.clock.advance(seconds=30)
        await rate(
            world.user(30000 + i),
            payload,
            overall="很满意",
            aspects=("很满意",) * 4,
            recommend="10",
            comment="服务非常好！" if i < 3 else None,
        )
    saved = await ratings(world)
    assert len(saved) == 200
    assert sum(r.new_rater for r in saved) == 200  # every customer was first seen the day they rated

    await owner.send("/cards")
    await owner.press("#1 赵敏")
    assert "评价数：200" in owner.last_text
    await owner.press("满意度报告")
    chart = next(r for r in owner.replies if isinstance(r, SendPhoto))
    assert "赵敏（广州供电局）" in (chart.caption or "")
    text = owner.last_text
    assert "评价数：200" in text and "样本少于" not in text
    assert "⚠ 疑似刷评提示：12 份评价被标记（短时集中 12，来自当天首次出现的账号 12，相同评语 3）" in text
    assert "仍计入以上数据，未删除" in text
    # 188 genuine: overall levels cycle 很满意,很满意,满意,满意,基本满意 (100,100,80,80,60), 37 full
    # cycles and 3 more (100,100,80): sum = 37·420 + 280 = 15820. With the burst (12·100):
    # (15820 + 1200)/200 = 85.1.
    assert "满意度指数：85.1（95% 置信区间" in text and "样本量 n = 200" in text
    assert "不含被标记评价的满意度指数为 84.1" in text  # 15820 / 188 = 84.15 → 84.1

    await owner.press("PDF 报告")
    pdf = next(r for r in owner.replies if isinstance(r, SendDocument))
    path = tmp_path / "report.pdf"
    path.write_bytes(owner.session.files[next(reversed(owner.session.files))])
    extracted = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert pdf.document.filename == "satisfaction-1.pdf" and "评价数：200" in "".join(extracted.split())

    office = world.user(OFFICE_ID, "王主任")
    await office.send("/heldcomments")
    assert (
        "#1 赵敏（广州供电局）：12 份被标记（短时集中 12，当天首次出现 12，相同评语 3）" in office.texts()[0]
    )
    await office.send("/cardflags")
    assert "12 份被标记" in office.last_text
    await owner.send("/cardflags")  # the office's view only
    assert owner.last_text == "此功能仅限办公室工作人员使用。"


async def rate_directly(
    world: BotWorld, payload: str, telegram_id: int, level: int, recommend: int = 9
) -> None:
    async with world.sessions() as session:
        card = await card_rating.open_for_rating(
            session, address(telegram_id), payload.removeprefix("c-"), world.clock.now()
        )
        await card_rating.rate(
            session,
            address(telegram_id),
            card.id or 0,
            card_rating.Answers(level, (level,) * 4, recommend),
            "",
            world.clock.now(),
        )


async def test_the_report_is_attached_to_a_nomination_as_supporting_evidence(
    world: BotWorld, tmp_path: Path
) -> None:
    await open_campaign(world)
    applicant = await registered(world, 5006, "孙丽")
    await applicant.send("/nominate")
    await applicant.press("广东省用户满意服务明星")
    payload = await new_card(world, applicant, "孙丽", "深圳银行")
    # By hand: 很满意, 满意, 不太满意 → (100 + 80 + 30) / 3 = 70.0; s = √(((30)² + 10² + (−40)²) / 2) = √1300
    # = 36.06; 1.96 · 36.06 / √3 = 40.8 → [29.2, 100.0] (clipped); CSAT 2/3 = 66.7 %; NPS: 9, 9, 9 → 100.
    for telegram_id, level in ((8001, 0), (8002, 1), (8003, 3)):
        await rate_directly(world, payload, telegram_id, level)
    await applicant.send("/cards")
    await applicant.press("#1 孙丽")
    await applicant.press("满意度报告")
    text = applicant.last_text
    assert "满意度指数：70.0（95% 置信区间 29.2–100.0，样本量 n = 3）" in text
    assert "⚠ 样本少于 30 份" in text and "CSAT（“很满意”和“满意”的占比）：66.7%" in text
    assert "NPS（推荐者 9–10 分占比 − 贬损者 0–6 分占比）：100.0" in text
    assert "第十六条第1项要求的正式《用户满意度测评报告》可由独立的第三方机构出具" in text
    assert "附到第 1 号申报" in applicant.buttons()
    await applicant.press("附到第 1 号申报")
    assert "已作为辅助材料（用户（顾客）评价卡汇总结果）附到第 1 号申报" in applicant.last_text
    async with world.sessions() as session:
        material = (await session.exec(select(NominationMaterial))).one()
    assert (material.slot, material.kind, material.nomination_id) == ("evaluation_cards", "pdf", 1)
    stored = world.settings.data_dir / "files" / material.sha256[:2] / material.sha256
    extracted = subprocess.run(
        ["pdftotext", str(stored), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "满意度指数：70.0" in "".join(extracted.split())
    await applicant.press("附到第 1 号申报")  # a second press attaches nothing more
    assert applicant.last_text == "此操作已完成，无需再按。"
    async with world.sessions() as session:
        assert len((await session.exec(select(NominationMaterial))).all()) == 1
    # Someone else cannot press it, nor see the card.
    intruder = await registered(world, 5007, "钱某")
    await intruder.send("/cardreport 1")
    assert intruder.last_text == "这不是您的评价卡。"


async def test_date_ranges_and_the_whole_unit(world: BotWorld) -> None:
    await open_campaign(world)
    owner = await registered(world, 5008, "周杰", language_code="en")
    first = await new_card(world, owner, "Zhou Jie", "Metro", "New card for a person")
    await owner.press("New card for a team")
    await owner.send("Line 1 team")
    await owner.send("Metro")
    second = LINK.findall("\n".join(owner.texts()))[-1]
    await rate_directly(world, first, 8101, 0)  # 2026-03-02
    world.clock.advance(days=7)
    await rate_directly(world, first, 8102, 4, recommend=0)  # 2026-03-09
    await rate_directly(world, second, 8103, 1)
    await owner.send("/cardreport 1 2026-03-01 2026-03-05")
    assert "Period: 2026-03-01 to 2026-03-05" in owner.last_text and "Ratings: 1" in owner.last_text
    assert "Satisfaction index: 100.0 (sample size n = 1; too few" in owner.last_text
    await owner.send("/cardreport 1 2026-03-09 2026-03-01")
    assert owner.last_text == "The start date cannot be after the end date."
    await owner.send("/cardreport one")
    assert owner.last_text.startswith("Usage: /cardreport")
    await owner.send("/cards")
    await owner.press("#1 Zhou Jie")
    await owner.press("Whole unit")
    text = owner.last_text
    # Three ratings over two cards: (100 + 0 + 80) / 3 = 60.0; NPS: 9, 0, 9 → 66.7 − 33.3 = 33.3.
    assert "Customer evaluation summary: Metro (2 cards)" in text and "Ratings: 3" in text
    assert (
        "Satisfaction index: 60.0" in text and "NPS (% promoters 9–10 minus % detractors 0–6): 33.3" in text
    )
    assert "2026-W10: 1 ratings, index 100.0" in text and "2026-W11: 2 ratings, index 40.0" in text
    assert not any(label.startswith("Attach") for label in owner.buttons())  # only a card's own report
