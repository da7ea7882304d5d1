"""`/crm <word>` typed in a channel: short answers ephemeral there (chat.postEphemeral), long or private ones in
the member's DM with an ephemeral pointer; typed in the DM, plain messages (real slack-bolt, fake Web API)."""

from __future__ import annotations

from adapters.slack import SlackAdapter
from adapters.slack.blocks import plain
from bot.commands import CommandForms
from bot.i18n import t
from tests.fakes.slack_api import TEAM, dm, event, slash

SLACK = SlackAdapter.command_style
DM_LINK = f"https://slack.com/app_redirect?channel=DU1&team={TEAM}"


def pointer_body(language: str, user: str = "U1", channel: str = "C1") -> dict:
    link = DM_LINK.replace("DU1", f"D{user}")
    text = t(language, "slack.answer_in_dm", url=link.replace("&", "&amp;"))
    return {"channel": channel, "user": user, "text": plain(text),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text.replace(
                f'<a href="{link.replace("&", "&amp;")}">', f"<{link.replace('&', '&amp;')}|").replace("</a>", ">")}}]}


async def start_owner(fake, url) -> None:
    await event(url, dm("start"))
    await fake.wait_for("chat.postMessage")


def request(call) -> dict:
    return {key: value for key, value in call.body.items() if key != "token"}


async def test_a_short_answer_is_ephemeral_in_the_channel_where_it_was_typed(fake, running):
    _, url = running
    await start_owner(fake, url)
    assert (await slash(url, "digest 07:45", channel="C1"))[0] == 200
    [answer] = await fake.wait_for("chat.postEphemeral")
    text = t("en", "settings.digest_set", time="07:45")
    assert request(answer) == {"channel": "C1", "user": "U1", "text": plain(text),
                               "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": plain(text)}}]}
    await event(url, dm("help"))  # a sentinel
    await fake.wait_for("chat.postMessage", 2)
    assert len(fake.sent("chat.postMessage")) == 2  # the welcome and the sentinel's answer: nothing posted


async def test_a_long_answer_goes_to_the_dm_with_a_short_ephemeral_pointer(fake, running):
    _, url = running
    await start_owner(fake, url)
    await slash(url, "help", channel="C1")
    [pointer] = await fake.wait_for("chat.postEphemeral")
    [_, help_answer] = fake.sent("chat.postMessage")
    assert help_answer.body["channel"] == "DU1" and "\ntodo" in help_answer.body["text"]
    assert request(pointer) == pointer_body("en")
    assert help_answer.at <= pointer.at  # the answer is there before the pointer says so


async def test_a_card_with_buttons_goes_to_the_dm(fake, running):
    _, url = running
    await start_owner(fake, url)
    await slash(url, "log Visited Acme, Mr. Lee wants a quote, follow up Friday", channel="C0SALES")
    [pointer] = await fake.wait_for("chat.postEphemeral")
    card = fake.sent("chat.postMessage")[-1]
    assert card.body["channel"] == "DU1" and any(block["type"] == "actions" for block in card.body["blocks"])
    assert request(pointer) == pointer_body("en", channel="C0SALES")
    assert all(call.body.get("channel") != "C0SALES" for call in fake.sent("chat.postMessage"))


async def test_typed_in_the_dm_answers_are_plain_messages(fake, running):
    _, url = running
    await start_owner(fake, url)
    await slash(url, "digest 07:45", channel="DU1")
    answer = (await fake.wait_for("chat.postMessage", 2))[-1]
    assert answer.body["channel"] == "DU1" and plain(t("en", "settings.digest_set", time="07:45")) == answer.body["text"]
    await slash(url, "help", channel="DU1")
    await fake.wait_for("chat.postMessage", 3)
    assert fake.sent("chat.postEphemeral") == []


async def test_a_stranger_is_refused_ephemerally_in_their_slack_locale(fake, running):
    _, url = running
    fake.profiles["U9"] = {"tz": "Asia/Taipei", "locale": "zh-TW"}
    await slash(url, "todo", user="U9", channel="C1")
    [refusal] = await fake.wait_for("chat.postEphemeral")
    assert refusal.body["user"] == "U9" and refusal.body["channel"] == "C1"
    assert refusal.body["text"] == plain(t("zh-Hant", "core.not_member", cmd=CommandForms(SLACK)))


async def test_joining_with_crm_start_code_in_a_channel(fake, running):
    _, url = running
    await start_owner(fake, url)
    await event(url, dm("invite"))
    invite = (await fake.wait_for("chat.postMessage", 2))[-1].body
    code = invite["blocks"][0]["text"]["text"].split("`")[1]
    await slash(url, f"start {code}", user="U2", channel="C1")
    [pointer] = await fake.wait_for("chat.postEphemeral")
    welcome = fake.sent("chat.postMessage")[-1].body
    assert welcome["channel"] == "DU2" and "joined" in welcome["text"]
    assert request(pointer) == pointer_body("en", user="U2")


async def test_an_ephemeral_refused_in_a_channel_without_the_bot_is_answered_in_the_dm(fake, running):
    _, url = running
    await start_owner(fake, url)
    fake.fail("chat.postEphemeral", error="not_in_channel")
    await slash(url, "digest 07:45", channel="C0PRIVATE")
    answer = (await fake.wait_for("chat.postMessage", 2))[-1]
    assert answer.body["channel"] == "DU1" and answer.body["text"] == plain(t("en", "settings.digest_set",
                                                                               time="07:45"))
    assert [call.status for call in fake.sent("chat.postEphemeral")] == [200]  # refused (ok:false), no pointer
