"""Peak memory of reading one hostile or large file, each in a fresh subprocess (RSS from the kernel).

    .venv/bin/python bench/bench_input_memory.py

Each child imports the bot, parses a small export (the normal peak), then handles one file: through
`core.exports.parse_export` alone, and for the largest accepted export through the chat (`app.handle` on a
fresh SQLite database: parse, store, summary). Printed: ru_maxrss before and after, and the difference.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.zip_bombs import whatsapp_bomb, zeros_bomb  # noqa: E402

CHILD = r"""
import asyncio, sys
sys.path.insert(0, {root!r})

def peak_mb():  # VmHWM: this process's resident high-water mark (ru_maxrss would carry the parent's over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024

from zoneinfo import ZoneInfo
from core.exports import ExportError, parse_export
small = "13/07/2024, 15:05 - 陳小姐: 報價收到了\n" * 2000
parse_export(small.encode(), tz=ZoneInfo("Asia/Taipei"))
data = open({path!r}, "rb").read()
before = peak_mb()
outcome = "parsed"
if {chat!r}:
    from bot.bootstrap import build
    from core.settings import load_settings
    from tests.conversation import Chat, RecordingMessenger
    from core.db import make_engine, upgrade
    upgrade(make_engine("sqlite:///" + {path!r} + ".db"))
    app = build(load_settings("/nonexistent.toml", database_url="sqlite:///" + {path!r} + ".db",
                              default_timezone="Asia/Taipei", default_language="en"))
    messenger = RecordingMessenger("test"); app.attach(messenger)
    chat = Chat(app, "u1", "Amy Lin", "en")
    asyncio.run(chat.say("/start"))
    before = peak_mb()
    messenger.files["f"] = data
    import time
    started = time.perf_counter()
    outcome = asyncio.run(chat.file({name!r}, "f"))[0].text.splitlines()[0][:60]
    outcome += f" in {{time.perf_counter() - started:.1f}} s"
else:
    try:
        outcome = f"{{len(parse_export(data, tz=ZoneInfo('Asia/Taipei')).messages):,}} messages"
    except ExportError as error:
        outcome = "refused: " + error.code
after = peak_mb()
print(before, after, outcome)
"""


def whatsapp_text(messages: int) -> bytes:
    return "".join(f"13/07/2024, 15:{i % 60:02d} - {'陳小姐' if i % 2 else '王大明'}: 第 {i} 則,A100 一百件的報價收到了\n"
                   for i in range(messages)).encode()


def telegram_json(messages: int) -> bytes:
    raw = [{"id": i, "type": "message", "date": "2024-12-07T15:05:00", "from": "陳小姐" if i % 2 else "王大明",
            "text": f"第 {i} 則,A100 一百件的報價收到了"} for i in range(messages)]
    return json.dumps({"name": "陳小姐", "type": "personal_chat", "messages": raw}, ensure_ascii=False).encode()


def slack_zip(messages_per_day: int, days: int) -> bytes:
    import io
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.json", json.dumps([{"id": "U1", "name": "amy"}, {"id": "U2", "name": "wang"}]))
        for day in range(days):
            raw = [{"type": "message", "user": "U1" if i % 2 else "U2", "ts": f"{1700000000 + day * 86400 + i}.000100",
                    "text": f"第 {i} 則,A100 一百件的報價收到了 <@U1>", "team": "T1", "client_msg_id": f"{day}-{i}"}
                   for i in range(messages_per_day)]
            archive.writestr(f"general/2024-01-{day + 1:02d}.json", json.dumps(raw, ensure_ascii=False))
    return buffer.getvalue()


CASES = [
    ("2 MB zip of 2 GB zeros", zeros_bomb, False),
    ("5 MB zip of 200 MB WhatsApp lines", whatsapp_bomb, False),
    ("WhatsApp .txt of 700,000 lines", lambda: whatsapp_text(700_000), False),
    ("WhatsApp .txt, 200,000 messages", lambda: whatsapp_text(200_000), False),
    ("Telegram JSON, 200,000 messages", lambda: telegram_json(200_000), False),
    ("Telegram JSON of 360,000 messages (49 MB)", lambda: telegram_json(360_000), False),
    ("Slack zip, one day file of 330,000 messages", lambda: slack_zip(330_000, 1), False),
    ("Slack zip, 199,000 messages in 10 day files", lambda: slack_zip(19_900, 10), False),
    ("WhatsApp .txt, 200,000 messages, in the chat (SQLite)", lambda: whatsapp_text(200_000), True),
    ("2 GB-zero zip sent as customers.xlsx, in the chat (SQLite)", zeros_bomb, True),
]


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as folder:
        for label, make, chat in CASES:
            path = Path(folder) / "input.bin"
            data = make()
            path.write_bytes(data)
            del data
            name = "customers.xlsx" if "xlsx" in label else "WhatsApp Chat with 陳小姐.txt"
            code = CHILD.format(root=str(ROOT), path=str(path), chat=chat, name=name)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
            if out.returncode:
                print(f"{label}: FAILED\n{out.stderr[-2000:]}")
                continue
            before, after, outcome = out.stdout.strip().splitlines()[-1].split(" ", 2)
            print(f"{label:<58} {path.stat().st_size / 2**20:7.1f} MB file  peak RSS {before:>5} → {after:>5} MB "
                  f"(+{int(after) - int(before)} MB)  {outcome}")


if __name__ == "__main__":
    main()
