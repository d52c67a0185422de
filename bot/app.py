"""The Telegram bot (F20): a client of the REST API, built on python-telegram-bot.

- text: image-text search; a photo, or a picture sent as a file (how iPhone HEIC and camera RAW
  arrive): search by it; /person NAME, /album [NAME], /map [PLACE] or a location: those photos;
  /similar ID: photos like an indexed photo (ids are in every caption).
- Each hit is a thumbnail with its id and score and two buttons: "similar" (search by this photo)
  and "original" (the library's file itself, as a document, so Telegram does not recompress it; a
  file over Telegram's 50 MB upload limit comes as its full-size JPEG). The last of a page has
  "more" when another page follows.
- Flood control: python-telegram-bot's AIORateLimiter keeps under Telegram's rates and, when Telegram
  still answers 429 "retry after N", waits and sends again. Updates of different chats are handled
  at once (a slow search holds up no other chat), those of one chat in order. "typing…" / "sending photo…" show while it works.
- Only TELEGRAM_ALLOWED_USERS are answered, and only in private chats or in the chats listed in
  TELEGRAM_ALLOWED_CHATS: the library's photos and paths are never posted to a group by accident.
  A stranger gets one refusal line in a private chat and silence in a group.
- It speaks the user's Telegram language (Russian or English) unless INTERFACE_LANGUAGE sets one;
  the server's own sentences (its `notes`, error details) come as the server wrote them.
- Replies keep within Telegram's limits (4,096 characters a message, 1,024 a caption, 64 bytes of
  callback data); a sticker, voice message or any other kind of message gets one line saying what
  the bot understands.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import (BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup,
                      Update)
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import (AIORateLimiter, Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler,
                          ContextTypes, MessageHandler, filters)

from bot.api import Album, ApiError, Found, Page, PhotoApi
from bot.config import BotSettings
from bot.limits import MAX_CAPTION, MAX_DOWNLOAD, MAX_MESSAGE, MAX_UPLOAD, fit
from bot.searches import ALBUM, MORE, ORIGINAL, SIMILAR, Search, Searches, callback, parse_callback
from bot.updates import PerChatUpdateProcessor
from engine.i18n import N_, Translator, normalize, translator
from engine.media.formats import SUPPORTED_EXTENSIONS

log = logging.getLogger(__name__)

MAX_QUERY = 1000
"""The REST API's limit on a text query."""
MAX_NAME = 200
"""The REST API's limit on a person's or an album's name in a lookup."""
ACTION_EVERY_S = 4.5
"""Telegram shows a chat action for 5 seconds."""

HELP = N_("Send words to search (\"sunset at the sea\", \"закат на море\"), or a photo to find similar ones; "
          "a picture sent as a file (HEIC, RAW) works too.\n"
          "/person NAME - a person's photos\n"
          "/album NAME - an album's photos (/album alone lists them)\n"
          "/map PLACE - photos taken in a place; or send a location to see photos taken near it\n"
          "/similar ID - photos like photo ID (ids are in the captions)\n"
          "Under each photo: 🔁 similar photos, 📄 the original file; ▸ more shows the next ones.")
UNDERSTOOD = N_("I understand words and photos: describe what to find, or send a picture to find similar ones.")
COMMANDS = [("help", N_("What I can do")), ("person", N_("A person's photos")), ("album", N_("An album's photos")),
            ("map", N_("Photos taken in a place")), ("similar", N_("Photos like photo ID"))]


def build_application(settings: BotSettings) -> Application:
    if not settings.telegram_bot_token:
        raise SystemExit("TELEGRAM_BOT_TOKEN is not set")
    builder = (ApplicationBuilder().token(settings.telegram_bot_token)
               .rate_limiter(AIORateLimiter(max_retries=settings.bot_flood_retries))
               .concurrent_updates(PerChatUpdateProcessor(settings.bot_concurrent_updates))
               .media_write_timeout(120))
    if settings.telegram_base_url:
        base = settings.telegram_base_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    app = builder.post_init(_set_commands).build()
    api = PhotoApi(settings.photoindex_api_url, settings.api_token, settings.api_timeout_s)
    app.bot_data["api"] = api
    app.bot_data["settings"] = settings
    user = filters.User(user_id=settings.allowed_ids)
    chat = filters.ChatType.PRIVATE | filters.Chat(chat_id=settings.allowed_chat_ids)
    allowed = user & chat
    picture_file = filters.Document.IMAGE
    for extension in SUPPORTED_EXTENSIONS:
        picture_file |= filters.Document.FileExtension(extension.lstrip("."))
    app.add_handler(CommandHandler(["start", "help"], on_help, filters=allowed))
    app.add_handler(CommandHandler("person", on_person, filters=allowed))
    app.add_handler(CommandHandler("similar", on_similar, filters=allowed))
    app.add_handler(CommandHandler("album", on_album, filters=allowed))
    app.add_handler(CommandHandler("map", on_map, filters=allowed))
    app.add_handler(MessageHandler(allowed & (filters.PHOTO | picture_file), on_photo))
    app.add_handler(MessageHandler(allowed & filters.LOCATION, on_location))
    app.add_handler(MessageHandler(allowed & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(allowed, on_other))
    app.add_handler(MessageHandler(user & ~chat, on_group))
    app.add_handler(MessageHandler(~user & filters.ChatType.PRIVATE, on_stranger))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_error_handler(on_error)

    async def shutdown(_app: Application) -> None:
        await api.close()

    app.post_shutdown = shutdown
    return app


async def _set_commands(app: Application) -> None:
    """The command menu, in English and in Russian (Telegram picks by the user's language)."""
    try:
        for language in ("en", "ru"):
            _ = translator(language)
            await app.bot.set_my_commands([BotCommand(c, _(d)) for c, d in COMMANDS],
                                          language_code=None if language == "en" else language)
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", exc)


def _settings(context: ContextTypes.DEFAULT_TYPE) -> BotSettings:
    return context.application.bot_data["settings"]


def _api(context: ContextTypes.DEFAULT_TYPE) -> PhotoApi:
    return context.application.bot_data["api"]


def _tr(update: object, context: ContextTypes.DEFAULT_TYPE) -> Translator:
    """INTERFACE_LANGUAGE when it names a language, else the user's Telegram language (English for any
    language the product does not speak)."""
    user = update.effective_user if isinstance(update, Update) else None
    return translator(normalize(_settings(context).interface_language) or (user.language_code if user else None))


def _searches(context: ContextTypes.DEFAULT_TYPE) -> Searches:
    return context.chat_data.setdefault("searches", Searches())


def _permitted(update: Update, settings: BotSettings) -> bool:
    """What the message handlers' filters check, for button presses (which no filter sees)."""
    user, chat = update.effective_user, update.effective_chat
    return bool(user and chat and user.id in settings.allowed_ids
                and (chat.type == "private" or chat.id in settings.allowed_chat_ids))


@asynccontextmanager
async def acting(context: ContextTypes.DEFAULT_TYPE, chat_id: int, action: str) -> AsyncIterator[None]:
    """Show `action` ("typing…", "sending photo…") in the chat until the block ends."""
    async def show() -> bool:
        try:
            await context.bot.send_chat_action(chat_id, action)
            return True
        except TelegramError as exc:
            log.info("could not show %s: %s", action, exc)
            return False

    async def keep_showing() -> None:
        while True:
            await asyncio.sleep(ACTION_EVERY_S)
            if not await show():
                return

    await show()
    repeating = asyncio.create_task(keep_showing())
    try:
        yield
    finally:
        repeating.cancel()


def _caption(_: Translator, hit: Found) -> str:
    if hit.distance_km is not None:
        measure = _(" · {km} km away", km=f"{hit.distance_km:.1f}")
    elif hit.score is not None:
        measure = _(" · score {score}", score=f"{hit.score:.3f}")
    else:
        measure = ""
    return f"#{hit.id}{measure}\n{hit.path}"


def _buttons(_: Translator, hit: Found, more_token: str | None) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton("🔁 " + _("Similar"), callback_data=callback(SIMILAR, hit.id)),
             InlineKeyboardButton("📄 " + _("Original"), callback_data=callback(ORIGINAL, hit.id))]]
    if more_token:
        rows.append([InlineKeyboardButton(_("More") + " ▸", callback_data=callback(MORE, more_token))])
    return InlineKeyboardMarkup(rows)


async def _fetch(update: Update, context: ContextTypes.DEFAULT_TYPE, search: Search) -> tuple[Page, str]:
    """The page of `search` at its offset, and its title (an album's comes from the server)."""
    api, settings, k = _api(context), _settings(context), _settings(context).bot_top_k
    if search.kind == "text":
        page = await api.search_text(search.query, k, search.offset, search.first_id,
                                     multi_model=settings.bot_multi_model, translate=settings.bot_translate)
    elif search.kind == "image":
        data = bytes(await (await context.bot.get_file(search.file_id)).download_as_bytearray())
        page = await api.search_image(data, search.filename, search.mime, k, search.offset, search.first_id)
    elif search.kind == "similar":
        page = await api.similar(int(search.query), k, search.offset, search.first_id)
    elif search.kind == "person":
        page = await api.person_photos(int(search.query), k, search.offset)
    elif search.kind == "album":
        album, page = await api.album_photos(int(search.query), k, search.offset)
        return page, _album_title(_tr(update, context), album)
    elif search.kind == "near":
        lat, lon = (float(x) for x in search.query.split(","))
        page = await api.near(k, search.offset, point=(lat, lon), radius_km=settings.bot_near_km)
    else:
        page = await api.near(k, search.offset, place=search.query)
    return page, search.title


def _album_title(_: Translator, album: Album) -> str:
    return f"🗂 {album.name} · " + _.ngettext("{n} photo", "{n} photos", album.photo_count)


async def run_search(update: Update, context: ContextTypes.DEFAULT_TYPE, search: Search,
                     token: str | None = None) -> None:
    """Fetch the page of `search` and send it: each photo with its buttons, "more" under the last when
    another page follows. `token` is the remembered search a "more" button named."""
    _ = _tr(update, context)
    chat_id = update.effective_chat.id
    async with acting(context, chat_id, ChatAction.TYPING):
        page, title = await _fetch(update, context, search)
    notes = "".join(f"\nℹ️ {n}" for n in page.notes)
    if not page.items:
        text = _("{title}: nothing found.", title=title) if not search.offset else \
            _("{title}: no more photos.", title=title)
        await context.bot.send_message(chat_id, fit(text, MAX_MESSAGE - 300) + fit(notes, 300))
        return
    following = search.next(len(page.items), page.items[0].id)
    if page.more:
        if token is None:
            token = _searches(context).remember(following)
        else:
            _searches(context).update(token, following)
    if search.offset:
        title = f"{fit(title, 280)} · {search.offset + 1}–{search.offset + len(page.items)}"
    api = _api(context)
    async with acting(context, chat_id, ChatAction.UPLOAD_PHOTO):
        thumbnails = await asyncio.gather(*(api.thumbnail(hit.id) for hit in page.items))
        for i, (hit, thumbnail) in enumerate(zip(page.items, thumbnails)):
            caption = _caption(_, hit)
            if i == 0:
                caption = f"{fit(title, 300)}\n{caption}{notes}"  # the notes last: fit() cuts them, not the id
            last = i == len(page.items) - 1
            await context.bot.send_photo(chat_id, thumbnail, caption=fit(caption, MAX_CAPTION),
                                         reply_markup=_buttons(_, hit, token if last and page.more else None))


async def send_original(update: Update, context: ContextTypes.DEFAULT_TYPE, photo_id: int) -> None:
    """The library's file as a document (Telegram keeps a document's bytes as they are)."""
    _ = _tr(update, context)
    chat_id = update.effective_chat.id
    async with acting(context, chat_id, ChatAction.UPLOAD_DOCUMENT):
        original = await _api(context).original(photo_id, MAX_UPLOAD)
        caption = f"#{photo_id}"
        if original.full_size_jpeg:
            caption += "\n" + _("The original is {size} MB, over Telegram's limit of {limit} MB for a bot: "
                                "this is a full-size JPEG of it.", size=round(original.size / 2**20),
                                limit=MAX_UPLOAD // 2**20)
        await context.bot.send_document(chat_id, original.data, filename=original.filename, caption=caption)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(_tr(update, context)(HELP))


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(_tr(update, context)(UNDERSTOOD))


async def on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    log.info("not answering in chat %s (not in TELEGRAM_ALLOWED_CHATS)", chat.id if chat else None)
    text = (update.effective_message.text or "") if update.effective_message else ""
    if text.startswith("/") or f"@{context.bot.username}" in text:  # spoken to, not just overheard
        _ = _tr(update, context)
        await update.effective_message.reply_text(_("I answer in private chats only: write to me directly."))


async def on_stranger(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    log.info("refused user %s", user.id if user else None)
    if update.effective_message:
        _ = _tr(update, context)
        await update.effective_message.reply_text(_("Sorry, this is a private bot."))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = _tr(update, context)
    query = (update.effective_message.text or "").strip()
    if len(query) > MAX_QUERY:
        await update.effective_message.reply_text(
            _("That is too long to search by: {limit} characters at most.", limit=MAX_QUERY))
        return
    await run_search(update, context, Search("text", f"🔎 {query}", query))


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = _tr(update, context)
    message = update.effective_message
    if message.photo:
        picture, filename, mime = message.photo[-1], "photo.jpg", "image/jpeg"  # the largest size
    else:  # a picture sent as a file: HEIC, RAW, an uncompressed PNG
        picture = message.document
        filename, mime = picture.file_name or "picture", picture.mime_type or "application/octet-stream"
    if (picture.file_size or 0) > MAX_DOWNLOAD:
        await message.reply_text(_("That picture is too large for me to fetch ({limit} MB at most); send it as a photo.",
                                   limit=MAX_DOWNLOAD // 2**20))
        return
    await run_search(update, context, Search("image", "🖼 " + _("similar photos"), file_id=picture.file_id,
                                             filename=filename, mime=mime))


async def on_person(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = _tr(update, context)
    name = " ".join(context.args or []).strip()
    if not name:
        await update.effective_message.reply_text(_("Usage: /person NAME"))
        return
    person = await _api(context).find_person(name) if len(name) <= MAX_NAME else None
    if person is None:
        await update.effective_message.reply_text(_("No person called “{name}”.", name=fit(name, MAX_NAME)))
        return
    person_id, person_name = person
    await run_search(update, context, Search("person", f"👤 {person_name}", str(person_id)))


async def on_similar(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = _tr(update, context)
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("#").isdigit():
        await update.effective_message.reply_text(_("Usage: /similar ID (the number after # in a caption)"))
        return
    await run_search(update, context, _similar(_, int(args[0].lstrip("#"))))


def _similar(_: Translator, photo_id: int) -> Search:
    return Search("similar", "🔁 " + _("like #{id}", id=photo_id), str(photo_id))


async def on_album(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/album NAME: the album of that name (or the only one whose name holds it); else the albums to pick from."""
    _ = _tr(update, context)
    name = " ".join(context.args or []).strip()[:MAX_NAME]
    albums = await _api(context).albums(name or None)
    exact = [a for a in albums if a.name.casefold() == name.casefold()]
    if name and (exact or len(albums) == 1):
        await run_search(update, context, Search("album", "", str((exact or albums)[0].id)))
        return
    if not albums:
        text = _("No album called “{name}”.", name=name) if name else _("There are no albums yet.")
        await update.effective_message.reply_text(fit(text, MAX_MESSAGE))
        return
    buttons = [[InlineKeyboardButton(fit(f"{a.name} ({a.photo_count})", 60), callback_data=callback(ALBUM, a.id))]
               for a in albums[:20]]
    await update.effective_message.reply_text(_("Which album?"), reply_markup=InlineKeyboardMarkup(buttons))


async def on_map(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/map PLACE: photos taken there; /map alone asks for a location (a button on phones)."""
    _ = _tr(update, context)
    place = " ".join(context.args or []).strip()[:MAX_NAME]
    if place:
        await run_search(update, context, Search("place", f"📍 {place}", place))
        return
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("📍 " + _("Send my location"), request_location=True)]],
                                   one_time_keyboard=True, resize_keyboard=True)
    await update.effective_message.reply_text(
        _("Send a location (📎 → Location) to see the photos taken near it, or write a place after /map, "
          "e.g. /map Paris."), reply_markup=keyboard)


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = _tr(update, context)
    location = update.effective_message.location
    km = _settings(context).bot_near_km
    title = "📍 " + _("within {km} km of {lat}, {lon}", km=f"{km:g}", lat=f"{location.latitude:.4f}",
                      lon=f"{location.longitude:.4f}")
    await run_search(update, context, Search("near", title, f"{location.latitude:.6f},{location.longitude:.6f}"))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = _tr(update, context)
    press = update.callback_query
    if not _permitted(update, _settings(context)):
        await press.answer(_("Sorry, this is a private bot."))
        return
    parsed = parse_callback(press.data)
    if parsed is None:
        await press.answer()
        return
    verb, value = parsed
    if verb == MORE:
        search = _searches(context).get(value)
        if search is None:
            await press.answer(_("That search is too old to continue: send it again."), show_alert=True)
            return
        await press.answer()
        await _drop_more_button(press)
        await run_search(update, context, search, token=value)
        return
    await press.answer()
    if not value.isdigit():
        return
    if verb == SIMILAR:
        await run_search(update, context, _similar(_, int(value)))
    elif verb == ORIGINAL:
        await send_original(update, context, int(value))
    elif verb == ALBUM:
        await run_search(update, context, Search("album", "", value))


async def _drop_more_button(press) -> None:  # noqa: ANN001 - a telegram.CallbackQuery
    """A pressed "more" goes from its photo, so the same page is not asked for twice."""
    markup = press.message.reply_markup if press.message else None
    if markup and len(markup.inline_keyboard) > 1:
        try:
            await press.edit_message_reply_markup(InlineKeyboardMarkup(markup.inline_keyboard[:-1]))
        except TelegramError as exc:
            log.info("could not remove the more button: %s", exc)


def _error_text(_: Translator, error: BaseException | None) -> str:
    if not isinstance(error, ApiError):
        return _("Something went wrong; please try again.")
    if error.status is None:
        return _("The photo server is not reachable ({reason}).", reason=error.detail)
    return _("The photo server answered {status}: {detail}", status=error.status, detail=error.detail)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if not isinstance(error, ApiError):
        log.exception("bot handler failed", exc_info=error)
    if isinstance(update, Update) and update.effective_chat:
        try:
            await context.bot.send_message(update.effective_chat.id,
                                           fit("⚠️ " + _error_text(_tr(update, context), error), MAX_MESSAGE))
        except Exception:  # noqa: BLE001 - Telegram itself may be the problem
            log.warning("could not send the error message")
