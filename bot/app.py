"""The Telegram bot (F20): a client of the REST API, built on python-telegram-bot.

- text: image-text search; a photo: search by it; /person NAME: that person's photos;
  /similar ID: photos like an indexed photo (ids are in every caption).
- Answers are a media group of thumbnails, each captioned with its id and score.
- Only TELEGRAM_ALLOWED_USERS are answered, and only in private chats or in the chats listed in
  TELEGRAM_ALLOWED_CHATS: the library's photos and paths are never posted to a group by accident.
  A stranger gets one refusal line in a private chat and silence in a group.
- Replies keep within Telegram's limits (4,096 characters a message, 1,024 a caption); a sticker,
  voice message or any other kind of message gets one line saying what the bot understands.
"""
from __future__ import annotations

import logging

from telegram import InputMediaPhoto, Update
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters

from bot.api import ApiError, Found, PhotoApi
from bot.config import BotSettings
from bot.limits import MAX_CAPTION, MAX_DOWNLOAD, MAX_MESSAGE, fit

log = logging.getLogger(__name__)

MAX_QUERY = 1000
"""The REST API's limit on a text query."""

HELP = ("Send words to search (\"sunset at the sea\", \"закат на море\"), or a photo to find similar ones.\n"
        "/person NAME - a person's photos\n/similar ID - photos like photo ID (ids are in the captions)")
UNDERSTOOD = "I understand words and photos: describe what to find, or send a picture to find similar ones."


def build_application(settings: BotSettings) -> Application:
    if not settings.telegram_bot_token:
        raise SystemExit("TELEGRAM_BOT_TOKEN is not set")
    builder = ApplicationBuilder().token(settings.telegram_bot_token)
    if settings.telegram_base_url:
        base = settings.telegram_base_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    app = builder.build()
    api = PhotoApi(settings.photoindex_api_url, settings.api_token, settings.api_timeout_s)
    app.bot_data["api"] = api
    app.bot_data["settings"] = settings
    user = filters.User(user_id=settings.allowed_ids)
    chat = filters.ChatType.PRIVATE | filters.Chat(chat_id=settings.allowed_chat_ids)
    allowed = user & chat
    app.add_handler(CommandHandler(["start", "help"], on_help, filters=allowed))
    app.add_handler(CommandHandler("person", on_person, filters=allowed))
    app.add_handler(CommandHandler("similar", on_similar, filters=allowed))
    app.add_handler(MessageHandler(allowed & (filters.PHOTO | filters.Document.IMAGE), on_photo))
    app.add_handler(MessageHandler(allowed & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(allowed, on_other))
    app.add_handler(MessageHandler(user & ~chat, on_group))
    app.add_handler(MessageHandler(~user & filters.ChatType.PRIVATE, on_stranger))
    app.add_error_handler(on_error)

    async def shutdown(_app: Application) -> None:
        await api.close()

    app.post_shutdown = shutdown
    return app


def _api(context: ContextTypes.DEFAULT_TYPE) -> PhotoApi:
    return context.application.bot_data["api"]


def _top_k(context: ContextTypes.DEFAULT_TYPE) -> int:
    return context.application.bot_data["settings"].bot_top_k


async def reply_photos(update: Update, context: ContextTypes.DEFAULT_TYPE, found: list[Found], title: str) -> None:
    message = update.effective_message
    if not found:
        await message.reply_text(fit(f"{title}: nothing found.", MAX_MESSAGE))
        return
    api = _api(context)
    media = []
    for i, hit in enumerate(found[:10]):
        caption = f"#{hit.id}" + (f" · score {hit.score:.3f}" if hit.score is not None else "") + f"\n{hit.path}"
        if i == 0:
            caption = f"{fit(title, 300)}\n{caption}"
        media.append(InputMediaPhoto(await api.thumbnail(hit.id), caption=fit(caption, MAX_CAPTION)))
    if len(media) == 1:
        await message.reply_photo(media[0].media, caption=media[0].caption)
    else:
        await message.reply_media_group(media)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(HELP)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(UNDERSTOOD)


async def on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    log.info("not answering in chat %s (not in TELEGRAM_ALLOWED_CHATS)", chat.id if chat else None)
    text = (update.effective_message.text or "") if update.effective_message else ""
    if text.startswith("/") or f"@{context.bot.username}" in text:  # spoken to, not just overheard
        await update.effective_message.reply_text("I answer in private chats only: write to me directly.")


async def on_stranger(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    log.info("refused user %s", user.id if user else None)
    if update.effective_message:
        await update.effective_message.reply_text("Sorry, this is a private bot.")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    settings: BotSettings = context.application.bot_data["settings"]
    query = (update.effective_message.text or "").strip()
    if len(query) > MAX_QUERY:
        await update.effective_message.reply_text(f"That is too long to search by: {MAX_QUERY} characters at most.")
        return
    found, _notes = await _api(context).search_text(query, _top_k(context), settings.bot_multi_model,
                                                    settings.bot_translate)
    await reply_photos(update, context, found, f"🔎 {query}")


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    photo = message.photo[-1] if message.photo else message.document  # the largest size, or a picture sent as a file
    if (photo.file_size or 0) > MAX_DOWNLOAD:
        await message.reply_text("That picture is too large for me to fetch (20 MB at most); send it as a photo.")
        return
    file = await context.bot.get_file(photo.file_id)
    data = bytes(await file.download_as_bytearray())
    await reply_photos(update, context, await _api(context).search_image(data, _top_k(context)), "🖼 similar photos")


async def on_person(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    name = " ".join(context.args or []).strip()
    if not name:
        await update.effective_message.reply_text("Usage: /person NAME")
        return
    person, found = await _api(context).person_photos(name, _top_k(context))
    if person is None:
        await update.effective_message.reply_text(fit(f"No person called {name!r}.", MAX_MESSAGE))
        return
    await reply_photos(update, context, found, f"👤 {person}")


async def on_similar(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    args = context.args or []
    if len(args) != 1 or not args[0].lstrip("#").isdigit():
        await update.effective_message.reply_text("Usage: /similar ID (the number after # in a caption)")
        return
    photo_id = int(args[0].lstrip("#"))
    await reply_photos(update, context, await _api(context).similar(photo_id, _top_k(context)), f"🔁 like #{photo_id}")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    text = str(error) if isinstance(error, ApiError) else "Something went wrong; please try again."
    if not isinstance(error, ApiError):
        log.exception("bot handler failed", exc_info=error)
    if isinstance(update, Update) and update.effective_message:
        try:
            await update.effective_message.reply_text(fit(f"⚠️ {text}", MAX_MESSAGE))
        except Exception:  # noqa: BLE001 - Telegram itself may be the problem
            log.warning("could not send the error message")
