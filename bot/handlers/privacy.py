"""Privacy requests in chat: `/export <customer or contact>` sends a zip of everything stored about them;
`/erase <customer or contact> [reason: …]` (owners and managers) asks for the reason when it is missing, shows
what would go, and erases after the confirm button. The rules are `core.usecases.privacy`'s.

Buttons (`pv:`): `pv:x:<k>:<id>` export, `pv:e:<k>:<id>` start an erasure, `pv:y:<k>:<id>` confirm it, `pv:n:0`
cancel; `<k>` is `c` (customer) or `p` (contact person). Each re-checks the member's team and rights; the
confirmation's reason waits in the chat's awaited answer (`privacy_erase_confirm`), so a pressed or forged
confirm button without it erases nothing."""

from __future__ import annotations

import re

from bot.context import Ctx
from bot.note_cards import distinct_labels
from bot.privacy_files import personal_zip
from bot.render import esc
from bot.router import button, command, state
from core.chat import Button, ButtonIn, CommandIn, Reply, TextIn
from core.services.errors import NotFound
from core.usecases import privacy
from core.usecases.privacy import CONTACT, CUSTOMER, EraseStatus, Subject

KINDS = {"c": CUSTOMER, "p": CONTACT}
LETTER = {CUSTOMER: "c", CONTACT: "p"}
# `大同五金 reason: 客戶要求`, `… 原因：…`, `… 理由:…`, `… because …`
REASON = re.compile(r"\s+(?:reason|原因|理由|because)\s*[:：]?\s*(?P<reason>.+)$", re.IGNORECASE | re.DOTALL)
CONFIRM_MINUTES = 10


def split_reason(args: str) -> tuple[str, str]:
    """(name, reason) from `/erase` arguments; the reason is '' when none is given."""
    found = REASON.search(" " + args.strip())
    if found is None:
        return args.strip(), ""
    return (" " + args.strip())[:found.start()].strip(), " ".join(found.group("reason").split())


def _cancel(ctx: Ctx) -> Button:
    return Button(ctx.t("privacy.btn_cancel"), "pv:n:0")


def _label(ctx: Ctx, found: Subject, plain: str) -> str:
    if found.kind == CONTACT:
        return ctx.t("privacy.person_label", name=found.name[:30], customer=found.customer.name[:20])
    return plain


def _which(ctx: Ctx, key: str, name: str, verb: str, candidates: tuple[Subject, ...]) -> list[Reply]:
    plain = distinct_labels([c.customer for c in candidates])
    rows = tuple((Button(_label(ctx, c, label), f"pv:{verb}:{LETTER[c.kind]}:{c.id}"),)
                 for c, label in zip(candidates, plain, strict=True))
    return [Reply(ctx.t(key, name=esc(name)), buttons=(*rows, (_cancel(ctx),)))]


def _named(ctx: Ctx, name: str, verb: str, which: str) -> Subject | list[Reply]:
    match = privacy.find_subject(ctx.uow, ctx.actor, name)
    if match.subject is not None:
        return match.subject
    if match.candidates:
        return _which(ctx, which, name, verb, match.candidates)
    return [Reply(ctx.t("privacy.unknown", name=esc(name)))]


# -- export --------------------------------------------------------------------------------------------------------


def _export(ctx: Ctx, kind: str, subject_id: int) -> list[Reply]:
    found = privacy.subject(ctx.uow, ctx.actor, kind, subject_id)
    if not privacy.may_export(ctx.uow, ctx.actor, found):
        return [Reply(ctx.t("privacy.export_not_allowed", customer=esc(found.customer.name)))]
    export = privacy.export_personal(ctx.uow, ctx.actor, ctx.now, kind, subject_id)
    rows = sum(len(r) for _, r in export.sheets)
    text = ctx.t("privacy.export_caption", name=esc(found.name), n=rows)
    if export.left_out:
        text += "\n" + ctx.t("privacy.export_left_out", n=export.left_out)
    return [Reply(text, file=personal_zip(export, ctx.t), private=True)]


@command("export")
def export_command(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    name = ctx.incoming.args.strip()
    if not name:
        return [Reply(ctx.t("privacy.usage_export"))]
    found = _named(ctx, name, "x", "privacy.which_export")
    if isinstance(found, list):
        return found
    return _export(ctx, found.kind, found.id)


# -- erasure -------------------------------------------------------------------------------------------------------


def _ask_reason(ctx: Ctx, found: Subject) -> list[Reply]:
    ctx.await_answer("privacy_erase_reason", {"k": found.kind, "id": found.id})
    return [Reply(ctx.t("privacy.ask_reason", name=esc(found.name)), buttons=((_cancel(ctx),),))]


def _confirm(ctx: Ctx, kind: str, subject_id: int, reason: str) -> list[Reply]:
    preview = privacy.erase_preview(ctx.uow, ctx.actor, kind, subject_id)
    found = preview.subject
    if found.erased:
        return [Reply(ctx.t("privacy.already"))]
    why = privacy.clean_reason(reason)
    ctx.await_answer("privacy_erase_confirm", {"k": kind, "id": subject_id, "reason": why},
                     minutes=CONFIRM_MINUTES)
    if kind == CONTACT:
        text = ctx.t("privacy.confirm_contact", name=esc(found.name), customer=esc(found.customer.name),
                     notes=preview.notes, reason=esc(why))
    else:
        text = ctx.t("privacy.confirm_customer", name=esc(found.name), contacts=preview.contacts,
                     notes=preview.notes, follow_ups=preview.follow_ups, deals=preview.deals, reason=esc(why))
    buttons = ((Button(ctx.t("privacy.btn_erase"), f"pv:y:{LETTER[kind]}:{subject_id}"), _cancel(ctx)),)
    return [Reply(text, buttons=buttons, edit=isinstance(ctx.incoming, ButtonIn))]


def _start_erase(ctx: Ctx, kind: str, subject_id: int, reason: str = "") -> list[Reply]:
    if not ctx.actor.sees_whole_team:
        return [Reply(ctx.t("privacy.erase_not_allowed"))]
    found = privacy.subject(ctx.uow, ctx.actor, kind, subject_id)
    if found.erased:
        return [Reply(ctx.t("privacy.already"))]
    if not reason.strip():
        return _ask_reason(ctx, found)
    return _confirm(ctx, kind, subject_id, reason)


def _erase(ctx: Ctx, kind: str, subject_id: int) -> list[Reply]:
    if not ctx.actor.sees_whole_team:
        return [Reply(ctx.t("privacy.erase_not_allowed"))]
    awaited = ctx.awaited("privacy_erase_confirm")
    payload = awaited.payload if awaited is not None else {}
    if payload.get("k") != kind or payload.get("id") != subject_id or not payload.get("reason"):
        try:
            found = privacy.subject(ctx.uow, ctx.actor, kind, subject_id)
        except NotFound:
            found = None
        if found is None or found.erased:
            text = ctx.t("privacy.already")
            return [Reply(text, edit=True, notice=text)]
        return [Reply(ctx.t("privacy.expired"), edit=True)]
    result = privacy.erase(ctx.uow, ctx.actor, ctx.now, kind, subject_id, str(payload["reason"]))
    ctx.stop_waiting()
    if result.status is EraseStatus.ALREADY:
        text = ctx.t("privacy.already")
        return [Reply(text, edit=True, notice=text)]
    counts = dict(result.counts)  # the answer names no erased word: its stored copy would outlive the checkpoint
    if kind == CONTACT:
        text = ctx.t("privacy.erased_contact", customer=esc(result.subject.customer.name),
                     notes=counts.get("interactions", 0), messages=counts.get("conversation", 0),
                     redacted=counts.get("redacted", 0))
    else:
        shell = privacy.subject(ctx.uow, ctx.actor, CUSTOMER, subject_id).name
        text = ctx.t("privacy.erased_customer", notes=counts.get("interactions", 0),
                     contacts=counts.get("contacts", 0), files=counts.get("files", 0),
                     redacted=counts.get("redacted", 0), shell=esc(shell))
    return [Reply(text, edit=True)]


@command("erase")
def erase_command(ctx: Ctx) -> list[Reply]:
    assert isinstance(ctx.incoming, CommandIn)
    if not ctx.actor.sees_whole_team:
        return [Reply(ctx.t("privacy.erase_not_allowed"))]
    name, reason = split_reason(ctx.incoming.args)
    if not name:
        return [Reply(ctx.t("privacy.usage_erase"))]
    found = _named(ctx, name, "e", "privacy.which_erase")
    if isinstance(found, list):
        if reason:  # the reason waits for the choice
            ctx.await_answer("privacy_erase_pick", {"reason": reason})
        return found
    return _start_erase(ctx, found.kind, found.id, reason)


@state("privacy_erase_reason")
def typed_reason(ctx: Ctx, payload: dict) -> list[Reply]:
    assert isinstance(ctx.incoming, TextIn)
    kind, subject_id = str(payload.get("k") or ""), int(payload.get("id") or 0)
    reason = " ".join(ctx.incoming.text.split())
    if kind not in LETTER or not reason:
        return [Reply(ctx.t("privacy.usage_erase"))]
    return _start_erase(ctx, kind, subject_id, reason)


@button("pv")
def privacy_button(ctx: Ctx, parts: list[str]) -> list[Reply]:
    verb = parts[0] if parts else ""
    if verb == "n":
        ctx.stop_waiting()
        return [Reply(ctx.t("privacy.cancelled"), edit=True)]
    if len(parts) != 3 or parts[1] not in KINDS or not (parts[2].isascii() and parts[2].isdigit()):
        return [Reply(ctx.t("core.stale_button"))]
    kind, subject_id = KINDS[parts[1]], int(parts[2])
    if verb == "x":
        return _export(ctx, kind, subject_id)
    if verb == "e":
        picked = ctx.awaited("privacy_erase_pick")
        reason = str(picked.payload.get("reason") or "") if picked is not None else ""
        return _start_erase(ctx, kind, subject_id, reason)
    if verb == "y":
        return _erase(ctx, kind, subject_id)
    return [Reply(ctx.t("core.stale_button"))]
