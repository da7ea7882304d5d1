"""The one routing table: every command, the names it answers to in the three languages, and its menu place.

Every adapter shares it. An adapter only says how a command is written on its platform
(`core.chat.CommandStyle`): `/todo` on Telegram and the console, `todo` in a Slack DM or `/crm todo`
anywhere in Slack. The bot answers `/todo`, `todo` (where bare words are commands), `待辦` and `/crm 待辦`
alike, and help texts show the form that works where they are read.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.chat import CommandStyle


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # canonical, Latin (Telegram accepts only these in its menu)
    aliases: tuple[str, ...] = ()
    public: bool = False  # may run for someone who is not a member yet
    in_menu: bool = False  # shown in Telegram's command menu (description: catalogue `menu.<name>`)
    private: bool = True  # the answer is the member's own (lists, cards, settings): asked in a group, it goes
    # to their private chat with a pointer in the group (bot.router)


TABLE: tuple[Command, ...] = (
    Command("start", public=True, in_menu=True),
    Command("help", ("h", "?", "幫助", "帮助", "說明", "说明"), public=True, in_menu=True, private=False),
    Command("log", ("l", "記錄", "记录"), in_menu=True),
    Command("c", ("customer", "客戶", "客户"), in_menu=True),
    Command("find", ("search", "f", "搜尋", "搜索", "查詢", "查询"), in_menu=True),
    Command("todo", ("t", "待辦", "待办"), in_menu=True),
    Command("done", ("d", "完成"), in_menu=True),
    Command("new", ("新客戶", "新客户"), in_menu=True),
    Command("customers", ("list", "客戶列表", "客户列表"), in_menu=True),
    Command("status", ("狀態", "状态"), in_menu=True),
    Command("settings", ("prefs", "設定", "设置"), in_menu=True),
    Command("digest", ("摘要", "早報", "早报"), in_menu=True),
    Command("hours", ("workhours", "工作時間", "工作时间"), in_menu=True),
    Command("daysoff", ("休息日", "休假日")),
    Command("tz", ("timezone", "時區", "时区"), in_menu=True),
    Command("country", ("holidays", "國家", "国家", "假日")),
    Command("important", ("imp", "重要"), in_menu=True),
    Command("silentdays", ("沉默天數", "沉默天数")),
    Command("invite", ("邀請", "邀请"), in_menu=True),
    Command("team", ("members", "團隊", "团队", "成員", "成员"), in_menu=True),
    Command("handover", ("交接", "移交", "transfer", "轉移", "转移"), in_menu=True),
    Command("cover", ("代理", "代班", "代理人"), in_menu=True),
    Command("lang", ("language", "語言", "语言"), in_menu=True),
    Command("files", ("attachments", "附件", "檔案", "文件"), in_menu=True),
    Command("deal", ("deals", "商機", "商机"), in_menu=True),
    Command("pipeline", ("funnel", "漏斗", "銷售漏斗", "销售漏斗"), in_menu=True),
    Command("stages", ("階段", "阶段")),
    Command("report", ("reports", "報表", "报表", "報告", "报告"), in_menu=True),
    Command("pool", ("公海", "客戶池", "客户池", "customerpool"), in_menu=True),
    Command("history", ("hist", "歷史", "历史", "歷史紀錄", "历史记录", "歷程", "历程"), in_menu=True),
    Command("export", ("匯出", "导出", "個資", "个人资料", "個人資料"), in_menu=True),
    Command("erase", ("刪除個資", "删除个人信息", "删除个资", "forget"), in_menu=True),
)

BY_WORD: dict[str, Command] = {word.casefold(): command for command in TABLE
                               for word in (command.name, *command.aliases)}
MENU: tuple[str, ...] = tuple(command.name for command in TABLE if command.in_menu)
PRIVATE: frozenset[str] = frozenset(command.name for command in TABLE if command.private)


def resolve(word: str) -> Command | None:
    """The command a word names (`待辦`, `TODO`, `todo@my_bot` → todo), or None."""
    return BY_WORD.get(word.split("@", 1)[0].casefold())


def bare_command(text: str) -> tuple[Command, str] | None:
    """A message that starts with a command word (`digest 07:45` → digest, "07:45"), for platforms where
    bare words are commands; None for anything else."""
    head, _, rest = text.strip().partition(" ")
    command = resolve(head.removeprefix("/")) if head else None
    return (command, rest.strip()) if command else None


class CommandForms(dict[str, str]):
    """`{cmd[todo]}` in a catalogue message: the command as written on the reader's platform."""

    def __init__(self, style: CommandStyle) -> None:
        super().__init__({command.name: style.written(command.name) for command in TABLE})
        self.style = style

    def __missing__(self, name: str) -> str:
        return self.style.written(name)
