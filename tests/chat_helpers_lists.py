"""Sharing a file in a conversation test (tests/conversation.py): the recording messenger serves its bytes."""

from __future__ import annotations


async def share(chat, name: str, data: bytes) -> list:
    files = chat.app.messengers[chat.platform].files
    file_id = f"f{len(files)}"
    files[file_id] = data
    return await chat.file(name, file_id)
