"""Wrong, hostile and sneaky input at the upload steps, through the production Dispatcher: each gets
its own translated answer and leaves what the nomination already holds as it was."""

from io import BytesIO

import pytest
from aiogram.types import Document, PhotoSize, Update
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from sqlmodel import col, select

from bot.outbox_render import outbox_renderer
from models import Nomination, NominationMaterial, OutboxMessage
from tests.conftest import BotWorld
from tests.handlers.test_nomination import PDF, prompt_buttons, recommender_of_gdaq, submitted_nomination
from tests.handlers.test_office import registered
from tests.handlers.test_selfcheck import open_campaign
from tests.support.client import UserClient, _update_ids
from tests.support.people import to_chat

GPS = {1: "N", 2: (23.0, 7.0, 30.0), 3: "E", 4: (113.0, 15.0, 51.0)}

ANSWERS_BY_LANGUAGE = {
    "zh-hans": {
        "honour": "广东省用户满意服务明星",
        "upload": "上传材料",
        "report": "用户满意度测评报告",
        "kept": "已保存：",
        "wrong_type": "只接受 PDF、JPEG、PNG 或 DOCX 文件",
        "too_large": "文件超过 20 MB",
        "empty": "文件是空的。",
        "fake_pdf": "文件名显示为 PDF，但文件内容并不是 PDF",
        "text": "请以文件形式发送材料",
        "script": "PDF 文件含有脚本",
        "encrypted": "PDF 文件已加密",
        "bomb": "图片像素过多（最多 40 百万像素）",
        "dtd": "含有 DTD 或实体定义",
        "corrupt": "这个 PNG 文件已损坏",
    },
    "en": {
        "honour": "Guangdong User-Satisfied Service Star",
        "upload": "Upload materials",
        "report": "User-satisfaction evaluation report",
        "kept": "Kept: ",
        "wrong_type": "Only PDF, JPEG, PNG or DOCX files are accepted",
        "too_large": "over 20 MB",
        "empty": "The file is empty.",
        "fake_pdf": "named as a PDF, but its content is not a PDF",
        "text": "Please send the material as a file",
        "script": "The PDF contains scripts",
        "encrypted": "The PDF is encrypted",
        "bomb": "too many pixels (at most 40 megapixels)",
        "dtd": "contains a DTD or entity declarations",
        "corrupt": "This PNG file is damaged",
    },
}


def made_pdf(**extra: object) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if extra.get("javascript"):
        writer.add_open_action(JavaScript("app.launchURL('http://attacker.example')"))
    if extra.get("password"):
        writer.encrypt("secret")
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def jpeg_with_gps(colour: tuple[int, int, int]) -> bytes:
    exif = Image.Exif()
    exif[0x8825] = GPS
    out = BytesIO()
    Image.new("RGB", (80, 60), colour).save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def docx_with_entities() -> bytes:
    import zipfile

    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "x">]><d>&x;</d>')
    return out.getvalue()


async def upload_declared(client: UserClient, name: str, content: bytes, declared_size: int) -> None:
    """A document whose size Telegram announces in the update (the content may differ)."""
    file_id = f"declared-{next(_update_ids)}"
    client.session.files[file_id] = content
    document = Document(file_id=file_id, file_unique_id=file_id, file_name=name, file_size=declared_size)
    await client.feed(Update(update_id=next(_update_ids), message=client.message(document=document)))


async def send_photo(client: UserClient, content: bytes) -> None:
    """A compressed photo: Telegram offers it in several sizes, the largest last."""
    small, large = f"thumb-{next(_update_ids)}", f"photo-{next(_update_ids)}"
    client.session.files[small] = b"not the picture"
    client.session.files[large] = content
    sizes = [
        PhotoSize(file_id=small, file_unique_id=small, width=90, height=67, file_size=15),
        PhotoSize(file_id=large, file_unique_id=large, width=800, height=600, file_size=len(content)),
    ]
    await client.feed(Update(update_id=next(_update_ids), message=client.message(photo=sizes)))


async def at_upload_step(world: BotWorld, user_id: int, language: str) -> UserClient:
    words = ANSWERS_BY_LANGUAGE[language]
    applicant = await registered(world, user_id, "张伟", language_code=language)
    await applicant.send("/nominate")
    await applicant.press(words["honour"])
    await applicant.press(words["upload"])
    await applicant.press(words["report"], contains=True)
    return applicant


async def saved_materials(world: BotWorld) -> list[tuple[str, str, str]]:
    async with world.sessions() as session:
        rows = (await session.exec(select(NominationMaterial).order_by(col(NominationMaterial.id)))).all()
        return [(m.file_name, m.kind, m.sha256) for m in rows if m.removed_at is None]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
async def test_bad_files_each_get_their_answer_and_change_nothing(world: BotWorld, language: str) -> None:
    words = ANSWERS_BY_LANGUAGE[language]
    await open_campaign(world)
    applicant = await at_upload_step(world, 4301, language)
    await applicant.upload("测评报告.pdf", PDF)
    assert applicant.last_text == f"{words['kept']}测评报告.pdf"
    before = await saved_materials(world)
    stored = sorted(p.name for p in (world.settings.data_dir / "files").rglob("*") if p.is_file())

    await applicant.upload("动图.gif", b"GIF89a" + bytes(64), mime_type="image/gif")
    assert words["wrong_type"] in applicant.last_text
    await upload_declared(applicant, "扫描件.pdf", PDF, declared_size=21 * 1024 * 1024)
    assert words["too_large"] in applicant.last_text
    assert "getFile" not in [m.__api_method__ for m in applicant.replies]  # refused before downloading
    await applicant.upload("空白.pdf", b"")
    assert applicant.last_text == words["empty"]
    await applicant.upload("report.pdf", b"%!PS-Adobe-3.0 a PostScript file renamed")
    assert words["fake_pdf"] in applicant.last_text
    await applicant.send("报告我稍后再发")
    assert words["text"] in applicant.last_text
    await applicant.upload("报告.pdf", made_pdf(javascript=True))
    assert words["script"] in applicant.last_text
    await applicant.upload("报告.pdf", made_pdf(password=True))
    assert words["encrypted"] in applicant.last_text
    await applicant.upload("小图.png", png((10_000, 10_000), "1"), mime_type="image/png")
    assert words["bomb"] in applicant.last_text
    await applicant.upload("材料.docx", docx_with_entities())
    assert words["dtd"] in applicant.last_text
    await applicant.upload("截断.png", png((300, 200))[:-30])
    assert words["corrupt"] in applicant.last_text

    assert await saved_materials(world) == before
    assert sorted(p.name for p in (world.settings.data_dir / "files").rglob("*") if p.is_file()) == stored
    await applicant.upload("补充.pdf", made_pdf())  # still at the upload step: good files are kept
    assert applicant.last_text == f"{words['kept']}补充.pdf"


async def test_an_album_of_photos_is_kept_each_checked_and_without_location(world: BotWorld) -> None:
    await open_campaign(world)
    applicant = await at_upload_step(world, 4302, "zh-hans")
    await send_photo(applicant, jpeg_with_gps((200, 30, 30)))
    assert applicant.last_text.startswith("已保存：photo-") and applicant.last_text.endswith(".jpg")
    await send_photo(applicant, jpeg_with_gps((30, 200, 30)))
    await send_photo(applicant, b"\xff\xd8\xff\xe0 not really a photo")
    assert "JPEG 文件已损坏" in applicant.last_text
    await applicant.upload("现场.jpg", jpeg_with_gps((30, 30, 200)), mime_type="image/jpeg")
    materials = await saved_materials(world)
    assert [kind for _, kind, _ in materials] == ["jpeg", "jpeg", "jpeg"]
    for _, _, sha in materials:
        kept = (world.settings.data_dir / "files" / sha[:2] / sha).read_bytes()
        with Image.open(BytesIO(kept)) as picture:
            assert picture.getexif().get_ifd(0x8825) == {} and picture.size == (80, 60)


async def test_invisible_characters_in_a_name_are_refused_and_nothing_is_saved(world: BotWorld) -> None:
    await open_campaign(world)
    applicant = await registered(world, 4303, "张伟")
    await applicant.send("/nominate")
    await applicant.press("广东省用户满意服务明星")
    await applicant.press("姓名/名称")
    await applicant.send("张\u202e伟")
    assert applicant.last_text.startswith("内容的第 2 个字符是不可见的控制字符（U+202E")
    await applicant.send("张\u200b伟")
    assert "不可见的控制字符" in applicant.last_text
    async with world.sessions() as session:
        assert "name" not in (await session.exec(select(Nomination))).one().fields
    await applicant.send("张伟")
    assert "✅ 姓名/名称：张伟" in applicant.last_text


async def test_a_name_with_markup_reaches_the_recommending_body_escaped(world: BotWorld) -> None:
    await open_campaign(world)
    member = await recommender_of_gdaq(world, 4310)
    await submitted_nomination(world, 4311, "<b>x</b>")
    await member.send("/pending")
    assert "第 1 号 广东省用户满意服务明星：&lt;b&gt;x&lt;/b&gt;" in member.last_text
    assert "<b>x</b>" not in member.last_text
    async with world.sessions() as session:
        prompt = (await session.exec(select(OutboxMessage).where(to_chat(4310)))).one()
    text, _ = outbox_renderer(world.i18n)(prompt, "zh_CN")
    assert "&lt;b&gt;x&lt;/b&gt;" in text and "<b>x</b>" not in text


async def test_the_stamped_opinion_must_be_a_clean_scan(world: BotWorld) -> None:
    await open_campaign(world)
    member = await recommender_of_gdaq(world, 4320)
    await submitted_nomination(world, 4321, "李娜")
    await member.press_data((await prompt_buttons(world, 4320, 1))["nomination.endorse"])
    await member.send("该同志服务成绩突出，同意推荐。")
    await member.upload("推荐意见.docx", docx_with_entities())
    assert member.last_text == "这里只接受 PDF、JPEG、PNG 文件。"
    await member.upload("推荐意见.pdf", made_pdf(javascript=True))
    assert "PDF 文件含有脚本" in member.last_text
    await upload_declared(member, "推荐意见.pdf", PDF, declared_size=25 * 1024 * 1024)
    assert "文件超过 20 MB" in member.last_text
    async with world.sessions() as session:
        assert (await session.exec(select(Nomination))).one().stage == "submitted"
    await send_photo(member, jpeg_with_gps((10, 10, 10)))  # a photo of the stamped paper
    assert "已推荐第 1 号申报" in member.last_text
    async with world.sessions() as session:
        assert (await session.exec(select(Nomination))).one().stage == "endorsed"
