"""The strict double refuses what Telegram refuses: if it did not, the handler tests would pass on
behaviour that fails in production."""

import pytest

from bot.bot_api_rules import NOT_MODIFIED, QUERY_INVALID, BotAPIRules, Refused, shown_length


def refusal(rules: BotAPIRules, method: str, **params: object) -> str:
    with pytest.raises(Refused) as caught:
        rules.check(method, params)
    return caught.value.description


def keyboard(*rows: list[tuple[str, str]]) -> dict:
    return {
        "inline_keyboard": [[{"text": text, "callback_data": data} for text, data in row] for row in rows]
    }


def test_a_press_is_answered_once() -> None:
    rules = BotAPIRules()
    rules.check("answerCallbackQuery", {"callback_query_id": "7"})
    rules.accepted("answerCallbackQuery", {"callback_query_id": "7"}, True)
    assert refusal(rules, "answerCallbackQuery", callback_query_id="7") == QUERY_INVALID
    assert "too long" in refusal(rules, "answerCallbackQuery", callback_query_id="8", text="长" * 201)


def test_an_edit_that_changes_nothing_is_refused_and_one_that_changes_the_keyboard_is_not() -> None:
    rules = BotAPIRules()
    buttons = keyboard([("同意", "consent:1")])
    rules.accepted(
        "sendMessage",
        {"chat_id": 1, "text": "说明", "reply_markup": buttons},
        {"message_id": 5, "chat": {"id": 1}, "text": "说明"},
    )
    same = {"chat_id": 1, "message_id": 5, "text": "说明", "reply_markup": buttons}
    assert refusal(rules, "editMessageText", **same) == NOT_MODIFIED
    assert (
        refusal(rules, "editMessageReplyMarkup", chat_id=1, message_id=5, reply_markup=buttons)
        == NOT_MODIFIED
    )
    rules.check(
        "editMessageText", {"chat_id": 1, "message_id": 5, "text": "说明"}
    )  # the keyboard goes: a change


def test_html_must_parse_and_is_counted_as_shown() -> None:
    rules = BotAPIRules()
    for broken in ("<b>粗体", "a < b", "<div>x</div>", "<b><i>x</b></i>", "&nbsp;"):
        assert "can't parse entities" in refusal(
            rules, "sendMessage", chat_id=1, text=broken, parse_mode="HTML"
        )
    assert shown_length("<b>服务</b>明星 &lt;3", "HTML") == 7
    assert shown_length("<b>", None) == 3  # no parse mode: the tags are text
    rules.check("sendMessage", {"chat_id": 1, "text": "<b>" + "长" * 4096 + "</b>", "parse_mode": "HTML"})


def test_limits_of_text_caption_and_keyboards() -> None:
    rules = BotAPIRules()
    assert refusal(rules, "sendMessage", chat_id=1, text="长" * 4097) == "Bad Request: message is too long"
    assert refusal(rules, "sendMessage", chat_id=1, text="") == "Bad Request: message text is empty"
    assert "caption is too long" in refusal(
        rules, "sendPhoto", chat_id=1, photo="attach://p", caption="长" * 1025
    )
    assert (
        refusal(rules, "sendMessage", chat_id=1, text="x", reply_markup=keyboard([("x", "长" * 22)]))
        == "Bad Request: BUTTON_DATA_INVALID"
    )  # 66 bytes
    many = keyboard(*[[(str(i), str(i))] for i in range(101)])
    assert "too many" in refusal(rules, "sendMessage", chat_id=1, text="x", reply_markup=many)


def test_a_blocked_chat_and_an_unknown_file() -> None:
    rules = BotAPIRules(blocked={9})
    with pytest.raises(Refused) as caught:
        rules.check("sendMessage", {"chat_id": 9, "text": "x"})
    assert caught.value.status == 403
    assert "wrong file identifier" in refusal(rules, "sendDocument", chat_id=1, document="no-such-file")
    assert refusal(rules, "getFile", file_id="no-such-file") == "Bad Request: invalid file_id"
    rules.accepted(
        "sendDocument", {"chat_id": 1}, {"message_id": 3, "chat": {"id": 1}, "document": {"file_id": "f1"}}
    )
    rules.check("sendDocument", {"chat_id": 1, "document": "f1"})  # a file Telegram has: sent again by id


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_catalogue_entry_parses_as_telegram_html(locale: str) -> None:
    """Every text is sent with parse_mode=HTML: a bare "<number>" in a translation is refused."""
    from locales import read_catalogue

    broken = {}
    for key, text in read_catalogue(locale).items():
        try:
            shown_length(text, "HTML")
        except Refused as refusal:
            broken[key] = refusal.description
    assert broken == {}
