"""Every conversation can be left: a command typed in one leaves it and runs, /cancel and the 取消
button end it, and neither is ever taken as an answer."""

from collections.abc import Awaitable, Callable

import pytest
from aiogram.fsm.state import StatesGroup
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from sqlmodel import select

from handlers import states
from handlers.conversation import NAMES
from locales import LOCALES, read_catalogue
from models import Nomination, Role
from services.catalogue import load_catalogue
from tests.conftest import OFFICE_ID, BotWorld
from tests.handlers.test_office import invite_link, registered, roles_of
from tests.handlers.test_selfcheck import open_campaign
from tests.support.client import UserClient

STAR = load_catalogue().honours["STAR"]


async def fsm_state(world: BotWorld, client: UserClient) -> str | None:
    return await world.dispatcher.fsm.get_context(world.bot, client.chat.id, client.user.id).get_state()


async def nomination_fields(world: BotWorld) -> dict:  # type: ignore[type-arg]
    async with world.sessions() as session:
        return dict((await session.exec(select(Nomination))).one().fields)


async def self_check_started(world: BotWorld, language_code: str = "zh-hans") -> UserClient:
    """Two questions answered, the third one asked."""
    await open_campaign(world)
    client = await registered(world, 6001, "张伟", language_code)
    await client.send("/selfcheck")
    await client.press(STAR.name.en if language_code == "en" else STAR.name.zh)
    for _ in range(2):
        await client.press("Yes" if language_code == "en" else "是")
    return client


async def field_prompt(world: BotWorld, language_code: str = "zh-hans") -> UserClient:
    """An applicant asked to type their post (岗位) into the dossier."""
    await open_campaign(world)
    applicant = await registered(world, 6002, "李娜", language_code)
    await applicant.send("/nominate")
    await applicant.press(STAR.name.en if language_code == "en" else STAR.name.zh)
    await applicant.press("position" if language_code == "en" else "岗位")
    return applicant


async def revoke_prompt(world: BotWorld) -> UserClient:
    """The office asked for its reason to revoke a reviewer."""
    office = await registered(world, OFFICE_ID, "王主任")
    payload = await invite_link(office, "评审委员")
    reviewer = await registered(world, 6003, "李教授")
    await reviewer.send(f"/start {payload}")
    await reviewer.press("接受邀请")
    await office.send("/roles")
    await office.press("撤销 李教授 的评审委员")
    assert office.texts()[-1] == "请输入撤销原因："
    return office


@pytest.mark.parametrize(
    ("language_code", "left", "words"),
    [
        ("zh-hans", "已退出「自评」。", "请用按钮回答这道题"),
        ("en", "Left the self-check.", "answer this question with the buttons"),
    ],
)
async def test_a_command_in_the_middle_of_a_self_check_leaves_it_and_runs(
    world: BotWorld, language_code: str, left: str, words: str
) -> None:
    client = await self_check_started(world, language_code)
    await client.send("/mystatus")
    assert client.texts()[0] == left
    assert len(client.texts()) == 2 and words not in client.last_text  # /mystatus answered, nothing swallowed
    assert await fsm_state(world, client) is None
    await client.send("好的")  # no question is open any more: not re-asked with its buttons
    assert all(words not in text for text in client.texts())


async def test_office_command_in_a_conversation_is_not_swallowed(world: BotWorld) -> None:
    office = await revoke_prompt(world)
    await office.send("/precheck")  # its router comes after the office's: it used to become the reason
    assert office.texts() == ["已退出「撤销角色」。", "初审队列为空：暂无待初审的申报。"]
    await office.send("任期届满")
    assert office.last_text == "抱歉，我没有理解。发送 /menu 查看可以做什么。"
    assert await roles_of(world, 6003) == {(Role.REVIEWER, None)}


async def test_a_command_is_never_stored_as_a_dossier_field(world: BotWorld) -> None:
    applicant = await field_prompt(world)
    before = await nomination_fields(world)
    await applicant.send("/mystatus")
    assert applicant.texts()[0] == "已退出「填写申报」。"
    assert "第 1 号 广东省用户满意服务明星：草稿" in applicant.last_text
    assert await nomination_fields(world) == before
    assert "position" not in before


async def test_a_deep_link_leaves_the_conversation_too(world: BotWorld) -> None:
    applicant = await field_prompt(world)
    await applicant.send("/start inv_nonexistent")
    assert applicant.texts()[0] == "已退出「填写申报」。" and len(applicant.texts()) == 2
    assert await fsm_state(world, applicant) is None


async def test_leaving_keeps_what_belongs_to_no_conversation(world: BotWorld) -> None:
    """Someone not yet registered: their chosen language and the invitation waiting for consent."""
    payload = await invite_link(await registered(world, OFFICE_ID, "王主任"), "评审委员")
    guest = world.user(6007, "Tom")
    await guest.send(f"/start {payload}")
    await guest.send("/lang")
    await guest.press("English")
    await guest.send("/verify")
    await guest.send("/privacy")
    assert guest.texts()[0] == "Left the honour certificate."
    await guest.press("I agree")
    assert guest.buttons() == ["Accept"]


@pytest.mark.parametrize(
    ("language_code", "cancel", "cancelled", "not_understood"),
    [
        ("zh-hans", "/cancel", "已取消「填写申报」。", "抱歉，我没有理解。发送 /menu 查看可以做什么。"),
        ("zh-hans", "取消", "已取消「填写申报」。", "抱歉，我没有理解。发送 /menu 查看可以做什么。"),
        (
            "en",
            "/cancel",
            "Cancelled the nomination form.",
            "Sorry, I did not understand. Send /menu to see what you can do.",
        ),
    ],
)
async def test_cancel_ends_any_conversation_and_the_next_text_is_not_an_answer(
    world: BotWorld, language_code: str, cancel: str, cancelled: str, not_understood: str
) -> None:
    applicant = await field_prompt(world, language_code)
    assert applicant.buttons() == ["Cancel" if language_code == "en" else "取消"]
    before = await nomination_fields(world)
    await applicant.send(cancel)
    assert applicant.texts() == [cancelled]
    await applicant.send("站务员")
    assert applicant.texts() == [not_understood]
    assert await nomination_fields(world) == before


async def test_cancel_leaves_a_self_check_too(world: BotWorld) -> None:
    client = await self_check_started(world)
    await client.send("/cancel")
    assert client.texts() == ["已取消「自评」。"]
    assert await fsm_state(world, client) is None


@pytest.mark.parametrize(
    ("language_code", "answer"),
    [
        ("zh-hans", "现在没有需要取消的操作。"),
        ("en", "There is nothing to cancel."),
    ],
)
async def test_cancel_with_nothing_open_says_so(world: BotWorld, language_code: str, answer: str) -> None:
    client = await registered(world, 6004, "赵六", language_code)
    await client.send("/cancel")
    assert client.texts() == [answer]


async def test_the_cancel_button_pressed_twice_is_harmless(world: BotWorld) -> None:
    applicant = await field_prompt(world)
    first = await applicant.press("取消")
    assert [type(m) for m in first] == [AnswerCallbackQuery, EditMessageText]
    assert first[0].text is None and first[1].text == "已取消「填写申报」。"
    assert await fsm_state(world, applicant) is None
    second = await applicant.press("取消")  # the same prompt's button again
    assert [type(m) for m in second] == [AnswerCallbackQuery]
    assert second[0].show_alert and second[0].text == "现在没有需要取消的操作。"
    await applicant.send("站务员")
    assert applicant.last_text == "抱歉，我没有理解。发送 /menu 查看可以做什么。"


async def test_a_left_self_check_is_offered_again(world: BotWorld) -> None:
    client = await self_check_started(world)
    await client.send("/selfcheck")  # the command itself leaves the question, then offers it again
    assert client.texts()[0] == "已退出「自评」。"
    assert (
        client.last_text
        == f"您有一份未完成的自评（{STAR.name.zh}，第 3/{len(STAR.criteria)} 题）。继续还是重新开始？"
    )
    await client.press("继续")
    assert client.last_text.startswith(f"第 3/{len(STAR.criteria)} 题")
    assert await fsm_state(world, client) == states.SelfCheckFlow.answering.state


async def _campaign_date(world: BotWorld) -> UserClient:
    await open_campaign(world)  # registers the office
    office = world.user(OFFICE_ID, "王主任")
    await office.send("/campaign")
    await office.press("申报开始")
    return office


async def _verify_number(world: BotWorld) -> UserClient:
    someone = world.user(6005, "钱七")
    await someone.send("/verify")
    return someone


async def _new_card(world: BotWorld) -> UserClient:
    owner = await registered(world, 6006, "孙八")
    await owner.send("/cards")
    await owner.press("为个人新建评价卡")
    return owner


PROMPTS: dict[str, Callable[[BotWorld], Awaitable[UserClient]]] = {
    "dossier field": field_prompt,
    "revocation reason": revoke_prompt,
    "campaign date": _campaign_date,
    "certificate number": _verify_number,
    "new evaluation card": _new_card,
}


@pytest.mark.parametrize("conversation", PROMPTS)
async def test_every_prompt_waiting_for_words_has_the_cancel_button(
    world: BotWorld, conversation: str
) -> None:
    client = await PROMPTS[conversation](world)
    assert await fsm_state(world, client) is not None
    assert isinstance(client.replies[-1], SendMessage) and client.buttons()[-1] == "取消"
    await client.press("取消")
    assert client.last_text.startswith("已取消「") and await fsm_state(world, client) is None


def test_every_conversation_has_a_name_in_both_languages() -> None:
    groups = {
        g
        for g in vars(states).values()
        if isinstance(g, type) and issubclass(g, StatesGroup) and g is not StatesGroup
    }
    assert groups == set(NAMES)
    for locale in LOCALES:
        catalogue = read_catalogue(locale)
        assert all(catalogue.get(key) for key in NAMES.values()), locale
