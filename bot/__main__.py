"""The Telegram bot (a client of the REST API) is built in a later issue."""
raise SystemExit("photoindex bot: not built yet; see the Telegram bot issue")
