"""The Telegram bot (F20): a client of the REST API, built on python-telegram-bot.

- text: image-text search; a photo: search by it; /person NAME: that person's photos;
  /similar ID: photos like an indexed photo (ids are in every caption).
- Answers are a media group of thumbnails, each captioned with its id and score.
- Only TELEGRAM_ALLOWED_USERS are answered; anybody else gets one refusal line.
"""
from __future__ import annotations

import logging

from telegram import InputMediaPhoto, Update
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters

from bot.api import ApiError, Found, PhotoApi
from bot.config import BotSettings

log = logging.getLogger(__name__)

HELP = ("Send words to search (\"sunset at the sea\", \"закат на море\"), or a photo to find similar ones.\n"
        "/person NAME - a person's photos\n/similar ID - photos like photo ID (ids are in the captions)")


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
    allowed = filters.User(user_id=settings.allowed_ids) if settings.allowed_ids else filters.User(user_id=[])
    app.add_handler(CommandHandler(["start", "help"], on_help, filters=allowed))
    app.add_handler(CommandHandler("person", on_person, filters=allowed))
    app.add_handler(CommandHandler("similar", on_similar, filters=allowed))
    app.add_handler(MessageHandler(allowed & filters.PHOTO, on_photo))
    app.add_handler(MessageHandler(allowed & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(~allowed, on_stranger))
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
        await message.reply_text(f"{title}: nothing found.")
        return
    api = _api(context)
    media = []
    for i, hit in enumerate(found[:10]):
        caption = f"#{hit.id}" + (f" · score {hit.score:.3f}" if hit.score is not None else "") + f"\n{hit.path}"
        if i == 0:
            caption = f"{title}\n{caption}"
        media.append(InputMediaPhoto(await api.thumbnail(hit.id), caption=caption[:1024]))
    if len(media) == 1:
        await message.reply_photo(media[0].media, caption=media[0].caption)
    else:
        await message.reply_media_group(media)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(HELP)


async def on_stranger(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    log.info("refused user %s", user.id if user else None)
    if update.effective_message:
        await update.effective_message.reply_text("Sorry, this is a private bot.")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    settings: BotSettings = context.application.bot_data["settings"]
    query = (update.effective_message.text or "").strip()
    found, _notes = await _api(context).search_text(query, _top_k(context), settings.bot_multi_model,
                                                    settings.bot_translate)
    await reply_photos(update, context, found, f"🔎 {query}")


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    photo = update.effective_message.photo[-1]  # the largest size
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
        await update.effective_message.reply_text(f"No person called {name!r}.")
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
            await update.effective_message.reply_text(f"⚠️ {text}")
        except Exception:  # noqa: BLE001 - Telegram itself may be the problem
            log.warning("could not send the error message")
