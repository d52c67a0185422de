"""The assistant chat: a request in plain Russian or English becomes filters and a search.

Each answer says what was understood (people, places, dates, albums, formats and the words left
to rank by), who understood it (Gemini or the offline parser, and why), and shows the photos;
"Open in Search" moves them to the Search tab, where the map and selection mode can use them.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import panel as pn
import param

from dashboard.components import PhotoGrid
from dashboard.icons import icon
from dashboard.views.common import Context, Tile, error_text, grid_items, grid_labels, literal, markdown_pane
from engine.assistant.parser import ParsedQuery
from engine.errors import PhotoIndexError
from engine.geo.names import city_name, country_name, resolve
from engine.i18n import N_, Translator, translator

log = logging.getLogger(__name__)

EXAMPLES = {"en": ("sunset on the beach", "photos from last summer", "кот на диване зимой"),
            "ru": ("закат на пляже", "фото прошлым летом", "кот на диване зимой")}
"""Requests to try, per interface language (Russian is understood whatever the interface speaks)."""


@dataclass(frozen=True)
class ChatTurn:
    """One question and its answer."""

    question: str
    understood: str = ""
    summary: str = ""
    notes: tuple[str, ...] = ()
    tiles: tuple[Tile, ...] = ()
    error: str | None = None


def describe_parsed(parsed: ParsedQuery, _: Translator = translator("en")) -> str:
    """What the assistant took from a request, as one line of Markdown."""
    bits = []
    if parsed.persons:
        bits.append(_("person {names}", names=", ".join(f"**{literal(p.name)}**" for p in parsed.persons)))
    if parsed.places:
        names = ", ".join(f"**{literal(place_name(p, _.language))}**" for p in parsed.places)
        bits.append(_("place {names}", names=names))
    if parsed.date_from or parsed.date_to:
        start = parsed.date_from.isoformat() if parsed.date_from else "…"
        end = parsed.date_to.isoformat() if parsed.date_to else "…"
        bits.append(_("taken **{start} – {end}**", start=start, end=end))
    if parsed.albums:
        bits.append(_("album {names}", names=", ".join(f"**{literal(a.name)}**" for a in parsed.albums)))
    if parsed.formats:
        bits.append(_("format {names}", names=", ".join(literal(f) for f in parsed.formats)))
    if parsed.cameras:
        bits.append(_("camera {names}", names=", ".join(literal(c) for c in parsed.cameras)))
    if parsed.query:
        bits.append(_("looking for “**{query}**”", query=literal(parsed.query)))
    understood = " · ".join(bits) or _("nothing to filter by")
    if parsed.source == "gemini":
        return _("Understood by Gemini: {what}", what=understood)
    return _("Understood by the offline parser: {what}", what=understood)


def place_name(name: str, language: str) -> str:
    """A place the request named (the stored English name), in the interface language."""
    codes = resolve(name).country_codes
    country = country_name(next(iter(codes)), language) if len(codes) == 1 else None  # type: ignore[arg-type]
    return country or city_name(name, language) or name  # type: ignore[arg-type]


class AssistantView(pn.viewable.Viewer):
    """The chat as params: `ask()` answers one question and appends it to `turns`."""

    question = param.String(default="", doc="What to look for, in plain words.")
    use_gemini = param.Boolean(default=True, doc=N_("Ask Gemini when GEMINI_API_KEY is set."))
    turns = param.List(default=[], item_type=ChatTurn)
    thinking = param.Boolean(default=False)

    def __init__(self, ctx: Context, search: Any = None, today: date | None = None, **params: Any) -> None:
        super().__init__(**params)
        self.ctx = ctx
        self.engine = ctx.engine
        self.search = search
        self.today = today
        self.opener = None  # set by the app: callable(ids, index)
        self.feed = pn.Column(sizing_mode="stretch_width", css_classes=["chat-feed"], stylesheets=[FEED_CSS],
                              scroll=True, auto_scroll_limit=100_000, scroll_button_threshold=200)
        self._shown = 0

    @property
    def gemini_status(self) -> str:
        assistant, _ = self.engine.assistant, self.ctx._
        if assistant.gemini_enabled:
            return _("Gemini ({model}) understands the requests; the offline parser steps in if it fails.",
                     model=self.engine.settings.gemini_model)
        return _("The offline parser understands the requests (set GEMINI_API_KEY to ask Gemini).")

    def _options(self) -> dict[str, Any]:
        top_k = getattr(self.search, "top_k", 20)
        threshold = getattr(self.search, "threshold", 0) or 0
        return {"top_k": top_k, "threshold": threshold / 100 if threshold > 0 else None}

    def answer(self, text: str) -> ChatTurn:
        """The assistant's answer to `text` (never raises: a failure is part of the answer)."""
        _ = self.ctx._
        try:
            gemini = self.use_gemini and self.engine.assistant.gemini_enabled  # the status line already says why not
            result = self.engine.assistant.run(text, today=self.today, use_gemini=gemini, **self._options())
        except Exception as exc:  # the chat answers whatever fails; an unexpected failure is logged
            if not isinstance(exc, PhotoIndexError):
                log.exception("the assistant failed on %r", text)
            return ChatTurn(question=text, error=error_text(exc, _))
        found = result.result
        tiles = tuple(Tile.of(h) for h in found.hits)
        if found.model == "filters":
            how = _("newest first")
        elif found.model == "rrf":
            how = _("ranked by {models}", models=" + ".join(found.models) + (" (RRF)" if len(found.models) > 1 else ""))
        else:
            how = _("ranked by {models}", models=found.model)
        summary = _.ngettext("{n} photo", "{n} photos", len(tiles)) + f" · {how}"
        return ChatTurn(question=text, understood=describe_parsed(result.parsed, _), summary=summary,
                        notes=tuple(_(n) for n in found.notes), tiles=tiles)

    def ask(self, text: str | None = None) -> ChatTurn | None:
        text = (text if text is not None else self.question).strip()
        if not text:
            return None
        turn = self.answer(text)
        self.param.update(turns=[*self.turns, turn], question="")
        return turn

    async def ask_async(self, text: str | None = None) -> None:
        """The browser's way: the question shows at once, the answer when the engine is done."""
        text = (text if text is not None else self.question).strip()
        if not text or self.thinking:
            return
        self.param.update(thinking=True, question="")
        try:
            turn = await asyncio.to_thread(self.answer, text)
        finally:
            self.thinking = False
        self.turns = [*self.turns, turn]

    def open_in_search(self, turn: ChatTurn) -> None:
        self.ctx.emit("show-results", (self.ctx._("for “{query}” (assistant)", query=turn.question), list(turn.tiles)))

    def clear(self) -> None:
        self.turns = []
        self.feed.clear()
        self._shown = 0

    # --- widgets ---------------------------------------------------------------------------
    def _bubble(self, turn: ChatTurn) -> pn.viewable.Viewable:
        question = markdown_pane(literal(turn.question), css_classes=["question"], stylesheets=[QUESTION_CSS])
        if turn.error:
            reply: list[Any] = [markdown_pane(f"⚠ {turn.error}")]
        else:
            notes = "".join(f"\n- {literal(n)}" for n in turn.notes)
            reply = [markdown_pane(f"{turn.understood}\n\n**{turn.summary}**{notes}", sizing_mode="stretch_width",
                                      css_classes=["understood"])]
            if turn.tiles:
                grid = PhotoGrid(items=grid_items(self.ctx, turn.tiles), cell_size=110, labels=grid_labels(self.ctx._))
                ids = [t.id for t in turn.tiles]
                grid.on_open(lambda pid: self.opener(ids, ids.index(pid)) if self.opener and pid in ids else None)
                to_search = pn.widgets.Button(label=self.ctx._("Open in Search"), icon=icon("arrow-right"), color="light")
                to_search.on_click(lambda e: self.open_in_search(turn))
                reply += [grid, to_search]
        answer = pn.Column(*reply, sizing_mode="stretch_width", css_classes=["answer"], stylesheets=[ANSWER_CSS])
        return pn.Column(question, answer, sizing_mode="stretch_width", css_classes=["turn"])

    def _sync_feed(self, *_: Any) -> None:
        if len(self.turns) < self._shown:
            self.feed.clear()
            self._shown = 0
        for turn in self.turns[self._shown:]:
            self.feed.append(self._bubble(turn))
        self._shown = len(self.turns)

    def __panel__(self) -> pn.viewable.Viewable:
        self._sync_feed()
        self.param.watch(self._sync_feed, "turns")

        def run(text: str | None = None) -> None:
            async def in_background() -> None:
                await self.ask_async(text)

            if pn.state.curdoc is not None:
                pn.state.execute(in_background)
            else:
                self.ask(text)

        _ = self.ctx._
        box = pn.widgets.TextInput(placeholder=_("e.g. “Anna at the sea last summer” or “закат в Париже”"),
                                   sizing_mode="stretch_width", css_classes=["ask"])
        box.param.watch(lambda e: run(e.new) if e.new.strip() else None, "value")
        self.param.watch(lambda e: box.param.update(value="") if e.new else None, "thinking")
        send = pn.widgets.Button(label=_("Ask"), icon=icon("send"), color="primary", width=90)
        send.on_click(lambda e: run(box.value_input or box.value))
        clear = pn.widgets.Button(label=_("Clear the chat"), icon=icon("x"), color="light", margin=(4, 3))
        clear.on_click(lambda e: self.clear())
        examples = pn.Row(markdown_pane(_("Try:"), margin=(8, 4, 0, 10)), styles={"flex-wrap": "wrap"})
        for text in EXAMPLES.get(self.ctx.language, EXAMPLES["en"]):
            chip = pn.widgets.Button(label=text, color="light", variant="outline", margin=(4, 3))
            chip.on_click(lambda e, t=text: run(t))
            examples.append(chip)
        gemini = pn.widgets.Checkbox.from_param(self.param.use_gemini, label=_("Ask Gemini"),
                                                visible=self.engine.assistant.gemini_enabled)
        thinking = markdown_pane("*{}*".format(_("Thinking…")), visible=self.param.thinking, margin=(0, 10))
        status = markdown_pane(self.gemini_status, styles={"color": "#6c757d", "font-size": "12px"}, margin=(0, 10))
        examples.append(clear)
        return pn.Column(status, self.feed, thinking, pn.Row(box, send, sizing_mode="stretch_width"),
                         pn.Row(examples, gemini, sizing_mode="stretch_width"), sizing_mode="stretch_width")


FEED_CSS = ":host {gap: 10px; max-height: calc(100vh - 290px);}"
"""The conversation scrolls inside itself, newest at the bottom, so the question box stays in view."""
QUESTION_CSS = """
:host {align-self: flex-end; max-width: 80%; background: #0d6efd; color: #fff; border-radius: 14px 14px 2px 14px;
       padding: 2px 12px; margin: 4px 10px !important;}
p {margin: 6px 0 !important;}
"""
ANSWER_CSS = """
:host {background: #f1f3f5; border-radius: 14px 14px 14px 2px; padding: 4px 8px; margin: 4px 10px !important;
       max-width: calc(100% - 20px);}
"""
