"""`python -m bot`: run the Telegram bot (long polling) against PHOTOINDEX_API_URL."""
from __future__ import annotations

import logging

from bot.app import build_application
from bot.config import BotSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = BotSettings()
    if not settings.allowed_ids:
        logging.warning("TELEGRAM_ALLOWED_USERS is empty: the bot will refuse everybody")
    build_application(settings).run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
