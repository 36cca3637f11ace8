"""A nomination's whole path over HTTP, with the real `python -m bot` polling the Bot API emulator:
the office invites a recommending-body member; the applicant self-checks, nominates, uploads a real
PDF (downloaded through getFile and kept in the file store) and submits; the member endorses with
the opinion and a seal scan; the office returns it for supplement with two ticked items; the
applicant supplements and resubmits; the office passes it. Then the exported ZIP and Excel."""

import hashlib
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from PIL import Image
from reportlab.pdfgen import canvas

from tests.support.bot_process import BotProcess, containing, press, say, upload, watch, with_button
from tests.support.emulator import BotAPIEmulator

OFFICE, APPLICANT, MEMBER = 820001, 820002, 820003
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def bot(emulator: BotAPIEmulator, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(emulator.base_url, tmp_path, OFFICE)
    process.start()
    yield process
    process.kill()


def real_pdf(text: str) -> bytes:
    out = BytesIO()
    page = canvas.Canvas(out)
    page.setTitle(text)
    page.drawString(72, 720, text)
    page.showPage()
    page.drawString(72, 720, "page 2")
    page.save()
    return out.getvalue()


def seal_scan() -> bytes:
    out = BytesIO()
    Image.new("RGB", (120, 80), "white").save(out, format="PNG")
    return out.getvalue()


def open_campaign(bot: BotProcess) -> None:
    """A campaign in its nomination window now (the bot runs on the real clock), written to the
    database the way the office's /campaign form would leave it."""
    now = datetime.now(UTC).replace(microsecond=0)

    def at(days: int) -> str:
        return (now + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S.000000")

    bot.query(
        "INSERT INTO campaign (year, honours, nomination_opens, nomination_closes, precheck_deadline, "
        "review_opens, review_closes, publicity_workdays, announcement_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 5, ?, ?)",
        now.year,
        '["STAR", "TEAM", "MANAGER", "ENTERPRISE"]',
        at(-1),
        at(20),
        at(25),
        at(26),
        at(30),
        at(45),
        at(0),
    )


async def registered(emulator: BotAPIEmulator, user: int, timeout: float = 30) -> None:
    notice = await say(emulator, user, "/start", "个人信息保护说明", timeout=timeout)
    await press(emulator, user, notice, "同意", "请选择")


async def test_a_nomination_from_self_check_to_passing_the_preliminary_check(
    emulator: BotAPIEmulator, bot: BotProcess
) -> None:
    await registered(emulator, OFFICE, timeout=60)
    open_campaign(bot)

    # The office invites a member of 广东质协; the member accepts.
    roles = await say(emulator, OFFICE, "/invite", "请选择角色")
    organisations = await press(emulator, OFFICE, roles, "推荐单位人员", "代表哪个推荐单位")
    link = await press(emulator, OFFICE, organisations, "广东质协", "一次性链接")
    payload = link["text"].split("start=", 1)[1].split()[0]
    invited = await say(emulator, MEMBER, f"/start {payload}", "个人信息保护说明")
    offer = await press(emulator, MEMBER, invited, "同意", "接受邀请")
    await press(emulator, MEMBER, offer, "接受邀请", "推荐单位人员")

    # The applicant self-checks and nominates.
    await registered(emulator, APPLICANT)
    honours = await say(emulator, APPLICANT, "/selfcheck", "请选择要申报的称号")
    question = await press(emulator, APPLICANT, honours, "广东省用户满意服务明星", "第 1/7 题")
    for number in range(1, 8):
        question = await press(emulator, APPLICANT, question, "是", "第 " if number < 7 else "自评结果")
    card = await press(emulator, APPLICANT, question, "开始申报", "第 1 号申报")
    for label, value in {
        "姓名/名称": "张伟",
        "工作单位": "=广州地铁",
        "岗位": "站务员",
        "一线工作年限": "8",
        "所在城市": "广州",
        "行业": "交通运输",
        "联系电话": "13800138000",
    }.items():
        await press(emulator, APPLICANT, card, label, "请输入")
        card = await say(emulator, APPLICANT, value, f"✅ {label}")
    organisations = await press(emulator, APPLICANT, card, "选择推荐单位", "选择推荐单位")
    card = await press(emulator, APPLICANT, organisations, "广东质协", "✅ 推荐单位")
    checklist = await press(emulator, APPLICANT, card, "上传材料", "材料")
    prompt = await press(
        emulator, APPLICANT, checklist, "用户满意度测评报告（第十六条第1项，必须提供）", "请发送文件"
    )
    report = real_pdf("User satisfaction evaluation report 2026")
    await upload(emulator, APPLICANT, "测评报告.pdf", report, "application/pdf", "已保存")
    card = await press(emulator, APPLICANT, prompt, "完成", "已上传材料 1 份")
    card = await press(emulator, APPLICANT, card, "同意公开", "第 1 号申报")
    told_member = watch(emulator, MEMBER, containing("新的申报待您审核：第 1 号"))
    await press(emulator, APPLICANT, card, "提交", "已提交给推荐单位")
    # The PDF came through getFile and is kept in the file store under its sha256.
    assert emulator.calls("getFile")
    digest = hashlib.sha256(report).hexdigest()
    assert (bot.data / "files" / digest[:2] / digest).read_bytes() == report
    assert bot.query("SELECT sha256 FROM nominationmaterial") == [(digest,)]

    # The recommending body endorses with its opinion and the seal scan.
    new = await told_member
    await press(emulator, MEMBER, new, "推荐", "请输入对第 1 号申报的推荐意见")
    await say(emulator, MEMBER, "该同志服务成绩突出，同意推荐。", "加盖公章")
    await upload(emulator, MEMBER, "推荐意见.png", seal_scan(), "image/png", "已推荐第 1 号申报")

    # The office returns it for supplement: two items ticked in one pass, a note each, a deadline.
    queue = await say(emulator, OFFICE, "/precheck", "初审队列（1 份）")
    await press(emulator, OFFICE, queue, "第 1 号 张伟（已推荐，待初审）", "初审：第 1 号申报")
    actions = await emulator.wait_for(OFFICE, containing("请选择初审结论"), timeout=30)
    protected = [m for m in emulator.sent(OFFICE) if "document" in m]
    assert len(protected) == 2 and all(m.get("protect_content") for m in protected)
    ticks = await press(emulator, OFFICE, actions, "退回补充", "一次性告知")
    emulator.press_button(OFFICE, ticks, "⬜ 联系电话")
    await emulator.wait_for(OFFICE, with_button("☑️ 联系电话"), timeout=30)
    emulator.press_button(OFFICE, ticks, "⬜ 用户满意度测评报告（第十六条第1项，必须提供）")
    edited = await emulator.wait_for(
        OFFICE, with_button("☑️ 用户满意度测评报告（第十六条第1项，必须提供）"), timeout=30
    )
    assert with_button("☑️ 联系电话")(edited)  # both ticks held in one message
    await press(emulator, OFFICE, ticks, "下一步", "（1/2）")
    await say(emulator, OFFICE, "号码无法接通", "（2/2）")
    await say(emulator, OFFICE, "缺少测评机构盖章页", "补充截止日期")
    day = (datetime.now(SHANGHAI) + timedelta(days=7)).date().isoformat()
    confirm = await say(emulator, OFFICE, day, "请确认退回第 1 号申报，共 2 项")
    told_applicant = watch(emulator, APPLICANT, containing("需补充材料（一次性告知）"))
    await press(emulator, OFFICE, confirm, "确认退回", "已退回补充（2 项）")
    notice = await told_applicant
    assert (
        "1. 联系电话：号码无法接通\n2. 用户满意度测评报告（第十六条第1项，必须提供）：缺少测评机构盖章页"
        in notice["text"]
    )
    assert f"{day} 23:59" in notice["text"]

    # The applicant supplements the two items and resubmits.
    honours = await say(emulator, APPLICANT, "/nominate", "申报哪个称号")
    card = await press(emulator, APPLICANT, honours, "广东省用户满意服务明星", "退回补充")
    await press(emulator, APPLICANT, card, "联系电话", "请输入")
    card = await say(emulator, APPLICANT, "13900139000", "✅ 联系电话：+8613900139000")
    checklist = await press(emulator, APPLICANT, card, "上传材料", "材料")
    prompt = await press(
        emulator, APPLICANT, checklist, "用户满意度测评报告（第十六条第1项，必须提供）", "请发送文件"
    )
    stamped = real_pdf("Satisfaction report with the evaluator's stamp page")
    await upload(emulator, APPLICANT, "测评报告-盖章页.pdf", stamped, "application/pdf", "已保存")
    card = await press(emulator, APPLICANT, prompt, "完成", "已上传材料 2 份")
    await press(emulator, APPLICANT, card, "提交", "第 1 号申报已")
    assert bot.query("SELECT stage FROM nomination") == [("resubmitted",)]

    # The office sees what changed, and passes it.
    queue = await say(emulator, OFFICE, "/precheck", "初审队列（1 份）")
    summary = await press(emulator, OFFICE, queue, "第 1 号 张伟（已补充，待初审）", "初审：第 1 号申报")
    assert "联系电话：+8613800138000 → +8613900139000" in summary["text"]
    assert "新增材料：用户满意度测评报告（第十六条第1项，必须提供）：测评报告-盖章页.pdf" in summary["text"]
    actions = await emulator.wait_for(OFFICE, containing("请选择初审结论"), timeout=30)
    told_applicant = watch(emulator, APPLICANT, containing("初审通过"))
    await press(emulator, OFFICE, actions, "通过", "初审通过")
    await told_applicant
    assert bot.query("SELECT stage FROM nomination") == [("passed",)]
    assert [row[0] for row in bot.query("SELECT to_stage FROM nominationmove ORDER BY id")] == [
        "submitted",
        "endorsed",
        "returned_for_supplement",
        "resubmitted",
        "passed",
    ]

    # The dossier ZIP: both reports, the seal scan and the summary page.
    dossier = await press(emulator, OFFICE, actions, "导出档案（ZIP）", "第 1 号申报档案")
    assert dossier.get("protect_content")
    archive = zipfile.ZipFile(BytesIO(emulator.files[dossier["document"]["file_id"]]))
    assert sorted(archive.namelist()) == [
        "01_测评报告.pdf",
        "02_测评报告-盖章页.pdf",
        "seal.png",
        "summary.html",
        "summary.pdf",
    ]
    assert archive.read("01_测评报告.pdf") == report and archive.read("02_测评报告-盖章页.pdf") == stamped
    assert archive.read("seal.png") == seal_scan()
    summary_page = archive.read("summary.html").decode("utf-8")
    assert "张伟" in summary_page and "初审通过" in summary_page and "同意推荐" in summary_page

    # The campaign's list: one sheet per honour; "=广州地铁" stays text.
    emulator.user_sends_text(OFFICE, "/export")
    listing = await emulator.wait_for(
        OFFICE, lambda m: "document" in m and "xlsx" in (m["document"].get("file_name") or ""), timeout=30
    )
    workbook = load_workbook(BytesIO(emulator.files[listing["document"]["file_id"]]))
    assert len(workbook.sheetnames) == 4
    sheet = workbook["广东省用户满意服务明星"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert (row["序号"], row["姓名/名称"], row["推荐单位"], row["阶段"]) == (
        1,
        "张伟",
        "广东质协",
        "初审通过",
    )
    assert row["单位"] == "=广州地铁" and sheet["C2"].data_type == "s"
    assert row["联系电话"] == "+8613900139000"
