"""The Telegram bot service ("telegram-bot"): python-telegram-bot, with its BotLogger."""
